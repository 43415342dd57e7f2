import multiprocessing
import os
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from shapecnn import dataset
from shapecnn.errors import BlankDrawingError, InvalidImageError, InvalidLabelError, ShapeCNNError

from helpers import SHAPES, canvas_rgba, draw_outline


def test_classes_are_sorted_folder_names_as_keras_reads_them(dataset_root):
    import keras

    (dataset_root / "train" / "Zebra").mkdir()
    draw_outline("circle").save(dataset_root / "train" / "Zebra" / "z.png")
    keras_data = keras.utils.image_dataset_from_directory(
        dataset_root / "train", image_size=(24, 24), batch_size=4, verbose=False
    )
    assert dataset.list_classes(dataset_root) == keras_data.class_names
    assert dataset.list_classes(dataset_root) == ["Zebra", "circle", "rectangle", "triangle"]


def test_counts_per_class_and_split(dataset_root):
    counts = dataset.count_images(dataset_root)
    assert counts == {name: {"train": 6, "test": 2} for name in SHAPES}


def test_saved_drawing_lands_in_its_class_folder_as_a_png(tmp_path):
    path = dataset.save_drawing(tmp_path, "circle", canvas_rgba(draw_outline("circle")), "train")
    assert path.parent == tmp_path / "train" / "circle"
    assert path.suffix == ".png"
    with Image.open(path) as image:
        assert image.size == (280, 280)
        assert image.mode == "L"
        assert np.asarray(image).min() == 0  # the ink is there
    assert [p.name for p in tmp_path.rglob("*") if p.is_file()] == [path.name]


def test_auto_split_keeps_one_in_four_in_test_like_the_tutorial(tmp_path):
    for _ in range(20):
        dataset.save_drawing(tmp_path, "triangle", draw_outline("triangle"))
    assert dataset.count_images(tmp_path) == {"triangle": {"train": 15, "test": 5}}


def test_blank_drawing_is_refused_and_nothing_is_written(tmp_path):
    with pytest.raises(BlankDrawingError, match="blank"):
        dataset.save_drawing(tmp_path, "circle", np.full((280, 280, 4), 255, np.uint8))
    assert not any(tmp_path.iterdir())


@pytest.mark.parametrize(
    "label", ["circle", "big circle", "a-b_c", "원", "삼각형", "नमस्ते", "x2", "7", "A" * 40]
)
def test_allowed_labels(label):
    assert dataset.validate_label(label) == label


@pytest.mark.parametrize(
    "label",
    [
        "",
        ".",
        "..",
        "a/b",
        "a\\b",
        "../x",
        "a\x00b",
        "tab\tx",
        "A" * 41,
        " a",
        "a ",
        "a  b",
        "-a",
        "a.b",
        "a\nb",
        "C:x",
    ],
)
def test_refused_labels_say_what_is_allowed_and_echo_the_input(tmp_path, label):
    with pytest.raises(InvalidLabelError) as error:
        dataset.save_drawing(tmp_path, label, draw_outline("circle"))
    message = str(error.value)
    assert "1 to 40 characters" in message
    assert repr(label) in message
    assert not any(tmp_path.iterdir())


def test_label_differing_only_by_case_from_a_class_is_refused(dataset_root):
    with pytest.raises(InvalidLabelError, match=r"'Circle' differs only by case.*'circle'"):
        dataset.save_drawing(dataset_root, "Circle", draw_outline("circle"))
    assert not (dataset_root / "train" / "Circle").exists()


def test_import_is_all_or_nothing_and_names_each_refused_file(tmp_path):
    good = tmp_path / "good.png"
    draw_outline("circle").save(good)
    blank = tmp_path / "blank.png"
    Image.new("RGB", (50, 50), "white").save(blank)
    text = tmp_path / "notes.txt"
    text.write_text("hello")
    root = tmp_path / "data"
    with pytest.raises(InvalidImageError) as error:
        dataset.import_images(root, "circle", [good, blank, text])
    assert "blank.png" in str(error.value) and "notes.txt" in str(error.value)
    assert "nothing imported" in str(error.value)
    assert not root.exists()
    saved = dataset.import_images(root, "circle", [good, good, good, good])
    assert [p.parent.parent.name for p in saved] == ["train", "train", "train", "test"]


def _save_many(root, count):
    for _ in range(count):
        dataset.save_drawing(root, "circle", draw_outline("circle"), "train")


