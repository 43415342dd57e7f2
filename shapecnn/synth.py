"""Hand-drawn-looking shapes: the starter dataset, test drawings and "strangers" for benchmarks.

A drawing is made the way a person makes one. The pen follows an ideal outline (an ellipse, a
rectangle, a triangle) but drifts slowly away from it, lifts between strokes, overshoots or falls
short where a stroke ends, and rounds the corners it hurries through. A `Hand` holds the ranges of
all of these, so a model trained on some hands can be tested on a hand it has never seen: that is
how the benchmarks stand in for the stranger who draws differently from the author.

Beyond the three SHAPES of the starter data, KINDS names every kind the same pen can draw
(polygons, stars, hearts, arrows, letters, digits, open strokes, scribbles...): corpus() draws
them by the thousand for the shape base, NON_SHAPES names those that are no shape at all, and
KIND_FAMILIES groups kinds that differ only in aspect, a rotation or a detail, so a whole family
can be held out.

Only numpy and pillow are needed; the dataset and preprocess modules are imported when files are
written or a corpus is preprocessed.
"""

from __future__ import annotations

import itertools
import math
import os
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, fields

import numpy as np
from PIL import Image, ImageDraw

SHAPES: tuple[str, ...] = ("circle", "rectangle", "triangle")
TRIANGLE_KINDS = ("equilateral", "isoceles", "right", "scalene", "obtuse")

# Stroke widths and point spacings in a Hand are for this canvas size; other canvases scale them,
# so a drawing shrunk to the model's 24 px looks the same whatever canvas it was made on.
REFERENCE_CANVAS = 280
MIN_CANVAS = 32

# Fast shake of an unsteady hand: a few wiggles per side, never pixel noise.
_TREMOR_WAVELENGTH = (0.05, 0.12)
# Outlines are sampled this finely (fraction of the drawing's size) before the pen's drift is
# added, so the drift is smooth however far apart the final mouse points are.
_DENSE_STEP = 0.004
# Anti-aliasing by drawing this many times larger and averaging down.
_SUPERSAMPLE = 4

Range = tuple[float, float]


@dataclass(frozen=True)
class Hand:
    """One person's drawing style, as ranges that every drawing samples from.

    Lengths are fractions of the drawing's size (its longer side) unless they say px; px are on
    a 280 px canvas and scale with the canvas.
    """

    name: str
    # Longer side of the drawing, as a fraction of the canvas.
    size: Range = (0.5, 0.85)
    # Where it lands: 0 = always centred, 1 = anywhere it fits, edges included.
    spread: float = 0.6
    stroke_width: Range = (5.0, 9.0)  # px
    # Slow drift of the pen away from the ideal outline: RMS, and wavelength along the stroke.
    wobble: Range = (0.008, 0.018)
    wobble_wavelength: Range = (0.4, 1.6)
    # Fast small shake (RMS), for an unsteady hand.
    tremor: Range = (0.0, 0.0)
    # End of a shape closed in one stroke: < 0 leaves a gap, > 0 overshoots the start.
    closure: Range = (-0.03, 0.05)
    # Each end of a stroke that draws some of the sides: < 0 falls short of the corner, > 0
    # crosses past it.
    stroke_end: Range = (-0.02, 0.05)
    # How far a corner lands from the ideal one (RMS per axis).
    corner_jitter: float = 0.02
    # Chance that a corner drawn without lifting the pen is rounded, and the rounding radius as a
    # fraction of the shorter side at that corner.
    p_rounded: float = 0.15
    rounding: Range = (0.05, 0.15)
    # Chance that a rectangle or triangle is drawn in a single stroke (else 2 to 4 strokes).
    p_one_stroke: float = 0.6
    # Rectangles and triangles: chance of being (nearly) axis-aligned, else tilted up to this.
    p_axis_aligned: float = 0.75
    max_rotation: float = 15.0  # degrees
    # Rectangles: shorter / longer side; squares are drawn on purpose this often.
    rect_aspect: Range = (0.45, 0.9)
    p_square: float = 0.25
    # Circles: minor / major axis (people's circles are a little elliptical).
    ellipse_aspect: Range = (0.85, 1.0)
    # Triangles: kinds drawn from uniformly, so repeats weigh a kind more.
    triangle_kinds: tuple[str, ...] = TRIANGLE_KINDS
    # Distance between mouse-move points (px): a fast hand's points are further apart.
    point_spacing: Range = (3.0, 5.0)

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise ValueError(f"name must be a non-empty string, got {self.name!r}")
        for item in fields(self):
            value = getattr(self, item.name)
            if item.name == "triangle_kinds":
                unknown = [kind for kind in value if kind not in TRIANGLE_KINDS]
                if not value or unknown:
                    raise ValueError(
                        f"triangle_kinds must be a non-empty tuple from {TRIANGLE_KINDS}, "
                        f"got {value!r}"
                    )
            elif isinstance(value, tuple):
                if len(value) != 2 or not value[0] <= value[1]:
                    raise ValueError(f"{item.name} must be a (low, high) range, got {value!r}")
            elif item.name.startswith("p_") and not 0.0 <= value <= 1.0:
                raise ValueError(f"{item.name} must be a probability in [0, 1], got {value!r}")
        if self.size[0] <= 0 or self.size[1] > 1:
            raise ValueError(f"size must be within (0, 1], got {self.size!r}")
        if self.stroke_width[0] <= 0 or self.point_spacing[0] <= 0:
            raise ValueError(
                "stroke_width and point_spacing must be positive, "
                f"got {self.stroke_width!r} and {self.point_spacing!r}"
            )


# Distinct enough that a model trained on some of them and tested on another measures how it
# does on a stranger's drawings, not on more of the same.
HANDS: dict[str, Hand] = {
    hand.name: hand
    for hand in (
        # Careful and steady: closed shapes, sharp corners, mostly upright, centred.
        Hand(name="neat"),
        # Fast: big slow swings, gaps and overshoots, rounded corners, tilted, far-apart points.
        Hand(
            name="sloppy",
            size=(0.5, 0.95),
            spread=0.8,
            stroke_width=(4.0, 10.0),
            wobble=(0.02, 0.04),
            wobble_wavelength=(0.6, 2.5),
            closure=(-0.12, 0.18),
            stroke_end=(-0.06, 0.12),
            corner_jitter=0.05,
            p_rounded=0.6,
            rounding=(0.1, 0.35),
            p_one_stroke=0.75,
            p_axis_aligned=0.4,
            max_rotation=25.0,
            rect_aspect=(0.35, 0.9),
            ellipse_aspect=(0.72, 1.0),
            point_spacing=(5.0, 8.0),
        ),
        # Slow and unsteady: thin lines that shake, pen lifted at corners, points close together.
        Hand(
            name="shaky",
            size=(0.45, 0.85),
            stroke_width=(3.0, 6.0),
            wobble=(0.008, 0.02),
            tremor=(0.004, 0.008),
            closure=(-0.05, 0.08),
            stroke_end=(-0.03, 0.08),
            corner_jitter=0.03,
            p_rounded=0.05,
            p_one_stroke=0.35,
            point_spacing=(2.0, 3.0),
        ),
        # A fat marker: thick strokes, big drawings, steady but not careful.
        Hand(
            name="marker",
            size=(0.6, 0.95),
            spread=0.5,
            stroke_width=(11.0, 16.0),
            wobble=(0.01, 0.025),
            closure=(-0.05, 0.1),
            stroke_end=(-0.02, 0.08),
            corner_jitter=0.03,
            p_rounded=0.35,
            rounding=(0.05, 0.2),
            max_rotation=20.0,
            point_spacing=(4.0, 7.0),
        ),
        # Small drawings anywhere on the canvas, often near an edge.
        Hand(
            name="tiny",
            size=(0.32, 0.5),
            spread=1.0,
            stroke_width=(3.0, 7.0),
            wobble=(0.012, 0.03),
            closure=(-0.06, 0.1),
            stroke_end=(-0.04, 0.1),
            corner_jitter=0.035,
            p_rounded=0.3,
            rounding=(0.08, 0.25),
            p_one_stroke=0.7,
            max_rotation=20.0,
            point_spacing=(2.5, 4.5),
        ),
        # Extreme proportions: thin and wide rectangles, flat ellipses, obtuse and right
        # triangles, tilted further, placed off-centre.
        Hand(
            name="stretched",
            size=(0.55, 0.95),
            spread=0.85,
            stroke_width=(4.0, 9.0),
            wobble=(0.008, 0.02),
            closure=(-0.06, 0.1),
            stroke_end=(-0.03, 0.08),
            corner_jitter=0.03,
            p_rounded=0.25,
            p_one_stroke=0.5,
            p_axis_aligned=0.5,
            max_rotation=30.0,
            rect_aspect=(0.22, 0.55),
            p_square=0.05,
            ellipse_aspect=(0.55, 0.8),
            triangle_kinds=("right", "scalene", "obtuse", "obtuse", "isoceles"),
            point_spacing=(3.0, 6.0),
        ),
    )
}


