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
import stat
import warnings
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from shapecnn.config import MAX_IMAGE_PIXELS, PreprocessConfig
from shapecnn.errors import BlankDrawingError, InvalidImageError

DEFAULT_CONFIG = PreprocessConfig()

# ITU-R 601 luma, as PIL's convert("L") uses.
_LUMA = np.array([0.299, 0.587, 0.114], dtype=np.float32)


# The formats the page and the CLI promise (and Keras' image_dataset_from_directory reads); no
# other decoder is ever asked (EPS, for one, would run Ghostscript).
IMAGE_FORMATS = ("PNG", "JPEG", "BMP", "GIF")
FORMATS_SHOWN = "PNG, JPEG, BMP or GIF"
# Bounds on an image file, checked from its header before any pixel is decoded. A drawing needs
# far fewer pixels than this; the limits keep the memory and time of every later step small
# (a 65536 x 256 strip is within the pixel limit, but its square crop is not).
MAX_SIDE = 4096
MAX_ASPECT = 32  # long side at most 32 times the short side
# Images are shrunk while decoding (JPEG draft, else reduce) to at most this long side: a 24 x 24
# input needs no more, and a 4096 x 4096 photo then costs what a 1024 x 1024 one does.
WORK_SIDE = 1024


def not_a_file(mode: int) -> str:
    """What an entry that is not a regular file is, as a refusal says it."""
    if stat.S_ISDIR(mode):
        return "a folder, not an image file"
    if stat.S_ISFIFO(mode):
        return "a named pipe, not an image file"
    if stat.S_ISSOCK(mode):
        return "a socket, not an image file"
    return "a device, not an image file"


def open_regular_file(path: str | os.PathLike, shown: str | None = None):
    """A binary file object for a regular file; anything else is refused without reading it
    (opening a named pipe for reading would block until someone writes to it)."""
    shown = shown or str(path)
    try:
        # O_NONBLOCK: even the open() of a named pipe would wait for a writer otherwise.
        flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
        descriptor = os.open(path, flags | getattr(os, "O_BINARY", 0))
    except FileNotFoundError:
        raise InvalidImageError(f"{shown}: no such file") from None
    except IsADirectoryError:
        raise InvalidImageError(f"{shown}: is a folder, not an image file") from None
    except OSError as error:
        raise InvalidImageError(f"{shown}: cannot be read ({error.strerror or error})") from None
    mode = os.fstat(descriptor).st_mode
    if not stat.S_ISREG(mode):
        os.close(descriptor)
        raise InvalidImageError(f"{shown}: is {not_a_file(mode)}")
    return os.fdopen(descriptor, "rb")


def _check_size(shown: str, width: int, height: int) -> None:
    if width * height > MAX_IMAGE_PIXELS or max(width, height) > MAX_SIDE:
        raise InvalidImageError(
            f"{shown}: image is {width}x{height} pixels; at most {MAX_SIDE} pixels on the long "
            f"side and {MAX_IMAGE_PIXELS:,} pixels in all (e.g. 4096x4096) are allowed"
        )
    if max(width, height) > MAX_ASPECT * max(1, min(width, height)):
        raise InvalidImageError(
            f"{shown}: image is {width}x{height} pixels, too long and thin for a drawing; the "
            f"long side may be at most {MAX_ASPECT} times the short side"
        )


def _as_8bit(image: Image.Image) -> Image.Image:
    """L, RGB or RGBA: 16- and 32-bit grey scaled down (not clipped, which turns dark grey ink
    white), every other mode converted to RGBA (palette transparency kept)."""
    if image.mode in ("L", "RGB", "RGBA"):
        return image
    if image.mode.startswith("I"):  # I;16, I;16B, I;16L, I (16-bit PNGs decode to these)
        values = np.asarray(image).astype(np.float64)
        full = 65535.0 if image.mode.startswith("I;16") or values.max(initial=0) > 255 else 255.0
        scaled = np.clip(np.round(values * (255.0 / full)), 0, 255).astype(np.uint8)
        return Image.fromarray(scaled, mode="L")
    if image.mode == "F":
        values = np.nan_to_num(np.asarray(image, dtype=np.float32))
        scaled = np.clip(np.round(values * (255.0 if values.max(initial=0) <= 1 else 1.0)), 0, 255)
        return Image.fromarray(scaled.astype(np.uint8), mode="L")
    return image.convert("RGBA")


def _upright(image: Image.Image) -> Image.Image:
    """The image turned as its EXIF orientation says (phone photos are stored sideways)."""
    try:
        return ImageOps.exif_transpose(image)
    except Exception:  # noqa: BLE001 - a damaged EXIF block is no reason to refuse the pixels
        return image


