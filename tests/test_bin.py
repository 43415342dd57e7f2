"""The dataset's bin (issue 15 point 4): a delete moves drawings into data/<dataset>/.bin/, an
undo puts them back where they were, both all or nothing, and old entries are cleaned.

Faults a test cannot produce for real at one exact moment (a disk error on the third file, a file
system without hard links) are injected at the os level; crashes are real kill -9s.
"""

from __future__ import annotations

import errno
import os
import signal
import subprocess
import sys
import textwrap
import time
import unicodedata
from pathlib import Path

import pytest

from shapecnn import dataset
from shapecnn.config import BIN_KEEP_SECONDS, PROJECT_ROOT
from shapecnn.errors import DatasetError, InvalidLabelError, ShapeCNNError, StorageError

from helpers import SHAPES, canvas_rgba, draw_outline


def every_file(root: Path) -> dict[str, bytes]:
    """{path relative to root: bytes} of every file, hidden ones and the bin's included."""
    return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def outside_the_bin(root: Path) -> dict[str, bytes]:
    return {name: data for name, data in every_file(root).items() if not name.startswith(".bin")}


def work_folders(root: Path) -> list[str]:
    return sorted(p.name for p in root.iterdir() if p.name.startswith(".") and p.name != ".bin")


def test_deleted_drawings_wait_in_the_bin_where_nothing_reads_them(dataset_root):
    before = dataset.count_images(dataset_root)
    victims = dataset.list_images(dataset_root, "train", "circle")[:2]
    deleted = dataset.delete_images(dataset_root, victims)
    assert [p.name for p in deleted.paths] == [p.name for p in victims]
    entry = dataset_root / ".bin" / deleted.entry
    assert sorted(p.relative_to(entry).as_posix() for p in entry.rglob("*.png")) == sorted(
        f"train/circle/{p.name}" for p in victims
    )
    assert not any(p.exists() for p in victims)
    # Nothing that lists, counts, checks or trains on the dataset sees the bin.
    assert dataset.count_images(dataset_root)["circle"]["train"] == before["circle"]["train"] - 2
    assert dataset.list_classes(dataset_root) == list(SHAPES)
    assert dataset.find_problems(dataset_root) == []
    # What training reads (training.load_training_data loads both splits so).
    splits = [dataset.load_samples(dataset_root, split) for split in ("train", "test")]
    assert all(samples.class_names == list(SHAPES) for samples in splits)
    assert {p.name for samples in splits for p in samples.paths}.isdisjoint(p.name for p in victims)
    assert (
        sum(len(samples) for samples in splits) == sum(sum(c.values()) for c in before.values()) - 2
    )
    # A dataset read as one folder of class folders skips the hidden bin too.
    assert dataset.list_class_folders(dataset_root) == ["test", "train"]
    assert work_folders(dataset_root) == []


def test_undo_puts_every_drawing_back_under_its_own_name_with_its_strokes(dataset_root):
    drawing = canvas_rgba(draw_outline("triangle"))
    kept = dataset.save_drawing(
        dataset_root, "star", drawing, "test", strokes=[[[60, 200, 140], [200, 200, 60]]]
    )
    assert kept.with_suffix(".json").is_file()
    before = every_file(dataset_root)
    victims = [kept, *dataset.list_images(dataset_root, "train", "circle")[:3]]
    deleted = dataset.delete_images(dataset_root, victims)
    # The class's last drawing went: its folder went, and with it the class.
    assert not (dataset_root / "test" / "star").exists()
    assert "star" not in dataset.list_classes(dataset_root)
    assert not kept.with_suffix(".json").exists()  # the strokes went with their drawing
    restored = dataset.restore_deleted(dataset_root, deleted.entry)
    assert sorted(restored) == sorted(victims)
    assert every_file(dataset_root) == before  # same names, same bytes, no bin entry left
    assert not (dataset_root / ".bin" / deleted.entry).exists()
    assert "star" in dataset.list_classes(dataset_root)
    with pytest.raises(DatasetError, match="nothing to undo: the deleted drawings are no longer"):
        dataset.restore_deleted(dataset_root, deleted.entry)