def random_hand(rng: np.random.Generator, name: str = "stranger") -> Hand:
    """A new hand with its own style, drawn from ranges wider than the named hands cover.

    A stand-in for a stranger: a person whose drawings no model has seen. Every range is itself
    random, so two strangers differ as much from each other as from HANDS.
    """
    _check_rng(rng)

    def span(low: float, high: float, width: float) -> Range:
        start = float(rng.uniform(low, high - width))
        return (start, start + width)

    size_low = float(rng.uniform(0.3, 0.7))
    stroke_low = float(rng.uniform(3.0, 12.0))
    count = int(rng.integers(2, 6))
    kinds = tuple(str(kind) for kind in rng.choice(TRIANGLE_KINDS, count, replace=False))
    return Hand(
        name=name,
        size=(size_low, float(min(1.0, size_low + rng.uniform(0.1, 0.35)))),
        spread=float(rng.uniform(0.2, 1.0)),
        stroke_width=(stroke_low, stroke_low + float(rng.uniform(0.5, 4.0))),
        wobble=span(0.004, 0.045, 0.012),
        wobble_wavelength=span(0.3, 2.5, 0.8),
        tremor=(0.0, float(rng.choice([0.0, rng.uniform(0.002, 0.008)]))),
        closure=span(-0.15, 0.2, 0.12),
        stroke_end=span(-0.06, 0.14, 0.08),
        corner_jitter=float(rng.uniform(0.01, 0.06)),
        p_rounded=float(rng.uniform(0.0, 0.7)),
        rounding=span(0.03, 0.35, 0.12),
        p_one_stroke=float(rng.uniform(0.2, 0.9)),
        p_axis_aligned=float(rng.uniform(0.3, 0.95)),
        max_rotation=float(rng.uniform(5.0, 35.0)),
        rect_aspect=span(0.2, 1.0, 0.35),
        p_square=float(rng.uniform(0.0, 0.5)),
        ellipse_aspect=span(0.55, 1.0, 0.2),
        triangle_kinds=kinds,
        point_spacing=span(2.0, 9.0, 2.0),
    )


# --- validation ---------------------------------------------------------------------------------


def _check_shape(shape: object) -> str:
    if not isinstance(shape, str) or shape not in KINDS:
        raise ValueError(f"shape must be one of {', '.join(KINDS)}; got {shape!r}")
    return shape


def _check_rng(rng: object) -> np.random.Generator:
    if not isinstance(rng, np.random.Generator):
        raise TypeError(
            f"rng must be a numpy.random.Generator (np.random.default_rng(seed)), got {rng!r}"
        )
    return rng


def _check_canvas_size(canvas_size: object) -> int:
    if isinstance(canvas_size, bool) or not isinstance(canvas_size, (int, np.integer)):
        raise TypeError(f"canvas_size must be an int of pixels, got {canvas_size!r}")
    if canvas_size < MIN_CANVAS:
        raise ValueError(f"canvas_size must be at least {MIN_CANVAS} px, got {canvas_size!r}")
    return int(canvas_size)


def _check_stroke_width(stroke_width: object) -> float:
    if (
        isinstance(stroke_width, bool)
        or not isinstance(stroke_width, (int, float, np.integer, np.floating))
        or not math.isfinite(stroke_width)
        or stroke_width <= 0
    ):
        raise ValueError(f"stroke_width must be a positive number of px, got {stroke_width!r}")
    return float(stroke_width)


def _resolve_hand(hand: Hand | str | None, rng: np.random.Generator) -> Hand:
    if hand is None:
        names = list(HANDS)
        return HANDS[names[rng.integers(len(names))]]
    if isinstance(hand, Hand):
        return hand
    if isinstance(hand, str) and hand in HANDS:
        return HANDS[hand]
    raise ValueError(f"hand must be a Hand or one of {', '.join(HANDS)}; got {hand!r}")


def _uniform(rng: np.random.Generator, bounds: Range) -> float:
    return float(rng.uniform(bounds[0], bounds[1]))


# --- geometry -----------------------------------------------------------------------------------


def _arc_length(path: np.ndarray) -> np.ndarray:
    """Cumulative length along a polyline, starting at 0."""
    steps = np.hypot(*np.diff(path, axis=0).T)
    return np.concatenate([[0.0], np.cumsum(steps)])


def _resample(path: np.ndarray, step: float, ease: float = 0.0) -> np.ndarray:
    """Points about `step` apart along a polyline.

    With ease > 0 points bunch up near both ends, as a pen slows down where a stroke starts and
    stops (for the mouse points a browser test replays).
    """
    keep = np.concatenate([[True], np.any(np.diff(path, axis=0) != 0, axis=1)])
    path = path[keep]
    arc = _arc_length(path)
    if arc[-1] == 0:
        return path[:1].copy()
    count = max(2, math.ceil(arc[-1] / step) + 1)
    u = np.linspace(0.0, 1.0, count)
    at = arc[-1] * (u - ease * np.sin(2 * np.pi * u) / (2 * np.pi))
    return np.column_stack([np.interp(at, arc, path[:, 0]), np.interp(at, arc, path[:, 1])])


def _trim(path: np.ndarray, start: float, end: float) -> np.ndarray:
    """Cut `start` and `end` length off the two ends of a dense polyline (at most 30% each)."""
    arc = _arc_length(path)
    start, end = min(start, 0.3 * arc[-1]), min(end, 0.3 * arc[-1])
    inside = (arc >= start) & (arc <= arc[-1] - end)
    return path[inside] if inside.sum() >= 2 else path


