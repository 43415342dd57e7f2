"""The networks, and saving/loading a model together with its metadata and its export.

A model file is Keras' `.keras` archive (a zip) with more entries:
- `shapecnn.json`: the ModelMetadata (class names in the model's order, input size,
  preprocessing, recipe, counts, test results, the run's curves) with a format version;
- `model.tflite`: the network exported by Keras' own exporter (LiteRT), which the page and the
  Classifier run without TensorFlow (shapecnn.runtime). It is checked against Keras on the test
  drawings before the file is written;
- `head/kernel.npy`, `head/bias.npy` (format 3, models trained from the shape base): the head as
  data. Such a model's `model.tflite` is then the shape base's export alone, the same for every
  model of one base: it is exported once per base and kept (`base_export`), so a save costs the
  check, not Keras' exporter (3 of the 4.6 s a learn-as-you-save update took). The runtime
  applies the head to the embedding (runtime.Head);
- `head/judgement.npy`, `head/together.npy`, `head/own_weight.npy` (format 4): where the head
  is weighed against the base's judgement of the drawing (shapecnn.novelty, shapecnn.layers),
  the kinds x classes matrix, the classes it cannot tell apart and the head's weight, applied by
  runtime.Head too;
- `MODEL_CARD.md`: the model card (shapecnn.card), Markdown written from the metadata.
One file means one atomic rename covers all of them, so a crash while saving leaves the previous
model whole. Metadata read from a file is validated (types, ranges, sizes) before it is used.
"""

from __future__ import annotations

import contextlib
import glob
import hashlib
import io
import json
import os
import tempfile
import time
import unicodedata
import uuid
import zipfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from shapecnn.config import STALE_TEMP_SECONDS, PreprocessConfig
from shapecnn.errors import ModelFileError

METADATA_ENTRY = "shapecnn.json"
EXPORT_ENTRY = "model.tflite"
HEAD_ENTRIES = ("head/kernel.npy", "head/bias.npy")
# Beside them, where the model weighs its head against the base's judgement (shapecnn.layers):
# the kinds x classes matrix, which classes it cannot tell apart, and the head's weight.
JUDGEMENT_ENTRIES = ("head/judgement.npy", "head/together.npy", "head/own_weight.npy")
FORMAT_VERSION = 4
# What a model file may ask of us before anything is decoded: a few MB of metadata, a network
# of at most 64 MB, at most 1,000 classes.
MAX_METADATA_BYTES = 4 * 1024 * 1024
MAX_EXPORT_BYTES = 64 * 1024 * 1024
MAX_HEAD_BYTES = 16 * 1024 * 1024
MAX_ENTRIES = 256
MAX_CLASSES = 1000
MAX_JSON_DEPTH = 12
# The export must agree with Keras on every check drawing (same top class, probabilities within).
EXPORT_TOLERANCE = 1e-4
# The layer maps of an export are compared with Keras' on this many of the check drawings.
CHECK_SLICE = 32


