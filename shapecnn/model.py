"""The tutorial CNN, and saving/loading a model together with its metadata.

A model file is Keras' `.keras` archive (a zip) with one more entry, `shapecnn.json`: class names
in the model's order, input size, preprocessing settings, recipe, counts and test metrics. One
file means one atomic rename covers both, so a crash while saving leaves the previous model whole.

The metadata also records whether the numpy version of the network (shapecnn.numpy_net), built
from the saved file itself, agreed with Keras when it was saved: a Classifier that finds that
record can predict without importing TensorFlow (about 4.5 s) at all.
"""

from __future__ import annotations

import glob
import io
import json
import os
import tempfile
import time
import uuid
import zipfile
from pathlib import Path

from shapecnn import numpy_net
from shapecnn.errors import ModelFileError

METADATA_ENTRY = "shapecnn.json"
# A temporary model file older than this was left by a save that crashed (kill -9, power cut),
# not written by a save in progress: the next save of that model removes it.
STALE_TEMP_SECONDS = 600


def _tutorial_layers(n_classes: int) -> list:
    from shapecnn._tensorflow import keras  # here, so read_metadata never loads TensorFlow

    # The tutorial's network, layer for layer.
    return [
        keras.layers.Conv2D(32, kernel_size=(3, 3), activation="relu"),
        keras.layers.Conv2D(64, (3, 3), activation="relu"),
        keras.layers.MaxPooling2D(pool_size=(2, 2)),
        keras.layers.Flatten(),
        keras.layers.Dense(128, activation="relu"),
        keras.layers.Dense(n_classes, activation="softmax"),
    ]


def _compact_layers(n_classes: int) -> list:
    # About the tutorial's arithmetic (8 M multiply-adds) with a tenth of its weights: three
    # stages of convolutions and pooling, then global pooling instead of Flatten + Dense(128),
    # so where a feature sits matters less and there is less to overfit on 15 drawings a class.
    from shapecnn._tensorflow import keras

    conv = {"kernel_size": 3, "padding": "same", "activation": "relu"}
    return [
        keras.layers.Conv2D(16, **conv),
        keras.layers.Conv2D(32, **conv),
        keras.layers.MaxPooling2D(2),
        keras.layers.Conv2D(64, **conv),
        keras.layers.MaxPooling2D(2),
        keras.layers.Conv2D(128, **conv),
        keras.layers.GlobalMaxPooling2D(),
        keras.layers.Dropout(0.3),
        keras.layers.Dense(n_classes, activation="softmax"),
    ]


ARCHITECTURES = {"tutorial": _tutorial_layers, "compact": _compact_layers}


def build_model(
    n_classes: int,
    input_shape: tuple[int, int, int] = (24, 24, 3),
    learning_rate: float = 1e-3,
    architecture: str = "tutorial",
):
    """A compiled classifier; by default the tutorial's CNN (two convolutions, max-pooling, one
    hidden dense layer)."""
    if architecture not in ARCHITECTURES:
        raise ValueError(
            f"architecture must be one of {', '.join(ARCHITECTURES)}, got {architecture!r}"
        )
    if n_classes < 2:
        raise ValueError(f"a classifier needs at least 2 classes, got {n_classes}")
    from shapecnn._tensorflow import keras

    model = keras.Sequential(
        [keras.Input(shape=input_shape), *ARCHITECTURES[architecture](n_classes)],
        name=f"shapecnn_{architecture}",
    )
    model.compile(
        loss="categorical_crossentropy",
        optimizer=keras.optimizers.Adam(learning_rate=learning_rate),
        metrics=["accuracy"],
    )
    return model


