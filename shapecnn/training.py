"""Training: dataset folders in, a model file with its metadata and checked export out.

`train(data, recipe, ...)`: the drawings are decoded and preprocessed once and kept in memory.

- The default recipe starts from the shape base (shapecnn.base): each drawing's features, and
  those of a few mildly augmented copies of it, are computed once and cached by file version
  (path, modification time, size), so a retrain after one more saved drawing computes one
  drawing's features. A new head is then fitted on them with Keras' fit() and class-balanced
  weights, so 15 drawings of a new class next to 75 of the others are neither drowned nor
  over-fitted. Augmentation runs here, in numpy-drawn parameters and Keras'
  `keras.ops.image.affine_transform`, before the features are computed.
- The `tutorial` and `scratch` recipes train the tutorial CNN from scratch with Keras' fit()
  (_fit_from_scratch; it replaced a hand-made loop that was no faster, benchmarks/RESULTS.md).
  `scratch` augments on the fly: the augmentation layers (shapecnn.augment) sit in front of the
  network in the model that fit() trains, so they run in fit()'s traced step, on each batch.

This module imports TensorFlow: it runs in the training process (shapecnn.jobs starts it), never
in the page's. Progress goes out through plain callables, so the page and the CLI can show it
without this package knowing about either.
"""

from __future__ import annotations

import os
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from shapecnn import base as shape_base
from shapecnn import dataset, novelty
from shapecnn._tensorflow import keras, tf
from shapecnn.augment import build_augmentation
from shapecnn.config import PreprocessConfig, Recipe, resolve_recipe
from shapecnn.dataset import Samples
from shapecnn.errors import DatasetError
from shapecnn.evaluation import Evaluation, evaluate_predictions, misclassified
from shapecnn.layers import base_judgement
from shapecnn.model import ModelMetadata, build_model, save_model
from shapecnn.preprocess import DEFAULT_CONFIG
from shapecnn.variation import random_affine

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
    root: Path | None = None
    config: PreprocessConfig = DEFAULT_CONFIG

    @property
    def skipped(self) -> list[tuple[Path, str]]:
        return self.train.skipped + self.test.skipped


@dataclass
class TrainResult:
    model: object
    metadata: ModelMetadata
    history: dict[str, list[float]]
    data: TrainingData
    # Probabilities for every test drawing (N x classes); None when there is no test data.
    test_probabilities: np.ndarray | None
    evaluation: Evaluation | None
    seconds: float
    cancelled: bool = False
    model_path: Path | None = None
    notes: list[str] = field(default_factory=list)


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
    if len(_SAMPLE_CACHE) > MAX_CACHED_FEATURES:
        _SAMPLE_CACHE.clear()
    train = dataset.load_samples(root, "train", class_names, config, cache=_SAMPLE_CACHE)
    test = dataset.load_samples(root, "test", class_names, config, cache=_SAMPLE_CACHE)
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
    return TrainingData(class_names, train, test, counts, root, config)


# Steps run per call into TensorFlow: as many as an epoch has, up to this, so that a cancel is
# seen within a few dozen steps however many drawings there are.
MAX_STEPS_PER_EXECUTION = 64


def _steps_per_execution(steps: int, endless: bool) -> int:
    """Steps per traced call. An endless stream (steps_per_epoch) must be cut into equal calls,
    or the last call of an epoch would run past the epoch's end; one pass may end short."""
    if not endless:
        return min(steps, MAX_STEPS_PER_EXECUTION)
    return max(d for d in range(1, min(steps, MAX_STEPS_PER_EXECUTION) + 1) if steps % d == 0)