@dataclass
class ModelMetadata:
    """What a model file says about itself. Written as JSON with a format version."""

    class_names: list[str]
    input_shape: tuple[int, int, int] = (24, 24, 3)
    preprocess: PreprocessConfig = field(default_factory=PreprocessConfig)
    architecture: str = "tutorial"
    recipe: dict = field(default_factory=dict)
    counts: dict[str, dict[str, int]] = field(default_factory=dict)
    epochs_run: int = 0
    train_seconds: float = 0.0
    # accuracy, loss, count, per_class, confusion (None without test drawings)
    test_metrics: dict | None = None
    # The test drawings the model got wrong: path, true, predicted, confidence.
    misclassified: list[dict] = field(default_factory=list)
    # One row per epoch: epoch, loss, accuracy and, with test data, test_loss, test_accuracy.
    history: list[dict] = field(default_factory=list)
    data: str = ""
    trained_at: str = ""
    versions: dict = field(default_factory=dict)
    # How the export was checked against Keras: drawings, max_difference.
    export: dict = field(default_factory=dict)
    # "Not sure" settings (shapecnn.novelty), None for models that cannot tell.
    novelty: dict | None = None
    # Accuracy on people it never saw (python -m shapecnn evaluate --by-person): accuracy,
    # test_accuracy, people [{name, accuracy, count}], recipe, measured_at; None: unknown.
    held_out_people: dict | None = None
    notes: list[str] = field(default_factory=list)
    format: int = FORMAT_VERSION

    def to_json(self) -> str:
        data = asdict(self)
        data["preprocess"] = self.preprocess.to_dict()
        data["input_shape"] = list(self.input_shape)
        return json.dumps(data, indent=1, ensure_ascii=False, allow_nan=False)

    @classmethod
    def from_json(cls, text: bytes | str, shown: str = "the model") -> ModelMetadata:
        """Parse and validate; every problem is one ModelFileError that names the field."""

        def bad(what: str) -> ModelFileError:
            return ModelFileError(f"{shown}: its metadata is not valid ({what})")

        try:
            data = json.loads(text)
        except (ValueError, RecursionError) as error:
            raise bad(f"not JSON: {str(error)[:80]}") from None
        if not isinstance(data, dict):
            raise bad("not a JSON object")
        if _depth(data) > MAX_JSON_DEPTH:
            raise bad(f"nested deeper than {MAX_JSON_DEPTH} levels")
        names = data.get("class_names")
        if not isinstance(names, list) or not 2 <= len(names) <= MAX_CLASSES:
            raise bad(f"class_names must be a list of 2 to {MAX_CLASSES} names")
        if not all(isinstance(n, str) and 0 < len(n) <= 40 for n in names):
            raise bad("class_names must be names of 1 to 40 characters")
        if len({unicodedata.normalize("NFC", n).casefold() for n in names}) != len(names):
            raise bad("class_names must be unique")
        if not isinstance(data.get("preprocess", {}), dict):
            raise bad("preprocess must be an object")
        # Files from before aspect_powers existed kept the whole aspect ratio in every channel.
        settings = {"aspect_powers": [1.0], **(data.get("preprocess") or {})}
        try:
            preprocess = PreprocessConfig.from_dict(settings)
        except TypeError as error:
            raise bad(f"preprocess: {error}") from None
        if (
            not isinstance(preprocess.size, int)
            or not 8 <= preprocess.size <= 128
            or preprocess.channels not in (1, 3)
            or preprocess.crop not in ("ink", "none")
            or not isinstance(preprocess.margin, (int, float))
            or not 0 <= preprocess.margin <= 1
            or not isinstance(preprocess.ink_threshold, (int, float))
            or not 0 < preprocess.ink_threshold < 1
            or not isinstance(preprocess.aspect_powers, tuple)
            or not 1 <= len(preprocess.aspect_powers) <= 3
            or not all(
                isinstance(p, (int, float)) and 0 <= p <= 1 for p in preprocess.aspect_powers
            )
        ):
            raise bad(
                "preprocess: size 8-128, channels 1 or 3, crop ink|none, margin 0-1, "
                "1-3 aspect_powers from 0 to 1"
            )
        shape = (preprocess.size, preprocess.size, preprocess.channels)
        if list(data.get("input_shape", shape)) != list(shape):
            raise bad(f"input_shape must be {list(shape)} for its preprocessing")
        kwargs = {"class_names": list(names), "input_shape": shape, "preprocess": preprocess}
        types = {
            "architecture": str,
            "recipe": dict,
            "counts": dict,
            "epochs_run": int,
            "train_seconds": (int, float),
            "test_metrics": (dict, type(None)),
            "misclassified": list,
            "history": list,
            "data": str,
            "trained_at": str,
            "versions": dict,
            "export": dict,
            "novelty": (dict, type(None)),
            "held_out_people": (dict, type(None)),
            "notes": list,
            "format": int,
        }
        for name, kind in types.items():
            if name in data:
                if not isinstance(data[name], kind) or isinstance(data[name], bool):
                    raise bad(f"{name} has the wrong type ({type(data[name]).__name__})")
                kwargs[name] = data[name]
        if kwargs.get("format", 1) > FORMAT_VERSION:
            raise ModelFileError(
                f"{shown} was written by a newer shapecnn (format {kwargs['format']}); "
                f"this one reads formats up to {FORMAT_VERSION}"
            )
        return cls(**kwargs)

    @property
    def test_accuracy(self) -> float | None:
        return (self.test_metrics or {}).get("accuracy")


def _depth(value, level: int = 0) -> int:
    if level > MAX_JSON_DEPTH:
        return level
    if isinstance(value, dict):
        return max((_depth(v, level + 1) for v in value.values()), default=level + 1)
    if isinstance(value, list):
        return max((_depth(v, level + 1) for v in value), default=level + 1)
    return level


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