def test_a_delete_that_cannot_be_whole_deletes_nothing(dataset_root, tmp_path):
    before = every_file(dataset_root)
    circles = dataset.list_images(dataset_root, "train", "circle")
    outside = tmp_path / "train" / "circle" / "x.png"
    outside.parent.mkdir(parents=True)
    outside.write_bytes(circles[0].read_bytes())
    with pytest.raises(ShapeCNNError, match="is not a drawing of the dataset"):
        dataset.delete_images(dataset_root, [circles[0], outside])
    gone = circles[1].with_name("20200101-000000-000000-00000000.png")
    with pytest.raises(
        DatasetError, match=r"1 of the 2 drawings no longer exist .*nothing deleted"
    ):
        dataset.delete_images(dataset_root, [circles[0], gone])
    assert every_file(dataset_root) == before


def fail_on_call(monkeypatch, number: int, error: int = errno.EIO) -> None:
    """os.link fails with `error` on its `number`-th call (a disk error at that moment)."""
    real, calls = os.link, []

    def link(source, target, *args, **kwargs):
        calls.append(target)
        if len(calls) == number:
            raise OSError(error, os.strerror(error), str(source), None, str(target))
        return real(source, target, *args, **kwargs)

    monkeypatch.setattr(os, "link", link)


def test_an_error_half_way_through_a_delete_moves_everything_back(dataset_root, monkeypatch):
    before = every_file(dataset_root)
    victims = dataset.list_images(dataset_root, "test", "rectangle")  # the whole class and split
    fail_on_call(monkeypatch, 2)
    with pytest.raises(StorageError, match=r"nothing deleted \(0 of 2 drawings\)"):
        dataset.delete_images(dataset_root, victims)
    assert every_file(dataset_root) == before
    assert work_folders(dataset_root) == []
    assert list((dataset_root / ".bin").iterdir()) == []  # no empty entry left behind


def test_an_error_half_way_through_an_undo_restores_nothing(dataset_root, monkeypatch):
    deleted = dataset.delete_images(
        dataset_root, dataset.list_images(dataset_root, "test", "circle")
    )
    after_delete = every_file(dataset_root)
    fail_on_call(monkeypatch, 2)
    with pytest.raises(StorageError, match="nothing restored"):
        dataset.restore_deleted(dataset_root, deleted.entry)
    assert every_file(dataset_root) == after_delete
    assert not (dataset_root / "test" / "circle").exists()  # no empty class folder made
    monkeypatch.undo()
    assert len(dataset.restore_deleted(dataset_root, deleted.entry)) == 2


def test_an_undo_never_replaces_a_file_that_took_a_name_since(dataset_root):
    victims = dataset.list_images(dataset_root, "train", "triangle")[:2]
    deleted = dataset.delete_images(dataset_root, victims)
    victims[1].write_bytes(b"someone else's file")
    before = every_file(dataset_root)
    with pytest.raises(DatasetError, match=rf"cannot undo: train/triangle/{victims[1].name} "):
        dataset.restore_deleted(dataset_root, deleted.entry)
    assert every_file(dataset_root) == before  # neither drawing restored, the new file kept
    victims[1].unlink()
    assert sorted(dataset.restore_deleted(dataset_root, deleted.entry)) == victims


def test_an_undo_that_would_make_a_case_twin_is_refused(dataset_root):
    deleted = dataset.delete_images(
        dataset_root, dataset.list_images(dataset_root, "test", "circle")
    )
    drawing = canvas_rgba(draw_outline("circle"))
    dataset.delete_class(dataset_root, "circle")
    dataset.save_drawing(dataset_root, "Circle", drawing, "train")
    with pytest.raises(InvalidLabelError, match="differs only by case"):
        dataset.restore_deleted(dataset_root, deleted.entry)
    assert not (dataset_root / "test" / "circle").exists()
    assert dataset.list_classes(dataset_root) == ["Circle", "rectangle", "triangle"]


def test_an_undo_joins_the_class_whatever_unicode_form_its_folder_has_now(tmp_path):
    composed = "café"
    decomposed = unicodedata.normalize("NFD", composed)
    (tmp_path / "train" / decomposed).mkdir(parents=True)  # as macOS writes it
    drawing = canvas_rgba(draw_outline("circle"))
    first = dataset.save_drawing(tmp_path, composed, drawing, "train")
    assert first.parent.name == decomposed
    deleted = dataset.delete_images(tmp_path, [first])
    assert not (tmp_path / "train" / decomposed).exists()
    second = dataset.save_drawing(tmp_path, composed, drawing, "train")  # a new, composed folder
    assert second.parent.name == composed
    restored = dataset.restore_deleted(tmp_path, deleted.entry)
    assert restored == [second.parent / first.name]  # beside it: one class, one folder
    assert os.listdir(tmp_path / "train") == [composed]
    assert dataset.count_images(tmp_path) == {composed: {"train": 2, "test": 0}}