def _direction(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    length = float(np.hypot(*(b - a)))
    return (b - a) / length if length > 0 else np.zeros(2)


def _round_corners(points: np.ndarray, radii: list[float]) -> np.ndarray:
    """A polyline whose interior vertices with radius > 0 become curves (quadratic Béziers).

    The pen cuts a corner it hurries through; a radius of 0 keeps the corner sharp.
    """
    out = [points[0]]
    for index in range(1, len(points) - 1):
        before, corner, after = points[index - 1], points[index], points[index + 1]
        radius = radii[index - 1]
        if radius <= 0:
            out.append(corner)
            continue
        # Never cut more than 45% of a side, so two rounded ends of one side cannot cross.
        cut_in = min(radius, 0.45 * float(np.hypot(*(corner - before))))
        cut_out = min(radius, 0.45 * float(np.hypot(*(after - corner))))
        enter = corner - _direction(before, corner) * cut_in
        leave = corner + _direction(corner, after) * cut_out
        t = np.linspace(0.0, 1.0, 9)[:, None]
        out.extend((1 - t) ** 2 * enter + 2 * (1 - t) * t * corner + t**2 * leave)
    out.append(points[-1])
    return np.asarray(out, dtype=float)


def _smooth_drift(arc: np.ndarray, rms: float, wavelength: Range, rng) -> np.ndarray:
    """A smooth 2-D displacement along a stroke: a few sine waves with random phases.

    Longer waves get larger amplitudes (as in a person's slow drift), so the outline bends and
    bows rather than buzzes. The RMS is exact in expectation whatever the stroke's length.
    """
    if rms <= 0:
        return np.zeros((len(arc), 2))
    count = 4
    waves = np.exp(rng.uniform(np.log(wavelength[0]), np.log(wavelength[1]), count))
    amplitudes = waves / np.sqrt(np.sum(waves**2))
    phases = rng.uniform(0.0, 2 * np.pi, (count, 2))
    angle = 2 * np.pi * arc[:, None, None] / waves[None, :, None] + phases[None]
    drift = np.sum(amplitudes[None, :, None] * np.sin(angle), axis=1)
    # The squared amplitudes sum to 1, so each axis has an RMS of 1/sqrt(2) and the 2-D
    # displacement an RMS of 1 before scaling.
    return drift * rms


def _rotate(points: np.ndarray, degrees: float) -> np.ndarray:
    angle = math.radians(degrees)
    matrix = np.array([[math.cos(angle), -math.sin(angle)], [math.sin(angle), math.cos(angle)]])
    return points @ matrix.T


def _tilt(hand: Hand, rng: np.random.Generator) -> float:
    """Degrees a rectangle or triangle is turned: mostly near upright, as people draw them."""
    if rng.random() < hand.p_axis_aligned:
        return float(rng.normal(0.0, 2.0))
    return float(rng.uniform(-hand.max_rotation, hand.max_rotation))


# --- outlines (unit size, before the pen's drift) -----------------------------------------------


def _circle_outlines(hand: Hand, rng: np.random.Generator) -> list[np.ndarray]:
    aspect = _uniform(rng, hand.ellipse_aspect)
    radii = np.array([0.5, 0.5 * aspect])
    tilt = rng.uniform(0.0, np.pi)
    # Most people start near the top and go anticlockwise (decreasing angle, y pointing down).
    start = -np.pi / 2 - tilt + rng.normal(0.0, 0.5)
    direction = -1.0 if rng.random() < 0.7 else 1.0
    mean_radius = radii.mean()
    sweep = 2 * np.pi + _uniform(rng, hand.closure) / mean_radius
    count = max(16, int(sweep * mean_radius / _DENSE_STEP))
    theta = start + direction * np.linspace(0.0, sweep, count)
    points = np.column_stack([radii[0] * np.cos(theta), radii[1] * np.sin(theta)])
    return [_rotate(points, math.degrees(tilt))]


def _polygon_strokes(
    corners: np.ndarray, plan: list[list[int]], hand: Hand, rng: np.random.Generator
) -> list[np.ndarray]:
    """Strokes through `corners` in the order of `plan` (lists of corner indices).

    A plan of one stroke that returns to its first corner is a shape closed in one go: its end
    overshoots or falls short of the start. Otherwise each stroke's ends cross past or stop
    short of their corners.
    """
    strokes = []
    closed = len(plan) == 1 and plan[0][0] == plan[0][-1]
    for order in plan:
        points = corners[order]
        radii = []
        for index in range(1, len(points) - 1):
            shorter = min(
                np.hypot(*(points[index] - points[index - 1])),
                np.hypot(*(points[index + 1] - points[index])),
            )
            rounded = rng.random() < hand.p_rounded
            radii.append(_uniform(rng, hand.rounding) * shorter if rounded else 0.0)
        points = _round_corners(points, radii)
        if closed:
            start_extension, end_extension = 0.0, _uniform(rng, hand.closure)
        else:
            start_extension = _uniform(rng, hand.stroke_end)
            end_extension = _uniform(rng, hand.stroke_end)
        if end_extension > 0:
            if closed and rng.random() < 0.5:
                # Carry on along the first side, retracing it ...
                heading = _direction(points[0], points[1])
            else:
                # ... or straight on, crossing the first side at the corner.
                heading = _direction(points[-2], points[-1])
            points = np.vstack([points, points[-1] + heading * end_extension])
        if start_extension > 0:
            heading = _direction(points[1], points[0])
            points = np.vstack([points[0] + heading * start_extension, points])
        dense = _resample(points, _DENSE_STEP)
        strokes.append(_trim(dense, max(0.0, -start_extension), max(0.0, -end_extension)))
    return strokes


def _rectangle_plan(rng: np.random.Generator, one_stroke: bool) -> list[list[int]]:
    # Corners: 0 top-left, 1 top-right, 2 bottom-right, 3 bottom-left.
    if one_stroke:
        first = 0 if rng.random() < 0.6 else int(rng.integers(4))
        step = 1 if rng.random() < 0.6 else -1
        return [[(first + step * k) % 4 for k in range(5)]]
    plans = (
        [[0, 1, 2], [0, 3, 2]],  # top and right, then left and bottom
        [[3, 0, 1], [3, 2, 1]],  # left and top, then bottom and right
        [[0, 1, 2, 3], [0, 3]],  # three sides, then the last
        [[0, 1], [1, 2, 3], [0, 3]],
        [[0, 3], [0, 1, 2], [3, 2]],
        [[0, 1], [0, 3], [1, 2], [3, 2]],  # four sides: top, left, right, bottom
        [[0, 3], [0, 1], [3, 2], [1, 2]],
    )
    return [list(stroke) for stroke in plans[rng.integers(len(plans))]]


def _rectangle_outlines(hand: Hand, rng: np.random.Generator) -> list[np.ndarray]:
    aspect = 1.0 if rng.random() < hand.p_square else _uniform(rng, hand.rect_aspect)
    width, height = (1.0, aspect) if rng.random() < 0.6 else (aspect, 1.0)
    corners = np.array(
        [[-width, -height], [width, -height], [width, height], [-width, height]]
    ) / 2 + rng.normal(0.0, hand.corner_jitter, (4, 2))
    corners = _rotate(corners, _tilt(hand, rng))
    plan = _rectangle_plan(rng, rng.random() < hand.p_one_stroke)
    return _polygon_strokes(corners, plan, hand, rng)


def _triangle_corners(kind: str, rng: np.random.Generator) -> np.ndarray:
    """Apex, bottom-left, bottom-right of a triangle on a unit base (y pointing down)."""
    if kind == "equilateral":
        apex_x, height = 0.5, math.sqrt(3) / 2
    elif kind == "isoceles":
        apex_x, height = 0.5, rng.uniform(0.45, 1.5)
    elif kind == "right":
        apex_x, height = float(rng.choice([0.0, 1.0])), rng.uniform(0.5, 1.3)
    elif kind == "scalene":
        apex_x, height = rng.uniform(0.1, 0.9), rng.uniform(0.45, 1.3)
    else:  # obtuse: the apex beyond one end of the base
        apex_x = rng.uniform(-0.35, -0.1) if rng.random() < 0.5 else rng.uniform(1.1, 1.35)
        height = rng.uniform(0.5, 0.9)
    return np.array([[apex_x, -height], [0.0, 0.0], [1.0, 0.0]])


def _triangle_plan(rng: np.random.Generator, one_stroke: bool) -> list[list[int]]:
    # Corners: 0 apex, 1 bottom-left, 2 bottom-right.
    if one_stroke:
        plans = ([0, 1, 2, 0], [0, 2, 1, 0], [1, 2, 0, 1], [1, 0, 2, 1])
        weights = np.array([0.45, 0.2, 0.2, 0.15])
        return [plans[rng.choice(len(plans), p=weights)]]
    plans = (
        [[1, 0, 2], [1, 2]],  # a caret, then the base
        [[0, 1, 2], [0, 2]],
        [[0, 1], [0, 2], [1, 2]],  # one side at a time
        [[0, 1], [1, 2], [2, 0]],
    )
    return [list(stroke) for stroke in plans[rng.integers(len(plans))]]


def _triangle_outlines(hand: Hand, rng: np.random.Generator) -> list[np.ndarray]:
    kind = hand.triangle_kinds[rng.integers(len(hand.triangle_kinds))]
    corners = _triangle_corners(kind, rng)
    corners = corners - (corners.min(axis=0) + corners.max(axis=0)) / 2
    corners = corners / np.ptp(corners, axis=0).max()
    corners = corners + rng.normal(0.0, hand.corner_jitter, (3, 2))
    corners = _rotate(corners, _tilt(hand, rng))
    plan = _triangle_plan(rng, rng.random() < hand.p_one_stroke)
    return _polygon_strokes(corners, plan, hand, rng)


# --- more kinds: the shape base's corpus ---------------------------------------------------------
#
# Each kind is an outline function like the three above: (hand, rng) -> strokes at unit size,
# dense (_DENSE_STEP apart) and in the order the pen draws them. _make_strokes then adds the
# hand's drift and tremor, sizes and places the drawing and turns it into mouse points.


def _curve(
    centre: tuple[float, float], radii: tuple[float, float], start: float, stop: float
) -> np.ndarray:
    """Points along an elliptical arc from angle `start` to `stop` (degrees; y points down)."""
    theta = np.radians(np.linspace(start, stop, max(8, int(abs(stop - start)))))
    return np.column_stack(
        [centre[0] + radii[0] * np.cos(theta), centre[1] + radii[1] * np.sin(theta)]
    )


def _pen_stroke(points: np.ndarray, hand: Hand, rng: np.random.Generator, *, closed: bool = False):
    """One dense stroke along a curve, with the hand's ends.

    A closed curve (its last point on its first) overshoots by retracing its start or stops
    short of it, as _circle_outlines does; an open one runs on past or stops short of each end.
    """
    dense = _resample(np.asarray(points, dtype=float), _DENSE_STEP)
    if len(dense) < 2:
        return dense
    if closed:
        extension = _uniform(rng, hand.closure)
        if extension <= 0:
            return _trim(dense, 0.0, -extension)
        arc = _arc_length(dense)
        return np.vstack([dense, dense[1:][arc[1:] <= extension]])
    start, end = _uniform(rng, hand.stroke_end), _uniform(rng, hand.stroke_end)
    if end > 0:
        heading = _direction(dense[max(0, len(dense) - 4)], dense[-1])
        dense = np.vstack(
            [dense, _resample(np.array([dense[-1], dense[-1] + heading * end]), _DENSE_STEP)[1:]]
        )
    if start > 0:
        heading = _direction(dense[min(3, len(dense) - 1)], dense[0])
        dense = np.vstack(
            [_resample(np.array([dense[0] + heading * start, dense[0]]), _DENSE_STEP)[:-1], dense]
        )
    return _trim(dense, max(0.0, -start), max(0.0, -end))


def _polyline(points: np.ndarray, hand: Hand, rng: np.random.Generator) -> np.ndarray:
    """One open stroke through the corners `points`, with the hand's corners and ends."""
    return _polygon_strokes(np.asarray(points, dtype=float), [list(range(len(points)))], hand, rng)[
        0
    ]


def _any_angle(rng: np.random.Generator) -> float:
    return float(rng.uniform(0.0, 360.0))


def _cycle_plan(count: int, rng: np.random.Generator, one_stroke: bool) -> list[list[int]]:
    """A plan for a closed polygon of `count` corners: one closed stroke, or 2-4 chains."""
    first = 0 if rng.random() < 0.6 else int(rng.integers(count))
    step = 1 if rng.random() < 0.6 else -1
    if one_stroke:
        return [[(first + step * k) % count for k in range(count + 1)]]
    pieces = int(rng.integers(2, min(4, count) + 1))
    cuts = sorted(int(c) for c in rng.choice(count, pieces, replace=False))
    plan = []
    for index, cut in enumerate(cuts):
        end = cuts[(index + 1) % pieces] + (count if index + 1 == pieces else 0)
        chain = [k % count for k in range(cut, end + 1)]
        plan.append(chain if rng.random() < 0.75 else chain[::-1])
    return plan


def _closed_polygon(corners: np.ndarray, hand: Hand, rng: np.random.Generator, tilt: float):
    # Jitter in proportion to the sides: eight corners jittered as much as a rectangle's four
    # make a blob, not an octagon.
    sides = np.hypot(*(np.roll(corners, -1, axis=0) - corners).T)
    jitter = hand.corner_jitter * min(1.0, float(np.median(sides)) / 0.6)
    corners = corners + rng.normal(0.0, jitter, corners.shape)
    corners = _rotate(corners, tilt)
    plan = _cycle_plan(len(corners), rng, rng.random() < hand.p_one_stroke)
    return _polygon_strokes(corners, plan, hand, rng)


def _ellipse_outlines(hand: Hand, rng: np.random.Generator) -> list[np.ndarray]:
    # Clearly elongated (major / minor 1.5 to 4) at any tilt, and flatter than the same hand's
    # circles ever are: a hand whose circles come out 1.8 : 1 draws its ellipses flatter still.
    low = max(1.5, min(3.0, 1.15 / hand.ellipse_aspect[0]))
    aspect = math.exp(rng.uniform(math.log(low), math.log(4.0)))
    start = float(rng.uniform(0.0, 360.0))
    sweep = 360.0 if rng.random() < 0.3 else -360.0
    points = _curve((0.0, 0.0), (0.5, 0.5 / aspect), start, start + sweep)
    return [_pen_stroke(_rotate(points, _any_angle(rng)), hand, rng, closed=True)]


def _tilt_within(hand: Hand, rng: np.random.Generator, limit: float) -> float:
    """_tilt, but never past `limit` degrees: a square turned 40 degrees is a diamond, a cross
    turned 40 degrees an x."""
    return float(np.clip(_tilt(hand, rng), -limit, limit))


def _square_outlines(hand: Hand, rng: np.random.Generator) -> list[np.ndarray]:
    corners = np.array([[-0.5, -0.5], [0.5, -0.5], [0.5, 0.5], [-0.5, 0.5]])
    # Half the usual corner jitter: a square that comes out 0.8 : 1 is a rectangle.
    corners = corners + rng.normal(0.0, hand.corner_jitter / 2, (4, 2))
    corners = _rotate(corners, _tilt_within(hand, rng, 20.0))
    plan = _rectangle_plan(rng, rng.random() < hand.p_one_stroke)
    return _polygon_strokes(corners, plan, hand, rng)


def _quadrilateral(
    corners: np.ndarray, hand: Hand, rng: np.random.Generator, max_tilt: float = 90.0
) -> list[np.ndarray]:
    """Four corners in the rectangle's order (top-left, top-right, bottom-right, bottom-left)."""
    corners = corners + rng.normal(0.0, hand.corner_jitter, (4, 2))
    corners = _rotate(corners, _tilt_within(hand, rng, max_tilt))
    plan = _rectangle_plan(rng, rng.random() < hand.p_one_stroke)
    return _polygon_strokes(corners, plan, hand, rng)


def _diamond_outlines(hand: Hand, rng: np.random.Generator) -> list[np.ndarray]:
    # A rhombus on its point: top, right, bottom, left; mostly taller than wide.
    half_width = 0.5 * float(rng.uniform(0.5, 1.0))
    corners = np.array([[0.0, -0.5], [half_width, 0.0], [0.0, 0.5], [-half_width, 0.0]])
    return _quadrilateral(corners, hand, rng, max_tilt=10.0)


def _trapezoid_outlines(hand: Hand, rng: np.random.Generator) -> list[np.ndarray]:
    top = float(rng.uniform(0.3, 0.65))
    height = float(rng.uniform(0.4, 0.8))
    shift = float(rng.uniform(-0.15, 0.15))
    corners = np.array(
        [
            [shift - top / 2, -height / 2],
            [shift + top / 2, -height / 2],
            [0.5, height / 2],
            [-0.5, height / 2],
        ]
    )
    if rng.random() < 0.2:  # upside down: the wide side on top
        corners = corners[[3, 2, 1, 0]] * [1, -1]
    return _quadrilateral(corners, hand, rng)


def _parallelogram_outlines(hand: Hand, rng: np.random.Generator) -> list[np.ndarray]:
    shear = float(rng.uniform(0.2, 0.45))
    height = float(rng.uniform(0.35, 0.7))
    corners = np.array(
        [
            [-0.5 + shear, -height / 2],
            [0.5, -height / 2],
            [0.5 - shear, height / 2],
            [-0.5, height / 2],
        ]
    )
    if rng.random() < 0.35:  # leaning the other way
        corners = corners[[1, 0, 3, 2]] * [-1, 1]
    return _quadrilateral(corners, hand, rng)


def _regular_polygon(count: int):
    def outlines(hand: Hand, rng: np.random.Generator) -> list[np.ndarray]:
        # Pentagons stand on a side with a point up; hexagons and octagons either way.
        offset = -90.0 if count % 2 or rng.random() < 0.5 else -90.0 + 180.0 / count
        angles = np.radians(offset + 360.0 * np.arange(count) / count)
        corners = 0.5 * np.column_stack([np.cos(angles), np.sin(angles)])
        return _closed_polygon(corners, hand, rng, _tilt(hand, rng))

    outlines.__name__ = f"_polygon{count}_outlines"
    return outlines


def _star_outlines(points: int):
    def outlines(hand: Hand, rng: np.random.Generator) -> list[np.ndarray]:
        angles = np.radians(-90.0 + 360.0 * np.arange(points) / points)
        tips = 0.5 * np.column_stack([np.cos(angles), np.sin(angles)])
        tilt = _tilt(hand, rng)
        if rng.random() < 0.5:
            # The way most people draw one: tip to tip without lifting the pen (five points),
            # or two overlapping triangles (six).
            tips = _rotate(tips + rng.normal(0.0, hand.corner_jitter, tips.shape), tilt)
            if points == 5:
                start = int(rng.integers(5))
                plan = [[(start + 2 * k) % 5 for k in range(6)]]
            else:
                plan = [[0, 2, 4, 0], [1, 3, 5, 1]]
            return _polygon_strokes(tips, plan, hand, rng)
        # The outline only: tips and the inner corners between them.
        inner = float(rng.uniform(0.35, 0.5) if points == 5 else rng.uniform(0.5, 0.62))
        between = np.radians(-90.0 + 360.0 * (np.arange(points) + 0.5) / points)
        valleys = 0.5 * inner * np.column_stack([np.cos(between), np.sin(between)])
        corners = np.empty((2 * points, 2))
        corners[0::2], corners[1::2] = tips, valleys
        return _closed_polygon(corners, hand, rng, tilt)

    outlines.__name__ = f"_star{points}_outlines"
    return outlines


def _heart_outlines(hand: Hand, rng: np.random.Generator) -> list[np.ndarray]:
    t = np.linspace(0.0, 2 * np.pi, 400)
    width = float(rng.uniform(0.85, 1.2))
    x = width * 16 * np.sin(t) ** 3
    y = -(13 * np.cos(t) - 5 * np.cos(2 * t) - 2 * np.cos(3 * t) - np.cos(4 * t))
    points = _rotate(np.column_stack([x, y]) / 32, _tilt(hand, rng))
    if rng.random() < 0.5:
        # Both halves from the dip at the top down to the point (or the other way).
        half = len(t) // 2
        right, left = points[: half + 1], points[half:][::-1]
        if rng.random() < 0.3:
            right, left = right[::-1], left[::-1]
        return [_pen_stroke(right, hand, rng), _pen_stroke(left, hand, rng)]
    if rng.random() < 0.4:
        points = points[::-1]
    return [_pen_stroke(points, hand, rng, closed=True)]


def _arrow_outlines(hand: Hand, rng: np.random.Generator) -> list[np.ndarray]:
    head = float(rng.uniform(0.2, 0.35))
    spread = math.radians(rng.uniform(25.0, 45.0))
    back = head * np.array([math.cos(spread), math.sin(spread)])
    corners = np.array(
        [[-0.5, 0.0], [0.5, 0.0], [0.5 - back[0], -back[1]], [0.5 - back[0], back[1]]]
    )
    corners = corners + rng.normal(0.0, hand.corner_jitter / 2, (4, 2))
    plans = (
        [[0, 1], [2, 1, 3]],
        [[0, 1, 2], [3, 1]],
        [[0, 1], [2, 1], [3, 1]],
        [[2, 1, 3], [0, 1]],
    )
    plan = [list(p) for p in plans[rng.integers(len(plans))]]
    # Mostly pointing right, some up, down or left, a few at any angle.
    turn = float(rng.choice([0.0, 0.0, 0.0, -90.0, 90.0, 180.0]))
    angle = _any_angle(rng) if rng.random() < 0.25 else turn + _tilt(hand, rng)
    return _polygon_strokes(_rotate(corners, angle), plan, hand, rng)


def _two_bars(hand: Hand, rng: np.random.Generator, angle: float) -> list[np.ndarray]:
    across = float(rng.uniform(0.75, 1.0))
    offset = rng.normal(0.0, 0.06, 2)
    ends = np.array(
        [[-0.5, offset[0]], [0.5, offset[0]], [offset[1], -across / 2], [offset[1], across / 2]]
    )
    ends = _rotate(ends + rng.normal(0.0, hand.corner_jitter / 2, (4, 2)), angle)
    plans = ([[0, 1], [2, 3]], [[2, 3], [0, 1]], [[0, 1], [3, 2]], [[1, 0], [2, 3]])
    plan = [list(p) for p in plans[rng.integers(len(plans))]]
    return _polygon_strokes(ends, plan, hand, rng)


def _cross_outlines(hand: Hand, rng: np.random.Generator) -> list[np.ndarray]:
    return _two_bars(hand, rng, _tilt_within(hand, rng, 15.0))


def _x_mark_outlines(hand: Hand, rng: np.random.Generator) -> list[np.ndarray]:
    return _two_bars(hand, rng, 45.0 + float(rng.normal(0.0, 8.0)))


def _crescent_outlines(hand: Hand, rng: np.random.Generator) -> list[np.ndarray]:
    # Outer arc the long way round from one horn to the other, inner arc back through a point
    # `thickness` in from the outer circle's far side.
    radius, horn = 0.5, math.radians(rng.uniform(25.0, 65.0))
    thickness = float(rng.uniform(0.15, 0.45))
    tip = np.array([radius * math.cos(horn), radius * math.sin(horn)])
    inner_x = -radius + thickness
    centre = (radius**2 - inner_x**2) / (2 * (tip[0] - inner_x))
    inner_radius = centre - inner_x
    opening = math.degrees(math.atan2(tip[1], tip[0] - centre))
    outer = _curve((0.0, 0.0), (radius, radius), -math.degrees(horn), math.degrees(horn) - 360.0)
    inner = _curve((centre, 0.0), (inner_radius, inner_radius), opening, 360.0 - opening)
    angle = _any_angle(rng)
    if rng.random() < hand.p_one_stroke:
        return [_pen_stroke(_rotate(np.vstack([outer, inner]), angle), hand, rng, closed=True)]
    return [
        _pen_stroke(_rotate(outer, angle), hand, rng),
        _pen_stroke(_rotate(inner[::-1], angle), hand, rng),
    ]


def _spiral_outlines(hand: Hand, rng: np.random.Generator) -> list[np.ndarray]:
    turns = float(rng.uniform(2.0, 3.5))
    theta = np.linspace(0.0, 2 * np.pi * turns, int(300 * turns))
    radius = (0.03 + theta / theta[-1]) / 2
    points = np.column_stack([radius * np.cos(theta), radius * np.sin(theta)])
    points = points * [1.0, float(rng.uniform(0.75, 1.0))]
    if rng.random() < 0.5:
        points = points * [-1.0, 1.0]  # the other way round
    if rng.random() < 0.3:
        points = points[::-1]  # from the outside in
    return [_pen_stroke(_rotate(points, _any_angle(rng)), hand, rng)]


def _cloud_outlines(hand: Hand, rng: np.random.Generator) -> list[np.ndarray]:
    # Bumps of uneven widths on a flat ellipse, each as high as it is wide, meeting in cusps.
    bumps = int(rng.integers(5, 10))
    widths = rng.dirichlet(np.full(bumps, 4.0)) * 360.0
    edges = float(rng.uniform(0.0, 360.0)) + np.concatenate([[0.0], np.cumsum(widths)])
    flat = float(rng.uniform(0.5, 0.75))
    parts = []
    for low, high in itertools.pairwise(edges):
        theta = np.linspace(low, high, max(8, int(high - low) * 2))
        lift = 1.0 + 0.006 * (high - low) * np.sin(np.pi * (theta - low) / (high - low))
        rad = np.radians(theta)
        parts.append(np.column_stack([0.5 * lift * np.cos(rad), 0.5 * flat * lift * np.sin(rad)]))
    points = np.vstack(parts)
    if rng.random() < 0.4:
        points = points[::-1]
    return [_pen_stroke(_rotate(points, _tilt(hand, rng)), hand, rng, closed=True)]


def _lightning_outlines(hand: Hand, rng: np.random.Generator) -> list[np.ndarray]:
    tilt = _tilt(hand, rng)
    mirror = np.array([-1.0 if rng.random() < 0.3 else 1.0, 1.0])
    if rng.random() < 0.55:
        # The bolt's outline: down-left, a step right, down-left to the point, and back up.
        step = float(rng.uniform(0.15, 0.28))
        corners = np.array(
            [
                [-0.05, -0.5],
                [0.3, -0.5],
                [0.08, -0.08],
                [0.08 + step, -0.08],
                [-0.25, 0.5],
                [-0.02, 0.06],
                [-0.02 - step, 0.06],
            ]
        )
        return _closed_polygon(corners * mirror, hand, rng, tilt)
    # A single zigzag stroke with three legs.
    width = float(rng.uniform(0.2, 0.32))
    corners = np.array([[width, -0.5], [-width * 0.6, 0.02], [width * 0.6, -0.02], [-width, 0.5]])
    corners = corners + rng.normal(0.0, hand.corner_jitter / 2, corners.shape)
    return [_polyline(_rotate(corners * mirror, tilt), hand, rng)]


def _house_outlines(hand: Hand, rng: np.random.Generator) -> list[np.ndarray]:
    wall = float(rng.uniform(0.6, 1.0))
    roof = float(rng.uniform(0.3, 0.6))
    corners = np.array(
        [[-0.5, 0.0], [0.5, 0.0], [0.5, wall], [-0.5, wall], [float(rng.normal(0.0, 0.05)), -roof]]
    )
    corners = corners + rng.normal(0.0, hand.corner_jitter, corners.shape)
    plans = (
        [[0, 1, 2, 3, 0], [0, 4, 1]],  # the square, then the roof
        [[3, 0, 1, 2, 3], [0, 4, 1]],
        [[3, 0, 4, 1, 2, 3], [0, 1]],  # the outline, then the ceiling
        [[0, 4, 1, 0, 3, 2, 1]],  # all in one go
        [[0, 3, 2, 1], [0, 1], [0, 4, 1]],
    )
    plan = [list(p) for p in plans[rng.integers(len(plans))]]
    tilt = _tilt(hand, rng)
    strokes = _polygon_strokes(_rotate(corners, tilt), plan, hand, rng)
    if rng.random() < 0.35:  # a door
        door_x = float(rng.uniform(-0.3, 0.15))
        door_w = float(rng.uniform(0.15, 0.25))
        door_top = wall * float(rng.uniform(0.35, 0.6))
        door = np.array(
            [
                [door_x, wall],
                [door_x, door_top],
                [door_x + door_w, door_top],
                [door_x + door_w, wall],
            ]
        )
        strokes.append(_polyline(_rotate(door, tilt), hand, rng))
    return strokes


def _semicircle_outlines(hand: Hand, rng: np.random.Generator) -> list[np.ndarray]:
    dome = _curve((0.0, 0.0), (0.5, 0.5 * float(rng.uniform(0.8, 1.0))), 180.0, 360.0)
    angle = _tilt(hand, rng) + (
        float(rng.choice([0.0, 90.0, 180.0, 270.0])) if rng.random() < 0.3 else 0.0
    )
    if rng.random() < hand.p_one_stroke:
        closed = np.vstack([dome, _resample(np.array([dome[-1], dome[0]]), 0.05)[1:]])
        return [_pen_stroke(_rotate(closed, angle), hand, rng, closed=True)]
    base = np.array([dome[0], dome[-1]])
    return [
        _pen_stroke(_rotate(dome, angle), hand, rng),
        _pen_stroke(_rotate(base, angle), hand, rng),
    ]


def _open_stroke_angle(hand: Hand, rng: np.random.Generator) -> float:
    """Mostly across the page, sometimes at any angle."""
    return _any_angle(rng) if rng.random() < 0.25 else _tilt(hand, rng)


def _wavy_line_outlines(hand: Hand, rng: np.random.Generator) -> list[np.ndarray]:
    x = np.linspace(-0.5, 0.5, 400)
    waves = float(rng.uniform(1.5, 4.0))
    height = float(rng.uniform(0.04, 0.12))
    y = height * np.sin(2 * np.pi * waves * x + rng.uniform(0.0, 2 * np.pi))
    return [_pen_stroke(_rotate(np.column_stack([x, y]), _open_stroke_angle(hand, rng)), hand, rng)]


def _zigzag_outlines(hand: Hand, rng: np.random.Generator) -> list[np.ndarray]:
    legs = int(rng.integers(3, 8))
    height = float(rng.uniform(0.08, 0.22))
    x = np.linspace(-0.5, 0.5, legs + 1)
    y = height * np.where(np.arange(legs + 1) % 2, 1.0, -1.0)
    corners = np.column_stack([x, y]) + rng.normal(0.0, hand.corner_jitter / 2, (legs + 1, 2))
    return [_polyline(_rotate(corners, _open_stroke_angle(hand, rng)), hand, rng)]


def _check_mark_outlines(hand: Hand, rng: np.random.Generator) -> list[np.ndarray]:
    corners = np.array([[-0.5, -0.05], [-0.15, 0.35], [0.5, -0.6]])
    corners = corners + rng.normal(0.0, hand.corner_jitter, (3, 2))
    return [_polyline(_rotate(corners, _tilt(hand, rng)), hand, rng)]


def _bezier(start, control, end, count: int = 60) -> np.ndarray:
    t = np.linspace(0.0, 1.0, count)[:, None]
    return (1 - t) ** 2 * np.asarray(start) + 2 * (1 - t) * t * np.asarray(control) + t**2 * end


# A 6: a hook down the left side into a loop at the bottom; a 9 is the same turned half a turn.
_SIX = np.vstack(
    [
        _bezier((0.22, -0.5), (-0.3, -0.42), np.array([-0.28, 0.2])),
        _curve((0.0, 0.22), (0.28, 0.28), 180.0, -170.0),
    ]
)

# Letters and digits as the pen draws them: each a list of strokes in a box 0.7 wide and 1 tall
# (y down), a few corners each or arcs from _curve.
_GLYPHS: dict[str, list[np.ndarray]] = {
    "A": [
        np.array([[-0.35, 0.5], [0.0, -0.5], [0.35, 0.5]]),
        np.array([[-0.19, 0.05], [0.19, 0.05]]),
    ],
    "E": [
        np.array([[0.3, -0.5], [-0.3, -0.5], [-0.3, 0.5], [0.3, 0.5]]),
        np.array([[-0.3, 0.0], [0.2, 0.0]]),
    ],
    "L": [np.array([[-0.3, -0.5], [-0.3, 0.5], [0.3, 0.5]])],
    "M": [np.array([[-0.35, 0.5], [-0.35, -0.5], [0.0, 0.2], [0.35, -0.5], [0.35, 0.5]])],
    "N": [np.array([[-0.3, 0.5], [-0.3, -0.5], [0.3, 0.5], [0.3, -0.5]])],
    "S": [
        np.vstack(
            [
                _curve((0.0, -0.25), (0.3, 0.25), -20.0, -270.0),
                _curve((0.0, 0.25), (0.32, 0.25), -90.0, 160.0),
            ]
        )
    ],
    "T": [np.array([[-0.35, -0.5], [0.35, -0.5]]), np.array([[0.0, -0.5], [0.0, 0.5]])],
    "V": [np.array([[-0.35, -0.5], [0.0, 0.5], [0.35, -0.5]])],
    "W": [np.array([[-0.45, -0.5], [-0.22, 0.5], [0.0, -0.15], [0.22, 0.5], [0.45, -0.5]])],
    "Z": [np.array([[-0.3, -0.5], [0.3, -0.5], [-0.3, 0.5], [0.3, 0.5]])],
    "0": [_curve((0.0, 0.0), (0.32, 0.5), -90.0, -450.0)],
    "2": [
        np.vstack(
            [_curve((0.0, -0.22), (0.3, 0.28), -160.0, 30.0), np.array([[-0.32, 0.5], [0.32, 0.5]])]
        )
    ],
    "3": [
        np.vstack(
            [
                _curve((0.0, -0.25), (0.28, 0.25), -160.0, 90.0),
                _curve((0.0, 0.25), (0.3, 0.25), -90.0, 160.0),
            ]
        )
    ],
    "5": [
        np.vstack(
            [
                np.array([[-0.25, -0.5], [-0.28, -0.05]]),
                _curve((0.0, 0.2), (0.3, 0.3), -125.0, 155.0),
            ]
        ),
        np.array([[-0.25, -0.5], [0.3, -0.5]]),
    ],
    "7": [np.array([[-0.3, -0.5], [0.3, -0.5], [-0.1, 0.5]])],
    "8": [
        np.column_stack(
            [
                0.27 * np.sin(2 * np.linspace(0, 2 * np.pi, 300)),
                -0.5 * np.cos(np.linspace(0, 2 * np.pi, 300)),
            ]
        )
    ],
    "H": [
        np.array([[-0.3, -0.5], [-0.3, 0.5]]),
        np.array([[0.3, -0.5], [0.3, 0.5]]),
        np.array([[-0.3, 0.0], [0.3, 0.0]]),
    ],
    "K": [
        np.array([[-0.3, -0.5], [-0.3, 0.5]]),
        np.array([[0.3, -0.5], [-0.27, 0.05], [0.3, 0.5]]),
    ],
    "U": [np.vstack([[-0.3, -0.5], _curve((0.0, 0.2), (0.3, 0.3), 180.0, 0.0), [0.3, -0.5]])],
    "Y": [
        np.array([[-0.32, -0.5], [0.0, 0.0]]),
        np.array([[0.32, -0.5], [0.0, 0.0], [0.0, 0.5]]),
    ],
    "1": [np.array([[-0.2, -0.28], [0.05, -0.5], [0.05, 0.5]])],
    "4": [
        np.array([[0.1, -0.5], [-0.32, 0.2], [0.32, 0.2]]),
        np.array([[0.15, -0.15], [0.15, 0.5]]),
    ],
    "6": [_SIX],
    "9": [-_SIX[::-1]],
}


def _glyph_outlines(glyph: str):
    def outlines(hand: Hand, rng: np.random.Generator) -> list[np.ndarray]:
        # Handwriting: a little wider or narrower, slanted, a little turned.
        stretch = np.array([float(rng.uniform(0.8, 1.25)), 1.0])
        slant = float(rng.normal(0.1, 0.12))
        tilt = float(rng.normal(0.0, 4.0))
        strokes = []
        for points in _GLYPHS[glyph]:
            shaped = points * stretch
            shaped = shaped + np.column_stack([-slant * shaped[:, 1], np.zeros(len(shaped))])
            if len(points) <= 6:
                shaped = shaped + rng.normal(0.0, hand.corner_jitter / 2, shaped.shape)
                strokes.append(_polyline(_rotate(shaped, tilt), hand, rng))
            else:
                closed = bool(np.allclose(points[0], points[-1]))
                strokes.append(_pen_stroke(_rotate(shaped, tilt), hand, rng, closed=closed))
        return strokes

    outlines.__name__ = f"_glyph_{glyph}_outlines"
    return outlines


# --- non-shapes: what "not sure" must catch -----------------------------------------------------


def _line_outlines(hand: Hand, rng: np.random.Generator) -> list[np.ndarray]:
    line = np.array([[-0.5, 0.0], [0.5, 0.0]])
    return [_pen_stroke(_rotate(line, _any_angle(rng)), hand, rng)]


def _dot_outlines(hand: Hand, rng: np.random.Generator) -> list[np.ndarray]:
    # A tap, or a tiny jiggle of the pen (the drawing's size is set by _KIND_SIZE).
    if rng.random() < 0.4:
        return [np.zeros((1, 2))]
    return [_resample(rng.normal(0.0, 0.5, (int(rng.integers(2, 5)), 2)), _DENSE_STEP)]


def _scribble_outlines(hand: Hand, rng: np.random.Generator) -> list[np.ndarray]:
    t = np.linspace(0.0, 1.0, 3000)
    strokes = []
    for _ in range(1 if rng.random() < 0.75 else 2):
        # The hand wanders slowly while the pen loops or hatches fast around it.
        centre = np.zeros((len(t), 2))
        for _ in range(3):
            frequency = rng.uniform(0.3, 1.5)
            centre += rng.uniform(0.1, 0.3) * np.sin(
                2 * np.pi * (frequency * t[:, None] + rng.uniform(0.0, 1.0, 2))
            )
        loops = rng.uniform(5.0, 16.0)
        size = rng.uniform(0.08, 0.25) * (1 + 0.5 * np.sin(2 * np.pi * rng.uniform(0.5, 2) * t))
        phase = 2 * np.pi * loops * t
        if rng.random() < 0.65:
            wiggle = np.column_stack([np.cos(phase), rng.uniform(0.5, 1.0) * np.sin(phase)])
        else:  # hatching back and forth
            wiggle = np.column_stack([np.sin(phase), 0.15 * np.sin(3.1 * phase)])
        wiggle = _rotate(wiggle, _any_angle(rng))
        strokes.append(_resample(centre + size[:, None] * wiggle, _DENSE_STEP))
    return strokes


def _half_drawn_outlines(hand: Hand, rng: np.random.Generator) -> list[np.ndarray]:
    """A circle, rectangle or triangle given up on after 30-70% of its outline."""
    whole = _OUTLINES[SHAPES[rng.integers(len(SHAPES))]](hand, rng)
    left = float(rng.uniform(0.3, 0.7)) * sum(_arc_length(s)[-1] for s in whole)
    strokes = []
    for stroke in whole:
        arc = _arc_length(stroke)
        if arc[-1] >= left:
            strokes.append(stroke[arc <= max(left, arc[1])])
            break
        strokes.append(stroke)
        left -= arc[-1]
    return strokes


# Kinds drawn small side by side in "several".
_SMALL_KINDS = (
    "circle",
    "rectangle",
    "triangle",
    "square",
    "diamond",
    "star5",
    "heart",
    "cross",
    "pentagon",
    "ellipse",
    "arrow",
    "crescent",
)


def _several_outlines(hand: Hand, rng: np.random.Generator) -> list[np.ndarray]:
    """Two to four small shapes in the cells of a 2 x 2 grid."""
    count = int(rng.integers(2, 5))
    cells = rng.permutation(4)[:count]
    strokes = []
    for cell in cells:
        kind = _SMALL_KINDS[rng.integers(len(_SMALL_KINDS))]
        parts = _OUTLINES[kind](hand, rng)
        points = np.vstack(parts)
        low, high = points.min(axis=0), points.max(axis=0)
        scale = float(rng.uniform(0.55, 0.85)) * 0.5 / max(float(np.max(high - low)), 1e-9)
        centre = np.array([cell % 2, cell // 2]) * 0.5 + 0.25 + rng.normal(0.0, 0.03, 2)
        strokes.extend((part - (low + high) / 2) * scale + centre for part in parts)
    return strokes


_OUTLINES = {
    "circle": _circle_outlines,
    "rectangle": _rectangle_outlines,
    "triangle": _triangle_outlines,
    "ellipse": _ellipse_outlines,
    "square": _square_outlines,
    "diamond": _diamond_outlines,
    "trapezoid": _trapezoid_outlines,
    "parallelogram": _parallelogram_outlines,
    "pentagon": _regular_polygon(5),
    "hexagon": _regular_polygon(6),
    "octagon": _regular_polygon(8),
    "star5": _star_outlines(5),
    "star6": _star_outlines(6),
    "heart": _heart_outlines,
    "arrow": _arrow_outlines,
    "cross": _cross_outlines,
    "x_mark": _x_mark_outlines,
    "crescent": _crescent_outlines,
    "semicircle": _semicircle_outlines,
    "spiral": _spiral_outlines,
    "cloud": _cloud_outlines,
    "lightning": _lightning_outlines,
    "house": _house_outlines,
    "wavy_line": _wavy_line_outlines,
    "zigzag": _zigzag_outlines,
    "check_mark": _check_mark_outlines,
    **{
        (f"digit_{glyph}" if glyph.isdigit() else f"letter_{glyph}"): _glyph_outlines(glyph)
        for glyph in _GLYPHS
    },
    "line": _line_outlines,
    "dot": _dot_outlines,
    "scribble": _scribble_outlines,
    "half_drawn": _half_drawn_outlines,
    "several": _several_outlines,
}

# Every kind synth can draw, by name: an outline function (hand, rng) -> list of (N, 2) strokes
# at unit size. The three SHAPES come first.
KINDS: dict[str, Callable[[Hand, np.random.Generator], list[np.ndarray]]] = dict(_OUTLINES)

# Kinds that are no shape at all: what a model should answer "not sure" to.
NON_SHAPES: tuple[str, ...] = ("line", "dot", "scribble", "half_drawn", "several")

# Kinds that differ only in aspect ratio, a rotation or a detail, grouped so that a whole group
# can be held out of a corpus (every kind is in exactly one family).
KIND_FAMILIES: dict[str, tuple[str, ...]] = {
    "round": ("circle", "ellipse", "digit_0"),
    "quadrilateral": ("rectangle", "square", "diamond", "trapezoid", "parallelogram"),
    "triangle": ("triangle",),
    "polygon": ("pentagon", "hexagon", "octagon"),
    "star": ("star5", "star6"),
    "heart": ("heart",),
    "arrow": ("arrow",),
    "cross": ("cross", "x_mark"),
    "crescent": ("crescent",),
    "semicircle": ("semicircle",),
    "spiral": ("spiral",),
    "cloud": ("cloud",),
    "lightning": ("lightning",),
    "house": ("house",),
    "wave": ("wavy_line", "zigzag"),
    "check": ("check_mark", "letter_V"),
    "letter_A": ("letter_A",),
    "letter_E": ("letter_E",),
    "letter_L_digit_7": ("letter_L", "digit_7"),  # a 7 is an L turned half a turn
    "letter_M_W": ("letter_M", "letter_W"),  # a W is an M upside down
    "letter_N_Z_digit_2": ("letter_N", "letter_Z", "digit_2"),  # N is Z turned a quarter
    "letter_S_digit_5": ("letter_S", "digit_5"),
    "letter_H": ("letter_H",),
    "letter_K": ("letter_K",),
    "letter_U": ("letter_U",),
    "letter_Y": ("letter_Y",),
    "digit_1": ("digit_1",),
    "digit_4": ("digit_4",),
    "digit_6_9": ("digit_6", "digit_9"),  # a 9 is a 6 turned half a turn
    "letter_T": ("letter_T",),
    "digit_3_8": ("digit_3", "digit_8"),
    "line": ("line",),
    "dot": ("dot",),
    "scribble": ("scribble",),
    "half_drawn": ("half_drawn",),
    "several": ("several",),
}

# Drawings whose size on the canvas is not the hand's: a dot is a few px whoever draws it
# (longer side as a fraction of the canvas).
_KIND_SIZE: dict[str, Range] = {"dot": (0.01, 0.04)}


# --- strokes ------------------------------------------------------------------------------------


def _make_strokes(
    shape: str, rng: np.random.Generator, hand: Hand, canvas_size: int, margin: float
) -> list[np.ndarray]:
    """Outline, then the pen's drift, then size and place on the canvas, then mouse points."""
    outlines = _OUTLINES[shape](hand, rng)
    drifted = []
    for outline in outlines:
        arc = _arc_length(outline)
        drift = _smooth_drift(arc, _uniform(rng, hand.wobble), hand.wobble_wavelength, rng)
        shake = _smooth_drift(arc, _uniform(rng, hand.tremor), _TREMOR_WAVELENGTH, rng)
        drifted.append(outline + drift + shake)

    everything = np.vstack(drifted)
    low, high = everything.min(axis=0), everything.max(axis=0)
    room = canvas_size - 2 * margin
    span = min(_uniform(rng, _KIND_SIZE.get(shape, hand.size)) * canvas_size, room)
    scale = span / max(float(np.max(high - low)), 1e-9)
    extent = (high - low) * scale
    # Place the drawing: centred when spread is 0, anywhere it fits when spread is 1.
    free = np.maximum(room - extent, 0.0)
    where = 0.5 + hand.spread * (rng.uniform(0.0, 1.0, 2) - 0.5)
    origin = margin + free * where

    pixels = canvas_size / REFERENCE_CANVAS
    spacing = _uniform(rng, hand.point_spacing) * pixels
    strokes = []
    for outline in drifted:
        placed = (outline - low) * scale + origin
        points = _resample(placed, spacing, ease=float(rng.uniform(0.2, 0.5)))
        strokes.append(np.clip(points, 0.0, np.nextafter(canvas_size, 0)))
    return strokes


def shape_strokes(
    shape: str,
    rng: np.random.Generator,
    *,
    hand: Hand | str | None = None,
    canvas_size: int = REFERENCE_CANVAS,
) -> list[np.ndarray]:
    """The strokes of one drawing, as a person's pen would move.

    A list of (N, 2) float arrays of x, y canvas coordinates, points a few px apart, inside
    [0, canvas_size). Browser tests replay them as mouse moves on a real drawing canvas. The
    strokes keep clear of the edges by half the hand's widest stroke, so they fit at any of its
    widths. hand=None picks one of HANDS at random (from rng).
    """
    _check_shape(shape)
    _check_rng(rng)
    canvas_size = _check_canvas_size(canvas_size)
    hand = _resolve_hand(hand, rng)
    margin = hand.stroke_width[1] * canvas_size / REFERENCE_CANVAS / 2 + 1
    return _make_strokes(shape, rng, hand, canvas_size, margin)


# --- rendering ----------------------------------------------------------------------------------


def _check_strokes(strokes: object) -> list[np.ndarray]:
    if not isinstance(strokes, (list, tuple)):
        raise TypeError(f"strokes must be a list of (N, 2) arrays, got {type(strokes).__name__}")
    checked = []
    for index, stroke in enumerate(strokes):
        array = np.asarray(stroke, dtype=float)
        if array.ndim != 2 or array.shape[1] != 2 or len(array) == 0:
            raise ValueError(
                f"strokes[{index}] must be an (N, 2) array of x, y with N >= 1, "
                f"got shape {array.shape}"
            )
        if not np.all(np.isfinite(array)):
            raise ValueError(f"strokes[{index}] must be finite, got {array!r}")
        checked.append(array)
    return checked


def render_strokes(
    strokes: list[np.ndarray],
    *,
    canvas_size: int = REFERENCE_CANVAS,
    stroke_width: float = 8.0,
) -> Image.Image:
    """Black round-capped, round-joined, anti-aliased strokes on white; RGB, canvas_size square."""
    strokes = _check_strokes(strokes)
    canvas_size = _check_canvas_size(canvas_size)
    stroke_width = _check_stroke_width(stroke_width)
    big = canvas_size * _SUPERSAMPLE
    image = Image.new("L", (big, big), 255)
    pen = ImageDraw.Draw(image)
    radius = stroke_width * _SUPERSAMPLE / 2
    for stroke in strokes:
        # Canvas coordinates are continuous (pixel i spans [i, i + 1)); pixel j of the large
        # image is centred at j + 0.5 in PIL's drawing, hence the half-pixel shift.
        points = stroke * _SUPERSAMPLE - 0.5
        if len(points) > 1:
            pen.line([tuple(p) for p in points], fill=0, width=max(1, round(2 * radius)))
        # A disc at every point gives round caps and round joins.
        for x, y in points:
            pen.ellipse([x - radius, y - radius, x + radius, y + radius], fill=0)
    small = image.resize((canvas_size, canvas_size), Image.Resampling.BOX)
    return small.convert("RGB")


def render_canvas_rgba(
    strokes: list[np.ndarray],
    canvas_size: int = REFERENCE_CANVAS,
    stroke_width: float = 8.0,
) -> np.ndarray:
    """The (H, W, 4) uint8 array streamlit-drawable-canvas returns for these strokes.

    With a white background the canvas is opaque (alpha 255 everywhere) and the ink is in RGB.
    """
    rgb = np.asarray(render_strokes(strokes, canvas_size=canvas_size, stroke_width=stroke_width))
    alpha = np.full((*rgb.shape[:2], 1), 255, dtype=np.uint8)
    return np.concatenate([rgb, alpha], axis=2)


def render_stroke_file(
    path: str | os.PathLike, *, canvas_size: int | None = None, stroke_width: float = 8.0
) -> Image.Image:
    """A saved drawing rendered again from the strokes kept beside it (`<name>.json`, see
    shapecnn.strokes), at another canvas size or stroke width; RGB, canvas_size square."""
    from shapecnn.strokes import render_stroke_file as render

    return render(path, canvas_size=canvas_size, stroke_width=stroke_width)


def draw_shape(
    shape: str,
    rng: np.random.Generator,
    *,
    hand: Hand | str | None = None,
    canvas_size: int = REFERENCE_CANVAS,
    stroke_width: float | None = None,
) -> Image.Image:
    """One drawing of `shape`: shape_strokes rendered with the hand's stroke width.

    stroke_width=None draws it from the hand (scaled to the canvas); hand=None picks one of
    HANDS at random (from rng).
    """
    _check_shape(shape)
    _check_rng(rng)
    canvas_size = _check_canvas_size(canvas_size)
    if stroke_width is not None:
        stroke_width = _check_stroke_width(stroke_width)
    hand = _resolve_hand(hand, rng)
    if stroke_width is None:
        stroke_width = _uniform(rng, hand.stroke_width) * canvas_size / REFERENCE_CANVAS
    strokes = _make_strokes(shape, rng, hand, canvas_size, margin=stroke_width / 2 + 1)
    return render_strokes(strokes, canvas_size=canvas_size, stroke_width=stroke_width)


# --- the shape base's corpus ---------------------------------------------------------------------

# The corpus renders only the drawing's box, at most this many px on its longer side and
# supersampled this many times: after preprocess shrinks it to 24 px it looks as draw_shape's
# full canvas does (see test_corpus_drawings_look_like_draw_shape), at a fraction of the cost.
_CORPUS_PX = 160
_CORPUS_SUPERSAMPLE = 3


def _kind_key(kind: str) -> int:
    """A number for seeding that stays the kind's own whatever kinds are added: the starter
    shapes keep their place in SHAPES (as the starter data was made), the others a CRC of the name.
    """
    return SHAPES.index(kind) if kind in SHAPES else zlib.crc32(kind.encode())


def _render_ink_box(strokes: list[np.ndarray], stroke_width: float) -> np.ndarray:
    """Grayscale uint8 render (white paper) of just the box around the strokes' ink.

    Shrunk so its longer side is at most _CORPUS_PX, never enlarged: preprocess crops to the
    ink anyway, so what lies outside the box and the box's scale do not change its output.
    """
    points = np.vstack(strokes)
    radius = stroke_width / 2
    # On whole pixels, so a drawing small enough to render at scale 1 is draw_shape's pixels.
    low = np.floor(points.min(axis=0) - radius - 2)
    extent = points.max(axis=0) + radius + 2 - low
    scale = min(1.0, _CORPUS_PX / float(extent.max()))
    width, height = (int(v) for v in np.ceil(extent * scale))
    big = _CORPUS_SUPERSAMPLE
    image = Image.new("L", (width * big, height * big), 255)
    pen = ImageDraw.Draw(image)
    dot = radius * scale * big
    for stroke in strokes:
        # As in render_strokes: pixel j of the large image is centred at j + 0.5.
        placed = (stroke - low) * (scale * big) - 0.5
        if len(placed) > 1:
            pen.line([tuple(p) for p in placed], fill=0, width=max(1, round(2 * dot)))
        for x, y in placed:
            pen.ellipse([x - dot, y - dot, x + dot, y + dot], fill=0)
    return np.asarray(image.resize((width, height), Image.Resampling.BOX))


def _check_kinds(kinds: object) -> tuple[str, ...]:
    if isinstance(kinds, str) or not isinstance(kinds, Iterable):
        raise TypeError(f"kinds must be a list of names from KINDS, got {kinds!r}")
    kinds = tuple(kinds)
    unknown = [kind for kind in kinds if not isinstance(kind, str) or kind not in KINDS]
    if not kinds or unknown or len(set(kinds)) != len(kinds):
        raise ValueError(
            f"kinds must be distinct names from {', '.join(KINDS)}; got {kinds!r}"
            + (f" ({unknown[0]!r} is not a kind synth can draw)" if unknown else "")
        )
    return kinds


def corpus(
    kinds: Iterable[str] = tuple(KINDS),
    per_kind: int = 100,
    seed: int = 0,
    *,
    hands: Iterable[Hand | str] | None = None,
    random_hands: float = 0.5,
    canvas_sizes: Iterable[int] = (140, 280, 400),
    stroke_widths: Range | None = None,
    config=None,
) -> tuple[np.ndarray, np.ndarray]:
    """per_kind drawings of each kind, preprocessed: (inputs, labels), grouped by kind.

    inputs is float32 (N, size, size, channels), what shapecnn.preprocess.preprocess gives for
    each drawing (config: its PreprocessConfig, default the models' default); labels is int64
    (N,), each drawing's index in `kinds`. Shuffle before training.

    Each drawing is by a fresh random_hand (a share `random_hands` of them) or by one of `hands`
    (None: all of HANDS), on a canvas of a size picked from canvas_sizes, with a stroke width
    from the hand (or from stroke_widths, px on a 280 px canvas), both scaled with the canvas as
    draw_shape does. The same seed gives the same arrays; a kind's drawings do not depend on
    which other kinds are asked for. At 3 channels a drawing takes 6.9 kB: for a large corpus
    pass PreprocessConfig(channels=1) and repeat the channel when feeding the network.
    """
    kinds = _check_kinds(kinds)
    if isinstance(per_kind, bool) or not isinstance(per_kind, (int, np.integer)) or per_kind < 1:
        raise ValueError(f"per_kind must be a positive int, got {per_kind!r}")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative int, got {seed!r}")
    if (
        isinstance(random_hands, bool)
        or not isinstance(random_hands, (int, float, np.floating))
        or not 0.0 <= random_hands <= 1.0
    ):
        raise ValueError(f"random_hands must be a share in [0, 1], got {random_hands!r}")
    hand_list = _check_hands(hands)
    sizes = [canvas_sizes] if isinstance(canvas_sizes, (int, np.integer)) else list(canvas_sizes)
    if not sizes:
        raise ValueError(f"canvas_sizes must be a non-empty list of ints, got {canvas_sizes!r}")
    sizes = [_check_canvas_size(size) for size in sizes]
    if stroke_widths is not None:
        widths = tuple(stroke_widths) if isinstance(stroke_widths, Iterable) else ()
        numbers = all(
            isinstance(w, (int, float, np.integer, np.floating)) and not isinstance(w, bool)
            for w in widths
        )
        if len(widths) != 2 or not numbers or not 0 < widths[0] <= widths[1] < math.inf:
            raise ValueError(
                f"stroke_widths must be a (low, high) range of px > 0, got {stroke_widths!r}"
            )
    # Imported here so that drawing shapes needs nothing beyond numpy and pillow.
    from shapecnn.preprocess import DEFAULT_CONFIG, preprocess

    config = DEFAULT_CONFIG if config is None else config
    inputs = np.empty((len(kinds) * per_kind, config.size, config.size, config.channels), "f4")
    labels = np.repeat(np.arange(len(kinds), dtype=np.int64), per_kind)
    for label, kind in enumerate(kinds):
        key = _kind_key(kind)
        for index in range(per_kind):
            rng = np.random.default_rng([seed, key, index])
            if rng.random() < random_hands:
                hand = random_hand(rng)
            else:
                hand = hand_list[rng.integers(len(hand_list))]
            canvas_size = sizes[rng.integers(len(sizes))]
            width = _uniform(rng, hand.stroke_width if stroke_widths is None else widths)
            width *= canvas_size / REFERENCE_CANVAS
            strokes = _make_strokes(kind, rng, hand, canvas_size, margin=width / 2 + 1)
            inputs[label * per_kind + index] = preprocess(_render_ink_box(strokes, width), config)
    return inputs, labels


# --- datasets -----------------------------------------------------------------------------------


def _check_classes(classes: object) -> tuple[str, ...]:
    if isinstance(classes, str) or not isinstance(classes, Iterable):
        raise TypeError(f"classes must be a list of kind names from KINDS, got {classes!r}")
    classes = tuple(classes)
    unknown = [name for name in classes if not isinstance(name, str) or name not in KINDS]
    if not classes or unknown or len(set(classes)) != len(classes):
        raise ValueError(
            f"classes must be distinct names from {', '.join(KINDS)}; got {classes!r}"
            + (f" ({unknown[0]!r} is not a kind synth can draw)" if unknown else "")
        )
    return classes


def _check_hands(hands: object) -> list[Hand]:
    """The hands to take turns: all of HANDS for None, else Hands or names of HANDS."""
    if hands is None:
        return list(HANDS.values())
    if isinstance(hands, (str, Hand)):
        hands = [hands]
    given = list(hands) if isinstance(hands, Iterable) else [hands]
    known = [isinstance(h, Hand) or (isinstance(h, str) and h in HANDS) for h in given]
    if not given or not all(known):
        raise ValueError(
            f"hands must be a non-empty list of Hands or names from {', '.join(HANDS)}; "
            f"got {hands!r}"
        )
    return [hand if isinstance(hand, Hand) else HANDS[hand] for hand in given]


def synth_dataset(
    root: str | os.PathLike,
    *,
    per_class: int = 20,
    seed: int = 0,
    classes: Iterable[str] = SHAPES,
    hands: Iterable[Hand | str] | None = None,
    canvas_size: int = REFERENCE_CANVAS,
    test_fraction: float = 0.25,
) -> dict[str, dict[str, int]]:
    """Write per_class drawings of each class into root/train/<class>/ and root/test/<class>/.

    classes are names from KINDS (the three SHAPES unless told). About test_fraction of each
    class goes to test (20 -> 15 train + 5 test). The hands take turns, so each class gets about
    the same number of drawings from each. The pixels are the same for a given seed (file names
    are not), and a class's drawings do not depend on the other classes asked for. Returns
    {class: {"train": n, "test": n}}.
    """
    classes = _check_classes(classes)
    if isinstance(per_class, bool) or not isinstance(per_class, (int, np.integer)):
        raise TypeError(f"per_class must be a positive int, got {per_class!r}")
    if per_class < 1:
        raise ValueError(f"per_class must be a positive int, got {per_class!r}")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative int, got {seed!r}")
    if (
        isinstance(test_fraction, bool)
        or not isinstance(test_fraction, (int, float, np.floating))
        or not 0.0 <= test_fraction < 1.0
    ):
        raise ValueError(f"test_fraction must be in [0, 1), got {test_fraction!r}")
    canvas_size = _check_canvas_size(canvas_size)
    hands = _check_hands(hands)

    # Imported here so that drawing shapes needs nothing beyond numpy and pillow.
    from shapecnn.dataset import save_image

    # Round half up: 0.25 of 20 is exactly 5, and 0.25 of 2 is 1 rather than banker's 0.
    # Keep at least one drawing for training.
    test_count = min(per_class - 1, math.floor(per_class * test_fraction + 0.5))
    counts = {}
    for label in classes:
        # Seeded by the class itself, not its place in `classes`, so a circle is the same circle
        # whichever other classes are asked for.
        class_seed = [seed, _kind_key(label)]
        order = np.random.default_rng(class_seed)
        in_test = set(order.permutation(per_class)[:test_count].tolist())
        first_hand = int(order.integers(len(hands)))
        for index in range(per_class):
            rng = np.random.default_rng([*class_seed, index])
            hand = hands[(first_hand + index) % len(hands)]
            image = draw_shape(label, rng, hand=hand, canvas_size=canvas_size)
            save_image(root, "test" if index in in_test else "train", label, image)
        counts[label] = {"train": per_class - len(in_test), "test": len(in_test)}
    return counts
