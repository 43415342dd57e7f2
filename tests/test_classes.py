"""Managing classes: deleting and renaming them, and emptied class folders that never block
training (issue 14 "A class emptied in the page", issue 15 point 1)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import unicodedata

import pytest

from shapecnn import dataset
from shapecnn.config import PROJECT_ROOT
from shapecnn.errors import DatasetError, InvalidLabelError

from helpers import SHAPES, canvas_rgba, draw_outline


def drawings_of(root, label):
    return {split: dataset.list_images(root, split, label) for split in ("train", "test")}


def test_an_empty_class_folder_is_not_a_class(dataset_root):
    (dataset_root / "train" / "star").mkdir()
    (dataset_root / "test" / "star").mkdir()
    (dataset_root / "train" / "junk").mkdir()
    (dataset_root / "train" / "junk" / "notes.txt").write_text("no image here")
    assert dataset.list_classes(dataset_root) == list(SHAPES)
    assert set(dataset.count_images(dataset_root)) == set(SHAPES)
    # The junk file is still named, so the user learns why 'junk' is no class.
    assert [p.name for p, _ in dataset.find_problems(dataset_root)] == ["notes.txt"]


def test_an_empty_class_folder_does_not_block_training(dataset_root):
    from shapecnn.training import load_training_data

    (dataset_root / "train" / "star").mkdir()
    (dataset_root / "test" / "star").mkdir()
    data = load_training_data(dataset_root)
    assert data.class_names == list(SHAPES)


def test_deleting_a_class_s_last_drawing_removes_its_folder(dataset_root):
    path = dataset.save_drawing(dataset_root, "star", canvas_rgba(draw_outline("circle")), "train")
    dataset.delete_image(dataset_root, path)
    assert not (dataset_root / "train" / "star").exists()
    assert "star" not in dataset.list_classes(dataset_root)


def test_moving_a_class_s_last_drawing_removes_its_folder(dataset_root):
    path = dataset.save_drawing(dataset_root, "star", canvas_rgba(draw_outline("circle")), "test")
    moved = dataset.move_image(dataset_root, path, "train", "circle")
    assert moved.parent == dataset_root / "train" / "circle"
    assert not (dataset_root / "test" / "star").exists()
    assert dataset.list_classes(dataset_root) == list(SHAPES)


def test_delete_class_removes_it_from_both_splits(dataset_root):
    assert dataset.delete_class(dataset_root, "circle") == 8
    assert dataset.list_classes(dataset_root) == ["rectangle", "triangle"]
    assert not (dataset_root / "train" / "circle").exists()
    assert not (dataset_root / "test" / "circle").exists()
    assert not [p for p in dataset_root.iterdir() if p.name.startswith(dataset.TRASH_PREFIX)]
    assert dataset.count_images(dataset_root)["triangle"] == {"train": 6, "test": 2}


def test_delete_class_refuses_an_unknown_or_invalid_name(dataset_root):
    with pytest.raises(DatasetError, match=r"no class 'star' in .*'circle', 'rectangle'"):
        dataset.delete_class(dataset_root, "star")
    with pytest.raises(InvalidLabelError, match="label must be"):
        dataset.delete_class(dataset_root, "../train")
    assert dataset.list_classes(dataset_root) == list(SHAPES)


def test_rename_class_keeps_every_drawing(dataset_root):
    before = {
        split: [p.name for p in paths]
        for split, paths in drawings_of(dataset_root, "circle").items()
    }
    assert dataset.rename_class(dataset_root, "circle", "ring") == "ring"
    assert dataset.list_classes(dataset_root) == ["rectangle", "ring", "triangle"]
    after = {
        split: [p.name for p in paths] for split, paths in drawings_of(dataset_root, "ring").items()
    }
    assert after == before
    assert not [p for p in dataset_root.iterdir() if p.name.startswith(dataset.RENAME_PREFIX)]


def test_rename_class_may_change_only_the_case_of_its_own_name(dataset_root):
    assert dataset.rename_class(dataset_root, "circle", "Circle") == "Circle"
    assert dataset.list_classes(dataset_root) == ["Circle", "rectangle", "triangle"]


@pytest.mark.parametrize(
    ("new", "message"),
    [
        ("triangle", "a class 'triangle' exists already"),
        ("Triangle", "differs only by case from the class 'triangle'"),
        ("", "label must be"),
        ("a/b", "label must be"),
        ("x" * 41, "41 characters"),
    ],
)
def test_rename_class_refuses_a_taken_or_invalid_name(dataset_root, new, message):
    with pytest.raises(InvalidLabelError, match=message):
        dataset.rename_class(dataset_root, "circle", new)
    assert dataset.list_classes(dataset_root) == list(SHAPES)
    assert dataset.count_images(dataset_root)["circle"] == {"train": 6, "test": 2}


def test_rename_class_refuses_an_unknown_class(dataset_root):
    with pytest.raises(DatasetError, match="no class 'star'"):
        dataset.rename_class(dataset_root, "star", "sun")


def test_rename_and_delete_find_a_class_folder_written_in_decomposed_unicode(tmp_path):
    decomposed = unicodedata.normalize("NFD", "café")
    folder = tmp_path / "train" / decomposed
    folder.mkdir(parents=True)
    draw_outline("circle").save(folder / "a.png")
    assert dataset.list_classes(tmp_path) == ["café"]
    assert dataset.rename_class(tmp_path, "café", "bar") == "bar"
    assert dataset.count_images(tmp_path) == {"bar": {"train": 1, "test": 0}}
    assert dataset.delete_class(tmp_path, "bar") == 1
    assert dataset.list_classes(tmp_path) == []


def test_a_delete_killed_half_way_is_finished_by_the_next_write(dataset_root):
    # What delete_class leaves if killed after moving the train folder only: its trash folder
    # with the plan (no live owner), and the test folder still in place.
    trash = dataset_root / f"{dataset.TRASH_PREFIX}crashed"
    trash.mkdir()
    (trash / "plan.json").write_text('{"label": "circle"}')
    (dataset_root / "train" / "circle").rename(trash / "train-0")
    dataset.save_drawing(dataset_root, "triangle", canvas_rgba(draw_outline("triangle")))
    assert "circle" not in dataset.list_classes(dataset_root)
    assert not (dataset_root / "test" / "circle").exists()
    assert not trash.exists()


def test_a_rename_killed_half_way_is_finished_by_the_next_write(dataset_root):
    journal = dataset_root / f"{dataset.RENAME_PREFIX}crashed"
    journal.mkdir()
    (journal / "plan.json").write_text('{"old": "circle", "new": "ring"}')
    (dataset_root / "train" / "circle").rename(dataset_root / "train" / "ring")
    assert dataset.clean_temp_files(dataset_root) == 1
    assert dataset.count_images(dataset_root)["ring"] == {"train": 6, "test": 2}
    assert "circle" not in dataset.list_classes(dataset_root)
    assert not journal.exists()


# Deletes or renames a class in a child process that pauses after moving its train folder, so
# the test can kill it (-9) exactly there.
CLASS_OP_WITH_HOOK = textwrap.dedent(
    """
    import os, sys, time
    from shapecnn import dataset

    root, operation = sys.argv[1], sys.argv[2]
    real_rename = os.rename

    def rename(source, target):
        real_rename(source, target)
        if os.path.basename(os.path.dirname(str(source))) == "train":
            print("PAUSED", flush=True)
            time.sleep(600)

    os.rename = rename
    if operation == "delete":
        dataset.delete_class(root, "circle")
    else:
        dataset.rename_class(root, "circle", "ring")
    """
)


@pytest.mark.parametrize("operation", ["delete", "rename"])
def test_a_class_operation_killed_half_way_is_finished_by_the_next_write(dataset_root, operation):
    process = subprocess.Popen(
        [sys.executable, "-c", CLASS_OP_WITH_HOOK, str(dataset_root), operation],
        cwd=PROJECT_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout.readline() == "PAUSED\n", process.stderr.read()
    finally:
        process.kill()
        process.wait(30)
        process.stdout.close()
        process.stderr.close()
    # Killed with the train folder moved and the test folder not yet.
    assert (dataset_root / "test" / "circle").exists()
    dataset.save_drawing(dataset_root, "triangle", canvas_rgba(draw_outline("triangle")))
    counts = dataset.count_images(dataset_root)
    assert "circle" not in counts
    if operation == "rename":
        assert counts["ring"] == {"train": 6, "test": 2}
    assert sorted(p.name for p in dataset_root.iterdir()) == ["test", "train"]  # no leftovers


def test_list_class_folders_can_leave_out_empty_ones(dataset_root):
    (dataset_root / "test" / "star").mkdir()
    assert dataset.list_class_folders(dataset_root / "test") == sorted([*SHAPES, "star"])
    assert dataset.list_class_folders(dataset_root / "test", with_images=True) == list(SHAPES)
