import struct
import zlib

import numpy as np
import pytest
from PIL import Image

from shapecnn.config import PreprocessConfig
from shapecnn.errors import BlankDrawingError, InvalidImageError
from shapecnn.preprocess import has_ink, preprocess, to_ink

from helpers import canvas_rgba, draw_outline


def test_canvas_array_becomes_24x24x3_in_unit_range():
    x = preprocess(canvas_rgba(draw_outline("circle")))
    assert x.shape == (24, 24, 3)
    assert x.dtype == np.float32
    assert x.min() == 0.0 and x.max() == 1.0  # full black ink on white paper


def test_every_input_kind_gives_the_same_input(tmp_path):
    image = draw_outline("triangle")
    path = tmp_path / "t.png"
    image.save(path)
    reference = preprocess(image)
    for variant in (
        canvas_rgba(image),
        np.asarray(image),
        np.asarray(image.convert("L")),
        image.convert("L"),
        path,
        str(path),
        np.asarray(image, dtype=np.float32) / 255.0,
    ):
        np.testing.assert_allclose(preprocess(variant), reference, atol=1e-2)


def test_transparent_canvas_is_composited_over_white():
    opaque = canvas_rgba(draw_outline("rectangle"))
    transparent = np.zeros_like(opaque)
    ink = opaque[:, :, 0] < 128
    transparent[ink] = (0, 0, 0, 255)  # black strokes on a fully transparent background
    np.testing.assert_allclose(preprocess(transparent), preprocess(opaque), atol=0.05)


def test_size_and_place_on_the_canvas_do_not_matter():
    big = preprocess(draw_outline("circle", box=(20, 20, 260, 260), width=12))
    small_in_corner = preprocess(draw_outline("circle", box=(10, 180, 90, 260), width=4))
    assert np.abs(big - small_in_corner).mean() < 0.08


def test_resize_mode_keeps_the_tutorial_behaviour():
    small_in_corner = draw_outline("circle", box=(10, 180, 90, 260), width=4)
    x = preprocess(small_in_corner, PreprocessConfig(crop="none"))
    top_half_ink = 1 - x[:12].mean()
    assert top_half_ink < 0.01  # the whole canvas is shrunk: the circle stays bottom left


def test_thin_stroke_survives_the_shrink():
    image = Image.new("L", (280, 280), 255)
    image.paste(0, (20, 140, 260, 142))  # a 2 px line across the canvas
    x = preprocess(image, PreprocessConfig(crop="none"))
    assert x.min() == 0.0  # contrast is stretched: the faint line is full black again


def test_blank_drawing_is_refused_with_a_clear_message():
    blank = np.full((280, 280, 4), 255, np.uint8)
    with pytest.raises(BlankDrawingError, match="blank"):
        preprocess(blank)
    assert not has_ink(blank)


def test_single_dot_and_ink_touching_the_border_work():
    dot = np.full((280, 280, 4), 255, np.uint8)
    dot[140:143, 140:143, :3] = 0
    assert preprocess(dot).min() == 0.0
    corner = np.full((300, 200, 4), 255, np.uint8)
    corner[:30, :30, :3] = 0  # ink in the very corner of a non-square canvas
    x = preprocess(corner)
    assert x.shape == (24, 24, 3)
    assert x[0, 0, 0] == 1.0  # outside the canvas is paper, not smeared ink


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (np.zeros((10, 10, 2), np.uint8), "shape"),
        (np.zeros((10, 10), np.int32), "dtype"),
        ([[0, 1]], "numpy array"),
        (np.zeros((0, 10), np.uint8), "at least 1x1"),
    ],
)
def test_non_images_are_refused(value, message):
    with pytest.raises(InvalidImageError, match=message):
        to_ink(value)


def test_unreadable_files_are_refused(tmp_path):
    text = tmp_path / "notes.png"
    text.write_text("not a picture")
    with pytest.raises(InvalidImageError, match="not an image"):
        preprocess(text)
    truncated = tmp_path / "cut.png"
    draw_outline("circle").save(truncated)
    truncated.write_bytes(truncated.read_bytes()[:200])
    with pytest.raises(InvalidImageError, match=r"cut\.png"):
        preprocess(truncated)


def _png_claiming(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims width x height pixels (a decompression bomb)."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    chunk = b"IHDR" + ihdr
    data = zlib.compress(b"\x00" * 100)
    idat = b"IDAT" + data
    return (
        b"\x89PNG\r\n\x1a\n"
        + struct.pack(">I", len(ihdr))
        + chunk
        + struct.pack(">I", zlib.crc32(chunk))
        + struct.pack(">I", len(data))
        + idat
        + struct.pack(">I", zlib.crc32(idat))
        + struct.pack(">I", 0)
        + b"IEND"
        + struct.pack(">I", zlib.crc32(b"IEND"))
    )


def test_huge_image_is_refused_before_decoding(tmp_path):
    bomb = tmp_path / "bomb.png"
    bomb.write_bytes(_png_claiming(10_000, 10_000))
    with pytest.raises(InvalidImageError, match="10000x10000"):
        preprocess(bomb)
