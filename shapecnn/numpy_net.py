"""The classifier's network in numpy, built from a Keras model or straight from its `.keras` file.

Importing TensorFlow takes about 4.5 s, longer than the page may take to show its canvas, and the
network is small enough for numpy: one drawing is about 9 million multiply-adds, a fraction of a
millisecond on one thread. So this module never imports TensorFlow or Keras. Each layer is
rebuilt from what a `.keras` archive holds for it: its class name, its config dict and its
weight arrays. The same functions serve a Keras model in memory (`network_from_model`) and the
archive on disk (`network_from_archive`), which reads `config.json` and `model.weights.h5` with
h5py and nothing else.

A numpy network is only trusted once it has agreed with Keras. `check_archive` does that when
shapecnn saves a model (TensorFlow is loaded then anyway): it builds the network from the file
just written and compares it with the Keras model on probe inputs. `model.save_model` stores the
result, with the SHA-256 of the two archive entries it read, in the model's metadata.
`checked_network` rebuilds the network at load time only if that record says it agreed and the
entries are byte for byte the ones that were checked.
"""

from __future__ import annotations

import contextlib
import ctypes
import hashlib
import io
import json
import os
import re
import threading
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

# The numpy network is used only if its probabilities agree with Keras' this closely.
AGREEMENT_TOLERANCE = 1e-5
# The key of the agreement record in the model's shapecnn metadata.
METADATA_KEY = "numpy_forward"
# The two entries of a `.keras` archive that define the network (names fixed by Keras).
CONFIG_ENTRY = "config.json"
WEIGHTS_ENTRY = "model.weights.h5"
# Larger entries are not read here (the tutorial CNN's weights are 3.3 MB): Keras' own loader,
# with its own guards, deals with them.
MAX_ENTRY_BYTES = 256 * 1024 * 1024

Layer = Callable[[np.ndarray], np.ndarray]


@dataclass(frozen=True)
class NumpyNetwork:
    """A Sequential network as numpy functions: `network(batch)` computes
    `model(batch, training=False)` for float32 inputs of `input_shape` (no batch axis)."""

    input_shape: tuple[int, ...] | None
    steps: tuple[Layer, ...]

    def __call__(self, batch: np.ndarray) -> np.ndarray:
        x = np.asarray(batch, dtype=np.float32)
        with _single_threaded_blas():
            for step in self.steps:
                x = step(x)
        return x


# --- building the network -----------------------------------------------------------------------


def network_from_model(model) -> NumpyNetwork | None:
    """The numpy version of a Keras model in memory, or None for an unsupported model.

    Supports Sequential models of Conv2D (stride 1, valid or same padding), max and average
    pooling, Flatten, Dense, BatchNormalization, Rescaling, Activation and the layers that do
    nothing at inference (Dropout, noise). It trusts the layers' class names: check the result
    against the model (`agrees_with_keras`) before using it.
    """
    # A Keras model exists, so Keras is loaded already: this import costs nothing.
    from shapecnn._tensorflow import keras

    if not isinstance(model, keras.Sequential):
        return None
    steps = []
    for layer in model.layers:
        weights = [np.asarray(w, dtype=np.float32) for w in layer.get_weights()]
        step = layer_from_config(type(layer).__name__, layer.get_config(), weights)
        if step is None:
            return None
        steps.append(step)
    try:
        input_shape = tuple(model.input_shape[1:])
    except (AttributeError, ValueError, TypeError):
        input_shape = None  # a model not built for a known input yet
    if input_shape is not None and not all(isinstance(d, int) for d in input_shape):
        input_shape = None
    return NumpyNetwork(input_shape, tuple(steps))


def network_from_archive(archive: bytes | str | os.PathLike) -> NumpyNetwork | None:
    """The numpy network of a `.keras` file (its bytes or its path), without Keras; None for
    anything it does not recognise: not a Sequential of supported built-in layers, weights not
    laid out as Keras 3 writes them, shapes that do not fit."""
    entries = _read_entries(archive)
    return None if entries is None else _network_from_entries(*entries)


