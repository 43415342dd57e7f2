"""Classifier: load a model once, predict any drawing fast, in the model's own class order.

The class names come from the model file's metadata, never from the folders that exist now: add a
class folder after training and the labels stay right.

The network runs in LiteRT (shapecnn.runtime), from the export that every model file carries
(checked against Keras when the file was saved), so loading a model and predicting never import
TensorFlow: the page's server process stays free of it. A model file from before the export
existed (format 1) loads through Keras instead, as it always did.

Models trained from the shape base also say what kinds of drawing each class looks like: a
drawing like none of them is flagged `unsure` (shapecnn.novelty).
"""

from __future__ import annotations

import os
import threading

import numpy as np

from shapecnn import novelty
from shapecnn.errors import ModelFileError
from shapecnn.model import ModelFile, ModelMetadata, keras_model_from_archive, read_model_file
from shapecnn.preprocess import preprocess
from shapecnn.runtime import BASE_OUTPUTS, Runtime, softmax

__all__ = ["Classifier", "Prediction", "StarterClassifier"]


class Prediction(dict):
    """{class name: probability} in the model's class order, plus what the model concluded:

    `label` is the top class, `confidence` its probability, `unsure` whether the drawing looks
    like none of the classes (then `label` is only the closest), `similarity` how close it is to
    the nearest training drawings (None for models without features).
    """

    def __init__(
        self,
        probabilities: dict[str, float],
        unsure: bool = False,
        similarity: float | None = None,
    ):
        super().__init__(probabilities)
        self.label = max(self, key=self.__getitem__)
        self.confidence = self[self.label]
        self.unsure = bool(unsure)
        self.similarity = similarity

    def to_dict(self) -> dict:
        return {
            "label": self.label,
            "confidence": self.confidence,
            "unsure": self.unsure,
            "similarity": self.similarity,
            "probabilities": dict(self),
        }


class Classifier:
    """A trained model with its class names and preprocessing.

    >>> clf = Classifier.load("models/shapes.keras")
    >>> clf.predict("drawing.png")
    {'circle': 0.98, 'rectangle': 0.01, 'triangle': 0.01}
    >>> clf.predict("scribble.png").unsure
    True
    """

    def __init__(self, model_file: ModelFile):
        metadata = model_file.metadata
        self.metadata: ModelMetadata = metadata
        self.path = model_file.path
        self.classes: list[str] = list(metadata.class_names)
        self.preprocess_config = metadata.preprocess
        self._input_shape = tuple(metadata.input_shape)
        self._archive = model_file.archive
        self._keras = None
        self._keras_lock = threading.Lock()
        self._runtime: Runtime | None = None
        if model_file.flatbuffer is not None:
            self._runtime = model_file.runtime()
            if self._runtime.input_shape != self._input_shape:
                raise ModelFileError(
                    f"{self.path}: its network takes {self._runtime.input_shape} inputs but its "
                    f"preprocessing makes {self._input_shape}"
                )
            if self._runtime.n_classes != len(self.classes):
                raise ModelFileError(
                    f"{self.path}: its network has {self._runtime.n_classes} outputs but its "
                    f"metadata names {len(self.classes)} classes"
                )
        else:
            self._tensorflow_forward(np.ones((1, *self._input_shape), np.float32))
        width = self._runtime.output_sizes.get("kinds") if self._runtime is not None else None
        self._novelty = novelty.Detector.from_model(metadata, width) if width else None

    @classmethod
    def load(cls, path: str | os.PathLike) -> Classifier:
        """The classifier in a model file, without importing TensorFlow (see the module)."""
        return cls(read_model_file(path))

    @property
    def uses_runtime(self) -> bool:
        """Whether predictions run in LiteRT (False: an old file, run through Keras)."""
        return self._runtime is not None

    @property
    def can_be_unsure(self) -> bool:
        return self._novelty is not None

    @property
    def model(self):
        """The Keras model (imports TensorFlow on first use, from the same bytes)."""
        if self._keras is None:
            with self._keras_lock:
                if self._keras is None:
                    self._keras = keras_model_from_archive(self._archive, self.path)
        return self._keras

    def preprocess(self, image) -> np.ndarray:
        """What the model sees for this drawing (size x size x channels, white 1.0, ink 0.0)."""
        return preprocess(image, self.preprocess_config)

    @property
    def has_layers(self) -> bool:
        """Whether `run(..., layers=True)` gives the layer maps of the look inside (models saved
        before it was added have none)."""
        return self._runtime is not None and self._runtime.has_layers

    def run(self, batch: np.ndarray, *, layers: bool = False) -> dict[str, np.ndarray]:
        """The network's outputs for a batch of preprocessed inputs: probabilities (N x
        classes) and, where the model has them, embedding (N x D); with `layers`, the layer
        maps too where it has them (runtime.LAYER_OUTPUTS, N x H x W x channels)."""
        batch = np.asarray(batch, dtype=np.float32)
        if batch.ndim != 4 or batch.shape[1:] != self._input_shape:
            raise ValueError(f"inputs must be N x {self._input_shape}, got {batch.shape}")
        if self._runtime is not None:
            return self._runtime.run(batch, layers=layers)
        return {"probabilities": self._tensorflow_forward(batch)}

    def predict_preprocessed(self, batch: np.ndarray) -> np.ndarray:
        """Probabilities (N x classes) for a batch of preprocessed inputs."""
        return self.run(batch)["probabilities"]

    def predict(self, image) -> Prediction:
        """The Prediction for one drawing: {class: probability}, with label and unsure.

        Raises BlankDrawingError for an empty drawing, InvalidImageError for a non-image.
        """
        return self.predict_batch(self.preprocess(image)[None])[0]

    def predict_batch(self, batch: np.ndarray) -> list[Prediction]:
        """Predictions for a batch of preprocessed inputs."""
        outputs = self.run(batch)
        probabilities = outputs["probabilities"]
        verdicts = [(False, None)] * len(probabilities)
        if self._novelty is not None and "kinds" in outputs:
            verdicts = self._novelty.judge(outputs["kinds"], probabilities.argmax(1))
        return [
            Prediction(
                {name: float(p) for name, p in zip(self.classes, row, strict=True)},
                unsure=unsure,
                similarity=similarity,
            )
            for row, (unsure, similarity) in zip(probabilities, verdicts, strict=True)
        ]

    def _tensorflow_forward(self, batch: np.ndarray) -> np.ndarray:
        model = self.model
        from shapecnn._tensorflow import tf

        return np.asarray(model(tf.constant(batch), training=False))


