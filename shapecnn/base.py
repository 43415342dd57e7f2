"""The shape base: a feature extractor pretrained once on many shape kinds, shipped with shapecnn.

Fifteen drawings of a class are too few to learn what a shape is; they are enough to say which
of the shapes the network already knows how to tell apart this class is. So the base is trained
once, by `python -m shapecnn pretrain`, on a large corpus: the synthetic kinds of shapecnn.synth
(polygons, stars, hearts, arrows, letters, scribbles ... in many synthetic hands, stroke widths
and canvas sizes) and, where given, real people's drawings (the Hand-drawn Shapes dataset,
../shared/hds, CC BY 4.0, Francois Robert). Its weights (shapecnn/base/shape_base.weights.h5,
a few hundred kB) are committed with the command, seed and corpus that made them
(shapecnn/base/RECIPE.json), so anyone can rebuild them.

Training a user's model then starts from the base (shapecnn.training): features of each drawing
(the `embedding` layer) are computed once and cached, and a new head is fitted on them.

Everything here needs TensorFlow: it runs in the training process, never in the page's.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from shapecnn.config import PreprocessConfig
from shapecnn.errors import DatasetError, ShapeCNNError
from shapecnn.preprocess import DEFAULT_CONFIG, preprocess

BASE_DIR = Path(__file__).resolve().parent / "base"
BASE_WEIGHTS = BASE_DIR / "shape_base.weights.h5"
BASE_RECIPE = BASE_DIR / "RECIPE.json"
# The base alone exported for LiteRT (drawing -> embedding): a fresh clone predicts with it
# before any model is trained (inference.StarterClassifier).
BASE_EXPORT = BASE_DIR / "shape_base.tflite"
EMBEDDING_SIZE = 128
HDS_CLASSES = ("ellipse", "rectangle", "triangle", "other")
# How the shipped base is made (python -m shapecnn pretrain); RECIPE.json beside the weights
# records the values a build used.
PRETRAIN_DEFAULTS = {
    "per_kind": 700,
    "epochs": 10,
    "batch_size": 128,
    "learning_rate": 2e-3,
    "seed": 1,
}


def build_base(input_shape: tuple[int, int, int] = (24, 24, 3), n_kinds: int = 0):
    """The base network: drawing -> [`embedding` (EMBEDDING_SIZE features), `kinds`].

    Two convolution stages like the tutorial's (32 and 64 filters of 3x3) with pooling, a third
    of 128, then global average pooling: where on the 24x24 a stroke sits matters less than what
    it is, and the weights stay small (about 120k). `kinds` is the pretraining head kept with
    it: the probability of each kind of the corpus (a star, a scribble, a letter ...), which the
    "not sure" test compares with what a model's classes look like (shapecnn.novelty).
    """
    from shapecnn._tensorflow import keras

    conv = {"kernel_size": 3, "padding": "same", "activation": "relu"}
    inputs = keras.Input(shape=input_shape, name="drawing")
    x = keras.layers.Conv2D(32, name="conv1", **conv)(inputs)
    x = keras.layers.MaxPooling2D(2, name="pool1")(x)
    x = keras.layers.Conv2D(64, name="conv2", **conv)(x)
    x = keras.layers.MaxPooling2D(2, name="pool2")(x)
    x = keras.layers.Conv2D(128, name="conv3", **conv)(x)
    x = keras.layers.Conv2D(128, name="conv4", **conv)(x)
    x = keras.layers.GlobalAveragePooling2D(name="pooled")(x)
    embedding = keras.layers.Dense(EMBEDDING_SIZE, activation="relu", name="embedding")(x)
    outputs = [embedding]
    if n_kinds:
        outputs.append(keras.layers.Dense(n_kinds, activation="softmax", name="kinds")(embedding))
    return keras.Model(inputs, outputs, name="shape_base")


def recipe_path_of(weights: str | os.PathLike) -> Path:
    """The RECIPE json written beside a base's weights."""
    weights = Path(weights)
    if weights == BASE_WEIGHTS:
        return BASE_RECIPE
    return weights.with_name(weights.name.replace(".weights.h5", "") + ".json")


def kind_names(path: str | os.PathLike = BASE_WEIGHTS) -> list[str]:
    """The corpus's kinds, in the order of the base's `kinds` output."""
    try:
        return list(json.loads(recipe_path_of(path).read_text())["kinds"])
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise ShapeCNNError(
            f"the shape base's recipe beside {path} is missing or unreadable ({error})"
        ) from None