def layer_from_config(kind: str, config: dict, weights: Sequence[np.ndarray]) -> Layer | None:
    """One layer as a numpy function, from its Keras class name, its config (as `get_config()`
    returns it or `config.json` stores it) and its weights (in Keras' order); None if this
    kind of layer, these settings or these weights are not supported."""
    if not isinstance(config, dict):
        return None
    dtype = config.get("dtype")
    if dtype not in (None, "float32") and not _is_float32_policy(dtype):
        return None
    if config.get("data_format", "channels_last") != "channels_last":
        return None
    # LoRA adapters and quantized kernels store weights that these formulas do not use.
    if config.get("lora_rank") or config.get("quantization_config") is not None:
        return None
    weights = [np.asarray(w, dtype=np.float32) for w in weights]
    if kind in _IDENTITY_AT_INFERENCE:
        return (lambda x: x) if not weights else None
    if kind == "Conv2D":
        return _conv2d(config, weights)
    if kind == "Dense":
        return _dense(config, weights)
    if kind == "BatchNormalization":
        return _batch_norm(config, weights)
    if weights:
        return None  # every layer below has no weights
    if kind in ("MaxPooling2D", "AveragePooling2D"):
        return _pool2d(config, np.max if kind == "MaxPooling2D" else np.mean)
    if kind == "Flatten":
        return lambda x: x.reshape(len(x), -1)
    if kind == "Activation":
        return _activation(config.get("activation"))
    if kind == "Rescaling":
        scale, offset = config.get("scale"), config.get("offset", 0.0)
        if not all(isinstance(v, (int, float)) for v in (scale, offset)):
            return None
        return lambda x: x * np.float32(scale) + np.float32(offset)
    if kind in ("GlobalAveragePooling2D", "GlobalMaxPooling2D") and not config.get("keepdims"):
        reduce = np.mean if kind == "GlobalAveragePooling2D" else np.max
        return lambda x: reduce(x, axis=(1, 2))
    return None


# --- trusting the network -----------------------------------------------------------------------


def probe_inputs(input_shape: tuple[int, ...]) -> np.ndarray:
    """Three inputs that exercise every layer: noise, blank paper and lines of ink."""
    probe = np.random.default_rng(0).random((3, *input_shape), dtype=np.float32)
    probe[1] = 1.0
    probe[2, ::4] = 0.0
    return probe


def agrees_with_keras(network: NumpyNetwork, model, input_shape: tuple[int, ...]) -> bool:
    """Whether the numpy network gives Keras' probabilities (within AGREEMENT_TOLERANCE) on
    probe inputs of `input_shape`."""
    probe = probe_inputs(input_shape)
    try:
        return bool(
            np.allclose(
                network(probe),
                np.asarray(model(probe, training=False)),
                rtol=0.0,
                atol=AGREEMENT_TOLERANCE,
            )
        )
    except (ValueError, TypeError, FloatingPointError):
        return False


def check_archive(archive: bytes | str | os.PathLike, model) -> dict:
    """The agreement record for a model just saved to `archive`: the numpy network built from
    the file itself (so the reader of the file is checked too), compared with `model` in
    memory. `result` is "agrees", "disagrees" or "unsupported"; `sha256` pins the two entries
    that were read, so the record says nothing about a file whose network was changed since."""
    entries = _read_entries(archive)
    network = None if entries is None else _network_from_entries(*entries)
    if network is None or network.input_shape is None:
        result = "unsupported"
    elif agrees_with_keras(network, model, network.input_shape):
        result = "agrees"
    else:
        result = "disagrees"
    return {
        "result": result,
        "tolerance": AGREEMENT_TOLERANCE,
        "sha256": None if entries is None else _digests(*entries),
    }


def checked_network(archive: bytes | str | os.PathLike, record) -> NumpyNetwork | None:
    """The archive's numpy network if `record` (the metadata's METADATA_KEY) says it agreed
    with Keras, at our tolerance or tighter, when this very file was saved; else None, and the
    caller must load Keras and check for itself (older files have no record)."""
    if not isinstance(record, dict) or record.get("result") != "agrees":
        return None
    tolerance = record.get("tolerance")
    if not isinstance(tolerance, (int, float)) or not 0 <= tolerance <= AGREEMENT_TOLERANCE:
        return None
    entries = _read_entries(archive)
    if entries is None or record.get("sha256") != _digests(*entries):
        return None
    network = _network_from_entries(*entries)
    return network if network is not None and network.input_shape is not None else None


