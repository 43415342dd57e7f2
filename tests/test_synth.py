"""The hand-drawn shape generator: what its drawings and strokes look like, and its dataset."""

from __future__ import annotations

import dataclasses
import hashlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from shapecnn.preprocess import preprocess
from shapecnn.synth import (
    HANDS,
    KIND_FAMILIES,
    KINDS,
    NON_SHAPES,
    SHAPES,
    Hand,
    corpus,
    draw_shape,
    random_hand,
    render_canvas_rgba,
    render_strokes,
    shape_strokes,
    synth_dataset,
)


def ink_of(image: Image.Image) -> np.ndarray:
    """0 for white paper, 1 for black ink."""
    return 1.0 - np.asarray(image.convert("L"), dtype=float) / 255.0


def ink_span(ink: np.ndarray) -> float:
    """The longer side of the inked box, as a fraction of the canvas."""
    rows = np.flatnonzero((ink > 0.5).any(axis=1))
    cols = np.flatnonzero((ink > 0.5).any(axis=0))
    return max(rows[-1] - rows[0] + 1, cols[-1] - cols[0] + 1) / ink.shape[0]


def strokes_span(strokes: list[np.ndarray], canvas_size: int) -> float:
    points = np.vstack(strokes)
    return float(np.max(points.max(axis=0) - points.min(axis=0))) / canvas_size


# --- the public constants -----------------------------------------------------------------------


def test_shapes_are_the_three_starter_classes():
    assert SHAPES == ("circle", "rectangle", "triangle")


def test_there_are_at_least_five_named_frozen_hands():
    assert len(HANDS) >= 5
    for name, hand in HANDS.items():
        assert isinstance(hand, Hand)
        assert hand.name == name
    with pytest.raises(dataclasses.FrozenInstanceError):
        HANDS["neat"].size = (0.1, 0.2)


def test_hands_are_all_different():
    settings = [dataclasses.replace(hand, name="x") for hand in HANDS.values()]
    assert len(set(settings)) == len(settings)


def test_hand_refuses_a_range_that_runs_backwards():
    with pytest.raises(ValueError, match=r"size .*\(0\.9, 0\.5\)"):
        Hand(name="backwards", size=(0.9, 0.5))


# --- drawings -----------------------------------------------------------------------------------


@pytest.mark.parametrize("canvas_size", [256, 280, 400])
def test_drawing_is_black_ink_on_a_white_rgb_canvas(canvas_size):
    image = draw_shape("circle", np.random.default_rng(1), canvas_size=canvas_size)
    assert image.mode == "RGB"
    assert image.size == (canvas_size, canvas_size)
    pixels = np.asarray(image)
    assert (pixels[:, :, 0] == pixels[:, :, 1]).all() and (pixels[:, :, 1] == pixels[:, :, 2]).all()
    assert pixels.max() == 255 and pixels.min() < 30
    assert np.median(pixels) == 255


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("hand", list(HANDS))
def test_every_hand_draws_every_shape_as_an_outline(hand, shape):
    for seed in range(3):
        ink = ink_of(draw_shape(shape, np.random.default_rng(seed), hand=hand))
        # An outline, not a blob and not a speck.
        assert 0.005 < ink.mean() < 0.3, (hand, shape, seed, ink.mean())
        assert 0.25 < ink_span(ink) <= 1.0
        # Near an edge is fine; running along the border is not.
        border = np.concatenate([ink[0], ink[-1], ink[:, 0], ink[:, -1]])
        assert (border > 0.5).mean() < 0.05


def test_same_seed_gives_the_same_pixels_and_strokes():
    for shape in SHAPES:
        first = np.asarray(draw_shape(shape, np.random.default_rng(42)))
        again = np.asarray(draw_shape(shape, np.random.default_rng(42)))
        assert np.array_equal(first, again)
        strokes = shape_strokes(shape, np.random.default_rng(42))
        strokes_again = shape_strokes(shape, np.random.default_rng(42))
        assert len(strokes) == len(strokes_again)
        assert all(np.array_equal(a, b) for a, b in zip(strokes, strokes_again, strict=True))