class _EpochReport(keras.callbacks.Callback):
    """Polls the cancel flag after every traced call; after each epoch scores the test split
    (in EVAL_BATCH slices, one traced function: cheaper per epoch than fit()'s validation_data)
    and reports the epoch in our keys."""

    def __init__(self, network, on_epoch_end, should_stop, test: Samples, n_classes: int):
        super().__init__()
        self.report, self.should_stop = on_epoch_end, should_stop
        self.cancelled = False
        self.history: dict[str, list[float]] = {}
        self.test = [
            (
                tf.constant(test.x[s : s + EVAL_BATCH]),
                tf.one_hot(test.y[s : s + EVAL_BATCH], n_classes),
            )
            for s in range(0, len(test), EVAL_BATCH)
        ]
        self.count = len(test)

        @tf.function(reduce_retracing=True)
        def score(x, y):  # sums, so that slices add up
            probabilities = network(x, training=False)
            losses = keras.losses.categorical_crossentropy(y, probabilities)
            correct = tf.cast(tf.argmax(probabilities, 1) == tf.argmax(y, 1), tf.float32)
            return tf.reduce_sum(losses), tf.reduce_sum(correct)

        self.score = score

    def on_train_batch_end(self, batch, logs=None):
        if self.should_stop is not None and self.should_stop():
            self.cancelled = True
            self.model.stop_training = True

    def on_epoch_end(self, epoch, logs=None):
        if self.cancelled:  # fit() still ends the epoch; nothing of it is kept
            return
        values = {"loss": float(logs["loss"]), "accuracy": float(logs["accuracy"])}
        if self.count:
            sums = np.sum([[float(v) for v in self.score(x, y)] for x, y in self.test], axis=0)
            values["test_loss"] = float(sums[0] / self.count)
            values["test_accuracy"] = float(sums[1] / self.count)
        for key, value in values.items():
            self.history.setdefault(key, []).append(value)
        if self.report is not None:
            self.report(epoch + 1, dict(values))


def _fit_from_scratch(
    model, recipe: Recipe, n_classes: int, train: Samples, test: Samples, on_epoch_end, should_stop
) -> tuple[dict, bool]:
    """Fit the network with Keras' fit(): (history, cancelled).

    The drawings come from memory through tf.data (a shuffled pass per epoch, or the tutorial's
    endless stream of shuffled passes cut into steps_per_epoch batches). The augmentation layers
    sit in front of the network in the model that is fitted, so they run inside fit()'s traced
    step, on whole batches; `model` shares the weights and never augments. steps_per_execution
    runs up to a whole epoch per call into TensorFlow; the test split is scored by the
    callback.

    Measured against the hand loop this replaced (benchmarks/RESULTS.md, training_loops: each
    run in its own process, one thread as the page's worker and all cores as the CLI): CPU
    time 0.91-1.04x the loop's on the scratch and tutorial recipes; wall time 0.69-1.41x,
    with no steady sign across two runs on the shared machine. Augmenting in a tf.data map
    instead was slower (1.1-3.1x wall, 1.3-1.4x CPU); fit()'s own validation_data cost about
    30 % more per epoch than the callback's scoring.
    """
    x, y = train.x, np.eye(n_classes, dtype=np.float32)[train.y]
    fitted = model
    if recipe.augment:
        drawing = keras.Input(model.input_shape[1:], name="drawing")
        augmented = build_augmentation(recipe.seed)(drawing)
        fitted = keras.Model(drawing, model(augmented), name=f"{model.name}_augmented")
    endless = recipe.steps_per_epoch is not None
    steps = recipe.steps_per_epoch or int(np.ceil(len(x) / recipe.batch_size))
    pipeline = tf.data.Dataset.from_tensor_slices((x, y)).shuffle(
        len(x), seed=recipe.seed, reshuffle_each_iteration=True
    )
    if endless:
        pipeline = pipeline.repeat()
    pipeline = pipeline.batch(recipe.batch_size).prefetch(tf.data.AUTOTUNE)
    fitted.compile(
        optimizer=keras.optimizers.Adam(learning_rate=recipe.learning_rate),
        loss="categorical_crossentropy",
        metrics=["accuracy"],
        steps_per_execution=_steps_per_execution(steps, endless),
    )
    report = _EpochReport(model, on_epoch_end, should_stop, test, n_classes)
    callbacks = [report]
    callbacks += _early_stopping(recipe, steps)
    fitted.fit(
        pipeline,
        epochs=recipe.epochs,
        steps_per_epoch=recipe.steps_per_epoch,
        callbacks=callbacks,
        shuffle=False,  # the pipeline shuffles, with the recipe's seed
        verbose=0,
    )
    return report.history, report.cancelled


