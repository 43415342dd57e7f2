""" "Not sure": does a drawing look like what the model's classes look like?

A softmax always answers one of its classes, for a scribble too. The shape base was pretrained to
tell many kinds apart (stars, hearts, letters, lines, dots, scribbles, half-drawn shapes, real
people's "other" drawings ...), and it keeps that head: for every drawing, the probability of each
kind. A model trained from the base records, per class, the mean of those probabilities over its
training drawings (its profile: "my circles look like the base's circles and ellipses"). A new
drawing's agreement with its predicted class is the dot product of its kinds with the class's
profile; it is "not sure" when that agreement is below RATIO times the class's own median
agreement. A scribble agrees with no class of shapes, a star with no class of circles, squares
and triangles; a class the user made of scribbles has a scribble profile and is not flagged.
RATIO is calibrated on real people's drawings held out of the base (benchmarks/BASE.md).

The starter predictions of a fresh clone (inference.StarterClassifier) also answer by nearest
training drawings in the base's embedding (`closeness`).
"""

from __future__ import annotations

import numpy as np

# A drawing agreeing with its class less than this share of the class's median is "not sure".
RATIO = 0.25
# Neighbours whose cosine similarity is averaged for the starter predictions.
K = 3


def fit(kinds: np.ndarray, labels: np.ndarray, n_classes: int, ratio: float = RATIO) -> dict:
    """The metadata entry for a model: each class's kind profile and threshold."""
    kinds = np.asarray(kinds, np.float64)
    labels = np.asarray(labels, np.int64)
    width = kinds.shape[1] if kinds.ndim == 2 else 0
    profiles, thresholds = [], []
    for c in range(n_classes):
        own = kinds[labels == c]
        profile = own.mean(axis=0) if len(own) else np.full(width, 1.0 / max(width, 1))
        agreement = own @ profile if len(own) else np.ones(1)
        profiles.append(profile)
        thresholds.append(float(ratio * np.median(agreement)))
    return {
        "method": "kind profiles",
        "ratio": float(ratio),
        "profiles": np.round(np.asarray(profiles), 5).tolist(),
        "thresholds": thresholds,
    }


class Detector:
    """Judges drawings by their kinds' probabilities against a model's class profiles."""

    def __init__(self, profiles, thresholds):
        self.profiles = np.asarray(profiles, np.float32)
        self.thresholds = np.asarray(thresholds, np.float32)

    @classmethod
    def from_model(cls, metadata, kinds_width: int | None = None) -> Detector | None:
        """From a model's metadata; None when it has no profiles (or they do not fit)."""
        entry = metadata.novelty
        if not entry or entry.get("method") != "kind profiles":
            return None
        profiles = np.asarray(entry.get("profiles", []), np.float32)
        thresholds = np.asarray(entry.get("thresholds", []), np.float32)
        n = len(metadata.class_names)
        if profiles.ndim != 2 or len(profiles) != n or thresholds.shape != (n,):
            return None
        if kinds_width is not None and profiles.shape[1] != kinds_width:
            return None
        return cls(profiles, thresholds)

    def judge(self, kinds: np.ndarray, classes: np.ndarray) -> list[tuple[bool, float]]:
        """(unsure, agreement relative to its threshold's median) per drawing."""
        kinds = np.asarray(kinds, np.float32)
        classes = np.asarray(classes, np.int64)
        agreement = np.einsum("nk,nk->n", kinds, self.profiles[classes])
        thresholds = self.thresholds[classes]
        return [
            (bool(a < t), float(a / max(t / RATIO, 1e-9)))
            for a, t in zip(agreement, thresholds, strict=True)
        ]


def normalize(features: np.ndarray) -> np.ndarray:
    features = np.asarray(features, np.float32)
    return features / np.maximum(np.linalg.norm(features, axis=1, keepdims=True), 1e-12)


def closeness(queries: np.ndarray, examples: np.ndarray, k: int = K) -> np.ndarray:
    """Mean cosine similarity of each query to its k nearest examples (unit-length rows)."""
    similarities = queries @ examples.T
    k = min(k, similarities.shape[1])
    if k == 0:
        return np.full(len(queries), -1.0, np.float32)
    top = np.partition(similarities, similarities.shape[1] - k, axis=1)[:, -k:]
    return top.mean(axis=1)
