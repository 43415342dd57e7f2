"""Accuracy on drawings by strangers: people whose drawings training never saw.

The real test (several hundred drawings per class by another person, a pencil on a 256 px pad,
rendered black on white with 4-14 px strokes on 256-400 px canvases) is not ours to see, so this
measures proxies of it, each generated fresh with seeds the starter data never used:

- strangers:   random hands (synth.random_hand: every style range itself random), drawn like the
               real test: canvases 256-400 px, strokes 4-14 px.
- held-out:    for each named hand, a model trained on a starter-sized set drawn by the OTHER
               hands, tested on that hand.
- sweep:       one set per canvas size x stroke width, and drawings squeezed into a corner.
- few-shot:    per hand, a model trained on 15 train + 5 test drawings per class by that hand,
               tested on 100 more drawings per class by the same hand.

Run: python benchmarks/bench_accuracy.py [--quick]   (writes benchmarks/ACCURACY.md)
"""

from __future__ import annotations

import argparse
import platform
import sys
import tempfile
import time
from dataclasses import replace
from datetime import date
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from shapecnn import synth
from shapecnn.config import DEFAULT_DATA, PreprocessConfig
from shapecnn.preprocess import DEFAULT_CONFIG, preprocess

CLASSES = list(synth.SHAPES)
OUTPUT = Path(__file__).resolve().parent / "ACCURACY.md"
KEPT_ROWS = ("| page replay |",)


def stranger_set(seed: int, strangers: int, per_class: int, canvas=(256, 400), width=(4, 14)):
    """Drawings by `strangers` random hands, like the real test: (images, labels, hand index)."""
    rng = np.random.default_rng([seed, 7777])
    images, labels, who = [], [], []
    for person in range(strangers):
        hand = synth.random_hand(rng, f"stranger{person}")
        for label, shape in enumerate(CLASSES):
            for _ in range(per_class):
                size = int(rng.integers(canvas[0], canvas[1] + 1))
                stroke = float(rng.uniform(*width))
                images.append(
                    synth.draw_shape(shape, rng, hand=hand, canvas_size=size, stroke_width=stroke)
                )
                labels.append(label)
                who.append(person)
    return images, np.array(labels), np.array(who)


def hand_set(hand, seed: int, per_class: int, **draw):
    rng = np.random.default_rng([seed, 4242])
    images, labels = [], []
    for label, shape in enumerate(CLASSES):
        for _ in range(per_class):
            images.append(synth.draw_shape(shape, rng, hand=hand, **draw))
            labels.append(label)
    return images, np.array(labels)


def accuracy(model, config: PreprocessConfig, images, labels) -> float:
    x = np.stack([preprocess(image, config) for image in images])
    outputs = model(x, training=False)
    if isinstance(outputs, (list, tuple)):  # trained from the base: [probabilities, features]
        outputs = outputs[0]
    predicted = np.asarray(outputs).argmax(axis=1)
    return float((predicted == labels).mean())


