"""Training loops: Keras' fit() against the hand-made loop it replaced, fixed epochs, one run.

Issue 12, part 4: keep a hand loop only if it wins by a clear margin. Both train the tutorial
CNN from scratch on the starter data, with the same recipe, data, seed and number of epochs
(early stopping cannot trigger, so every variant does the same work), and both do what training
needs: the test split scored after every epoch, a progress report per epoch, a cancel flag
polled while training. Recipes: `scratch` (batch 16, strong augmentation on the fly) and
`tutorial` (batch 3, 45 steps per epoch from an endless shuffled stream, no augmentation).

- hand loop (was _Fitter): the loop shapecnn.training used until fit() replaced it, kept here
                      verbatim (one traced step per batch, called from Python; the test split
                      scored by a traced function).
- fit(), as train() runs it: shapecnn.training._fit_from_scratch: a tf.data pipeline (shuffle,
                      repeat for steps_per_epoch, batch), steps_per_execution up to an epoch's
                      steps, the augmentation layers in front of the network in the fitted
                      model, callbacks for progress (the test split scored in slices by one
                      traced function: cheaper than fit()'s validation_data) and cancel,
                      EarlyStopping(start_from_epoch) when the recipe asks for it.
- fit, aug in map:    a prototype here: the same, the augmentation in a tf.data map instead.
- fit, 1 step/exec:   train()'s fit() with steps_per_execution=1 (fit()'s default).

Each run has its own Python process (TensorFlow imported before the clock starts), with one
TensorFlow thread as the page's training worker runs (shapecnn.jobs) and with TensorFlow's
default (every core, as the CLI runs). Each is timed from building the model to the last
epoch's report (tracing included), in the order A B C D D C B A, so that warm-up and drifting
load fall on all alike. A quick run stays in this process.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(1, str(Path(__file__).resolve().parent.parent))

from common import ROOT, Clock, Figure, Report, md_table, secs, tiny_dataset

NAME = "training_loops"
TITLE = "Training loops: Keras fit() vs the hand loop it replaced, fixed epochs"

EPOCHS = {"scratch": 30, "tutorial": 20}
# Within this of the hand loop's time, fit() is the loop (issue 12.4).
CLEAR_MARGIN = 0.10
HAND = "hand loop (was _Fitter)"
FIT = "fit(), as train() runs it"


def fixed_recipe(name: str, epochs: int):
    """The recipe with a fixed number of epochs: its early stopping (if any) stays on, so its
    checks run, but can never trigger (min_steps out of reach)."""
    from shapecnn.config import resolve_recipe

    return replace(resolve_recipe(name, epochs=epochs), min_steps=10**9)


def _start(data, recipe):
    from shapecnn._tensorflow import keras, tf
    from shapecnn.model import build_model

    keras.utils.set_random_seed(recipe.seed)
    tf.config.experimental.enable_op_determinism()
    n_classes = len(data.class_names)
    shape = data.train.x.shape[1:]
    return build_model(n_classes, shape, recipe.learning_rate, recipe.architecture), n_classes


def hand_loop_class():
    """The hand-made loop that shapecnn.training used before fit() (commit 3cf6b87), kept here
    verbatim as the reference: a traced step per batch called from Python."""
    from shapecnn._tensorflow import keras, tf
    from shapecnn.augment import build_augmentation
    from shapecnn.config import Recipe
    from shapecnn.dataset import Samples
    from shapecnn.training import EVAL_BATCH

    class HandLoop:
        """A lean training loop over in-memory arrays.

        Its reason then (fit() measured since: no slower, RESULTS.md): "Keras' fit() builds
        tf.data iterators and runs its callback machinery for every epoch, which on a few hundred
        24x24 drawings costs more than the arithmetic." One traced function does augmentation,
        forward, backward and update for a batch, and the test split is scored in slices.
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
                self.optimizer.apply_gradients(
                    zip(gradients, model.trainable_variables, strict=True)
                )
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

        def fit(
            self, train: Samples, test: Samples, on_epoch_end, should_stop
        ) -> tuple[dict, bool]:
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
                    if (
                        patience is not None
                        and waited >= patience
                        and steps >= self.recipe.min_steps
                    ):
                        break
            return history, False

    return HandLoop


