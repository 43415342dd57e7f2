"""Shared fixtures: tiny datasets made in tmp_path and one small model trained per session."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
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


@pytest.fixture
def dataset_root(tmp_path: Path) -> Path:
    return make_dataset(tmp_path / "shapes")


@pytest.fixture(scope="session")
def trained_model(tmp_path_factory) -> Path:
    """A model trained briefly on a small synthetic dataset (a few seconds), shared read-only."""
    from shapecnn.training import train

    root = make_dataset(tmp_path_factory.mktemp("trained") / "shapes", per_class=12, seed=1)
    path = root.parent / "model.keras"
    train(root, "default", model_path=path, epochs=6)
    return path
