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
from shapecnn.novelty import judged, weighed

# Output names of an exported model, in the order the Keras model returns them: first its vectors
# (N x width: the probabilities, the features of its last hidden layer, and where it has them the
# shape base's kinds), then, in models saved since the look inside (shapecnn.inside), the maps of
# three of its layers (N x H x W x channels): the first convolution's, the second's, and those
# maps pooled. The shape base's own export has the embedding and kinds alone.
LAYER_OUTPUTS = ("conv1", "conv2", "pooled")
OUTPUTS = ("probabilities", "embedding", "kinds", *LAYER_OUTPUTS)
BASE_OUTPUTS = ("embedding", "kinds")
# A model trained from the shape base carries the base's export (the same for every such model,
# so it is exported once per base, not once per save: shapecnn.model) and its head as data.
HEADLESS_OUTPUTS = (*BASE_OUTPUTS, *LAYER_OUTPUTS)


class Head:
    """The last layer of a model trained from the shape base, Dense(softmax) on the embedding,
    applied in NumPy: softmax(embedding @ kernel + bias), as Keras computes it in float32. With
    a `judgement` (matrix, alike classes, own weight), that is weighed against the base's
    judgement of the drawing's kinds as the model's BaseJudgement layer does (shapecnn.layers,
    shapecnn.novelty.weighed)."""

    def __init__(
        self,
        kernel: np.ndarray,
        bias: np.ndarray,
        *,
        judgement: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
        name: str = "the model",
    ):
        kernel = np.asarray(kernel)
        bias = np.asarray(bias)
        if kernel.dtype != np.float32 or bias.dtype != np.float32:
            raise ModelFileError(f"{name}: its head must be float32 numbers")
        if kernel.ndim != 2 or bias.shape != (kernel.shape[1],) or kernel.shape[1] < 2:
            raise ModelFileError(
                f"{name}: its head's kernel {kernel.shape} and bias {bias.shape} do not fit "
                "(features x classes and classes, at least 2 classes)"
            )
        if not (np.isfinite(kernel).all() and np.isfinite(bias).all()):
            raise ModelFileError(f"{name}: its head holds numbers that are not finite")
        self.kernel = np.ascontiguousarray(kernel)
        self.bias = np.ascontiguousarray(bias)
        self.judgement = None
        if judgement is not None:
            self.judgement = _checked_judgement(judgement, kernel.shape[1], name)

    @property
    def width(self) -> int:
        return self.kernel.shape[0]

    @property
    def n_classes(self) -> int:
        return self.kernel.shape[1]

    @property
    def n_kinds(self) -> int | None:
        """How many kinds its judgement reads (None: it has none)."""
        return None if self.judgement is None else self.judgement[0].shape[0]

    def __call__(self, embedding: np.ndarray, kinds: np.ndarray | None = None) -> np.ndarray:
        probabilities = softmax(embedding @ self.kernel + self.bias)
        if self.judgement is None:
            return probabilities
        matrix, together, own_weight = self.judgement
        return weighed(probabilities, judged(kinds, matrix), together, own_weight[0])


def _checked_judgement(judgement, n_classes: int, name: str) -> tuple[np.ndarray, ...]:
    """(kinds x classes matrix, classes x classes 0/1, one weight), each checked."""
    if len(judgement) != 3:
        raise ModelFileError(f"{name}: its head's judgement needs 3 arrays, got {len(judgement)}")
    matrix, together, own_weight = (np.asarray(a) for a in judgement)
    if any(a.dtype != np.float32 for a in (matrix, together, own_weight)):
        raise ModelFileError(f"{name}: its head's judgement must be float32 numbers")
    fits = (
        matrix.ndim == 2
        and matrix.shape[1] == n_classes
        and together.shape == (n_classes, n_classes)
        and own_weight.shape == (1,)
    )
    if not fits:
        raise ModelFileError(
            f"{name}: its head's judgement {matrix.shape}, {together.shape} and weight "
            f"{own_weight.shape} do not fit its {n_classes} classes (kinds x classes, classes x "
            "classes, and one weight)"
        )
    if not (np.isfinite(matrix).all() and (matrix >= 0).all()):
        raise ModelFileError(f"{name}: its head's judgement must be finite and >= 0")
    alike = np.isin(together, (0, 1)).all() and (np.diag(together) == 1).all()
    if not (alike and np.array_equal(together, together.T)):
        raise ModelFileError(
            f"{name}: its head's alike classes must be a symmetric 0/1 matrix with 1s on "
            "its diagonal"
        )
    if not 0 <= float(own_weight[0]) <= 1:
        raise ModelFileError(
            f"{name}: its head's weight must be from 0 to 1, got {float(own_weight[0])}"
        )
    return np.ascontiguousarray(matrix), np.ascontiguousarray(together), own_weight


def softmax(logits: np.ndarray) -> np.ndarray:
    """Probabilities (float32) from N x classes logits, each row shifted by its largest first."""
    shifted = logits - logits.max(axis=1, keepdims=True)
    probabilities = np.exp(shifted)
    probabilities /= probabilities.sum(axis=1, keepdims=True)
    return probabilities.astype(np.float32, copy=False)