def run_hand_loop(data, recipe) -> dict:
    clock = Clock()
    model, n_classes = _start(data, recipe)
    ends, logs = [], []

    def report(epoch, values):
        ends.append(time.perf_counter())
        logs.append(values)

    hand_loop_class()(model, recipe, n_classes).fit(data.train, data.test, report, lambda: False)
    return _result(clock, ends, logs)


def run_training_fit(data, recipe, max_steps_per_execution: int | None = None) -> dict:
    """shapecnn.training's own fit() path, as train() runs it."""
    from shapecnn import training

    clock = Clock()
    model, n_classes = _start(data, recipe)
    ends, logs = [], []

    def report(epoch, values):
        ends.append(time.perf_counter())
        logs.append(values)

    kept = training.MAX_STEPS_PER_EXECUTION
    if max_steps_per_execution is not None:
        training.MAX_STEPS_PER_EXECUTION = max_steps_per_execution
    try:
        training._fit_from_scratch(
            model, recipe, n_classes, data.train, data.test, report, lambda: False
        )
    finally:
        training.MAX_STEPS_PER_EXECUTION = kept
    return _result(clock, ends, logs)


def run_fit(data, recipe, augment_in: str = "model", steps_per_execution: int | None = None):
    """A fit() prototype built like training._fit_from_scratch; `augment_in` is "model" or
    "map" (the augmentation in a tf.data map)."""
    from shapecnn import training
    from shapecnn._tensorflow import keras, tf
    from shapecnn.augment import build_augmentation

    clock = Clock()
    model, n_classes = _start(data, recipe)
    x, y = data.train.x, np.eye(n_classes, dtype=np.float32)[data.train.y]
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

    def report(epoch, values):
        ends.append(time.perf_counter())
        logs.append(values)

    trained.fit(
        pipeline,
        epochs=recipe.epochs,
        steps_per_epoch=recipe.steps_per_epoch,
        callbacks=[
            training._EpochReport(model, report, lambda: False, data.test, n_classes),
            keras.callbacks.EarlyStopping(
                monitor="loss", min_delta=1e-3, patience=6, start_from_epoch=recipe.epochs
            ),
        ],
        shuffle=False,
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


VARIANTS = {
    HAND: run_hand_loop,
    FIT: run_training_fit,
    "fit, aug in map": lambda d, r: run_fit(d, r, "map"),
    "fit, 1 step/exec": lambda d, r: run_training_fit(d, r, max_steps_per_execution=1),
}
# Thread settings: the page's training worker (shapecnn.jobs: one thread, so strokes stay
# quick) and TensorFlow's default (every core, as `python -m shapecnn train` runs).
THREADS = {"1 thread (page's worker)": "1", "all cores (CLI)": None}
THREAD_VARIABLES = ("TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS", "OMP_NUM_THREADS")


def measure_isolated(variant: str, recipe_name: str, epochs: int, threads: str | None) -> dict:
    """One run in a fresh Python process (TensorFlow reads its thread counts when it starts)."""
    env = {k: v for k, v in os.environ.items() if k not in THREAD_VARIABLES}
    if threads is not None:
        env.update(dict.fromkeys(THREAD_VARIABLES, threads))
    with tempfile.TemporaryDirectory() as scratch:
        output = Path(scratch) / "result.json"
        command = [sys.executable, __file__, "--child", variant, recipe_name, str(epochs)]
        subprocess.run([*command, "--output", str(output)], check=True, cwd=ROOT, env=env)
        return json.loads(output.read_text())


def run(quick: bool = False) -> Report:
    from shapecnn.config import DEFAULT_DATA
    from shapecnn.training import load_training_data

    root = tiny_dataset() if quick else DEFAULT_DATA
    data = load_training_data(root)
    report = Report(NAME, TITLE, quick=quick)
    # A quick run stays in this process (default threads); a full one runs every variant in
    # its own process, for each thread setting.
    threads = {"this process": None} if quick else THREADS
    rows, verdicts, orders = [], [], []
    for recipe_name, epochs in EPOCHS.items():
        recipe = fixed_recipe(recipe_name, 1 if quick else epochs)
        # Without augmentation, "in the model" and "in a map" are the same program.
        names = [n for n in VARIANTS if recipe.augment or n != "fit, aug in map"]
        order = names if quick else names + names[::-1]
        orders.append(f"{recipe_name}: {' / '.join(order)}")
        steps = recipe.steps_per_epoch or math.ceil(len(data.train) / recipe.batch_size)
        for setting, count in threads.items():
            results = {name: [] for name in names}
            for name in order:
                if quick:
                    results[name].append(VARIANTS[name](data, recipe))
                else:
                    results[name].append(measure_isolated(name, recipe_name, epochs, count))
            walls = {n: float(np.median([r["wall"] for r in results[n]])) for n in names}
            base = walls[HAND]
            for name in names:
                cpu = float(np.median([r["cpu"] for r in results[name]]))
                first = results[name][0]
                times = np.diff([0.0, *first["epoch_ends"]])
                later = float(np.median(times[1:])) if len(times) > 1 else float("nan")
                rows.append(
                    [
                        recipe_name,
                        setting,
                        name,
                        secs(walls[name]),
                        secs(cpu),
                        secs(times[0]) if len(times) else "",
                        f"{later * 1e3:.0f} ms",
                        f"{walls[name] / base:.2f}x",
                        ", ".join(f"{r['accuracy']:.0%}" for r in results[name]),
                    ]
                )
            cpus = {n: float(np.median([r["cpu"] for r in results[n]])) for n in names}
            # CPU seconds leave out waiting for a core that another program holds: on a shared
            # machine they are the steadier of the two figures.
            report.figures.append(
                Figure(
                    f"{recipe_name}, {setting}: {FIT}, CPU (median)",
                    secs(cpus[FIT]),
                    f"hand loop: {secs(cpus[HAND])}",
                    cpus[FIT] / cpus[HAND],
                )
            )
            best_fit = min((n for n in names if n != HAND), key=walls.get)
            ratio = walls[FIT] / base
            report.figures.append(
                Figure(
                    f"{recipe_name}, {setting}: {FIT}, wall (median)",
                    secs(walls[FIT]),
                    f"hand loop: {secs(base)}",
                    ratio,
                    f"<= {1 + CLEAR_MARGIN:.2f}x (else the hand loop wins clearly)",
                    ratio <= 1 + CLEAR_MARGIN,
                )
            )
            verdicts.append(
                f"{recipe_name}, {setting} ({len(data.train)} train drawings, batch "
                f"{recipe.batch_size}, {steps} steps per epoch, {recipe.epochs} epochs): {FIT} "
                f"takes {ratio:.2f}x the hand loop's wall time; the fastest fit() variant is "
                f"{best_fit!r} at {walls[best_fit] / base:.2f}x"
            )
    report.details += [
        f"{'A tiny synth set' if quick else 'Starter data'}, fixed epochs; early stopping is "
        "on where the recipe has it but can never trigger (min_steps out of reach), so its "
        f"checks run and every variant does the same work. "
        + (
            ""
            if quick
            else "Every run in its own Python process, TensorFlow imported before "
            "the clock starts; "
        )
        + f"run order {'; '.join(orders)}, for each thread setting. Wall and CPU are medians "
        "over the runs, from building the model to the last epoch's report; the epoch times "
        "are from the first run of each. Test accuracy after the last epoch, per run.",
        "",
        *md_table(
            [
                "recipe",
                "threads",
                "loop",
                "wall",
                "CPU",
                "epoch 1 (incl. tracing)",
                "later epochs, median",
                "vs hand loop",
                "test accuracy",
            ],
            rows,
        ),
        "",
        *[f"- {line}" for line in verdicts],
    ]
    return report


def _child(argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--child", nargs=3, metavar=("VARIANT", "RECIPE", "EPOCHS"))
    parser.add_argument("--output", type=Path, required=True)
    args = parser.parse_args(argv)
    variant, recipe_name, epochs = args.child
    from shapecnn._tensorflow import tf  # noqa: F401 - imported before any clock starts
    from shapecnn.config import DEFAULT_DATA
    from shapecnn.training import load_training_data

    data = load_training_data(DEFAULT_DATA)
    result = VARIANTS[variant](data, fixed_recipe(recipe_name, int(epochs)))
    args.output.write_text(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(_child(sys.argv[1:]))