def train(
    data: TrainingData | str | os.PathLike,
    recipe: str | Recipe = "default",
    *,
    model_path: str | os.PathLike | None = None,
    on_epoch_end: EpochCallback | None = None,
    should_stop: Callable[[], bool] | None = None,
    config: PreprocessConfig = DEFAULT_CONFIG,
    base_weights: str | os.PathLike | None = None,
) -> TrainResult:
    """Train a model on a dataset (its folder, or TrainingData already loaded) and, unless
    cancelled, save it to `model_path` with its checked export.

    `recipe` is a name or a Recipe (config.resolve_recipe applies overrides). `should_stop` is
    polled after every batch or epoch; when it returns True training stops and nothing is saved
    (the previous model stays). Results are reproducible for a given seed. `base_weights`
    picks another shape base than the shipped one (benchmarks train bases without some people).
    """
    recipe = resolve_recipe(recipe)
    if not isinstance(data, TrainingData):
        data = load_training_data(data, config)
    config = data.config
    keras.utils.set_random_seed(recipe.seed)
    tf.config.experimental.enable_op_determinism()
    n_classes = len(data.class_names)
    input_shape = (config.size, config.size, config.channels)
    started = time.perf_counter()
    if recipe.architecture == "base":
        model, history, cancelled, novelty_entry = _train_from_base(
            data, recipe, input_shape, on_epoch_end, should_stop, base_weights
        )
    else:
        model = build_model(n_classes, input_shape, recipe.learning_rate, recipe.architecture)
        history, cancelled = _fit_from_scratch(
            model, recipe, n_classes, data.train, data.test, on_epoch_end, should_stop
        )
        novelty_entry = None
    seconds = time.perf_counter() - started

    has_test = len(data.test) > 0
    notes = [] if has_test else ["there is no test data: accuracy on unseen drawings is unknown"]
    probabilities = evaluation = None
    if has_test:
        probabilities = predict_in_slices(model, data.test.x)
        evaluation = evaluate_predictions(data.test.y, probabilities, data.class_names)
    rows = [
        {"epoch": i + 1, **{key: values[i] for key, values in history.items()}}
        for i in range(len(history.get("loss", [])))
    ]
    metadata = ModelMetadata(
        class_names=list(data.class_names),
        input_shape=input_shape,
        preprocess=config,
        architecture=recipe.architecture,
        recipe=recipe.to_dict(),
        counts=data.counts,
        epochs_run=len(rows),
        train_seconds=round(seconds, 2),
        test_metrics=(
            {
                "accuracy": evaluation.accuracy,
                "loss": history["test_loss"][-1] if history.get("test_loss") else None,
                "count": evaluation.count,
                "per_class": evaluation.per_class,
                "confusion": evaluation.confusion,
            }
            if evaluation
            else None
        ),
        misclassified=(
            misclassified(data.test.paths, data.test.y, probabilities, data.class_names)
            if evaluation
            else []
        ),
        history=rows[-MAX_HISTORY_ROWS:],
        data=str(Path(data.root).resolve()) if data.root else "",
        trained_at=datetime.now(UTC).isoformat(timespec="seconds"),
        versions={"tensorflow": tf.__version__, "keras": keras.__version__},
        notes=notes,
    )
    if novelty_entry is not None:
        metadata.novelty = novelty_entry
    saved_to = None
    if model_path is not None and not cancelled:
        check = data.test.x if has_test else data.train.x
        saved_to = save_model(model, model_path, metadata, check_inputs=check)
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


# Every drawing's model input by file version: a warm training process (shapecnn.jobs) decodes
# only the drawings saved since its last run.
_SAMPLE_CACHE: dict[tuple, np.ndarray] = {}

# Curves kept in a model file: enough for any run the recipes make.
MAX_HISTORY_ROWS = 1000


def _early_stopping(recipe: Recipe, steps_per_epoch: int) -> list:
    """The recipe's early stopping, if any: it watches the training loss (the test split is
    for reporting only), and only once min_steps batches are done: a small dataset has few
    batches per epoch."""
    if recipe.early_stopping_patience is None:
        return []
    return [
        keras.callbacks.EarlyStopping(
            monitor="loss",
            min_delta=1e-3,
            patience=recipe.early_stopping_patience,
            start_from_epoch=int(np.ceil(recipe.min_steps / steps_per_epoch)),
        )
    ]


def predict_in_slices(model, x: np.ndarray) -> np.ndarray:
    """The model's probabilities for many inputs, EVAL_BATCH at a time (bounded memory)."""
    outputs = []
    for start in range(0, len(x), EVAL_BATCH):
        result = model(x[start : start + EVAL_BATCH], training=False)
        if isinstance(result, (list, tuple)):
            result = result[0]
        outputs.append(np.asarray(result))
    if not outputs:
        return np.zeros((0, model.outputs[0].shape[-1]), np.float32)
    return np.concatenate(outputs)


