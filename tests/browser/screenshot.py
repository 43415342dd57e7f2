"""Write docs/screenshot.png: the page in Chromium after a training run, with a drawing on it;
and the same Draw view at 400, 1280 and 2560 px wide (docs/screenshot-<width>.png).

    python tests/browser/screenshot.py [--out docs/screenshot.png] [--widths 400,1280,2560]

Works on a copy of the starter data and a model trained by clicking Train on the page itself, so
the picture shows the whole journey: a drawing, the live prediction, the model's view, the
training curves and results. The PNG is reduced to 256 colours to stay small.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

from PIL import Image
from playwright.sync_api import expect, sync_playwright

from driver import (
    PROJECT,
    draw,
    launch_chromium,
    metric,
    open_page,
    shape_strokes,
    streamlit_server,
)

VIEWPORT = {"width": 1360, "height": 780}  # the Draw view, no empty space below
sys.path.insert(0, str(PROJECT))  # shapecnn, when run as a script


def take(
    out: Path, shape: str = "triangle", seed: int = 3, widths: tuple[int, ...] = ()
) -> list[Path]:
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        data = Path(shutil.copytree(PROJECT / "data" / "handwriting_shape", folder / "shapes"))
        model = folder / "models" / "shapes.keras"
        with streamlit_server(data, model, folder / "streamlit.log") as url, sync_playwright() as p:
            browser = launch_chromium(p)
            page = open_page(browser, url)
            page.set_viewport_size(VIEWPORT)
            main = page.get_by_test_id("stMain")
            page.get_by_role("button", name="Train model").click()
            expect(main.get_by_text("Current model: from")).to_be_visible(timeout=120_000)
            draw(page, shape_strokes(shape, seed))
            expect(metric(main, "Prediction")).to_have_text(shape)
            page.wait_for_timeout(1500)  # let the chart and toasts settle
            page.mouse.move(5, VIEWPORT["height"] - 5)  # no hover toolbar in the picture
            page.wait_for_timeout(500)
            out.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(out), full_page=True)
            written = [out]
            for width in widths:
                # The page scrolls inside its own element, which a full-page shot does not
                # follow: a phone's column is shown whole in a tall window.
                height = VIEWPORT["height"] if width >= 700 else 1750
                page.set_viewport_size({"width": width, "height": height})
                page.wait_for_timeout(1000)  # the layout settles; the drawing is redrawn
                page.mouse.move(1, height - 1)
                at_width = out.with_name(f"{out.stem}-{width}{out.suffix}")
                page.screenshot(path=str(at_width), full_page=True)
                written.append(at_width)
            browser.close()
    for path in written:
        image = Image.open(path).convert("RGB")
        image.quantize(colors=256, method=Image.Quantize.MEDIANCUT).save(path, optimize=True)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=PROJECT / "docs" / "screenshot.png")
    parser.add_argument(
        "--widths",
        default="400,1280,2560",
        help="also the Draw view at these widths, comma-separated ('' for none)",
    )
    args = parser.parse_args(argv)
    widths = tuple(int(width) for width in args.widths.split(",") if width.strip())
    for path in take(args.out, widths=widths):
        print(f"wrote {path} ({path.stat().st_size / 1000:.0f} KB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
