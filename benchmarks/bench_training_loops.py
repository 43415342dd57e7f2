"""Training loops: Keras' fit() against the hand loop `_Fitter`, fixed epochs, one run.

Issue 12, part 4: keep the hand loop only if it wins by a clear margin. Both train the tutorial
CNN from scratch on the starter data, with the same recipe, data, seed and number of epochs
(early stopping cannot trigger, so every variant does the same work), and both do what training
needs: the test split scored after every epoch, a progress report per epoch, a cancel flag
polled while training. Recipes: `scratch` (batch 16, strong augmentation on the fly) and
`tutorial` (batch 3, 45 steps per epoch from an endless shuffled stream, no augmentation).

- _Fitter:            shapecnn.training._Fitter as train() runs it (one traced step per batch,
                      called from Python; the test split scored by a traced function).
- fit, aug in model:  fit() on a tf.data pipeline (shuffle, repeat for steps_per_epoch, batch)
                      with `steps_per_execution` = one epoch's steps, the augmentation layers in
                      front of the network in the trained model, validation_data for the test
                      split, callbacks for progress and cancel, EarlyStopping(start_from_epoch).
- fit, aug in map:    the same, the augmentation in a tf.data map instead of in the model.
- fit, 1 step/exec:   "fit, aug in model" with steps_per_execution=1 (fit()'s default).

Each variant is timed from building the model to the last epoch's report (tracing included),
in the order A B C D D C B A, so that warm-up and drifting load fall on all alike.
"""

from __future__ import annotations

import math
import time
from dataclasses import replace

import numpy as np
from common import Clock, Figure, Report, md_table, secs, tiny_dataset

NAME = "training_loops"
TITLE = "Training loops: Keras fit() vs the hand loop _Fitter, fixed epochs"

EPOCHS = {"scratch": 30, "tutorial": 20}
# Within this of _Fitter's time, fit() replaces the hand loop (issue 12.4).
CLEAR_MARGIN = 0.10


def fixed_recipe(name: str, epochs: int):
    from shapecnn.config import resolve_recipe

    # No early stopping: every variant runs every epoch.
    return replace(resolve_recipe(name, epochs=epochs), early_stopping_patience=None)


def _start(data, recipe):
    from shapecnn._tensorflow import keras, tf
    from shapecnn.model import build_model

    keras.utils.set_random_seed(recipe.seed)
    tf.config.experimental.enable_op_determinism()
    n_classes = len(data.class_names)
    shape = data.train.x.shape[1:]
    return build_model(n_classes, shape, recipe.learning_rate, recipe.architecture), n_classes


def run_fitter(data, recipe) -> dict:
    from shapecnn.training import _Fitter

    clock = Clock()
    model, n_classes = _start(data, recipe)
    ends, logs = [], []

    def report(epoch, values):
        ends.append(time.perf_counter())
        logs.append(values)

    fitter = _Fitter(model, recipe, n_classes)
    fitter.fit(data.train, data.test, report, lambda: False)
    return _result(clock, ends, logs)


class _Progress:
    """Progress per epoch, cancel polled after every execution (built lazily: keras imports
    late)."""

    def __new__(cls, keras, ends: list, rows: list, should_stop):
        class Callback(keras.callbacks.Callback):
            def on_train_batch_end(self, batch, logs=None):
                if should_stop():
                    self.model.stop_training = True

            def on_epoch_end(self, epoch, logs=None):
                ends.append(time.perf_counter())
                rows.append(
                    {
                        "loss": float(logs["loss"]),
                        "accuracy": float(logs["accuracy"]),
                        "test_loss": float(logs["val_loss"]),
                        "test_accuracy": float(logs["val_accuracy"]),
                    }
                )

        return Callback()


def run_fit(data, recipe, augment_in: str = "model", steps_per_execution: int | None = None):
    """fit() as training.py would call it; `augment_in` is "model" or "map"."""
    from shapecnn._tensorflow import keras, tf
    from shapecnn.augment import build_augmentation
    from shapecnn.training import EVAL_BATCH

    clock = Clock()
    model, n_classes = _start(data, recipe)
    x, y = data.train.x, np.eye(n_classes, dtype=np.float32)[data.train.y]
    test_y = np.eye(n_classes, dtype=np.float32)[data.test.y]
    augmentation = build_augmentation(recipe.seed) if recipe.augment else None
    trained = model
    if augmentation is not None and augment_in == "model":
        drawing = keras.Input(model.input_shape[1:])
        trained = keras.Model(drawing, model(augmentation(drawing)))
    steps = recipe.steps_per_epoch or math.ceil(len(x) / recipe.batch_size)
    pipeline = tf.data.Dataset.from_tensor_slices((x, y)).shuffle(
        len(x), seed=recipe.seed, reshuffle_each_iteration=True
    )
    if recipe.steps_per_epoch is not None:
        pipeline = pipeline.repeat()
    pipeline = pipeline.batch(recipe.batch_size)
    if augmentation is not None and augment_in == "map":
        pipeline = pipeline.map(lambda a, b: (augmentation(a, training=True), b))
    pipeline = pipeline.prefetch(tf.data.AUTOTUNE)
    trained.compile(
        optimizer=keras.optimizers.Adam(recipe.learning_rate),
        loss="categorical_crossentropy",
        metrics=["accuracy"],
        steps_per_execution=steps_per_execution or steps,
    )
    ends, logs = [], []
    trained.fit(
        pipeline,
        epochs=recipe.epochs,
        steps_per_epoch=recipe.steps_per_epoch,
        validation_data=(data.test.x, test_y),
        validation_batch_size=EVAL_BATCH,
        callbacks=[
            _Progress(keras, ends, logs, lambda: False),
            keras.callbacks.EarlyStopping(
                monitor="loss", min_delta=1e-3, patience=6, start_from_epoch=recipe.epochs
            ),
        ],
        verbose=0,
    )
    return _result(clock, ends, logs)


