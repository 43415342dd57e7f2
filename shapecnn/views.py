"""Plain values and pictures for a user interface: the page shows them, this module makes them.

Everything here is numpy and PIL work that a page should not do itself: one prediction with the
model's view of the drawing, thumbnails (decoded only for the drawings on screen), pages of a
class folder, tables of counts and confusion, and what the model file says about itself. Nothing
here imports TensorFlow or a UI toolkit.
"""

from __future__ import annotations

import base64
import contextlib
import functools
import io
import math
import os
import threading
import weakref
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

from shapecnn import dataset
from shapecnn.config import MAX_IMAGE_PIXELS, SPLITS
from shapecnn.errors import BlankDrawingError, ShapeCNNError
from shapecnn.model import read_metadata

# --- live prediction ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Prediction:
    """What the model says about one drawing (inference.Prediction), and what it saw."""

    label: str
    confidence: float
    # {class: probability} in the model's class order.
    probabilities: dict[str, float]
    # The model's input (size x size x channels, white 1.0, ink 0.0).
    model_input: np.ndarray
    # The drawing looks like none of the classes: `label` is only the closest.
    unsure: bool = False


def predict_drawing(classifier, drawing) -> Prediction | None:
    """Classify one drawing (canvas array, PIL image, file); None when it is blank.

    Preprocesses once (a blank drawing is found on the way, not by a second pass over the
    canvas) and keeps the model's input for the page to show; the verdict is the classifier's.
    """
    if drawing is None:
        return None
    try:
        model_input = classifier.preprocess(drawing)
    except BlankDrawingError:
        return None
    verdict = classifier.predict_batch(model_input[None])[0]
    return Prediction(
        verdict.label, verdict.confidence, dict(verdict), model_input, unsure=verdict.unsure
    )


def model_input_image(model_input: np.ndarray, size: int = 120) -> Image.Image:
    """The model's input enlarged with hard pixel edges, so each of its 24x24 pixels shows; its
    channels side by side when they differ (the views of preprocess: aspect ratio kept, its
    square root, stretched to the square)."""
    values = np.asarray(model_input, dtype=np.float32)
    if values.ndim == 2:
        values = values[:, :, None]
    channels = [values[:, :, c] for c in range(values.shape[2])]
    if all(np.array_equal(channels[0], other) for other in channels[1:]):
        channels = channels[:1]
    tiles = []
    for gray in channels:
        pixels = np.round(np.clip(gray, 0.0, 1.0) * 255).astype(np.uint8)
        tile = Image.fromarray(pixels, mode="L").resize((size, size), Image.Resampling.NEAREST)
        # A thin grey frame shows where the model's input ends on a white page.
        tiles.append(ImageOps.expand(tile, border=1, fill=190))
    sheet = Image.new(
        "L", (sum(t.width for t in tiles) + 4 * (len(tiles) - 1), tiles[0].height), 255
    )
    for index, tile in enumerate(tiles):
        sheet.paste(tile, (index * (tile.width + 4), 0))
    return sheet


def png_data_uri(image: Image.Image) -> str:
    """The image as a `data:` URI: a small picture travels inside the page's HTML, without a
    second request to the server after every stroke."""
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def augmentation_images(model_input: np.ndarray, count: int = 8, size: int = 64) -> list:
    """Varied versions of the model's input, as training shows the drawings to the network."""
    from shapecnn.variation import preview

    return [model_input_image(x, size) for x in preview(model_input, count, seed=0)]


def probability_rows(probabilities: dict[str, float]) -> list[dict]:
    """[{class, probability, top}] in the model's class order, for a bar chart."""
    top = max(probabilities, key=probabilities.get) if probabilities else None
    return [
        {"class": name, "probability": round(p, 4), "top": name == top}
        for name, p in probabilities.items()
    ]


# --- the dataset on screen ----------------------------------------------------------------------


def count_rows(counts: dict[str, dict[str, int]]) -> list[dict]:
    """One row per class (train, test, total) and a total row, for a table."""
    rows = [
        {"class": name, "train": c["train"], "test": c["test"], "total": c["train"] + c["test"]}
        for name, c in counts.items()
    ]
    totals = {split: sum(c[split] for c in counts.values()) for split in SPLITS}
    rows.append({"class": "total", **totals, "total": sum(totals.values())})
    return rows


@dataclass(frozen=True)
class Page:
    """One page of a class folder: the files on it, newest first."""

    paths: list[Path]
    number: int  # from 1
    pages: int
    total: int


def newest_first(root: str | os.PathLike, split: str, label: str) -> list[Path]:
    """The drawings of root/split/label, newest first; only names are read."""
    return dataset.list_images(root, split, label)[::-1]


def page_of(paths: list[Path], number: int = 1, per_page: int = 24) -> Page:
    """Page `number` of drawings in the order given (a number out of range: the nearest page)."""
    pages = max(1, math.ceil(len(paths) / per_page))
    number = min(max(1, int(number)), pages)
    start = (number - 1) * per_page
    return Page(paths[start : start + per_page], number, pages, len(paths))


