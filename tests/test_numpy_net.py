"""The numpy network read straight from a model file, without TensorFlow; the record of its
agreement with Keras that saving a model writes; and Classifier.load, which trusts the network
only with that record and otherwise loads Keras as before."""

import io
import json
import os
import subprocess
import sys
import threading
import zipfile
from pathlib import Path

import h5py
import numpy as np
import pytest

from shapecnn import inference, numpy_net
from shapecnn._tensorflow import keras
from shapecnn.inference import Classifier
from shapecnn.model import METADATA_ENTRY, build_model, load_model, read_metadata, save_model

from helpers import draw_outline

ROOT = Path(__file__).resolve().parent.parent
CLASSES = ["circle", "rectangle", "triangle"]


def random_inputs(n: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).random((n, 24, 24, 3), dtype=np.float32)


def randomise(model, seed: int = 1) -> None:
    """Weights far from their initial values, so every layer matters to the output."""
    rng = np.random.default_rng(seed)
    for layer in model.layers:
        layer.set_weights(
            [rng.normal(0.0, 0.3, w.shape).astype(np.float32) for w in layer.get_weights()]
        )


def rewrite(path: Path, out: Path, changes: dict) -> Path:
    """A copy of a model file with some entries replaced ({name: bytes}) or left out (None)."""
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            data = changes.get(info.filename, source.read(info))
            if data is not None:
                target.writestr(info.filename, data)
    return out


def entry(path: Path, name: str) -> bytes:
    with zipfile.ZipFile(path) as archive:
        return archive.read(name)


def with_metadata(path: Path, out: Path, **changes) -> Path:
    metadata = {**read_metadata(path), **changes}
    metadata = {key: value for key, value in metadata.items() if value is not None}
    return rewrite(path, out, {METADATA_ENTRY: json.dumps(metadata).encode()})


def edited_weights(path: Path, edit) -> bytes:
    """model.weights.h5 of a model file after `edit(h5 file)`."""
    buffer = io.BytesIO(entry(path, numpy_net.WEIGHTS_ENTRY))
    with h5py.File(buffer, "r+") as h5:
        edit(h5)
    return buffer.getvalue()


@pytest.fixture
def keras_loads(monkeypatch) -> list:
    """The model files Classifier loaded Keras from (a spy on its only way to Keras)."""
    calls = []
    real = inference.keras_model_from_archive

    def spy(archive, path):
        calls.append(path)
        return real(archive, path)

    monkeypatch.setattr(inference, "keras_model_from_archive", spy)
    return calls


def varied_model():
    """Every supported kind of layer, two of some kinds, names that are not Keras' defaults."""
    model = keras.Sequential(
        [
            keras.Input((24, 24, 3)),
            keras.layers.Rescaling(2.0, offset=-1.0),
            keras.layers.Conv2D(8, (3, 3), padding="same", activation="tanh", name="first"),
            keras.layers.BatchNormalization(),
            keras.layers.Conv2D(8, (2, 4), padding="same", use_bias=False, name="second"),
            keras.layers.Activation("relu"),
            keras.layers.AveragePooling2D((3, 3)),
            keras.layers.Dropout(0.5),
            keras.layers.GaussianNoise(0.1),
            keras.layers.MaxPooling2D((2, 2)),
            keras.layers.Conv2D(4, (1, 1), activation="sigmoid"),
            keras.layers.GlobalAveragePooling2D(),
            keras.layers.Dense(5, activation="relu"),
            keras.layers.Dense(3, activation="softmax", name="probabilities"),
        ]
    )
    randomise(model)
    norm = model.layers[2]
    gamma, beta, mean, variance = norm.get_weights()
    norm.set_weights([gamma, beta, mean, np.abs(variance) + 0.5])  # variance stays positive
    return model


# --- reading the file, and the record saved with it -----------------------------------------------


def test_network_read_from_a_trained_model_file_equals_keras(trained_model):
    record = read_metadata(trained_model)[numpy_net.METADATA_KEY]
    assert record["result"] == "agrees"
    network = numpy_net.checked_network(trained_model.read_bytes(), record)
    assert network is not None and network.input_shape == (24, 24, 3)
    model, _ = load_model(trained_model)
    x = np.concatenate([random_inputs(5, seed=2), numpy_net.probe_inputs((24, 24, 3))])
    np.testing.assert_allclose(network(x), np.asarray(model(x, training=False)), rtol=0, atol=1e-5)


def test_every_supported_layer_is_read_from_the_file(tmp_path):
    model = varied_model()
    path = save_model(model, tmp_path / "m.keras", {"class_names": CLASSES})
    assert read_metadata(path)[numpy_net.METADATA_KEY]["result"] == "agrees"
    network = numpy_net.network_from_archive(path)
    x = random_inputs(4, seed=3)
    np.testing.assert_allclose(network(x), np.asarray(model(x, training=False)), rtol=0, atol=1e-5)


