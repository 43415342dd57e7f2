"""Malformed model files: each gets one ModelFileError that says what is wrong, never a crash
from somewhere else, and nothing is decoded that the file did not earn."""

from __future__ import annotations

import json
import zipfile

import numpy as np
import pytest

from shapecnn.errors import ModelFileError
from shapecnn.inference import Classifier
from shapecnn.model import (
    EXPORT_ENTRY,
    HEAD_ENTRIES,
    JUDGEMENT_ENTRIES,
    MAX_METADATA_BYTES,
    METADATA_ENTRY,
    ModelMetadata,
    build_model,
    read_metadata,
    save_model,
)

from helpers import make_dataset


@pytest.fixture(scope="module")
def good_model(tmp_path_factory):
    path = tmp_path_factory.mktemp("good") / "m.keras"
    save_model(build_model(3), path, ModelMetadata(["circle", "rectangle", "triangle"]))
    return path


def rewritten(source, target, metadata=None, raw: bytes | None = None, drop=(), extra=None):
    """A copy of a model file with its metadata entry replaced (and entries dropped/added)."""
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w") as new:
        for info in old.infolist():
            if info.filename in drop or info.filename == METADATA_ENTRY:
                continue
            new.writestr(info, old.read(info))
        if raw is not None:
            new.writestr(METADATA_ENTRY, raw)
        elif metadata is not None:
            new.writestr(METADATA_ENTRY, json.dumps(metadata))
        for name, data in (extra or {}).items():
            new.writestr(name, data)
    return target


def good_metadata(good_model) -> dict:
    with zipfile.ZipFile(good_model) as archive:
        return json.loads(archive.read(METADATA_ENTRY))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"class_names": ["a", "b"]}, "2 outputs|3 outputs|metadata names 2 classes"),
        ({"class_names": ["a", "a", "b"]}, "unique"),
        ({"class_names": ["a", "A", "b"]}, "unique"),
        ({"class_names": "abc"}, "class_names must be a list"),
        ({"class_names": [1, 2, 3]}, "class_names must be names"),
        ({"class_names": ["x" * 300, "b", "c"]}, "1 to 40 characters"),
        ({"preprocess": {"size": 100000}}, "preprocess"),
        ({"preprocess": {"size": "24"}}, "preprocess"),
        ({"preprocess": {"channels": 7}}, "preprocess"),
        ({"preprocess": "big"}, "preprocess"),
        ({"epochs_run": "many"}, "epochs_run has the wrong type"),
        ({"test_metrics": [1, 2]}, "test_metrics has the wrong type"),
        ({"history": {"a": 1}}, "history has the wrong type"),
        ({"format": 99}, "newer shapecnn"),
        ({"input_shape": [4096, 4096, 3]}, "input_shape"),
    ],
)
def test_bad_metadata_is_one_clear_error(good_model, tmp_path, change, message):
    path = rewritten(good_model, tmp_path / "bad.keras", {**good_metadata(good_model), **change})
    with pytest.raises(ModelFileError, match=message):
        Classifier.load(path)


def test_deeply_nested_or_huge_or_non_json_metadata_is_refused(good_model, tmp_path):
    names = json.dumps(good_metadata(good_model)["class_names"])
    deep = f'{{"class_names": {names}, "recipe": {"[" * 50 + "]" * 50}}}'
    deeper = f'{{"class_names": {names}, "recipe": {"[" * 50000 + "]" * 50000}}}'
    for raw, message in (
        (deep.encode(), r"nested"),
        (deeper.encode(), "nested|not JSON"),
        (b"{" * 100_000, "not JSON|nested"),
        (b"\xff\xfe not json", "not JSON"),
        (b"[1, 2]", "not a JSON object"),
        (b" " * (MAX_METADATA_BYTES + 1), "unpacks to"),
    ):
        path = rewritten(good_model, tmp_path / "bad.keras", raw=raw)
        with pytest.raises(ModelFileError, match=message):
            read_metadata(path)


def test_an_export_that_is_not_a_network_is_refused(good_model, tmp_path):
    path = rewritten(
        good_model,
        tmp_path / "bad.keras",
        good_metadata(good_model),
        drop=(EXPORT_ENTRY,),
        extra={EXPORT_ENTRY: b"not a flatbuffer" * 10},
    )
    with pytest.raises(ModelFileError, match=r"cannot be run|not a shapecnn"):
        Classifier.load(path)