def open_image(source, name: str | None = None) -> Image.Image:
    """Open and decode an image file, refusing what is not a sane image.

    `source` is a path, the file's bytes or a binary file object (an upload); messages name it
    by `name`, else by its path. Only regular files are opened, only PNG, JPEG, BMP and GIF are
    decoded, and the size is checked from the header before the pixels are decoded (at most
    MAX_SIDE on the long side, MAX_ASPECT : 1), so a PNG that claims 10,000 x 10,000 pixels
    costs nothing. The image comes back upright (EXIF orientation applied), in mode L, RGB or
    RGBA, shrunk while decoding to at most WORK_SIDE on its long side.
    """
    handle = None
    if isinstance(source, (str, os.PathLike)):
        path = Path(source)
        shown = name or str(path)
        handle = source = open_regular_file(path, shown)
    else:
        if isinstance(source, (bytes, bytearray, memoryview)):
            source = io.BytesIO(source)
        shown = name or str(getattr(source, "name", "upload"))
    try:
        if source.seek(0, io.SEEK_END) == 0:
            raise InvalidImageError(f"{shown}: empty file (0 bytes), not an image")
        source.seek(0)
        with warnings.catch_warnings():
            # PIL warns about huge images and damaged EXIF blocks itself; huge images are refused
            # below with a clearer message, and a damaged EXIF block costs only its orientation.
            warnings.simplefilter("ignore")
            image = Image.open(source, formats=IMAGE_FORMATS)
            with image:
                width, height = image.size
                _check_size(shown, width, height)
                factor = -(-max(width, height) // WORK_SIDE)  # ceil
                if factor > 1 and image.format == "JPEG":
                    image.draft(image.mode, (-(-width // factor), -(-height // factor)))
                image.load()
                result = _upright(_as_8bit(image))
        factor = -(-max(result.size) // WORK_SIDE)
        if factor > 1:
            result = result.reduce(factor)
        return result
    except InvalidImageError:
        raise
    except UnidentifiedImageError:
        raise InvalidImageError(f"{shown}: not an image file ({FORMATS_SHOWN})") from None
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as error:
        raise InvalidImageError(f"{shown}: unreadable image ({error})") from None
    finally:
        if handle is not None:
            handle.close()


def to_ink(image) -> np.ndarray:
    """Any drawing as a float32 H x W array of ink: 0 for white paper, 1 for black ink.

    Transparency is composited over white, so a transparent canvas with black strokes and an
    opaque white canvas with black strokes give the same ink.
    """
    if isinstance(image, (str, os.PathLike)):
        image = open_image(image)
    if isinstance(image, Image.Image):
        image = np.asarray(_as_8bit(image))
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


def _shrunk(ink: np.ndarray) -> np.ndarray:
    """Ink as big as a photo, block-averaged to at most WORK_SIDE on its long side (files are
    shrunk so while decoding; this bounds arrays too). The square crop below then stays small
    whatever the shape: a 65536 x 256 strip would otherwise ask for a 65536 x 65536 square."""
    factor = -(-max(ink.shape) // WORK_SIDE)
    if factor <= 1:
        return ink
    height, width = ink.shape
    padded = np.pad(ink, ((0, -height % factor), (0, -width % factor)))
    blocks = padded.reshape(padded.shape[0] // factor, factor, padded.shape[1] // factor, factor)
    return blocks.mean(axis=(1, 3), dtype=np.float32)


def preprocess(image, config: PreprocessConfig = DEFAULT_CONFIG) -> np.ndarray:
    """The model's input for one drawing: float32 size x size x channels, white 1.0, ink 0.0.

    Raises BlankDrawingError for a drawing with no ink and InvalidImageError for anything that
    is not an image.
    """
    ink = _shrunk(to_ink(image))
    top, left, bottom, right = ink_box(ink, config.ink_threshold)
    if config.crop == "none":
        view = _view(ink, (0, 0, ink.shape[1], ink.shape[0]), config)
        return np.repeat(view[:, :, None], config.channels, axis=2)
    if config.crop != "ink":
        raise ValueError(f"crop must be 'ink' or 'none', got {config.crop!r}")
    # One view of the drawing per channel, each cropped to the ink with its own aspect_power:
    # 1 keeps the aspect ratio (a square box, a flat ellipse stays a thin line at 24 px); 0
    # stretches the drawing to fill the square (every detail of a flat shape, no aspect left);
    # in between, an aspect ratio r is shown as r ** power. Seeing both, a network can tell a
    # circle from an ellipse and a flat ellipse from a flat rectangle.
    powers = config.aspect_powers
    views = {
        power: _view(ink, _ink_box(top, left, bottom, right, power, config), config)
        for power in set(powers)
    }
    return np.stack([views[powers[i % len(powers)]] for i in range(config.channels)], axis=2)


def _ink_box(top, left, bottom, right, power: float, config: PreprocessConfig) -> tuple:
    """The crop box around the ink's centre for one aspect_power; may reach past the canvas."""
    height, width = bottom - top, right - left
    side = max(height, width)
    side = side + 2 * max(1.0, config.margin * side)
    ratio = max(min(height, width), 1) / max(height, width, 1)
    short = side * ratio ** (1.0 - power)
    box_w, box_h = (side, short) if width >= height else (short, side)
    centre_y, centre_x = (top + bottom) / 2, (left + right) / 2
    return (centre_x - box_w / 2, centre_y - box_h / 2, centre_x + box_w / 2, centre_y + box_h / 2)


def _view(ink: np.ndarray, box: tuple, config: PreprocessConfig) -> np.ndarray:
    """The pixels under `box` shrunk to size x size: paper 1.0, ink 0.0."""
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
    return 1.0 - np.clip(small, 0.0, 1.0)


def preprocess_batch(images, config: PreprocessConfig = DEFAULT_CONFIG) -> np.ndarray:
    """preprocess() for several drawings, stacked into one N x size x size x channels batch."""
    return np.stack([preprocess(image, config) for image in images])
