"""How far training varies a drawing, and those variations drawn without TensorFlow.

The default recipe shows the head a few mildly varied copies of every training drawing; the
`scratch` recipe varies every drawing anew each epoch, more strongly (shapecnn.augment, inside
its traced training step). Both draw their random parameters from here, and the page's preview
of what training makes of a drawing uses the same parameters with PIL, so the page's process
never imports TensorFlow.
"""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageFilter

# "strong" is what the tutorial CNN trains with from scratch; "mild" is for training from the
# shape base: a turn or a stretch stays small, because a user's own classes may differ by just
# that (a square and a diamond, a circle and an ellipse).
STRENGTHS = {
    "strong": {"rotation": 20.0, "zoom": 0.2, "stretch": 0.2, "shear": 0.15, "shift": 0.1},
    "mild": {"rotation": 6.0, "zoom": 0.1, "stretch": 0.05, "shear": 0.05, "shift": 0.06},
}


def random_affine(rng: np.random.Generator, strength: str, width: int, height: int) -> list:
    """One random output-to-input map [a0, a1, a2, b0, b1, b2, 0, 0] about the image's centre:
    input (x, y) = (a0 x + a1 y + a2, b0 x + b1 y + b2), as keras.ops.image.affine_transform and
    PIL's Image.transform(AFFINE) take it."""
    limits = STRENGTHS[strength]
    angle = np.radians(rng.uniform(-limits["rotation"], limits["rotation"]))
    scale = np.exp(rng.uniform(-1, 1) * np.log1p(limits["zoom"]))
    aspect = np.exp(rng.uniform(-1, 1) * np.log1p(limits["stretch"]))
    shear = rng.uniform(-limits["shear"], limits["shear"])
    shift = rng.uniform(-limits["shift"], limits["shift"], 2) * (width, height)
    sx, sy = scale * aspect, scale / aspect
    cos, sin = np.cos(angle), np.sin(angle)
    forward = np.array([[cos * sx, (cos * shear - sin) * sy], [sin * sx, (sin * shear + cos) * sy]])
    inverse = np.linalg.inv(forward)
    centre = np.array([(width - 1) / 2, (height - 1) / 2])
    offset = centre - inverse @ (centre + shift)
    return [*inverse[0], offset[0], *inverse[1], offset[1], 0.0, 0.0]


def preview(model_input: np.ndarray, count: int = 8, seed: int = 0, strength: str = "mild"):
    """`count` varied versions of one preprocessed drawing (H x W x C, paper 1.0), as training
    sees them: count x H x W x C in [0, 1]."""
    rng = np.random.default_rng(seed)
    gray = Image.fromarray(np.asarray(model_input, np.float32)[:, :, 0], mode="F")
    height, width = model_input.shape[:2]
    versions = []
    for index in range(count):
        data = random_affine(rng, strength, width, height)[:6]
        moved = gray.transform(
            (width, height), Image.Transform.AFFINE, data, Image.Resampling.BILINEAR, fillcolor=1.0
        )
        if index % 2:  # every other one with thicker strokes (ink is dark: a min filter)
            moved = moved.filter(ImageFilter.MinFilter(3))
        versions.append(np.asarray(moved, np.float32))
    stacked = np.clip(np.stack(versions), 0.0, 1.0)[..., None]
    return np.repeat(stacked, model_input.shape[2], axis=3)
