""" "Not sure": does a drawing look like what the model's classes look like?

A softmax always answers one of its classes, for a scribble too. The shape base was pretrained to
tell many kinds apart (stars, hearts, letters, lines, dots, scribbles, half-drawn shapes, real
people's "other" drawings ...), and it keeps that head: for every drawing, the probability of each
kind, summed here by family (synth.KIND_FAMILIES: a circle, an ellipse and a real person's
ellipse are one family, so a class drawn by the synthetic hands still knows a real person's
drawing of it). A model trained from the base records, per class, the mean of those family
probabilities over its training drawings (its profile: "my circles look like round things"). A
new drawing's agreement with a class is the dot product of its families with the class's
profile, relative to the class's own drawings' median agreement; it is "not sure" when it agrees
with no class as much as RATIO. A scribble agrees with no class of shapes; a class the user made
of scribbles has a scribble profile and is not flagged. (Any class, not only the predicted one:
a real person's flat ellipse that the model takes for a rectangle is a wrong answer, not a
drawing of no known kind; comparing with the predicted class alone flagged 38 % of them.)
RATIO is calibrated on real people's drawings held out of the base (benchmarks/BASE.md).

The same agreement also answers beside the head (`judgement_matrix`, `judged`): for each class,
how much a drawing looks like that class's own drawings to the base, normalised over the
classes. A head fitted on 15 drawings a class follows them closely; the base, pretrained on many
hands, knows what else a person's ellipse may look like. A model trained from the base gives
own_weight * head + (1 - own_weight) * judgement (`weighed`; own_weight 0.3 in the default
recipe, shapecnn.config; benchmarks/BASE.md has what it changes on real people's drawings).
"Not sure" and the judgement read the same kinds x classes matrix.

The starter predictions of a fresh clone (inference.StarterClassifier) also answer by nearest
training drawings in the base's embedding (`closeness`).
"""

from __future__ import annotations

import numpy as np

# A drawing agreeing with every class less than this share of the class's median is "not sure".
# Calibrated on fold 0 of benchmarks/bench_base.py (real people held out of the base): about 1.4 %
# of their ellipses, rectangles and triangles flagged; 0.2 flagged 2.3 %.
RATIO = 0.15
# Neighbours whose cosine similarity is averaged for the starter predictions.
K = 3


# The real people's classes of the base's corpus, in the family of the synthetic kind they are.
HDS_FAMILIES = {
    "hds-ellipse": "round",
    "hds-rectangle": "quadrilateral",
    "hds-triangle": "triangle",
    "hds-other": "other",
}


def families_of(kind_names: list[str]) -> list[int]:
    """Each kind's family index (families in order of first appearance)."""
    from shapecnn.synth import KIND_FAMILIES

    family_of = {kind: family for family, kinds in KIND_FAMILIES.items() for kind in kinds}
    family_of.update(HDS_FAMILIES)
    names: list[str] = []
    index = []
    for kind in kind_names:
        family = family_of.get(kind, kind)
        if family not in names:
            names.append(family)
        index.append(names.index(family))
    return index


def by_family(kinds: np.ndarray, family_index: list[int]) -> np.ndarray:
    """Kind probabilities (N x K) summed into family probabilities (N x F)."""
    kinds = np.asarray(kinds, np.float32)
    families = np.zeros((len(kinds), max(family_index) + 1), np.float32)
    np.add.at(families.T, np.asarray(family_index), kinds.T)
    return families


def fit(
    kinds: np.ndarray,
    labels: np.ndarray,
    n_classes: int,
    kind_names: list[str],
    ratio: float = RATIO,
) -> dict:
    """The metadata entry for a model: each class's family profile and threshold."""
    family_index = families_of(kind_names)
    kinds = by_family(kinds, family_index).astype(np.float64)
    labels = np.asarray(labels, np.int64)
    width = kinds.shape[1] if kinds.ndim == 2 else 0
    profiles, medians = [], []
    for c in range(n_classes):
        own = kinds[labels == c]
        profile = own.mean(axis=0) if len(own) else np.full(width, 1.0 / max(width, 1))
        agreement = own @ profile if len(own) else np.ones(1)
        profiles.append(profile)
        medians.append(float(max(np.median(agreement), 1e-6)))
    return {
        "method": "family profiles",
        "ratio": float(ratio),
        "kind_names": list(kind_names),
        "family_index": family_index,
        "profiles": np.round(np.asarray(profiles), 5).tolist(),
        "medians": medians,
    }