def export_model(model):
    """The Keras model as exported for prediction. Its outputs, in this order (shapecnn.runtime
    names them): the probabilities; the features its last hidden layer computes, for the
    runtime's "not sure" test; the shape base's kinds, where the model has them; then, for the
    look inside (shapecnn.inside), the maps of its first convolution, of its second, and of the
    pooling after that (the tutorial CNN's MaxPooling2D; the shape base's pool2)."""
    from shapecnn._tensorflow import keras

    if _has_layer(model, "shape_base"):
        # Trained from the shape base: drawing -> shape_base -> [embedding, kinds], and the
        # head on the embedding. The export is built on the base's own graph, where its
        # convolutions are, with the head applied there: one pass computes every output.
        base = model.get_layer("shape_base")
        embedding = base.get_layer("embedding").output
        kinds = base.get_layer("kinds").output
        probabilities = model.get_layer("probabilities")(embedding)
        if _has_layer(model, "judged"):
            probabilities = model.get_layer("judged")([probabilities, kinds])
        graph, vectors = base, [probabilities, embedding, kinds]
    elif len(model.outputs) > 1:
        graph, vectors = model, list(model.outputs)
    else:
        features = model.get_layer("embedding") if _has_layer(model, "embedding") else None
        if features is None:
            features = model.layers[-2]  # the tutorial's Dense(128)
        graph, vectors = model, [model.outputs[0], features.output]
    maps = [layer.output for layer in inside_layers(graph)]
    return keras.Model(graph.inputs[0], [*vectors, *maps], name="export")


def inside_layers(model) -> list:
    """[first convolution, second convolution, the first pooling after the second] of a network,
    the layers whose maps the look inside shows; [] for a network without them."""
    from shapecnn._tensorflow import keras

    layers = model.layers
    convolutions = [i for i, layer in enumerate(layers) if isinstance(layer, keras.layers.Conv2D)]
    if len(convolutions) < 2:
        return []
    pooling = (keras.layers.MaxPooling2D, keras.layers.AveragePooling2D)
    after = [layer for layer in layers[convolutions[1] + 1 :] if isinstance(layer, pooling)]
    if not after:
        return []
    return [layers[convolutions[0]], layers[convolutions[1]], after[0]]


def _has_layer(model, name: str) -> bool:
    return any(layer.name == name for layer in model.layers)


def export_litert(model) -> bytes:
    """The model's LiteRT flatbuffer, made by Keras' own exporter."""
    return _litert_of(export_model(model))


def _litert_of(network) -> bytes:
    from shapecnn._tensorflow import native_output_silenced

    with tempfile.TemporaryDirectory(prefix="shapecnn-export-") as folder:
        target = Path(folder) / "model.tflite"
        with native_output_silenced():
            network.export(str(target), format="litert", verbose=False)
        return target.read_bytes()


def head_of(model):
    """The head of a model trained from the shape base as data (runtime.Head); None for the
    other networks, which are exported whole."""
    from shapecnn.runtime import Head

    if not _has_layer(model, "shape_base"):
        return None
    kernel, bias = model.get_layer("probabilities").get_weights()
    judgement = None
    if _has_layer(model, "judged"):
        judgement = tuple(
            np.asarray(w, np.float32) for w in model.get_layer("judged").get_weights()
        )
    return Head(np.asarray(kernel, np.float32), np.asarray(bias, np.float32), judgement=judgement)


# Shape base exports by the base's weights, in this process (a warm training process saves many
# models of one base) and on disk (each CLI run is a new process).
_BASE_EXPORTS: dict[str, bytes] = {}


def cache_dir() -> Path:
    """Where shapecnn keeps what it can make again: $SHAPECNN_CACHE, else the user's cache."""
    if os.environ.get("SHAPECNN_CACHE"):
        return Path(os.environ["SHAPECNN_CACHE"])
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "shapecnn"


