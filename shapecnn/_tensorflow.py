"""TensorFlow and Keras, imported once with their native start-up chatter hidden (_quiet)."""

import os

from shapecnn._quiet import native_output_silenced

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

with native_output_silenced():
    import keras
    import tensorflow as tf

    tf.zeros(1)  # the first operation initialises the devices (and logs about CUDA)

__all__ = ["keras", "native_output_silenced", "tf"]