def test_different_seeds_give_different_drawings():
    for hand in HANDS:
        drawings = {
            np.asarray(draw_shape("rectangle", np.random.default_rng(seed), hand=hand)).tobytes()
            for seed in range(5)
        }
        assert len(drawings) == 5


def test_hand_can_be_given_by_name_or_as_a_hand():
    by_name = draw_shape("triangle", np.random.default_rng(3), hand="shaky")
    by_hand = draw_shape("triangle", np.random.default_rng(3), hand=HANDS["shaky"])
    assert np.array_equal(np.asarray(by_name), np.asarray(by_hand))


def test_a_given_stroke_width_is_used():
    thin = ink_of(draw_shape("circle", np.random.default_rng(5), hand="neat", stroke_width=3))
    thick = ink_of(draw_shape("circle", np.random.default_rng(5), hand="neat", stroke_width=12))
    assert thick.sum() > 2.5 * thin.sum()


# --- strokes ------------------------------------------------------------------------------------


@pytest.mark.parametrize("canvas_size", [256, 280, 400])
def test_strokes_stay_inside_the_canvas_and_move_like_a_mouse(canvas_size):
    for hand in HANDS:
        for shape in SHAPES:
            for seed in range(3):
                rng = np.random.default_rng(seed)
                strokes = shape_strokes(shape, rng, hand=hand, canvas_size=canvas_size)
                assert 1 <= len(strokes) <= 4
                for stroke in strokes:
                    assert stroke.ndim == 2 and stroke.shape[1] == 2 and len(stroke) >= 5
                    assert stroke.dtype.kind == "f"
                    assert (stroke >= 0).all() and (stroke < canvas_size).all()
                    steps = np.hypot(*np.diff(stroke, axis=0).T)
                    # Mouse moves a few px apart: no jumps, no piles of repeated points.
                    assert steps.max() < 13 * canvas_size / 280, (hand, shape, seed)
                    assert np.median(steps) > 1.0


def test_drawings_span_a_third_to_nearly_all_of_the_canvas():
    spans = [
        strokes_span(shape_strokes(shape, np.random.default_rng(seed), hand=hand), 280)
        for hand in HANDS
        for shape in SHAPES
        for seed in range(6)
    ]
    assert min(spans) > 0.28
    assert max(spans) < 0.97
    assert max(spans) - min(spans) > 0.4


def test_rectangles_and_triangles_are_drawn_in_one_or_several_strokes():
    def stroke_counts(shape):
        return {
            len(shape_strokes(shape, np.random.default_rng(seed), hand=hand))
            for hand in HANDS
            for seed in range(10)
        }

    assert stroke_counts("rectangle") == {1, 2, 3, 4}
    assert stroke_counts("triangle") == {1, 2, 3}
    assert stroke_counts("circle") == {1}


def test_a_circle_ends_near_where_it_started():
    for hand in HANDS:
        for seed in range(5):
            (stroke,) = shape_strokes("circle", np.random.default_rng(seed), hand=hand)
            size = np.max(np.ptp(stroke, axis=0))
            assert np.hypot(*(stroke[-1] - stroke[0])) < 0.35 * size