def base_export(model, *, fresh: bool = False) -> bytes:
    """The LiteRT export of the shape base inside `model` (or of `model`, the base itself;
    runtime.HEADLESS_OUTPUTS: its embedding and kinds, then the maps of the look inside),
    exported once per base weights.
    `fresh` exports again and replaces what was kept (a kept export that failed its check)."""
    from shapecnn._tensorflow import keras

    base = model if model.name == "shape_base" else model.get_layer("shape_base")
    digest = hashlib.sha256(repr(tuple(base.inputs[0].shape)).encode())
    for weights in base.get_weights():
        digest.update(np.ascontiguousarray(weights).tobytes())
    key = digest.hexdigest()[:32]
    kept = cache_dir() / "exports" / f"shape_base-{key}.tflite"
    if not fresh and key in _BASE_EXPORTS:
        return _BASE_EXPORTS[key]
    data = None
    if not fresh:
        try:
            if kept.stat().st_size <= MAX_EXPORT_BYTES:
                data = kept.read_bytes()
        except OSError:
            data = None
    if data is None:
        maps = [layer.output for layer in inside_layers(base)]
        data = _litert_of(keras.Model(base.inputs[0], [*base.outputs, *maps], name="export"))
        # A cache that cannot be written only costs the next process this export.
        with contextlib.suppress(OSError):
            write_bytes_atomically(kept, data)
    if len(_BASE_EXPORTS) >= 4:
        _BASE_EXPORTS.clear()
    _BASE_EXPORTS[key] = data
    return data


def check_export(flatbuffer: bytes, model, inputs: np.ndarray, head=None) -> dict:
    """Run the export with its runtime against Keras on `inputs`; raises when they disagree.

    The probabilities must agree within EXPORT_TOLERANCE with the same top class, and the layer
    maps of the look inside (shapecnn.inside) within EXPORT_TOLERANCE of their largest value:
    what the panel shows is what the network computes. Returns how they agreed (the metadata's
    `export`: drawings, max_difference, and per layer map its largest relative difference).
    """
    from shapecnn._tensorflow import keras
    from shapecnn.runtime import LAYER_OUTPUTS, Runtime

    runtime = Runtime(flatbuffer, name="the export", head=head)
    inputs = np.asarray(inputs, np.float32)
    network = export_model(model)
    # The probabilities of every drawing in one call, as before the maps were exported; the
    # maps (tens of kB a drawing) on the first CHECK_SLICE drawings only.
    probabilities = keras.Model(network.inputs[0], network.outputs[0])
    expected = np.asarray(probabilities(inputs, training=False)) if len(inputs) else None
    got = runtime.run(inputs)["probabilities"]
    difference = float(np.max(np.abs(expected - got))) if len(inputs) else 0.0
    same_top = bool(np.all(expected.argmax(1) == got.argmax(1))) if len(inputs) else True
    if difference > EXPORT_TOLERANCE or not same_top:
        raise ModelFileError(
            f"the LiteRT export disagrees with Keras (max probability difference "
            f"{difference:.2e}, allowed {EXPORT_TOLERANCE}; same top class: {same_top})"
        )
    # A network without two convolutions and a pooling after them has no maps to show.
    first = network(inputs[:CHECK_SLICE], training=False) if len(inputs) else []
    maps = [output for output in map(np.asarray, first) if output.ndim == 4]
    if maps and set(runtime.layer_shapes) != set(LAYER_OUTPUTS):
        raise ModelFileError("the LiteRT export lacks the layer maps of the look inside")
    got = runtime.run(inputs[:CHECK_SLICE], layers=True) if maps else {}
    layers = {}
    for name, want in zip(LAYER_OUTPUTS, maps, strict=True):
        scale = max(1.0, float(np.max(np.abs(want)))) if want.size else 1.0
        off = float(np.max(np.abs(want - got[name]))) / scale if want.size else 0.0
        if not off <= EXPORT_TOLERANCE:
            raise ModelFileError(
                f"the LiteRT export's {name} maps disagree with Keras (max difference "
                f"{off:.2e} of their largest value, allowed {EXPORT_TOLERANCE})"
            )
        layers[name] = round(off, 9)
    return {
        "format": "litert" if head is None else "litert shape base + head",
        "drawings": len(inputs),
        "max_difference": difference,
        "layers": layers,
    }


