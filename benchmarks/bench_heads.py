"""Other heads on the shape base's features, per person few-shot: does any close the gap to 85 %?

The same people, splits and fold bases as bench_base.py's per-person table (each held-out
person's own 15 train drawings per class and four augmented copies of each; scored on the rest
of that person's drawings), with the head fitted by scikit-learn instead of the default recipe:

- lbfgs:        the default recipe's loss (class-weighted cross-entropy, L2 1e-4) solved
                exactly, as "learn as I save" does; also with L2 1e-3 and 1e-5;
- +pooled:      the base's pooled conv4 features beside the embedding;
- class mean:   the nearest class mean by cosine similarity (no fitting);
- kinds:        the base's own pretraining head (its kinds, which include the other fold's real
                people's ellipses, rectangles and triangles) read as the three classes, without
                any of the person's drawings; and the person's drawings fitted on top of it
                (logits = log kinds-probabilities of the class + embedding @ W + b, L2 1e-2).

Run: python benchmarks/bench_heads.py --hds ../shared/hds    (writes benchmarks/HEADS.md; needs
the fold bases bench_base.py made in benchmarks/out/bases/, about 5 minutes)
"""

from __future__ import annotations

import sys
import zlib
from datetime import date
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_base

OUTPUT = Path(__file__).resolve().parent / "HEADS.md"
CLASSES = ("ellipse", "rectangle", "triangle")
# The base's kinds read as each class: the real people's kind first.
KIND_GROUPS = (
    ("hds-ellipse", "ellipse", "circle"),
    ("hds-rectangle", "rectangle", "square"),
    ("hds-triangle", "triangle"),
)


def class_weights(y: np.ndarray) -> np.ndarray:
    per_class = {c: len(y) / (len(CLASSES) * np.sum(y == c)) for c in range(len(CLASSES))}
    return np.array([per_class[int(c)] for c in y])


def logistic(x, y, l2: float):
    """The default recipe's head loss, solved as training._solve_head solves it."""
    from sklearn.linear_model import LogisticRegression

    solver = LogisticRegression(C=1.0 / (2.0 * l2 * len(x)), max_iter=2000, tol=1e-5)
    solver.fit(x, y, sample_weight=class_weights(y))
    return solver.predict


def on_top_of_prior(features, prior, y, l2: float):
    """logits = prior + features @ W + b: mean class-weighted cross-entropy + l2 |W|^2."""
    from scipy.optimize import minimize

    weights = class_weights(y)
    weights /= weights.sum()
    n, width = len(CLASSES), features.shape[1]
    onehot = np.eye(n)[y]

    def loss(theta):
        kernel, bias = theta[: width * n].reshape(width, n), theta[width * n :]
        z = prior + features @ kernel + bias
        z -= z.max(axis=1, keepdims=True)
        p = np.exp(z)
        p /= p.sum(axis=1, keepdims=True)
        value = -(weights * np.log(p[np.arange(len(y)), y] + 1e-12)).sum()
        gradient = (p - onehot) * weights[:, None]
        return value + l2 * (kernel**2).sum(), np.concatenate(
            [(features.T @ gradient + 2 * l2 * kernel).ravel(), gradient.sum(axis=0)]
        )

    theta = minimize(loss, np.zeros(width * n + n), jac=True, method="L-BFGS-B").x
    kernel, bias = theta[: width * n].reshape(width, n), theta[width * n :]
    return lambda f, p: (p + f @ kernel + bias).argmax(axis=1)


def features(network, groups, x):
    """(embedding, pooled conv4 features, log kinds-probability of each class) of drawings."""
    outs = [network.predict(x[s : s + 1024], verbose=0) for s in range(0, len(x), 1024)]
    embedding, found, pooled = (np.concatenate([o[i] for o in outs]) for i in range(3))
    prior = np.log(np.stack([found[:, g].sum(axis=1) for g in groups], axis=1) + 1e-6)
    return embedding, pooled, prior