def test_hands_differ_where_their_names_say():
    def mean_of(measure, hand, count=12):
        return np.mean(
            [measure(SHAPES[i % 3], np.random.default_rng(i), hand) for i in range(count)]
        )

    def span(shape, rng, hand):
        return strokes_span(shape_strokes(shape, rng, hand=hand), 280)

    def ink(shape, rng, hand):
        return ink_of(draw_shape(shape, rng, hand=hand)).sum()

    def step(shape, rng, hand):
        return np.median(np.hypot(*np.diff(shape_strokes(shape, rng, hand=hand)[0], axis=0).T))

    def squareness(shape, rng, hand):
        points = np.vstack(shape_strokes("rectangle", rng, hand=hand))
        extent = np.ptp(points, axis=0)
        return extent.min() / extent.max()

    assert mean_of(span, "tiny") < 0.7 * mean_of(span, "neat")
    # Thick strokes: far more ink on the same kinds of drawing, though no bigger.
    assert mean_of(ink, "marker") > 2 * mean_of(ink, "shaky")
    # A fast hand's mouse points are further apart than a slow one's.
    assert mean_of(step, "sloppy") > 2 * mean_of(step, "shaky")
    assert mean_of(squareness, "stretched", 24) < mean_of(squareness, "neat", 24) - 0.15


# --- bad arguments ------------------------------------------------------------------------------


@pytest.mark.parametrize("function", [shape_strokes, draw_shape])
def test_an_unknown_shape_is_refused_by_name(function):
    # The message lists the kinds synth can draw and echoes the name it got.
    with pytest.raises(
        ValueError, match=r"shape must be one of circle, rectangle, .*hexagon.*'blob'"
    ):
        function("blob", np.random.default_rng(0))


@pytest.mark.parametrize("function", [shape_strokes, draw_shape])
def test_an_unknown_hand_is_refused_by_name(function):
    with pytest.raises(ValueError, match=r"hand must be .*neat.*'lefty'"):
        function("circle", np.random.default_rng(0), hand="lefty")


def test_a_bad_rng_or_canvas_size_is_refused():
    with pytest.raises(TypeError, match=r"rng must be .*got 7"):
        shape_strokes("circle", 7)
    with pytest.raises(ValueError, match=r"canvas_size must be at least .*got 10"):
        draw_shape("circle", np.random.default_rng(0), canvas_size=10)
    with pytest.raises(ValueError, match=r"stroke_width must be .*got -2"):
        draw_shape("circle", np.random.default_rng(0), stroke_width=-2)


# --- rendering ----------------------------------------------------------------------------------


def test_render_strokes_draws_round_anti_aliased_ink():
    line = np.array([[40.0, 100.0], [200.0, 100.0]])
    dot = np.array([[100.0, 200.0]])
    image = render_strokes([line, dot], canvas_size=280, stroke_width=20.0)
    ink = ink_of(image)
    assert image.mode == "RGB" and image.size == (280, 280)
    # The line is 20 px thick, and its round cap reaches half a width past its end only on the
    # line's axis (x, y are columns, rows).
    assert ink[100, 120] > 0.99 and ink[91, 120] > 0.99 and ink[111, 120] < 0.01
    assert ink[100, 32] > 0.99 and ink[100, 28] < 0.01
    assert ink[91, 32] < 0.5
    # A single point is a round dot of the stroke's width.
    assert ink[200, 100] > 0.99 and ink[200, 108] > 0.99 and ink[207, 107] < 0.01
    # Edges are anti-aliased: grey pixels, not only black and white.
    assert ((ink > 0.1) & (ink < 0.9)).sum() > 50


def test_render_strokes_refuses_what_is_not_a_list_of_points():
    with pytest.raises(ValueError, match=r"strokes\[1\] must be an \(N, 2\) array.*\(3, 3\)"):
        render_strokes([np.zeros((4, 2)), np.zeros((3, 3))])
    with pytest.raises(TypeError, match="strokes must be a list"):
        render_strokes(np.zeros((4, 2)))


def test_render_canvas_rgba_looks_like_the_drawing_canvas_output():
    strokes = shape_strokes("triangle", np.random.default_rng(2))
    canvas = render_canvas_rgba(strokes, canvas_size=280, stroke_width=8.0)
    assert canvas.shape == (280, 280, 4) and canvas.dtype == np.uint8
    assert (canvas[:, :, 3] == 255).all()
    expected = np.asarray(render_strokes(strokes, canvas_size=280, stroke_width=8.0))
    assert np.array_equal(canvas[:, :, :3], expected)
    assert canvas[:, :, :3].min() == 0


