"""Images that are not what a drawing needs: bounded in memory and time, refused in one line,
or read the way they look (issue 14: "Memory" and "Images")."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import textwrap
import threading
import zlib

import numpy as np
import pytest
from PIL import Image

from shapecnn import dataset
from shapecnn.config import PROJECT_ROOT
from shapecnn.errors import InvalidImageError
from shapecnn.preprocess import MAX_ASPECT, MAX_SIDE, WORK_SIDE, has_ink, open_image, preprocess

from helpers import draw_outline


def encoded(image: Image.Image, fmt: str = "PNG", **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **options)
    return buffer.getvalue()


def one_line(error: pytest.ExceptionInfo) -> str:
    message = str(error.value)
    assert "\n" not in message
    return message


def test_a_long_thin_png_within_the_pixel_limit_is_refused_from_its_header(tmp_path):
    # 65536 x 256 = 4096 x 4096 pixels, 17 KB on disk; its square crop alone asked for 44 GiB.
    path = tmp_path / "strip.png"
    path.write_bytes(encoded(Image.new("L", (65536, 256), 255), optimize=True))
    assert path.stat().st_size < 100_000
    with pytest.raises(InvalidImageError) as error:
        open_image(path)
    assert f"at most {MAX_SIDE} pixels on the long side" in one_line(error)
    assert "65536x256" in str(error.value)


def test_a_dataset_holding_such_a_strip_still_trains(dataset_root):
    strip = dataset_root / "train" / "circle" / "strip.png"
    strip.write_bytes(encoded(Image.new("L", (65536, 256), 255), optimize=True))
    with pytest.warns(UserWarning, match="strip.png"):
        samples = dataset.load_samples(dataset_root, "train")
    assert len(samples) == 18
    assert [p.name for p, _ in samples.skipped] == ["strip.png"]


@pytest.mark.parametrize(
    ("size", "allowed"),
    [((MAX_ASPECT * 20, 20), True), ((MAX_ASPECT * 20 + 1, 20), False), ((8, 400), False)],
)
def test_the_aspect_ratio_is_bounded(size, allowed):
    image = Image.new("L", size, 255)
    image.putpixel((size[0] // 2, size[1] // 2), 0)
    data = encoded(image)
    if allowed:
        assert open_image(data).size == size
    else:
        with pytest.raises(InvalidImageError, match=f"at most {MAX_ASPECT} times") as error:
            open_image(data, name="thin.png")
        assert one_line(error).startswith("thin.png: image is")


@pytest.mark.parametrize("fmt", ["PNG", "JPEG"])
def test_a_big_image_is_shrunk_while_decoding(fmt):
    big = draw_outline("circle", size=4096, box=(800, 800, 3300, 3300), width=60)
    image = open_image(encoded(big.convert("L"), fmt))
    assert max(image.size) <= WORK_SIDE
    # The drawing is still the drawing: about the input of the same drawing made at 1024 px.
    small = draw_outline("circle", size=1024, box=(200, 200, 825, 825), width=15)
    assert np.abs(preprocess(image) - preprocess(small)).mean() < 0.02


def test_a_big_array_costs_what_its_shrunk_copy_costs():
    strip = np.full((256, 16384), 255, np.uint8)
    strip[100:150, 8000:8100] = 0
    x = preprocess(strip)
    assert x.shape == (24, 24, 3) and x.min() < 0.5


def test_16_bit_grey_ink_is_ink(tmp_path):
    values = np.full((120, 120), 65535, np.uint16)
    values[30:90, 58:62] = 12000  # dark grey, far from 8-bit black
    path = tmp_path / "deep.png"
    Image.fromarray(values).save(path)
    with Image.open(path) as raw:
        assert raw.mode.startswith("I")
    assert has_ink(path)
    eight = Image.fromarray((values // 257).astype(np.uint8))
    np.testing.assert_allclose(preprocess(path), preprocess(eight), atol=1e-2)
    assert dataset.import_images(tmp_path / "data", "line", [path])  # not "blank"


def test_exif_orientation_is_honoured(tmp_path):
    # The drawing as seen: a wide bar in the top half. A phone stores it sideways (the pixels
    # turned a quarter) with EXIF orientation 6 ("rotate 90 clockwise to view").
    seen = Image.new("L", (200, 100), 255)
    seen.paste(0, (20, 10, 180, 40))
    stored = seen.rotate(90, expand=True)  # counter-clockwise: what the sensor wrote
    exif = Image.Exif()
    exif[0x0112] = 6
    path = tmp_path / "phone.jpg"
    stored.save(path, format="JPEG", exif=exif, quality=95)
    upright = open_image(path)
    assert upright.size == (200, 100)
    ink = np.asarray(upright.convert("L")) < 128
    assert ink[:50].sum() > 10 * max(1, ink[50:].sum())  # the bar is at the top


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("drawing.eps", b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 10 10\nshowpage\n"),
        ("drawing.tif", encoded(Image.new("L", (20, 20), 0), "TIFF")),
        ("drawing.webp", encoded(Image.new("RGB", (20, 20), "black"), "WEBP")),
        ("drawing.ico", encoded(Image.new("RGB", (16, 16), "black"), "ICO")),
    ],
    ids=["eps", "tiff", "webp", "ico"],
)
def test_only_png_jpeg_bmp_and_gif_are_decoded(tmp_path, name, data):
    path = tmp_path / name
    path.write_bytes(data)
    with pytest.raises(InvalidImageError) as error:
        open_image(path)
    assert one_line(error) == f"{path}: not an image file (PNG, JPEG, BMP or GIF)"


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "BMP", "GIF"])
def test_the_four_formats_are_read(fmt):
    image = draw_outline("rectangle").convert("L")
    assert has_ink(open_image(encoded(image, fmt)))


def test_a_named_pipe_is_refused_without_blocking(tmp_path):
    fifo = tmp_path / "pipe.png"
    os.mkfifo(fifo)
    outcome = []

    def read():
        try:
            open_image(fifo)
        except InvalidImageError as error:
            outcome.append(str(error))

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    reader.join(10)
    if reader.is_alive():  # blocked in open(): unblock it so the test run goes on
        os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
        reader.join(10)
        pytest.fail("reading a named pipe blocked")
    assert outcome == [f"{fifo}: is a named pipe, not an image file"]


def test_a_folder_named_like_an_image_is_refused(tmp_path):
    folder = tmp_path / "folder.png"
    folder.mkdir()
    with pytest.raises(InvalidImageError, match="is a folder, not an image file"):
        open_image(folder)


def test_a_zip_of_big_images_imports_shrunk(tmp_path):
    import zipfile

    big = encoded(draw_outline("circle", size=4096, box=(800, 800, 3300, 3300), width=60))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for index in range(3):
            archive.writestr(f"circle/{index}.png", big)
    report = dataset.import_zip(tmp_path / "data", buffer.getvalue())
    assert len(report.saved) == 3
    for path in report.saved:
        with Image.open(path) as image:
            assert max(image.size) <= WORK_SIDE


def test_zlib_bomb_inside_the_limits_decodes_within_them():
    # A 4096 x 4096 all-white PNG is a few KB; it decodes to at most the bounded size.
    data = encoded(Image.new("L", (MAX_SIDE, MAX_SIDE), 255), optimize=True)
    assert len(zlib.compress(data)) < 100_000
    assert max(open_image(data).size) <= WORK_SIDE


@pytest.mark.parametrize(
    "exif",
    [
        b"Exif\x00\x00MM\x00*\x00\x00\x00\x08\x00\x01\x01\x12\x00\x03",  # cut short
        b"Exif\x00\x00MM\x00*\xff\xff\xff\xf0",  # points past its end
    ],
    ids=["cut-short", "points-past-end"],
)
def test_a_damaged_exif_block_costs_only_its_orientation(tmp_path, recwarn, exif):
    path = tmp_path / "odd.jpg"
    draw_outline("circle").save(path, format="JPEG", exif=exif)
    assert has_ink(open_image(path))
    assert not recwarn.list  # no "Corrupt EXIF data" lines in the CLI's output


def test_a_named_pipe_given_as_a_zip_is_refused_without_blocking(tmp_path):
    fifo = tmp_path / "upload.zip"
    os.mkfifo(fifo)
    outcome = []

    def read():
        try:
            dataset.import_zip(tmp_path / "data", fifo)
        except InvalidImageError as error:
            outcome.append(str(error))

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    reader.join(10)
    if reader.is_alive():
        os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
        reader.join(10)
        pytest.fail("reading a named pipe blocked")
    assert outcome == [f"{fifo}: is a named pipe, not an image file"]


PEAK_MEMORY = textwrap.dedent(
    """
    import io, resource, sys, zipfile
    from PIL import Image, ImageDraw
    from shapecnn import dataset

    root, shape = sys.argv[1], sys.argv[2]
    width, height = map(int, shape.split("x"))
    image = Image.new("L", (width, height), 255)
    ImageDraw.Draw(image).rectangle((width // 4, height // 4, width // 2, height // 2), outline=0,
                                    width=max(4, min(width, height) // 40))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zipped:
        for index in range(10):
            zipped.writestr(f"box/{index}.png", buffer.getvalue())
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    report = dataset.import_zip(root, archive.getvalue())
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(len(report.saved), len(report.skipped), (after - before) // 1024)
    """
)


@pytest.mark.parametrize(
    ("shape", "saved"), [("4096x4096", 10), ("4096x128", 10), ("65536x256", 0)]
)
def test_an_import_of_big_images_stays_within_a_bounded_memory(tmp_path, shape, saved):
    # Peak memory of the import alone, in a fresh process: one decoded 4096 x 4096 image at a
    # time (16 MB grey) and its 1024 px copy, never the square crop of a strip.
    result = subprocess.run(
        [sys.executable, "-c", PEAK_MEMORY, str(tmp_path / "data"), shape],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    n_saved, n_skipped, grown_mb = map(int, result.stdout.split())
    assert (n_saved, n_skipped) == (saved, 10 - saved)
    assert grown_mb < 150  # measured here: 33 MB for ten 4096 x 4096 PNGs
