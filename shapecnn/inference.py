"""Classifier: load a model once, predict any drawing fast, in the model's own class order.

The class names come from the model file's metadata, never from the folders that exist now: add a
class folder after training and the labels stay right.

One drawing is about 9 million multiply-adds, a fraction of a millisecond of arithmetic. Calling
TensorFlow costs more than that: `model.predict` builds a dataset pipeline per call (about 60 ms),
and even a traced `tf.function` hands the work to TensorFlow's thread pools (1 to 3 ms here, more
when other programs share the cores). So a few drawings at a time run through the same network in
numpy (shapecnn.numpy_net), on one thread, from the model's own weights (about 0.5 ms); larger
batches, and any layer the numpy version does not know, go through a traced TensorFlow function.
The numpy version is only used where it agrees with Keras.

Loading must not wait for TensorFlow either: importing it takes about 4.5 s, and on the page it
would hold up the canvas. A model saved by shapecnn records that the numpy network read from that
very file agreed with Keras (model.save_model checks it while TensorFlow is loaded anyway), so
`Classifier.load` builds the network from the file with numpy and h5py alone and imports
TensorFlow only when something needs Keras: a batch larger than NUMPY_MAX_BATCH, or `.model`.
Files without that record (older ones), or with layers numpy does not support, load as before:
Keras first, then the numpy network is checked against it on the spot.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

import numpy as np

from shapecnn import numpy_net
from shapecnn.config import PreprocessConfig
from shapecnn.model import keras_model_from_archive, read_model_file
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

    def __init__(
        self,
        model,
        metadata: dict,
        path: str | os.PathLike | None = None,
        *,
        network: NumpyNetwork | None = None,
        archive: bytes | None = None,
    ):
        """From a Keras `model`: the numpy network is checked against it now, and TensorFlow
        traced at once if numpy cannot be used. Or, with `model=None`, from a `network` already
        known to agree with the model in `archive` (a model file's bytes): Keras is loaded from
        `archive` only on first use of `.model`. Classifier.load picks the right one."""
        self.metadata = metadata
        self.path = Path(path) if path is not None else None
        self.classes: list[str] = list(metadata["class_names"])
        self.preprocess_config = PreprocessConfig.from_dict(metadata.get("preprocess", {}))
        self._input_shape = _input_shape_of(self.preprocess_config)
        self._traced = None
        self._trace_lock = threading.Lock()
        self._model_lock = threading.Lock()
        self._model = model
        self._archive = archive
        if model is None:
            if network is None or archive is None:
                raise ValueError("a Classifier without a model needs a network and an archive")
            if network.input_shape != self._input_shape:
                raise ValueError(
                    f"network input must be {self._input_shape}, got {network.input_shape}"
                )
            self._numpy_forward: NumpyNetwork | None = network
            return
        self._numpy_forward = _checked_numpy_forward(model, self._input_shape)
        if self._numpy_forward is None:
            # Trace now, so the first drawing does not pay for it.
            self._tensorflow_forward(np.ones((1, *self._input_shape), np.float32))

    @classmethod
    def load(cls, path: str | os.PathLike) -> Classifier:
        """The classifier in a model file; without importing TensorFlow when the file records
        that its numpy network agreed with Keras (see the module's docstring)."""
        archive, metadata = read_model_file(path)
        network = numpy_net.checked_network(archive, metadata.get(numpy_net.METADATA_KEY))
        config = PreprocessConfig.from_dict(metadata.get("preprocess", {}))
        if network is not None and network.input_shape == _input_shape_of(config):
            return cls(None, metadata, path, network=network, archive=archive)
        return cls(keras_model_from_archive(archive, path), metadata, path)

    @property
    def model(self):
        """The Keras model. A classifier loaded without TensorFlow loads it (and TensorFlow) on
        first use, from the same bytes its numpy network came from; once, whichever thread asks.
        """
        if self._model is None:
            with self._model_lock:
                if self._model is None:
                    model = keras_model_from_archive(self._archive, self.path or "the model")
                    # The record said the two agreed when saved; if this Keras computes
                    # otherwise (a different version), small and large batches must still
                    # give the same answers: TensorFlow answers all of them from now on.
                    network = self._numpy_forward
                    if network is not None and not numpy_net.agrees_with_keras(
                        network, model, self._input_shape
                    ):
                        self._numpy_forward = None
                    self._model = model
        return self._model

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
        forward = self._numpy_forward
        if (
            forward is not None
            and batch.ndim == 4
            and 1 <= len(batch) <= NUMPY_MAX_BATCH
            and batch.shape[1:] == self._input_shape
        ):
            return forward(batch)
        return self._tensorflow_forward(batch)

    def predict(self, image) -> dict[str, float]:
        """{class name: probability} for one drawing, in the model's class order.

        Raises BlankDrawingError for an empty drawing, InvalidImageError for a non-image.
        """
        probabilities = self.predict_preprocessed(self.preprocess(image)[None])[0]
        return {name: float(p) for name, p in zip(self.classes, probabilities, strict=True)}

    def _tensorflow_forward(self, batch: np.ndarray) -> np.ndarray:
        if self._traced is None:
            model = self.model  # may load Keras, under its own lock
            with self._trace_lock:
                if self._traced is None:
                    from shapecnn._tensorflow import tf  # loaded with the model already

                    self._traced = tf.function(
                        lambda x: model(x, training=False),
                        input_signature=[tf.TensorSpec([None, *self._input_shape], tf.float32)],
                    )
        return self._traced(batch).numpy()


def _input_shape_of(config: PreprocessConfig) -> tuple[int, int, int]:
    return (config.size, config.size, config.channels)


def _checked_numpy_forward(model, input_shape: tuple[int, int, int]) -> NumpyNetwork | None:
    """The model as a numpy network, if every layer is supported and it agrees with Keras."""
    network = numpy_net.network_from_model(model)
    if network is None or not numpy_net.agrees_with_keras(network, model, input_shape):
        return None
    return network


# The in-memory builder under its old name (benchmarks/bench_prediction.py uses it).
numpy_forward = numpy_net.network_from_model