# --- datasets -----------------------------------------------------------------------------------


def read_dataset(root) -> dict[tuple[str, str], list[str]]:
    """{(split, class): sorted pixel hashes} of every PNG under root."""
    found = {}
    for path in sorted(root.glob("*/*/*.png")):
        with Image.open(path) as image:
            digest = hashlib.sha256(np.asarray(image.convert("L")).tobytes()).hexdigest()
        found.setdefault((path.parent.parent.name, path.parent.name), []).append(digest)
    return {key: sorted(value) for key, value in found.items()}


def test_synth_dataset_writes_15_train_and_5_test_pngs_per_class(tmp_path):
    # A small canvas keeps this quick; the split does not depend on it.
    counts = synth_dataset(tmp_path, per_class=20, seed=0, canvas_size=64)
    expected = {name: {"train": 15, "test": 5} for name in SHAPES}
    assert counts == expected
    found = read_dataset(tmp_path)
    assert {key: len(value) for key, value in found.items()} == {
        (split, name): n for name in SHAPES for split, n in expected[name].items()
    }


def test_synth_dataset_gives_the_same_pixels_for_the_same_seed(tmp_path):
    synth_dataset(tmp_path / "a", per_class=4, seed=9, classes=("triangle",))
    synth_dataset(tmp_path / "b", per_class=4, seed=9, classes=("triangle",))
    synth_dataset(tmp_path / "c", per_class=4, seed=10, classes=("triangle",))
    assert read_dataset(tmp_path / "a") == read_dataset(tmp_path / "b")
    assert read_dataset(tmp_path / "a") != read_dataset(tmp_path / "c")
    for path in (tmp_path / "a").glob("*/*/*.png"):
        with Image.open(path) as image:
            assert image.size == (280, 280)
        # The starter dataset is committed to git, so each drawing must stay small on disk.
        assert path.stat().st_size < 12_000


def test_synth_dataset_draws_only_with_the_hands_asked_for(tmp_path):
    synth_dataset(tmp_path, per_class=4, classes=("circle",), hands=["tiny"], test_fraction=0)
    for path in tmp_path.glob("train/circle/*.png"):
        with Image.open(path) as image:
            assert ink_span(ink_of(image)) < 0.56


def test_synth_dataset_refuses_an_unknown_class_before_writing(tmp_path):
    with pytest.raises(ValueError, match=r"classes must be .*'blob' is not a kind"):
        synth_dataset(tmp_path, classes=("circle", "blob"))
    assert not any(tmp_path.iterdir())


def test_synth_dataset_refuses_bad_counts_and_hands(tmp_path):
    with pytest.raises(ValueError, match=r"per_class must be .*got 0"):
        synth_dataset(tmp_path, per_class=0)
    with pytest.raises(ValueError, match=r"test_fraction must be .*got 1\.5"):
        synth_dataset(tmp_path, test_fraction=1.5)
    with pytest.raises(ValueError, match=r"hands must be .*'lefty'"):
        synth_dataset(tmp_path, hands=["neat", "lefty"])
    assert not any(tmp_path.iterdir())


def test_synth_dataset_draws_any_kind_and_keeps_a_kind_whatever_else_is_asked(tmp_path):
    synth_dataset(tmp_path / "a", per_class=3, seed=1, classes=("star5",), canvas_size=64)
    synth_dataset(tmp_path / "b", per_class=3, seed=1, classes=("heart", "star5"), canvas_size=64)
    a, b = read_dataset(tmp_path / "a"), read_dataset(tmp_path / "b")
    assert a[("train", "star5")] == b[("train", "star5")]
    assert len(b[("train", "heart")]) == 2


