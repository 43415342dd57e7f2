"""On-the-fly augmentation of preprocessed drawings, as Keras layers.

A stranger draws at another slant, size, aspect and stroke width than the person who drew the
training data. These layers show the network such variations of every drawing, differently each
epoch. They run on whole batches inside the traced training step (on the CPU, in the training
process, never in the page's) and never write files.

Keras' own RandomRotation, RandomZoom and RandomTranslation each resample the batch once; one
composed affine map per drawing does all of it in a single resampling: about five times faster
in our training runs, and one interpolation blurs a thin stroke less than three. The resampling
is Keras' own `keras.ops.image.affine_transform`.

No flips: a user's own classes may be mirror images of each other (arrows, letters).
"""

from __future__ import annotations

import math

import numpy as np

from shapecnn._tensorflow import keras, tf
from shapecnn.variation import STRENGTHS

PAPER = 1.0


class RandomAffine(keras.layers.Layer):
    """Rotate, zoom, stretch, shear and shift each drawing at random; new area is white paper.

    rotation: largest turn, degrees. zoom: largest relative change of size (0.2: 1/1.2 to 1.2).
    stretch: largest relative change of aspect ratio. shear: largest shear factor. shift: largest
    move, as a fraction of the image side.
    """

    def __init__(
        self,
        rotation: float = 20.0,
        zoom: float = 0.2,
        stretch: float = 0.2,
        shear: float = 0.15,
        shift: float = 0.1,
        seed: int | None = None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        for name, value in (
            ("rotation", rotation),
            ("zoom", zoom),
            ("stretch", stretch),
            ("shear", shear),
            ("shift", shift),
        ):
            if value < 0:
                raise ValueError(f"{name} must be at least 0, got {value}")
        self.rotation, self.zoom, self.stretch = rotation, zoom, stretch
        self.shear, self.shift, self.seed = shear, shift, seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def _uniform(self, n, limit):
        return keras.random.uniform((n,), -limit, limit, seed=self.seed_generator)

    def call(self, images, training=True):
        if not training:
            return images
        images = tf.convert_to_tensor(images, tf.float32)
        n = tf.shape(images)[0]
        height, width = tf.shape(images)[1], tf.shape(images)[2]
        angle = self._uniform(n, math.radians(self.rotation))
        scale = tf.exp(self._uniform(n, math.log1p(self.zoom)))
        aspect = tf.exp(self._uniform(n, math.log1p(self.stretch)))
        shear = self._uniform(n, self.shear)
        shift_x = self._uniform(n, self.shift) * tf.cast(width, tf.float32)
        shift_y = self._uniform(n, self.shift) * tf.cast(height, tf.float32)
        # Forward map about the centre: M = rotation @ shear @ diag(scale_x, scale_y).
        sx, sy = scale * aspect, scale / aspect
        cos, sin = tf.cos(angle), tf.sin(angle)
        m00, m01 = cos * sx, (cos * shear - sin) * sy
        m10, m11 = sin * sx, (sin * shear + cos) * sy
        # The transform op maps output pixels back to input pixels: the inverse of M.
        det = m00 * m11 - m01 * m10
        i00, i01, i10, i11 = m11 / det, -m01 / det, -m10 / det, m00 / det
        cx = (tf.cast(width, tf.float32) - 1) / 2
        cy = (tf.cast(height, tf.float32) - 1) / 2
        ox, oy = cx + shift_x, cy + shift_y
        zeros = tf.zeros_like(angle)
        transforms = tf.stack(
            [i00, i01, cx - i00 * ox - i01 * oy, i10, i11, cy - i10 * ox - i11 * oy, zeros, zeros],
            axis=1,
        )
        return keras.ops.image.affine_transform(
            images, transforms, interpolation="bilinear", fill_mode="constant", fill_value=PAPER
        )

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {
            **super().get_config(),
            "rotation": self.rotation,
            "zoom": self.zoom,
            "stretch": self.stretch,
            "shear": self.shear,
            "shift": self.shift,
            "seed": self.seed,
        }


class RandomStrokeWidth(keras.layers.Layer):
    """Thicken each drawing's strokes by a random amount, up to about two pixels at 24x24.

    Thin and thick pens then look alike to the network. Strokes are never thinned: a thin
    stroke could vanish.
    """

    def __init__(self, amount: float = 0.8, seed: int | None = None, **kwargs):
        super().__init__(**kwargs)
        if not 0 <= amount <= 1:
            raise ValueError(f"amount must be from 0 to 1, got {amount}")
        self.amount, self.seed = amount, seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, images, training=True):
        if not training:
            return images
        images = tf.convert_to_tensor(images, tf.float32)
        # Ink is dark: the darkest neighbour of every pixel (a min-pool) is the thickened stroke.
        thick = -tf.nn.max_pool2d(-images, ksize=3, strides=1, padding="SAME")
        weight = keras.random.uniform(
            (tf.shape(images)[0], 1, 1, 1), 0.0, self.amount, seed=self.seed_generator
        )
        return images + weight * (thick - images)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "amount": self.amount, "seed": self.seed}


def build_augmentation(seed: int = 0, strength: str = "strong") -> keras.Sequential:
    """One random affine map, then a random stroke width."""
    return keras.Sequential(
        [RandomAffine(**STRENGTHS[strength], seed=seed), RandomStrokeWidth(seed=seed + 1)],
        name="augmentation",
    )


def augmented_versions(model_input, count: int = 8, seed: int = 0):
    """`count` augmented versions of one preprocessed drawing (size x size x channels), as the
    network sees them in training: count x size x size x channels, values in [0, 1]."""
    batch = np.repeat(np.asarray(model_input, dtype=np.float32)[None], count, axis=0)
    return np.clip(build_augmentation(seed)(batch, training=True).numpy(), 0.0, 1.0)
