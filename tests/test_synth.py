"""The hand-drawn shape generator: what its drawings and strokes look like, and its dataset."""

from __future__ import annotations

import dataclasses
import hashlib

import numpy as np
import pytest
from PIL import Image

from shapecnn.synth import (
    HANDS,
    SHAPES,
    Hand,
    draw_shape,
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
    with pytest.raises(ValueError, match=r"shape must be one of .*'hexagon'"):
        function("hexagon", np.random.default_rng(0))


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
    with pytest.raises(ValueError, match=r"classes must be .*'hexagon'"):
        synth_dataset(tmp_path, classes=("circle", "hexagon"))
    assert not any(tmp_path.iterdir())


def test_synth_dataset_refuses_bad_counts_and_hands(tmp_path):
    with pytest.raises(ValueError, match=r"per_class must be .*got 0"):
        synth_dataset(tmp_path, per_class=0)
    with pytest.raises(ValueError, match=r"test_fraction must be .*got 1\.5"):
        synth_dataset(tmp_path, test_fraction=1.5)
    with pytest.raises(ValueError, match=r"hands must be .*'lefty'"):
        synth_dataset(tmp_path, hands=["neat", "lefty"])
    assert not any(tmp_path.iterdir())
