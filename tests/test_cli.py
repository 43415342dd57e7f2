"""The command line, run in-process through main() (plus one real subprocess run)."""

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from shapecnn import dataset
from shapecnn.cli import main

from helpers import draw_outline


def run(capsys, *args):
    code = main([str(arg) for arg in args])
    out, err = capsys.readouterr()
    return code, out, err


def one_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    return lines[0]


def test_info_lists_classes_counts_and_unreadable_files(capsys, dataset_root):
    (dataset_root / "test" / "circle" / "oops.txt").write_text("x")
    code, out, _ = run(capsys, "info", "--data", dataset_root)
    assert code == 0
    assert "3 classes" in out
    assert re.search(r"^  circle +6 +2$", out, re.MULTILINE)
    assert "1 unreadable files" in out and "oops.txt" in out


def test_add_imports_drawings_and_reports_counts(capsys, tmp_path):
    images = []
    for index in range(4):
        images.append(tmp_path / f"d{index}.png")
        draw_outline("circle").save(images[-1])
    code, out, _ = run(capsys, "add", "--data", tmp_path / "data", "--label", "원", *images)
    assert code == 0
    assert "원: 3 train, 1 test" in out
    assert dataset.count_images(tmp_path / "data") == {"원": {"train": 3, "test": 1}}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--label", "../evil"], "label must be 1 to 40 characters"),
        (["--label", "a/b"], "'/' is not allowed"),
        (["--label", "ok", "--split", "test", "blank.png"], "blank"),
        (["--label", "ok", "missing.png"], "no such file"),
    ],
)
def test_add_refuses_bad_input_with_one_line_and_writes_nothing(capsys, tmp_path, args, message):
    good = tmp_path / "good.png"
    draw_outline("circle").save(good)
    Image.new("RGB", (40, 40), "white").save(tmp_path / "blank.png")
    args = [tmp_path / a if a.endswith(".png") else a for a in args]
    code, _, err = run(capsys, "add", "--data", tmp_path / "data", *args, good)
    assert code == 1
    assert message in one_line(err)
    assert not (tmp_path / "data").exists()


def test_usage_errors_exit_2_with_one_line(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["train", "--epochs", "zero"])
    assert exit_info.value.code == 2
    assert "--epochs: must be a whole number, got 'zero'" in one_line(capsys.readouterr().err)
    with pytest.raises(SystemExit) as exit_info:
        main(["add", "--data", "x"])
    assert exit_info.value.code == 2
    assert "required" in one_line(capsys.readouterr().err)


def test_synth_writes_a_dataset(capsys, tmp_path):
    code, out, _ = run(capsys, "synth", "--data", tmp_path, "--per-class", 4, "--seed", 2)
    assert code == 0
    assert "wrote 12 drawings" in out
    assert dataset.count_images(tmp_path)["triangle"] == {"train": 3, "test": 1}


def test_train_prints_the_tutorial_style_report(capsys, dataset_root, tmp_path):
    model = tmp_path / "out" / "m.keras"
    code, out, _ = run(capsys, "train", "--data", dataset_root, "--model", model, "--epochs", 2)
    assert code == 0
    lines = out.splitlines()
    assert lines[:2] == [
        "Found 18 images belonging to 3 classes.",
        "Found 6 images belonging to 3 classes.",
    ]
    assert lines[2].startswith("Epoch 1/2 - loss: ")
    assert "test_accuracy: " in lines[2]
    assert "-- Evaluate --" in lines and "-- Predict --" in lines
    assert any(line.startswith("accuracy: ") and line.endswith("%") for line in lines)
    assert "{'circle': 0, 'rectangle': 1, 'triangle': 2}" in lines
    assert model.is_file()


def test_train_refuses_a_one_class_dataset(capsys, tmp_path):
    dataset.save_drawing(tmp_path, "circle", draw_outline("circle"))
    code, _, err = run(capsys, "train", "--data", tmp_path, "--model", tmp_path / "m.keras")
    assert code == 1
    assert "at least 2 classes" in one_line(err)


