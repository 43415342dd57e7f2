import sys

from shapecnn.cli import main

# Guarded: a training process started with spawn imports the parent's main module again.
if __name__ == "__main__":
    sys.exit(main())
