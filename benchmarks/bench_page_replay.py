"""Accuracy on drawings made with the mouse in the real page, by stranger hands.

Trains the default recipe on the starter data, serves the page with that model, and in headless
Chromium replays strokes of random stranger hands (synth.random_hand) as mouse moves on the
canvas; the page's own `Prediction` metric is read after each drawing. This covers what the
other proxies cannot: the canvas component's own rendering of the strokes (its pen width,
anti-aliasing and RGBA output) on the way to the model.

The row in benchmarks/ACCURACY.md gives the number of mistakes and a Wilson 95 % interval: at 30
drawings one mistake moves the score by 3 points. Every drawing is kept for a closer look in
benchmarks/out/replay-seed<SEED>/: its strokes, the page's answer (drawings.json) and the canvas's
own pixels (NNN-<shape>-<answer>.png), plus the model that answered.

Run: python benchmarks/bench_page_replay.py [--per-class N] [--seed S]
(replaces the "page replay" row of benchmarks/ACCURACY.md)

New classes: `--new-kinds diamond parallelogram --hds ../shared/hds` adds 15 train + 5 test
drawings of each kind by one "teacher" hand (the user) to the starter data and trains from the
bench_base.py fold base that never saw those kinds (nor that fold's people); the replay then
draws the new kinds in the teacher's hand and the starter classes in the strangers' hands, all
on the page. Its row is "page replay, new classes ...".
"""

from __future__ import annotations

import argparse
import base64
import json
import math
import shutil
import sys
import tempfile
import time
from dataclasses import asdict
from datetime import date
from pathlib import Path

import numpy as np

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT))
sys.path.insert(0, str(PROJECT / "tests" / "browser"))

from shapecnn import synth  # noqa: E402
from shapecnn.config import DEFAULT_DATA  # noqa: E402

from driver import (  # noqa: E402
    clear,
    draw,
    launch_chromium,
    metric,
    open_page,
    streamlit_server,
    wait_idle,
)

OUTPUT = PROJECT / "benchmarks" / "ACCURACY.md"
OUT = PROJECT / "benchmarks" / "out"
CANVAS = 280
# The drawing layer under the canvas's event layer: the pixels the page sends to the model.
DRAWING_LAYER = "canvas.dc-canvas.lower-canvas"


def wilson_interval(right: int, total: int, z: float = 1.96) -> tuple[float, float]:
    """Wilson score interval for a proportion (95 % for z=1.96); sound at 0 or all right too."""
    if total <= 0:
        raise ValueError(f"total must be positive, got {total}")
    p = right / total
    denominator = 1 + z * z / total
    centre = (p + z * z / (2 * total)) / denominator
    half = z * math.sqrt(p * (1 - p) / total + z * z / (4 * total * total)) / denominator
    return max(0.0, centre - half), min(1.0, centre + half)