class Runtime:
    """A LiteRT interpreter over one exported network; thread-safe, one thread of arithmetic.

    `run(batch)` returns the vectors: {"probabilities": N x classes, and where exported
    "embedding": N x D, "kinds": N x the base's kinds} (the shape base's own export: embedding and
    kinds); `run(batch, layers=True)` the layer maps as well, where the export has them
    (`has_layers`). With a `head`, the flatbuffer is a shape base's export (HEADLESS_OUTPUTS) and
    the probabilities are the head's on its embedding. Only the outputs asked for are copied out
    of the interpreter: a prediction costs what it did before the maps were exported
    (benchmarks/RESULTS.md, "The look inside").
    """

    def __init__(
        self,
        flatbuffer: bytes,
        *,
        name: str = "the model",
        outputs=OUTPUTS,
        head: Head | None = None,
    ):
        if head is not None:
            outputs = HEADLESS_OUTPUTS
        self._head = head
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
            runner = self._interpreter.get_signature_runner("serving_default")
        except ValueError:
            raise ModelFileError(f"{name}: its exported network has no serving signature") from None
        inputs = runner.get_input_details()
        outputs_found = runner.get_output_details()
        # The runner holds the interpreter's internals, and while anything does the interpreter
        # refuses to run: the signature tells which tensors are which, the interpreter runs them.
        del runner
        if len(inputs) != 1:
            raise ModelFileError(f"{name}: its exported network must take one input")
        ((detail),) = inputs.values()
        if len(detail["shape"]) != 4:
            raise ModelFileError(f"{name}: its exported network must take N x H x W x C input")
        main_inputs = self._interpreter.get_input_details()
        if len(main_inputs) != 1 or main_inputs[0]["index"] != detail["index"]:
            raise ModelFileError(f"{name}: its serving signature is not its main graph")
        self._input_index = detail["index"]
        self._batch_shape = tuple(int(n) for n in detail["shape"])
        self.input_shape = self._batch_shape[1:]
        # Keras' exporter names the outputs output_0, output_1 ... in the model's output order:
        # the vectors take the vector names in order, the maps the map names.
        ordered = [
            outputs_found[f"output_{i}"]
            for i in range(len(outputs_found))
            if f"output_{i}" in outputs_found
        ]
        vectors = [d for d in ordered if len(d["shape"]) == 2]
        maps = [d for d in ordered if len(d["shape"]) == 4]
        vector_names = [n for n in outputs if n not in LAYER_OUTPUTS]
        map_names = [n for n in outputs if n in LAYER_OUTPUTS]
        self._vectors = {key: d["index"] for key, d in zip(vector_names, vectors, strict=False)}
        self._maps = {}
        if len(maps) == len(map_names):
            self._maps = {key: d["index"] for key, d in zip(map_names, maps, strict=True)}
        if vector_names[0] not in self._vectors:
            raise ModelFileError(f"{name}: its exported network has no {vector_names[0]} output")
        shapes = {d["index"]: tuple(int(n) for n in d["shape"][1:]) for d in ordered}
        self.output_sizes = {key: shapes[index][-1] for key, index in self._vectors.items()}
        if head is not None:
            if self.output_sizes["embedding"] != head.width:
                raise ModelFileError(
                    f"{name}: its head takes {head.width} features but its network gives "
                    f"{self.output_sizes['embedding']}"
                )
            if head.n_kinds is not None and self.output_sizes.get("kinds") != head.n_kinds:
                raise ModelFileError(
                    f"{name}: its head judges {head.n_kinds} kinds but its network gives "
                    f"{self.output_sizes.get('kinds')}"
                )
            self.output_sizes = {"probabilities": head.n_classes, **self.output_sizes}
        # The maps' shapes (H, W, channels), {} for an export without them.
        self.layer_shapes = {key: shapes[index] for key, index in self._maps.items()}
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
        return "embedding" in self._vectors

    @property
    def has_layers(self) -> bool:
        """Whether the export has the layer maps (models saved before the look inside do not)."""
        return bool(self._maps)

    def run(self, batch: np.ndarray, *, layers: bool = False) -> dict[str, np.ndarray]:
        """The network's outputs for a batch: the vectors, and with `layers` the layer maps too
        (none for an export without them)."""
        batch = np.ascontiguousarray(batch, dtype=np.float32)
        if batch.ndim != 4 or batch.shape[1:] != self.input_shape:
            raise ValueError(f"input must be N x {self.input_shape}, got {batch.shape}")
        wanted = {**self._vectors, **(self._maps if layers else {})}
        interpreter = self._interpreter
        with self._lock:
            if batch.shape != self._batch_shape:
                interpreter.resize_tensor_input(self._input_index, batch.shape)
                interpreter.allocate_tensors()
                self._batch_shape = batch.shape
            interpreter.set_tensor(self._input_index, batch)
            interpreter.invoke()
            # get_tensor copies: nothing returned points into the interpreter's memory.
            outputs = {key: interpreter.get_tensor(index) for key, index in wanted.items()}
        if self._head is not None:
            probabilities = self._head(outputs["embedding"], outputs.get("kinds"))
            outputs = {"probabilities": probabilities, **outputs}
        return outputs