@pytest.mark.parametrize(
    "edit",
    [
        pytest.param(lambda h5: h5.move("layers/dense_1", "layers/dense_9"), id="renamed-group"),
        pytest.param(lambda h5: h5.create_group("layers/extra/vars"), id="extra-group"),
        pytest.param(lambda h5: h5.__delitem__("layers/dense/vars/1"), id="missing-bias"),
        pytest.param(
            lambda h5: h5["layers/dense/vars"].attrs.__setitem__("name", "not_this_layer"),
            id="group-of-another-layer",
        ),
        pytest.param(
            lambda h5: h5["layers/conv2d/vars"].create_dataset("2", data=np.zeros(3, np.float32)),
            id="extra-variable",
        ),
    ],
)
def test_weights_laid_out_unexpectedly_are_refused(trained_model, tmp_path, edit):
    weights = edited_weights(trained_model, edit)
    copy = rewrite(trained_model, tmp_path / "m.keras", {numpy_net.WEIGHTS_ENTRY: weights})
    assert numpy_net.network_from_archive(copy) is None


def test_files_that_are_not_a_plain_sequential_are_refused(trained_model, tmp_path):
    config = json.loads(entry(trained_model, numpy_net.CONFIG_ENTRY))
    functional = {**config, "class_name": "Functional"}
    custom = json.loads(json.dumps(config))
    custom["config"]["layers"][-1]["registered_name"] = "mine>Dense"
    for name, changed in (("functional", functional), ("custom", custom)):
        copy = rewrite(
            trained_model,
            tmp_path / f"{name}.keras",
            {numpy_net.CONFIG_ENTRY: json.dumps(changed).encode()},
        )
        assert numpy_net.network_from_archive(copy) is None, name
    no_weights = rewrite(trained_model, tmp_path / "w.keras", {numpy_net.WEIGHTS_ENTRY: None})
    assert numpy_net.network_from_archive(no_weights) is None
    assert numpy_net.network_from_archive(b"not a zip") is None


def test_saving_records_a_disagreement(tmp_path, monkeypatch):
    """A numpy network that reads the file wrong is caught while Keras is at hand."""
    model = build_model(3)
    randomise(model)
    real = numpy_net.layer_from_config

    def off_by_one(kind, config, weights):
        step = real(kind, config, weights)
        return (lambda x: step(x) + 1.0) if kind == "Dense" else step

    monkeypatch.setattr(numpy_net, "layer_from_config", off_by_one)
    path = save_model(model, tmp_path / "m.keras", {"class_names": CLASSES})
    record = read_metadata(path)[numpy_net.METADATA_KEY]
    assert record["result"] == "disagrees"
    monkeypatch.undo()
    assert numpy_net.checked_network(path.read_bytes(), record) is None


def test_a_record_covers_only_the_bytes_it_was_made_from(trained_model, tmp_path):
    record = read_metadata(trained_model)[numpy_net.METADATA_KEY]
    weights = edited_weights(
        trained_model, lambda h5: h5["layers/dense_1/vars/1"].__setitem__(..., [5.0, 0.0, 0.0])
    )
    copy = rewrite(trained_model, tmp_path / "m.keras", {numpy_net.WEIGHTS_ENTRY: weights})
    assert numpy_net.network_from_archive(copy) is not None  # readable...
    assert numpy_net.checked_network(copy.read_bytes(), record) is None  # ...but not vouched for
    for looser in ({**record, "tolerance": 1e-3}, {**record, "result": "disagrees"}, "agrees"):
        assert numpy_net.checked_network(trained_model.read_bytes(), looser) is None


class Dropout(keras.layers.Layer):
    """Named like Keras' Dropout, but not a no-op at inference: numpy would get it wrong."""

    def call(self, x):
        return x * 3.0


def test_a_custom_layer_under_a_builtin_name_is_not_read_from_the_file(tmp_path):
    model = keras.Sequential(
        [
            keras.Input((24, 24, 3)),
            keras.layers.Flatten(),
            Dropout(),
            keras.layers.Dense(3, activation="softmax"),
        ]
    )
    path = save_model(model, tmp_path / "m.keras", {"class_names": CLASSES})
    assert numpy_net.network_from_archive(path) is None
    assert read_metadata(path)[numpy_net.METADATA_KEY]["result"] == "unsupported"


# --- the record and Classifier.load -------------------------------------------------------------


