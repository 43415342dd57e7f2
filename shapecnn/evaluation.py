"""Accuracy, per-class accuracy and the confusion matrix, from labels and probabilities."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np


@dataclass(frozen=True)
class Evaluation:
    """How a model did on labelled drawings.

    confusion[i][j] counts drawings of class i that the model called class j; per_class[c] is
    None for a class with no drawings.
    """

    accuracy: float
    count: int
    classes: list[str]
    per_class: dict[str, float | None]
    confusion: list[list[int]]

    def to_dict(self) -> dict:
        return asdict(self)


def evaluate_predictions(
    y_true: np.ndarray, probabilities: np.ndarray, class_names: list[str]
) -> Evaluation:
    """Score predicted probabilities (N x classes) against true class indices (N)."""
    y_true = np.asarray(y_true, dtype=np.int64)
    predicted = np.asarray(probabilities).argmax(axis=1) if len(y_true) else y_true
    n = len(class_names)
    confusion = np.zeros((n, n), dtype=np.int64)
    np.add.at(confusion, (y_true, predicted), 1)
    totals = confusion.sum(axis=1)
    per_class = {
        name: (float(confusion[i, i] / totals[i]) if totals[i] else None)
        for i, name in enumerate(class_names)
    }
    accuracy = float(np.trace(confusion) / len(y_true)) if len(y_true) else 0.0
    return Evaluation(accuracy, len(y_true), list(class_names), per_class, confusion.tolist())


def format_evaluation(evaluation: Evaluation) -> str:
    """A plain-text report: accuracy, per-class accuracy and the confusion matrix."""
    names = evaluation.classes
    width = max([len(name) for name in names] + [6])
    lines = [f"accuracy: {evaluation.accuracy:.2%} of {evaluation.count} drawings", ""]
    lines.append("per class:")
    for name in names:
        value = evaluation.per_class[name]
        lines.append(f"  {name:<{width}}  {'-' if value is None else f'{value:.2%}'}")
    lines += ["", "confusion (rows: true class, columns: predicted):"]
    lines.append(" " * (width + 2) + "".join(f"{name[:width]:>{width + 2}}" for name in names))
    for name, row in zip(names, evaluation.confusion, strict=True):
        lines.append(f"  {name:<{width}}" + "".join(f"{count:>{width + 2}}" for count in row))
    return "\n".join(lines)


def misclassified(paths, true, probabilities, class_names) -> list[dict]:
    """The drawings the model got wrong: path, true and predicted class, confidence; the most
    confidently wrong first (likely mislabels)."""
    predicted = np.asarray(probabilities).argmax(axis=1)
    wrong = [
        {
            "path": str(path),
            "true": class_names[int(t)],
            "predicted": class_names[int(p)],
            "confidence": float(row[p]),
        }
        for path, t, p, row in zip(paths, true, predicted, probabilities, strict=True)
        if t != p
    ]
    return sorted(wrong, key=lambda item: -item["confidence"])