def person_rows(hds: Path) -> list[dict]:
    from shapecnn import base as shape_base
    from shapecnn._tensorflow import keras
    from shapecnn.training import augment_copies

    rows = []
    settings = dict(shape_base.PRETRAIN_DEFAULTS)
    people = shape_base.hds_people(hds)
    for fold in range(bench_base.FOLDS):
        weights = bench_base.fold_base(hds, fold, settings)
        base = shape_base.load_base(weights)
        kinds = shape_base.kind_names(weights)
        groups = [[kinds.index(k) for k in group if k in kinds] for group in KIND_GROUPS]
        network = keras.Model(
            base.inputs[0], [*base.outputs, base.get_layer("pooled").output], name="features"
        )

        for person in people:
            if person.name not in bench_base.fold_people(people, fold):
                continue
            drawings = shape_base.load_hds_person(person)
            if any(len(drawings.get(c, [])) < 25 for c in CLASSES):
                continue
            rng = np.random.default_rng(zlib.crc32(person.name.encode()))  # bench_base's split
            tx, ty, _vx, _vy, rx, ry = bench_base.split_person(drawings, rng)
            tx = tx.astype(np.float32)
            x = np.concatenate([tx, augment_copies(tx, 4, 3)])
            y = np.concatenate([ty, np.repeat(ty, 4)])
            (e, p, k), (er, pr, kr) = (
                features(network, groups, a) for a in (x, rx.astype(np.float32))
            )
            unit = lambda a: a / (np.linalg.norm(a, axis=1, keepdims=True) + 1e-9)  # noqa: E731
            means = unit(np.stack([unit(e)[y == c].mean(axis=0) for c in range(len(CLASSES))]))
            predicted = {
                "lbfgs": logistic(e, y, 1e-4)(er),
                "lbfgs, L2 1e-3": logistic(e, y, 1e-3)(er),
                "lbfgs, L2 1e-5": logistic(e, y, 1e-5)(er),
                "+pooled": logistic(np.hstack([e, p]), y, 1e-4)(np.hstack([er, pr])),
                "class mean": (unit(er) @ means.T).argmax(axis=1),
                "kinds alone": kr.argmax(axis=1),
                "kinds + own drawings": on_top_of_prior(e, k, y, 1e-2)(er, kr),
            }
            row = {"fold": fold, "person": person.name, "scored": len(ry)}
            row.update({name: float(np.mean(guess == ry)) for name, guess in predicted.items()})
            rows.append(row)
            print(row, flush=True)
    return rows


def table(rows: list[dict]) -> str:
    heads = [key for key in rows[0] if key not in ("fold", "person", "scored")]
    lines = [
        "# Other heads on the shape base's features: per person few-shot",
        "",
        f"{date.today().isoformat()}, commit {bench_base.git_commit()}, "
        "`python benchmarks/bench_heads.py --hds ../shared/hds`: bench_base's people, splits and "
        "fold bases; the default recipe's own figures (Adam, early stopping) are in BASE.md.",
        "",
        "| head | mean | worst | people below 85 % |",
        "|---|---:|---:|---:|",
    ]
    for head in heads:
        values = [row[head] for row in rows]
        below = sum(v < 0.85 for v in values)
        lines.append(f"| {head} | {np.mean(values):.1%} | {np.min(values):.1%} | {below} |")
    lines += ["", "| fold | person | scored | " + " | ".join(heads) + " |"]
    lines.append("|---|---|---:|" + "---:|" * len(heads))
    for row in rows:
        cells = " | ".join(f"{row[h]:.1%}" for h in heads)
        lines.append(f"| {row['fold']} | {row['person']} | {row['scored']} | {cells} |")
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    hds = bench_base.hds_folder(__doc__.splitlines()[0], argv)
    if hds is None:
        return 0
    OUTPUT.write_text(table(person_rows(hds)))
    print(OUTPUT.read_text())
    return 0


if __name__ == "__main__":
    sys.exit(main())