# --- what the starter data and the browser tests were made from ---------------------------------

# sha256 of the pixels and strokes below, as the code drew them before the kinds beyond SHAPES
# were added (commit aee135c); drawing more kinds must not move a single pixel of these.
PINNED_DIGEST = "8836527b952675710cb156c83e24d8a6411fc6ff0fcb0c28c75e0eda2753a0e8"


def test_the_starter_shapes_are_drawn_exactly_as_before():
    digest = hashlib.sha256()
    for shape in SHAPES:
        for hand in HANDS:
            for seed in range(2):
                image = draw_shape(shape, np.random.default_rng(seed), hand=hand, canvas_size=140)
                digest.update(np.asarray(image).tobytes())
                for stroke in shape_strokes(shape, np.random.default_rng(seed), hand=hand):
                    digest.update(stroke.tobytes())
    assert digest.hexdigest() == PINNED_DIGEST


def test_the_committed_starter_data_is_what_synth_draws():
    # README: made with `python -m shapecnn synth --per-class 100 --seed 2024`. Redraw the first
    # few drawings of each class as synth_dataset does and find each among the committed files.
    root = Path(__file__).resolve().parent.parent / "data" / "handwriting_shape"
    hands = list(HANDS.values())
    for index, shape in enumerate(SHAPES):
        committed = {
            hashlib.sha256(np.asarray(Image.open(path).convert("L")).tobytes()).hexdigest()
            for path in root.glob(f"*/{shape}/*.png")
        }
        order = np.random.default_rng([2024, index])
        order.permutation(100)
        first_hand = int(order.integers(len(hands)))
        for drawing in range(4):
            rng = np.random.default_rng([2024, index, drawing])
            image = draw_shape(shape, rng, hand=hands[(first_hand + drawing) % len(hands)])
            assert hashlib.sha256(np.asarray(image.convert("L")).tobytes()).hexdigest() in committed


# --- many kinds: the shape base's corpus --------------------------------------------------------

# What the brief for the base asked for, by kind name.
ASKED_FOR = (
    *("ellipse", "square", "diamond", "pentagon", "hexagon", "octagon", "star5", "star6"),
    *("heart", "arrow", "cross", "x_mark", "crescent", "spiral", "cloud", "lightning", "house"),
    *("semicircle", "trapezoid", "parallelogram", "wavy_line", "zigzag", "check_mark"),
    *("line", "dot", "scribble", "half_drawn", "several"),
    *(f"letter_{c}" for c in "AELMNSTVWZ"),
    *(f"digit_{c}" for c in "023578"),
)


def test_kinds_start_with_the_starter_shapes_and_hold_all_that_was_asked_for():
    assert tuple(KINDS)[:3] == SHAPES
    assert set(ASKED_FOR) <= set(KINDS)
    assert all(callable(outline) for outline in KINDS.values())
    assert set(NON_SHAPES) == {"line", "dot", "scribble", "half_drawn", "several"}


def test_every_kind_is_in_exactly_one_family():
    members = [kind for family in KIND_FAMILIES.values() for kind in family]
    assert sorted(members) == sorted(KINDS)
    assert {"circle", "ellipse"} <= set(next(f for f in KIND_FAMILIES.values() if "circle" in f))
    assert "square" in next(f for f in KIND_FAMILIES.values() if "rectangle" in f)