def test_concurrent_saves_into_one_class_keep_every_drawing(tmp_path):
    context = multiprocessing.get_context("spawn")
    workers = [context.Process(target=_save_many, args=(tmp_path, 10)) for _ in range(8)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
        assert worker.exitcode == 0
    files = dataset.list_images(tmp_path, "train", "circle")
    assert len(files) == len({f.name for f in files}) == 80
    for path in files:
        with Image.open(path) as image:
            image.load()
    assert not list(tmp_path.rglob(".tmp-*"))


def test_unreadable_files_are_skipped_and_named(dataset_root):
    folder = dataset_root / "train" / "circle"
    (folder / "notes.txt").write_text("not an image")
    (folder / "empty.png").write_bytes(b"")
    with pytest.warns(UserWarning) as warned:
        samples = dataset.load_samples(dataset_root, "train")
    named = sorted(Path(str(w.message).split(": ")[0]).name for w in warned)
    assert named == ["empty.png", "notes.txt"]
    assert len(samples) == 18
    assert {path.name for path, _ in samples.skipped} == {"notes.txt", "empty.png"}
    assert {path.name for path, _ in dataset.find_problems(dataset_root)} == {
        "notes.txt",
        "empty.png",
    }


def test_samples_follow_the_given_class_order(dataset_root):
    samples = dataset.load_samples(dataset_root, "test", ["triangle", "circle"])
    assert samples.x.shape == (4, 24, 24, 3)
    assert samples.y.tolist() == [0, 0, 1, 1]
    assert all(p.parent.name == "triangle" for p in samples.paths[:2])


def test_leftover_temporary_files_are_ignored_and_cleaned(dataset_root):
    folder = dataset_root / "train" / "circle"
    leftover = folder / ".tmp-crashed.png"
    leftover.write_bytes(b"\x89PNG half")
    assert leftover not in dataset.list_images(dataset_root, "train", "circle")
    assert dataset.count_images(dataset_root)["circle"]["train"] == 6
    assert dataset.clean_temp_files(dataset_root) == 0  # might be a save in progress
    old = time.time() - 3600
    os.utime(leftover, (old, old))
    assert dataset.clean_temp_files(dataset_root) == 1
    assert not leftover.exists()


def test_move_and_delete_a_drawing(dataset_root):
    path = dataset.list_images(dataset_root, "train", "circle")[0]
    moved = dataset.move_image(dataset_root, path, "test", "triangle")
    assert not path.exists() and moved.parent == dataset_root / "test" / "triangle"
    dataset.delete_image(dataset_root, moved)
    assert not moved.exists()
    counts = dataset.count_images(dataset_root)
    assert counts["circle"]["train"] == 5 and counts["triangle"]["test"] == 2
    with pytest.raises(ShapeCNNError, match="not a drawing of the dataset"):
        dataset.delete_image(dataset_root, dataset_root.parent / "elsewhere.png")


# --- junk in the dataset ------------------------------------------------------------------------


def _good_variants(folder: Path) -> list[str]:
    """The same circle saved in every format and pixel mode people's files come in."""
    base = draw_outline("circle")
    ink = base.convert("L").point(lambda v: 255 - v)
    transparent = Image.new("RGBA", base.size, (255, 0, 0, 0))  # invisible red paper
    transparent.paste((0, 0, 0, 255), mask=ink)
    # Palette index 0 (red) is transparent paper, index 1 black ink.
    paletted = Image.new("P", base.size, 0)
    paletted.putpalette([255, 0, 0, 0, 0, 0])
    paletted.paste(1, mask=ink.point(lambda v: 255 * (v > 127)))
    paletted.save(folder / "paletted-transparent.png", transparency=0)
    variants = {
        "gray.png": base.convert("L"),
        "gray16.png": Image.fromarray(np.asarray(base.convert("L")).astype(np.uint16) * 257),
        "bilevel.png": base.convert("1"),
        "paletted.png": base.convert("P", palette=Image.Palette.ADAPTIVE, colors=4),
        "rgba.png": transparent,
        "gray-alpha.png": transparent.convert("LA"),
        "photo.jpg": base,
        "GRAY.JPEG": base.convert("L"),
        "cmyk.jpeg": base.convert("CMYK"),
    }
    for name, image in variants.items():
        image.save(folder / name)
    return [*variants, "paletted-transparent.png"]


def _bad_files(folder: Path) -> set[str]:
    from test_preprocess import _png_claiming

    good = folder / "gray.png"
    (folder / "notes.txt").write_text("not an image")
    (folder / "README").write_text("no suffix at all")
    (folder / "empty.png").write_bytes(b"")
    (folder / "truncated.png").write_bytes(good.read_bytes()[:300])
    (folder / "bomb.png").write_bytes(_png_claiming(10_000, 10_000))
    (folder / "text.png").write_text("a text file named like a PNG")
    (folder / "blank.png").write_bytes(_encoded(Image.new("RGB", (80, 80), "white")))
    return {
        "notes.txt",
        "README",
        "empty.png",
        "truncated.png",
        "bomb.png",
        "text.png",
        "blank.png",
    }


def _encoded(image: Image.Image, fmt: str = "PNG") -> bytes:
    import io

    buffer = io.BytesIO()
    image.save(buffer, format=fmt)
    return buffer.getvalue()


def test_every_good_image_kind_is_used_and_every_bad_file_named(tmp_path):
    root = tmp_path / "data"
    folder = root / "train" / "circle"
    folder.mkdir(parents=True)
    variants = _good_variants(folder)
    bad = _bad_files(folder)
    (folder / "subfolder").mkdir()  # not a file: neither used nor a problem

    with pytest.warns(UserWarning) as warned:
        samples = dataset.load_samples(root, "train")
    assert sorted(p.name for p in samples.paths) == sorted(variants)
    assert {path.name for path, _ in samples.skipped} == bad
    assert {
        Path(str(w.message).removeprefix("skipped ").split(": ")[0]).name for w in warned
    } == bad
    # Every kind, once decoded, is the same drawing to the model.
    from shapecnn.preprocess import preprocess

    expected = preprocess(draw_outline("circle"))
    for path, x in zip(samples.paths, samples.x, strict=True):
        assert np.abs(x - expected).mean() < 0.02, path.name

    reasons = dict((path.name, reason) for path, reason in dataset.find_problems(root))
    assert set(reasons) == bad
    assert "10000x10000" in reasons["bomb.png"]
    assert "empty file" in reasons["empty.png"]
    assert "blank" in reasons["blank.png"]
    assert "not an image" in reasons["notes.txt"]


def test_find_problems_decodes_each_file_version_once(dataset_root, monkeypatch):
    from shapecnn import preprocess as preprocess_module

    decoded = []
    real_open = preprocess_module.open_image
    monkeypatch.setattr(
        preprocess_module,
        "open_image",
        lambda path, *a, **k: decoded.append(path) or real_open(path, *a, **k),
    )
    dataset.find_problems(dataset_root)
    first = len(decoded)
    assert first == 24
    dataset.find_problems(dataset_root)
    assert len(decoded) == first  # nothing changed: nothing decoded again
    victim = dataset.list_images(dataset_root, "train", "circle")[0]
    victim.write_text("now broken")
    new = dataset.save_drawing(dataset_root, "circle", draw_outline("circle"))
    problems = dataset.find_problems(dataset_root)
    assert sorted(Path(p).name for p in decoded[first:]) == sorted([victim.name, new.name])
    assert [path for path, _ in problems] == [victim]


def _class_folder_with(tmp_path, count: int) -> Path:
    folder = tmp_path / "data" / "train" / "circle"
    folder.mkdir(parents=True)
    for index in range(count):
        (folder / f"{index:03d}.png").write_bytes(b"png")
    return folder


def test_counts_follow_every_change_of_a_folder_counted_before(tmp_path):
    # An unchanged folder's count is kept (a page run counts every class); the folder must have
    # settled past the file system clock's tick for that, so wait as a user between saves would.
    folder = _class_folder_with(tmp_path, 3)
    time.sleep(dataset.RACY_NS / 1e9 + 0.1)
    root = tmp_path / "data"
    assert dataset.count_images(root)["circle"]["train"] == 3
    assert dataset.count_images(root)["circle"]["train"] == 3  # kept: the folder did not change
    (folder / "new.png").write_bytes(b"png")
    assert dataset.count_images(root)["circle"]["train"] == 4
    (folder / "000.png").rename(tmp_path / "away.png")
    (folder / "001.png").unlink()
    assert dataset.count_images(root)["circle"]["train"] == 2
    (folder / "002.png").rename(folder / "002.txt")
    assert dataset.count_images(root)["circle"]["train"] == 1


def test_a_drawing_linked_into_a_folder_counts_only_while_its_target_exists(tmp_path):
    folder = _class_folder_with(tmp_path, 1)
    target = tmp_path / "elsewhere.png"
    target.write_bytes(b"png")
    (folder / "linked.png").symlink_to(target)
    time.sleep(dataset.RACY_NS / 1e9 + 0.1)
    root = tmp_path / "data"
    assert dataset.count_images(root)["circle"]["train"] == 2
    target.unlink()  # the folder itself does not change
    assert dataset.count_images(root)["circle"]["train"] == 1
