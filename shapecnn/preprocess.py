"""One way from any drawing to the model's input; training and prediction both call it.

A drawing may be a canvas array (H x W x 4 uint8, as the drawing canvas returns it), an RGB or
grayscale array, a PIL image or a path to an image file. It is composited over white, turned into
"ink" (0 = paper, 1 = black), cropped to the ink with a margin (keeping the aspect ratio) and
shrunk with area averaging, so a drawing looks the same to the model whatever its size, place on
the canvas or stroke width.
"""

from __future__ import annotations

import io
import os
import warnings
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from shapecnn.config import MAX_IMAGE_PIXELS, PreprocessConfig
from shapecnn.errors import BlankDrawingError, InvalidImageError

DEFAULT_CONFIG = PreprocessConfig()

# ITU-R 601 luma, as PIL's convert("L") uses.
_LUMA = np.array([0.299, 0.587, 0.114], dtype=np.float32)


def open_image(source, name: str | None = None) -> Image.Image:
    """Open and fully decode an image file, refusing what is not a sane image.

    `source` is a path, the file's bytes or a binary file object (an upload); messages name it
    by `name`, else by its path. The size is checked from the header before the pixels are
    decoded, so a PNG that claims 10,000 x 10,000 pixels costs nothing.
    """
    if isinstance(source, (str, os.PathLike)):
        path = Path(source)
        shown = name or str(path)
        empty = path.is_file() and path.stat().st_size == 0
    else:
        if isinstance(source, (bytes, bytearray, memoryview)):
            source = io.BytesIO(source)
        path = source
        shown = name or str(getattr(source, "name", "upload"))
        empty = source.seek(0, io.SEEK_END) == 0
        source.seek(0)
    try:
        if empty:
            raise InvalidImageError(f"{shown}: empty file (0 bytes), not an image")
        with warnings.catch_warnings():
            # PIL warns about huge images itself; we refuse them below with a clearer message.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(path)
        with image:
            width, height = image.size
            if width * height > MAX_IMAGE_PIXELS:
                raise InvalidImageError(
                    f"{shown}: image is {width}x{height} pixels; at most "
                    f"{MAX_IMAGE_PIXELS:,} pixels (e.g. 4096x4096) are allowed"
                )
            image.load()
            return image.copy()
    except InvalidImageError:
        raise
    except FileNotFoundError:
        raise InvalidImageError(f"{shown}: no such file") from None
    except IsADirectoryError:
        raise InvalidImageError(f"{shown}: is a folder, not an image file") from None
    except UnidentifiedImageError:
        raise InvalidImageError(f"{shown}: not an image file (PNG, JPEG, BMP or GIF)") from None
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as error:
        raise InvalidImageError(f"{shown}: unreadable image ({error})") from None


def to_ink(image) -> np.ndarray:
    """Any drawing as a float32 H x W array of ink: 0 for white paper, 1 for black ink.

    Transparency is composited over white, so a transparent canvas with black strokes and an
    opaque white canvas with black strokes give the same ink.
    """
    if isinstance(image, (str, os.PathLike)):
        image = open_image(image)
    if isinstance(image, Image.Image):
        if image.mode not in ("L", "RGB", "RGBA"):
            image = image.convert("RGBA")
        image = np.asarray(image)
    if not isinstance(image, np.ndarray):
        raise InvalidImageError(
            "image must be a numpy array, a PIL image or a path to an image file, "
            f"got {type(image).__name__}"
        )
    array = image
    if array.ndim == 3 and array.shape[2] == 1:
        array = array[:, :, 0]
    if array.ndim not in (2, 3) or (array.ndim == 3 and array.shape[2] not in (3, 4)):
        raise InvalidImageError(
            "image array must be H x W (grayscale), H x W x 3 (RGB) or H x W x 4 (RGBA), "
            f"got shape {array.shape}"
        )
    if array.shape[0] < 1 or array.shape[1] < 1:
        raise InvalidImageError(f"image must be at least 1x1 pixels, got shape {array.shape}")
    if array.shape[0] * array.shape[1] > MAX_IMAGE_PIXELS:
        raise InvalidImageError(
            f"image is {array.shape[1]}x{array.shape[0]} pixels; at most "
            f"{MAX_IMAGE_PIXELS:,} pixels are allowed"
        )
    if array.dtype == np.uint8:
        values = array.astype(np.float32) / 255.0
    elif np.issubdtype(array.dtype, np.floating):
        if np.isnan(array).any():
            raise InvalidImageError("image array has NaN values; floats must be from 0 to 1")
        values = np.clip(array, 0.0, 1.0).astype(np.float32)
    else:
        raise InvalidImageError(
            f"image array must be uint8 (0-255) or float (0-1), got dtype {array.dtype}"
        )
    if values.ndim == 2:
        gray = values
    else:
        gray = values[:, :, :3] @ _LUMA
        if values.shape[2] == 4:
            alpha = values[:, :, 3]
            gray = gray * alpha + (1.0 - alpha)
    return 1.0 - gray