@pytest.mark.parametrize("kind", list(KINDS))
def test_every_kind_draws_inside_the_canvas_with_ink_the_same_for_a_seed(kind):
    hands = [*HANDS.values(), random_hand(np.random.default_rng(7))]
    for seed, hand in enumerate(hands):
        canvas_size = (140, 280, 400)[seed % 3]
        strokes = shape_strokes(
            kind, np.random.default_rng(seed), hand=hand, canvas_size=canvas_size
        )
        again = shape_strokes(kind, np.random.default_rng(seed), hand=hand, canvas_size=canvas_size)
        assert len(strokes) == len(again) >= 1
        assert all(np.array_equal(a, b) for a, b in zip(strokes, again, strict=True))
        for stroke in strokes:
            assert stroke.ndim == 2 and stroke.shape[1] == 2 and len(stroke) >= 1
            assert (stroke >= 0).all() and (stroke < canvas_size).all(), (kind, hand.name)
            if len(stroke) > 1:
                steps = np.hypot(*np.diff(stroke, axis=0).T)
                assert steps.max() < 13 * canvas_size / 280, (kind, hand.name)
    for seed in range(2):
        image = draw_shape(kind, np.random.default_rng(seed), canvas_size=140)
        assert np.array_equal(
            np.asarray(image),
            np.asarray(draw_shape(kind, np.random.default_rng(seed), canvas_size=140)),
        )
        ink = ink_of(image)
        border = np.concatenate([ink[0], ink[-1], ink[:, 0], ink[:, -1]])
        assert (border > 0.5).mean() < 0.05, kind
        # Something the model can see once the drawing is shrunk to 24 px.
        assert preprocess(image).min() < 0.2, kind


def test_kinds_differ_where_their_names_say():
    def aspect(kind, seed, hand="neat"):
        points = np.vstack(shape_strokes(kind, np.random.default_rng(seed), hand=hand))
        centred = points - points.mean(axis=0)
        low, high = np.linalg.eigvalsh(np.cov(centred.T))
        return float(np.sqrt(high / low))

    # Ellipses are clearly elongated at any tilt, circles nearly round.
    assert min(aspect("ellipse", seed) for seed in range(8)) > 1.35
    assert max(aspect("circle", seed) for seed in range(8)) < 1.3
    # Even for a hand whose circles are flat, its ellipses are flatter.
    flat_circles = max(aspect("circle", seed, "stretched") for seed in range(8))
    assert min(aspect("ellipse", seed, "stretched") for seed in range(8)) > flat_circles
    # A dot is a few px; a line is long and thin; x_mark and cross are two strokes.
    dot = np.vstack(shape_strokes("dot", np.random.default_rng(0)))
    assert np.ptp(dot, axis=0).max() < 0.05 * 280
    assert all(aspect("line", seed) > 8 for seed in range(4))
    assert {len(shape_strokes("x_mark", np.random.default_rng(s))) for s in range(4)} == {2}
    assert {len(shape_strokes("cross", np.random.default_rng(s))) for s in range(4)} == {2}


def test_a_half_drawn_shape_is_shorter_than_a_whole_one():
    def length(kind, seed):
        strokes = shape_strokes(kind, np.random.default_rng(seed), hand="neat")
        span = np.ptp(np.vstack(strokes), axis=0).max()
        return sum(np.hypot(*np.diff(s, axis=0).T).sum() for s in strokes) / span

    whole = np.median([length("circle", seed) for seed in range(10)])
    assert np.median([length("half_drawn", seed) for seed in range(10)]) < 0.8 * whole


def test_corpus_gives_preprocessed_inputs_and_labels_grouped_by_kind():
    kinds = ("heart", "circle", "dot")
    inputs, labels = corpus(kinds, per_kind=4, seed=3)
    assert inputs.shape == (12, 24, 24, 3) and inputs.dtype == np.float32
    assert labels.dtype == np.int64
    assert labels.tolist() == [0] * 4 + [1] * 4 + [2] * 4
    assert inputs.min() >= 0.0 and inputs.max() <= 1.0
    # Every drawing has ink (0 is black) on white paper.
    assert (inputs.reshape(12, -1).min(axis=1) < 0.2).all()
    assert (np.median(inputs.reshape(12, -1), axis=1) == 1.0).all()


