"""Prediction runtime: LiteRT against ONNX Runtime on the networks we ship, in one run.

Issue 12, part 1: predictions go through a maintained runtime. Both candidates are measured here
side by side, on the two networks a model file can hold:

- the tutorial CNN (shapecnn.model.build_model, with the features of its Dense(128) as a second
  output, as shapecnn.model.export_model exports it);
- a base-like model: shapecnn.base.build_base and a Dense softmax head, with two outputs
  [probabilities, embedding], as training from the shape base builds it.

Each is exported with Keras' own `model.export(path, format="litert")` and `format="onnx"`
(tf2onnx), then run by `ai_edge_litert.interpreter.Interpreter(num_threads=1)` and by
`onnxruntime.InferenceSession` with one intra-op and one inter-op thread. Measured:

- import time of the runtime, in a fresh Python process (median of 5, the runtimes alternating);
- load time (bytes -> a session ready to run) and peak RSS after loading and one call, in a
  fresh Python process per measurement (median of 5), beside a bare `import numpy` process;
- per call on one drawing: median and p95 of 300 calls on starter drawings, in this process,
  in alternating blocks so that both see the same noise;
- the largest |difference| to Keras on 64 drawings, over both outputs;
- export time (median of 3, alternating).

No target: the figures pick the runtime. Weights are random (speed does not depend on them).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from common import ROOT, Figure, Report, interleaved, md_table, median, ms, percentile, secs

NAME = "runtime"
TITLE = "runtime: Prediction runtime: LiteRT vs ONNX Runtime"

RUNTIMES = ("litert", "onnx")
LABELS = {"litert": "LiteRT", "onnx": "ONNX Runtime"}
SUFFIX = {"litert": ".tflite", "onnx": ".onnx"}
IMPORTS = {
    "litert": "from ai_edge_litert.interpreter import Interpreter",
    "onnx": "import onnxruntime",
}

# Run in a fresh process: import, load from bytes, one call; print times and peak memory.
_CHILD = r"""
import json, sys, time
started = time.perf_counter()
import numpy as np
numpy_seconds = time.perf_counter() - started
kind, path, mode = sys.argv[1], sys.argv[2], sys.argv[3]


def peak_mib():
    # VmHWM, not ru_maxrss: Linux carries ru_maxrss over exec from the parent (TensorFlow here).
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024


if mode == "numpy":
    print(json.dumps({"rss_import": peak_mib(), "numpy": numpy_seconds}))
    sys.exit(0)
clock = time.perf_counter()
if kind == "litert":
    from ai_edge_litert.interpreter import Interpreter
else:
    import onnxruntime
imported = time.perf_counter() - clock
if mode == "import":
    print(json.dumps({"import": imported, "with_numpy": imported + numpy_seconds}))
    sys.exit(0)
rss_import = peak_mib()
content = open(path, "rb").read()
clock = time.perf_counter()
if kind == "litert":
    interpreter = Interpreter(model_content=content, num_threads=1)
    interpreter.allocate_tensors()
    runner = interpreter.get_signature_runner("serving_default")
    (name,) = runner.get_input_details()
    call = lambda x: runner(**{name: x})
else:
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    session = onnxruntime.InferenceSession(
        content, options, providers=["CPUExecutionProvider"]
    )
    name = session.get_inputs()[0].name
    call = lambda x: session.run(None, {name: x})