def save_model(
    model,
    path: str | os.PathLike,
    metadata: ModelMetadata,
    *,
    check_inputs: np.ndarray | None = None,
) -> Path:
    """Write model + metadata + checked export to `path` atomically (temporary file, rename).

    The export is checked against Keras on `check_inputs` (the test drawings; random inputs
    when there are none); a disagreeing export is refused and nothing is written. A model
    trained from the shape base gets the base's kept export and its head as data (see the
    module).
    """
    path = Path(path)
    if path.suffix != ".keras":
        raise ModelFileError(f"model path must end in .keras, got {str(path)!r}")
    if not isinstance(metadata, ModelMetadata):
        raise TypeError(f"metadata must be a ModelMetadata, got {type(metadata).__name__}")
    if check_inputs is None or not len(check_inputs):
        check_inputs = np.random.default_rng(0).random((8, *metadata.input_shape), np.float32)
    check_inputs = check_inputs[:512]
    head = head_of(model)
    if head is None:
        flatbuffer = export_litert(model)
        metadata.export = check_export(flatbuffer, model, check_inputs)
    else:
        try:
            flatbuffer = base_export(model)
            metadata.export = check_export(flatbuffer, model, check_inputs, head)
        except ModelFileError:
            # The kept export is damaged or not this base's after all: make it again.
            flatbuffer = base_export(model, fresh=True)
            metadata.export = check_export(flatbuffer, model, check_inputs, head)
    text = metadata.to_json()
    from shapecnn.card import model_card  # the card is written from the metadata

    path.parent.mkdir(parents=True, exist_ok=True)
    clean_temp_models(path)
    # Keras insists on the .keras suffix; the leading dot keeps the file out of listings.
    temp = path.with_name(f".{path.stem}.tmp-{uuid.uuid4().hex[:8]}.keras")
    try:
        model.save(temp)
        with zipfile.ZipFile(temp, "a") as archive:
            archive.writestr(METADATA_ENTRY, text)
            archive.writestr("MODEL_CARD.md", model_card(metadata, path.name))
            archive.writestr(EXPORT_ENTRY, flatbuffer)
            if head is not None:
                for entry, array in zip(HEAD_ENTRIES, (head.kernel, head.bias), strict=True):
                    archive.writestr(entry, _npy_bytes(array))
                for entry, array in zip(JUDGEMENT_ENTRIES, head.judgement or (), strict=False):
                    archive.writestr(entry, _npy_bytes(array))
        with open(temp, "rb") as handle:
            os.fsync(handle.fileno())
        os.replace(temp, path)
    finally:
        temp.unlink(missing_ok=True)
    return path


def write_bytes_atomically(path: str | os.PathLike, data: bytes) -> Path:
    """Write a whole file (a model, a project zip) to a hidden temporary file beside it, then
    rename: a crash leaves the old file whole. The temporary name is the one clean_temp_models
    removes once stale."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(f".{path.stem}.tmp-{uuid.uuid4().hex[:8]}{path.suffix}")
    try:
        with open(temp, "xb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, path)
    finally:
        temp.unlink(missing_ok=True)
    return path


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


def _npy_bytes(array: np.ndarray) -> bytes:
    stream = io.BytesIO()
    np.save(stream, np.ascontiguousarray(array), allow_pickle=False)
    return stream.getvalue()


def _npy_array(data: bytes, shown: str) -> np.ndarray:
    """A float32 array from .npy bytes whose header is checked against their length before
    anything is allocated (a header may claim any shape)."""
    stream = io.BytesIO(data)
    version = np.lib.format.read_magic(stream)
    if version == (1, 0):
        shape, fortran, dtype = np.lib.format.read_array_header_1_0(stream)
    else:
        shape, fortran, dtype = np.lib.format.read_array_header_2_0(stream)
    count = int(np.prod(shape, dtype=np.int64)) if shape else 1
    if dtype != np.dtype("<f4") or fortran or count * 4 != len(data) - stream.tell():
        raise ModelFileError(f"{shown}: its head is not a float32 array of the size it claims")
    return np.frombuffer(data, "<f4", offset=stream.tell()).reshape(shape).copy()


@dataclass
class ModelFile:
    """One version of a model file, read in one go: bytes, metadata, export."""

    path: Path
    archive: bytes
    metadata: ModelMetadata
    # None for files from before the export existed (format 1): they load through Keras.
    flatbuffer: bytes | None
    # A model trained from the shape base since format 3: its head as data (runtime.Head), and
    # `flatbuffer` is the base's export.
    head: object | None = None

    def runtime(self):
        """The LiteRT runtime of this file's export (with its head, where it has one)."""
        from shapecnn.runtime import Runtime

        return Runtime(self.flatbuffer, name=str(self.path), head=self.head)