def test_a_zip_bomb_entry_is_refused_before_it_is_unpacked(good_model, tmp_path):
    # 200 MB of zeros compress to a few hundred kB: refused from the entry's header.
    path = rewritten(
        good_model,
        tmp_path / "bomb.keras",
        good_metadata(good_model),
        drop=(EXPORT_ENTRY,),
    )
    with zipfile.ZipFile(path, "a", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(EXPORT_ENTRY, bytes(200 * 1024 * 1024))
    with pytest.raises(ModelFileError, match="unpacks to"):
        Classifier.load(path)


def test_a_good_file_still_predicts(good_model):
    classifier = Classifier.load(good_model)
    x = np.ones((1, 24, 24, 3), np.float32)
    assert classifier.predict_preprocessed(x).shape == (1, 3)


def npy(array) -> bytes:
    import io

    stream = io.BytesIO()
    np.save(stream, array, allow_pickle=False)
    return stream.getvalue()


HUGE_HEADER = npy(np.zeros((2, 3), np.float32)).replace(b"(2, 3)", b"(99999999, 99999999)")


@pytest.mark.parametrize(
    ("kernel", "bias", "message"),
    [
        (np.zeros((128, 3), np.float64), np.zeros(3, np.float64), "float32"),
        (np.zeros((128, 4), np.float32), np.zeros(4, np.float32), "outputs|4 classes|names 3"),
        (np.zeros((128, 3), np.float32), np.zeros(2, np.float32), "do not fit"),
        (np.zeros((10, 3), np.float32), np.zeros(3, np.float32), "takes 10 features"),
        (np.full((128, 3), np.nan, np.float32), np.zeros(3, np.float32), "not finite"),
        (HUGE_HEADER, np.zeros(3, np.float32), "size it claims"),
        (b"not an array", np.zeros(3, np.float32), "not a shapecnn model file"),
        (np.zeros((128, 3), np.float32), None, "needs head/kernel.npy and head/bias.npy"),
    ],
)
def test_a_bad_head_is_one_clear_error(trained_model, tmp_path, kernel, bias, message):
    """A model from the shape base carries its head as two arrays: each is checked (type,
    shape against the network and the classes, finite numbers, a header that tells the truth)
    before anything is allocated or run."""
    path = with_arrays(trained_model, tmp_path / "bad.keras", HEAD_ENTRIES, (kernel, bias))
    with pytest.raises(ModelFileError, match=message):
        Classifier.load(path)


def with_arrays(source, target, names, arrays):
    """A copy of a model file with the entries `names` replaced by `arrays` (.npy, or raw
    bytes as given; None leaves an entry out)."""
    extra = {
        name: array if isinstance(array, bytes) else npy(array)
        for name, array in zip(names, arrays, strict=True)
        if array is not None
    }
    return rewritten(source, target, good_metadata(source), drop=names, extra=extra)


@pytest.fixture(scope="module")
def judged_model(tmp_path_factory):
    """A model from the shape base whose head counts for 0.3 against the base's judgement."""
    from shapecnn.config import resolve_recipe
    from shapecnn.training import train

    root = make_dataset(tmp_path_factory.mktemp("judged") / "shapes", per_class=12, seed=2)
    recipe = resolve_recipe(head_solver="lbfgs", own_weights=(0.3,))
    train(root, recipe, model_path=root.parent / "model.keras")
    return root.parent / "model.keras"


def test_a_model_weighs_its_head_against_the_base_as_keras_does(judged_model, tmp_path):
    """A model from the shape base weighs its head against the base's judgement, and the
    page's runtime predicts what its Keras model does; the same file without the judgement
    predicts other probabilities (the head alone, as format 3 files do)."""
    from shapecnn.synth import synth_dataset

    synth_dataset(tmp_path / "more", per_class=4, seed=9)
    classifier = Classifier.load(judged_model)
    paths = sorted((tmp_path / "more").rglob("*.png"))
    inputs = np.stack([classifier.preprocess(path) for path in paths])
    keras_probabilities = np.asarray(classifier.model(inputs, training=False)[0])
    np.testing.assert_allclose(
        classifier.predict_preprocessed(inputs), keras_probabilities, atol=1e-4
    )
    head_alone = rewritten(
        judged_model, tmp_path / "head.keras", good_metadata(judged_model), drop=JUDGEMENT_ENTRIES
    )
    alone = Classifier.load(head_alone).predict_preprocessed(inputs)
    assert np.abs(alone - keras_probabilities).max() > 1e-3


def judgement_of(path) -> tuple[np.ndarray, ...]:
    import io

    with zipfile.ZipFile(path) as archive:
        return tuple(np.load(io.BytesIO(archive.read(name))) for name in JUDGEMENT_ENTRIES)


def lopsided(together):
    changed = together.copy()
    changed[0, 1] = 1
    return changed


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda m, t, w: (m.astype(np.float64), t, w), "float32"),
        (lambda m, t, w: (m[:, :2], t, w), "do not fit its 3 classes"),
        (lambda m, t, w: (m, t[:2, :2], w), "do not fit its 3 classes"),
        (lambda m, t, w: (m[:-1], t, w), r"judges \d+ kinds but its network gives"),
        (lambda m, t, w: (-m, t, w), "finite and >= 0"),
        (lambda m, t, w: (np.full_like(m, np.inf), t, w), "finite and >= 0"),
        (lambda m, t, w: (m, t * 0.5, w), "symmetric 0/1 matrix with 1s on its diagonal"),
        (lambda m, t, w: (m, lopsided(t), w), "symmetric 0/1 matrix"),
        (lambda m, t, w: (m, t, np.array([1.5], np.float32)), "from 0 to 1, got 1.5"),
        (lambda m, t, w: (m, t, np.array([0.3, 0.3], np.float32)), "do not fit"),
        (lambda m, t, w: (m, t, None), "judgement needs head/judgement.npy, head/together"),
    ],
)
def test_a_bad_judgement_is_one_clear_error(judged_model, tmp_path, change, message):
    """The base's judgement beside the head is checked like the head: type, shape against the
    network's kinds and the classes, numbers a weighing can use, both entries or none."""
    arrays = change(*judgement_of(judged_model))
    path = with_arrays(judged_model, tmp_path / "bad.keras", JUDGEMENT_ENTRIES, arrays)
    with pytest.raises(ModelFileError, match=message):
        Classifier.load(path)
