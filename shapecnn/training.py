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
from shapecnn.augment import build_augmentation
from shapecnn.config import RECIPES, PreprocessConfig, Recipe
from shapecnn.dataset import Samples
from shapecnn.errors import DatasetError, ShapeCNNError
from shapecnn.evaluation import Evaluation, evaluate_predictions
from shapecnn.model import ARCHITECTURES, build_model, save_model
from shapecnn.preprocess import DEFAULT_CONFIG

# on_epoch_end(epoch, logs): epoch counts from 1; logs has loss, accuracy and, when there is test
# data, test_loss and test_accuracy.
EpochCallback = Callable[[int, dict], None]
# Drawings scored per call when evaluating: bounds the memory for activations.
EVAL_BATCH = 256


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
    if recipe.architecture not in ARCHITECTURES:
        raise ShapeCNNError(
            f"architecture must be one of {', '.join(ARCHITECTURES)}; got {recipe.architecture!r}"
        )
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


class _Fitter:
    """A lean training loop over in-memory arrays.

    Keras' fit() builds tf.data iterators and runs its callback machinery for every epoch, which
    on a few hundred 24x24 drawings costs more than the arithmetic. Here one traced function does
    augmentation, forward, backward and update for a batch, traced once, and the test split is
    scored in a few large slices per epoch.
    """

    def __init__(self, model, recipe: Recipe, n_classes: int):
        self.model = model
        self.recipe = recipe
        self.n_classes = n_classes
        self.optimizer = keras.optimizers.Adam(learning_rate=recipe.learning_rate)
        self.loss = keras.losses.CategoricalCrossentropy()
        augmentation = build_augmentation(recipe.seed) if recipe.augment else None
        # A free batch dimension: one trace serves full batches and the last, smaller one.
        signature = [
            tf.TensorSpec([None, *model.input_shape[1:]], tf.float32),
            tf.TensorSpec([None, n_classes], tf.float32),
        ]

        @tf.function(input_signature=signature)
        def train_step(x, y):
            if augmentation is not None:
                x = augmentation(x, training=True)
            with tf.GradientTape() as tape:
                probabilities = model(x, training=True)
                loss = self.loss(y, probabilities)
            gradients = tape.gradient(loss, model.trainable_variables)
            self.optimizer.apply_gradients(zip(gradients, model.trainable_variables, strict=True))
            correct = tf.reduce_sum(
                tf.cast(tf.argmax(probabilities, 1) == tf.argmax(y, 1), tf.float32)
            )
            return loss, correct

        @tf.function(input_signature=signature)
        def test_step(x, y):
            # Sums, so that batches of the test split add up.
            probabilities = model(x, training=False)
            losses = keras.losses.categorical_crossentropy(y, probabilities)
            correct = tf.cast(tf.argmax(probabilities, 1) == tf.argmax(y, 1), tf.float32)
            return tf.reduce_sum(losses), tf.reduce_sum(correct)

        self.train_step, self.test_step = train_step, test_step

    def score(self, x: np.ndarray, y: np.ndarray) -> dict[str, float]:
        """Mean loss and accuracy on a split, in slices: one pass over thousands of drawings
        would hold every layer's activations for all of them at once."""
        total_loss = total_correct = 0.0
        for start in range(0, len(x), EVAL_BATCH):
            loss, correct = self.test_step(
                tf.constant(x[start : start + EVAL_BATCH]),
                tf.constant(y[start : start + EVAL_BATCH]),
            )
            total_loss += float(loss)
            total_correct += float(correct)
        return {"test_loss": total_loss / len(x), "test_accuracy": total_correct / len(x)}

    def batches(self, n: int):
        """Index batches for one epoch: a shuffled pass, or steps_per_epoch batches drawn from
        an endless sequence of shuffled passes (the tutorial's generator)."""
        rng = self._rng
        size = self.recipe.batch_size
        if self.recipe.steps_per_epoch is None:
            order = rng.permutation(n)
            return [order[i : i + size] for i in range(0, n, size)]
        needed = self.recipe.steps_per_epoch * size
        while len(self._stream) < needed:
            self._stream = np.concatenate([self._stream, rng.permutation(n)])
        taken, self._stream = self._stream[:needed], self._stream[needed:]
        return [taken[i : i + size] for i in range(0, needed, size)]

    def fit(self, train: Samples, test: Samples, on_epoch_end, should_stop) -> tuple[dict, bool]:
        self._rng = np.random.default_rng(self.recipe.seed)
        self._stream = np.zeros(0, dtype=np.int64)
        x, y = train.x, np.eye(self.n_classes, dtype=np.float32)[train.y]
        test_y = np.eye(self.n_classes, dtype=np.float32)[test.y]
        history: dict[str, list[float]] = {}
        best, waited, steps = np.inf, 0, 0
        patience = self.recipe.early_stopping_patience
        for epoch in range(1, self.recipe.epochs + 1):
            total_loss = total_correct = seen = 0.0
            batches = self.batches(len(x))
            for index in batches:
                if should_stop is not None and should_stop():
                    return history, True
                loss, correct = self.train_step(tf.constant(x[index]), tf.constant(y[index]))
                total_loss += float(loss) * len(index)
                total_correct += float(correct)
                seen += len(index)
            logs = {"loss": total_loss / seen, "accuracy": total_correct / seen}
            if len(test):
                logs.update(self.score(test.x, test_y))
            for key, value in logs.items():
                history.setdefault(key, []).append(value)
            if on_epoch_end is not None:
                on_epoch_end(epoch, dict(logs))
            # Early stopping watches the training loss: the test split is for reporting only.
            steps += len(batches)
            if logs["loss"] < best - 1e-3:
                best, waited = logs["loss"], 0
            else:
                waited += 1
                if patience is not None and waited >= patience and steps >= self.recipe.min_steps:
                    break
        return history, False


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
    architecture: str | None = None,
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
        architecture=architecture,
    )
    if data is None:
        data = load_training_data(root, config)

    keras.utils.set_random_seed(recipe.seed)
    tf.config.experimental.enable_op_determinism()
    n_classes = len(data.class_names)
    input_shape = (config.size, config.size, config.channels)
    model = build_model(n_classes, input_shape, recipe.learning_rate, recipe.architecture)
    has_test = len(data.test) > 0
    started = time.perf_counter()
    history, cancelled = _Fitter(model, recipe, n_classes).fit(
        data.train, data.test, on_epoch_end, should_stop
    )
    seconds = time.perf_counter() - started

    notes = [] if has_test else ["there is no test data: accuracy on unseen drawings is unknown"]
    probabilities = evaluation = None
    if has_test:
        probabilities = np.concatenate(
            [
                model(data.test.x[start : start + EVAL_BATCH], training=False).numpy()
                for start in range(0, len(data.test), EVAL_BATCH)
            ]
        )
        evaluation = evaluate_predictions(data.test.y, probabilities, data.class_names)
    metadata = {
        "format": 1,
        "class_names": data.class_names,
        "input_shape": [config.size, config.size, config.channels],
        "architecture": recipe.architecture,
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