def test_delete_and_undo_work_without_hard_links(dataset_root, monkeypatch):
    def link(source, target, *args, **kwargs):
        raise OSError(errno.EPERM, os.strerror(errno.EPERM), str(source), None, str(target))

    monkeypatch.setattr(os, "link", link)
    before = every_file(dataset_root)
    deleted = dataset.delete_images(
        dataset_root, dataset.list_images(dataset_root, "train", "circle")
    )
    assert dataset.count_images(dataset_root)["circle"]["train"] == 0
    dataset.restore_deleted(dataset_root, deleted.entry)
    assert every_file(dataset_root) == before


def test_only_entries_of_the_bin_can_be_restored():
    for entry in ("../train", "", "20260101-000000-000000-0000000g", None):
        with pytest.raises(ShapeCNNError, match="not an entry of the bin"):
            dataset.restore_deleted("/nonexistent", entry)


def test_the_leftovers_cleaner_empties_the_bin_of_entries_older_than_a_week(dataset_root):
    circles = dataset.list_images(dataset_root, "train", "circle")
    old = dataset.delete_images(dataset_root, circles[:1])
    new = dataset.delete_images(dataset_root, circles[1:2])
    week_ago = time.time() - BIN_KEEP_SECONDS - 60
    os.utime(dataset_root / ".bin" / old.entry, (week_ago, week_ago))
    stranger = dataset_root / ".bin" / "notes"  # not one of ours: left alone
    stranger.mkdir()
    os.utime(stranger, (week_ago, week_ago))
    assert dataset.clean_temp_files(dataset_root) == 1
    assert sorted(p.name for p in (dataset_root / ".bin").iterdir()) == sorted([new.entry, "notes"])
    with pytest.raises(DatasetError, match="nothing to undo"):
        dataset.restore_deleted(dataset_root, old.entry)
    assert dataset.restore_deleted(dataset_root, new.entry) == [circles[1]]


# --- killed half way ----------------------------------------------------------------------------

# Runs a delete or an undo in a child process that pauses (to be killed) after its second file
# was moved ("between files") or right after the second file's hard link, before the old name
# goes ("after a link").
MOVE_WITH_HOOK = textwrap.dedent(
    """
    import sys, time
    from shapecnn import dataset

    root, action, point, *args = sys.argv[1:]
    hooked = "_move_file" if point == "between" else "_claim"
    real, calls = getattr(dataset, hooked), []

    def pausing(source, target):
        result = real(source, target)
        calls.append(target)
        if len(calls) == 2:
            print("PAUSED", flush=True)
            time.sleep(120)
        return result

    setattr(dataset, hooked, pausing)
    if action == "delete":
        print(dataset.delete_images(root, args).entry, flush=True)
    else:
        dataset.restore_deleted(root, args[0])
    """
)


def run_until_paused_then_kill(*args) -> None:
    process = subprocess.Popen(
        [sys.executable, "-c", MOVE_WITH_HOOK, *map(str, args)],
        cwd=PROJECT_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    line = process.stdout.readline()
    if line.strip() != "PAUSED":
        process.kill()
        raise AssertionError(f"no pause: {line!r} {process.stderr.read()[-2000:]}")
    os.kill(process.pid, signal.SIGKILL)
    assert process.wait(30) == -signal.SIGKILL
    process.stdout.close()
    process.stderr.close()


@pytest.mark.parametrize("point", ["between", "after-link"])
def test_a_delete_or_an_undo_killed_half_way_is_finished_by_the_next_clean_up(dataset_root, point):
    before = every_file(dataset_root)
    victims = dataset.list_images(dataset_root, "train", "rectangle")[:4]
    run_until_paused_then_kill(dataset_root, "delete", point, *victims)
    assert work_folders(dataset_root)  # the killed delete's plan is there
    dataset.clean_temp_files(dataset_root)  # as the page and `info` do when they start
    assert work_folders(dataset_root) == []
    assert not any(p.exists() for p in victims)  # all four are in the bin, none twice
    (entry,) = (dataset_root / ".bin").iterdir()
    assert sorted(p.name for p in entry.rglob("*.png")) == sorted(p.name for p in victims)
    run_until_paused_then_kill(dataset_root, "restore", point, entry.name)
    dataset.clean_temp_files(dataset_root)
    assert every_file(dataset_root) == before
    assert work_folders(dataset_root) == []
    assert outside_the_bin(dataset_root) == before
