"""A model taken elsewhere: its network as a LiteRT (.tflite) or ONNX (.onnx) file.

Both are made by Keras' own exporter (`model.export(..., format=...)`) from the network the
model file holds, with the outputs the page's runtime uses: output 0 the probabilities (in the
model's class order, metadata.class_names), output 1 the features of its last hidden layer, and
last the layer maps of the look inside (shapecnn.inside; shapecnn.runtime names them all).
LiteRT is the model file's own export (checked against Keras when it was saved); files from
before it existed are exported again. Before an export is handed out it is run with its own
runtime (ai-edge-litert, onnxruntime) on the model's test drawings and compared with Keras: the
same top class on every drawing and probabilities within EXPORT_TOLERANCE, else it is refused
with one line saying why.
"""

from __future__ import annotations

import os
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from shapecnn import dataset
from shapecnn.errors import ModelFileError, ShapeCNNError
from shapecnn.model import EXPORT_TOLERANCE, ModelMetadata, write_bytes_atomically

FORMATS = {"litert": ".tflite", "onnx": ".onnx"}
# Drawings an export is checked on, at most (a whole test split of a few hundred is quick).
MAX_CHECK_DRAWINGS = 1024


class ExportError(ShapeCNNError):
    """An export that was refused: it could not be made, or disagrees with Keras."""


@dataclass(frozen=True)
class Export:
    """An export and how it was checked against Keras."""

    format: str
    data: bytes
    drawings: int
    max_difference: float
    # What it was checked on, in words: "23 test drawings of data/x" or "8 random inputs ...".
    checked_on: str

    @property
    def suffix(self) -> str:
        return FORMATS[self.format]

    def summary(self) -> str:
        return (
            f"{self.format} export checked against Keras on {self.checked_on}: same top class "
            f"on every one, max probability difference {self.max_difference:.1e}"
        )


def check_inputs(metadata: ModelMetadata) -> tuple[np.ndarray, str]:
    """The drawings to check an export on, and what they are in words: the test split of the
    dataset the model was trained on (metadata.data) while it exists, else its training split,
    else random inputs, as the check at save time used when a model had no drawings."""
    folder = Path(metadata.data) if metadata.data else None
    if folder is not None and folder.is_dir():
        for split in ("test", "train"):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # a stray file is no reason to refuse
                samples = dataset.load_samples(
                    folder, split, metadata.class_names, metadata.preprocess
                )
            if len(samples):
                x = samples.x[:MAX_CHECK_DRAWINGS]
                return x, f"{len(x)} {split} drawings of {folder}"
    x = np.random.default_rng(0).random((8, *metadata.input_shape), np.float32)
    why = f"its dataset {folder} is gone" if folder is not None else "it names no dataset"
    return x, f"8 random inputs ({why}; the check at save time used its drawings)"


def export_model_file(path: str | os.PathLike, format: str) -> Export:
    """The checked export of the model file at `path` in `format` (litert or onnx)."""
    if format not in FORMATS:
        raise ExportError(f"format must be one of {', '.join(FORMATS)}; got {format!r}")
    from shapecnn.model import keras_model_from_archive, read_model_file

    model_file = read_model_file(path)
    metadata = model_file.metadata
    model = keras_model_from_archive(model_file.archive, path)
    inputs, checked_on = check_inputs(metadata)
    if format == "litert":
        # The export a model file carries is the whole network, except in a model trained from
        # the shape base, which carries the base's and its head as data: one file is made then.
        whole = model_file.flatbuffer if model_file.head is None else None
        data = whole or _litert_bytes(model, path)
        got = _run_litert(data, inputs)
    else:
        data = _onnx_bytes(model, path)
        got = _run_onnx(data, inputs)
    expected = _keras_probabilities(model, inputs)
    difference = float(np.max(np.abs(expected - got))) if len(inputs) else 0.0
    disagree = int(np.sum(expected.argmax(1) != got.argmax(1)))
    if disagree or not difference <= EXPORT_TOLERANCE:
        raise ExportError(
            f"the {format} export of {path} was refused: it disagrees with Keras on "
            f"{checked_on} (top class differs on {disagree}, max probability difference "
            f"{difference:.1e}, allowed {EXPORT_TOLERANCE:.0e})"
        )
    return Export(format, data, len(inputs), difference, checked_on)


def write_export(export: Export, out: str | os.PathLike) -> Path:
    """Write an export to `out` atomically (a temporary file beside it, then a rename)."""
    return write_bytes_atomically(out, export.data)


def default_out(model_path: str | os.PathLike, format: str) -> Path:
    """models/shapes.keras -> models/shapes.tflite (or .onnx)."""
    return Path(model_path).with_suffix(FORMATS[format])


def _keras_probabilities(model, inputs: np.ndarray) -> np.ndarray:
    from shapecnn.model import export_model

    outputs = []
    for start in range(0, len(inputs), 256):
        batch = inputs[start : start + 256]
        outputs.append(np.asarray(export_model(model)(batch, training=False)[0]))
    return np.concatenate(outputs) if outputs else np.zeros((0, 0), np.float32)


def _litert_bytes(model, path) -> bytes:
    from shapecnn.model import export_litert

    try:
        return export_litert(model)
    except Exception as error:  # noqa: BLE001 - the converter raises many kinds
        raise ExportError(f"{path} could not be exported to LiteRT ({_short(error)})") from None


def _onnx_bytes(model, path) -> bytes:
    from shapecnn._tensorflow import native_output_silenced
    from shapecnn.model import export_model

    network = export_model(model)
    network(np.zeros((1, *network.input_shape[1:]), np.float32))  # Keras exports called models
    with tempfile.TemporaryDirectory(prefix="shapecnn-onnx-") as folder:
        target = Path(folder) / "model.onnx"
        try:
            with native_output_silenced(), warnings.catch_warnings():
                warnings.simplefilter("ignore")  # tf2onnx's deprecation noise
                network.export(str(target), format="onnx", verbose=False)
        except Exception as error:  # noqa: BLE001 - tf2onnx raises many kinds
            raise ExportError(f"{path} could not be exported to ONNX ({_short(error)})") from None
        return target.read_bytes()


def _run_litert(data: bytes, inputs: np.ndarray) -> np.ndarray:
    from shapecnn.runtime import Runtime

    try:
        return Runtime(data, name="the LiteRT export").run(inputs)["probabilities"]
    except (ModelFileError, ValueError, RuntimeError) as error:
        raise ExportError(f"the LiteRT export cannot be run ({_short(error)})") from None


def _run_onnx(data: bytes, inputs: np.ndarray) -> np.ndarray:
    try:
        import onnxruntime
    except ImportError as error:  # pragma: no cover - a broken install
        raise ExportError(f"onnxruntime is not installed ({error})") from None
    try:
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = 1
        session = onnxruntime.InferenceSession(data, options, providers=["CPUExecutionProvider"])
        name = session.get_inputs()[0].name
        return np.asarray(session.run(None, {name: inputs.astype(np.float32)})[0])
    except Exception as error:  # noqa: BLE001 - onnxruntime raises its own kinds
        raise ExportError(f"the ONNX export cannot be run ({_short(error)})") from None


def _short(error: BaseException) -> str:
    text = " ".join(str(error).split())
    return text[:200] + ("..." if len(text) > 200 else "")
