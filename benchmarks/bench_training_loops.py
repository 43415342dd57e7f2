"""Prototypes of faster training loops, measured against today's `shapecnn.training.train`.

No target: this tells the owner of training.py what a change would gain, measured side by side
in one process, with the same recipe (default), data (starter), augmentation and a fixed number
of epochs (early stopping off, so every variant does the same work):

- as is:           `train()` with the recipe unchanged but early stopping off.
- one trace:       a prototype written here: like `train()`'s loop (one traced step per batch,
                   called from Python), but the step is traced once for any batch size (an
                   input signature with a free batch dimension) instead of once per new shape.
- epoch function:  a prototype written here: the drawings as tensors, and one tf.function that
                   runs a whole epoch (shuffle, augment, every step, test accuracy) per call, so
                   Python runs once per epoch instead of once per step.
"""

from __future__ import annotations

import math
import time
from dataclasses import replace

import numpy as np
from common import Clock, Figure, Report, md_table, secs, tiny_dataset

NAME = "training_loops"
TITLE = "Training loops: prototypes of faster loops vs today's train(), fixed epochs"


def fixed_recipe(epochs: int, **changes):
    from shapecnn.config import RECIPES

    return replace(RECIPES["default"], epochs=epochs, early_stopping_patience=None, **changes)


def run_train(root, recipe) -> dict:
    from shapecnn.training import train

    clock = Clock()
    ends = []
    result = train(root, recipe, on_epoch_end=lambda *_: ends.append(time.perf_counter()))
    wall, cpu = clock.elapsed()
    return {
        "wall": wall,
        "cpu": cpu,
        "epoch_ends": [t - clock.wall for t in ends],
        "accuracy": result.evaluation.accuracy if result.evaluation else float("nan"),
    }


def _augmentation(seed: int):
    try:
        from shapecnn.augment import build_augmentation
    except ImportError:
        from shapecnn.training import build_augmentation
    return build_augmentation(seed)


def _setup(root, recipe):
    from shapecnn._tensorflow import keras, tf
    from shapecnn.model import build_model
    from shapecnn.training import load_training_data

    data = load_training_data(root)
    keras.utils.set_random_seed(recipe.seed)
    n_classes = len(data.class_names)
    model = build_model(n_classes, data.train.x.shape[1:], recipe.learning_rate)
    augment = _augmentation(recipe.seed) if recipe.augment else None
    optimizer = keras.optimizers.Adam(learning_rate=recipe.learning_rate)
    optimizer.build(model.trainable_variables)
    loss_function = keras.losses.CategoricalCrossentropy()

    def step(images, labels):
        if augment is not None:
            images = augment(images, training=True)
        with tf.GradientTape() as tape:
            loss = loss_function(labels, model(images, training=True))
        gradients = tape.gradient(loss, model.trainable_variables)
        optimizer.apply_gradients(zip(gradients, model.trainable_variables, strict=True))
        return loss

    return data, n_classes, model, loss_function, step


def run_one_trace(root, recipe) -> dict:
    """Per-step loop from Python, the step traced once for every batch size."""
    from shapecnn._tensorflow import tf

    clock = Clock()
    data, n_classes, model, _, step = _setup(root, recipe)
    shape = data.train.x.shape[1:]
    traced = tf.function(
        step,
        input_signature=[
            tf.TensorSpec([None, *shape], tf.float32),
            tf.TensorSpec([None, n_classes], tf.float32),
        ],
    )
    x, y = data.train.x, np.eye(n_classes, dtype=np.float32)[data.train.y]
    x_test = tf.constant(data.test.x)
    test = tf.function(lambda images: model(images, training=False))
    rng = np.random.default_rng(recipe.seed)
    ends = []
    for _ in range(recipe.epochs):
        order = rng.permutation(len(x))
        for start in range(0, len(x), recipe.batch_size):
            index = order[start : start + recipe.batch_size]
            float(traced(tf.constant(x[index]), tf.constant(y[index])))
        test(x_test).numpy()
        ends.append(time.perf_counter())
    return _result(clock, ends, model, data)


