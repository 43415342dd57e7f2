"""Project files: a dataset, its model and card in one zip; the round trip keeps everything."""

from __future__ import annotations

import json
import zipfile

import numpy as np
import pytest

from shapecnn import cli, dataset
from shapecnn.errors import InvalidImageError
from shapecnn.inference import Classifier
from shapecnn.model import read_metadata
from shapecnn.project import ProjectError, export_project, import_project

from helpers import make_dataset


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    from shapecnn.config import resolve_recipe
    from shapecnn.training import train

    base = tmp_path_factory.mktemp("project")
    root = make_dataset(base / "shapes", per_class=8, seed=4)
    # One drawing says who drew it: that travels too.
    image = dataset.list_images(root, "train", "circle")[0]
    dataset.import_images(root, "circle", [image], "train", drawn_by="Ada")
    model = base / "shapes.keras"
    train(root, resolve_recipe("tutorial", epochs=2), model_path=model)
    out = base / "shapes-project.zip"
    assert cli.main(["project", "export", "--data", str(root), "--model", str(model),
                     "--out", str(out)]) == 0  # fmt: skip
    return root, model, out


def _predictions(model, root):
    classifier = Classifier.load(model)
    out = {}
    for split in ("train", "test"):
        for label in dataset.list_classes(root):
            for path in dataset.list_images(root, split, label):
                out.setdefault((split, label), []).append(list(classifier.predict(path).values()))
    return {key: np.sort(np.array(rows), axis=0) for key, rows in out.items()}


def test_the_project_holds_the_dataset_model_and_card(project):
    root, model, out = project
    with zipfile.ZipFile(out) as archive:
        names = archive.namelist()
        manifest = json.loads(archive.read("shapecnn-project.json"))
        assert archive.read("model.keras") == model.read_bytes()
        assert archive.read("MODEL_CARD.md").decode().startswith("# Model card: shapes.keras")
    assert manifest["counts"] == dataset.count_images(root)
    drawings = [n for n in names if n.startswith("dataset/")]
    assert len(drawings) == sum(sum(c.values()) for c in manifest["counts"].values())
    assert all(n.split("/")[1] in ("train", "test") and n.endswith(".png") for n in drawings)


def test_import_on_another_folder_gives_the_same_classes_counts_and_predictions(
    project, tmp_path, capsys
):
    root, model, out = project
    data, new_model = tmp_path / "elsewhere" / "data", tmp_path / "elsewhere" / "m.keras"
    args = ["project", "import", str(out), "--data", str(data), "--model", str(new_model)]
    assert cli.main(args) == 0
    assert "imported" in capsys.readouterr().out
    assert dataset.list_classes(data) == dataset.list_classes(root)
    assert dataset.count_images(data) == dataset.count_images(root)
    assert read_metadata(new_model).class_names == read_metadata(model).class_names
    assert read_metadata(new_model).data == str(data.resolve())
    before, after = _predictions(model, root), _predictions(new_model, data)
    assert before.keys() == after.keys()
    for key in before:
        assert np.abs(before[key] - after[key]).max() < 1e-6
    names = [dataset.drawn_by_of(p) for p in dataset.list_images(data, "train", "circle")]
    assert names.count("Ada") == 1
    # Importing again over it is refused: the folder holds drawings, the model exists.
    assert cli.main(args) == 1
    assert "exists already" in capsys.readouterr().err


def test_a_bad_project_is_refused_and_nothing_is_written(project, tmp_path):
    _, _, out = project
    data, model = tmp_path / "data", tmp_path / "m.keras"
    # Not a project: a plain zip of class folders.
    plain = tmp_path / "plain.zip"
    with zipfile.ZipFile(plain, "w") as archive:
        archive.writestr("circle/a.png", b"x")
    with pytest.raises(ProjectError, match="not a shapecnn project file"):
        import_project(plain, data, model)
    # A project with an entry that would write outside the dataset: the upload rule refuses it.
    unsafe = tmp_path / "unsafe.zip"
    with zipfile.ZipFile(out) as source, zipfile.ZipFile(unsafe, "w") as target:
        for info in source.infolist():
            target.writestr(info, source.read(info))
        target.writestr("dataset/train/circle/../../../../evil.png", b"x")
    with pytest.raises(InvalidImageError, match="could write outside the dataset"):
        import_project(unsafe, data, model)
    # A model of other classes than its dataset.
    other = tmp_path / "other.zip"
    with zipfile.ZipFile(out) as source, zipfile.ZipFile(other, "w") as target:
        for info in source.infolist():
            data_bytes = source.read(info)
            if info.filename == "shapecnn-project.json":
                manifest = json.loads(data_bytes)
                manifest["classes"] = ["circle", "star", "triangle"]
                data_bytes = json.dumps(manifest).encode()
            target.writestr(info, data_bytes)
    with pytest.raises(ProjectError, match="are not its dataset's"):
        import_project(other, data, model)
    assert not model.exists() and dataset.count_images(data) == {}
    assert not any(p.name.startswith(".m.") for p in tmp_path.iterdir())


def test_export_refuses_a_model_that_is_not_of_this_dataset(project, tmp_path):
    _, model, _ = project
    small = make_dataset(tmp_path / "small", per_class=4, classes=("circle", "triangle"))
    with pytest.raises(ProjectError, match="rectangle"):
        export_project(small, model, tmp_path / "p.zip")
    assert not (tmp_path / "p.zip").exists()
