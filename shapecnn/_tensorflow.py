"""TensorFlow and Keras, imported once with their native start-up chatter hidden.

TensorFlow's C++ side prints lines such as "oneDNN custom operations are on" and "failed call to
cuInit" straight to file descriptor 2 while importing and on the first operation, and ignores
TF_CPP_MIN_LOG_LEVEL for them. On a CPU-only tool they are noise that buries our own one-line
error messages, so descriptor 2 points at /dev/null for that moment only (and while the
LiteRT converter runs, which logs the same way). Python exceptions are
unaffected: the descriptor is restored before they propagate.
"""

import contextlib
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


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


with native_output_silenced():
    import keras
    import tensorflow as tf

    tf.zeros(1)  # the first operation initialises the devices (and logs about CUDA)

__all__ = ["keras", "native_output_silenced", "tf"]