def canvas_png(page) -> bytes:
    """The canvas's drawing layer as PNG bytes (what the canvas component returns, as drawn)."""
    url = page.locator(DRAWING_LAYER).evaluate("c => c.toDataURL('image/png')")
    return base64.b64decode(url.split(",", 1)[1])


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-class", type=int, default=10, help="drawings per class")
    parser.add_argument("--strangers", type=int, default=5, help="random hands taking turns")
    parser.add_argument(
        "--seed", type=int, default=31337, help="seeds the stranger hands and their drawings"
    )
    parser.add_argument("--output", type=Path, default=OUTPUT)
    parser.add_argument("--new-kinds", nargs="*", default=[], help="kinds held out of a base")
    parser.add_argument("--hds", type=Path, default=Path("../shared/hds"))
    args = parser.parse_args(argv)
    base_weights = None
    if args.new_kinds:
        import bench_base

        folds = [
            f for f, pairs in enumerate(bench_base.HELD_OUT_PAIRS) if tuple(args.new_kinds) in pairs
        ]
        if not folds or not args.hds.is_dir():
            parser.error(
                "--new-kinds must be one pair of bench_base.HELD_OUT_PAIRS "
                f"({bench_base.HELD_OUT_PAIRS}) and --hds a Hand-drawn Shapes folder"
            )
        from shapecnn import base as shape_base

        base_weights = bench_base.fold_base(args.hds, folds[0], dict(shape_base.PRETRAIN_DEFAULTS))

    from playwright.sync_api import expect, sync_playwright

    from shapecnn import dataset
    from shapecnn.training import train

    rng = np.random.default_rng(args.seed)
    record = OUT / f"replay-seed{args.seed}"
    shutil.rmtree(record, ignore_errors=True)
    record.mkdir(parents=True)
    drawings: list[dict] = []
    hands = [synth.random_hand(rng, f"stranger{i}") for i in range(args.strangers)]
    teacher = synth.random_hand(rng, "teacher")
    classes = [*synth.SHAPES, *args.new_kinds]
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(shutil.copytree(DEFAULT_DATA, Path(tmp) / "data"))
        for kind in args.new_kinds:
            for index in range(20):
                drawing = synth.draw_shape(kind, rng, hand=teacher, canvas_size=CANVAS)
                dataset.save_drawing(data, kind, drawing, "train" if index < 15 else "test")
        model = Path(tmp) / "shapes.keras"
        train(data, "default", model_path=model, base_weights=base_weights)
        shutil.copy(model, record / "model.keras")
        right = total = missed = 0
        unregistered: list[str] = []
        confusion: dict[tuple[str, str], int] = {}
        started = time.perf_counter()
        with (
            streamlit_server(data, model, Path(tmp) / "server.log") as url,
            sync_playwright() as playwright,
        ):
            browser = launch_chromium(playwright)
            page = open_page(browser, url)
            main_area = page.get_by_test_id("stMain")
            for index in range(args.per_class):
                for shape in classes:
                    hand = (
                        teacher
                        if shape in args.new_kinds
                        else hands[(index + classes.index(shape)) % len(hands)]
                    )
                    strokes = synth.shape_strokes(shape, rng, hand=hand, canvas_size=CANVAS)
                    registered = False
                    for _attempt in range(2):
                        clear(page)
                        expect(metric(main_area, "Prediction")).to_have_count(0)
                        draw(page, strokes)
                        try:
                            expect(metric(main_area, "Prediction")).to_have_count(1)
                            registered = True
                            break
                        except AssertionError:
                            # Strokes that reached no canvas (it was being replaced): say so
                            # and draw again, rather than count a drawing the model never saw.
                            page.screenshot(path=str(record / f"miss-{len(drawings):03d}.png"))
                            missed += 1
                    entry = {
                        "shape": shape,
                        "index": index,
                        "hand": hand.name,
                        "strokes": [stroke.round(2).tolist() for stroke in strokes],
                    }
                    drawings.append(entry)
                    if not registered:
                        # Twice no ink: the strokes started where the canvas does not take them.
                        # Named in the results.
                        unregistered.append(f"{shape} #{index}")
                        continue
                    time.sleep(0.3)  # the last stroke's rerun may still be on its way
                    wait_idle(page)
                    said = metric(main_area, "Prediction").inner_text().strip()
                    entry["said"] = said
                    name = f"{len(drawings) - 1:03d}-{shape}-{said}.png"
                    (record / name).write_bytes(canvas_png(page))
                    right += said == shape
                    total += 1
                    confusion[(shape, said)] = confusion.get((shape, said), 0) + 1
                    print(f"{total}: {shape} -> {said}", flush=True)
            browser.close()
        seconds = time.perf_counter() - started
    hands_used = {hand.name: asdict(hand) for hand in hands}
    (record / "drawings.json").write_text(
        json.dumps({"seed": args.seed, "hands": hands_used, "drawings": drawings}, indent=1)
    )
    accuracy = right / total
    low, high = wilson_interval(right, total)
    wrong = ", ".join(f"{t}->{p}: {n}" for (t, p), n in sorted(confusion.items()) if t != p)
    label = "page replay" + (
        f", new classes {' + '.join(args.new_kinds)}" if args.new_kinds else ""
    )
    per_class = ", ".join(
        f"{name} {sum(n for (t, p), n in confusion.items() if t == name and p == name)}"
        f"/{sum(n for (t, _), n in confusion.items() if t == name)}"
        for name in classes
    )
    taught = (
        "starter data + 15 + 5 drawings of each new kind by one teacher hand, from a base that "
        "never saw those kinds; new kinds drawn by the teacher, the starter classes by "
        if args.new_kinds
        else ""
    )
    row = (
        f"| {label} | default recipe, ink crop | {accuracy:.1%} | {taught}{total} drawings by "
        f"{args.strangers} stranger hands (seed {args.seed}) replayed as mouse strokes on the "
        f"page's {CANVAS} px canvas in Chromium, read from the page's Prediction metric; "
        f"{total - right} mistakes ({wrong or 'none'}; right per class: {per_class}), 95 % "
        "Wilson interval "
        f"{low:.1%}-{high:.1%}; drawings the canvas missed and that were redrawn: "
        f"{missed}; never registered (left out): {', '.join(unregistered) or 'none'} "
        f"({date.today().isoformat()}, {seconds:.0f} s) |"
    )
    print(row)
    text = args.output.read_text() if args.output.exists() else ""
    marker = f"| {label} |"
    lines = [line for line in text.splitlines() if not line.startswith(marker)]
    # Keep the table whole: the row goes after the table's last row.
    last_row = max((i for i, line in enumerate(lines) if line.startswith("| ")), default=None)
    if last_row is None:
        lines += ["", "| proxy | model | accuracy | detail |", "|---|---|---:|---|", row]
    else:
        lines.insert(last_row + 1, row)
    args.output.write_text("\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
