"""Does a head that also sees the drawing's geometry or its coarse pixels help where the base fails?

The base's features come through a global average pool, trained on drawings turned, stretched
and sheared: they say little about where the ink is, which is what tells a parallelogram from a
rectangle or a trapezoid from a triangle. Here the head (the default recipe's loss, solved
exactly by scikit-learn as "learn as I save" does) sees, beside the embedding:

- geometry:  the ink's normalised central moments of order 2 and 3 and its centroid, on the
             aspect-kept and the stretched view of preprocess (18 numbers);
- low6:      the ink of both views averaged down to 6 x 6 (72 numbers);
- both.

Each set is standardised on the training features and weighted `a` times the embedding's mean
spread. Same folds, fold bases, splits and cases as bench_base.py: per person (own 15 drawings
per class and four augmented copies of each, scored on the rest of theirs) and new classes
(starter data + 15 drawings of each of two held-out kinds; per class on synthetic drawings,
starter classes also on the held-out people's real ones). The judgement (shapecnn.novelty) is
left out on every row alike, so the "embedding" row is the plain head of HEADS.md.

Run: python benchmarks/bench_geometry.py --hds ../shared/hds    (writes a section of HEADS.md;
needs the fold bases bench_base.py makes, about 10 minutes)
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
MARK = "<!-- bench:geometry -->"
WEIGHTS = (0.5, 1.0, 2.0)
COPIES = 4


def moments(ink: np.ndarray) -> np.ndarray:
    """N x 9: central moments (2,0) (1,1) (0,2) (3,0) (2,1) (1,2) (0,3) over the ink's mass,
    in units of half the image, and the centroid's offset from the centre."""
    height, width = ink.shape[1:]
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    mass = ink.sum(axis=(1, 2)) + 1e-6
    cx = (ink * xx).sum(axis=(1, 2)) / mass
    cy = (ink * yy).sum(axis=(1, 2)) / mass
    dx, dy = xx[None] - cx[:, None, None], yy[None] - cy[:, None, None]
    half = width / 2
    columns = [
        (ink * dx**p * dy**q).sum(axis=(1, 2)) / mass / half ** (p + q)
        for p, q in ((2, 0), (1, 1), (0, 2), (3, 0), (2, 1), (1, 2), (0, 3))
    ]
    columns += [(cx - (width - 1) / 2) / half, (cy - (height - 1) / 2) / half]
    return np.stack(columns, axis=1)


def geometry(x: np.ndarray) -> np.ndarray:
    ink = 1.0 - x
    return np.hstack([moments(ink[..., 0]), moments(ink[..., -1])])


def low_resolution(x: np.ndarray, cells: int = 6) -> np.ndarray:
    ink = 1.0 - x[..., [0, -1]]
    step = x.shape[1] // cells
    return ink.reshape(len(x), cells, step, cells, step, 2).mean(axis=(2, 4)).reshape(len(x), -1)


EXTRAS = {
    "embedding": None,
    "+ geometry": geometry,
    "+ low6": low_resolution,
    "+ both": lambda x: np.hstack([geometry(x), low_resolution(x)]),
}


def embed(base, x: np.ndarray) -> np.ndarray:
    return np.concatenate(
        [base.predict(x[s : s + 1024], verbose=0)[0] for s in range(0, len(x), 1024)]
    )


