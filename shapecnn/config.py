"""Paths and defaults, in one place.

Paths are built from this file's location so that the CLI and the page find the starter data and
the default model whatever the working directory is.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA = PROJECT_ROOT / "data" / "handwriting_shape"
DEFAULT_MODEL = PROJECT_ROOT / "models" / "shapes.keras"

SPLITS = ("train", "test")

# A temporary file (a drawing, an import's staging folder, a model) older than this was left by
# a save that crashed (kill -9, power cut), not written by one in progress: the next write
# removes it.
STALE_TEMP_SECONDS = 600

# Deleted drawings wait this long in the dataset's bin (data/<dataset>/.bin/), so a delete can
# be undone, before the next clean-up of leftovers removes them for good.
BIN_KEEP_SECONDS = 7 * 24 * 3600

# Drawings larger than this are refused before they are decoded: a PNG header can claim
# 10,000 x 10,000 pixels and cost gigabytes once decoded (a "decompression bomb").
MAX_IMAGE_PIXELS = 4096 * 4096


@dataclass(frozen=True)
class PreprocessConfig:
    """How any drawing becomes the model's input. Saved with every model.

    crop="ink" crops to the drawn strokes plus a margin and keeps the aspect ratio, so that size and
    place on the canvas matter less; crop="none" resizes the whole image as the tutorial did.
    """

    size: int = 24
    channels: int = 3
    crop: str = "ink"
    # Margin around the ink box, as a fraction of the box's longer side.
    margin: float = 0.12
    # A pixel counts as ink when it is at least this dark (0 = white, 1 = black).
    ink_threshold: float = 0.2
    # Stretch the darkest pixel of the shrunk drawing to full black: a thin stroke that faded to
    # grey when 280 px became 24 px looks like a thick one again.
    normalize_contrast: bool = True
    # How much of a flat drawing's aspect ratio each channel keeps (1: all of it, the drawing
    # fits a square; 0: none, it fills the square), channel i taking entry i (cycling). Models
    # saved before this setting existed used (1.0,): three copies of one view.
    aspect_powers: tuple[float, ...] = (1.0, 0.5, 0.0)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> PreprocessConfig:
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        if isinstance(values.get("aspect_powers"), list):
            values["aspect_powers"] = tuple(values["aspect_powers"])
        return cls(**values)


@dataclass(frozen=True)
class Recipe:
    """A training recipe: everything that decides how a model is fitted, saved with the model."""

    name: str
    epochs: int
    batch_size: int
    # None: one pass over the training drawings per epoch.
    steps_per_epoch: int | None = None
    learning_rate: float = 1e-3
    architecture: str = "tutorial"
    augment: bool = False
    # Stop when the training loss has not improved for this many epochs (None: never), but not
    # before min_steps batches: a small dataset has few batches per epoch and needs more epochs.
    early_stopping_patience: int | None = None
    min_steps: int = 0
    seed: int = 3
    # Training from the shape base (architecture "base"): augmented copies of each training
    # drawing whose features the head also learns from, and the L2 penalty on the head.
    augment_copies: int = 0
    head_l2: float = 0.0
    # How the head is fitted on the base's features: "adam", epochs of batches (curves to
    # watch, early stopping), or "lbfgs", one exact solve of the same regularised loss by
    # scikit-learn (a few milliseconds: what "learn as I save" uses).
    head_solver: str = "adam"
    # Training from the shape base: the head's weight against the base's judgement
    # (shapecnn.novelty: how much a drawing looks like each class's own drawings to the base).
    # Several are tried on the test drawings and the best there is kept (the first one on a tie
    # or without test drawings); () or (1.0,): the head alone.
    own_weights: tuple[float, ...] = ()

    def to_dict(self) -> dict:
        return asdict(self)

    def with_overrides(self, **overrides) -> Recipe:
        return replace(self, **{k: v for k, v in overrides.items() if v is not None})


RECIPES = {
    # Ours: the shape base's features (computed once per drawing, cached) and a new head fitted
    # on them with class-balanced weights; mild augmentation, since a user's classes may differ
    # by a turn or a stretch alone. Seconds, not minutes (benchmarks/ACCURACY.md).
    "default": Recipe(
        name="default",
        epochs=300,
        batch_size=64,
        learning_rate=1e-2,
        architecture="base",
        augment=True,
        augment_copies=4,
        head_l2=1e-4,
        # 0.3, not chosen per run on the test drawings: 5 a class are too few to choose by,
        # and the head, fitted on the same person's drawings, wins there when it loses on the
        # rest of theirs (benchmarks/BASE.md, "The head against the base's judgement").
        own_weights=(0.3,),
        early_stopping_patience=20,
        min_steps=150,
        seed=3,
    ),
    # The tutorial CNN from scratch, with bigger batches and strong on-the-fly augmentation,
    # stopped when the loss stops improving (the default before the shape base).
    "scratch": Recipe(
        name="scratch",
        epochs=300,
        batch_size=16,
        learning_rate=2e-3,
        augment=True,
        early_stopping_patience=6,
        min_steps=600,
        seed=3,
    ),
    # The tutorial's recipe: batch 3, 50 epochs of 45 steps, no augmentation, seed 3.
    "tutorial": Recipe(name="tutorial", epochs=50, batch_size=3, steps_per_epoch=45, seed=3),
}


# Learn as I save (and a fresh clone's first model): the default recipe with its head solved
# exactly in one step (L-BFGS) instead of epochs of Adam: a second, not several. Train runs the
# full recipe, with its curves.
LEARN_AS_YOU_SAVE = {"head_solver": "lbfgs"}


def is_learn_as_you_save(recipe: Recipe) -> bool:
    """Whether a run is a quick learn-as-you-save update (or a first model), not a Train click's
    full recipe: the page follows those differently."""
    return recipe.head_solver == LEARN_AS_YOU_SAVE["head_solver"]


def resolve_recipe(recipe: str | Recipe = "default", **overrides) -> Recipe:
    """A recipe by name (or as given) with any non-None overrides applied and checked.

    The one owner of recipe lookup and validation: the CLI, the page and training call it.
    """
    from shapecnn.errors import ShapeCNNError

    if isinstance(recipe, str):
        if recipe not in RECIPES:
            raise ShapeCNNError(f"recipe must be one of {', '.join(RECIPES)}; got {recipe!r}")
        recipe = RECIPES[recipe]
    recipe = recipe.with_overrides(**overrides)
    for name in ("epochs", "batch_size"):
        value = getattr(recipe, name)
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 10_000:
            raise ShapeCNNError(f"{name} must be a whole number from 1 to 10000; got {value!r}")
    if recipe.head_solver not in HEAD_SOLVERS:
        raise ShapeCNNError(
            f"head_solver must be one of {', '.join(HEAD_SOLVERS)}; got {recipe.head_solver!r}"
        )
    if recipe.architecture not in ARCHITECTURE_NAMES:
        raise ShapeCNNError(
            f"architecture must be one of {', '.join(ARCHITECTURE_NAMES)}; "
            f"got {recipe.architecture!r}"
        )
    weights = recipe.own_weights
    if not isinstance(weights, (tuple, list)) or not all(
        isinstance(w, (int, float)) and not isinstance(w, bool) and 0 <= w <= 1 for w in weights
    ):
        raise ShapeCNNError(f"own_weights must be numbers from 0 to 1; got {weights!r}")
    recipe = replace(recipe, own_weights=tuple(float(w) for w in weights))
    if not isinstance(recipe.learning_rate, (int, float)) or not 0 < recipe.learning_rate <= 1:
        raise ShapeCNNError(
            f"learning_rate must be above 0 and at most 1; got {recipe.learning_rate}"
        )
    return recipe


# The networks a recipe can name (shapecnn.model builds them; "base" is shapecnn.base's).
ARCHITECTURE_NAMES = ("base", "tutorial", "compact")
HEAD_SOLVERS = ("adam", "lbfgs")