def _result(clock: Clock, ends: list[float], logs: list[dict]) -> dict:
    wall, cpu = clock.elapsed()
    return {
        "wall": wall,
        "cpu": cpu,
        "epoch_ends": [t - clock.wall for t in ends],
        "accuracy": logs[-1]["test_accuracy"] if logs else float("nan"),
        "epochs": len(logs),
    }


def run(quick: bool = False) -> Report:
    from shapecnn.config import DEFAULT_DATA
    from shapecnn.training import load_training_data

    root = tiny_dataset() if quick else DEFAULT_DATA
    data = load_training_data(root)
    report = Report(NAME, TITLE, quick=quick)
    variants = {
        "_Fitter": run_fitter,
        "fit, aug in model": lambda d, r: run_fit(d, r, "model"),
        "fit, aug in map": lambda d, r: run_fit(d, r, "map"),
        "fit, 1 step/exec": lambda d, r: run_fit(d, r, "model", steps_per_execution=1),
    }
    rows, verdicts, orders = [], [], []
    for recipe_name, epochs in EPOCHS.items():
        recipe = fixed_recipe(recipe_name, 1 if quick else epochs)
        # Without augmentation, "in the model" and "in a map" are the same program.
        names = [n for n in variants if recipe.augment or n != "fit, aug in map"]
        order = names if quick else names + names[::-1]
        results = {name: [] for name in names}
        for name in order:
            results[name].append(variants[name](data, recipe))
        walls = {n: float(np.median([r["wall"] for r in results[n]])) for n in names}
        base = walls["_Fitter"]
        steps = recipe.steps_per_epoch or math.ceil(len(data.train) / recipe.batch_size)
        for name in names:
            cpu = float(np.median([r["cpu"] for r in results[name]]))
            first = results[name][0]
            times = np.diff([0.0, *first["epoch_ends"]])
            later = float(np.median(times[1:])) if len(times) > 1 else float("nan")
            rows.append(
                [
                    recipe_name,
                    name,
                    secs(walls[name]),
                    secs(cpu),
                    secs(times[0]) if len(times) else "",
                    f"{later * 1e3:.0f} ms",
                    f"{walls[name] / base:.2f}x",
                    ", ".join(f"{r['accuracy']:.0%}" for r in results[name]),
                ]
            )
        orders.append(f"{recipe_name}: {' / '.join(order)}")
        best_fit = min((n for n in names if n.startswith("fit")), key=walls.get)
        ratio = walls[best_fit] / base
        report.figures.append(
            Figure(
                f"{recipe_name}: best fit() ({best_fit}), wall (median)",
                secs(walls[best_fit]),
                f"_Fitter: {secs(base)}",
                ratio,
                f"<= {1 + CLEAR_MARGIN:.2f}x: fit() replaces _Fitter",
                ratio <= 1 + CLEAR_MARGIN,
            )
        )
        verdicts.append(
            f"{recipe_name} ({len(data.train)} train drawings, batch {recipe.batch_size}, "
            f"{steps} steps per epoch, {recipe.epochs} epochs): best fit() is {best_fit!r} at "
            f"{ratio:.2f}x _Fitter's wall time"
        )
    report.details += [
        f"{'A tiny synth set' if quick else 'Starter data'}, fixed epochs, early stopping off "
        f"(fit(): EarlyStopping with start_from_epoch = epochs); run order "
        f"{'; '.join(orders)}. Wall and CPU are medians over the runs, from "
        "building the model to the last epoch's report; the epoch times are from the first run "
        "of each. Test accuracy after the last epoch, per run.",
        "",
        *md_table(
            [
                "recipe",
                "loop",
                "wall",
                "CPU",
                "epoch 1 (incl. tracing)",
                "later epochs, median",
                "vs _Fitter",
                "test accuracy",
            ],
            rows,
        ),
        "",
        *[f"- {line}" for line in verdicts],
    ]
    return report
