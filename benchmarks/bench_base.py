"""Learning from few drawings with the shape base, measured on people and kinds it never saw.

Real people: the Hand-drawn Shapes people in --hds (../shared/hds). They are split into FOLDS
folds; for each fold a base is pretrained (the shipped recipe, shapecnn.base) WITHOUT that
fold's people and without that fold's held-out synthetic kinds, then:

- per person:  each held-out person's own 15 train + 5 test drawings per class (ellipse,
               rectangle, triangle) train a model (default recipe, from that fold's base); it is
               scored on the rest of that person's drawings. Mean and worst person.
- new classes: the starter data plus 15 + 5 drawings of each of two held-out kinds by one
               synthetic hand the base never saw; scored per class on 100 more drawings of the
               new kinds by that hand and, for the starter classes, on the held-out people's real
               drawings (ellipse scored as circle) and on synthetic strangers. One pair of new
               kinds is far from the starter classes, the other close to one (a turn or a
               shear of a rectangle, half a circle).
- not sure:    the starter model (starter data, that fold's base): share flagged of the held-out
               people's `other` drawings, of synthetic non-shapes (lines, dots, scribbles,
               half-drawn shapes, several shapes) and of held-out kinds; and the false alarms,
               the share of the held-out people's ellipses, rectangles and triangles flagged.
- judgement:   (--own-weights) per person and new classes again with the head's weight
               against the base's judgement (shapecnn.novelty) set to each given value.
- time:        `python -m shapecnn train` end to end on starter data + two new classes, default
               recipe against the tutorial recipe, same run.

Run: python benchmarks/bench_base.py --hds ../shared/hds     (writes benchmarks/BASE.md)
Fold bases are cached in benchmarks/out/bases/ (git ignores it), keyed by their recipe.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import zlib
from datetime import date
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from shapecnn import base as shape_base
from shapecnn import synth
from shapecnn.config import DEFAULT_DATA
from shapecnn.preprocess import DEFAULT_CONFIG, preprocess

OUT = Path(__file__).resolve().parent / "out"
OUTPUT = Path(__file__).resolve().parent / "BASE.md"
FOLDS = 2
# Kinds each fold's base never sees, and the pairs of them added as new classes.
HELD_OUT_PAIRS = (
    (("star5", "heart"), ("diamond", "parallelogram")),
    (("crescent", "arrow"), ("semicircle", "trapezoid")),
)
STARTER = ("circle", "rectangle", "triangle")
HDS_AS_STARTER = {"ellipse": "circle", "rectangle": "rectangle", "triangle": "triangle"}


def hds_folder(description: str, argv=None) -> Path | None:
    """The --hds folder of a benchmark that only takes that; None (said once) when it is not
    there, so the benchmark skips."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--hds", type=Path, default=Path("../shared/hds"))
    hds = parser.parse_args(argv).hds
    if not hds.is_dir():
        print(f"skipped: no Hand-drawn Shapes folder at {hds} (give --hds)")
        return None
    return hds


def git_commit() -> str:
    result = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    return result.stdout.strip() or "unknown"


def fold_people(people: list[Path], fold: int) -> list[str]:
    return [p.name for i, p in enumerate(people) if i % FOLDS == fold]


def fold_base(hds: Path, fold: int | None, settings: dict) -> Path:
    """The base for a fold (None: every person, every kind), pretrained once and cached."""
    people = shape_base.hds_people(hds)
    held_people = fold_people(people, fold) if fold is not None else []
    held_kinds = [k for pair in HELD_OUT_PAIRS[fold] for k in pair] if fold is not None else []
    kinds = [k for k in synth.KINDS if k not in held_kinds]
    recipe = {
        **settings,
        "kinds": kinds,
        "exclude_people": held_people,
        "preprocess": DEFAULT_CONFIG.to_dict(),
    }
    key = hashlib.sha256(json.dumps(recipe, sort_keys=True).encode()).hexdigest()[:10]
    path = OUT / "bases" / f"fold{fold}-{key}.weights.h5"
    if path.is_file():
        return path
    started = time.perf_counter()
    corpus = shape_base.build_corpus(
        kinds, settings["per_kind"], settings["seed"], hds, exclude_people=held_people
    )
    print(f"fold {fold}: corpus {len(corpus)} drawings, {len(corpus.kinds)} kinds", flush=True)
    trained, _ = shape_base.pretrain(
        corpus,
        epochs=settings["epochs"],
        seed=settings["seed"],
        on_epoch_end=lambda e, logs: print(f"  epoch {e + 1}: {logs}", flush=True),
    )
    shape_base.write_base(trained, {**recipe, "kinds": corpus.kinds}, path)
    print(f"fold {fold}: pretrained in {time.perf_counter() - started:.0f} s", flush=True)
    return path


