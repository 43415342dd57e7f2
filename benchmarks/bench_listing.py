"""Listing: what counting a dataset's drawings costs a page run, 300 and 3,000 drawings.

Every whole-page run counts the drawings of every class (the class buttons, the counts beside
them), and every save counts them again. `dataset.count_images` lists each class folder only
when it changed since it was last counted (shapecnn/dataset.py, `_image_count`). Measured in
one process on real folders: the count of a dataset nothing changed in, against the count
right after one drawing was added to each class (its folders listed again, as before the cache).

Target: counting an unchanged 3,000-drawing dataset costs at most 0.1x listing it.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(1, str(Path(__file__).resolve().parent.parent))

from common import Figure, Report, md_table

from shapecnn import dataset

NAME = "listing"
TITLE = "Listing: counting a dataset's drawings on every page run, 300 / 3,000 drawings"

SIZES, QUICK_SIZES = (300, 3000), (30,)
ROUNDS, QUICK_ROUNDS = 15, 1
CLASSES = ("circle", "rectangle", "triangle")
TARGET_RATIO = 0.1


def make_dataset(folder: Path, total: int) -> Path:
    """`total` small PNG files over three classes, three in four in train."""
    root = folder / f"data-{total}"
    for index in range(total):
        label = CLASSES[index % len(CLASSES)]
        split = "test" if index % 4 == 3 else "train"
        target = root / split / label
        target.mkdir(parents=True, exist_ok=True)
        (target / f"{index:06d}.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    return root


def settle() -> None:
    """Wait until the folders just written are older than the count's racy window."""
    time.sleep(dataset.RACY_NS / 1e9 + 0.1)


def timed(call) -> float:
    started = time.perf_counter()
    call()
    return time.perf_counter() - started


def measure(root: Path, rounds: int) -> dict:
    changed, unchanged = [], []
    for round_index in range(rounds):
        for label in CLASSES:
            (root / "train" / label / f"added-{round_index}.png").write_bytes(b"\x89PNG")
        settle()
        changed.append(timed(lambda: dataset.count_images(root)))
        unchanged += [timed(lambda: dataset.count_images(root)) for _ in range(5)]
    return {"changed": statistics.median(changed), "unchanged": statistics.median(unchanged)}


def run(quick: bool = False) -> Report:
    report = Report(NAME, TITLE, quick=quick)
    sizes, rounds = (QUICK_SIZES, QUICK_ROUNDS) if quick else (SIZES, ROUNDS)
    rows, results = [], {}
    with tempfile.TemporaryDirectory() as scratch:
        for total in sizes:
            root = make_dataset(Path(scratch), total)
            result = measure(root, rounds)
            results[total] = result
            rows.append(
                [
                    f"{total:,}",
                    f"{result['changed'] * 1000:.2f} ms",
                    f"{result['unchanged'] * 1000:.3f} ms",
                    f"{result['unchanged'] / result['changed']:.3f}x",
                ]
            )
    largest = results[sizes[-1]]
    ratio = largest["unchanged"] / largest["changed"]
    report.figures = [
        Figure(
            f"count of an unchanged dataset, {sizes[-1]:,} drawings",
            f"{largest['unchanged'] * 1000:.3f} ms",
            f"the same count after a save to every class: {largest['changed'] * 1000:.2f} ms",
            ratio,
            f"<= {TARGET_RATIO}x",
            ratio <= TARGET_RATIO,
        )
    ]
    report.details = [
        f"Median of {rounds} rounds: a drawing added to each class, the folders left to settle "
        f"({dataset.RACY_NS / 1e9:.0f} s, the count's racy window), then one count (every class "
        "folder listed again) and five more (nothing changed). "
        f"{os.cpu_count()} cores; the files are on the benchmark's temporary folder.",
        "",
        *md_table(["drawings", "after a change", "unchanged", "ratio"], rows),
    ]
    return report


def main(argv=None) -> int:
    import run as runner

    return runner.main(["--only", NAME, *(argv if argv is not None else sys.argv[1:])])


if __name__ == "__main__":
    sys.exit(main())