def _result(clock: Clock, ends: list[float], model, data) -> dict:
    """Wall and CPU time, when each epoch ended, and test accuracy of one timed run."""
    accuracy = float(np.mean(np.argmax(model(data.test.x), axis=1) == data.test.y))
    wall, cpu = clock.elapsed()
    return {
        "wall": wall,
        "cpu": cpu,
        "epoch_ends": [t - clock.wall for t in ends],
        "accuracy": accuracy,
    }


def run_epoch_function(root, recipe) -> dict:
    """The prototype: one traced function per epoch over in-memory tensors."""
    from shapecnn._tensorflow import tf

    clock = Clock()
    data, n_classes, model, loss_function, step = _setup(root, recipe)
    x = tf.constant(data.train.x)
    y = tf.one_hot(data.train.y, n_classes)
    x_test = tf.constant(data.test.x)
    y_test = tf.one_hot(data.test.y, n_classes)
    count, batch = len(data.train), recipe.batch_size
    steps = math.ceil(count / batch)

    @tf.function
    def epoch(seed):
        order = tf.random.experimental.stateless_shuffle(tf.range(count), seed=seed)
        total = tf.constant(0.0)
        for number in tf.range(steps):
            index = order[number * batch : (number + 1) * batch]
            loss = step(tf.gather(x, index), tf.gather(y, index))
            total += loss * tf.cast(tf.shape(index)[0], tf.float32)
        test = model(x_test, training=False)
        hits = tf.cast(tf.argmax(test, 1) == tf.argmax(y_test, 1), tf.float32)
        return total / count, loss_function(y_test, test), tf.reduce_mean(hits)

    ends = []
    for number in range(recipe.epochs):
        loss, _, _ = epoch(tf.constant([recipe.seed, number]))
        float(loss)  # the epoch's logs reach Python, as they would reach the page
        ends.append(time.perf_counter())
    return _result(clock, ends, model, data)


def run(quick: bool = False) -> Report:
    from shapecnn._tensorflow import tf
    from shapecnn.config import DEFAULT_DATA
    from shapecnn.training import load_training_data

    tf.config.experimental.enable_op_determinism()
    epochs = 1 if quick else 30
    root = tiny_dataset() if quick else DEFAULT_DATA
    data = load_training_data(root)
    batch = fixed_recipe(epochs).batch_size
    steps = math.ceil(len(data.train) / batch)
    variants = {
        "as is": lambda: run_train(root, fixed_recipe(epochs)),
        "one trace": lambda: run_one_trace(root, fixed_recipe(epochs)),
        "epoch function": lambda: run_epoch_function(root, fixed_recipe(epochs)),
    }
    if quick:  # a smoke run: the prototype, and train() once to compare with
        del variants["one trace"]
    names = list(variants)
    order = names if quick else names + names[::-1]
    results = {name: [] for name in names}
    for name in order:
        results[name].append(variants[name]())

    base = float(np.median([r["wall"] for r in results["as is"]]))
    report = Report(NAME, TITLE, quick=quick)
    rows = []
    for name in names:
        wall = float(np.median([r["wall"] for r in results[name]]))
        cpu = float(np.median([r["cpu"] for r in results[name]]))
        first = results[name][0]
        times = np.diff([0.0, *first["epoch_ends"]])
        later = float(np.median(times[1:])) if len(times) > 1 else float("nan")
        rows.append(
            [
                name,
                secs(wall),
                secs(cpu),
                secs(times[0]),
                f"{later * 1e3:.0f} ms",
                f"{wall / base:.2f}x",
                ", ".join(f"{r['accuracy']:.0%}" for r in results[name]),
            ]
        )
        report.figures.append(
            Figure(f"{name}: wall time (median)", secs(wall), f"as is: {secs(base)}", wall / base)
        )
    report.details += [
        f"Default recipe, {'a tiny synth set' if quick else 'starter data'} "
        f"({len(data.train)} train drawings, batch {batch}: "
        f"{steps} steps per epoch), {epochs} epochs, early stopping off; run order "
        f"{' / '.join(order)}. Wall and CPU are medians over the runs; the epoch times are from "
        "the first run of each.",
        "",
        *md_table(
            [
                "variant",
                "wall",
                "CPU",
                "epoch 1 (incl. tracing)",
                "later epochs, median",
                "vs as is",
                "test accuracy",
            ],
            rows,
        ),
    ]
    return report
