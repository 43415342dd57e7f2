"""Scale: training time per epoch and peak memory on 300, 1,000 and 3,000 drawings.

Target (issue, part 5, training half): with 3,000 drawings (made with synth) the time per epoch
grows linearly with the data, and peak memory while training on 3,000 drawings stays under 1 GiB.
Each size trains in a fresh Python process (default recipe, fixed epochs, early stopping off), so
its peak resident memory (ru_maxrss) covers importing TensorFlow, reading the drawings and
training, and nothing else. The first epoch (tracing) is left out of the time per epoch.

The 3,000 drawings are generated once and kept in benchmarks/out/ (git ignores it).
"""

from __future__ import annotations

import argparse
import json
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

from common import OUT_DIR, ROOT, Figure, Report, md_table, ours_recipe, peak_rss_mib

NAME = "scale"
TITLE = "Scale: time per epoch and peak memory, 300 / 1,000 / 3,000 drawings"

SIZES = (300, 1000, 3000)
QUICK_SIZES = (9, 18)
EPOCHS, QUICK_EPOCHS = 6, 2
SEED = 11
MEMORY_LIMIT_MIB = 1024
# Per-drawing time at the largest size over that at the middle size: at most this (linear or
# better, with room for noise).
LINEARITY_LIMIT = 1.25


