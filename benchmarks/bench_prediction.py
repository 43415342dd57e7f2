"""Prediction: `Classifier.predict` on a 280x280 canvas against the bare network, same process.

Target (issue, part 2): the median of 300 `Classifier.predict(canvas)` calls is at most 3x the
median of 300 `model.predict_on_batch(x)` calls on one preprocessed input, and at most 5 ms.
`model.predict` is reported for contrast. The calls are timed in alternating blocks so that every
candidate sees the same noise from other programs.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
from common import Figure, Report, interleaved, md_table, median, ms, ours_recipe, percentile

NAME = "prediction"
TITLE = "Prediction: Classifier.predict on a 280x280 canvas vs the bare network"

TARGET_RATIO = 3.0
TARGET_MS = 5.0


def train_model(folder: Path, quick: bool) -> Path:
    """A fresh model trained briefly on the starter data (the weights do not change the speed;
    the quick run saves an untrained one)."""
    from shapecnn.config import DEFAULT_DATA, resolve_recipe
    from shapecnn.model import ModelMetadata, build_model, save_model
    from shapecnn.preprocess import DEFAULT_CONFIG
    from shapecnn.training import train

    path = folder / "model.keras"
    if quick:
        metadata = ModelMetadata(["circle", "rectangle", "triangle"], preprocess=DEFAULT_CONFIG)
        save_model(build_model(3), path, metadata)
    else:
        train(DEFAULT_DATA, resolve_recipe(ours_recipe(), epochs=3), model_path=path)
    return path


def make_canvas() -> np.ndarray:
    from shapecnn import synth

    strokes = synth.shape_strokes("triangle", np.random.default_rng(0))
    return synth.render_canvas_rgba(strokes)  # 280 x 280 x 4 uint8, as the page's canvas


def run(quick: bool = False) -> Report:
    from shapecnn._tensorflow import tf
    from shapecnn.inference import Classifier
    from shapecnn.preprocess import ink_box, to_ink

    calls = 30 if quick else 300
    predict_calls = 3 if quick else 30
    report = Report(NAME, TITLE, quick=quick)
    with tempfile.TemporaryDirectory() as scratch:
        classifier = Classifier.load(train_model(Path(scratch), quick))
    model = classifier.model
    canvas = make_canvas()
    assert canvas.shape == (280, 280, 4), canvas.shape
    x = classifier.preprocess(canvas)[None]
    size = x.shape[1:]

    # What Classifier did before it ran a runtime's export: one traced TensorFlow function per
    # call (the probabilities only: a model trained from the base also returns its features).
    traced = tf.function(
        lambda batch: _first(model(batch, training=False)),
        input_signature=[tf.TensorSpec([None, *size], tf.float32)],
    )
    candidates = {
        "Classifier.predict(canvas)": lambda: classifier.predict(canvas),
        "model.predict_on_batch(x)": lambda: model.predict_on_batch(x),
        "Classifier.preprocess(canvas)": lambda: classifier.preprocess(canvas),
        "Classifier.predict_preprocessed(x)": lambda: classifier.predict_preprocessed(x),
        "traced tf.function(x).numpy()": lambda: traced(x).numpy(),
        "preprocess + traced tf.function (before)": lambda: traced(
            classifier.preprocess(canvas)[None]
        ).numpy(),
    }
    for function in candidates.values():  # warm up: tracing, caches, BLAS threads
        for _ in range(5):
            function()
    cpu: dict[str, float] = {}
    samples = interleaved(candidates, calls, cpu=cpu)
    samples["model.predict(x)"] = interleaved(
        {"model.predict(x)": lambda: model.predict(x, verbose=0)}, predict_calls, block=5, cpu=cpu
    )["model.predict(x)"]
    medians = {name: median(values) for name, values in samples.items()}

    predict = medians["Classifier.predict(canvas)"]
    bare = medians["model.predict_on_batch(x)"]
    ratio = predict / bare
    report.figures = [
        Figure(
            f"Classifier.predict, median of {calls}",
            ms(predict),
            f"predict_on_batch: {ms(bare)}",
            ratio,
            f"<= {TARGET_RATIO:g}x",
            ratio <= TARGET_RATIO,
        ),
        Figure(
            "Classifier.predict, absolute",
            ms(predict),
            "",
            None,
            f"<= {TARGET_MS:g} ms",
            predict * 1e3 <= TARGET_MS,
        ),
        Figure(
            "Classifier.predict, CPU time per call",
            ms(cpu["Classifier.predict(canvas)"]),
            f"predict_on_batch: {ms(cpu['model.predict_on_batch(x)'])}",
            cpu["Classifier.predict(canvas)"] / cpu["model.predict_on_batch(x)"],
        ),
        Figure(
            f"model.predict, median of {predict_calls} (contrast)",
            ms(medians["model.predict(x)"]),
            f"Classifier.predict: {ms(predict)}",
            medians["model.predict(x)"] / predict,
        ),
    ]

    rows = [
        [
            f"`{name}`",
            ms(medians[name]),
            ms(percentile(values, 10)),
            ms(percentile(values, 90)),
            ms(cpu[name]),
            f"{medians[name] / bare:.2f}x",
        ]
        for name, values in samples.items()
    ]
    report.details += [
        f"Every call in the same process, {calls} calls each in alternating blocks of 25. "
        f"Model: {'untrained tutorial CNN' if quick else f'{ours_recipe()} recipe, 3 epochs'}; "
        f"LiteRT runtime in use: {classifier.uses_runtime}. CPU per call is this process's CPU "
        "time (all its threads, so TensorFlow's helpers too) per call: it leaves out waiting "
        "for a free core, though on a virtual machine it still grows when others are busy.",
        "",
        *md_table(["call", "median", "p10", "p90", "CPU per call", "vs predict_on_batch"], rows),
        "",
    ]

    # Where preprocessing spends its time (shapecnn/preprocess.py).
    ink = to_ink(canvas)
    threshold = classifier.preprocess_config.ink_threshold
    parts = interleaved(
        {
            "to_ink (uint8 RGBA -> float ink)": lambda: to_ink(canvas),
            "ink_box": lambda: ink_box(ink, threshold),
            "whole preprocess": lambda: classifier.preprocess(canvas),
        },
        calls,
    )
    whole = median(parts["whole preprocess"])
    part_rows = [
        [f"`{name}`", ms(median(v)), f"{median(v) / whole:.0%}"] for name, v in parts.items()
    ]
    rest = whole - median(parts["to_ink (uint8 RGBA -> float ink)"]) - median(parts["ink_box"])
    part_rows.insert(
        2, ["crop, pad, resize (PIL), contrast, channels", ms(rest), f"{rest / whole:.0%}"]
    )
    report.details += [
        "Preprocessing, by step:",
        "",
        *md_table(["step", "median", "share"], part_rows),
        "",
    ]

    # Where one LiteRT thread stops paying: batch size against the traced TensorFlow function
    # (all cores). The page predicts one drawing at a time; evaluation predicts many.
    batch_rows = []
    for n in (1, 2, 4, 8, 16, 32) if not quick else (1, 8):
        batch = np.repeat(x, n, axis=0)
        timed = interleaved(
            {
                "litert": lambda b=batch: classifier.predict_preprocessed(b),
                "tf": lambda b=batch: traced(b).numpy(),
            },
            10 if quick else 60,
            block=10,
        )
        litert_ms, tf_ms = median(timed["litert"]), median(timed["tf"])
        batch_rows.append([n, ms(litert_ms), ms(tf_ms), f"{litert_ms / tf_ms:.2f}"])
    report.details += [
        "Batch size: Classifier.predict_preprocessed (LiteRT, one thread) vs the traced "
        "TensorFlow function (all cores):",
        "",
        *md_table(["batch", "LiteRT", "tf.function", "LiteRT / tf"], batch_rows),
    ]
    return report


def _first(outputs):
    """The probabilities of a model that may also return its features."""
    return outputs[0] if isinstance(outputs, (list, tuple)) else outputs
