"""Nothing lost, nothing half written, one class one folder (issue 14).

Imports land whole or not at all when killed (-9) or when the disk fills; saves work where
the file system has no hard links; class names are one class whatever their Unicode form or
whoever saves at the same moment; the dataset folder may hold anything without crashing.
Faults that a test cannot produce for real (a file system without hard links, a disk that
fills at one exact moment) are injected at the os level; a real full disk is a small tmpfs.
"""

from __future__ import annotations

import errno
import io
import multiprocessing
import os
import random
import signal
import subprocess
import sys
import textwrap
import time
import unicodedata
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw

from shapecnn import dataset
from shapecnn.config import PROJECT_ROOT
from shapecnn.errors import InvalidLabelError, StorageError

from helpers import SHAPES, canvas_rgba, draw_outline


def images(folder: Path, n: int, shape: str = "circle", busy: bool = False) -> list[Path]:
    """n image files; busy ones (many random strokes) are large once stored."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = random.Random(n)
    paths = []
    for index in range(n):
        image = draw_outline(shape)
        if busy:
            pen = ImageDraw.Draw(image)
            for _ in range(300):
                points = [(rng.randrange(280), rng.randrange(280)) for _ in range(2)]
                pen.line(points, fill="black", width=1)
        path = folder / f"{shape}-{index}.png"
        image.save(path)
        paths.append(path)
    return paths


def visible_files(root: Path) -> list[Path]:
    """Every file in the dataset, hidden ones included."""
    return sorted(p for p in root.rglob("*") if p.is_file())


def work_folders(root: Path) -> list[str]:
    prefixes = (dataset.STAGING_PREFIX, dataset.TRASH_PREFIX, dataset.RENAME_PREFIX)
    return [p.name for p in root.iterdir() if p.name.startswith(prefixes)] if root.exists() else []


def png(shape: str = "circle") -> bytes:
    buffer = io.BytesIO()
    draw_outline(shape).save(buffer, format="PNG")
    return buffer.getvalue()


def make_zip(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return buffer.getvalue()


# --- kill -9 during an import -------------------------------------------------------------------

IMPORT_WITH_HOOK = textwrap.dedent(
    """
    import os, sys, time
    from shapecnn import dataset

    root, point, *paths = sys.argv[1:]

    def pause():
        print("PAUSED", flush=True)
        time.sleep(600)

    if point == "staging":  # five files staged, none published
        real_add = dataset._Staging.add
        def add(self, *args):
            real_add(self, *args)
            if len(self.files) == 5:
                pause()
        dataset._Staging.add = add
    elif point == "publishing":  # half of the files have their names in the dataset
        real_link, made = os.link, []
        def link(source, target):
            real_link(source, target)
            made.append(target)
            if len(made) == len(paths) // 2:
                pause()
        os.link = link
    elif point == "publishing-without-links":  # half renamed in, on a FAT-like disk
        real_replace, made = os.replace, []
        def refuse(source, target):
            raise PermissionError(1, "Operation not permitted")
        def replace(source, target):
            real_replace(source, target)
            made.append(target)
            if len(made) == len(paths) // 2:
                pause()
        os.link, os.replace = refuse, replace
    elif point == "published":  # every file published, the staging folder not yet removed
        real_rmtree = dataset.shutil.rmtree
        def rmtree(path, *args, **kwargs):
            if os.path.basename(path).startswith(dataset.STAGING_PREFIX):
                pause()
            return real_rmtree(path, *args, **kwargs)
        dataset.shutil.rmtree = rmtree
    print("READY", flush=True)
    if os.environ.get("THROUGH_CLI"):
        from shapecnn.cli import main
        sys.exit(main(["add", "--data", root, "--label", "circle", *paths]))
    dataset.import_images(root, "circle", paths, "auto")
    print("DONE", flush=True)
    """
)


def start(*args) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, *map(str, args)],
        cwd=PROJECT_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_for(process: subprocess.Popen, prefix: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if line.startswith(prefix):
            return
        if not line and process.poll() is not None:
            raise AssertionError(f"exited {process.returncode}: {process.stderr.read()[-2000:]}")
    process.kill()
    raise AssertionError(f"no line starting {prefix!r}")


def kill_9(process: subprocess.Popen) -> None:
    os.kill(process.pid, signal.SIGKILL)
    assert process.wait(30) == -signal.SIGKILL
    process.stdout.close()
    process.stderr.close()


@pytest.mark.parametrize(
    ("point", "kept"),
    [("staging", 0), ("publishing", 0), ("publishing-without-links", 0), ("published", 20)],
)
def test_an_import_killed_at_any_point_is_all_or_nothing(tmp_path, point, kept):
    root = tmp_path / "data"
    dataset.save_drawing(root, "triangle", draw_outline("triangle"), "train")
    paths = images(tmp_path / "in", 20)
    process = start("-c", IMPORT_WITH_HOOK, root, point, *paths)
    wait_for(process, "PAUSED")
    kill_9(process)
    # The next write (or the page's or `info`'s clean-up) finishes or undoes the import.
    dataset.clean_temp_files(root)
    counts = dataset.count_images(root)
    assert sum(counts.get("circle", {}).values()) == kept
    assert work_folders(root) == []
    assert len(visible_files(root)) == 1 + kept
    if not kept:
        assert not (root / "train" / "circle").exists()  # no empty class folder either
        assert not (root / "test" / "circle").exists()


@pytest.mark.parametrize("point", ["staging", "publishing"])
def test_ctrl_c_during_add_leaves_nothing_without_any_clean_up(tmp_path, point):
    root = tmp_path / "data"
    paths = images(tmp_path / "in", 12)
    process = subprocess.Popen(
        [sys.executable, "-c", IMPORT_WITH_HOOK, str(root), point, *map(str, paths)],
        cwd=PROJECT_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "THROUGH_CLI": "1"},
    )
    wait_for(process, "PAUSED")
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 130
    assert err == "python -m shapecnn add: interrupted\n"
    assert visible_files(root) == []  # undone by the interrupted process itself
    assert work_folders(root) == []
    assert not (root / "train" / "circle").exists()


def test_cli_add_killed_at_random_moments_adds_all_or_nothing(tmp_path):
    root = tmp_path / "data"
    paths = images(tmp_path / "in", 30, busy=True)
    rng = random.Random(14)
    outcomes = set()
    for _ in range(8):
        before = sum(dataset.count_images(root).get("circle", {}).values()) if root.exists() else 0
        process = start("-m", "shapecnn", "add", "--data", root, "--label", "circle", *paths)
        time.sleep(rng.uniform(0.5, 3.0))  # an unkilled add takes about 2.4 s here
        if process.poll() is None:
            kill_9(process)
        else:
            process.communicate()
        dataset.clean_temp_files(root)
        after = sum(dataset.count_images(root).get("circle", {}).values())
        assert after - before in (0, 30)
        outcomes.add(after - before)
        assert work_folders(root) == []
        assert [p for p in visible_files(root) if p.name.startswith(".")] == []
    print("imports kept whole / undone:", sorted(outcomes))


# --- a full disk --------------------------------------------------------------------------------


@pytest.fixture
def small_disk(tmp_path):
    """A 300 KB tmpfs: a real disk that fills up (needs permission to mount)."""
    disk = tmp_path / "disk"
    disk.mkdir()
    result = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=300k", "tmpfs", str(disk)],
        capture_output=True,
        text=True,
    )
    if result.returncode:
        pytest.skip(f"cannot mount a tmpfs here: {result.stderr.strip()}")
    yield disk
    subprocess.run(["umount", str(disk)], check=False)


def test_add_on_a_full_disk_writes_nothing_and_says_so_in_one_line(tmp_path, small_disk):
    paths = images(tmp_path / "in", 60, busy=True)
    root = small_disk / "data"
    with pytest.raises(StorageError) as error:
        dataset.import_images(root, "circle", paths)
    message = str(error.value)
    assert "\n" not in message
    assert message.startswith("the disk is full")
    assert "nothing imported (0 of 60 files); free some space and try again" in message
    assert visible_files(root) == []
    assert work_folders(root) == []
    assert not (root / "train" / "circle").exists()


def test_cli_add_on_a_full_disk_prints_one_line(tmp_path, small_disk):
    paths = images(tmp_path / "in", 60, busy=True)
    root = small_disk / "data"
    result = subprocess.run(
        [sys.executable, "-m", "shapecnn", "add", "--data", root, "--label", "circle", *paths],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("python -m shapecnn add: error: the disk is full")
    assert visible_files(root) == []


def test_an_upload_on_a_full_disk_saves_nothing_and_leaves_no_empty_class(tmp_path, small_disk):
    busy = [path.read_bytes() for path in images(tmp_path / "in", 60, busy=True)]
    archive = make_zip({f"star/{index}.png": data for index, data in enumerate(busy)})
    root = small_disk / "data"
    with pytest.raises(StorageError, match=r"the disk is full.*nothing imported"):
        dataset.import_uploads(root, [("stars.zip", archive)])
    assert visible_files(root) == []
    assert dataset.list_class_folders(root / "train") == []
    assert dataset.list_class_folders(root / "test") == []


def test_a_disk_that_fills_while_publishing_undoes_the_import(tmp_path, monkeypatch):
    root = tmp_path / "data"
    paths = images(tmp_path / "in", 12)
    real_link, made = os.link, []

    def link(source, target):
        if len(made) == 7:
            raise OSError(errno.ENOSPC, "No space left on device", str(target))
        real_link(source, target)
        made.append(target)

    monkeypatch.setattr(os, "link", link)
    with pytest.raises(StorageError, match="the disk is full"):
        dataset.import_images(root, "circle", paths)
    assert len(made) == 7 and not any(path.exists() for path in made)
    assert visible_files(root) == []
    assert not (root / "train" / "circle").exists()


def test_a_single_save_on_a_full_disk_says_so(tmp_path, monkeypatch):
    real_open = open

    def full(path, mode="r", *args, **kwargs):
        if "x" in mode and dataset.TEMP_PREFIX in str(path):
            raise OSError(errno.ENOSPC, "No space left on device", str(path))
        return real_open(path, mode, *args, **kwargs)

    monkeypatch.setattr("builtins.open", full)
    with pytest.raises(StorageError) as error:
        dataset.save_drawing(tmp_path, "circle", draw_outline("circle"), "train")
    assert "the drawing was not saved; free some space" in str(error.value)
    assert visible_files(tmp_path) == []
    assert dataset.list_class_folders(tmp_path / "train") == []  # no empty class folder


# --- file systems without hard links ------------------------------------------------------------


@pytest.fixture(params=[errno.EPERM, errno.EOPNOTSUPP])
def no_hard_links(request, monkeypatch):
    """os.link as FAT, exFAT and some network shares answer it."""

    def link(source, target, *args, **kwargs):
        raise OSError(request.param, os.strerror(request.param), str(source), None, str(target))

    monkeypatch.setattr(os, "link", link)


def test_saving_without_hard_links_falls_back_to_exclusive_create_and_rename(
    tmp_path, no_hard_links
):
    first = dataset.save_drawing(tmp_path, "circle", draw_outline("circle"), "train")
    second = dataset.save_drawing(tmp_path, "circle", draw_outline("circle"), "train")
    assert first != second
    assert visible_files(tmp_path) == sorted([first, second])
    with Image.open(first) as image:
        image.load()


def test_importing_and_moving_without_hard_links(tmp_path, no_hard_links):
    saved = dataset.import_images(tmp_path / "data", "circle", images(tmp_path / "in", 5))
    assert len(saved) == 5 and all(path.stat().st_size > 0 for path in saved)
    moved = dataset.move_image(tmp_path / "data", saved[0], "test", "ring")
    assert moved.exists() and not saved[0].exists()
    assert sum(sum(c.values()) for c in dataset.count_images(tmp_path / "data").values()) == 5
    assert visible_files(tmp_path / "data") == sorted([*saved[1:], moved])


def test_a_name_reserved_by_a_crashed_save_is_cleaned_once_stale(dataset_root):
    # Killed between the exclusive create and the rename: an empty file under a drawing name.
    reserved = dataset_root / "train" / "circle" / "20260101-120000-000000-0123abcd.png"
    reserved.touch()
    assert dataset.clean_temp_files(dataset_root) == 0  # young: maybe a save in progress
    os.utime(reserved, (time.time() - 3600,) * 2)
    assert dataset.clean_temp_files(dataset_root) == 1
    assert not reserved.exists()


# --- one class, one folder ----------------------------------------------------------------------


@pytest.mark.parametrize("name", ["café", "동그라미"])  # as macOS names them: marks, jamo apart
def test_a_decomposed_folder_and_a_composed_save_are_one_class(tmp_path, name):
    decomposed = unicodedata.normalize("NFD", name)
    assert decomposed != name
    folder = tmp_path / "train" / decomposed
    folder.mkdir(parents=True)
    draw_outline("circle").save(folder / "a.png")
    path = dataset.save_drawing(tmp_path, name, draw_outline("circle"), "train")
    assert path.parent == folder
    assert os.listdir(tmp_path / "train") == [decomposed]
    assert dataset.list_classes(tmp_path) == [name]
    assert dataset.count_images(tmp_path) == {name: {"train": 2, "test": 0}}
    samples = dataset.load_samples(tmp_path, "train")
    assert samples.class_names == [name] and len(samples) == 2


def test_a_zip_with_decomposed_names_joins_the_composed_class(tmp_path):
    dataset.save_drawing(tmp_path, "café", draw_outline("circle"), "train")
    decomposed = unicodedata.normalize("NFD", "café")
    dataset.import_uploads(tmp_path, [("mac.zip", make_zip({f"{decomposed}/a.png": png()}))])
    assert os.listdir(tmp_path / "train") == ["café"]
    assert sum(dataset.count_images(tmp_path)["café"].values()) == 2


@pytest.mark.parametrize(
    ("label", "plain"),
    [("\uff33\uff54\uff41\uff52", "Star"), ("\ufb01sh", "fish"), ("\uff76", "\u30ab")],
)
def test_look_alike_compatibility_characters_are_refused(tmp_path, label, plain):
    with pytest.raises(InvalidLabelError) as error:
        dataset.save_drawing(tmp_path, label, draw_outline("circle"))
    assert str(error.value).endswith(f"write it as {plain!r}")
    assert not tmp_path.joinpath("train").exists()


def _save_at(root: str, label: str, start_at: float, results, how: str) -> None:
    time.sleep(max(0.0, start_at - time.time()))
    try:
        if how == "save":
            dataset.save_drawing(root, label, np.asarray(draw_outline("circle")), "train")
        else:
            archive = make_zip({f"{label}/a.png": png(), f"{label}/b.png": png()})
            dataset.import_uploads(root, [("upload.zip", archive)], split="train")
        results.put(("saved", label))
    except InvalidLabelError as error:
        results.put(("refused", str(error)))


@pytest.mark.parametrize("how", ["save", "upload"])
def test_simultaneous_saves_of_star_and_star_make_one_class(tmp_path, how):
    context = multiprocessing.get_context("fork")
    results = context.Queue()
    for attempt in range(10):
        root = str(tmp_path / f"try{attempt}")
        start_at = time.time() + 0.3
        workers = [
            context.Process(target=_save_at, args=(root, label, start_at, results, how))
            for label in ("Star", "star")
        ]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join(60)
        outcomes = sorted(results.get(timeout=10)[0] for _ in workers)
        assert outcomes == ["refused", "saved"]
        assert len(os.listdir(Path(root) / "train")) == 1
        assert work_folders(Path(root)) == []


def test_case_twins_made_by_hand_both_still_take_saves(tmp_path):
    for name in ("Star", "star"):
        (tmp_path / "train" / name).mkdir(parents=True)
        draw_outline("circle").save(tmp_path / "train" / name / "a.png")
    for name in ("Star", "star"):
        path = dataset.save_drawing(tmp_path, name, draw_outline("circle"), "train")
        assert path.parent.name == name
    with pytest.raises(InvalidLabelError, match="differs only by case from the existing class"):
        dataset.save_drawing(tmp_path, "STAR", draw_outline("circle"))
    assert dataset.count_images(tmp_path) == {n: {"train": 2, "test": 0} for n in ("Star", "star")}


# --- what else a dataset folder may hold --------------------------------------------------------


def test_links_that_loop_pipes_and_system_folders_are_skipped_and_named(dataset_root):
    train, circle = dataset_root / "train", dataset_root / "train" / "circle"
    (train / "loop").symlink_to(train / "loop")  # a class folder that is a looping link
    (circle / "self.png").symlink_to(circle / "self.png")
    (circle / "gone.png").symlink_to(dataset_root / "nowhere.png")
    (circle / "up").symlink_to("..")  # a folder link back up: not followed into
    os.mkfifo(circle / "pipe.png")
    for system in ("__MACOSX", "$RECYCLE.BIN", "System Volume Information", ".Trashes"):
        (train / system / "circle").mkdir(parents=True)
        draw_outline("circle").save(train / system / "x.png")
    (train / ".DS_Store").write_bytes(b"\0\0\0\1Bud1")
    (circle / ".DS_Store").write_bytes(b"\0\0\0\1Bud1")

    assert dataset.list_classes(dataset_root) == list(SHAPES)
    assert dataset.count_images(dataset_root)["circle"] == {"train": 6, "test": 2}
    problems = {path.name: reason for path, reason in dataset.find_problems(dataset_root)}
    assert set(problems) == {"loop", "self.png", "gone.png", "pipe.png"}
    assert "symbolic link that loops or points nowhere" in problems["loop"]
    assert problems["pipe.png"] == "a named pipe, not an image file"
    with pytest.warns(UserWarning, match="pipe.png: a named pipe"):
        samples = dataset.load_samples(dataset_root, "train")
    assert len(samples) == 18
    assert {path.name for path, _ in samples.skipped} == {
        "loop",
        "self.png",
        "gone.png",
        "pipe.png",
    }


def test_a_class_folder_that_cannot_be_read_is_skipped_and_named(dataset_root, monkeypatch):
    locked = dataset_root / "train" / "triangle"
    locked.chmod(0)
    if os.geteuid() == 0:  # root reads it anyway: the refusal a user would get, injected
        real_scandir = os.scandir

        def scandir(path="."):
            if Path(path) == locked:
                raise PermissionError(errno.EACCES, "Permission denied", str(path))
            return real_scandir(path)

        monkeypatch.setattr(os, "scandir", scandir)
    try:
        problems = dataset.find_problems(dataset_root)
        assert problems == [(locked, "folder cannot be read (Permission denied), skipped")]
        assert dataset.count_images(dataset_root)["triangle"] == {"train": 0, "test": 2}
        with pytest.warns(UserWarning, match="triangle: folder cannot be read"):
            samples = dataset.load_samples(dataset_root, "train")
        assert len(samples) == 12
    finally:
        locked.chmod(0o755)


def test_a_zip_of_system_folders_makes_no_class(tmp_path):
    archive = make_zip(
        {
            "circle/a.png": png(),
            "__MACOSX/circle/._a.png": b"\0\5\26\7 AppleDouble",
            "System Volume Information/x.png": png(),
            "$RECYCLE.BIN/y.png": png(),
            ".Trashes/z.png": png(),
            ".Spotlight-V100/w.png": png(),
        }
    )
    report = dataset.import_uploads(tmp_path, [("usb.zip", archive)])
    assert dataset.list_classes(tmp_path) == ["circle"]
    assert len(report.saved) == 1 and len(report.skipped) == 5


def test_import_refuses_a_zip_that_would_make_too_many_classes(tmp_path, monkeypatch):
    archive = make_zip({f"class{index}/a.png": png() for index in range(3000)})
    scans = []
    real = dataset._all_class_names
    monkeypatch.setattr(dataset, "_all_class_names", lambda root: scans.append(root) or real(root))
    with pytest.raises(InvalidLabelError) as error:
        dataset.import_uploads(tmp_path, [("many.zip", archive)])
    assert str(error.value) == (
        "the upload would create 3,000 new classes; at most 50 per import, nothing imported"
    )
    assert len(scans) == 1  # the dataset is listed once for all labels, not once per label
    assert not tmp_path.joinpath("train").exists()


def test_label_checks_of_an_import_list_the_dataset_once(tmp_path, monkeypatch):
    archive = make_zip({f"class{index}/a.png": png() for index in range(50)})
    scans = []
    real = dataset._all_class_names
    monkeypatch.setattr(dataset, "_all_class_names", lambda root: scans.append(root) or real(root))
    dataset._check_labels(tmp_path, [f"class{index}" for index in range(50)])
    assert len(scans) == 1
    report = dataset.import_uploads(tmp_path, [("fifty.zip", archive)])
    assert len(report.saved) == 50 and len(dataset.list_classes(tmp_path)) == 50


def test_training_data_loads_beside_all_of_it(dataset_root):
    from shapecnn.training import load_training_data

    train = dataset_root / "train"
    (train / "empty").mkdir()
    (train / "loop").symlink_to(train / "loop")
    os.mkfifo(train / "circle" / "pipe.png")
    (train / "__MACOSX").mkdir()
    with pytest.warns(UserWarning):
        data = load_training_data(dataset_root)
    assert data.class_names == list(SHAPES)


def test_a_staging_folder_of_a_running_import_is_left_alone(tmp_path):
    # Another process (here: this one, through another file descriptor) is importing.
    root = tmp_path / "data"
    with dataset._Staging(root) as staging:
        staging.add("train", "circle", png())
        dataset.save_drawing(root, "triangle", canvas_rgba(draw_outline("triangle")), "train")
        dataset.clean_temp_files(root)
        assert staging.path.exists()
        staging.publish()
    assert dataset.count_images(root) == {
        "circle": {"train": 1, "test": 0},
        "triangle": {"train": 1, "test": 0},
    }
    assert work_folders(root) == []


def test_names_that_are_not_text_are_skipped_and_named_by_their_bytes(dataset_root):
    # Bytes that are not UTF-8 (a zip or a USB stick from an old system): Python keeps them as
    # lone surrogates, which no page, label or message can show.
    train = os.fsencode(dataset_root / "train")
    os.mkdir(train + b"/\xffclass")
    draw_outline("circle").save(os.fsdecode(train + b"/\xffclass/a.png"))
    draw_outline("circle").save(os.fsdecode(train + b"/circle/\xfe.png"))
    assert dataset.list_classes(dataset_root) == list(SHAPES)
    assert dataset.count_images(dataset_root)["circle"] == {"train": 6, "test": 2}
    problems = dataset.find_problems(dataset_root)
    assert problems == [
        (
            dataset_root / "train",
            "b'\\xffclass' skipped: its name is not valid UTF-8 text; rename it",
        ),
        (
            dataset_root / "train" / "circle",
            "b'\\xfe.png' skipped: its name is not valid UTF-8 text; rename it",
        ),
    ]
    for _, reason in problems:
        reason.encode("utf-8")  # shows anywhere