def train_on(root, recipe="default", config=DEFAULT_CONFIG, **overrides):
    from shapecnn.config import resolve_recipe
    from shapecnn.training import train

    started = time.perf_counter()
    result = train(root, resolve_recipe(recipe, **overrides), config=config)
    return result, time.perf_counter() - started


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sets, for a smoke run")
    parser.add_argument("--output", type=Path, default=OUTPUT)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="starter dataset")
    args = parser.parse_args(argv)
    n_strangers, per_stranger = (3, 5) if args.quick else (12, 30)
    few_shot_test = 10 if args.quick else 100
    hands = list(synth.HANDS)[:2] if args.quick else list(synth.HANDS)
    rows = []  # (proxy, model, accuracy, detail)

    strangers = stranger_set(1, n_strangers, per_stranger)
    configs = {"ink crop": PreprocessConfig(), "plain resize": PreprocessConfig(crop="none")}
    recipes = ["default"] if args.quick else ["default", "tutorial"]
    models = {}
    for recipe in recipes:
        for config_name, config in configs.items():
            result, seconds = train_on(args.data, recipe, config)
            name = f"{recipe} recipe, {config_name}"
            models[name] = (result.model, config)
            images, labels, who = strangers
            score = accuracy(result.model, config, images, labels)
            per_person = [
                accuracy(
                    result.model,
                    config,
                    [i for i, w in zip(images, who, strict=True) if w == p],
                    labels[who == p],
                )
                for p in range(n_strangers)
            ]
            test_acc = result.evaluation.accuracy if result.evaluation else float("nan")
            rows.append(
                (
                    "strangers",
                    name,
                    score,
                    f"{n_strangers} strangers x {per_stranger}/class; worst stranger "
                    f"{min(per_person):.1%}; starter test {test_acc:.1%}; "
                    f"trained in {seconds:.1f} s",
                )
            )
            print(rows[-1], flush=True)

    main_model, main_config = models["default recipe, ink crop"]
    sweep_rng_seed = 11
    for canvas in (256, 400):
        for width in (4, 14):
            images, labels = hand_set(
                None,
                sweep_rng_seed + canvas + width,
                per_stranger,
                canvas_size=canvas,
                stroke_width=width,
            )
            score = accuracy(main_model, main_config, images, labels)
            rows.append(
                (
                    "sweep",
                    "default recipe, ink crop",
                    score,
                    f"canvas {canvas} px, stroke {width} px, random named hands",
                )
            )
            print(rows[-1], flush=True)
    corner = replace(synth.HANDS["tiny"], name="corner", size=(0.2, 0.3), spread=1.0)
    images, labels = hand_set(corner, 3, per_stranger)
    rows.append(
        (
            "sweep",
            "default recipe, ink crop",
            accuracy(main_model, main_config, images, labels),
            "small drawings (20-30 % of the canvas) anywhere, edges included",
        )
    )
    print(rows[-1], flush=True)

    with tempfile.TemporaryDirectory() as tmp:
        for hand in hands:
            others = [h for h in synth.HANDS if h != hand]
            synth_args = {"per_class": 100, "seed": 101, "hands": others}
            rows.append(
                trained_row(
                    Path(tmp) / f"without-{hand}",
                    synth_args,
                    (hand, 5, per_stranger),
                    "held-out hand",
                    f"trained on 100/class by the other hands, tested on '{hand}'",
                )
            )
        for hand in hands:
            rows.append(
                trained_row(
                    Path(tmp) / f"only-{hand}",
                    {"per_class": 20, "seed": 202, "hands": [hand]},
                    (hand, 9, few_shot_test),
                    "few-shot",
                    f"15+5/class by '{hand}', tested on {few_shot_test}/class more by it",
                )
            )

    write_table(args.output, rows, args)
    return 0


def trained_row(root: Path, synth_args: dict, test: tuple, proxy: str, detail: str) -> tuple:
    """Train the default recipe on a synth dataset made with `synth_args`, score it on
    `hand_set(*test)` and return the table row (printed as it comes)."""
    synth.synth_dataset(root, **synth_args)
    result, _ = train_on(root)
    images, labels = hand_set(*test)
    model_accuracy = accuracy(result.model, PreprocessConfig(), images, labels)
    row = (proxy, "default recipe, ink crop", model_accuracy, detail)
    print(row, flush=True)
    return row


def write_table(path: Path, rows, args) -> None:
    import tensorflow as tf

    lines = [
        "# Accuracy on strangers' drawings",
        "",
        f"Measured {date.today().isoformat()} on {platform.node() or 'this machine'} "
        f"({platform.processor() or platform.machine()}), TensorFlow {tf.__version__}, with "
        f"`python benchmarks/bench_accuracy.py{' --quick' if args.quick else ''}`; "
        f"starter data: `{args.data.name}`. Targets: strangers >= 95 %, few-shot >= 97 %.",
        "",
        "| proxy | model | accuracy | detail |",
        "|---|---|---:|---|",
    ]
    lines += [f"| {p} | {m} | {a:.1%} | {d} |" for p, m, a, d in rows]
    # Rows this script does not measure (bench_page_replay.py's) stay as they were.
    kept = path.read_text().splitlines() if path.exists() else []
    lines += [line for line in kept if line.startswith(KEPT_ROWS)]
    for proxy in ("strangers", "held-out hand", "few-shot"):
        scores = [a for p, m, a, _ in rows if p == proxy and m.startswith("default recipe, ink")]
        if scores:
            lines.append(
                f"\n**{proxy}** (default recipe): mean {np.mean(scores):.1%}, min {min(scores):.1%}"
            )
    path.write_text("\n".join(lines) + "\n")
    print(f"wrote {path}")


if __name__ == "__main__":
    sys.exit(main())
