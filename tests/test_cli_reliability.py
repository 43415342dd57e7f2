"""The command line under bad conditions: one line, never a traceback, never a hang (issue 14
"The CLI", issue 15 point 9). Real subprocesses, as a user runs them."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from shapecnn import cli
from shapecnn.config import DEFAULT_MODEL, PROJECT_ROOT

from helpers import draw_outline


def shapecnn(*args, timeout: float = 60, **kwargs) -> subprocess.CompletedProcess:
    kwargs.setdefault("stdout", subprocess.PIPE)
    return subprocess.run(
        [sys.executable, "-m", "shapecnn", *map(str, args)],
        cwd=PROJECT_ROOT,
        stderr=subprocess.PIPE,
        text=True,
        timeout=timeout,
        **kwargs,
    )


def one_line(result: subprocess.CompletedProcess) -> str:
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    return lines[0]


def test_info_into_a_closed_pipe_exits_quietly(dataset_root):
    read_end, write_end = os.pipe()
    os.close(read_end)  # like `| head -1` once head has gone
    try:
        result = shapecnn("info", "--data", dataset_root, stdout=write_end)
    finally:
        os.close(write_end)
    assert result.stderr == ""
    assert result.returncode == 141


def test_info_piped_to_head_prints_one_line_and_no_error(dataset_root):
    for index in range(300):  # more output than a pipe holds, so head leaves mid-way
        (dataset_root / "train" / f"class{index}").mkdir()
        draw_outline("circle").save(dataset_root / "train" / f"class{index}" / "a.png")
    result = subprocess.run(
        f"{sys.executable} -m shapecnn info --data '{dataset_root}' | head -1",
        shell=True,
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.stdout == f"dataset: {dataset_root}\n"
    assert result.stderr == ""


def test_info_says_1_class(tmp_path):
    (tmp_path / "train" / "circle").mkdir(parents=True)
    draw_outline("circle").save(tmp_path / "train" / "circle" / "a.png")
    result = shapecnn("info", "--data", tmp_path)
    assert result.returncode == 0
    assert result.stdout.splitlines()[1] == "1 class"


def test_an_os_error_is_one_line(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("a file where a folder should be")
    result = shapecnn("synth", "--data", blocker / "data", "--per-class", 2)
    assert result.returncode == 1
    line = one_line(result)
    assert line.startswith("python -m shapecnn synth: error: ")
    assert "Not a directory" in line


def test_a_named_pipe_given_to_add_is_refused_at_once(tmp_path):
    fifo = tmp_path / "pipe.png"
    os.mkfifo(fifo)
    result = shapecnn("add", "--data", tmp_path / "data", "--label", "circle", fifo, timeout=30)
    assert result.returncode == 1
    assert one_line(result).endswith(f"{fifo}: is a named pipe, not an image file")
    assert not (tmp_path / "data" / "train").exists()


def test_a_named_pipe_given_to_predict_is_refused_at_once(tmp_path, trained_model):
    fifo = tmp_path / "pipe.png"
    os.mkfifo(fifo)
    good = tmp_path / "circle.png"
    draw_outline("circle").save(good)
    result = shapecnn("predict", "--model", trained_model, fifo, good, timeout=120)
    assert result.returncode == 1
    assert one_line(result) == (
        f"python -m shapecnn predict: error: {fifo}: is a named pipe, not an image file"
    )
    assert result.stdout.startswith(f"{good}: ")


def test_an_eps_file_given_to_add_is_one_line(tmp_path):
    eps = tmp_path / "shape.eps"
    eps.write_bytes(b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 10 10\nshowpage\n")
    result = shapecnn("add", "--data", tmp_path / "data", "--label", "circle", eps)
    assert result.returncode == 1
    assert one_line(result).endswith("not an image file (PNG, JPEG, BMP or GIF)")


def test_the_tutorial_recipe_trains_into_its_own_file_by_default():
    parse = cli.build_parser().parse_args
    tutorial = parse(["train", "--recipe", "tutorial"])
    assert cli.default_model(tutorial) == DEFAULT_MODEL.with_name("tutorial.keras")
    assert cli.default_model(parse(["train"])) == DEFAULT_MODEL
    assert cli.default_model(parse(["predict", "x.png"])) == DEFAULT_MODEL
    chosen = parse(["train", "--recipe", "tutorial", "--model", "mine.keras"])
    assert chosen.model == Path("mine.keras")


def test_train_help_names_both_default_files():
    result = shapecnn("train", "--help")
    assert "tutorial.keras" in " ".join(result.stdout.split())


@pytest.mark.parametrize("args", [["info", "--data"], ["add", "--label", "x", "--data"]])
def test_a_dataset_on_a_file_is_one_line(tmp_path, args):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    extra = [draw_image(tmp_path)] if args[0] == "add" else []
    result = shapecnn(*args, blocker / "data", *extra)
    assert result.returncode == 1
    one_line(result)


def draw_image(folder: Path) -> Path:
    path = folder / "c.png"
    draw_outline("circle").save(path)
    return path


def test_info_counts_after_undoing_an_interrupted_import(tmp_path):
    from test_reliability import IMPORT_WITH_HOOK, images, kill_9, start, wait_for

    root = tmp_path / "data"
    process = start("-c", IMPORT_WITH_HOOK, root, "publishing", *images(tmp_path / "in", 20))
    wait_for(process, "PAUSED")
    kill_9(process)  # ten of the twenty drawings have their names in the dataset
    result = shapecnn("info", "--data", root)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[1] == "0 classes"
    assert lines[-1] == "removed 1 temporary files left by interrupted saves"