loaded = time.perf_counter() - clock
rss_load = peak_mib()
x = np.ones((1, 24, 24, 3), np.float32)
clock = time.perf_counter()
call(x)
first = time.perf_counter() - clock
print(json.dumps({
    "import": imported, "load": loaded, "first_call": first, "rss_import": rss_import,
    "rss_load": rss_load, "rss_call": peak_mib(),
}))
"""


def _child(kind: str, path: Path | str, mode: str) -> dict:
    completed = subprocess.run(
        [sys.executable, "-c", _CHILD, kind, str(path), mode],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
        check=False,
    )
    if completed.returncode != 0:
        raise RuntimeError(f"{kind} {mode} child failed: {completed.stderr[-1500:]}")
    return json.loads(completed.stdout.strip().splitlines()[-1])


def build_networks() -> dict:
    """{name: Keras model with outputs [probabilities, embedding]}."""
    from shapecnn._tensorflow import keras
    from shapecnn.base import build_base
    from shapecnn.model import build_model, export_model

    keras.utils.set_random_seed(5)
    tutorial = export_model(build_model(3))
    base = build_base((24, 24, 3))
    drawing = keras.Input((24, 24, 3), name="drawing")
    embedding = base(drawing)
    if isinstance(embedding, (list, tuple)):  # the base may also return its kinds head
        embedding = embedding[0]
    head = keras.layers.Dense(3, activation="softmax", name="probabilities")
    based = keras.Model(drawing, [head(embedding), embedding], name="shapecnn_base")
    return {"tutorial CNN": tutorial, "base + head": based}


def export(model, path: Path, kind: str) -> float:
    from shapecnn._tensorflow import native_output_silenced

    started = time.perf_counter()
    with native_output_silenced():
        model.export(str(path), format=kind, verbose=False)
    return time.perf_counter() - started


def in_process_callers(path: Path, kind: str):
    """A function running one batch through the export, as the page would call it."""
    content = path.read_bytes()
    if kind == "litert":
        from ai_edge_litert.interpreter import Interpreter

        interpreter = Interpreter(model_content=content, num_threads=1)
        interpreter.allocate_tensors()
        runner = interpreter.get_signature_runner("serving_default")
        (name,) = runner.get_input_details()
        outputs = sorted(runner.get_output_details())  # output_0, output_1

        def call(x):
            result = runner(**{name: x})
            return [result[key] for key in outputs]

        return call
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    session = onnxruntime.InferenceSession(content, options, providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    return lambda x: session.run(None, {name: x})


def drawings(quick: bool) -> np.ndarray:
    """Preprocessed drawings of the starter data (a tiny synth set in a quick run)."""
    from common import tiny_dataset

    from shapecnn.config import DEFAULT_DATA
    from shapecnn.training import load_training_data

    data = load_training_data(tiny_dataset() if quick else DEFAULT_DATA)
    x = np.concatenate([data.train.x, data.test.x]).astype(np.float32)
    return np.resize(x, (64, *x.shape[1:])) if len(x) < 64 else x


def run(quick: bool = False) -> Report:
    report = Report(NAME, TITLE, quick=quick)
    repeats, calls, exports = (2, 30, 1) if quick else (5, 300, 3)
    networks = build_networks()
    x = drawings(quick)
    check = x[:64]
    rows, results = [], {}
    with tempfile.TemporaryDirectory(prefix="shapecnn-runtime-") as scratch:
        folder = Path(scratch)
        paths = {
            (net, kind): folder / f"{i}{SUFFIX[kind]}"
            for i, net in enumerate(networks)
            for kind in RUNTIMES
        }
        export_times = {key: [] for key in paths}
        for _ in range(exports):
            for (net, kind), path in paths.items():
                export_times[(net, kind)].append(export(networks[net], path, kind))

        # Import time: a fresh process each, the runtimes alternating.
        import_times = {kind: [] for kind in RUNTIMES}
        with_numpy = {kind: [] for kind in RUNTIMES}
        for _ in range(repeats):
            for kind in RUNTIMES:
                timed = _child(kind, "", "import")
                import_times[kind].append(timed["import"])
                with_numpy[kind].append(timed["with_numpy"])
        bare = [_child("litert", "", "numpy")["rss_import"] for _ in range(2)]

        # Load time and memory: a fresh process each.
        loads = {key: [] for key in paths}
        for _ in range(repeats):
            for key, path in paths.items():
                loads[key].append(_child(key[1], path, "load"))

        # Per call, and agreement with Keras.
        callers = {key: in_process_callers(path, key[1]) for key, path in paths.items()}
        differences = {}
        for (net, kind), call in callers.items():
            expected = [np.asarray(t) for t in networks[net](check, training=False)]
            one_by_one = [call(d[None]) for d in check]  # as the page calls it
            got = [np.concatenate(parts) for parts in zip(*one_by_one, strict=True)]
            differences[(net, kind)] = max(
                float(np.max(np.abs(e - g))) for e, g in zip(expected, got, strict=True)
            )
        position = {"i": 0}

        def one_drawing():
            position["i"] = (position["i"] + 1) % len(x)
            return x[position["i"] : position["i"] + 1]

        candidates = {key: (lambda c=call: c(one_drawing())) for key, call in callers.items()}
        for function in candidates.values():
            for _ in range(10):
                function()
        cpu: dict = {}
        samples = interleaved(candidates, calls, cpu=cpu)
        sizes = {key: path.stat().st_size for key, path in paths.items()}

    for key in paths:
        net, kind = key
        load = [r["load"] for r in loads[key]]
        results[key] = {
            "import": median(import_times[kind]),
            "load": median(load),
            "call": median(samples[key]),
            "p95": percentile(samples[key], 95),
            "cpu": cpu[key],
            "rss": median([r["rss_call"] for r in loads[key]]),
            "rss_load": median([r["rss_load"] for r in loads[key]]),
            "difference": differences[key],
            "export": median(export_times[key]),
            "size": sizes[key],
        }
    for (net, kind), r in results.items():
        rows.append(
            [
                net,
                LABELS[kind],
                ms(r["import"]),
                ms(r["load"]),
                ms(r["call"]),
                ms(r["p95"]),
                ms(r["cpu"]),
                f"{r['rss']:.0f} MiB",
                f"{r['difference']:.1e}",
                secs(r["export"]),
            ]
        )

    litert_import, onnx_import = (median(import_times[k]) for k in RUNTIMES)
    litert_total, onnx_total = (median(with_numpy[k]) for k in RUNTIMES)
    report.figures += [
        Figure(
            f"import after numpy, fresh process (median of {repeats})",
            f"LiteRT {ms(litert_import)}",
            f"ONNX Runtime: {ms(onnx_import)}",
            litert_import / onnx_import,
        ),
        Figure(
            f"import with numpy, fresh process (median of {repeats})",
            f"LiteRT {ms(litert_total)}",
            f"ONNX Runtime: {ms(onnx_total)}",
            litert_total / onnx_total,
        ),
    ]
    verdict = []
    for net in networks:
        lite, onnx = results[(net, "litert")], results[(net, "onnx")]
        report.figures += [
            Figure(
                f"{net}: per call, median of {calls}",
                f"LiteRT {ms(lite['call'])}",
                f"ONNX Runtime: {ms(onnx['call'])}",
                lite["call"] / onnx["call"],
            ),
            Figure(
                f"{net}: load",
                f"LiteRT {ms(lite['load'])}",
                f"ONNX Runtime: {ms(onnx['load'])}",
                lite["load"] / onnx["load"],
            ),
            Figure(
                f"{net}: peak RSS after load and one call",
                f"LiteRT {lite['rss']:.0f} MiB",
                f"ONNX Runtime: {onnx['rss']:.0f} MiB",
                lite["rss"] / onnx["rss"],
            ),
        ]
        for what, key, unit in (
            ("per call", "call", ms),
            ("p95", "p95", ms),
            ("load", "load", ms),
            ("memory", "rss", lambda v: f"{v:.0f} MiB"),
            ("export", "export", secs),
        ):
            verdict.append(
                f"{net}, {what}: {_winner(lite[key], onnx[key])} "
                f"({unit(lite[key])} vs {unit(onnx[key])}, "
                f"LiteRT/ONNX {lite[key] / onnx[key]:.2f}x)"
            )
    import_winner = _winner(litert_import, onnx_import)
    verdict.insert(
        0,
        f"import: {import_winner} ({ms(litert_import)} vs {ms(onnx_import)} after numpy, "
        f"{ms(litert_total)} vs {ms(onnx_total)} with it; "
        f"LiteRT/ONNX {litert_import / onnx_import:.2f}x)",
    )
    report.details += [
        f"Both networks exported by Keras' `model.export` in this run; one thread each. Import: "
        f"a fresh `python -c` process per measurement, median of {repeats}, alternating; the "
        "table's import is the runtime's own (numpy already imported, as in the page's "
        "process), the figures above also give it with numpy's import. Load "
        f"(bytes -> ready session) and peak RSS (after load and one call): a fresh process per "
        f"measurement, median of {repeats}; a bare `import numpy` process peaks at "
        f"{median(bare):.0f} MiB. Per call: one drawing (1 x 24 x 24 x 3, starter drawings in "
        f"turn), {calls} calls each, in alternating blocks of 25, in this process (TensorFlow "
        "loaded too, as in a benchmark; the page has no TensorFlow). Difference: the largest "
        f"|Keras - runtime| over both outputs on {len(check)} drawings. Export: median of "
        f"{exports}.",
        "",
        *md_table(
            [
                "network",
                "runtime",
                "import (after numpy)",
                "load",
                "per call (median)",
                "p95",
                "CPU per call",
                "peak RSS",
                "max |diff| to Keras",
                "export",
            ],
            rows,
        ),
        "",
        "Which wins on what (this run):",
        "",
        *[f"- {line}" for line in verdict],
        "",
        "Peak RSS right after loading (before the first call): "
        + "; ".join(
            f"{net} {LABELS[kind]} {r['rss_load']:.0f} MiB" for (net, kind), r in results.items()
        )
        + ". File sizes: "
        + "; ".join(
            f"{net} {LABELS[kind]} {r['size'] / 1024:.0f} KiB" for (net, kind), r in results.items()
        )
        + ".",
    ]
    return report


def _winner(litert: float, onnx: float) -> str:
    """Who is lower; within 10 % of each other is too close to call on a shared machine."""
    if abs(litert / onnx - 1) < 0.1:
        return "about even"
    return "LiteRT" if litert < onnx else "ONNX Runtime"
