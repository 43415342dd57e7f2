"""Native libraries' start-up chatter, hidden.

TensorFlow's and LiteRT's C++ sides print lines such as "oneDNN custom operations are on" or
"Created TensorFlow Lite XNNPACK delegate for CPU" straight to file descriptor 2, and ignore
TF_CPP_MIN_LOG_LEVEL for them. On a CPU-only tool they are noise that buries our own one-line
error messages, so descriptor 2 points at /dev/null for that moment only. Python exceptions are
unaffected: the descriptor is restored before they propagate.
"""

import contextlib
import os
import sys


@contextlib.contextmanager
def native_output_silenced():
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "wb") as devnull:
            os.dup2(devnull.fileno(), 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
