"""The strokes of a drawing, kept beside its PNG in the Quick Draw style.

A drawing saved with its strokes has `<name>.png` and, in the same folder, `<name>.json`:

    {"format": "quickdraw", "canvas": [width, height],
     "strokes": [[[x0, x1, ...], [y0, y1, ...]], ...]}

one [xs, ys] pair per stroke, in canvas pixels, as Google's Quick Draw dataset stores its
"simplified" drawings. The PNG stays the drawing that training reads (the Keras layout is
unchanged); the strokes let a drawing be rendered again at another size or stroke width and be
replayed. Only numpy and pillow are needed here.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from shapecnn.errors import InvalidImageError

SUFFIX = ".json"
FORMAT = "quickdraw"
# What one drawing's strokes may hold: far more than a hand makes, far less than hurts.
MAX_STROKES = 1000
MAX_POINTS = 100_000
MAX_FILE_BYTES = 4 * 1024 * 1024
MAX_CANVAS = 4096


@dataclass(frozen=True)
class Strokes:
    """A drawing's strokes: (N, 2) float arrays of x, y, and the canvas (width, height)."""

    strokes: list[np.ndarray]
    canvas: tuple[int, int]

    def to_json(self) -> str:
        pairs = [[_numbers(s[:, 0]), _numbers(s[:, 1])] for s in self.strokes]
        data = {"format": FORMAT, "canvas": list(self.canvas), "strokes": pairs}
        return json.dumps(data, separators=(",", ":"), allow_nan=False)


def _numbers(values: np.ndarray) -> list:
    # Whole pixels stay ints; a smoothed path's points keep two decimals (a 100th of a pixel).
    rounded = np.round(values.astype(float), 2)
    return [int(v) if float(v).is_integer() else float(v) for v in rounded]


def strokes_path(png: str | os.PathLike) -> Path:
    """Where the strokes of the drawing `png` are kept."""
    return Path(png).with_suffix(SUFFIX)


def as_strokes(strokes, canvas: tuple[int, int]) -> Strokes:
    """Check strokes given as [xs, ys] pairs (Quick Draw) or (N, 2) numpy arrays of x, y
    (shapecnn.synth) for a canvas of (width, height); every problem names the stroke."""
    if not isinstance(strokes, (list, tuple)):
        raise InvalidImageError(
            "strokes must be a list of [xs, ys] pairs or (N, 2) arrays, "
            f"got {type(strokes).__name__}"
        )
    if len(strokes) > MAX_STROKES:
        raise InvalidImageError(f"strokes: {len(strokes)} strokes; at most {MAX_STROKES}")
    width, height = _canvas(canvas)
    checked, total = [], 0
    for index, stroke in enumerate(strokes):
        try:
            if isinstance(stroke, np.ndarray):
                array = np.asarray(stroke, dtype=float)
            else:
                xs, ys = stroke
                if len(xs) != len(ys):
                    raise ValueError(f"{len(xs)} xs but {len(ys)} ys")
                array = np.column_stack([np.asarray(xs, float), np.asarray(ys, float)])
        except (TypeError, ValueError) as error:
            raise InvalidImageError(
                f"strokes[{index}] must be [xs, ys] (two lists of numbers of one length): {error}"
            ) from None
        if array.ndim != 2 or array.shape[1] != 2 or len(array) == 0:
            raise InvalidImageError(
                f"strokes[{index}] must hold at least one x, y point, got shape {array.shape}"
            )
        if not np.all(np.isfinite(array)):
            raise InvalidImageError(f"strokes[{index}] must hold finite numbers")
        total += len(array)
        if total > MAX_POINTS:
            raise InvalidImageError(f"strokes: more than {MAX_POINTS:,} points in all")
        checked.append(array)
    return Strokes(checked, (width, height))


def _canvas(canvas) -> tuple[int, int]:
    try:
        width, height = (int(n) for n in canvas)
    except (TypeError, ValueError):
        raise InvalidImageError(f"canvas must be (width, height), got {canvas!r}") from None
    if not (1 <= width <= MAX_CANVAS and 1 <= height <= MAX_CANVAS):
        raise InvalidImageError(f"canvas must be 1 to {MAX_CANVAS} px a side, got {canvas!r}")
    return width, height


def read_strokes(path: str | os.PathLike) -> Strokes:
    """The strokes in a `<name>.json` file (or of the drawing `<name>.png`), checked."""
    path = strokes_path(path)
    with open(path, "rb") as handle:
        raw = handle.read(MAX_FILE_BYTES + 1)
    if len(raw) > MAX_FILE_BYTES:
        raise InvalidImageError(f"{path}: more than {MAX_FILE_BYTES:,} bytes, not strokes")
    try:
        data = json.loads(raw)
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise ValueError(f'not an object with "format": "{FORMAT}"')
        return as_strokes(data["strokes"], data["canvas"])
    except (ValueError, KeyError, InvalidImageError) as error:
        raise InvalidImageError(f"{path}: not a strokes file ({error})") from None


def render_stroke_file(
    path: str | os.PathLike, *, canvas_size: int | None = None, stroke_width: float = 8.0
):
    """Render a drawing again from its strokes (shapecnn.synth.render_strokes): black strokes
    on a white square of `canvas_size` px (default: the canvas's longer side), scaled to fit
    and centred; `stroke_width` is in the new canvas's pixels."""
    from shapecnn.synth import render_strokes

    kept = read_strokes(path)
    longer = max(kept.canvas)
    size = longer if canvas_size is None else int(canvas_size)
    scale = size / longer
    offset = (np.array([longer, longer]) - np.array(kept.canvas)) / 2 * scale
    points = [stroke * scale + offset for stroke in kept.strokes]
    return render_strokes(points, canvas_size=size, stroke_width=stroke_width)


def canvas_of(ink_shape: tuple[int, ...]) -> tuple[int, int]:
    """(width, height) of a drawing from its (height, width[, channels]) array shape."""
    return int(ink_shape[1]), int(ink_shape[0])
