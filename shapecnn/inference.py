"""Classifier: load a model once, predict any drawing fast, in the model's own class order.

The class names come from the model file's metadata, never from the folders that exist now: add a
class folder after training and the labels stay right.

One drawing is about 9 million multiply-adds, a fraction of a millisecond of arithmetic. Calling
TensorFlow costs more than that: `model.predict` builds a dataset pipeline per call (about 60 ms),
and even a traced `tf.function` hands the work to TensorFlow's thread pools (1 to 3 ms here, more
when other programs share the cores). So a few drawings at a time run through the same network in
numpy (shapecnn.numpy_net), on one thread, from the model's own weights (about 0.5 ms); larger
batches, and any layer the numpy version does not know, go through the traced TensorFlow function.
The numpy version is checked against TensorFlow when the model loads and is only used when they
agree.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

import numpy as np

from shapecnn import numpy_net
from shapecnn._tensorflow import tf
from shapecnn.config import PreprocessConfig
from shapecnn.model import load_model
from shapecnn.numpy_net import AGREEMENT_TOLERANCE, NumpyNetwork
from shapecnn.preprocess import preprocess

__all__ = ["AGREEMENT_TOLERANCE", "NUMPY_MAX_BATCH", "Classifier", "numpy_forward"]

# Batches up to this size run in numpy; larger ones in TensorFlow, whose multi-threaded
# convolutions win once there is enough arithmetic to share: here they break even at about 8
# drawings on a quiet machine and at 2 to 4 on a busy one (benchmarks/RESULTS.md, prediction).
NUMPY_MAX_BATCH = 4


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


def _checked_numpy_forward(model, input_shape: tuple[int, int, int]) -> NumpyNetwork | None:
    """The model as a numpy network, if every layer is supported and it agrees with Keras."""
    network = numpy_net.network_from_model(model)
    if network is None or not numpy_net.agrees_with_keras(network, model, input_shape):
        return None
    return network


# The in-memory builder under its old name (benchmarks/bench_prediction.py uses it).
numpy_forward = numpy_net.network_from_model