# --- reading a .keras archive -------------------------------------------------------------------


def _read_entries(archive: bytes | str | os.PathLike) -> tuple[bytes, bytes] | None:
    """(config.json, model.weights.h5) of a `.keras` archive, or None if it has not both."""
    source = io.BytesIO(archive) if isinstance(archive, (bytes, bytearray)) else archive
    try:
        with zipfile.ZipFile(source) as zipped:
            infos = [zipped.getinfo(name) for name in (CONFIG_ENTRY, WEIGHTS_ENTRY)]
            if any(info.file_size > MAX_ENTRY_BYTES for info in infos):
                return None
            config, weights = (zipped.read(info) for info in infos)
    except (KeyError, zipfile.BadZipFile, OSError, EOFError, RuntimeError):
        return None
    return config, weights


def _digests(config: bytes, weights: bytes) -> dict[str, str]:
    return {
        CONFIG_ENTRY: hashlib.sha256(config).hexdigest(),
        WEIGHTS_ENTRY: hashlib.sha256(weights).hexdigest(),
    }


def _network_from_entries(config_json: bytes, weights_h5: bytes) -> NumpyNetwork | None:
    try:
        config = json.loads(config_json)
    except (ValueError, UnicodeDecodeError):
        return None
    layers = _sequential_layers(config)
    if layers is None:
        return None
    input_shape, layers = layers
    weights = _layer_weights(weights_h5, layers)
    if weights is None:
        return None
    steps = []
    for layer, layer_weights in zip(layers, weights, strict=True):
        step = layer_from_config(layer["class_name"], layer["config"], layer_weights)
        if step is None:
            return None
        steps.append(step)
    network = NumpyNetwork(input_shape, tuple(steps))
    # Shapes that do not chain (a kernel that does not fit its input) show up here, not later.
    try:
        output = network(np.zeros((1, *input_shape), np.float32))
    except (ValueError, TypeError, IndexError):
        return None
    return network if output.ndim == 2 and len(output) == 1 else None


def _is_builtin(entry, module: str) -> bool:
    """A Keras built-in class as config.json names it (custom classes carry a registered name
    or their own module, and may do anything under a built-in's name)."""
    return (
        isinstance(entry, dict)
        and entry.get("module") == module
        and entry.get("registered_name") is None
        and isinstance(entry.get("class_name"), str)
        and isinstance(entry.get("config"), dict)
    )


def _sequential_layers(config) -> tuple[tuple[int, ...], list[dict]] | None:
    """(input shape, the layers after the InputLayer) of a Sequential model's config.json."""
    if not _is_builtin(config, "keras") or config["class_name"] != "Sequential":
        return None
    layers = config["config"].get("layers")
    if (
        not isinstance(layers, list)
        or not layers
        or not all(_is_builtin(layer, "keras.layers") for layer in layers)
    ):
        return None
    first, rest = layers[0], layers[1:]
    shape = first["config"].get("batch_shape")
    if (
        first["class_name"] != "InputLayer"
        or first["config"].get("dtype", "float32") != "float32"
        or first["config"].get("sparse")
        or first["config"].get("ragged")
        or not isinstance(shape, list)
        or len(shape) < 2
        or not all(isinstance(d, int) and not isinstance(d, bool) and d > 0 for d in shape[1:])
    ):
        return None
    if any(layer["class_name"] == "InputLayer" for layer in rest):
        return None
    return tuple(shape[1:]), rest


def _snake_case(name: str) -> str:
    # keras.src.utils.naming.to_snake_case, which names the weight groups.
    name = re.sub(r"\W+", "", name)
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub("([a-z])([A-Z])", r"\1_\2", name).lower()


def _weight_groups(layers: list[dict]) -> list[str]:
    """The h5 group of each layer: Keras 3 files a Sequential's layers under
    layers/<class name in snake case>, with _1, _2, ... for the second and later of a class,
    in the order of the layers (not under the layers' own names, which vary between runs)."""
    used: dict[str, int] = {}
    groups = []
    for layer in layers:
        base = _snake_case(layer["class_name"])
        if base in used:
            used[base] += 1
            groups.append(f"{base}_{used[base]}")
        else:
            used[base] = 0
            groups.append(base)
    return groups


