"""Test accuracy against accuracy on people the model never saw, on real people's drawings.

The tutorial's lesson: 100 % on the author's own test drawings, 40 % on another person's. This
measures that gap the way `python -m shapecnn evaluate --by-person` does, on the Hand-drawn Shapes
people in --hds (../shared/hds): for each fold of bench_base.py, PEOPLE of that fold's people (a
base that never saw them, bench_base.fold_base) each give 15 train + 5 test drawings of ellipse,
rectangle and triangle, saved with their name (`drawn_by`) into one dataset. Per recipe:

- test accuracy:  a model trained on everyone's train split, scored on everyone's test split
                  (the number the Train view shows);
- never seen:     shapecnn.people.held_out_people: for each person, a model trained on everybody
                  else's drawings, scored on all of that person's (mean and worst person).

Run: python benchmarks/bench_people.py --hds ../shared/hds    (writes benchmarks/PEOPLE.md)
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import zlib
from datetime import date
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_base

from shapecnn import base as shape_base

OUTPUT = Path(__file__).resolve().parent / "PEOPLE.md"
PEOPLE = 8
CLASSES = ("ellipse", "rectangle", "triangle")
RECIPES = ("default", "scratch")


def fold_dataset(hds: Path, fold: int, root: Path) -> list[str]:
    """PEOPLE of the fold's people, 15 + 5 drawings per class each, saved with their names."""
    from shapecnn import dataset

    chosen = []
    for person in shape_base.hds_people(hds):
        if person.name not in bench_base.fold_people(shape_base.hds_people(hds), fold):
            continue
        files = {c: sorted((person / c).glob("*.png")) for c in CLASSES}
        if any(len(f) < 20 for f in files.values()):
            continue
        rng = np.random.default_rng(zlib.crc32(person.name.encode()))
        for label, paths in files.items():
            for index, i in enumerate(rng.permutation(len(paths))[:20]):
                split = "train" if index < 15 else "test"
                dataset.save_drawing(root, label, paths[i], split, drawn_by=person.name)
        chosen.append(person.name)
        if len(chosen) == PEOPLE:
            break
    return chosen


def measure(root: Path, weights: Path, folder: Path, recipe: str) -> dict:
    from shapecnn.people import held_out_people
    from shapecnn.training import train

    model = folder / f"{recipe}.keras"
    result = train(root, recipe, model_path=model, base_weights=weights)
    report = held_out_people(root, result.metadata, recipe=recipe, base_weights=weights)
    people = [p.accuracy for p in report.people]
    return {
        "test_accuracy": result.evaluation.accuracy,
        "test_count": result.evaluation.count,
        "never_seen": report.accuracy,
        "worst": min(people),
        "people": {p.name: p.accuracy for p in report.people},
    }


def write_table(rows: list[dict], commit: str) -> str:
    lines = [
        "# Test accuracy against accuracy on people the model never saw",
        "",
        f"{date.today().isoformat()}, commit {commit}, "
        "`python benchmarks/bench_people.py --hds ../shared/hds`. Each fold: "
        f"{PEOPLE} Hand-drawn Shapes people that fold's shape base never saw, 15 train + 5 test "
        "drawings of each class each; never seen = each person held out in turn "
        "(`evaluate --by-person`).",
        "",
        "| fold | recipe | test accuracy | on people never seen (mean) | worst person | gap |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['fold']} | {r['recipe']} | {r['test_accuracy']:.1%} of {r['test_count']} "
            f"| {r['never_seen']:.1%} | {r['worst']:.1%} "
            f"| {100 * (r['test_accuracy'] - r['never_seen']):+.1f} points |"
        )
    lines += [
        "",
        "The gap is what the model card reports as accuracy on people never seen beside the test "
        "accuracy: drawings in the test split come from the same people as the training "
        "drawings, so test accuracy says little about a new hand.",
        "",
    ]
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hds", type=Path, default=Path("../shared/hds"))
    parser.add_argument("--folds", type=int, nargs="*", default=list(range(bench_base.FOLDS)))
    args = parser.parse_args(argv)
    if not args.hds.is_dir():
        print(f"skipped: no Hand-drawn Shapes folder at {args.hds} (give --hds)")
        return 0
    rows = []
    with tempfile.TemporaryDirectory(prefix="shapecnn-people-bench-") as scratch:
        for fold in args.folds:
            weights = bench_base.fold_base(args.hds, fold, dict(shape_base.PRETRAIN_DEFAULTS))
            root = Path(scratch) / f"fold{fold}"
            chosen = fold_dataset(args.hds, fold, root)
            for recipe in RECIPES:
                row = {
                    "fold": fold,
                    "recipe": recipe,
                    **measure(root, weights, root.parent, recipe),
                }
                rows.append(row)
                print(json.dumps(row), flush=True)
            print(f"fold {fold}: {', '.join(chosen)}", flush=True)
    (bench_base.OUT / "people_results.json").write_text(json.dumps(rows, indent=1))
    OUTPUT.write_text(write_table(rows, bench_base.git_commit()))
    print(OUTPUT.read_text())
    return 0


if __name__ == "__main__":
    sys.exit(main())
