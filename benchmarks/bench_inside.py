"""The look inside (issue 16, part 5): what the layer maps in the export cost a prediction, and
what the panel costs a stroke when it is on.

A model file's export now also has the maps of three layers as outputs (shapecnn.model
export_model). LiteRT computes those layers for every prediction anyway; what an extra output
can cost is copying it out of the interpreter. Measured on the two networks a model file holds
(the tutorial CNN; a model trained from the shape base: shapecnn.base.build_base and a Dense
head, as training builds it), random weights, one drawing per call, in alternating blocks:

- before: the export without the maps, run as the runtime ran it before this change (the
  signature runner, every output copied);
- now: the export with the maps, through runtime.Runtime.run: only the vectors are copied (the
  prediction path, and the page's with the panel off);
- every output: the export with the maps through the signature runner, every output copied (what
  a prediction would cost if the runtime returned the maps on every call);
- with maps: Runtime.run(layers=True), the panel's own call.

Then the panel's work per stroke on the base model: shapecnn.inside.look_inside (its two calls:
the drawing with its maps, then every erased copy in one batch), the pictures, and their PNGs.

Target: a prediction on the export with the maps costs at most 1.05x what it did before.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from common import Figure, Report, interleaved, md_table, median, ms, percentile

NAME = "inside"
TITLE = "inside: the look inside: a prediction with the layer maps exported, and the panel"

PREDICTION_RATIO = 1.05


def networks() -> dict[str, object]:
    """{"tutorial": the tutorial CNN, "base": a model as training from the shape base builds it}."""
    from shapecnn._tensorflow import keras
    from shapecnn.base import build_base
    from shapecnn.model import build_model

    keras.utils.set_random_seed(0)
    base = build_base((24, 24, 3), n_kinds=55)
    drawing = keras.Input((24, 24, 3), name="drawing")
    embedding, kinds = base(drawing)
    head = keras.layers.Dense(3, activation="softmax", name="probabilities")
    with_base = keras.Model(drawing, [head(embedding), embedding, kinds], name="shapecnn_base")
    return {"tutorial": build_model(3), "base": with_base}


def export(network, path: Path) -> bytes:
    from shapecnn._tensorflow import native_output_silenced

    with native_output_silenced():
        network.export(str(path), format="litert", verbose=False)
    return path.read_bytes()


def exports(name: str, model, folder: Path) -> tuple[bytes, bytes]:
    """(without the maps, as files were saved before; with them, as export_model makes them)."""
    from shapecnn._tensorflow import keras
    from shapecnn.model import export_model

    network = export_model(model)
    vectors = [o for o in network.outputs if len(o.shape) == 2]
    before = keras.Model(network.inputs[0], vectors, name="before")
    return export(before, folder / f"{name}-before.tflite"), export(
        network, folder / f"{name}.tflite"
    )


def signature_runner(flatbuffer: bytes):
    """The runtime's call before this change: the signature runner, every output copied."""
    from ai_edge_litert.interpreter import Interpreter

    interpreter = Interpreter(model_content=flatbuffer, num_threads=1)
    interpreter.allocate_tensors()
    runner = interpreter.get_signature_runner("serving_default")
    (name,) = runner.get_input_details()
    return lambda x: {key: np.array(value) for key, value in runner(**{name: x}).items()}


def run(quick: bool = False) -> Report:
    from bench_runtime import drawings

    from shapecnn import inside, views
    from shapecnn.inference import Classifier
    from shapecnn.model import ModelMetadata, save_model
    from shapecnn.runtime import Runtime

    report = Report(NAME, TITLE, quick=quick)
    calls, strokes = (30, 3) if quick else (600, 30)
    x = drawings(quick)
    one = x[:1]
    rows, figures = [], []
    with tempfile.TemporaryDirectory(prefix="shapecnn-inside-") as scratch:
        folder = Path(scratch)
        models = networks()
        for name, model in models.items():
            before, now = exports(name, model, folder)
            runtime = Runtime(now)
            candidates = {
                "before": (lambda f: lambda: f(one))(signature_runner(before)),
                "now": lambda runtime=runtime: runtime.run(one),
                "every output": (lambda f: lambda: f(one))(signature_runner(now)),
                "with maps": lambda runtime=runtime: runtime.run(one, layers=True),
            }
            samples = interleaved(candidates, calls)
            mid = {key: median(values) for key, values in samples.items()}
            rows.append(
                [name, *(f"{ms(mid[k])} (p95 {ms(percentile(samples[k], 95))})" for k in mid)]
            )
            figures.append(
                Figure(
                    f"prediction, {name} network, export with the layer maps",
                    ms(mid["now"]),
                    f"before, export without them: {ms(mid['before'])}",
                    mid["now"] / mid["before"],
                    f"<= {PREDICTION_RATIO:.2f}x",
                    mid["now"] / mid["before"] <= PREDICTION_RATIO,
                )
            )
            figures.append(
                Figure(
                    f"if every call returned the maps, {name} network",
                    ms(mid["every output"]),
                    f"before: {ms(mid['before'])}",
                    mid["every output"] / mid["before"],
                )
            )
        # The panel's work for one stroke, on a model file made from the base-like network.
        path = save_model(models["base"], folder / "base.keras", ModelMetadata(["a", "b", "c"]))
        classifier = Classifier.load(path)
        parts = {"look_inside": [], "pictures": [], "png": [], "prediction": []}
        patches = []
        for drawing in np.resize(x, (strokes, *x.shape[1:])):
            started = time.perf_counter()
            classifier.predict_batch(drawing[None])
            predicted = time.perf_counter()
            seen = inside.look_inside(classifier, drawing)
            looked = time.perf_counter()
            pictures = inside.pictures(seen, drawing)
            drawn = time.perf_counter()
            for picture in pictures.values():
                views.png_data_uri(picture.image)
            encoded = time.perf_counter()
            parts["prediction"].append(predicted - started)
            parts["look_inside"].append(looked - predicted)
            parts["pictures"].append(drawn - looked)
            parts["png"].append(encoded - drawn)
            patches.append(seen.patches)
    panel = [
        sum(values)
        for values in zip(parts["look_inside"], parts["pictures"], parts["png"], strict=True)
    ]
    figures.append(
        Figure(
            f"the panel's work per stroke (median of {strokes})",
            ms(median(panel)),
            f"the prediction's: {ms(median(parts['prediction']))}",
            median(panel) / median(parts["prediction"]),
        )
    )
    report.figures = figures
    report.details = [
        f"One drawing per call (starter drawings), {calls} calls of each, in alternating blocks; "
        "random weights. before: the export without the maps, through the signature runner "
        "(every output copied), as predictions ran before; now: the export with the maps "
        "through runtime.Runtime.run (the vectors only: the prediction path); every output: "
        "the export with the maps through the signature runner; with maps: "
        "Runtime.run(layers=True), the panel's call. Median (p95).",
        "",
        *md_table(["network", "before", "now", "every output", "with maps"], rows),
        "",
        f"The panel per stroke, base-like model, median of {strokes} drawings (ms): "
        f"look_inside {median(parts['look_inside']) * 1e3:.1f} (the drawing with its maps, then "
        f"{int(np.median(patches))} erased copies in one call), pictures "
        f"{median(parts['pictures']) * 1e3:.1f}, PNGs {median(parts['png']) * 1e3:.1f}; the "
        f"prediction itself {median(parts['prediction']) * 1e3:.2f}.",
    ]
    return report


def main(argv=None) -> int:
    import run as runner

    return runner.main(["--only", NAME, *(argv if argv is not None else sys.argv[1:])])


if __name__ == "__main__":
    sys.exit(main())
