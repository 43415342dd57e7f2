"""Classifier: load a model once, predict any drawing fast, in the model's own class order.

The class names come from the model file's metadata, never from the folders that exist now: add a
class folder after training and the labels stay right.

One drawing is about 9 million multiply-adds, a fraction of a millisecond of arithmetic. Calling
TensorFlow costs more than that: `model.predict` builds a dataset pipeline per call (about 60 ms),
and even a traced `tf.function` hands the work to TensorFlow's thread pools (1 to 3 ms here, more
when other programs share the cores). So a few drawings at a time run through the same network in
numpy, on one thread, from the model's own weights (about 0.5 ms); larger batches, and any layer
the numpy version does not know, go through the traced TensorFlow function. The numpy version is
checked against TensorFlow when the model loads and is only used when they agree.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import re
import threading
from collections.abc import Callable
from pathlib import Path

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from shapecnn._tensorflow import keras, tf
from shapecnn.config import PreprocessConfig
from shapecnn.model import load_model
from shapecnn.preprocess import preprocess

# Batches up to this size run in numpy; larger ones in TensorFlow, whose multi-threaded
# convolutions win once there is enough arithmetic to share: here they break even at about 8
# drawings on a quiet machine and at 2 to 4 on a busy one (benchmarks/RESULTS.md, prediction).
NUMPY_MAX_BATCH = 4
# The numpy network is used only if its probabilities agree with TensorFlow's this closely.
AGREEMENT_TOLERANCE = 1e-5


class Classifier:
    """A trained model with its class names and preprocessing.

    >>> clf = Classifier.load("models/shapes.keras")
    >>> clf.predict("drawing.png")
    {'circle': 0.98, 'rectangle': 0.01, 'triangle': 0.01}
    """

    def __init__(self, model, metadata: dict, path: str | os.PathLike | None = None):
        self.model = model
        self.metadata = metadata
        self.path = Path(path) if path is not None else None
        self.classes: list[str] = list(metadata["class_names"])
        self.preprocess_config = PreprocessConfig.from_dict(metadata.get("preprocess", {}))
        size, channels = self.preprocess_config.size, self.preprocess_config.channels
        self._input_shape = (size, size, channels)
        self._traced = None
        self._trace_lock = threading.Lock()
        self._numpy_forward = _checked_numpy_forward(model, self._input_shape)
        if self._numpy_forward is None:
            # Trace now, so the first drawing does not pay for it.
            self._tensorflow_forward(np.ones((1, *self._input_shape), np.float32))

    @classmethod
    def load(cls, path: str | os.PathLike) -> Classifier:
        model, metadata = load_model(path)
        return cls(model, metadata, path)

    @property
    def uses_numpy(self) -> bool:
        """Whether small batches run in numpy (False: every prediction calls TensorFlow)."""
        return self._numpy_forward is not None

    def preprocess(self, image) -> np.ndarray:
        """What the model sees for this drawing (size x size x channels, white 1.0, ink 0.0)."""
        return preprocess(image, self.preprocess_config)

    def predict_preprocessed(self, batch: np.ndarray) -> np.ndarray:
        """Probabilities (N x classes) for a batch of preprocessed inputs."""
        batch = np.asarray(batch, dtype=np.float32)
        if (
            self._numpy_forward is not None
            and batch.ndim == 4
            and 1 <= len(batch) <= NUMPY_MAX_BATCH
            and batch.shape[1:] == self._input_shape
        ):
            return self._numpy_forward(batch)
        return self._tensorflow_forward(batch)

    def predict(self, image) -> dict[str, float]:
        """{class name: probability} for one drawing, in the model's class order.

        Raises BlankDrawingError for an empty drawing, InvalidImageError for a non-image.
        """
        probabilities = self.predict_preprocessed(self.preprocess(image)[None])[0]
        return {name: float(p) for name, p in zip(self.classes, probabilities, strict=True)}

    def _tensorflow_forward(self, batch: np.ndarray) -> np.ndarray:
        if self._traced is None:
            with self._trace_lock:
                if self._traced is None:
                    model = self.model
                    self._traced = tf.function(
                        lambda x: model(x, training=False),
                        input_signature=[tf.TensorSpec([None, *self._input_shape], tf.float32)],
                    )
        return self._traced(batch).numpy()


# --- the network in numpy -----------------------------------------------------------------------

Layer = Callable[[np.ndarray], np.ndarray]


def _checked_numpy_forward(model, input_shape: tuple[int, int, int]) -> Layer | None:
    """The model as a numpy function, if every layer is supported and it agrees with TensorFlow."""
    forward = numpy_forward(model)
    if forward is None:
        return None
    probe = np.random.default_rng(0).random((3, *input_shape), dtype=np.float32)
    probe[1] = 1.0  # blank paper
    probe[2, ::4] = 0.0  # lines of ink
    try:
        agree = np.allclose(
            forward(probe),
            np.asarray(model(probe, training=False)),
            rtol=0.0,
            atol=AGREEMENT_TOLERANCE,
        )
    except (ValueError, TypeError, FloatingPointError):
        return None
    return forward if agree else None


def numpy_forward(model) -> Layer | None:
    """A numpy function computing `model(x, training=False)`, or None for an unsupported model.

    Supports Sequential models of Conv2D (stride 1, valid or same padding), max and average
    pooling, Flatten, Dense, BatchNormalization, Rescaling, Activation and the layers that do
    nothing at inference (Dropout, noise).
    """
    if not isinstance(model, keras.Sequential):
        return None
    steps = []
    for layer in model.layers:
        step = _numpy_layer(layer)
        if step is None:
            return None
        steps.append(step)

    def forward(batch: np.ndarray) -> np.ndarray:
        x = np.asarray(batch, dtype=np.float32)
        with _single_threaded_blas():
            for step in steps:
                x = step(x)
        return x

    return forward


_IDENTITY_AT_INFERENCE = {
    "Dropout",
    "SpatialDropout1D",
    "SpatialDropout2D",
    "GaussianNoise",
    "GaussianDropout",
    "AlphaDropout",
    "InputLayer",
}


def _numpy_layer(layer) -> Layer | None:
    kind = type(layer).__name__
    config = layer.get_config()
    if config.get("dtype") not in (None, "float32") and not _is_float32_policy(config["dtype"]):
        return None
    if config.get("data_format", "channels_last") != "channels_last":
        return None
    weights = [np.asarray(w, dtype=np.float32) for w in layer.get_weights()]
    if kind in _IDENTITY_AT_INFERENCE:
        return lambda x: x
    if kind == "Conv2D":
        return _conv2d(config, weights)
    if kind in ("MaxPooling2D", "AveragePooling2D"):
        return _pool2d(config, np.max if kind == "MaxPooling2D" else np.mean)
    if kind == "Flatten":
        return lambda x: x.reshape(len(x), -1)
    if kind == "Dense":
        activation = _activation(config.get("activation"))
        kernel, bias = weights if config.get("use_bias", True) else (weights[0], 0.0)
        if activation is None:
            return None
        return lambda x: activation(x @ kernel + bias)
    if kind == "Activation":
        return _activation(config.get("activation"))
    if kind == "BatchNormalization":
        return _batch_norm(config, weights)
    if kind == "Rescaling":
        scale, offset = config.get("scale"), config.get("offset")
        if not all(isinstance(v, (int, float)) for v in (scale, offset)):
            return None
        return lambda x: x * np.float32(scale) + np.float32(offset)
    if kind in ("GlobalAveragePooling2D", "GlobalMaxPooling2D") and not config.get("keepdims"):
        reduce = np.mean if kind == "GlobalAveragePooling2D" else np.max
        return lambda x: reduce(x, axis=(1, 2))
    return None


def _is_float32_policy(dtype) -> bool:
    # Keras 3 writes a layer's dtype policy as {"class_name": "DTypePolicy", "config": {...}}.
    if isinstance(dtype, dict):
        return dtype.get("config", {}).get("name") == "float32"
    return False


def _relu(x: np.ndarray) -> np.ndarray:
    return np.maximum(x, 0.0, out=x)


def _softmax(x: np.ndarray) -> np.ndarray:
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


_ACTIVATIONS: dict[str, Layer] = {
    "linear": lambda x: x,
    "relu": _relu,
    "softmax": _softmax,
    "sigmoid": _sigmoid,
    "tanh": np.tanh,
}


def _activation(name) -> Layer | None:
    return _ACTIVATIONS.get(name) if isinstance(name, str) else None


def _conv2d(config: dict, weights: list[np.ndarray]) -> Layer | None:
    activation = _activation(config.get("activation"))
    plain = (
        tuple(config.get("strides", (1, 1))) == (1, 1)
        and tuple(config.get("dilation_rate", (1, 1))) == (1, 1)
        and config.get("groups", 1) == 1
        and config.get("padding") in ("valid", "same")
    )
    if activation is None or not plain:
        return None
    kernel = weights[0]
    bias = weights[1] if config.get("use_bias", True) else np.float32(0.0)
    kh, kw, channels, filters = kernel.shape
    matrix = kernel.reshape(kh * kw * channels, filters)
    # TensorFlow's "same" padding with stride 1: the extra row or column goes at the end.
    pad = ((0, 0), ((kh - 1) // 2, kh // 2), ((kw - 1) // 2, kw // 2), (0, 0))

    def conv(x: np.ndarray) -> np.ndarray:
        if config["padding"] == "same":
            x = np.pad(x, pad)
        n, height, width, _ = x.shape
        rows, cols = height - kh + 1, width - kw + 1
        # im2col: every kh x kw x channels patch becomes one row; one matrix product does the rest.
        patches = sliding_window_view(x, (kh, kw), axis=(1, 2)).transpose(0, 1, 2, 4, 5, 3)
        y = patches.reshape(n * rows * cols, kh * kw * channels) @ matrix
        y += bias
        return activation(y.reshape(n, rows, cols, filters))

    return conv


def _pool2d(config: dict, reduce) -> Layer | None:
    ph, pw = config.get("pool_size", (2, 2))
    strides = config.get("strides") or (ph, pw)
    if tuple(strides) != (ph, pw) or config.get("padding", "valid") != "valid":
        return None

    def pool(x: np.ndarray) -> np.ndarray:
        n, height, width, channels = x.shape
        rows, cols = height // ph, width // pw
        blocks = x[:, : rows * ph, : cols * pw].reshape(n, rows, ph, cols, pw, channels)
        return reduce(blocks, axis=(2, 4))

    return pool


def _batch_norm(config: dict, weights: list[np.ndarray]) -> Layer | None:
    axis = config.get("axis", -1)
    if axis not in (-1, [-1], 3, [3]):
        return None
    weights = list(weights)
    gamma = weights.pop(0) if config.get("scale", True) else np.float32(1.0)
    beta = weights.pop(0) if config.get("center", True) else np.float32(0.0)
    mean, variance = weights
    scale = gamma / np.sqrt(variance + np.float32(config.get("epsilon", 1e-3)))
    shift = beta - mean * scale
    return lambda x: x * scale + shift


# --- one BLAS thread ----------------------------------------------------------------------------

# numpy's OpenBLAS splits a matrix product over every core. For one drawing's small products the
# threads cost more than they save, and on a shared machine a product waits until all of them get
# a core: median 0.2 ms, but one call in ten 8 ms here. One thread: 0.4 ms, every time.
_blas_lock = threading.Lock()
_blas_users = 0
_blas_saved: int | None = None
_blas_functions: tuple | None = None


def _openblas_thread_functions() -> tuple:
    """(get, set) for the number of OpenBLAS threads numpy uses, or (None, None) if unknown."""
    try:
        with open("/proc/self/maps", encoding="utf-8") as maps:
            paths = {
                match.group(1)
                for match in re.finditer(r"(/\S*openblas\S*\.so[.\d]*)\s*$", maps.read(), re.M)
            }
    except OSError:
        return None, None
    for path in sorted(paths):
        try:
            library = ctypes.CDLL(path)
        except OSError:
            continue
        for prefix in ("scipy_", ""):
            for suffix in ("64_", ""):
                get = getattr(library, f"{prefix}openblas_get_num_threads{suffix}", None)
                set_ = getattr(library, f"{prefix}openblas_set_num_threads{suffix}", None)
                if get is not None and set_ is not None:
                    get.restype, get.argtypes = ctypes.c_int, []
                    set_.restype, set_.argtypes = None, [ctypes.c_int]
                    return get, set_
    return None, None


@contextlib.contextmanager
def _single_threaded_blas():
    """numpy's OpenBLAS on one thread inside the block (shared safely between threads)."""
    global _blas_users, _blas_saved, _blas_functions
    with _blas_lock:
        if _blas_functions is None:
            _blas_functions = _openblas_thread_functions()
        get, set_ = _blas_functions
        if get is not None and _blas_users == 0:
            _blas_saved = get()
            if _blas_saved != 1:
                set_(1)
        _blas_users += 1
    try:
        yield
    finally:
        with _blas_lock:
            _blas_users -= 1
            if get is not None and _blas_users == 0 and _blas_saved not in (None, 1):
                set_(_blas_saved)