def load_base(path: str | os.PathLike = BASE_WEIGHTS, input_shape=(24, 24, 3)):
    """The shipped base with its pretrained weights: drawing -> [embedding, kinds]."""
    path = Path(path)
    if not path.is_file():
        raise ShapeCNNError(
            f"no shape base at {path}: rebuild it with python -m shapecnn pretrain "
            "(see shapecnn/base/RECIPE.json), or train with --recipe tutorial"
        )
    base = build_base(input_shape, len(kind_names(path)))
    try:
        base.load_weights(path)
    except (ValueError, OSError) as error:
        raise ShapeCNNError(f"the shape base at {path} could not be loaded ({error})") from None
    return base


def base_fingerprint(path: str | os.PathLike = BASE_WEIGHTS) -> str:
    """Which base a feature cache belongs to: the weights file's size and modification time."""
    stat = Path(path).stat()
    return f"{stat.st_size}-{stat.st_mtime_ns}"


# --- the corpus ---------------------------------------------------------------------------------


@dataclass
class Corpus:
    """Preprocessed drawings with their kind and who drew them (-1: synthetic)."""

    x: np.ndarray
    y: np.ndarray
    kinds: list[str]
    person: np.ndarray

    def __len__(self) -> int:
        return len(self.y)

    def subset(self, mask: np.ndarray) -> Corpus:
        return Corpus(self.x[mask], self.y[mask], self.kinds, self.person[mask])


def hds_people(folder: str | os.PathLike) -> list[Path]:
    """The person folders of a Hand-drawn Shapes copy (user.<id>/<class>/*.png)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise DatasetError(f"{folder} is not a folder of Hand-drawn Shapes people (user.*)")
    people = sorted(p for p in folder.iterdir() if p.is_dir() and p.name.startswith("user."))
    if not people:
        raise DatasetError(f"{folder} has no person folders (user.<id>/ellipse/*.png ...)")
    return people


def load_hds_person(
    person: Path, config: PreprocessConfig = DEFAULT_CONFIG
) -> dict[str, np.ndarray]:
    """{class: preprocessed drawings} of one person; blank or unreadable files are left out."""
    drawings = {}
    for name in HDS_CLASSES:
        xs = []
        for path in sorted((person / name).glob("*.png")):
            try:
                xs.append(preprocess(path, config))
            except ShapeCNNError:
                continue
        if xs:
            drawings[name] = np.stack(xs)
    return drawings


def synthetic_corpus(kinds, per_kind: int, seed: int, config=DEFAULT_CONFIG) -> Corpus:
    """per_kind drawings of each synthetic kind, in random hands, sizes and stroke widths."""
    from shapecnn import synth

    x, y = synth.corpus(list(kinds), per_kind, seed, config=config)
    return Corpus(np.asarray(x, np.float32), np.asarray(y), list(kinds), np.full(len(y), -1))


def build_corpus(
    kinds, per_kind: int, seed: int, hds: str | os.PathLike | None, exclude_people=()
) -> Corpus:
    """The pretraining corpus: synthetic kinds, plus HDS people's drawings as kinds of their own
    ("hds-ellipse" ...), leaving out `exclude_people` (folder names)."""
    corpus = synthetic_corpus(kinds, per_kind, seed)
    if hds is None:
        return corpus
    names = list(corpus.kinds) + [f"hds-{name}" for name in HDS_CLASSES]
    xs, ys, people = [corpus.x], [corpus.y], [corpus.person]
    for index, person in enumerate(hds_people(hds)):
        if person.name in exclude_people:
            continue
        for name, drawings in load_hds_person(person).items():
            xs.append(drawings)
            ys.append(np.full(len(drawings), names.index(f"hds-{name}")))
            people.append(np.full(len(drawings), index))
    return Corpus(np.concatenate(xs), np.concatenate(ys), names, np.concatenate(people))


def pretrain(
    corpus: Corpus,
    *,
    epochs: int = PRETRAIN_DEFAULTS["epochs"],
    batch_size: int = PRETRAIN_DEFAULTS["batch_size"],
    learning_rate: float = PRETRAIN_DEFAULTS["learning_rate"],
    seed: int = PRETRAIN_DEFAULTS["seed"],
    on_epoch_end=None,
):
    """Train the base on the corpus (classification of every kind, mild augmentation); returns
    (base, history): the base with its kinds head, without the augmentation and dropout."""
    from shapecnn._tensorflow import keras, tf
    from shapecnn.augment import build_augmentation

    keras.utils.set_random_seed(seed)
    base = build_base(corpus.x.shape[1:], len(corpus.kinds))
    embedder = keras.Model(base.inputs, base.get_layer("embedding").output)
    augmentation = build_augmentation(seed, strength="mild")
    inputs = keras.Input(shape=corpus.x.shape[1:])
    features = keras.layers.Dropout(0.2)(embedder(augmentation(inputs)))
    model = keras.Model(inputs, base.get_layer("kinds")(features))
    steps = epochs * int(np.ceil(len(corpus) / batch_size))
    schedule = keras.optimizers.schedules.CosineDecay(learning_rate, steps)
    model.compile(
        optimizer=keras.optimizers.Adam(schedule),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
        steps_per_execution=16,
    )
    callbacks = []
    if on_epoch_end is not None:
        callbacks.append(keras.callbacks.LambdaCallback(on_epoch_end=on_epoch_end))
    order = np.random.default_rng(seed).permutation(len(corpus))
    dataset = (
        tf.data.Dataset.from_tensor_slices((corpus.x[order], corpus.y[order]))
        .shuffle(8192, seed=seed)
        .batch(batch_size)
        .prefetch(2)
    )
    history = model.fit(dataset, epochs=epochs, verbose=0, callbacks=callbacks, shuffle=False)
    return base, history.history


def write_base(base, recipe: dict, path: str | os.PathLike = BASE_WEIGHTS) -> Path:
    """Save the base's weights and, beside them, the recipe that made them."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(f".tmp-{os.getpid()}.weights.h5")
    base.save_weights(temp)
    os.replace(temp, path)
    from shapecnn._tensorflow import native_output_silenced

    export = path.with_name(path.name.replace(".weights.h5", ".tflite"))
    temp_export = export.with_name(f".tmp-{os.getpid()}.tflite")
    with native_output_silenced():
        base.export(str(temp_export), format="litert", verbose=False)
    os.replace(temp_export, export)
    recipe_path_of(path).write_text(json.dumps(recipe, indent=2) + "\n")
    return path


