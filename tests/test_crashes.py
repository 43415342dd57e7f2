"""kill -9 at the worst moments: the previous model and every saved drawing survive.

Each test runs the real code in a child process, stops it at a chosen point (a hook pauses it
there and says so on stdout) or at random moments, kills it with SIGKILL and looks at the disk.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from PIL import Image

from shapecnn import dataset
from shapecnn.config import PROJECT_ROOT
from shapecnn.model import clean_temp_models, read_metadata

from helpers import draw_outline, make_dataset

# Runs `python -m shapecnn ARGS...` with a hook that pauses the process at one point of saving
# the model, so the test can kill it exactly there.
TRAIN_WITH_HOOK = textwrap.dedent(
    """
    import os, sys, time, zipfile
    from shapecnn import model

    def pause(where):
        print("PAUSED", where, flush=True)
        time.sleep(600)

    point = sys.argv[1]
    if point == "metadata":  # Keras has written its part of the new file, the metadata not yet
        real_writestr = zipfile.ZipFile.writestr

        def writestr(self, name, *args, **kwargs):
            if name == model.METADATA_ENTRY:
                pause(point)
            return real_writestr(self, name, *args, **kwargs)

        zipfile.ZipFile.writestr = writestr
    elif point == "rename":  # the new file is complete, not yet renamed over the old one
        real_replace = os.replace

        def replace(source, target, *args, **kwargs):
            if str(target).endswith(".keras"):
                pause(point)
            return real_replace(source, target, *args, **kwargs)

        os.replace = replace
    from shapecnn.cli import main

    sys.exit(main(sys.argv[2:]))
    """
)

SAVE_FOREVER = textwrap.dedent(
    """
    import os, sys, time
    import numpy as np
    from shapecnn import dataset

    root, point = sys.argv[1], sys.argv[2]
    if point == "link":  # the temporary file is written, not yet given its name
        def link(source, target):
            print("PAUSED", flush=True)
            time.sleep(600)
        os.link = link
    # A busy drawing: encoding it takes most of a save, so a random kill often lands mid-write.
    rng = np.random.default_rng(0)
    drawing = np.full((300, 300), 255, np.uint8)
    drawing[rng.random(drawing.shape) < 0.3] = 0
    print("READY", flush=True)
    while True:
        dataset.save_drawing(root, "circle", drawing, "train")
        print("SAVED", flush=True)
    """
)


def start(script: str, *args) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", script, *map(str, args)],
        cwd=PROJECT_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_for_line(process: subprocess.Popen, prefix: str, timeout: float = 180) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if line.startswith(prefix):
            return line
        if not line and process.poll() is not None:
            raise AssertionError(f"exited {process.returncode}: {process.stderr.read()[-2000:]}")
    process.kill()
    raise AssertionError(f"no line starting {prefix!r} within {timeout} s")


def kill_9(process: subprocess.Popen) -> None:
    os.kill(process.pid, signal.SIGKILL)
    assert process.wait(30) == -signal.SIGKILL
    process.stdout.close()
    process.stderr.close()


def assert_model_whole(path: Path, before: bytes) -> None:
    """The previous model, byte for byte, still loads and predicts."""
    from shapecnn.inference import Classifier

    assert path.read_bytes() == before
    classifier = Classifier.load(path)
    probabilities = classifier.predict(draw_outline("circle"))
    assert list(probabilities) == ["circle", "rectangle", "triangle"]
    assert sum(probabilities.values()) == pytest.approx(1.0, abs=1e-5)


@pytest.fixture
def previous_model(trained_model, tmp_path) -> tuple[Path, bytes]:
    path = tmp_path / "models" / "shapes.keras"
    path.parent.mkdir()
    shutil.copy(trained_model, path)
    return path, path.read_bytes()


def train_args(root: Path, model: Path, epochs: int) -> list[str]:
    return ["train", "--data", root, "--model", model, "--epochs", epochs, "--batch-size", 4]


@pytest.mark.slow
def test_kill_9_during_training_keeps_the_previous_model(previous_model, tmp_path):
    path, before = previous_model
    root = make_dataset(tmp_path / "shapes", per_class=6)
    process = start(TRAIN_WITH_HOOK, "none", *train_args(root, path, 1000))
    wait_for_line(process, "Epoch 2/")
    kill_9(process)
    assert_model_whole(path, before)


@pytest.mark.slow
@pytest.mark.parametrize("point", ["metadata", "rename"])
def test_kill_9_while_saving_the_model_keeps_the_previous_one(previous_model, tmp_path, point):
    path, before = previous_model
    root = make_dataset(tmp_path / "shapes", per_class=6)
    process = start(TRAIN_WITH_HOOK, point, *train_args(root, path, 1))
    wait_for_line(process, "PAUSED")
    kill_9(process)
    assert_model_whole(path, before)
    # The half-written temporary file is hidden; the next save removes it once it is stale.
    # (Beside it, the lock file the CLI's train took: the OS released the lock with the process.)
    lock = path.with_name(f".{path.name}.lock")
    (leftover,) = [p for p in path.parent.iterdir() if p not in (path, lock)]
    assert leftover.name.startswith(".shapes.tmp-")
    assert clean_temp_models(path) == 0  # young: might be a save in progress
    os.utime(leftover, (time.time() - 3600,) * 2)
    assert clean_temp_models(path) == 1
    assert sorted(p.name for p in path.parent.iterdir()) == [lock.name, "shapes.keras"]
    assert read_metadata(path).class_names == ["circle", "rectangle", "triangle"]


def test_saving_a_model_removes_stale_leftovers_of_crashed_saves(tmp_path):
    from shapecnn.model import ModelMetadata, build_model, save_model

    path = tmp_path / "m.keras"
    stale, fresh, other = (
        tmp_path / ".m.tmp-dead0001.keras",
        tmp_path / ".m.tmp-live0002.keras",
        tmp_path / ".other.tmp-dead0003.keras",
    )
    for leftover in (stale, fresh, other):
        leftover.write_bytes(b"PK half a model")
    os.utime(stale, (time.time() - 3600,) * 2)
    os.utime(other, (time.time() - 3600,) * 2)
    save_model(build_model(2), path, ModelMetadata(["a", "b"]))
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["m.keras", fresh.name, other.name])


def assert_dataset_sound(root: Path) -> int:
    """Every visible drawing decodes; leftovers are neither listed nor counted."""
    visible = dataset.list_images(root, "train", "circle")
    for path in visible:
        with Image.open(path) as image:
            image.load()
    assert dataset.find_problems(root) == []
    assert not any(p.name.startswith(".") for p in visible)
    # A class folder holding only a leftover is no class yet.
    expected = {"circle": {"train": len(visible), "test": 0}} if visible else {}
    assert dataset.count_images(root) == expected
    return len(visible)


def test_kill_9_after_writing_a_drawing_leaves_only_a_hidden_leftover(tmp_path):
    root = tmp_path / "data"
    process = start(SAVE_FOREVER, root, "link")
    wait_for_line(process, "PAUSED")
    kill_9(process)
    assert assert_dataset_sound(root) == 0
    (leftover,) = (root / "train" / "circle").iterdir()
    assert leftover.name.startswith(dataset.TEMP_PREFIX)
    with Image.open(leftover) as image:
        image.load()  # complete, just never named: ignored all the same


def test_kill_9_at_random_moments_never_leaves_a_partial_drawing(tmp_path):
    root = tmp_path / "data"
    rng = random.Random(6)
    for _ in range(3):
        process = start(SAVE_FOREVER, root, "none")
        wait_for_line(process, "SAVED")
        time.sleep(rng.uniform(0.0, 0.5))  # into the next save
        kill_9(process)
        assert_dataset_sound(root)
    assert assert_dataset_sound(root) > 0
    # Leftovers of the killed saves go once they are stale; the drawings stay.
    folder = root / "train" / "circle"
    leftovers = [p for p in folder.iterdir() if p.name.startswith(dataset.TEMP_PREFIX)]
    for leftover in leftovers:
        os.utime(leftover, (time.time() - 3600,) * 2)
    drawings = assert_dataset_sound(root)
    assert dataset.clean_temp_files(root) == len(leftovers)
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        p.name for p in dataset.list_images(root, "train", "circle")
    )
    assert assert_dataset_sound(root) == drawings
