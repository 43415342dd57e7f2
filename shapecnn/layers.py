"""Keras layers of shapecnn's own (TensorFlow side: training, loading a Keras model, export).

BaseJudgement: the last step of a model trained from the shape base. Its probabilities are
own_weight * the head's + (1 - own_weight) * the base's judgement, the agreement of the drawing's
kinds with each class's own drawings (shapecnn.novelty.judgement_matrix), normalised over the
classes, and shared as the head shares it among classes the base cannot tell apart
(shapecnn.novelty.weighed). The page and the CLI compute the same in NumPy
(shapecnn.runtime.Head); every save checks the two agree.
"""

from __future__ import annotations

import numpy as np

from shapecnn._tensorflow import keras

ops = keras.ops


@keras.saving.register_keras_serializable(package="shapecnn")
class BaseJudgement(keras.layers.Layer):
    """[head probabilities (N x C), kinds (N x K)] -> N x C probabilities: shapecnn.novelty's
    `weighed`, with its kinds x classes matrix, which classes the base cannot tell apart
    (classes x classes, 0 or 1) and the head's weight."""

    def __init__(self, n_kinds: int, n_classes: int, **kwargs):
        super().__init__(**kwargs)
        self.n_kinds, self.n_classes = int(n_kinds), int(n_classes)
        self.matrix = self.add_weight(
            shape=(self.n_kinds, self.n_classes),
            initializer="zeros",
            trainable=False,
            name="matrix",
        )
        self.together = self.add_weight(
            shape=(self.n_classes, self.n_classes),
            initializer="identity",
            trainable=False,
            name="together",
        )
        self.own_weight = self.add_weight(
            shape=(1,), initializer="ones", trainable=False, name="own_weight"
        )

    def call(self, inputs):
        head, kinds = inputs
        agreement = ops.matmul(kinds, self.matrix)
        judged = agreement / ops.maximum(ops.sum(agreement, axis=-1, keepdims=True), 1e-12)
        within = head / ops.maximum(ops.matmul(head, self.together), 1e-12)
        shared = ops.matmul(judged, self.together) * within
        return self.own_weight * head + (1.0 - self.own_weight) * shared

    def compute_output_shape(self, input_shapes):
        return input_shapes[0]

    def get_config(self) -> dict:
        return {**super().get_config(), "n_kinds": self.n_kinds, "n_classes": self.n_classes}


def base_judgement(
    matrix: np.ndarray, together: np.ndarray, own_weight: float, name: str = "judged"
) -> BaseJudgement:
    """The layer holding a judgement (shapecnn.novelty.judgement_matrix, alike_classes) and the
    head's weight against it."""
    matrix = np.asarray(matrix, np.float32)
    layer = BaseJudgement(*matrix.shape, name=name)
    layer.set_weights(
        [matrix, np.asarray(together, np.float32), np.array([own_weight], np.float32)]
    )
    return layer
