"""Hand-drawn-looking shapes: the starter dataset, test drawings and "strangers" for benchmarks.

A drawing is made the way a person makes one. The pen follows an ideal outline (an ellipse, a
rectangle, a triangle) but drifts slowly away from it, lifts between strokes, overshoots or falls
short where a stroke ends, and rounds the corners it hurries through. A `Hand` holds the ranges of
all of these, so a model trained on some hands can be tested on a hand it has never seen: that is
how the benchmarks stand in for the stranger who draws differently from the author.

Only numpy and pillow are needed; the dataset module is imported when files are written.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable
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
    if shape not in SHAPES:
        raise ValueError(f"shape must be one of {', '.join(SHAPES)}; got {shape!r}")
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


_OUTLINES = {
    "circle": _circle_outlines,
    "rectangle": _rectangle_outlines,
    "triangle": _triangle_outlines,
}


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
    span = min(_uniform(rng, hand.size) * canvas_size, room)
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


# --- datasets -----------------------------------------------------------------------------------


def _check_classes(classes: object) -> tuple[str, ...]:
    if isinstance(classes, str) or not isinstance(classes, Iterable):
        raise TypeError(f"classes must be a list of shape names from {SHAPES}, got {classes!r}")
    classes = tuple(classes)
    unknown = [name for name in classes if name not in SHAPES]
    if not classes or unknown or len(set(classes)) != len(classes):
        raise ValueError(
            f"classes must be distinct names from {', '.join(SHAPES)}; got {classes!r}"
            + (f" ({unknown[0]!r} is not a shape synth can draw)" if unknown else "")
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

    About test_fraction of each class goes to test (20 -> 15 train + 5 test). The hands take
    turns, so each class gets about the same number of drawings from each. The pixels are the
    same for a given seed (file names are not). Returns {class: {"train": n, "test": n}}.
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
        # Seeded by the class's place in SHAPES, not in `classes`, so a circle is the same circle
        # whichever other classes are asked for.
        class_seed = [seed, SHAPES.index(label)]
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
