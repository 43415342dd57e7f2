"""The look inside: what the network's layers make of one drawing, and which parts of the
drawing its answer rests on.

Everything comes from the network that made the prediction, run by the same runtime
(shapecnn.runtime): a model file's export has, besides the probabilities, the maps of three
layers as outputs (shapecnn.model.export_model): the first convolution's (the tutorial CNN's 32,
the shape base's conv1), the second's (64) and those maps pooled. Nothing here computes a layer
itself, and nothing imports TensorFlow.

Which parts pushed the answer (occlusion): each part of the 24x24 input is erased in turn (a
PATCH x PATCH square set to paper, every STRIDE pixels) and the drop in the top class's
probability recorded; all the erased copies go through the network in one batch, one runtime
call. A square over no ink leaves the input as it was (its drop is exactly 0), so only squares
over ink are run. A pixel's value is the mean drop of the squares that cover it.

The drop is measured in log-odds of the top class (log_odds), not in probability points: a
trained model is often so sure (0.99999) that erasing any one part leaves its probability at
"100 %", and a map of probability drops is then blank, though the network did lean on some parts
more than others. The log-odds drop is the same ranking where probabilities do move, and still
one where they do not; the lowest probability any one erased copy got is kept beside it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageColor

from shapecnn.errors import ModelFileError
from shapecnn.runtime import LAYER_OUTPUTS

PATCH = 6
STRIDE = 2
TINY = 1e-30  # probabilities below this count as this (float32 softmax underflows to 0)
# Each map of a grid is shown about this many pixels a side, the occlusion map this wide.
MAP_CELL = 44
OCCLUSION_WIDTH = 120  # 5 px a pixel of the 24 x 24 input
MAP_COLUMNS = 8
# A layer's maps share one scale: paper white at 0, this colour at the layer's largest value.
MAP_COLOUR = "#1b3a8c"
GRID_GREY = 200
PUSHED_TOWARD = np.array([220, 40, 40], np.float32)  # red: erasing it lowers the answer
PUSHED_AWAY = np.array([40, 90, 220], np.float32)  # blue: erasing it raises the answer


class NoLayerOutputsError(ModelFileError):
    """The model's network has no layer maps: saved before the look inside, or no model yet."""


@dataclass(frozen=True)
class Inside:
    """What the network made of one drawing."""

    # The class the occlusion map explains (the top class) and its probability.
    label: str
    probability: float
    # runtime.LAYER_OUTPUTS -> H x W x channels, as the network computed them.
    layers: dict[str, np.ndarray]
    # size x size: per pixel, the mean drop in how sure the network is of the top class (its
    # log-odds, log_odds) when a square over the pixel is erased; negative: erasing it makes
    # the network surer.
    occlusion: np.ndarray
    # How many erased copies of the drawing were run (the squares over ink), in one call.
    patches: int
    # The top class's lowest probability with one square erased.
    lowest: float


def look_inside(classifier, model_input: np.ndarray) -> Inside:
    """The layer maps and the occlusion map of one preprocessed drawing (size x size x channels),
    from the classifier's own runtime: two calls, one for the drawing and its maps, one for all
    of its erased copies.

    Raises NoLayerOutputsError for a model whose export has no layer maps.
    """
    if not getattr(classifier, "has_layers", False):
        where = getattr(classifier, "path", None) or "the model"
        raise NoLayerOutputsError(f"{where}: this model file has no layer outputs; train again")
    x = np.asarray(model_input, np.float32)
    outputs = classifier.run(x[None], layers=True)
    probabilities = outputs["probabilities"]
    top = int(probabilities[0].argmax())
    copies, boxes = erased_copies(x)
    erased = probabilities[:0]
    if len(copies):
        erased = classifier.run(copies)["probabilities"]
    drops = log_odds(probabilities, top)[0] - log_odds(erased, top)
    return Inside(
        label=classifier.classes[top],
        probability=float(probabilities[0, top]),
        layers={name: outputs[name][0] for name in LAYER_OUTPUTS},
        occlusion=occlusion_map(drops, boxes, x.shape[:2]),
        patches=len(copies),
        lowest=float(erased[:, top].min()) if len(erased) else float(probabilities[0, top]),
    )


def log_odds(probabilities: np.ndarray, top: int) -> np.ndarray:
    """Per row, log(p[top] / the other classes' sum): how sure the network is of `top`, on a
    scale that does not saturate (0.9999 and 0.999999 are 9.2 and 13.8), summed from the other
    classes' probabilities rather than 1 - p[top], which float32 rounds to 0."""
    probabilities = np.asarray(probabilities, np.float64)
    others = np.maximum(np.delete(probabilities, top, axis=1).sum(axis=1), TINY)
    return np.log(np.maximum(probabilities[:, top], TINY)) - np.log(others)


def square_positions(size: int, patch: int = PATCH, stride: int = STRIDE) -> list[int]:
    """Where the squares start along one side: every `stride` pixels, the last at the edge."""
    starts = list(range(0, size - patch + 1, stride))
    if starts[-1] != size - patch:
        starts.append(size - patch)
    return starts