# --- training from the shape base ---------------------------------------------------------------

# The loaded base and the features it computed, by (base file version, drawing version, copy):
# a warm training process (shapecnn.jobs) keeps them between runs.
_BASE_CACHE: dict[str, object] = {}
_FEATURE_CACHE: dict[tuple, np.ndarray] = {}
MAX_CACHED_FEATURES = 200_000


def _base(input_shape, weights: str | os.PathLike | None = None):
    weights = Path(weights) if weights is not None else shape_base.BASE_WEIGHTS
    if not weights.is_file():
        shape_base.load_base(weights)  # the one clear error for a missing base
    fingerprint = f"{weights.resolve()}-{shape_base.base_fingerprint(weights)}"
    key = f"{fingerprint}-{input_shape}"
    if key not in _BASE_CACHE:
        _BASE_CACHE.clear()
        _FEATURE_CACHE.clear()
        _BASE_CACHE[key] = shape_base.load_base(weights, input_shape=input_shape)
    return _BASE_CACHE[key], fingerprint


def augment_copies(x: np.ndarray, copies: int, seed: int, strength: str = "mild") -> np.ndarray:
    """`copies` augmented versions of each drawing in x (N x H x W x C) -> (N * copies) x ...

    The random parameters come from numpy, seeded by `seed` and each drawing's own pixels, so
    a drawing gets the same copies in every run (and its cached features stay valid).
    """
    if copies == 0 or not len(x):
        return np.zeros((0, *x.shape[1:]), np.float32)
    transforms = []
    for image in x:
        rng = np.random.default_rng([seed, zlib.crc32(np.ascontiguousarray(image).tobytes())])
        for _ in range(copies):
            transforms.append(random_affine(rng, strength, image.shape[1], image.shape[0]))
    repeated = np.repeat(x, copies, axis=0)
    moved = keras.ops.image.affine_transform(
        repeated, np.asarray(transforms, np.float32), fill_value=1.0
    )
    return np.clip(np.asarray(moved), 0.0, 1.0)


def features_of(base, fingerprint: str, samples: Samples, copies: int, seed: int) -> np.ndarray:
    """(copies + 1) x N x D features: the drawings, then each augmented copy, from the cache
    where the drawing's file has not changed since."""
    n = len(samples)
    keys = []
    for path in samples.paths:
        try:
            stat = Path(path).stat()
            keys.append((fingerprint, str(path), stat.st_mtime_ns, stat.st_size, copies, seed))
        except OSError:
            keys.append(None)
    missing = [i for i, key in enumerate(keys) if key is None or key not in _FEATURE_CACHE]
    if missing:
        x = samples.x[missing]
        batch = np.concatenate([x, augment_copies(x, copies, seed)])
        # The base's outputs side by side: embedding, then the kinds' probabilities.
        computed = np.concatenate(
            [
                np.concatenate([np.asarray(o) for o in base(batch[s : s + EVAL_BATCH])], axis=1)
                for s in range(0, len(batch), EVAL_BATCH)
            ]
        )
        extra = computed[len(x) :].reshape(len(x), copies, computed.shape[1])
        plain = computed[: len(x)]
        if len(_FEATURE_CACHE) + len(missing) > MAX_CACHED_FEATURES:
            _FEATURE_CACHE.clear()
        for j, i in enumerate(missing):
            stacked = np.concatenate([plain[j : j + 1], extra[j]])
            if keys[i] is not None:
                _FEATURE_CACHE[keys[i]] = stacked
            else:
                keys[i] = ("uncached", i)
                _FEATURE_CACHE[keys[i]] = stacked
    stacked = np.stack([_FEATURE_CACHE[key] for key in keys]) if n else None
    for key in keys:
        if key is not None and key[0] == "uncached":
            del _FEATURE_CACHE[key]
    if stacked is None:
        width = sum(int(output.shape[-1]) for output in base.outputs)
        return np.zeros((copies + 1, 0, width), np.float32)
    return np.transpose(stacked, (1, 0, 2))


def class_weights(y: np.ndarray, n_classes: int) -> dict[int, float]:
    """Balanced weights: every class counts as much in the loss, however many drawings it has."""
    counts = np.bincount(y, minlength=n_classes).astype(np.float64)
    return {c: float(len(y) / (n_classes * counts[c])) for c in range(n_classes) if counts[c]}