def test_evaluate_on_a_dataset_and_on_a_folder_of_classes(capsys, trained_model, dataset_root):
    code, out, _ = run(capsys, "evaluate", "--model", trained_model, "--data", dataset_root)
    assert code == 0
    assert out.startswith("accuracy: ") and "confusion" in out
    code, out, _ = run(
        capsys, "evaluate", "--model", trained_model, "--data", dataset_root / "train", "--json"
    )
    assert code == 0
    report = json.loads(out)
    assert set(report) == {"accuracy", "count", "classes", "per_class", "confusion"}
    assert report["count"] == 18
    assert report["classes"] == ["circle", "rectangle", "triangle"]


def test_predict_json_and_refused_files(capsys, trained_model, tmp_path):
    good = tmp_path / "circle.png"
    draw_outline("circle", box=(40, 40, 240, 240)).save(good)
    bad = tmp_path / "bad.png"
    bad.write_text("nope")
    code, out, err = run(capsys, "predict", "--model", trained_model, "--json", good, bad)
    assert code == 1
    assert "bad.png" in one_line(err)
    record = json.loads(out)
    assert record["file"] == str(good)
    assert record["label"] == max(record["probabilities"], key=record["probabilities"].get)
    assert list(record["probabilities"]) == ["circle", "rectangle", "triangle"]


def test_missing_model_is_one_clear_line(capsys, tmp_path):
    code, _, err = run(capsys, "predict", "--model", tmp_path / "none.keras", tmp_path / "x.png")
    assert code == 1
    assert "no model at" in one_line(err)


