import math
import zipfile

import numpy as np
import pytest

from shapecnn.errors import ModelFileError
from shapecnn.model import (
    EXPORT_ENTRY,
    METADATA_ENTRY,
    ModelMetadata,
    build_model,
    load_model,
    read_metadata,
    read_model_file,
    save_model,
)
from shapecnn.runtime import Runtime


def test_default_architecture_is_the_tutorial_cnn():
    model = build_model(3)
    summary = [(type(layer).__name__, layer.output.shape) for layer in model.layers]
    assert summary == [
        ("Conv2D", (None, 22, 22, 32)),
        ("Conv2D", (None, 20, 20, 64)),
        ("MaxPooling2D", (None, 10, 10, 64)),
        ("Flatten", (None, 6400)),
        ("Dense", (None, 128)),
        ("Dense", (None, 3)),
    ]
    assert model.layers[-1].activation.__name__ == "softmax"
    assert model.loss == "categorical_crossentropy"


def test_a_classifier_needs_two_classes():
    with pytest.raises(ValueError, match="at least 2 classes, got 1"):
        build_model(1)


def test_model_metadata_and_checked_export_round_trip_in_one_file(tmp_path):
    model = build_model(2)
    check = np.random.default_rng(0).random((5, 24, 24, 3), dtype=np.float32)
    metadata = ModelMetadata(class_names=["원", "square"], epochs_run=3, history=[{"epoch": 1}])
    path = save_model(model, tmp_path / "m.keras", metadata, check_inputs=check)
    assert [p.name for p in tmp_path.iterdir()] == ["m.keras"]
    loaded, loaded_metadata = load_model(path)
    assert loaded_metadata == metadata
    assert loaded_metadata.export["drawings"] == 5
    assert loaded_metadata.export["max_difference"] < 1e-4
    x = np.random.default_rng(1).random((2, 24, 24, 3), dtype=np.float32)
    np.testing.assert_allclose(loaded(x).numpy(), model(x).numpy(), rtol=1e-6)
    # The export in the file is what prediction runs: it agrees with Keras on new inputs too.
    exported = Runtime(read_model_file(path).flatbuffer).run(x)["probabilities"]
    np.testing.assert_allclose(exported, model(x).numpy(), atol=1e-5)


def base_model_and_metadata(trained_model):
    """A model trained from the shape base (the session's) as Keras and its metadata."""
    model, metadata = load_model(trained_model)
    return model, metadata


@pytest.fixture
def own_cache(monkeypatch, tmp_path):
    """A cache of this test's own, empty, as a new machine has it (the session's holds the
    exports of every base other tests made)."""
    from shapecnn import model as model_module

    monkeypatch.setenv("SHAPECNN_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(model_module, "_BASE_EXPORTS", {})
    return tmp_path / "cache"


def test_a_model_from_the_shape_base_carries_the_bases_export_once_and_its_head_as_data(
    trained_model, tmp_path, own_cache
):
    from shapecnn.model import HEAD_ENTRIES, cache_dir

    model, metadata = base_model_and_metadata(trained_model)
    check = np.random.default_rng(2).random((6, 24, 24, 3), dtype=np.float32)
    first = save_model(model, tmp_path / "a.keras", metadata, check_inputs=check)
    # Another head on the same base: the same base export goes in, the new head beside it.
    head = model.get_layer("probabilities")
    kernel, bias = head.get_weights()
    head.set_weights([kernel[:, ::-1].copy(), bias[::-1].copy()])
    second = save_model(model, tmp_path / "b.keras", metadata, check_inputs=check)
    exports = []
    for path in (first, second):
        with zipfile.ZipFile(path) as archive:
            assert set(HEAD_ENTRIES) <= set(archive.namelist())
            exports.append(archive.read(EXPORT_ENTRY))
    assert exports[0] == exports[1]
    assert [p.read_bytes() for p in (cache_dir() / "exports").iterdir()] == [exports[0]]
    # What prediction runs is what Keras computes, on inputs the check never saw.
    x = np.random.default_rng(3).random((4, 24, 24, 3), dtype=np.float32)
    for path, network in ((second, model), (first, load_model(first)[0])):
        got = read_model_file(path).runtime().run(x, layers=True)
        np.testing.assert_allclose(got["probabilities"], network(x)[0].numpy(), atol=1e-5)
        assert set(got) >= {"probabilities", "embedding", "kinds", "conv1", "conv2", "pooled"}
    assert read_metadata(second).export["format"] == "litert shape base + head"


def test_a_damaged_kept_base_export_is_made_again_not_trusted(trained_model, tmp_path, own_cache):
    from shapecnn import model as model_module
    from shapecnn.model import cache_dir

    model, metadata = base_model_and_metadata(trained_model)
    save_model(model, tmp_path / "a.keras", metadata)  # the base's export is kept now
    (kept,) = (cache_dir() / "exports").iterdir()
    good = kept.read_bytes()
    kept.write_bytes(good[: len(good) // 2])
    model_module._BASE_EXPORTS.clear()  # as a new process would find it
    path = save_model(model, tmp_path / "b.keras", metadata)
    assert kept.read_bytes() == good
    x = np.random.default_rng(3).random((2, 24, 24, 3), dtype=np.float32)
    got = read_model_file(path).runtime().run(x)["probabilities"]
    np.testing.assert_allclose(got, model(x)[0].numpy(), atol=1e-5)


def test_failed_save_keeps_the_previous_model_whole(tmp_path):
    path = tmp_path / "m.keras"
    save_model(build_model(2), path, ModelMetadata(class_names=["a", "b"]))
    before = path.read_bytes()
    with pytest.raises(ValueError):
        # NaN cannot be written as JSON: the save fails before anything is renamed.
        save_model(build_model(3), path, ModelMetadata(["a", "b", "c"], train_seconds=math.nan))
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["m.keras"]
    assert read_metadata(path).class_names == ["a", "b"]


def test_foreign_and_missing_files_give_clear_errors(tmp_path):
    with pytest.raises(ModelFileError, match=r"no model at .*train one first"):
        read_metadata(tmp_path / "missing.keras")
    junk = tmp_path / "junk.keras"
    junk.write_text("hello")
    with pytest.raises(ModelFileError, match="not a shapecnn model file"):
        read_metadata(junk)
    plain = tmp_path / "plain.keras"
    build_model(2).save(plain)
    with pytest.raises(ModelFileError, match="without shapecnn metadata"):
        read_metadata(plain)
    with zipfile.ZipFile(plain) as archive:
        assert "config.json" in archive.namelist()


def test_model_path_must_be_a_keras_file(tmp_path):
    with pytest.raises(ModelFileError, match=r"must end in \.keras"):
        save_model(build_model(2), tmp_path / "m.h5", ModelMetadata(["a", "b"]))


def test_the_file_carries_the_export_beside_the_keras_model(tmp_path):
    path = save_model(build_model(2), tmp_path / "m.keras", ModelMetadata(["a", "b"]))
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
    assert METADATA_ENTRY in names and EXPORT_ENTRY in names