def synth_data(total: int, folder: Path) -> Path:
    """`total` drawings (a third per class), generated once and cached in `folder`."""
    from shapecnn.synth import synth_dataset

    root = folder / f"synth-{total}-seed{SEED}"
    if (root / ".complete").exists():
        return root
    folder.mkdir(parents=True, exist_ok=True)
    building = Path(tempfile.mkdtemp(prefix=".building-", dir=folder))
    synth_dataset(building, per_class=total // 3, seed=SEED)
    (building / ".complete").write_text("done\n")
    if root.exists():  # an interrupted earlier build
        import shutil

        shutil.rmtree(root)
    building.rename(root)
    return root


def subset(full: Path, total: int) -> Path:
    """The first total/3 drawings of each class of `full`, train and test in the same proportion,
    as hard links in a sibling folder."""
    from shapecnn import dataset

    target = full.parent / f"{full.name}-first-{total}"
    if (target / ".complete").exists():
        return target
    per_class = total // 3
    for label in dataset.list_classes(full):
        train = dataset.list_images(full, "train", label)
        test = dataset.list_images(full, "test", label)
        n_train = round(per_class * len(train) / (len(train) + len(test)))
        for split, files in (("train", train[:n_train]), ("test", test[: per_class - n_train])):
            folder = target / split / label
            folder.mkdir(parents=True, exist_ok=True)
            for path in files:
                if not (folder / path.name).exists():
                    os.link(path, folder / path.name)
    (target / ".complete").write_text("done\n")
    return target


def measure(root: Path, epochs: int) -> dict:
    """Train on `root` in this process: load and epoch times, and peak memory."""
    started = time.perf_counter()
    from shapecnn._tensorflow import tf  # noqa: F401
    from shapecnn.config import RECIPES
    from shapecnn.training import load_training_data, train

    imported = time.perf_counter()
    rss_after_import = peak_rss_mib()
    data = load_training_data(root)
    loaded = time.perf_counter()
    rss_after_load = peak_rss_mib()
    recipe = replace(RECIPES[ours_recipe()], epochs=epochs, early_stopping_patience=None)
    ends = []
    train(data, recipe, on_epoch_end=lambda *_: ends.append(time.perf_counter()))
    epoch_times = np.diff([loaded, *ends]).tolist()
    return {
        "drawings": len(data.train) + len(data.test),
        "train": len(data.train),
        "test": len(data.test),
        "import": imported - started,
        "load": loaded - imported,
        "epoch_times": epoch_times,
        "rss_after_import": rss_after_import,
        "rss_after_load": rss_after_load,
        "rss_peak": peak_rss_mib(),
    }


def measure_isolated(root: Path, epochs: int) -> dict:
    with tempfile.TemporaryDirectory() as scratch:
        output = Path(scratch) / "result.json"
        command = [
            sys.executable,
            __file__,
            "--child",
            str(root),
            "--epochs",
            str(epochs),
            "--output",
            str(output),
        ]
        subprocess.run(command, check=True, cwd=ROOT)
        return json.loads(output.read_text())


def run(quick: bool = False, isolate: bool | None = None) -> Report:
    isolate = not quick if isolate is None else isolate
    sizes, epochs = (QUICK_SIZES, QUICK_EPOCHS) if quick else (SIZES, EPOCHS)
    report = Report(NAME, TITLE, quick=quick)
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch) if quick else OUT_DIR / "scale"
        synth_started = time.perf_counter()
        full = synth_data(max(sizes), folder)
        synth_seconds = time.perf_counter() - synth_started
        results = {}
        for size in sizes:
            root = full if size == max(sizes) else subset(full, size)
            results[size] = measure_isolated(root, epochs) if isolate else measure(root, epochs)

    rows, per_drawing = [], {}
    for size, r in results.items():
        later = r["epoch_times"][1:] or r["epoch_times"]
        epoch = float(np.median(later))
        per_drawing[size] = epoch / r["drawings"]
        rows.append(
            [
                r["drawings"],
                f"{r['train']} / {r['test']}",
                f"{r['load']:.2f} s",
                f"{r['epoch_times'][0]:.2f} s",
                f"{epoch:.3f} s",
                f"{per_drawing[size] * 1e3:.3f} ms",
                f"{r['rss_after_import']:.0f} MiB",
                f"{r['rss_after_load']:.0f} MiB",
                f"{r['rss_peak']:.0f} MiB",
            ]
        )
    largest, middle = sizes[-1], sizes[-2]
    linearity = per_drawing[largest] / per_drawing[middle]
    big = results[largest]
    drawings = np.array([results[s]["drawings"] for s in sizes], float)
    epoch_seconds = np.array([per_drawing[s] * results[s]["drawings"] for s in sizes])
    slope, intercept = np.polyfit(drawings, epoch_seconds, 1)
    fitted = intercept + slope * drawings
    worst_residual = float(np.max(np.abs(epoch_seconds - fitted) / epoch_seconds))

    report.figures = [
        Figure(
            f"time per epoch per drawing at {big['drawings']:,}",
            f"{per_drawing[largest] * 1e3:.3f} ms",
            f"at {results[middle]['drawings']:,}: {per_drawing[middle] * 1e3:.3f} ms",
            linearity,
            f"<= {LINEARITY_LIMIT:g}x (linear)",
            linearity <= LINEARITY_LIMIT,
        ),
        Figure(
            f"peak memory training on {big['drawings']:,} drawings",
            f"{big['rss_peak']:.0f} MiB",
            f"after importing TensorFlow: {big['rss_after_import']:.0f} MiB",
            big["rss_peak"] / big["rss_after_import"],
            f"< {MEMORY_LIMIT_MIB} MiB",
            big["rss_peak"] < MEMORY_LIMIT_MIB,
        ),
    ]
    report.details += [
        f"Recipe {ours_recipe()!r} with {epochs} epochs and early stopping off; "
        f"{'each size in a fresh process' if isolate else 'all sizes in this process'}. "
        f"Drawings: synth seed {SEED}, "
        + (f"generated in {synth_seconds:.0f} s" if synth_seconds > 1 else "from the cache")
        + f". Time per epoch = median of epochs 2..{epochs}. Peak memory = ru_maxrss of the "
        "process (import, reading the drawings, training).",
        "",
        *md_table(
            [
                "drawings",
                "train / test",
                "read + preprocess",
                "epoch 1 (tracing)",
                "later epoch",
                "per drawing",
                "peak RSS after import",
                "after reading",
                "peak RSS",
            ],
            rows,
        ),
        "",
        f"Straight-line fit of seconds per epoch: {intercept:.3f} s + {slope * 1e3:.3f} ms per "
        f"drawing; largest deviation of a measurement from the line: {worst_residual:.0%}.",
    ]
    return report


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="Train on one dataset; write times and memory.")
    parser.add_argument("--child", type=Path, required=True, help="dataset folder")
    parser.add_argument("--epochs", type=int, required=True)
    parser.add_argument("--output", type=Path, required=True)
    args = parser.parse_args(argv)
    args.output.write_text(json.dumps(measure(args.child, args.epochs)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