def test_real_process_predicts_with_only_our_line_on_stderr(trained_model, tmp_path):
    drawing = tmp_path / "c.png"
    draw_outline("rectangle").save(drawing)
    process = subprocess.run(
        [
            sys.executable,
            "-m",
            "shapecnn",
            "predict",
            "--model",
            trained_model,
            "--json",
            drawing,
            tmp_path / "missing.png",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert process.returncode == 1
    assert json.loads(process.stdout)["file"] == str(drawing)
    assert process.stderr.strip().splitlines() == [
        f"python -m shapecnn predict: error: {tmp_path / 'missing.png'}: no such file"
    ]


def test_info_names_every_bad_file_and_removes_stale_temporary_files(capsys, tmp_path):
    import os
    import time

    from test_dataset import _bad_files, _good_variants

    folder = tmp_path / "train" / "circle"
    folder.mkdir(parents=True)
    _good_variants(folder)
    bad = _bad_files(folder)
    stale, fresh = folder / ".tmp-crashed.png", folder / ".tmp-saving-now.png"
    stale.write_bytes(b"\x89PNG half")
    fresh.write_bytes(b"\x89PNG half")
    os.utime(stale, (time.time() - 3600,) * 2)
    code, out, _ = run(capsys, "info", "--data", tmp_path)
    assert code == 0
    assert f"{len(bad)} unreadable files (training skips them):" in out
    listed = {line.strip().split(": ")[0] for line in out.splitlines() if line.startswith("  /")}
    assert {Path(name).name for name in listed} == bad
    assert ".tmp-" not in out.split("removed")[0]  # leftovers are not drawings
    assert "removed 1 temporary files left by interrupted saves" in out
    assert not stale.exists() and fresh.exists()  # a save may still be writing the fresh one


def test_eight_processes_importing_into_one_class_keep_all_80_drawings(tmp_path):
    sources = []
    for index in range(10):
        sources.append(tmp_path / f"drawing{index}.png")
        draw_outline(("circle", "rectangle")[index % 2]).save(sources[-1])
    root = tmp_path / "data"
    command = [sys.executable, "-m", "shapecnn", "add", "--data", root, "--label", "star"]
    workers = [
        subprocess.Popen([*map(str, command), *map(str, sources)], stdout=subprocess.PIPE)
        for _ in range(8)
    ]
    for worker in workers:
        worker.communicate(timeout=300)
        assert worker.returncode == 0
    files = [
        path for split in ("train", "test") for path in dataset.list_images(root, split, "star")
    ]
    assert len(files) == len({path.name for path in files}) == 80
    assert dataset.find_problems(root) == []
    assert not [p for p in root.rglob("*") if p.name.startswith(".")]


@pytest.mark.parametrize(
    "label",
    ["", ".", "..", "a/b", "a\\b", "bell\x07", "new\nline", "x" * 41, " lead", "trail ", "Circle"],
)
def test_add_refuses_every_bad_label_and_writes_nothing(capsys, tmp_path, label):
    root = tmp_path / "data"
    dataset.save_drawing(root, "circle", draw_outline("circle"))
    before = sorted(root.rglob("*"))
    good = tmp_path / "good.png"
    draw_outline("circle").save(good)
    code, _, err = run(capsys, "add", "--data", root, "--label", label, good)
    assert code == 1
    line = one_line(err)
    assert repr(label) in line
    assert ("differs only by case" if label == "Circle" else "1 to 40 characters") in line
    assert sorted(root.rglob("*")) == before
    assert not (tmp_path / "b").exists()


def test_train_names_a_class_without_training_drawings(capsys, dataset_root, tmp_path):
    import shutil

    shutil.rmtree(dataset_root / "train" / "rectangle")
    model = tmp_path / "m.keras"
    code, _, err = run(capsys, "train", "--data", dataset_root, "--model", model)
    assert code == 1
    assert "every class needs training drawings" in one_line(err) and "'rectangle'" in err
    assert not model.exists()


def test_train_without_test_drawings_runs_and_says_so(capsys, dataset_root, tmp_path):
    import shutil

    shutil.rmtree(dataset_root / "test")
    model = tmp_path / "m.keras"
    code, out, _ = run(capsys, "train", "--data", dataset_root, "--model", model, "--epochs", 1)
    assert code == 0
    assert "Found 0 images belonging to 3 classes." in out
    assert "there is no test data" in out
    assert model.is_file()


def test_evaluate_after_classes_changed_keeps_the_models_classes(capsys, trained_model, tmp_path):
    import shutil

    root = tmp_path / "data"
    shutil.copytree(trained_model.parent / "shapes", root)
    dataset.save_drawing(root, "aardvark", draw_outline("circle"), "test")  # sorts first
    shutil.rmtree(root / "test" / "triangle")
    code, out, err = run(capsys, "evaluate", "--model", trained_model, "--data", root, "--json")
    assert code == 0
    assert "the model does not know these classes: aardvark" in one_line(err)
    report = json.loads(out)
    assert report["classes"] == ["circle", "rectangle", "triangle"]
    assert report["count"] == 6  # circle and rectangle test drawings; triangle's are gone


@pytest.mark.parametrize("command", ["train", "evaluate"])
def test_a_dataset_without_model_uses_the_model_the_page_uses_for_it(command, tmp_path):
    """`train --data data/my_shapes` writes the model the page shows for my_shapes (and
    `evaluate` reads it), not the starter's: one rule for both (page/datasets.py)."""
    from page.common import Settings
    from page.datasets import for_dataset
    from shapecnn.cli import build_parser, default_model
    from shapecnn.config import DEFAULT_DATA, DEFAULT_MODEL

    mine = DEFAULT_DATA.parent / "my_shapes"
    args = build_parser().parse_args([command, "--data", str(mine)])
    page = for_dataset(Settings(data=DEFAULT_DATA, model=DEFAULT_MODEL), "my_shapes")
    assert default_model(args) == page.model == DEFAULT_MODEL.parent / "my_shapes.keras"
    starter = build_parser().parse_args([command, "--data", str(DEFAULT_DATA)])
    assert default_model(starter) == DEFAULT_MODEL
    tutorial = build_parser().parse_args(["train", "--data", str(mine), "--recipe", "tutorial"])
    assert default_model(tutorial).name == "my_shapes_tutorial.keras"