def read_metadata(path: str | os.PathLike) -> ModelMetadata:
    """The validated metadata of a model file, without loading TensorFlow."""
    path = Path(path)
    if not path.is_file():
        raise _no_model(path)
    try:
        with zipfile.ZipFile(path) as archive:
            return _metadata_of(archive, path)
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as error:
        raise ModelFileError(f"{path} is not a shapecnn model file ({error})") from None


def read_model_file(path: str | os.PathLike) -> ModelFile:
    """Everything prediction needs from a model file, from one read of its bytes.

    Training replaces the file with a rename at any moment; everything taken from these bytes
    belongs to one and the same version of it.
    """
    path = Path(path)
    try:
        if not path.is_file():
            raise _no_model(path)
        archive = path.read_bytes()
    except (FileNotFoundError, IsADirectoryError):
        raise _no_model(path) from None
    except OSError as error:
        raise ModelFileError(f"{path} could not be read ({error})") from None
    try:
        with zipfile.ZipFile(io.BytesIO(archive)) as zipped:
            metadata = _metadata_of(zipped, path)
            flatbuffer = _entry(zipped, EXPORT_ENTRY, MAX_EXPORT_BYTES, path)
            arrays = [_entry(zipped, name, MAX_HEAD_BYTES, path) for name in HEAD_ENTRIES]
            judging = [_entry(zipped, name, MAX_HEAD_BYTES, path) for name in JUDGEMENT_ENTRIES]
            head = None
            if any(data is not None for data in arrays + judging):
                if None in arrays or flatbuffer is None:
                    raise ModelFileError(
                        f"{path}: its head needs {' and '.join(HEAD_ENTRIES)} and {EXPORT_ENTRY}"
                    )
                if None in judging and any(data is not None for data in judging):
                    raise ModelFileError(
                        f"{path}: its head's judgement needs {', '.join(JUDGEMENT_ENTRIES)}"
                    )
                from shapecnn.runtime import Head

                kernel, bias = (_npy_array(data, str(path)) for data in arrays)
                judgement = None
                if judging[0] is not None:
                    judgement = tuple(_npy_array(data, str(path)) for data in judging)
                head = Head(kernel, bias, judgement=judgement, name=str(path))
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as error:
        raise ModelFileError(f"{path} is not a shapecnn model file ({error})") from None
    return ModelFile(path, archive, metadata, flatbuffer, head)


def _entry(archive: zipfile.ZipFile, name: str, limit: int, path: Path) -> bytes | None:
    try:
        info = archive.getinfo(name)
    except KeyError:
        return None
    if info.file_size > limit:
        raise ModelFileError(
            f"{path}: its {name} unpacks to {info.file_size:,} bytes; at most {limit:,} allowed"
        )
    return archive.read(info)


def _metadata_of(archive: zipfile.ZipFile, path: Path) -> ModelMetadata:
    if len(archive.infolist()) > MAX_ENTRIES:
        raise ModelFileError(f"{path}: more than {MAX_ENTRIES} entries, not a shapecnn model")
    text = _entry(archive, METADATA_ENTRY, MAX_METADATA_BYTES, path)
    if text is None:
        raise ModelFileError(
            f"{path} is a Keras model without shapecnn metadata (class names): "
            "train it with shapecnn"
        )
    return ModelMetadata.from_json(text, shown=str(path))


def _no_model(path: Path) -> ModelFileError:
    return ModelFileError(f"no model at {path}: train one first (python -m shapecnn train)")


def load_model(path: str | os.PathLike):
    """(keras model, metadata) from a file written by save_model."""
    metadata = read_metadata(path)
    return _load_keras(path, shown=path), metadata


def keras_model_from_archive(archive: bytes, path: str | os.PathLike):
    """The Keras model in a model file's bytes; `path` names it in errors. Keras reads only
    from a file, so the bytes go to a private temporary copy."""
    with tempfile.TemporaryDirectory(prefix="shapecnn-") as folder:
        copy = Path(folder) / "model.keras"
        copy.write_bytes(archive)
        return _load_keras(copy, shown=path)


def _load_keras(path: str | os.PathLike, shown: str | os.PathLike):
    import shapecnn.layers  # noqa: F401 - registers the layers a saved model may hold
    from shapecnn._tensorflow import keras

    try:
        return keras.models.load_model(path, compile=False)
    except Exception as error:  # noqa: BLE001 - Keras raises many kinds for a bad archive
        raise ModelFileError(f"{shown} could not be loaded as a Keras model ({error})") from None