class _Progress(keras.callbacks.Callback):
    """Reports each epoch (with the test split scored) and stops when asked to."""

    def __init__(self, on_epoch_end, should_stop, test_x, test_y, every: int, weigh=None):
        super().__init__()
        self.report, self.should_stop = on_epoch_end, should_stop
        self.test_x, self.test_y, self.every = test_x, test_y, every
        # The head's test probabilities -> the saved model's (the base's judgement weighed in).
        self.weigh = weigh
        self.cancelled = False
        self.history: dict[str, list[float]] = {}

    def on_train_batch_end(self, batch, logs=None):
        if self.should_stop is not None and self.should_stop():
            self.cancelled = True
            self.model.stop_training = True

    def on_epoch_end(self, epoch, logs=None):
        logs = {"loss": float(logs["loss"]), "accuracy": float(logs["accuracy"])}
        if len(self.test_y):
            probabilities = np.asarray(self.model(self.test_x, training=False))
            if self.weigh is not None:
                probabilities = self.weigh(probabilities)
            logs["test_loss"], logs["test_accuracy"] = _scored(probabilities, self.test_y)
        for key, value in logs.items():
            self.history.setdefault(key, []).append(value)
        if self.report is not None:
            self.report(epoch + 1, dict(logs))


def _train_from_base(
    data: TrainingData, recipe: Recipe, input_shape, on_epoch_end, should_stop, weights
):
    """(full model, history, cancelled, its "not sure" entry) for the base recipe."""
    base, fingerprint = _base(input_shape, weights)
    kind_names = shape_base.kind_names(weights or shape_base.BASE_WEIGHTS)
    n_classes = len(data.class_names)
    copies = recipe.augment_copies if recipe.augment else 0
    size = shape_base.EMBEDDING_SIZE
    outputs = features_of(base, fingerprint, data.train, copies, recipe.seed)
    train_features, train_kinds = outputs[..., :size], outputs[0, :, size:]
    x = train_features.reshape(-1, size)
    y = np.tile(data.train.y, copies + 1)
    test_outputs = features_of(base, fingerprint, data.test, 0, recipe.seed)[0]
    test_features, test_kinds = test_outputs[:, :size], test_outputs[:, size:]

    head = keras.layers.Dense(
        n_classes,
        activation="softmax",
        name="probabilities",
        kernel_regularizer=keras.regularizers.L2(recipe.head_l2) if recipe.head_l2 else None,
    )
    head_model = keras.Sequential([keras.Input((x.shape[1],)), head], name="head")
    weights = class_weights(data.train.y, n_classes)
    sample_weight = np.array([weights[int(c)] for c in y], np.float32)
    # The base's judgement of every class (shapecnn.novelty): known before the head is fitted,
    # so each epoch's test figures are those of the model the run saves.
    entry = novelty.fit(train_kinds, data.train.y, n_classes, kind_names)
    judging = bool(recipe.own_weights) and recipe.own_weights != (1.0,)
    weigh = None
    if judging:
        matrix, together = novelty.judgement_matrix(entry), novelty.alike_classes(entry)
        judged_test = novelty.judged(test_kinds, matrix)

        def weigh(head_on_test, own_weight=recipe.own_weights[0]):
            return novelty.weighed(head_on_test, judged_test, together, np.float32(own_weight))

    progress = _Progress(
        on_epoch_end, should_stop, test_features, data.test.y, every=1, weigh=weigh
    )
    if recipe.head_solver == "lbfgs":
        head.set_weights(_solve_head(x, y, sample_weight, n_classes, recipe.head_l2))
        # One "epoch" to report: the solved head's loss and accuracy (no fit() to trace).
        probabilities = np.asarray(head_model(x, training=False))
        picked = np.maximum(probabilities[np.arange(len(y)), y], 1e-7)
        progress.set_model(head_model)
        progress.on_epoch_end(
            0,
            {
                "loss": float(np.average(-np.log(picked), weights=sample_weight)),
                "accuracy": float(np.mean(probabilities.argmax(1) == y)),
            },
        )
    else:
        _fit_head(head_model, x, y, sample_weight, recipe, progress)
    drawing = keras.Input(input_shape, name="drawing")
    embedding, kinds = base(drawing)
    probabilities = head(embedding)
    if judging:
        head_on_test = np.asarray(head_model(test_features, training=False))
        own_weight, tried = _own_weight(
            recipe.own_weights, lambda w: weigh(head_on_test, w), data.test.y
        )
        alike = [
            [data.class_names[j] for j in np.flatnonzero(row)]
            for i, row in enumerate(together)
            if row.sum() > 1 and np.argmax(row) == i
        ]
        entry["judgement"] = {"own_weight": own_weight, "alike": alike, "tried_on_test": tried}
        probabilities = base_judgement(matrix, together, own_weight)([probabilities, kinds])
    model = keras.Model(drawing, [probabilities, embedding, kinds], name="shapecnn_base")
    return model, progress.history, progress.cancelled, entry


