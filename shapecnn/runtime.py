"""The exported network, run by LiteRT (ai-edge-litert): predictions without TensorFlow.

Every model file carries its network twice: the Keras model (for training, export and anyone who
wants Keras) and a LiteRT flatbuffer made from it by Keras' own exporter when the model was saved
(`model.export(..., format="litert")`), checked against Keras on the test drawings. Prediction
runs the flatbuffer here, on one thread: importing the runtime takes about 0.1 s where TensorFlow
takes 4.5 s, and one drawing about 0.3 ms (benchmarks/RESULTS.md, "Prediction runtime").

Why LiteRT and not ONNX Runtime: both were measured in the same run (benchmarks/RESULTS.md,
"Prediction runtime"). LiteRT imports in 9 ms against 40 ms, loads a model in 2-4 ms against
7-11 ms and peaks at 42-46 MiB against 63-68 MiB; ONNX Runtime runs one drawing faster (0.15 ms
against 0.21 ms for the base and its head), but both are a fraction of the preprocessing (about
1 ms), and Keras exports to LiteRT with the converter inside TensorFlow, where the ONNX export
needs tf2onnx on top.
"""

from __future__ import annotations

import threading

import numpy as np

from shapecnn._quiet import native_output_silenced
from shapecnn.errors import ModelFileError

# Output names of an exported model, in the order the Keras model returns them; the shape base's
# own export has the embedding alone.
OUTPUTS = ("probabilities", "embedding", "kinds")
BASE_OUTPUTS = ("embedding", "kinds")


class Runtime:
    """A LiteRT interpreter over one exported network; thread-safe, one thread of arithmetic.

    `run(batch)` returns {"probabilities": N x classes, and where exported "embedding": N x D,
    "kinds": N x the base's kinds} (the shape base's own export: embedding and kinds).
    """

    def __init__(self, flatbuffer: bytes, *, name: str = "the model", outputs=OUTPUTS):
        try:
            from ai_edge_litert.interpreter import Interpreter
        except ImportError as error:  # pragma: no cover - a broken install
            raise ModelFileError(f"the LiteRT runtime is not installed ({error})") from None
        try:
            with native_output_silenced():
                self._interpreter = Interpreter(model_content=bytes(flatbuffer), num_threads=1)
                self._interpreter.allocate_tensors()
        except (ValueError, RuntimeError) as error:
            raise ModelFileError(f"{name}: its exported network cannot be run ({error})") from None
        try:
            self._runner = self._interpreter.get_signature_runner("serving_default")
        except ValueError:
            raise ModelFileError(f"{name}: its exported network has no serving signature") from None
        inputs = self._runner.get_input_details()
        if len(inputs) != 1:
            raise ModelFileError(f"{name}: its exported network must take one input")
        ((self._input_name, detail),) = inputs.items()
        if len(detail["shape"]) != 4:
            raise ModelFileError(f"{name}: its exported network must take N x H x W x C input")
        self.input_shape = tuple(int(n) for n in detail["shape"][1:])
        # Keras' exporter names the outputs output_0, output_1 ... in the model's output order.
        names = outputs
        outputs = self._runner.get_output_details()
        self._outputs = {
            key: f"output_{i}" for i, key in enumerate(names) if f"output_{i}" in outputs
        }
        if names[0] not in self._outputs:
            raise ModelFileError(f"{name}: its exported network has no {names[0]} output")
        self.output_sizes = {
            key: int(outputs[tensor]["shape"][-1]) for key, tensor in self._outputs.items()
        }
        # The interpreter holds one set of tensors: one call at a time.
        self._lock = threading.Lock()
        # The first call creates the XNNPACK delegate, which says so on descriptor 2.
        with native_output_silenced():
            self.run(np.zeros((1, *self.input_shape), np.float32))

    @property
    def n_classes(self) -> int:
        return self.output_sizes["probabilities"]

    @property
    def has_embedding(self) -> bool:
        return "embedding" in self._outputs

    def run(self, batch: np.ndarray) -> dict[str, np.ndarray]:
        batch = np.ascontiguousarray(batch, dtype=np.float32)
        if batch.ndim != 4 or batch.shape[1:] != self.input_shape:
            raise ValueError(f"input must be N x {self.input_shape}, got {batch.shape}")
        with self._lock:
            result = self._runner(**{self._input_name: batch})
        return {key: np.array(result[tensor]) for key, tensor in self._outputs.items()}