def rebuild(
    settings: dict, hds: str | os.PathLike | None, out: str | os.PathLike = BASE_WEIGHTS, log=None
) -> tuple[Path, dict]:
    """What `python -m shapecnn pretrain` does: corpus, pretraining, weights + RECIPE.json."""
    from shapecnn import synth
    from shapecnn._tensorflow import keras, tf

    started = time.perf_counter()
    kinds = list(synth.KINDS)
    corpus = build_corpus(kinds, settings["per_kind"], settings["seed"], hds)
    if log:
        log(f"corpus: {len(corpus)} drawings of {len(corpus.kinds)} kinds")
    report = (lambda e, logs: log(f"epoch {e + 1}: {logs}")) if log else None
    base, history = pretrain(
        corpus,
        epochs=settings["epochs"],
        batch_size=settings["batch_size"],
        learning_rate=settings["learning_rate"],
        seed=settings["seed"],
        on_epoch_end=report,
    )
    people = sorted({int(p) for p in corpus.person if p >= 0})
    recipe = {
        "command": "python -m shapecnn pretrain"
        + (" --hds ../shared/hds" if hds is not None else ""),
        **settings,
        "kinds": corpus.kinds,
        "corpus_size": len(corpus),
        "per_kind_counts": np.bincount(corpus.y, minlength=len(corpus.kinds)).tolist(),
        "hds_people": [hds_people(hds)[i].name for i in people] if hds is not None else [],
        "hds_credit": "Hand-drawn Shapes (HDS) dataset, github.com/frobertpixto/"
        "hand-drawn-shapes-dataset, (c) 2022 Francois Robert, CC BY 4.0",
        "final_accuracy": float(history["accuracy"][-1]),
        "versions": {"tensorflow": tf.__version__, "keras": keras.__version__},
        "seconds": round(time.perf_counter() - started, 1),
    }
    return write_base(base, recipe, out), recipe
