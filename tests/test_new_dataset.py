"""Starting a dataset beside the others (dataset.create_dataset, `new-dataset` on the command
line): empty or a copy, made whole or not at all, under a name with the rules of a label."""

from __future__ import annotations

import errno
import os
import stat
import unicodedata
from pathlib import Path

import pytest

from shapecnn import cli, dataset
from shapecnn.config import DEFAULT_DATA
from shapecnn.errors import DatasetError, InvalidLabelError, StorageError

from helpers import make_dataset


def tree(root: Path) -> dict[str, bytes]:
    """Every file under root (hidden ones too), by relative path, with its bytes."""
    return {
        str(path.relative_to(root)): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


def everything(root: Path) -> list[str]:
    return sorted(str(path.relative_to(root)) for path in root.rglob("*"))


@pytest.fixture
def source(tmp_path) -> Path:
    return make_dataset(tmp_path / "data" / "starter", per_class=4)


def test_an_empty_dataset_has_both_splits_and_no_class(tmp_path):
    root = dataset.create_dataset(tmp_path / "data", "letters")
    assert root == tmp_path / "data" / "letters"
    assert sorted(p.name for p in root.iterdir()) == ["test", "train"]
    assert dataset.count_images(root) == {}
    assert dataset.require_dataset(root) == root
    assert dataset.list_datasets(tmp_path / "data") == ["letters"]
    assert everything(tmp_path / "data") == ["letters", "letters/test", "letters/train"]


def test_a_copy_holds_every_drawing_and_its_strokes_and_the_source_is_only_read(tmp_path, source):
    drawing = dataset.list_images(source, "train", "circle")[0]
    drawing.with_suffix(".json").write_text('{"strokes": []}')  # strokes kept beside it
    (drawing.parent / ".tmp-0123.png").write_bytes(b"half a save")  # never a drawing
    (drawing.parent / "notes.txt").write_text("not a drawing")
    before = tree(source)
    root = dataset.create_dataset(tmp_path / "data", "mine", source)
    assert tree(source) == before
    copied = tree(root)
    expected = {
        name: data
        for name, data in before.items()
        if Path(name).suffix == ".png" and not Path(name).name.startswith(".")
    }
    expected[str(drawing.with_suffix(".json").relative_to(source))] = b'{"strokes": []}'
    assert copied == expected
    assert dataset.count_images(root) == dataset.count_images(source)
    assert dataset.list_datasets(tmp_path / "data") == ["mine", "starter"]


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("../x", "it must start and end with a letter or digit"),
        ("a/b", "'/' is not allowed"),
        (".hidden", "it must start and end with a letter or digit"),
        ("", "it has 0 characters"),
        ("x" * 41, "(it has 41 characters)"),
        ("my  shapes", "it has two spaces in a row"),
        ("\uff53\uff48\uff41\uff50\uff45\uff53", "uses look-alike characters"),  # full-width
        ("System Volume Information", "operating systems keep for themselves"),
    ],
)
def test_a_refused_name_is_one_line_and_writes_nothing(tmp_path, source, name, problem):
    before = everything(tmp_path)
    with pytest.raises(InvalidLabelError) as refused:
        dataset.create_dataset(tmp_path / "data", name, source)
    message = str(refused.value)
    assert "\n" not in message and problem in message
    assert message.startswith("dataset name ")
    assert everything(tmp_path) == before


def test_a_taken_name_or_a_case_twin_is_refused(tmp_path, source):
    folder = tmp_path / "data"
    (folder / "notes").write_text("a file, not a dataset")
    decomposed = unicodedata.normalize("NFD", "café")
    (folder / decomposed).mkdir()  # as macOS writes it
    before = everything(tmp_path)
    with pytest.raises(DatasetError, match=r"starter exists already; choose another"):
        dataset.create_dataset(folder, "starter")
    with pytest.raises(DatasetError, match="notes exists already"):
        dataset.create_dataset(folder, "notes")
    with pytest.raises(DatasetError, match="exists already"):
        dataset.create_dataset(folder, "café")  # the same name in the other Unicode form
    with pytest.raises(InvalidLabelError) as twin:
        dataset.create_dataset(folder, "Starter", source)
    assert "differs only by case from the existing dataset 'starter'" in str(twin.value)
    assert everything(tmp_path) == before


def test_a_disk_that_fills_up_half_way_leaves_nothing(tmp_path, source, monkeypatch):
    copied = []
    real_fsync = os.fsync

    def fsync(descriptor):
        if stat.S_ISREG(os.fstat(descriptor).st_mode):
            copied.append(descriptor)
            if len(copied) == 5:  # a few drawings copied, in the second class
                raise OSError(errno.ENOSPC, "No space left on device")
        real_fsync(descriptor)

    monkeypatch.setattr(os, "fsync", fsync)
    before = everything(tmp_path)
    with pytest.raises(StorageError) as full:
        dataset.create_dataset(tmp_path / "data", "mine", source)
    assert str(full.value) == (
        "the disk is full: the dataset 'mine' was not created; free some space and try again"
    )
    assert everything(tmp_path) == before  # no half dataset, no hidden work folder


def test_a_crash_while_copying_is_cleaned_up_by_the_next_one(tmp_path, source):
    left = tmp_path / "data" / f"{dataset.NEW_DATASET_PREFIX}0123abcd"
    (left / "train" / "circle").mkdir(parents=True)
    (left / "train" / "circle" / "a.png").write_bytes(b"half")
    assert dataset.list_datasets(tmp_path / "data") == ["starter"]  # hidden: never listed
    dataset.create_dataset(tmp_path / "data", "mine")
    assert not left.exists()


def test_only_folders_with_a_split_are_datasets(tmp_path, source):
    folder = tmp_path / "data"
    (folder / "empty folder").mkdir()
    (folder / "file.txt").write_text("x")
    (folder / ".hidden" / "train").mkdir(parents=True)
    (folder / "only test" / "test").mkdir(parents=True)
    assert dataset.list_datasets(folder) == ["only test", "starter"]
    assert dataset.list_datasets(tmp_path / "nowhere") == []


def test_the_cli_makes_a_copy_and_refuses_in_one_line(tmp_path, source, capsys):
    folder = tmp_path / "data"
    assert cli.main(["new-dataset", "mine", "--from", str(source), "--folder", str(folder)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "circle: 3 train, 1 test"
    assert out[-1] == f"created {folder / 'mine'} (12 drawings copied from {source})"
    assert cli.main(["new-dataset", "empty", "--folder", str(folder)]) == 0
    assert capsys.readouterr().out == f"created {folder / 'empty'} (empty)\n"
    assert cli.main(["new-dataset", "Mine", "--folder", str(folder)]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == (
        "python -m shapecnn new-dataset: error: dataset name 'Mine' differs only by case from "
        f"the existing dataset 'mine' in {folder}; use 'mine' or a different name\n"
    )
    assert dataset.list_datasets(folder) == ["empty", "mine", "starter"]


def test_the_cli_puts_new_datasets_beside_the_starter_by_default():
    args = cli.build_parser().parse_args(["new-dataset", "mine"])
    assert args.folder == DEFAULT_DATA.parent and args.source is None


def test_a_dataset_named_by_macos_is_listed_under_its_name_on_disk(tmp_path):
    decomposed = unicodedata.normalize("NFD", "café")
    (tmp_path / decomposed / "train").mkdir(parents=True)
    (name,) = dataset.list_datasets(tmp_path)
    assert name == decomposed and (tmp_path / name / "train").is_dir()
    with pytest.raises(DatasetError, match="exists already"):
        dataset.create_dataset(tmp_path, "café")  # typed on Linux: the same dataset
