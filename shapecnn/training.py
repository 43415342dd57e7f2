"""Training: dataset folders in, a model file with its metadata out.

The drawings are decoded and preprocessed once and kept in memory as one array; augmentation runs
on the fly inside the input pipeline (Keras preprocessing layers), never by writing files.
Progress goes out through plain callables, so the page and the CLI can show it without this
package knowing about either.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from shapecnn import dataset
from shapecnn._tensorflow import keras, tf
from shapecnn.config import RECIPES, PreprocessConfig, Recipe
from shapecnn.dataset import Samples
from shapecnn.errors import DatasetError, ShapeCNNError
from shapecnn.evaluation import Evaluation, evaluate_predictions
from shapecnn.model import build_model, save_model
from shapecnn.preprocess import DEFAULT_CONFIG

# on_epoch_end(epoch, logs): epoch counts from 1; logs has loss, accuracy and, when there is test
# data, test_loss and test_accuracy.
EpochCallback = Callable[[int, dict], None]


@dataclass
class TrainingData:
    """Both splits of a dataset, preprocessed, with the class order fixed."""

    class_names: list[str]
    train: Samples
    test: Samples
    counts: dict[str, dict[str, int]]

    @property
    def skipped(self) -> list[tuple[Path, str]]:
        return self.train.skipped + self.test.skipped


@dataclass
class TrainResult:
    model: object
    metadata: dict
    history: dict[str, list[float]]
    data: TrainingData
    # Probabilities for every test drawing (N x classes); None when there is no test data.
    test_probabilities: np.ndarray | None
    evaluation: Evaluation | None
    seconds: float
    cancelled: bool = False
    model_path: Path | None = None
    notes: list[str] = field(default_factory=list)


def resolve_recipe(recipe: str | Recipe = "default", **overrides) -> Recipe:
    """A recipe by name (or as given) with any non-None overrides applied and checked."""
    if isinstance(recipe, str):
        if recipe not in RECIPES:
            raise ShapeCNNError(f"recipe must be one of {', '.join(RECIPES)}; got {recipe!r}")
        recipe = RECIPES[recipe]
    recipe = recipe.with_overrides(**overrides)
    for name in ("epochs", "batch_size"):
        value = getattr(recipe, name)
        if not isinstance(value, int) or not 1 <= value <= 10_000:
            raise ShapeCNNError(f"{name} must be a whole number from 1 to 10000; got {value!r}")
    if not 0 < recipe.learning_rate <= 1:
        raise ShapeCNNError(
            f"learning_rate must be above 0 and at most 1; got {recipe.learning_rate}"
        )
    return recipe


def load_training_data(
    root: str | os.PathLike, config: PreprocessConfig = DEFAULT_CONFIG
) -> TrainingData:
    """Load and check both splits: at least two classes, each with training drawings."""
    root = dataset.require_dataset(root)
    class_names = dataset.list_classes(root)
    if len(class_names) < 2:
        found = f"only {class_names[0]!r}" if class_names else "none"
        raise DatasetError(
            f"a classifier needs at least 2 classes; {root} has {found}. "
            f"Add drawings of another class (python -m shapecnn add --label NAME ...)"
        )
    train = dataset.load_samples(root, "train", class_names, config)
    test = dataset.load_samples(root, "test", class_names, config)
    counts_train = np.bincount(train.y, minlength=len(class_names))
    counts_test = np.bincount(test.y, minlength=len(class_names))
    empty = [name for name, n in zip(class_names, counts_train, strict=True) if n == 0]
    if empty:
        raise DatasetError(
            f"every class needs training drawings; none in {root}/train for: "
            + ", ".join(repr(name) for name in empty)
        )
    counts = {
        name: {"train": int(a), "test": int(b)}
        for name, a, b in zip(class_names, counts_train, counts_test, strict=True)
    }
    return TrainingData(class_names, train, test, counts)


def build_augmentation(seed: int):
    """Random rotations, shifts, zooms and shears of the drawings, filled with white paper.

    Small enough that a triangle stays a triangle; the network learns that place, size and slant
    of a shape do not matter.
    """
    fill = {"fill_mode": "constant", "fill_value": 1.0}
    return keras.Sequential(
        [
            keras.layers.RandomRotation(0.06, seed=seed, **fill),
            keras.layers.RandomTranslation(0.1, 0.1, seed=seed + 1, **fill),
            keras.layers.RandomZoom((-0.15, 0.15), seed=seed + 2, **fill),
        ],
        name="augmentation",
    )


def make_dataset(samples: Samples, n_classes: int, recipe: Recipe, *, training: bool):
    """A tf.data pipeline over in-memory arrays: shuffled, batched and augmented for training."""
    y = tf.one_hot(samples.y, n_classes)
    data = tf.data.Dataset.from_tensor_slices((samples.x, y))
    if training:
        data = data.shuffle(len(samples), seed=recipe.seed, reshuffle_each_iteration=True)
        if recipe.steps_per_epoch is not None:
            data = data.repeat()
    data = data.batch(recipe.batch_size)
    if training and recipe.augment:
        augmentation = build_augmentation(recipe.seed)
        data = data.map(lambda x, y: (augmentation(x, training=True), y))
        # tf.data would rewrite this map into a parallel one whose op this TensorFlow build
        # logs a C++ error about on every run; the batches are tiny, parallelism buys nothing.
        options = tf.data.Options()
        options.experimental_optimization.map_parallelization = False
        data = data.with_options(options)
    return data.prefetch(tf.data.AUTOTUNE)


def train(
    root: str | os.PathLike,
    recipe: str | Recipe = "default",
    *,
    model_path: str | os.PathLike | None = None,
    epochs: int | None = None,
    batch_size: int | None = None,
    learning_rate: float | None = None,
    augment: bool | None = None,
    seed: int | None = None,
    config: PreprocessConfig = DEFAULT_CONFIG,
    data: TrainingData | None = None,
    on_epoch_end: EpochCallback | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> TrainResult:
    """Train the tutorial CNN on a dataset and, unless cancelled, save it to `model_path`.

    `should_stop` is polled after every batch; when it returns True training stops and nothing is
    saved (the previous model stays). Results are reproducible for a given seed.
    """
    recipe = resolve_recipe(
        recipe,
        epochs=epochs,
        batch_size=batch_size,
        learning_rate=learning_rate,
        augment=augment,
        seed=seed,
    )
    if data is None:
        data = load_training_data(root, config)

    keras.utils.set_random_seed(recipe.seed)
    tf.config.experimental.enable_op_determinism()
    n_classes = len(data.class_names)
    model = build_model(
        n_classes, (config.size, config.size, config.channels), recipe.learning_rate
    )
    has_test = len(data.test) > 0
    callbacks = [_ProgressCallback(on_epoch_end, should_stop)]
    if recipe.early_stopping_patience is not None:
        callbacks.append(
            keras.callbacks.EarlyStopping(
                monitor="loss", patience=recipe.early_stopping_patience, min_delta=1e-3
            )
        )
    started = time.perf_counter()
    history = model.fit(
        make_dataset(data.train, n_classes, recipe, training=True),
        epochs=recipe.epochs,
        steps_per_epoch=recipe.steps_per_epoch,
        validation_data=(
            make_dataset(data.test, n_classes, recipe, training=False) if has_test else None
        ),
        callbacks=callbacks,
        shuffle=False,  # the pipeline shuffles
        verbose=0,
    )
    seconds = time.perf_counter() - started
    cancelled = callbacks[0].cancelled
    history = {_rename(key): [float(v) for v in values] for key, values in history.history.items()}

    notes = [] if has_test else ["there is no test data: accuracy on unseen drawings is unknown"]
    probabilities = evaluation = None
    if has_test:
        probabilities = model(data.test.x, training=False).numpy()
        evaluation = evaluate_predictions(data.test.y, probabilities, data.class_names)
    metadata = {
        "format": 1,
        "class_names": data.class_names,
        "input_shape": [config.size, config.size, config.channels],
        "architecture": "tutorial",
        "preprocess": config.to_dict(),
        "recipe": recipe.to_dict(),
        "counts": data.counts,
        "epochs_run": len(history.get("loss", [])),
        "train_seconds": round(seconds, 2),
        "test_metrics": (
            {
                "accuracy": evaluation.accuracy,
                "loss": history["test_loss"][-1] if history.get("test_loss") else None,
                "count": evaluation.count,
                "per_class": evaluation.per_class,
            }
            if evaluation
            else None
        ),
        "data": str(Path(root).resolve()),
        "trained_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "versions": {"tensorflow": tf.__version__, "keras": keras.__version__},
    }
    saved_to = None
    if model_path is not None and not cancelled:
        saved_to = save_model(model, model_path, metadata)
    return TrainResult(
        model=model,
        metadata=metadata,
        history=history,
        data=data,
        test_probabilities=probabilities,
        evaluation=evaluation,
        seconds=seconds,
        cancelled=cancelled,
        model_path=saved_to,
        notes=notes,
    )


def _rename(key: str) -> str:
    # Keras calls the test split "validation"; we only ever validate on the test split.
    return key.replace("val_", "test_")


class _ProgressCallback(keras.callbacks.Callback):
    """Reports each epoch to a plain callable and stops training when asked to."""

    def __init__(self, on_epoch_end: EpochCallback | None, should_stop: Callable[[], bool] | None):
        super().__init__()
        self._on_epoch_end = on_epoch_end
        self._should_stop = should_stop
        self.cancelled = False

    def on_train_batch_end(self, batch, logs=None):
        if self._should_stop is not None and self._should_stop():
            self.cancelled = True
            self.model.stop_training = True

    def on_epoch_end(self, epoch, logs=None):
        if self._on_epoch_end is not None:
            logs = {_rename(key): float(value) for key, value in (logs or {}).items()}
            self._on_epoch_end(epoch + 1, logs)