def page_of_images(
    root: str | os.PathLike, split: str, label: str, number: int = 1, per_page: int = 24
) -> Page:
    """The drawings on page `number` of root/split/label, newest first; only names are read."""
    return page_of(newest_first(root, split, label), number, per_page)


# --- what the model says about saved drawings ---------------------------------------------------


@dataclass(frozen=True)
class Verdict:
    """The model's answer for one saved drawing."""

    label: str
    confidence: float
    unsure: bool = False


# Per classifier (a new model is a new classifier, and its verdicts go with the old one):
# {(path, mtime_ns, size): Verdict, or None for a file that cannot be read or is blank}.
_VERDICTS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_VERDICTS_LOCK = threading.Lock()
_MAX_VERDICTS = 100_000
_BATCH = 256


def verdicts(classifier, paths: list[Path]) -> dict[Path, Verdict | None]:
    """The classifier's verdict on each drawing file (None: unreadable, blank or gone). Each file
    is decoded and predicted once per version and classifier, in batches: asking again after a
    save costs a stat() per file and one prediction."""
    with _VERDICTS_LOCK:
        known = _VERDICTS.setdefault(classifier, {})
        if len(known) > _MAX_VERDICTS:
            known.clear()
    found: dict[Path, Verdict | None] = {}
    todo = []
    for path in paths:
        try:
            info = Path(path).stat()
        except OSError:
            found[path] = None
            continue
        key = (str(path), info.st_mtime_ns, info.st_size)
        if key in known:
            found[path] = known[key]
            continue
        try:
            todo.append((path, key, classifier.preprocess(path)))
        except (ShapeCNNError, OSError):
            found[path] = known[key] = None
    for start in range(0, len(todo), _BATCH):
        chunk = todo[start : start + _BATCH]
        answers = classifier.predict_batch(np.stack([model_input for *_, model_input in chunk]))
        for (path, key, _), answer in zip(chunk, answers, strict=True):
            found[path] = known[key] = Verdict(answer.label, answer.confidence, answer.unsure)
    return found


def disagreeing_first(
    paths: list[Path], label: str, verdicts_: dict[Path, Verdict | None]
) -> list[Path]:
    """The drawings the model disagrees with most first (likely mislabels): those it puts in
    another class than `label`, the most confident first; then those it agrees with, the least
    confident first; then those it could not read. Ties keep the order given."""

    def disagreement(path: Path) -> tuple[int, float]:
        verdict = verdicts_.get(path)
        if verdict is None:
            return (2, 0.0)
        if verdict.label != label:
            return (0, -verdict.confidence)
        return (1, verdict.confidence)

    return sorted(paths, key=disagreement)


def thumbnail(path: str | os.PathLike, size: int = 84) -> Image.Image | None:
    """A small grayscale copy of a drawing on white, or None if the file is gone or unreadable."""
    path = Path(path)
    try:
        stat = path.stat()
    except OSError:
        return None
    return _thumbnail(str(path), stat.st_mtime_ns, stat.st_size, size)


# Keyed on mtime and size as well as the name, so a replaced file is decoded again.
@functools.lru_cache(maxsize=1024)
def _thumbnail(path: str, _mtime_ns: int, _size: int, size: int) -> Image.Image | None:
    try:
        with Image.open(path) as image:
            if image.width * image.height > MAX_IMAGE_PIXELS:
                return None
            image.draft("L", (size, size))  # JPEG decodes at a fraction of its size
            image = image.convert("RGBA")
            paper = Image.new("RGBA", image.size, "white")
            gray = Image.alpha_composite(paper, image).convert("L")
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        return None
    return ImageOps.pad(gray, (size, size), color=255)


# --- training results and the model -------------------------------------------------------------


def confusion_cells(classes: list[str], confusion: list[list[int]]) -> list[dict]:
    """One cell {true, predicted, count} per pair of classes, row by row, for a heat map."""
    return [
        {"true": true, "predicted": predicted, "count": int(count)}
        for true, row in zip(classes, confusion, strict=True)
        for predicted, count in zip(classes, row, strict=True)
    ]


def test_counts(classes: list[str], confusion: list[list[int]]) -> dict[str, int]:
    """How many test drawings of each class a confusion matrix holds (its row sums)."""
    return {name: int(sum(row)) for name, row in zip(classes, confusion, strict=True)}


def per_class_rows(per_class: dict[str, float | None], tested: dict[str, int]) -> list[dict]:
    """One row per class: how many test drawings it has and the share recognised."""
    return [
        {"class": name, "test drawings": tested.get(name, 0), "accuracy": value}
        for name, value in per_class.items()
    ]


# A score on fewer test drawings than this moves by 20 points or more per drawing.
MIN_TRUSTED_TEST = 5
# Classes this many times bigger than the smallest (training drawings) pull the model their way.
UNBALANCED_RATIO = 3.0


