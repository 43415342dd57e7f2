"""Drawings and datasets for tests: plain outlines, canvas arrays, small synthetic datasets.

A module of its own (not conftest.py): tests/browser has a conftest.py too, and `from conftest
import ...` would find whichever of the two was imported first.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

SHAPES = ("circle", "rectangle", "triangle")


def draw_outline(shape: str, *, size: int = 280, box=(60, 60, 220, 220), width: int = 8):
    """A plain black outline on white (RGB): the simplest drawing of a shape."""
    image = Image.new("RGB", (size, size), "white")
    pen = ImageDraw.Draw(image)
    left, top, right, bottom = box
    if shape == "circle":
        pen.ellipse(box, outline="black", width=width)
    elif shape == "rectangle":
        pen.rectangle(box, outline="black", width=width)
    elif shape == "triangle":
        pen.polygon(
            [(left, bottom), (right, bottom), ((left + right) / 2, top)],
            outline="black",
            width=width,
        )
    else:
        raise ValueError(shape)
    return image


def canvas_rgba(image: Image.Image) -> np.ndarray:
    """An RGB drawing as the canvas component returns it: H x W x 4 uint8, alpha 255."""
    return np.asarray(image.convert("RGBA")).copy()


def make_dataset(root: Path, per_class: int = 8, seed: int = 0, classes=SHAPES) -> Path:
    """A small hand-drawn-style dataset in the tutorial layout (about 3/4 train, 1/4 test)."""
    from shapecnn.synth import synth_dataset

    synth_dataset(root, per_class=per_class, seed=seed, classes=classes)
    return root


def make_mislabelled(folder: Path) -> tuple[Path, Path, Path]:
    """(dataset, mislabelled drawing, model): a small dataset with a neat circle filed under
    test/triangle, and a model trained on it with the tests' fast recipe, which calls that
    drawing a circle (its results list it among the drawings it got wrong)."""
    from shapecnn import dataset
    from shapecnn.config import resolve_recipe
    from shapecnn.synth import draw_shape
    from shapecnn.training import train

    root = make_dataset(folder / "shapes", per_class=12, seed=1)
    circle = draw_shape("circle", np.random.default_rng(3), hand="neat")
    wrong = dataset.save_image(root, "test", "triangle", circle)
    model = folder / "model.keras"
    result = train(root, resolve_recipe("default", epochs=40), model_path=model)
    assert str(wrong) in [item["path"] for item in result.metadata.misclassified]
    return root, wrong, model