def erased_copies(
    x: np.ndarray, patch: int = PATCH, stride: int = STRIDE
) -> tuple[np.ndarray, list[tuple[int, int]]]:
    """(copies, boxes): a copy of the input per square over ink with that square set to paper
    (1.0), and each square's (top, left). Squares over paper only are left out: erasing them
    changes nothing."""
    height, width = x.shape[:2]
    boxes = [
        (top, left)
        for top in square_positions(height, patch, stride)
        for left in square_positions(width, patch, stride)
        if np.any(x[top : top + patch, left : left + patch] < 1.0)
    ]
    copies = np.repeat(x[None], len(boxes), axis=0)
    for copy, (top, left) in zip(copies, boxes, strict=True):
        copy[top : top + patch, left : left + patch] = 1.0
    return copies, boxes


def occlusion_map(
    drops: np.ndarray, boxes: list[tuple[int, int]], shape: tuple[int, int], patch: int = PATCH
) -> np.ndarray:
    """Per pixel, the mean drop of every square that covers it (squares left out count 0)."""
    height, width = shape
    total = np.zeros((height, width), np.float32)
    for drop, (top, left) in zip(drops, boxes, strict=True):
        total[top : top + patch, left : left + patch] += drop
    covering = np.zeros((height, width), np.float32)
    for top in square_positions(height, patch):
        for left in square_positions(width, patch):
            covering[top : top + patch, left : left + patch] += 1
    return total / covering


# --- pictures -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Picture:
    """A picture and the width to show it at: the browser doubles it with hard pixel edges (CSS
    image-rendering: pixelated), so the PNG made after every stroke is a quarter of the pixels,
    and a grid's lines stay 2 px thin."""

    image: Image.Image
    width: int


def pictures(seen: Inside, model_input: np.ndarray) -> dict[str, Picture]:
    """The look inside as pictures, in the order a panel shows them: each layer's maps as a grid
    (runtime.LAYER_OUTPUTS), each map shown about MAP_CELL px a side; then "occlusion", the
    drawing with its occlusion map over it."""
    shown = {}
    for name in LAYER_OUTPUTS:
        maps = seen.layers[name]
        grid = map_grid(maps, scale=max(1, round(MAP_CELL / 2 / max(maps.shape[:2]))))
        shown[name] = Picture(grid, 2 * grid.width)
    shown["occlusion"] = Picture(occlusion_image(model_input, seen.occlusion), OCCLUSION_WIDTH)
    return shown


def map_grid(maps: np.ndarray, columns: int = MAP_COLUMNS, scale: int = 1) -> Image.Image:
    """A layer's maps (H x W x channels) as one picture, each map pixel `scale` x `scale`: a
    grid of `columns` on 1 px light grey lines, every map on the layer's one scale from paper
    white (0) to MAP_COLOUR (the layer's largest value). A map that stays white found nothing."""
    maps = np.asarray(maps, np.float32)
    peak = float(maps.max())
    strength = np.clip(maps / peak, 0, 1) if peak > 0 else np.zeros_like(maps)
    strength = strength.repeat(scale, axis=0).repeat(scale, axis=1)
    height, width, count = strength.shape
    colour = np.array(ImageColor.getrgb(MAP_COLOUR), np.float32)
    tiles = 255 * (1 - strength[..., None]) + colour * strength[..., None]  # H x W x maps x RGB
    rows = -(-count // columns)
    sheet = np.full((rows * (height + 1) + 1, columns * (width + 1) + 1, 3), GRID_GREY, np.float32)
    for index in range(count):
        row, column = divmod(index, columns)
        top, left = 1 + row * (height + 1), 1 + column * (width + 1)
        sheet[top : top + height, left : left + width] = tiles[:, :, index]
    return Image.fromarray(np.round(sheet).astype(np.uint8), mode="RGB")


def occlusion_image(model_input: np.ndarray, occlusion: np.ndarray) -> Image.Image:
    """The model's input (its first channel) with the occlusion map over it, one pixel per input
    pixel: red where erasing a part makes the network less sure of its answer, blue where surer,
    the strongest the deepest."""
    gray = np.asarray(model_input, np.float32)
    gray = gray[:, :, 0] if gray.ndim == 3 else gray
    paper = np.repeat(np.clip(gray, 0, 1)[:, :, None] * 255, 3, axis=2)
    occlusion = np.asarray(occlusion, np.float32)
    peak = float(np.max(np.abs(occlusion)))
    strength = np.abs(occlusion) / peak if peak > 0 else np.zeros_like(occlusion)
    colour = np.where(occlusion[:, :, None] >= 0, PUSHED_TOWARD, PUSHED_AWAY)
    # Ink stays visible under the colour: the colour is laid over paper at up to 70 %.
    alpha = 0.7 * strength[:, :, None]
    pixels = np.round(paper * (1 - alpha) + colour * alpha).astype(np.uint8)
    return Image.fromarray(pixels, mode="RGB")