def _layer_weights(weights_h5: bytes, layers: list[dict]) -> list[list[np.ndarray]] | None:
    """Each layer's weight arrays, in Keras' order (vars/0, vars/1, ...), from model.weights.h5;
    None unless the file holds exactly one group per layer, each labelled with that layer's
    name and holding only numbered float32 arrays."""
    import h5py  # here: only reading an archive needs it

    groups = _weight_groups(layers)
    try:
        with h5py.File(io.BytesIO(weights_h5), "r") as h5:
            stored = h5.get("layers")
            if not isinstance(stored, h5py.Group) or set(stored.keys()) != set(groups):
                return None
            weights = []
            for layer, name in zip(layers, groups, strict=True):
                group = stored[name]
                variables = group.get("vars")
                if set(group.keys()) != {"vars"} or not isinstance(variables, h5py.Group):
                    return None
                layer_name = layer["config"].get("name")
                if variables.attrs.get("name", layer_name) != layer_name:
                    return None  # the group belongs to another layer
                keys = sorted(variables.keys(), key=lambda k: int(k) if k.isdigit() else -1)
                if keys != [str(i) for i in range(len(keys))]:
                    return None
                arrays = []
                for key in keys:
                    data = variables[key]
                    if (
                        not isinstance(data, h5py.Dataset)
                        or data.dtype != np.float32
                        or len(data.attrs)  # e.g. Keras' bfloat16 marker
                    ):
                        return None
                    arrays.append(np.asarray(data[()], dtype=np.float32))
                weights.append(arrays)
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return weights


# --- the layers ---------------------------------------------------------------------------------

_IDENTITY_AT_INFERENCE = {
    "Dropout",
    "SpatialDropout1D",
    "SpatialDropout2D",
    "GaussianNoise",
    "GaussianDropout",
    "AlphaDropout",
    "InputLayer",
}


def _is_float32_policy(dtype) -> bool:
    # Keras 3 writes a layer's dtype policy as {"class_name": "DTypePolicy", "config": {...}}.
    if isinstance(dtype, dict):
        return dtype.get("config", {}).get("name") == "float32"
    return False


def _relu(x: np.ndarray) -> np.ndarray:
    return np.maximum(x, 0.0, out=x)


def _softmax(x: np.ndarray) -> np.ndarray:
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


_ACTIVATIONS: dict[str, Layer] = {
    "linear": lambda x: x,
    "relu": _relu,
    "softmax": _softmax,
    "sigmoid": _sigmoid,
    "tanh": np.tanh,
}


def _activation(name) -> Layer | None:
    return _ACTIVATIONS.get(name) if isinstance(name, str) else None


def _kernel_and_bias(config: dict, weights: list[np.ndarray], ndim: int):
    """(kernel, bias) if `weights` are exactly a kernel of `ndim` axes and, with use_bias, a
    bias with one value per output; else None."""
    use_bias = config.get("use_bias", True)
    if len(weights) != (2 if use_bias else 1) or weights[0].ndim != ndim:
        return None
    kernel = weights[0]
    if not use_bias:
        return kernel, np.float32(0.0)
    bias = weights[1]
    return (kernel, bias) if bias.shape == kernel.shape[-1:] else None


def _dense(config: dict, weights: list[np.ndarray]) -> Layer | None:
    activation = _activation(config.get("activation"))
    parts = _kernel_and_bias(config, weights, ndim=2)
    if activation is None or parts is None or parts[0].shape[1] != config.get("units"):
        return None
    kernel, bias = parts
    return lambda x: activation(x @ kernel + bias)


