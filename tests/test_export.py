"""Exports (LiteRT, ONNX) made by Keras, checked with their own runtimes against Keras."""

from __future__ import annotations

import shutil
import zipfile

import numpy as np
import pytest

from shapecnn import cli, dataset
from shapecnn.export import ExportError, check_inputs, export_model_file
from shapecnn.inference import Classifier
from shapecnn.model import read_metadata

from helpers import make_dataset


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    from shapecnn.config import resolve_recipe
    from shapecnn.training import train

    root = make_dataset(tmp_path_factory.mktemp("export") / "shapes", per_class=8, seed=2)
    path = root.parent / "shapes.keras"
    train(root, resolve_recipe("tutorial", epochs=2), model_path=path)
    return root, path


def _a_test_drawing(root):
    return dataset.list_images(root, "test", "triangle")[0]


def test_litert_export_is_the_model_files_own_checked_on_its_test_drawings(trained):
    root, path = trained
    export = export_model_file(path, "litert")
    with zipfile.ZipFile(path) as archive:
        assert export.data == archive.read("model.tflite")
    test_count = sum(c["test"] for c in dataset.count_images(root).values())
    assert export.drawings == test_count
    assert export.checked_on == f"{test_count} test drawings of {root.resolve()}"
    assert export.max_difference < 1e-4


def test_a_model_from_the_shape_base_exports_its_whole_network_in_one_file(trained_model):
    """Its model file carries the base's export and the head as data (shapecnn.model): the
    .tflite offered for download is the whole network, which runs without shapecnn's head."""
    from shapecnn.runtime import Runtime

    export = export_model_file(trained_model, "litert")
    with zipfile.ZipFile(trained_model) as archive:
        assert export.data != archive.read("model.tflite")
    x = np.random.default_rng(4).random((3, 24, 24, 3), dtype=np.float32)
    alone = Runtime(export.data).run(x)["probabilities"]
    np.testing.assert_allclose(
        alone, Classifier.load(trained_model).run(x)["probabilities"], atol=1e-5
    )
    assert export.max_difference < 1e-4


def test_the_readme_lines_run_each_export_on_a_png_as_the_classifier_does(trained, tmp_path):
    root, path = trained
    png = _a_test_drawing(root)
    expected = np.array(list(Classifier.load(path).predict(png).values()))
    for fmt in ("litert", "onnx"):
        out = tmp_path / f"shapes.{'tflite' if fmt == 'litert' else 'onnx'}"
        assert cli.main(["export", "--model", str(path), "--format", fmt, "--out", str(out)]) == 0
        assert out.is_file()
        from shapecnn.preprocess import preprocess

        if fmt == "litert":
            # README, "Export": the three lines for a .tflite file.
            from ai_edge_litert.interpreter import Interpreter

            run = Interpreter(model_path=str(out)).get_signature_runner()
            (name,) = run.get_input_details()
            probabilities = run(**{name: preprocess(str(png))[None]})["output_0"][0]
        else:
            # README, "Export": the three lines for an .onnx file.
            import onnxruntime as ort

            session = ort.InferenceSession(str(out))
            x = {session.get_inputs()[0].name: preprocess(str(png))[None]}
            probabilities = session.run(None, x)[0][0]
        assert np.abs(probabilities - expected).max() < 1e-4


def test_cli_says_what_the_export_was_checked_on(trained, tmp_path, capsys):
    _, path = trained
    out = tmp_path / "m.onnx"
    assert cli.main(["export", "--model", str(path), "--format", "onnx", "--out", str(out)]) == 0
    said = capsys.readouterr().out
    assert "onnx export checked against Keras on" in said and "test drawings of" in said
    assert f"wrote {out}" in said


def test_without_its_dataset_the_check_says_it_used_random_inputs(trained, tmp_path):
    root, path = trained
    metadata = read_metadata(path)
    metadata.data = str(tmp_path / "gone")
    x, said = check_inputs(metadata)
    assert x.shape == (8, 24, 24, 3)
    assert said.startswith("8 random inputs") and "gone" in said
    # Only training drawings left: checked on those.
    copy = tmp_path / "copy"
    shutil.copytree(root / "train", copy / "train")
    metadata.data = str(copy)
    x, said = check_inputs(metadata)
    assert said.startswith(f"{len(x)} train drawings of {copy}")


def test_an_export_that_disagrees_with_keras_is_refused_in_one_line(trained, tmp_path, capsys):
    from shapecnn.model import build_model, export_litert

    _, path = trained
    # A model file whose LiteRT export is of another network (other weights).
    other = export_litert(build_model(3))
    bad = tmp_path / "bad.keras"
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(bad, "w") as target:
        for info in source.infolist():
            data = other if info.filename == "model.tflite" else source.read(info)
            target.writestr(info, data)
    with pytest.raises(ExportError, match="refused: it disagrees with Keras"):
        export_model_file(bad, "litert")
    out = tmp_path / "bad.tflite"
    assert cli.main(["export", "--model", str(bad), "--format", "litert", "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "max probability difference" in err
    assert not out.exists()
    # ONNX is made from the Keras network itself: it still agrees.
    assert export_model_file(bad, "onnx").max_difference < 1e-4


def test_an_unknown_format_is_a_usage_error(trained, capsys):
    _, path = trained
    with pytest.raises(SystemExit) as stop:
        cli.main(["export", "--model", str(path), "--format", "tfjs"])
    assert stop.value.code == 2
    with pytest.raises(ExportError, match="format must be one of litert, onnx"):
        export_model_file(path, "tfjs")
