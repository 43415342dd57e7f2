"""Accuracy on people a model never saw: the figure the tutorial's 40 % was about.

Drawings say who drew them (a PNG text chunk, `add --by NAME`; dataset.drawn_by_of). For each
person with at least MIN_PER_CLASS drawings of every class, a model is trained with the model's
own recipe on everybody else's training drawings and scored on all of that person's drawings.
The ordinary test accuracy (same people in training and test) is reported beside it: the gap
between the two is what a teacher should look at. Trains models: imports TensorFlow.
"""

from __future__ import annotations

import os
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from shapecnn import dataset
from shapecnn.config import Recipe, resolve_recipe
from shapecnn.dataset import Samples
from shapecnn.errors import DatasetError, ModelFileError
from shapecnn.model import ModelMetadata, write_bytes_atomically

# A person is held out only with at least this many drawings of every class: fewer would make
# their accuracy a coin toss.
MIN_PER_CLASS = 5


@dataclass
class PersonScore:
    name: str
    accuracy: float
    count: int
    per_class: dict[str, float | None]


@dataclass
class PeopleReport:
    """Per person: trained without them, scored on them; and the model's own test accuracy."""

    people: list[PersonScore]
    test_accuracy: float | None
    recipe: str
    # People with a name but too few drawings to be held out: {name: drawings}.
    too_few: dict[str, int] = field(default_factory=dict)
    # Drawings that say nobody's name.
    unnamed: int = 0
    seconds: float = 0.0

    @property
    def accuracy(self) -> float | None:
        """The mean over people (each person counts once, however much they drew)."""
        if not self.people:
            return None
        return float(np.mean([person.accuracy for person in self.people]))

    def to_metadata(self) -> dict:
        return {
            "accuracy": self.accuracy,
            "test_accuracy": self.test_accuracy,
            "people": [
                {"name": p.name, "accuracy": p.accuracy, "count": p.count} for p in self.people
            ],
            "recipe": self.recipe,
            "min_per_class": MIN_PER_CLASS,
            "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        }

    def to_dict(self) -> dict:
        return {
            **self.to_metadata(),
            "people": [p.__dict__ for p in self.people],
            "too_few": self.too_few,
            "unnamed": self.unnamed,
            "seconds": round(self.seconds, 1),
        }

    def format(self) -> str:
        width = max([len(p.name) for p in self.people] + [6])
        lines = ["accuracy on people the model never saw (trained without each in turn):"]
        for p in self.people:
            lines.append(f"  {p.name:<{width}}  {p.accuracy:7.2%} of {p.count} drawings")
        test = "-" if self.test_accuracy is None else f"{self.test_accuracy:.2%}"
        lines.append(f"  {'mean':<{width}}  {self.accuracy:7.2%}   beside test accuracy {test}")
        if self.too_few:
            shown = ", ".join(f"{name} ({n})" for name, n in sorted(self.too_few.items()))
            lines.append(
                f"not held out (fewer than {MIN_PER_CLASS} drawings of some class): {shown}"
            )
        if self.unnamed:
            lines.append(f"{self.unnamed} drawings say nobody's name (trained on, never scored)")
        return "\n".join(lines)


def recipe_of(metadata: ModelMetadata) -> Recipe:
    """The recipe the model was trained with, as its metadata records it."""
    known = {f.name for f in fields(Recipe)}
    saved = {k: v for k, v in (metadata.recipe or {}).items() if k in known}
    if "name" not in saved:
        return resolve_recipe("default")
    defaults = {"epochs": 1, "batch_size": 1}
    return resolve_recipe(Recipe(**{**defaults, **saved}))


def _subset(samples: Samples, keep: np.ndarray) -> Samples:
    return Samples(
        samples.x[keep],
        samples.y[keep],
        [p for p, k in zip(samples.paths, keep, strict=True) if k],
        samples.class_names,
    )


def held_out_people(
    root: str | os.PathLike,
    metadata: ModelMetadata,
    *,
    recipe: Recipe | str | None = None,
    only: list[str] | None = None,
    on_person: Callable[[str], None] | None = None,
    base_weights: str | os.PathLike | None = None,
) -> PeopleReport:
    """Train without each person in turn (the model's recipe unless told) and score on them.

    `only` limits the people held out (everyone still trains the others' models);
    `base_weights` picks another shape base (benchmarks use one that never saw these people)."""
    from shapecnn.training import TrainingData, predict_in_slices, train

    started = time.perf_counter()
    root = dataset.require_dataset(root)
    names, config = metadata.class_names, metadata.preprocess
    recipe = recipe_of(metadata) if recipe is None else resolve_recipe(recipe)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # stray files are named by `info`, not here
        splits = {s: dataset.load_samples(root, s, names, config) for s in ("train", "test")}
    who = {s: np.array([dataset.drawn_by_of(p) or "" for p in splits[s].paths]) for s in splits}
    everyone = np.concatenate([who["train"], who["test"]])
    labels = np.concatenate([splits["train"].y, splits["test"].y])
    counts = {
        person: np.bincount(labels[everyone == person], minlength=len(names))
        for person in sorted(set(everyone.tolist()) - {""})
    }
    eligible = [p for p, c in counts.items() if c.min() >= MIN_PER_CLASS]
    too_few = {p: int(c.sum()) for p, c in counts.items() if p not in eligible}
    if only is not None:
        eligible = [p for p in eligible if p in only]
    if not eligible:
        shown = ", ".join(f"{p} ({int(c.sum())})" for p, c in counts.items()) or "none named"
        raise DatasetError(
            f"no person in {root} has {MIN_PER_CLASS} drawings of every class "
            f"({', '.join(names)}) to be held out; drawers: {shown}. "
            "Name who drew each drawing with `add --by NAME`"
        )
    scores = []
    for person in eligible:
        if on_person is not None:
            on_person(person)
        train_split = _subset(splits["train"], who["train"] != person)
        test_split = _subset(splits["test"], who["test"] != person)
        per_class = np.bincount(train_split.y, minlength=len(names))
        if per_class.min() == 0:
            too_few[person] = int(counts[person].sum())  # nobody else drew some class
            continue
        fold_counts = {
            name: {
                "train": int(per_class[i]),
                "test": int(np.sum(test_split.y == i)),
            }
            for i, name in enumerate(names)
        }
        data = TrainingData(list(names), train_split, test_split, fold_counts, None, config)
        result = train(data, recipe, base_weights=base_weights)
        x = np.concatenate([splits[s].x[who[s] == person] for s in splits])
        y = np.concatenate([splits[s].y[who[s] == person] for s in splits])
        predicted = predict_in_slices(result.model, x).argmax(1)
        per_class_accuracy = {
            name: (float(np.mean(predicted[y == i] == i)) if np.any(y == i) else None)
            for i, name in enumerate(names)
        }
        scores.append(
            PersonScore(person, float(np.mean(predicted == y)), len(y), per_class_accuracy)
        )
    if not scores:
        raise DatasetError("every person who could be held out drew some class nobody else drew")
    return PeopleReport(
        scores,
        metadata.test_accuracy,
        recipe.name,
        too_few,
        int(np.sum(everyone == "")),
        time.perf_counter() - started,
    )


def record(path: str | os.PathLike, report: PeopleReport, trained_at: str) -> Path:
    """Write the figure into the model file's metadata and card, atomically, unless the model
    was retrained meanwhile (another `trained_at`): then the figure belongs to an older model."""
    from shapecnn.card import with_metadata
    from shapecnn.jobs import ModelLock
    from shapecnn.model import read_model_file

    path = Path(path)
    lock = ModelLock(path)
    if not lock.acquire(f"python -m shapecnn evaluate --by-person (pid {os.getpid()})"):
        raise ModelFileError(f"{path} is being trained by {lock.holder()}; not recorded")
    try:
        model_file = read_model_file(path)
        metadata = model_file.metadata
        if metadata.trained_at != trained_at:
            raise ModelFileError(f"{path} was retrained meanwhile; the figure was not recorded")
        metadata.held_out_people = report.to_metadata()
        data = with_metadata(model_file.archive, metadata, path.name)
        write_bytes_atomically(path, data)
    finally:
        lock.release()
    return path