def test_a_trusted_file_loads_and_predicts_without_tensorflow(trained_model):
    """In a fresh process: TensorFlow and Keras stay out of sys.modules."""
    drawing = trained_model.parent / "drawing.png"
    draw_outline("triangle").save(drawing)
    script = (
        "import json, sys\n"
        "import shapecnn.numpy_net\n"
        "from shapecnn.inference import Classifier\n"
        "classifier = Classifier.load(sys.argv[1])\n"
        "probabilities = classifier.predict(sys.argv[2])\n"
        "print(json.dumps({'uses_numpy': classifier.uses_numpy, 'probabilities': probabilities,\n"
        "    'loaded': [m for m in ('tensorflow', 'keras') if m in sys.modules]}))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-c", script, str(trained_model), str(drawing)],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=True,
    )
    report = json.loads(done.stdout)
    assert report["loaded"] == []
    assert report["uses_numpy"]
    reference = Classifier(load_model(trained_model)[0], read_metadata(trained_model))
    expected = reference.predict(drawing)
    assert report["probabilities"] == pytest.approx(expected, abs=1e-5)


def test_keras_is_loaded_once_on_first_use_of_the_model(trained_model, keras_loads):
    classifier = Classifier.load(trained_model)
    assert classifier.uses_numpy and keras_loads == []
    x = random_inputs(inference.NUMPY_MAX_BATCH + 3)
    small = np.concatenate([classifier.predict_preprocessed(x[i : i + 1]) for i in range(len(x))])
    assert keras_loads == []  # a few drawings at a time: numpy only
    models = []
    threads = [threading.Thread(target=lambda: models.append(classifier.model)) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert keras_loads == [trained_model] and len({id(m) for m in models}) == 1
    large = classifier.predict_preprocessed(x)  # TensorFlow
    np.testing.assert_allclose(small, large, rtol=0, atol=1e-5)
    assert classifier.uses_numpy


def test_the_model_comes_from_the_bytes_that_were_loaded(trained_model, tmp_path):
    """Training may replace the file after loading: `.model` is still the loaded one."""
    path = tmp_path / "m.keras"
    path.write_bytes(trained_model.read_bytes())
    classifier = Classifier.load(path)
    other = build_model(3)
    randomise(other, seed=7)
    save_model(other, path, {"class_names": CLASSES})
    x = random_inputs(1)
    np.testing.assert_allclose(
        np.asarray(classifier.model(x, training=False)),
        classifier.predict_preprocessed(x),
        rtol=0,
        atol=1e-5,
    )


def test_older_files_without_the_record_load_keras_and_check_there(
    trained_model, tmp_path, keras_loads
):
    old = with_metadata(trained_model, tmp_path / "old.keras", numpy_forward=None)
    assert numpy_net.METADATA_KEY not in read_metadata(old)
    classifier = Classifier.load(old)
    assert keras_loads == [old]  # at load, as before the record existed
    assert classifier.uses_numpy  # ...and then checked against Keras on the spot
    drawing = draw_outline("circle")
    assert classifier.predict(drawing) == pytest.approx(
        Classifier.load(trained_model).predict(drawing), abs=1e-6
    )


def test_the_record_pins_the_weights(trained_model, tmp_path, keras_loads):
    """New weights under an old record (say, a file patched by hand) are not trusted."""
    weights = edited_weights(
        trained_model, lambda h5: h5["layers/dense_1/vars/1"].__setitem__(..., [5.0, 0.0, 0.0])
    )
    copy = rewrite(trained_model, tmp_path / "m.keras", {numpy_net.WEIGHTS_ENTRY: weights})
    classifier = Classifier.load(copy)
    assert keras_loads == [copy]
    x = random_inputs(1)
    np.testing.assert_allclose(
        classifier.predict_preprocessed(x),
        np.asarray(classifier.model(x, training=False)),
        rtol=0,
        atol=1e-5,
    )


def test_a_model_with_an_unsupported_layer_loads_with_keras(tmp_path, keras_loads):
    model = keras.Sequential(
        [
            keras.Input((24, 24, 3)),
            keras.layers.Conv2D(4, (3, 3), strides=2),  # strided: not in numpy
            keras.layers.Flatten(),
            keras.layers.Dense(3, activation="softmax"),
        ]
    )
    path = save_model(model, tmp_path / "m.keras", {"class_names": CLASSES})
    assert read_metadata(path)[numpy_net.METADATA_KEY]["result"] == "unsupported"
    classifier = Classifier.load(path)
    assert keras_loads == [path] and not classifier.uses_numpy
    x = random_inputs(2)
    np.testing.assert_allclose(
        classifier.predict_preprocessed(x), np.asarray(model(x, training=False)), atol=1e-6
    )