class Detector:
    """Judges drawings by their kinds' probabilities against a model's class profiles."""

    def __init__(self, profiles, medians, family_index, ratio: float = RATIO):
        # Kinds x classes: the same agreement the model's judgement weighs against its head.
        self.matrix = agreement_matrix(profiles, medians, family_index)
        self.ratio = float(ratio)

    @classmethod
    def from_model(cls, metadata, kinds_width: int | None = None) -> Detector | None:
        """From a model's metadata; None when it has no profiles (or they do not fit)."""
        entry = metadata.novelty
        if not entry or entry.get("method") != "family profiles":
            return None
        try:
            profiles = np.asarray(entry.get("profiles", []), np.float32)
            medians = np.asarray(entry.get("medians", []), np.float32)
            family_index = [int(i) for i in entry.get("family_index", [])]
            ratio = float(entry.get("ratio", RATIO))
        except (TypeError, ValueError):
            return None
        n = len(metadata.class_names)
        if profiles.ndim != 2 or len(profiles) != n or medians.shape != (n,):
            return None
        if not np.all(medians > 0) or not 0 <= ratio <= 1:
            return None
        if not family_index or min(family_index) < 0 or max(family_index) >= profiles.shape[1]:
            return None
        if kinds_width is not None and len(family_index) != kinds_width:
            return None
        return cls(profiles, medians, family_index, ratio)

    def judge(self, kinds: np.ndarray, classes: np.ndarray) -> list[tuple[bool, float]]:
        """(unsure, agreement with the predicted class relative to its median) per drawing."""
        relative = np.asarray(kinds, np.float32) @ self.matrix
        classes = np.asarray(classes, np.int64)
        unsure = relative.max(axis=1) < self.ratio
        own = relative[np.arange(len(classes)), classes]
        return [(bool(u), float(a)) for u, a in zip(unsure, own, strict=True)]


def agreement_matrix(profiles, medians, family_index) -> np.ndarray:
    """Kinds x classes: a drawing's kinds' probabilities times this are its agreement with each
    class (its families against the class's profile, relative to the class's median)."""
    profiles = np.asarray(profiles, np.float64)
    medians = np.asarray(medians, np.float64)
    onehot = np.eye(profiles.shape[1])[np.asarray(family_index, np.int64)]
    return (onehot @ (profiles / medians[:, None]).T).astype(np.float32)


def judgement_matrix(entry: dict) -> np.ndarray:
    """The agreement matrix of a model's "not sure" entry (what the judgement weighs)."""
    return agreement_matrix(entry["profiles"], entry["medians"], entry["family_index"])


# Classes whose profiles are at least this alike (cosine) are ones the base cannot tell apart
# (a left and a right arrow, a square and a parallelogram: one family). Profiles of different
# families are near 0 apart; of one family near 1.
ALIKE = 0.9


def alike_classes(entry: dict) -> np.ndarray:
    """Classes x classes, 1 where two classes are ones the base's families cannot tell apart
    (alike profiles, and what is alike to an alike one), else 0."""
    profiles = np.asarray(entry["profiles"], np.float64)
    unit = profiles / np.maximum(np.linalg.norm(profiles, axis=1, keepdims=True), 1e-12)
    together = (unit @ unit.T >= ALIKE).astype(np.float64)
    for _ in range(len(together)):  # what is alike to an alike one: the closure
        grown = (together @ together > 0).astype(np.float64)
        if np.array_equal(grown, together):
            break
        together = grown
    return together.astype(np.float32)


def judged(kinds: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    """Each drawing's agreement with each class, as probabilities over the classes (float32, as
    the model's BaseJudgement layer computes it)."""
    agreement = np.asarray(kinds, np.float32) @ matrix
    return agreement / np.maximum(agreement.sum(axis=1, keepdims=True), np.float32(1e-12))


def weighed(head, judgement, together, own_weight) -> np.ndarray:
    """own_weight * head + (1 - own_weight) * the judgement, where among classes the base cannot
    tell apart (`together`) the judgement's share goes as the head shares it: the base says
    which family a drawing is, the head which of the family's classes."""
    head = np.asarray(head, np.float32)
    within = head / np.maximum(head @ together, np.float32(1e-12))
    return own_weight * head + (np.float32(1) - own_weight) * (judgement @ together) * within


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