def _conv2d(config: dict, weights: list[np.ndarray]) -> Layer | None:
    activation = _activation(config.get("activation"))
    plain = (
        tuple(config.get("strides", (1, 1))) == (1, 1)
        and tuple(config.get("dilation_rate", (1, 1))) == (1, 1)
        and config.get("groups", 1) == 1
        and config.get("padding") in ("valid", "same")
    )
    parts = _kernel_and_bias(config, weights, ndim=4)
    if activation is None or not plain or parts is None:
        return None
    kernel, bias = parts
    kh, kw, channels, filters = kernel.shape
    if tuple(config.get("kernel_size", (kh, kw))) != (kh, kw) or config.get("filters") != filters:
        return None
    matrix = kernel.reshape(kh * kw * channels, filters)
    # TensorFlow's "same" padding with stride 1: the extra row or column goes at the end.
    pad = ((0, 0), ((kh - 1) // 2, kh // 2), ((kw - 1) // 2, kw // 2), (0, 0))
    same = config["padding"] == "same"

    def conv(x: np.ndarray) -> np.ndarray:
        if same:
            x = np.pad(x, pad)
        n, height, width, _ = x.shape
        rows, cols = height - kh + 1, width - kw + 1
        # im2col: every kh x kw x channels patch becomes one row; one matrix product does the rest.
        patches = sliding_window_view(x, (kh, kw), axis=(1, 2)).transpose(0, 1, 2, 4, 5, 3)
        y = patches.reshape(n * rows * cols, kh * kw * channels) @ matrix
        y += bias
        return activation(y.reshape(n, rows, cols, filters))

    return conv


def _pool2d(config: dict, reduce) -> Layer | None:
    ph, pw = config.get("pool_size", (2, 2))
    strides = config.get("strides") or (ph, pw)
    if tuple(strides) != (ph, pw) or config.get("padding", "valid") != "valid":
        return None

    def pool(x: np.ndarray) -> np.ndarray:
        n, height, width, channels = x.shape
        rows, cols = height // ph, width // pw
        blocks = x[:, : rows * ph, : cols * pw].reshape(n, rows, ph, cols, pw, channels)
        return reduce(blocks, axis=(2, 4))

    return pool


def _batch_norm(config: dict, weights: list[np.ndarray]) -> Layer | None:
    axis = config.get("axis", -1)
    if axis not in (-1, [-1], 3, [3]):
        return None
    center, scaled = config.get("center", True), config.get("scale", True)
    if len(weights) != 2 + center + scaled or len({w.shape for w in weights}) != 1:
        return None
    weights = list(weights)
    gamma = weights.pop(0) if scaled else np.float32(1.0)
    beta = weights.pop(0) if center else np.float32(0.0)
    mean, variance = weights
    scale = gamma / np.sqrt(variance + np.float32(config.get("epsilon", 1e-3)))
    shift = beta - mean * scale
    return lambda x: x * scale + shift


# --- one BLAS thread ----------------------------------------------------------------------------

# numpy's OpenBLAS splits a matrix product over every core. For one drawing's small products the
# threads cost more than they save, and on a shared machine a product waits until all of them get
# a core: median 0.2 ms, but one call in ten 8 ms here. One thread: 0.4 ms, every time.
_blas_lock = threading.Lock()
_blas_users = 0
_blas_saved: int | None = None
_blas_functions: tuple | None = None


def _openblas_thread_functions() -> tuple:
    """(get, set) for the number of OpenBLAS threads numpy uses, or (None, None) if unknown."""
    try:
        with open("/proc/self/maps", encoding="utf-8") as maps:
            paths = {
                match.group(1)
                for match in re.finditer(r"(/\S*openblas\S*\.so[.\d]*)\s*$", maps.read(), re.M)
            }
    except OSError:
        return None, None
    for path in sorted(paths):
        try:
            library = ctypes.CDLL(path)
        except OSError:
            continue
        for prefix in ("scipy_", ""):
            for suffix in ("64_", ""):
                get = getattr(library, f"{prefix}openblas_get_num_threads{suffix}", None)
                set_ = getattr(library, f"{prefix}openblas_set_num_threads{suffix}", None)
                if get is not None and set_ is not None:
                    get.restype, get.argtypes = ctypes.c_int, []
                    set_.restype, set_.argtypes = None, [ctypes.c_int]
                    return get, set_
    return None, None


@contextlib.contextmanager
def _single_threaded_blas():
    """numpy's OpenBLAS on one thread inside the block (shared safely between threads)."""
    global _blas_users, _blas_saved, _blas_functions
    with _blas_lock:
        if _blas_functions is None:
            _blas_functions = _openblas_thread_functions()
        get, set_ = _blas_functions
        if get is not None and _blas_users == 0:
            _blas_saved = get()
            if _blas_saved != 1:
                set_(1)
        _blas_users += 1
    try:
        yield
    finally:
        with _blas_lock:
            _blas_users -= 1
            if get is not None and _blas_users == 0 and _blas_saved not in (None, 1):
                set_(_blas_saved)