def with_copies(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    from shapecnn.training import augment_copies

    x = x.astype(np.float32)
    return np.concatenate([x, augment_copies(x, COPIES, 3)]), np.concatenate(
        [y, np.repeat(y, COPIES)]
    )


def solve(features: np.ndarray, y: np.ndarray, l2: float = 1e-4):
    from sklearn.linear_model import LogisticRegression

    counts = np.bincount(y)
    weights = (len(y) / (len(counts) * counts))[y]
    solver = LogisticRegression(C=1.0 / (2 * l2 * len(features)), max_iter=2000, tol=1e-5)
    return solver.fit(features, y, sample_weight=weights)


def heads(base, x: np.ndarray, y: np.ndarray) -> dict:
    """{name: predict(drawings) -> class indices} for every extra set and weight."""
    embedding = embed(base, x)
    spread = embedding.std(axis=0).mean()
    found = {}
    for name, extra in EXTRAS.items():
        if extra is None:
            head = solve(embedding, y)
            found[name] = lambda a, head=head: head.predict(embed(base, a))
            continue
        values = extra(x)
        mean, std = values.mean(axis=0), values.std(axis=0) + 1e-6
        for weight in WEIGHTS:

            def features(a, of=None, extra=extra, mean=mean, std=std, weight=weight):
                of = embed(base, a) if of is None else of
                return np.hstack([of, weight * spread * (extra(a) - mean) / std])

            head = solve(features(x, embedding), y)
            found[f"{name}, a = {weight}"] = lambda a, head=head, f=features: head.predict(f(a))
    return found


def person_rows(hds: Path, base, fold: int) -> dict[str, list[float]]:
    from shapecnn import base as shape_base

    accuracies: dict[str, list[float]] = {}
    people = shape_base.hds_people(hds)
    for person in people:
        if person.name not in bench_base.fold_people(people, fold):
            continue
        drawings = shape_base.load_hds_person(person)
        if any(len(drawings.get(c, [])) < 25 for c in ("ellipse", "rectangle", "triangle")):
            continue
        rng = np.random.default_rng(zlib.crc32(person.name.encode()))  # bench_base's split
        tx, ty, _vx, _vy, rx, ry = bench_base.split_person(drawings, rng)
        for name, predict in heads(base, *with_copies(tx, ty)).items():
            accuracies.setdefault(name, []).append(float(np.mean(predict(rx) == ry)))
        print(f"  {person.name}: {accuracies['embedding'][-1]:.1%}", flush=True)
    return accuracies


def new_class_rows(hds: Path, base, fold: int) -> dict[str, list[dict]]:
    from shapecnn import synth

    sx, sy, _tx, _ty = bench_base.starter_arrays()
    strangers = {
        k: bench_base.synthetic(k, 100, 500 + fold * 10 + i)
        for i, k in enumerate(bench_base.STARTER)
    }
    real = bench_base.held_out_real(hds, fold)
    rows: dict[str, list[dict]] = {}
    for pair_index, pair in enumerate(bench_base.HELD_OUT_PAIRS[fold]):
        rng = np.random.default_rng([fold, pair_index, 99])  # bench_base's hand and drawings
        hand = synth.random_hand(rng, "new-class hand")
        names = [*bench_base.STARTER, *pair]
        xs, ys, scored = [sx], [sy], {}
        for offset, kind in enumerate(pair):
            seed = 1000 + 97 * fold + 13 * pair_index + offset
            drawn = bench_base.synthetic(kind, 120, seed, hand)
            xs.append(drawn[:15])
            ys.append(np.full(15, len(bench_base.STARTER) + offset))
            scored[kind] = drawn[20:]
        fitted = heads(base, *with_copies(np.concatenate(xs), np.concatenate(ys)))
        for name, predict in fitted.items():
            row = {"pair": " + ".join(pair), "classes": {}, "real": {}}
            for label, cls in enumerate(names):
                drawings = scored.get(cls, strangers.get(cls))
                row["classes"][cls] = float(np.mean(predict(drawings.astype(np.float32)) == label))
            for hds_name, cls in bench_base.HDS_AS_STARTER.items():
                guess = predict(real[hds_name].astype(np.float32))
                row["real"][cls] = float(np.mean(guess == names.index(cls)))
            rows.setdefault(name, []).append(row)
        print(f"  {pair}: {rows['embedding'][-1]['classes']}", flush=True)
    return rows


def section(people: dict, added: dict) -> str:
    lines = [
        MARK,
        "## A head that also sees geometry or coarse pixels",
        "",
        f"{date.today().isoformat()}, commit {bench_base.git_commit()}, "
        "`python benchmarks/bench_geometry.py --hds ../shared/hds`: bench_base's folds, fold "
        "bases, people, kinds and splits; the head solved exactly (L-BFGS), no judgement.",
        "",
        "| head | per person mean | worst person | new classes overall | worst new-class "
        "class | parallelogram | trapezoid | starter classes on real drawings |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name in people:
        rows = added[name]

        def mean_of(cls, rows=rows):
            return np.mean([r["classes"][cls] for r in rows if cls in r["classes"]])

        overall = np.mean([np.mean(list(r["classes"].values())) for r in rows])
        worst = min(min(r["classes"].values()) for r in rows)
        real = np.mean([np.mean(list(r["real"].values())) for r in rows])
        lines.append(
            f"| {name} | {np.mean(people[name]):.1%} | {np.min(people[name]):.1%} | "
            f"{overall:.1%} | {worst:.1%} | {mean_of('parallelogram'):.1%} | "
            f"{mean_of('trapezoid'):.1%} | {real:.1%} |"
        )
    return "\n".join(lines) + "\n" + MARK.replace("bench:", "/bench:") + "\n"


def main(argv=None) -> int:
    from shapecnn import base as shape_base

    hds = bench_base.hds_folder(__doc__.splitlines()[0], argv)
    if hds is None:
        return 0
    people: dict[str, list[float]] = {}
    added: dict[str, list[dict]] = {}
    for fold in range(bench_base.FOLDS):
        weights = bench_base.fold_base(hds, fold, dict(shape_base.PRETRAIN_DEFAULTS))
        base = shape_base.load_base(weights)
        for name, values in person_rows(hds, base, fold).items():
            people.setdefault(name, []).extend(values)
        for name, rows in new_class_rows(hds, base, fold).items():
            added.setdefault(name, []).extend(rows)
    text = section(people, added)
    current = OUTPUT.read_text() if OUTPUT.exists() else ""
    if MARK in current:
        end = MARK.replace("bench:", "/bench:")
        before, rest = current.split(MARK, 1)
        current = before + rest.split(end, 1)[1].lstrip("\n")
    OUTPUT.write_text(current.rstrip("\n") + "\n\n" + text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