def _scored(probabilities: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """(mean log loss, accuracy) of probabilities for the labels y."""
    picked = np.maximum(probabilities[np.arange(len(y)), y], 1e-7)
    return float(-np.mean(np.log(picked))), float(np.mean(probabilities.argmax(axis=1) == y))


def _own_weight(candidates, weighed, y) -> tuple[float, list[dict]]:
    """The head's weight against the base's judgement that scores best on the test drawings
    (accuracy, then mean log loss), the first candidate on a tie or without test drawings;
    and what each scored. `weighed(weight)`: the test drawings' probabilities with it."""
    if not len(y):
        return float(candidates[0]), []
    tried = []
    for weight in candidates:
        loss, accuracy = _scored(weighed(np.float32(weight)), y)
        tried.append({"own_weight": float(weight), "accuracy": accuracy, "loss": round(loss, 5)})
    best = min(range(len(tried)), key=lambda i: (-tried[i]["accuracy"], tried[i]["loss"], i))
    return tried[best]["own_weight"], tried


def _fit_head(head_model, x, y, sample_weight, recipe: Recipe, progress) -> None:
    """Epochs of Adam on the features, reported after each, with early stopping."""
    steps = int(np.ceil(len(x) / recipe.batch_size))
    head_model.compile(
        optimizer=keras.optimizers.Adam(recipe.learning_rate),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
        steps_per_execution=steps,
    )
    # One endless, shuffled stream of batches: fit() then keeps one iterator for the whole run
    # instead of building one per epoch (0.7 s against 2.0 s for 30 epochs here). Class
    # weights go in as per-drawing weights.
    stream = (
        tf.data.Dataset.from_tensor_slices((x.astype(np.float32), y, sample_weight))
        .shuffle(len(x), seed=recipe.seed, reshuffle_each_iteration=True)
        .repeat()
        .batch(recipe.batch_size)
    )
    head_model.fit(
        stream,
        steps_per_epoch=steps,
        epochs=recipe.epochs,
        verbose=0,
        callbacks=[progress, *_early_stopping(recipe, steps)],
        shuffle=False,
    )


def _solve_head(x, y, sample_weight, n_classes: int, l2: float) -> list[np.ndarray]:
    """[kernel, bias] of the softmax head minimising the same loss as _fit_head (mean weighted
    cross-entropy + l2 * |kernel|^2), solved exactly by scikit-learn's L-BFGS."""
    from sklearn.linear_model import LogisticRegression

    # scikit-learn minimises C * sum(weighted losses) + |kernel|^2 / 2: the same optimum when
    # C = 1 / (2 * l2 * N). No penalty at all would let separable features run to infinity.
    c = 1.0 / (2.0 * max(l2, 1e-6) * len(x))
    solver = LogisticRegression(C=c, max_iter=500, tol=1e-5)
    solver.fit(x, y, sample_weight=sample_weight)
    coef, intercept = solver.coef_.astype(np.float32), solver.intercept_.astype(np.float32)
    if n_classes == 2:  # one logit for class 1 against class 0: the softmax of (0, z)
        coef = np.concatenate([np.zeros_like(coef), coef])
        intercept = np.concatenate([np.zeros_like(intercept), intercept])
    return [coef.T, intercept]


def warm_up(input_shape=(24, 24, 3)) -> None:
    """Load the shape base (and the head's solver) now, and export the base unless it is kept
    already (shapecnn.model.base_export), so that the first training run does not wait for
    them."""
    import sklearn.linear_model  # noqa: F401

    from shapecnn.model import base_export

    base, _fingerprint = _base(input_shape)
    base_export(base)