@dataclass(frozen=True)
class Imbalance:
    """The biggest and the smallest class of a split, when one is far bigger than the other."""

    largest: str
    largest_count: int
    smallest: str
    smallest_count: int


def imbalance(
    counts: dict[str, dict[str, int]], split: str = "train", ratio: float = UNBALANCED_RATIO
) -> Imbalance | None:
    """The biggest and smallest class when the biggest has at least `ratio` times the drawings of
    the smallest in `split`; None when balanced enough or with fewer than two classes."""
    sizes = {name: c.get(split, 0) for name, c in counts.items()}
    if len(sizes) < 2:
        return None
    largest = max(sizes, key=sizes.get)
    smallest = min(sizes, key=sizes.get)
    if sizes[largest] == 0 or sizes[largest] < ratio * sizes[smallest]:
        return None
    return Imbalance(largest, sizes[largest], smallest, sizes[smallest])


def small_test_classes(
    tested: dict[str, int], minimum: int = MIN_TRUSTED_TEST
) -> list[tuple[str, int]]:
    """(class, test drawings) of the classes with too few test drawings to trust their score,
    fewest first."""
    return sorted(
        ((name, n) for name, n in tested.items() if n < minimum), key=lambda item: item[1]
    )


def history_rows(history: list[dict[str, float]], metric: str) -> list[dict]:
    """Long-format rows {epoch, split, value} of one metric ('loss' or 'accuracy') for a chart."""
    rows = []
    for logs in history:
        for split, key in (("train", metric), ("test", f"test_{metric}")):
            if logs.get(key) is not None:
                rows.append({"epoch": int(logs["epoch"]), "split": split, "value": logs[key]})
    return rows


@dataclass(frozen=True)
class ModelInfo:
    """What a model file says about itself (read without loading TensorFlow)."""

    path: Path
    classes: list[str]
    trained_at: str
    test_accuracy: float | None
    counts: dict[str, dict[str, int]]
    recipe: dict
    epochs_run: int | None
    size_bytes: int
    # When it was trained (aware, local time), None when the file does not say.
    trained: datetime | None = None
    train_seconds: float = 0.0
    test_count: int = 0  # the test drawings its accuracy was measured on


def model_stamp(path: str | os.PathLike) -> tuple[int, int] | None:
    """(mtime_ns, size) of a model file, None if there is none: changes when it is replaced."""
    try:
        stat = Path(path).stat()
    except OSError:
        return None
    return stat.st_mtime_ns, stat.st_size


def trained_time(metadata) -> datetime | None:
    """When a model was trained, in local time; None when its file does not say."""
    with contextlib.suppress(TypeError, ValueError):
        return datetime.fromisoformat(getattr(metadata, "trained_at", "")).astimezone()
    return None


def trained_when(metadata) -> str:
    """When a model was trained, in local time to the second (or 'unknown')."""
    when = trained_time(metadata)
    if when is not None:
        return when.strftime("%Y-%m-%d %H:%M:%S")
    return getattr(metadata, "trained_at", "") or "unknown"


def model_info(path: str | os.PathLike) -> ModelInfo | None:
    """ModelInfo for a model file; None if there is no file; ModelFileError if it is not ours."""
    path = Path(path)
    if not path.is_file():
        return None
    metadata = read_metadata(path)
    return ModelInfo(
        path=path,
        classes=list(metadata.class_names),
        trained_at=trained_when(metadata),
        test_accuracy=metadata.test_accuracy,
        counts=metadata.counts,
        recipe=metadata.recipe,
        epochs_run=metadata.epochs_run,
        size_bytes=path.stat().st_size,
        trained=trained_time(metadata),
        train_seconds=float(metadata.train_seconds),
        test_count=int((metadata.test_metrics or {}).get("count") or 0),
    )


def class_difference(
    model_classes: list[str], dataset_classes: list[str]
) -> tuple[list[str], list[str]]:
    """(classes the model does not know, classes of the model the dataset has no folder for)."""
    new = [name for name in dataset_classes if name not in model_classes]
    gone = [name for name in model_classes if name not in dataset_classes]
    return new, gone


def class_mismatch(model_classes: list[str], dataset_classes: list[str]) -> str | None:
    """A sentence saying how the dataset's classes differ from the model's, or None."""
    new, gone = class_difference(model_classes, dataset_classes)
    if not new and not gone:
        return None
    parts = []
    if new:
        parts.append("the model does not know " + ", ".join(repr(n) for n in new))
    if gone:
        parts.append("the dataset has no folder for " + ", ".join(repr(n) for n in gone))
    return "The dataset's classes differ from the model's: " + "; ".join(parts) + ". Train again."


def describe_error(error: Exception) -> str:
    """Our errors as they are; anything else with its type, for a message on the page."""
    if isinstance(error, ShapeCNNError):
        return str(error)
    return f"{type(error).__name__}: {error}"