def ink_box(ink: np.ndarray, threshold: float) -> tuple[int, int, int, int]:
    """(top, left, bottom, right) of the pixels at least `threshold` dark; blank raises."""
    mask = ink >= threshold
    rows = np.flatnonzero(mask.any(axis=1))
    if rows.size == 0:
        raise BlankDrawingError(
            "the drawing is blank: draw a shape (some strokes darker than the paper) first"
        )
    cols = np.flatnonzero(mask.any(axis=0))
    return int(rows[0]), int(cols[0]), int(rows[-1]) + 1, int(cols[-1]) + 1


def has_ink(image, config: PreprocessConfig = DEFAULT_CONFIG) -> bool:
    """Whether a drawing has any ink that preprocessing would see."""
    return bool((to_ink(image) >= config.ink_threshold).any())


def preprocess(image, config: PreprocessConfig = DEFAULT_CONFIG) -> np.ndarray:
    """The model's input for one drawing: float32 size x size x channels, white 1.0, ink 0.0.

    Raises BlankDrawingError for a drawing with no ink and InvalidImageError for anything that
    is not an image.
    """
    ink = to_ink(image)
    top, left, bottom, right = ink_box(ink, config.ink_threshold)
    if config.crop == "ink":
        # A square around the ink's centre, so the aspect ratio is kept and a thin rectangle stays
        # thin; pixels outside the canvas are paper.
        side = max(bottom - top, right - left)
        side = side + 2 * max(1.0, config.margin * side)
        centre_y, centre_x = (top + bottom) / 2, (left + right) / 2
        box = (
            centre_x - side / 2,
            centre_y - side / 2,
            centre_x + side / 2,
            centre_y + side / 2,
        )
    elif config.crop == "none":
        box = (0, 0, ink.shape[1], ink.shape[0])
    else:
        raise ValueError(f"crop must be 'ink' or 'none', got {config.crop!r}")
    # Pixels outside the canvas are paper: pad with zeros, since PIL's resize would otherwise
    # repeat the edge pixels and smear ink that touches the border outwards.
    pad = int(np.ceil(max(0.0, -box[0], -box[1], box[2] - ink.shape[1], box[3] - ink.shape[0])))
    if pad:
        ink = np.pad(ink, pad)
        box = tuple(value + pad for value in box)
    # Resize only the pixels under the box, with the box relative to them: the same drawing
    # anywhere on the canvas then gives the same arithmetic (PIL's float rounding depends on
    # the absolute coordinates), and a big canvas costs no more than a small one.
    left, top = int(np.floor(box[0])), int(np.floor(box[1]))
    right, bottom = int(np.ceil(box[2])), int(np.ceil(box[3]))
    ink = np.ascontiguousarray(ink[top:bottom, left:right])
    box = (box[0] - left, box[1] - top, box[2] - left, box[3] - top)
    # Area averaging (BOX) keeps thin strokes as grey instead of dropping them between samples.
    small = Image.fromarray(ink, mode="F").resize(
        (config.size, config.size), Image.Resampling.BOX, box=box
    )
    small = np.asarray(small, dtype=np.float32)
    if config.normalize_contrast:
        peak = float(small.max())
        if peak > 0:
            small = small / peak
    paper = 1.0 - np.clip(small, 0.0, 1.0)
    return np.repeat(paper[:, :, None], config.channels, axis=2)


def preprocess_batch(images, config: PreprocessConfig = DEFAULT_CONFIG) -> np.ndarray:
    """preprocess() for several drawings, stacked into one N x size x size x channels batch."""
    return np.stack([preprocess(image, config) for image in images])
