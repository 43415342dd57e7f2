""" "Not sure": does a drawing look like any of the drawings the model was trained on?

A softmax always answers one of its classes, with a scribble too. Models trained from the shape
base have features (the base's embedding, unit length) in which drawings of one shape lie close
together whoever drew them; a drawing whose features are far from its predicted class's training
drawings is flagged. Closeness is the mean cosine similarity to the K nearest training drawings
of the predicted class; the threshold of each class is the lower of a floor calibrated on real
people's drawings and other kinds (benchmarks/bench_accuracy.py, "Not sure") and a low quantile
of the class's own drawings' leave-one-out closeness, so a class drawn loosely is not flagged
all the time.
"""

from __future__ import annotations

import numpy as np

# "Not sure" below this mean cosine similarity to the predicted class's nearest training
# drawings; calibrated on real people's drawings held out of the base (benchmarks/BASE.md).
FLOOR = 0.80
# Neighbours whose closeness is averaged.
K = 3
# Share of a class's own training drawings that may fall under its threshold.
OWN_QUANTILE = 0.02
# Training drawings kept per class in the model file (more cost memory and time per stroke).
MAX_PER_CLASS = 400


def normalize(features: np.ndarray) -> np.ndarray:
    features = np.asarray(features, np.float32)
    norms = np.linalg.norm(features, axis=1, keepdims=True)
    return features / np.maximum(norms, 1e-12)


def _closeness(similarities: np.ndarray, k: int) -> np.ndarray:
    """Mean of each row's k largest values (fewer if the row is shorter)."""
    k = min(k, similarities.shape[1])
    if k == 0:
        return np.full(len(similarities), -1.0, np.float32)
    top = np.partition(similarities, similarities.shape[1] - k, axis=1)[:, -k:]
    return top.mean(axis=1)


def fit(
    embeddings: np.ndarray, labels: np.ndarray, n_classes: int, floor: float, seed: int = 0
) -> tuple[np.ndarray, dict]:
    """(embeddings kept, the metadata entry) for a model's training drawings."""
    embeddings = normalize(embeddings)
    labels = np.asarray(labels, np.int64)
    rng = np.random.default_rng(seed)
    keep = []
    for c in range(n_classes):
        members = np.flatnonzero(labels == c)
        if len(members) > MAX_PER_CLASS:
            members = np.sort(rng.choice(members, MAX_PER_CLASS, replace=False))
        keep.append(members)
    order = np.concatenate(keep) if keep else np.zeros(0, np.int64)
    kept, kept_labels = embeddings[order], labels[order]
    thresholds = []
    for c in range(n_classes):
        own = kept[kept_labels == c]
        if len(own) < 2:
            thresholds.append(float(floor))
            continue
        similarities = own @ own.T
        np.fill_diagonal(similarities, -np.inf)
        loo = _closeness(similarities, K)
        thresholds.append(float(min(floor, np.quantile(loo, OWN_QUANTILE))))
    entry = {
        "k": K,
        "floor": float(floor),
        "thresholds": thresholds,
        "labels": kept_labels.tolist(),
    }
    return kept, entry


class Detector:
    """Judges drawings by their features against a model's training drawings."""

    def __init__(self, embeddings: np.ndarray, labels: np.ndarray, thresholds, k: int):
        self.embeddings = normalize(embeddings)
        self.labels = np.asarray(labels, np.int64)
        self.thresholds = np.asarray(thresholds, np.float32)
        self.k = int(k)
        self._members = [np.flatnonzero(self.labels == c) for c in range(len(self.thresholds))]

    @classmethod
    def from_model(cls, metadata, embeddings: np.ndarray | None) -> Detector | None:
        entry = metadata.novelty
        if not entry or embeddings is None:
            return None
        labels = np.asarray(entry.get("labels", []), np.int64)
        thresholds = entry.get("thresholds", [])
        n = len(metadata.class_names)
        if (
            len(labels) != len(embeddings)
            or len(thresholds) != n
            or (len(labels) and (labels.min() < 0 or labels.max() >= n))
        ):
            return None
        return cls(embeddings, labels, thresholds, entry.get("k", K))

    def closeness(self, features: np.ndarray, classes: np.ndarray) -> np.ndarray:
        features = normalize(features)
        similarities = features @ self.embeddings.T
        result = np.empty(len(features), np.float32)
        for row, c in enumerate(classes):
            members = self._members[int(c)]
            result[row] = _closeness(similarities[row : row + 1, members], self.k)[0]
        return result

    def judge(self, features: np.ndarray, classes: np.ndarray) -> list[tuple[bool, float]]:
        """(unsure, closeness) per drawing, for its predicted class."""
        scores = self.closeness(features, classes)
        return [
            (bool(score < self.thresholds[int(c)]), float(score))
            for score, c in zip(scores, classes, strict=True)
        ]