# --- training a model on arrays, through the real train() and a real model file -------------


def training_data(class_names, train_x, train_y, test_x, test_y):
    from shapecnn.dataset import Samples
    from shapecnn.training import TrainingData

    def samples(x, y, split):
        return Samples(
            np.asarray(x, np.float32),
            np.asarray(y, np.int64),
            [Path(f"/nonexistent/{split}/{i}.png") for i in range(len(y))],
            list(class_names),
        )

    counts = {
        name: {"train": int(np.sum(train_y == i)), "test": int(np.sum(test_y == i))}
        for i, name in enumerate(class_names)
    }
    return TrainingData(
        list(class_names),
        samples(train_x, train_y, "train"),
        samples(test_x, test_y, "test"),
        counts,
    )


def fit(data, weights: Path, folder: Path, recipe="default"):
    """A Classifier (LiteRT, with its "not sure" test) trained on `data` from `weights`."""
    from shapecnn.inference import Classifier
    from shapecnn.training import train

    path = folder / f"m-{time.monotonic_ns()}.keras"
    train(data, recipe, model_path=path, base_weights=weights)
    return Classifier.load(path)


def scores(classifier, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(predicted class index, unsure flag) per drawing."""
    predictions = []
    for start in range(0, len(x), 256):
        predictions += classifier.predict_batch(x[start : start + 256])
    index = {name: i for i, name in enumerate(classifier.classes)}
    return (
        np.array([index[p.label] for p in predictions]),
        np.array([p.unsure for p in predictions]),
    )


def split_person(drawings: dict, rng, per_class=(15, 5)):
    """(train x, train y, test x, test y, rest x, rest y) of one person's three classes."""
    parts = [[], [], [], [], [], []]
    for label, name in enumerate(("ellipse", "rectangle", "triangle")):
        x = drawings[name][rng.permutation(len(drawings[name]))]
        a, b = per_class
        for slot, chunk in enumerate((x[:a], x[a : a + b], x[a + b :])):
            parts[2 * slot].append(chunk)
            parts[2 * slot + 1].append(np.full(len(chunk), label))
    return [np.concatenate(p) for p in parts]


def synthetic(kind: str, count: int, seed: int, hand=None) -> np.ndarray:
    rng = np.random.default_rng(seed)
    xs = []
    for _ in range(count):
        size = int(rng.integers(200, 401))
        drawer = hand if hand is not None else synth.random_hand(rng)
        xs.append(preprocess(synth.draw_shape(kind, rng, hand=drawer, canvas_size=size)))
    return np.stack(xs)


def starter_arrays():
    from shapecnn.training import load_training_data

    data = load_training_data(DEFAULT_DATA)
    return data.train.x, data.train.y, data.test.x, data.test.y


# --- the measurements ---------------------------------------------------------------------------


def per_person(
    hds: Path, fold: int, weights: Path, folder: Path, rows: list, recipe="default"
) -> None:
    people = shape_base.hds_people(hds)
    for person in people:
        if person.name not in fold_people(people, fold):
            continue
        drawings = shape_base.load_hds_person(person)
        if any(len(drawings.get(c, [])) < 25 for c in ("ellipse", "rectangle", "triangle")):
            continue
        rng = np.random.default_rng(zlib.crc32(person.name.encode()))  # the same split every run
        tx, ty, vx, vy, rx, ry = split_person(drawings, rng)
        names = ["ellipse", "rectangle", "triangle"]
        classifier = fit(training_data(names, tx, ty, vx, vy), weights, folder, recipe)
        predicted, unsure = scores(classifier, rx)
        rows.append(
            {
                "fold": fold,
                "person": person.name,
                "scored": len(ry),
                "accuracy": float(np.mean(predicted == ry)),
                "unsure": float(np.mean(unsure)),
            }
        )
        print(f"  {person.name}: {rows[-1]['accuracy']:.1%} on {len(ry)}", flush=True)


def held_out_real(hds: Path, fold: int, cap: int = 60) -> dict[str, np.ndarray]:
    """The fold's people's drawings by class (at most `cap` per person and class)."""
    people = shape_base.hds_people(hds)
    found: dict[str, list] = {}
    for person in people:
        if person.name in fold_people(people, fold):
            for name, x in shape_base.load_hds_person(person).items():
                found.setdefault(name, []).append(x[:cap])
    return {name: np.concatenate(xs) for name, xs in found.items()}


def new_classes(
    fold: int, weights: Path, real: dict, folder: Path, rows: list, recipe="default"
) -> None:
    sx, sy, tx, ty = starter_arrays()
    strangers = {k: synthetic(k, 100, 500 + fold * 10 + i) for i, k in enumerate(STARTER)}
    for pair_index, pair in enumerate(HELD_OUT_PAIRS[fold]):
        rng = np.random.default_rng([fold, pair_index, 99])
        hand = synth.random_hand(rng, "new-class hand")
        names = [*STARTER, *pair]
        xs, ys, vxs, vys, scored = [sx], [sy], [tx], [ty], {}
        for offset, kind in enumerate(pair):
            label = len(STARTER) + offset
            drawn = synthetic(kind, 120, 1000 + 97 * fold + 13 * pair_index + offset, hand)
            xs.append(drawn[:15])
            ys.append(np.full(15, label))
            vxs.append(drawn[15:20])
            vys.append(np.full(5, label))
            scored[kind] = drawn[20:]
        classifier = fit(
            training_data(
                names,
                np.concatenate(xs),
                np.concatenate(ys),
                np.concatenate(vxs),
                np.concatenate(vys),
            ),
            weights,
            folder,
            recipe,
        )
        row = {"fold": fold, "new": " + ".join(pair), "per_class": {}, "real_old": {}}
        for label, name in enumerate(names):
            x = scored[name] if name in scored else strangers[name]
            predicted, _ = scores(classifier, x)
            row["per_class"][name] = float(np.mean(predicted == label))
        for hds_name, name in HDS_AS_STARTER.items():
            predicted, _ = scores(classifier, real[hds_name])
            row["real_old"][name] = float(np.mean(predicted == names.index(name)))
        rows.append(row)
        print(f"  new {pair}: {row}", flush=True)


def judgement_scan(hds: Path, own_weights, settings: dict, folder: Path) -> list[dict]:
    """Per person and new classes with each head weight against the base's judgement."""
    from shapecnn.config import resolve_recipe

    rows = []
    for own_weight in own_weights:
        recipe = resolve_recipe("default", own_weights=(own_weight,))
        people, added = [], []
        for fold in range(FOLDS):
            weights = fold_base(hds, fold, settings)
            per_person(hds, fold, weights, folder, people, recipe)
            new_classes(fold, weights, held_out_real(hds, fold), folder, added, recipe)
        accuracies = [r["accuracy"] for r in people]
        rows.append(
            {
                "own_weight": own_weight,
                "mean": float(np.mean(accuracies)),
                "worst": float(np.min(accuracies)),
                "new_overall": float(
                    np.mean([np.mean(list(r["per_class"].values())) for r in added])
                ),
                "new_worst": float(min(min(r["per_class"].values()) for r in added)),
                "real_old": float(np.mean([np.mean(list(r["real_old"].values())) for r in added])),
            }
        )
        print(f"own weight {own_weight}: {rows[-1]}", flush=True)
    return rows


def not_sure(fold: int, weights: Path, real: dict, folder: Path, rows: list) -> None:
    sx, sy, tx, ty = starter_arrays()
    classifier = fit(training_data(STARTER, sx, sy, tx, ty), weights, folder)
    row = {"fold": fold}
    if "other" in real:
        row["hds_other"] = float(np.mean(scores(classifier, real["other"])[1]))
    for i, kind in enumerate(synth.NON_SHAPES):
        row[kind] = float(np.mean(scores(classifier, synthetic(kind, 60, 700 + i))[1]))
    held = [k for pair in HELD_OUT_PAIRS[fold] for k in pair]
    row["unknown_kinds"] = float(
        np.mean(
            np.concatenate(
                [scores(classifier, synthetic(k, 40, 800 + i))[1] for i, k in enumerate(held)]
            )
        )
    )
    alarms = [scores(classifier, real[name])[1] for name in HDS_AS_STARTER]
    row["false_alarms_real"] = float(np.mean(np.concatenate(alarms)))
    # The starter model on real people's drawings of its own classes, against the tutorial CNN
    # trained from scratch on the same starter data (the default recipe before the base).
    scratch = fit(training_data(STARTER, sx, sy, tx, ty), weights, folder, recipe="scratch")
    for name, model in (("default", classifier), ("scratch", scratch)):
        row[f"real_{name}"] = {
            starter: float(np.mean(scores(model, real[hds])[0] == STARTER.index(starter)))
            for hds, starter in HDS_AS_STARTER.items()
        }
    strangers = [scores(classifier, synthetic(k, 100, 900 + i))[1] for i, k in enumerate(STARTER)]
    row["false_alarms_synthetic"] = float(np.mean(np.concatenate(strangers)))
    rows.append(row)
    print(f"  not sure: {row}", flush=True)


def cli_train_seconds(folder: Path) -> dict[str, float]:
    """End-to-end `python -m shapecnn train` on starter data + two new classes, both recipes."""
    data = folder / "plus2"
    shutil.copytree(DEFAULT_DATA, data)
    rng = np.random.default_rng(5)
    hand = synth.random_hand(rng, "timing")
    for kind in ("star5", "heart"):
        for index in range(20):
            image = synth.draw_shape(kind, rng, hand=hand)
            split = "test" if index % 4 == 0 else "train"
            target = data / split / kind
            target.mkdir(parents=True, exist_ok=True)
            image.save(target / f"{index}.png")
    seconds = {}
    for recipe in ("default", "tutorial"):
        started = time.perf_counter()
        subprocess.run(
            [
                sys.executable,
                "-m",
                "shapecnn",
                "train",
                "--data",
                str(data),
                "--recipe",
                recipe,
                "--model",
                str(folder / f"{recipe}.keras"),
            ],
            check=True,
            capture_output=True,
            cwd=Path(__file__).resolve().parent.parent,
        )
        seconds[recipe] = time.perf_counter() - started
    return seconds


def page_train_seconds(folder: Path) -> dict[str, float]:
    """What the page's Train click and a learn-as-you-save update cost: the page's own job
    registry (a warm child process, as the page starts it at page load), from start() to the
    new model file loaded and answering a drawing. The tutorial recipe through the same path."""
    from shapecnn.config import LEARN_AS_YOU_SAVE, resolve_recipe
    from shapecnn.inference import Classifier
    from shapecnn.jobs import JobRegistry

    data = folder / "plus2"  # made by cli_train_seconds
    model = folder / "page.keras"
    probe = synthetic("circle", 1, 3)
    registry = JobRegistry()
    registry.warm_up(model)

    def click(recipe) -> float:
        started = time.perf_counter()
        job, _ = registry.start(data, model, recipe)
        job.join()
        snapshot = job.snapshot()
        assert snapshot.state == "done", snapshot.error
        Classifier.load(model).predict_batch(probe)
        return time.perf_counter() - started

    try:
        time.sleep(15)  # the warm-up imports TensorFlow and the base, as after a page load
        seconds = {"first click": click(resolve_recipe())}
        image = synth.draw_shape("heart", np.random.default_rng(77))
        image.save(data / "train" / "heart" / "one-more.png")
        seconds["learn as you save"] = click(resolve_recipe(**LEARN_AS_YOU_SAVE))
        seconds["tutorial"] = click(resolve_recipe("tutorial"))
    finally:
        registry.shutdown()
    return seconds


def write_table(results: dict) -> str:
    people = results["per_person"]
    accuracies = [r["accuracy"] for r in people]
    lines = [
        "# The shape base: few drawings, people and kinds it never saw",
        "",
        f"{date.today().isoformat()}, commit {results.get('accuracy_commit', results['commit'])}, "
        f"`python benchmarks/bench_base.py --hds ../shared/hds`; {FOLDS} folds of the "
        "Hand-drawn Shapes people, each fold's base pretrained without its people and without "
        "its held-out kinds.",
        "",
        "## Per person: own 15 + 5 drawings per class, scored on the rest of theirs",
        "",
        f"**Mean {np.mean(accuracies):.1%}, worst {np.min(accuracies):.1%}** over "
        f"{len(people)} people (targets: mean >= 95 %, worst >= 85 %).",
        "",
        "| fold | person | drawings scored | accuracy | flagged not sure |",
        "|---|---|---:|---:|---:|",
    ]
    for r in people:
        lines.append(
            f"| {r['fold']} | {r['person']} | {r['scored']} | {r['accuracy']:.1%} "
            f"| {r['unsure']:.1%} |"
        )
    lines += [
        "",
        "## New classes: starter data + 15 + 5 drawings of each of two unseen kinds",
        "",
        "Per class; starter classes on synthetic strangers, and (last columns) on the held-out "
        "people's real drawings. Overall is the mean over the five classes.",
        "",
        "| fold | new classes | overall | " + " | ".join(["class accuracies"]) + " | real circle"
        " / rectangle / triangle |",
        "|---|---|---:|---|---|",
    ]
    for r in results["new_classes"]:
        per = r["per_class"]
        lines.append(
            f"| {r['fold']} | {r['new']} | {np.mean(list(per.values())):.1%} | "
            + ", ".join(f"{k} {v:.1%}" for k, v in per.items())
            + " | "
            + " / ".join(f"{v:.1%}" for v in r["real_old"].values())
            + " |"
        )
    lines += [
        "",
        "## Not sure: the starter model on what is none of its classes",
        "",
        "| fold | HDS other | " + " | ".join(synth.NON_SHAPES) + " | unseen kinds | false alarms,"
        " real | false alarms, synthetic |",
        "|---|---:|" + "---:|" * (len(synth.NON_SHAPES) + 3),
    ]
    for r in results["not_sure"]:
        lines.append(
            f"| {r['fold']} | {r.get('hds_other', float('nan')):.1%} | "
            + " | ".join(f"{r[k]:.1%}" for k in synth.NON_SHAPES)
            + f" | {r['unknown_kinds']:.1%} | {r['false_alarms_real']:.1%} | "
            f"{r['false_alarms_synthetic']:.1%} |"
        )
    lines += [
        "",
        "## The starter model on real people's drawings of its classes",
        "",
        "Starter data only; the held-out people's ellipses (scored as circle, flat ones included),",
        "rectangles and triangles. Default recipe (from that fold's base) against `scratch` (the",
        "tutorial CNN from scratch, the default before the base), same run.",
        "",
        "| fold | recipe | circle | rectangle | triangle |",
        "|---|---|---:|---:|---:|",
    ]
    for r in results["not_sure"]:
        for name in ("default", "scratch"):
            acc = r[f"real_{name}"]
            lines.append(
                f"| {r['fold']} | {name} | {acc['circle']:.1%} | {acc['rectangle']:.1%} | "
                f"{acc['triangle']:.1%} |"
            )
    if results.get("judgement_scan"):
        lines += [
            "",
            "## The head against the base's judgement",
            "",
            f"Commit {results['judgement_commit']}, `--own-weights "
            + " ".join(str(r["own_weight"]) for r in results["judgement_scan"])
            + "`: the default recipe with the head's weight against the base's judgement "
            "(shapecnn.novelty) set to each; 1.0 is the head alone, as before the judgement. Same "
            "people, kinds, splits and fold bases as above. New classes: the mean of the four "
            "runs' overall accuracy, their worst class, and the starter classes on the held-out "
            "people's real drawings (mean of the three). The default's weight is 0.3; these "
            "are the people it was picked on (the 2 folds keep each person out of the base, "
            "not out of the choice).",
            "",
            "| own weight | per person mean | worst person | new classes overall | worst class "
            "| starter classes on real drawings |",
            "|---:|---:|---:|---:|---:|---:|",
        ]
        for r in results["judgement_scan"]:
            lines.append(
                f"| {r['own_weight']} | {r['mean']:.1%} | {r['worst']:.1%} | "
                f"{r['new_overall']:.1%} | {r['new_worst']:.1%} | {r['real_old']:.1%} |"
            )
    if results.get("cli"):
        cli = results["cli"]
        lines += [
            "",
            "## Time: `python -m shapecnn train` end to end, starter data + two new classes",
            "",
            f"Commit {results['commit']}; load average before timing "
            f"{results.get('load_before_timing', '?')} (1, 5, 15 min) on this 2-core machine.",
            "",
            f"default recipe {cli['default']:.1f} s, tutorial recipe {cli['tutorial']:.1f} s, "
            f"same run: **{cli['default'] / cli['tutorial']:.2f}x** (targets: <= 10 s, "
            "<= 0.1x of the tutorial's training).",
        ]
    if results.get("page"):
        page = results["page"]
        lines += [
            "",
            "## Time: the page's Train, from the click to the new model answering",
            "",
            "The page's own job registry, its training process warm (started at page load):",
            "",
            "| run | seconds | vs tutorial recipe, same path |",
            "|---|---:|---:|",
        ]
        for name, value in page.items():
            lines.append(f"| {name} | {value:.2f} | {value / page['tutorial']:.2f}x |")
        lines += ["", "Targets: Train <= 5 s, <= 0.1x the tutorial; learn as you save about 1 s."]
    lines += ["", f"Pretraining settings: `{json.dumps(results['settings'])}`.", ""]
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hds", type=Path, default=Path("../shared/hds"))
    parser.add_argument("--folds", type=int, nargs="*", default=list(range(FOLDS)))
    parser.add_argument("--epochs", type=int, default=shape_base.PRETRAIN_DEFAULTS["epochs"])
    parser.add_argument("--per-kind", type=int, default=shape_base.PRETRAIN_DEFAULTS["per_kind"])
    parser.add_argument("--no-cli", action="store_true", help="skip the end-to-end timing")
    parser.add_argument(
        "--only-time",
        action="store_true",
        help="measure only the training times (on a quiet machine) and keep the last run's "
        "accuracy figures (benchmarks/out/base_results.json)",
    )
    parser.add_argument(
        "--own-weights",
        type=float,
        nargs="*",
        default=[],
        help="also measure per person and new classes with the head's weight against the "
        "base's judgement set to each of these (the section 'The head against the base's "
        "judgement')",
    )
    args = parser.parse_args(argv)
    if not args.hds.is_dir():
        print(f"skipped: no Hand-drawn Shapes folder at {args.hds} (give --hds)")
        return 0
    settings = {**shape_base.PRETRAIN_DEFAULTS, "epochs": args.epochs, "per_kind": args.per_kind}
    results = {
        "commit": git_commit(),
        "settings": settings,
        "per_person": [],
        "new_classes": [],
        "not_sure": [],
    }
    saved = OUT / "base_results.json"
    if args.only_time and saved.is_file():
        kept = json.loads(saved.read_text())
        results.update({key: kept[key] for key in ("per_person", "new_classes", "not_sure")})
        for key in ("judgement_scan", "judgement_commit"):
            if key in kept:
                results[key] = kept[key]
        results["accuracy_commit"] = kept.get("accuracy_commit", kept["commit"])
        args.folds = []
    with tempfile.TemporaryDirectory(prefix="shapecnn-base-bench-") as scratch:
        folder = Path(scratch)
        for fold in args.folds:
            weights = fold_base(args.hds, fold, settings)
            real = held_out_real(args.hds, fold)
            per_person(args.hds, fold, weights, folder, results["per_person"])
            new_classes(fold, weights, real, folder, results["new_classes"])
            not_sure(fold, weights, real, folder, results["not_sure"])
        if args.own_weights:
            results["judgement_commit"] = git_commit()
            results["judgement_scan"] = judgement_scan(args.hds, args.own_weights, settings, folder)
        if not args.no_cli:
            results["load_before_timing"] = [round(x, 2) for x in os.getloadavg()]
            results["cli"] = cli_train_seconds(folder)
            results["page"] = page_train_seconds(folder)
    saved.write_text(json.dumps(results, indent=1))
    OUTPUT.write_text(write_table(results))
    print(OUTPUT.read_text())
    return 0


if __name__ == "__main__":
    sys.exit(main())
