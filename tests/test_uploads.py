"""Uploads: images and zips of class folders, checked before anything is written."""

from __future__ import annotations

import io
import zipfile

import numpy as np
import pytest
from PIL import Image

from shapecnn import dataset
from shapecnn.errors import InvalidImageError, InvalidLabelError, ShapeCNNError

from helpers import draw_outline


def png(shape: str = "circle") -> bytes:
    buffer = io.BytesIO()
    draw_outline(shape).save(buffer, format="PNG")
    return buffer.getvalue()


def make_zip(entries: dict[str, bytes], compression=zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def written(root) -> list:
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def test_zip_of_class_folders_is_imported_with_its_splits(tmp_path):
    root = tmp_path / "data"
    archive = make_zip(
        {
            "shapes/circle/a.png": png("circle"),
            "shapes/circle/b.PNG": png("circle"),
            "shapes/triangle/c.jpg": _jpeg("triangle"),
            "train/rectangle/d.png": png("rectangle"),
            "test/rectangle/e.png": png("rectangle"),
            "shapes/": b"",
        }
    )
    report = dataset.import_zip(root, archive)
    assert report.skipped == []
    assert len(report.saved) == 5
    counts = dataset.count_images(root)
    assert counts["rectangle"] == {"train": 1, "test": 1}  # the zip's own split is kept
    assert counts["circle"] == {"train": 2, "test": 0}
    assert counts["triangle"] == {"train": 1, "test": 0}
    for path in report.saved:
        with Image.open(path) as image:
            assert image.mode == "L"  # stored like a drawing saved on the page


def test_auto_split_of_a_large_zip_keeps_a_quarter_in_test(tmp_path):
    root = tmp_path / "data"
    entries = {f"star/{index}.png": png("triangle") for index in range(8)}
    dataset.import_zip(root, make_zip(entries))
    assert dataset.count_images(root) == {"star": {"train": 6, "test": 2}}


@pytest.mark.parametrize(
    "entry",
    [
        "../evil/x.png",
        "circle/../../evil.png",
        "/etc/cron.d/x.png",
        "\\\\server\\share\\x.png",
        "C:/Windows/x.png",
        "c:evil.png",
        "circle\\..\\..\\x.png",
    ],
)
def test_zip_entries_that_could_escape_the_dataset_refuse_the_whole_zip(tmp_path, entry):
    root = tmp_path / "data" / "inner"
    archive = make_zip({"circle/ok.png": png(), entry: png()})
    with pytest.raises(InvalidImageError, match=r"could\s+write outside the dataset") as error:
        dataset.import_zip(root, archive)
    assert repr(entry) in str(error.value) and "nothing imported" in str(error.value)
    assert written(tmp_path) == []


def test_non_images_and_system_files_are_skipped_and_listed(tmp_path):
    from test_preprocess import _png_claiming

    root = tmp_path / "data"
    archive = make_zip(
        {
            "circle/good.png": png(),
            "circle/notes.txt": b"hello",
            "circle/fake.png": b"not really a png",
            "circle/empty.png": b"",
            "circle/blank.png": _encoded(Image.new("L", (50, 50), 255)),
            "circle/bomb.png": _png_claiming(10_000, 10_000),
            "circle/.DS_Store": b"\0\0",
            "__MACOSX/circle/._good.png": b"\0\5\0",
            "loose.png": png(),
            "nested.zip": make_zip({"circle/x.png": png()}),
        }
    )
    report = dataset.import_zip(root, archive)
    assert [p.parent.name for p in report.saved] == ["circle"]
    reasons = {name.removeprefix("upload.zip/"): reason for name, reason in report.skipped}
    assert set(reasons) == {
        "circle/notes.txt",
        "circle/fake.png",
        "circle/empty.png",
        "circle/blank.png",
        "circle/bomb.png",
        "circle/.DS_Store",
        "__MACOSX/circle/._good.png",
        "loose.png",
        "nested.zip",
    }
    assert "not an image" in reasons["circle/notes.txt"]
    assert "blank" in reasons["circle/blank.png"]
    assert "10000x10000" in reasons["circle/bomb.png"]
    assert "class folder" in reasons["loose.png"]
    assert dataset.count_images(root) == {"circle": {"train": 1, "test": 0}}


@pytest.mark.parametrize(
    ("folder", "message"),
    [
        ("a b ", "label must be"),
        ("bad\x07bell", "label must be"),
        ("x" * 41, "41 characters"),
        ("Circle", "differs only by case"),
    ],
)
def test_bad_class_folders_refuse_the_whole_zip(tmp_path, folder, message):
    root = tmp_path / "data"
    dataset.save_drawing(root, "circle", draw_outline("circle"))
    before = written(root)
    archive = make_zip({"triangle/ok.png": png("triangle"), f"{folder}/x.png": png()})
    with pytest.raises(InvalidLabelError, match=message):
        dataset.import_zip(root, archive)
    assert written(root) == before


def test_two_folders_differing_only_by_case_refuse_the_zip(tmp_path):
    archive = make_zip({"Star/a.png": png(), "star/b.png": png()})
    with pytest.raises(InvalidLabelError, match="differ only by case"):
        dataset.import_zip(tmp_path, archive)
    assert written(tmp_path) == []


def test_loose_images_need_a_valid_label_and_bad_ones_are_listed(tmp_path):
    uploads = [("one.png", png()), ("two.jpg", _jpeg("circle")), ("x.gif", b"GIF89a broken")]
    with pytest.raises(InvalidLabelError, match="choose the class"):
        dataset.import_uploads(tmp_path, uploads)
    with pytest.raises(InvalidLabelError, match=r"'\.\.'"):
        dataset.import_uploads(tmp_path, uploads, label="..")
    assert written(tmp_path) == []
    report = dataset.import_uploads(tmp_path, uploads, label="circle", split="test")
    assert [name for name, _ in report.skipped] == ["x.gif"]
    assert dataset.count_images(tmp_path) == {"circle": {"train": 0, "test": 2}}


def test_uploads_over_the_size_limit_are_refused(tmp_path, monkeypatch):
    big = png() + b"\0" * (dataset.MAX_UPLOAD_BYTES + 1 - len(png()))
    with pytest.raises(InvalidImageError, match="at most 20 MB at once"):
        dataset.import_uploads(tmp_path, [("big.png", big)], label="circle")
    path = tmp_path / "big.zip"
    path.write_bytes(big)
    with pytest.raises(InvalidImageError, match="at most 20 MB"):
        dataset.import_zip(tmp_path / "data", path)
    assert written(tmp_path) == [path]


def test_zip_bombs_are_refused_before_anything_is_unpacked(tmp_path, monkeypatch):
    # 300 MB of zeros in a few hundred kilobytes.
    buffer = io.BytesIO()
    with (
        zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive,
        archive.open("circle/huge.png", "w", force_zip64=True) as entry,
    ):
        block = b"\0" * (1 << 20)
        for _ in range(300):
            entry.write(block)
    assert len(buffer.getvalue()) < dataset.MAX_UPLOAD_BYTES
    with pytest.raises(InvalidImageError, match="expands to 300 MB; at most 200 MB per zip"):
        dataset.import_zip(tmp_path, buffer.getvalue())
    monkeypatch.setattr(dataset, "MAX_ZIP_ENTRIES", 3)
    many = make_zip({f"circle/{index}.png": png() for index in range(4)})
    with pytest.raises(InvalidImageError, match="4 files; at most 3 per zip"):
        dataset.import_zip(tmp_path, many)
    assert written(tmp_path) == []


def test_a_damaged_entry_or_zip_is_skipped_and_listed(tmp_path):
    archive = bytearray(
        make_zip({"circle/a.png": png(), "circle/b.png": png()}, zipfile.ZIP_STORED)
    )
    # Flip bytes inside the first entry's data: its CRC no longer matches.
    start = archive.index(b"IHDR")
    archive[start + 20 : start + 40] = b"\xff" * 20
    report = dataset.import_zip(tmp_path, bytes(archive))
    assert [name for name, _ in report.skipped] == ["upload.zip/circle/a.png"]
    assert len(report.saved) == 1
    report = dataset.import_uploads(tmp_path, [("junk.zip", b"PK not a zip")])
    assert report.skipped[0][0] == "junk.zip" and "not a readable zip" in report.skipped[0][1]


def test_empty_upload_is_refused(tmp_path):
    with pytest.raises(ShapeCNNError, match="no files given"):
        dataset.import_uploads(tmp_path, [])


def _jpeg(shape: str) -> bytes:
    return _encoded(draw_outline(shape), "JPEG")


def _encoded(image: Image.Image, fmt: str = "PNG") -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt)
    return buffer.getvalue()


def test_imported_drawings_are_what_was_uploaded(tmp_path):
    from shapecnn.preprocess import preprocess

    report = dataset.import_uploads(tmp_path, [("c.png", png("triangle"))], label="t")
    np.testing.assert_allclose(
        preprocess(report.saved[0]), preprocess(draw_outline("triangle")), atol=1e-6
    )