def save_model(model, path: str | os.PathLike, metadata: dict) -> Path:
    """Write model + metadata to `path` atomically (temporary file in the same folder, rename).

    The metadata written gains `numpy_forward`: whether the numpy network read back from the
    written file agrees with `model` (see numpy_net.check_archive). The check runs here because
    TensorFlow is loaded anyway while saving, and so that loading can skip it.
    """
    path = Path(path)
    if path.suffix != ".keras":
        raise ModelFileError(f"model path must end in .keras, got {str(path)!r}")
    path.parent.mkdir(parents=True, exist_ok=True)
    clean_temp_models(path)
    # Keras insists on the .keras suffix; the leading dot keeps the file out of listings.
    temp = path.with_name(f".{path.stem}.tmp-{uuid.uuid4().hex[:8]}.keras")
    try:
        model.save(temp)
        metadata = {**metadata, numpy_net.METADATA_KEY: _numpy_check(temp, model)}
        with zipfile.ZipFile(temp, "a") as archive:
            archive.writestr(METADATA_ENTRY, json.dumps(metadata, indent=2, ensure_ascii=False))
        with open(temp, "rb") as handle:
            os.fsync(handle.fileno())
        os.replace(temp, path)
    finally:
        temp.unlink(missing_ok=True)
    return path


def _numpy_check(archive: Path, model) -> dict:
    try:
        return numpy_net.check_archive(archive, model)
    except Exception as error:  # noqa: BLE001 - a failed check must not fail the save
        # Without an "agrees" record, loading simply checks with Keras, as for older files.
        return {"result": "failed", "error": f"{type(error).__name__}: {error}"}


def clean_temp_models(path: str | os.PathLike, older_than: float = STALE_TEMP_SECONDS) -> int:
    """Remove the temporary files that crashed saves of the model at `path` left; returns how
    many were removed. Younger ones may belong to a save in progress and are kept."""
    path = Path(path)
    cutoff = time.time() - older_than
    removed = 0
    for temp in path.parent.glob(f".{glob.escape(path.stem)}.tmp-*.keras"):
        try:
            if temp.stat().st_mtime < cutoff:
                temp.unlink()
                removed += 1
        except FileNotFoundError:
            pass  # another process removed it first
    return removed


def read_metadata(path: str | os.PathLike) -> dict:
    """The shapecnn metadata of a model file, without loading TensorFlow."""
    path = Path(path)
    if not path.is_file():
        raise _no_model(path)
    return _metadata_in(path, path)


def read_model_file(path: str | os.PathLike) -> tuple[bytes, dict]:
    """(the file's bytes, its metadata), read in one go, without loading TensorFlow.

    Training replaces the file with a rename at any moment; everything taken from these bytes
    (class names, weights, the Keras model later) belongs to one and the same version of it.
    """
    path = Path(path)
    try:
        archive = path.read_bytes()
    except (FileNotFoundError, IsADirectoryError):
        raise _no_model(path) from None
    except OSError as error:
        raise ModelFileError(f"{path} could not be read ({error})") from None
    return archive, _metadata_in(io.BytesIO(archive), path)


def _no_model(path: Path) -> ModelFileError:
    return ModelFileError(f"no model at {path}: train one first (python -m shapecnn train)")


def _metadata_in(source, path: Path) -> dict:
    try:
        with zipfile.ZipFile(source) as archive:
            return json.loads(archive.read(METADATA_ENTRY))
    except KeyError:
        raise ModelFileError(
            f"{path} is a Keras model without shapecnn metadata (class names): "
            "train it with shapecnn"
        ) from None
    except (zipfile.BadZipFile, json.JSONDecodeError, OSError) as error:
        raise ModelFileError(f"{path} is not a shapecnn model file ({error})") from None


def load_model(path: str | os.PathLike):
    """(keras model, metadata) from a file written by save_model."""
    metadata = read_metadata(path)
    return _load_keras(path, shown=path), metadata


def keras_model_from_archive(archive: bytes, path: str | os.PathLike):
    """The Keras model in a model file's bytes (from read_model_file); `path` names it in
    errors. Keras reads only from a file, so the bytes go to a private temporary copy."""
    with tempfile.TemporaryDirectory(prefix="shapecnn-") as folder:
        copy = Path(folder) / "model.keras"
        copy.write_bytes(archive)
        return _load_keras(copy, shown=path)


def _load_keras(path: str | os.PathLike, shown: str | os.PathLike):
    from shapecnn._tensorflow import keras

    try:
        return keras.models.load_model(path, compile=False)
    except Exception as error:  # noqa: BLE001 - Keras raises many kinds for a bad archive
        raise ModelFileError(f"{shown} could not be loaded as a Keras model ({error})") from None