class StarterClassifier(Classifier):
    """Predictions before any model was trained: the shape base's features of a dataset's
    training drawings, and each new drawing judged by its nearest ones.

    A fresh clone has no model file (trained models never go into git), but it has the shape
    base and the starter drawings: this answers from the first stroke, within a second of the
    page opening, while the real model trains in the background. Probabilities are a softmax
    over each class's closeness (mean cosine similarity to its K nearest drawings); "not sure"
    is the same test as trained models'.
    """

    # Closeness differences are small (cosines); this spreads them into probabilities.
    TEMPERATURE = 0.02

    def __init__(self, x: np.ndarray, y: np.ndarray, class_names: list[str], root=None):
        from shapecnn.base import BASE_EXPORT, kind_names

        if len(class_names) < 2:
            raise ModelFileError("a classifier needs at least 2 classes")
        try:
            flatbuffer = BASE_EXPORT.read_bytes()
        except OSError as error:
            raise ModelFileError(f"the shape base's export is missing ({error})") from None
        self._base_runtime = Runtime(flatbuffer, name=str(BASE_EXPORT), outputs=BASE_OUTPUTS)
        x = np.asarray(x, np.float32)
        y = np.asarray(y, np.int64)
        outputs = [self._base_runtime.run(x[s : s + 256]) for s in range(0, len(x), 256)]
        features = novelty.normalize(np.concatenate([o["embedding"] for o in outputs]))
        kinds = np.concatenate([o["kinds"] for o in outputs])
        self._examples = [features[y == c] for c in range(len(class_names))]
        self.metadata = ModelMetadata(
            class_names=list(class_names),
            input_shape=self._base_runtime.input_shape,
            architecture="base",
            recipe={"name": "starter (shape base, nearest drawings)"},
            data=str(root or ""),
            novelty=novelty.fit(kinds, y, len(class_names), kind_names()),
        )
        self.path = None
        self.classes = list(class_names)
        self.preprocess_config = self.metadata.preprocess
        self._input_shape = tuple(self.metadata.input_shape)
        self._runtime = None
        self._keras = None
        self._novelty = novelty.Detector.from_model(self.metadata, kinds.shape[1])

    @classmethod
    def from_dataset(cls, root) -> StarterClassifier:
        """From a dataset's training drawings (decoded and preprocessed once)."""
        from shapecnn import dataset
        from shapecnn.errors import DatasetError

        classes = dataset.list_classes(root)
        samples = dataset.load_samples(root, "train", classes)
        if len(set(samples.y.tolist())) < 2:
            raise DatasetError(f"{root} needs drawings of at least 2 classes to predict")
        return cls(samples.x, samples.y, classes, root)

    @property
    def uses_runtime(self) -> bool:
        return True

    @property
    def model(self):
        raise ModelFileError("the starter predictions have no Keras model: train one first")

    @property
    def has_layers(self) -> bool:
        return False  # the shape base's own export has no layer maps

    def run(self, batch: np.ndarray, *, layers: bool = False) -> dict[str, np.ndarray]:
        batch = np.asarray(batch, dtype=np.float32)
        if batch.ndim != 4 or batch.shape[1:] != self._input_shape:
            raise ValueError(f"inputs must be N x {self._input_shape}, got {batch.shape}")
        outputs = self._base_runtime.run(batch)
        features = novelty.normalize(outputs["embedding"])
        closeness = np.stack(
            [novelty.closeness(features, examples) for examples in self._examples], axis=1
        )
        return {**outputs, "probabilities": softmax(closeness / self.TEMPERATURE)}