def test_corpus_is_the_same_for_a_seed_and_a_kind_whatever_else_is_asked():
    first, labels = corpus(("star5", "arrow"), per_kind=3, seed=5)
    again, labels_again = corpus(("star5", "arrow"), per_kind=3, seed=5)
    assert np.array_equal(first, again) and np.array_equal(labels, labels_again)
    alone, _ = corpus(("arrow",), per_kind=3, seed=5)
    assert np.array_equal(alone, first[3:])
    other, _ = corpus(("star5", "arrow"), per_kind=3, seed=6)
    assert not np.array_equal(first, other)
    # Different drawings within a kind.
    assert len({drawing.tobytes() for drawing in first}) == 6


def test_corpus_drawings_look_like_draw_shape():
    # The corpus renders only the drawing's box, smaller and less supersampled; after
    # preprocessing it must look as a full draw_shape canvas of the same strokes does: closer
    # than the same drawing moved by half a pixel on the canvas.
    from shapecnn import synth

    moved, fast = [], []
    for seed, kind in enumerate(("circle", "star5", "letter_A", "spiral", "dot", "scribble")):
        rng = np.random.default_rng(seed)
        strokes = synth._make_strokes(kind, rng, HANDS["neat"], 280, margin=10.0)
        full = preprocess(render_strokes(strokes, canvas_size=280, stroke_width=6.0))
        shifted = [np.clip(stroke + 0.5, 0, 279.9) for stroke in strokes]
        moved.append(np.abs(preprocess(render_strokes(shifted, stroke_width=6.0)) - full).mean())
        fast.append(np.abs(preprocess(synth._render_ink_box(strokes, 6.0)) - full).mean())
    assert np.mean(fast) < np.mean(moved)


def test_corpus_hands_canvas_sizes_and_stroke_widths_are_used():
    # Only the tiny hand, no strangers: tiny drawings look the same after preprocess, so compare
    # ink against thick strokes instead.
    thin, _ = corpus(("circle",), per_kind=6, seed=1, random_hands=0, stroke_widths=(2, 3))
    thick, _ = corpus(("circle",), per_kind=6, seed=1, random_hands=0, stroke_widths=(14, 16))
    assert (1 - thick).sum() > 1.5 * (1 - thin).sum()
    only, _ = corpus(("square",), per_kind=3, seed=1, hands=["marker"], random_hands=0)
    again, _ = corpus(("square",), per_kind=3, seed=1, hands=[HANDS["marker"]], random_hands=0)
    assert np.array_equal(only, again)
    one_size, _ = corpus(("square",), per_kind=2, seed=1, canvas_sizes=(64,))
    assert one_size.shape == (2, 24, 24, 3)


def test_corpus_refuses_bad_arguments_by_name():
    with pytest.raises(
        ValueError, match=r"kinds must be distinct names from circle, .*'blob' is not"
    ):
        corpus(("circle", "blob"), per_kind=1)
    with pytest.raises(ValueError, match=r"kinds must be distinct .*\('circle', 'circle'\)"):
        corpus(("circle", "circle"), per_kind=1)
    with pytest.raises(TypeError, match="kinds must be a list"):
        corpus("circle", per_kind=1)
    with pytest.raises(ValueError, match=r"per_kind must be a positive int, got 0"):
        corpus(("circle",), per_kind=0)
    with pytest.raises(ValueError, match=r"random_hands must be .*got 2"):
        corpus(("circle",), per_kind=1, random_hands=2)
    with pytest.raises(ValueError, match=r"hands must be .*'lefty'"):
        corpus(("circle",), per_kind=1, hands=["lefty"], random_hands=0)
    with pytest.raises(ValueError, match=r"canvas_size must be at least .*got 10"):
        corpus(("circle",), per_kind=1, canvas_sizes=(10,))
    for widths in [(5, 2), (0, 3), ("a", 3), 4]:
        with pytest.raises(ValueError, match=r"stroke_widths must be .*got"):
            corpus(("circle",), per_kind=1, stroke_widths=widths)
