"""The numpy network that Classifier uses for a few drawings at a time agrees with Keras."""

import numpy as np
import pytest

from shapecnn import inference, numpy_net
from shapecnn._tensorflow import keras
from shapecnn.inference import Classifier, numpy_forward
from shapecnn.model import build_model

CLASSES = ["circle", "rectangle", "triangle"]


def random_inputs(n: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).random((n, 24, 24, 3), dtype=np.float32)


def keras_probabilities(model, x: np.ndarray) -> np.ndarray:
    return np.asarray(model(x, training=False))


def randomise(model, seed: int = 1) -> None:
    """Weights far from their initial values, so every layer matters to the output."""
    rng = np.random.default_rng(seed)
    for layer in model.layers:
        layer.set_weights(
            [rng.normal(0.0, 0.3, w.shape).astype(np.float32) for w in layer.get_weights()]
        )


@pytest.mark.parametrize("n", [1, 3, 8, 20])
def test_tutorial_cnn_in_numpy_agrees_with_keras(n):
    model = build_model(3)
    randomise(model)
    forward = numpy_forward(model)
    x = random_inputs(n)
    np.testing.assert_allclose(forward(x), keras_probabilities(model, x), rtol=0, atol=1e-5)


def test_other_supported_layers_agree_with_keras():
    model = keras.Sequential(
        [
            keras.Input((24, 24, 3)),
            keras.layers.Rescaling(2.0, offset=-1.0),
            keras.layers.Conv2D(8, (3, 3), padding="same", activation="tanh"),
            keras.layers.BatchNormalization(),
            keras.layers.Conv2D(8, (2, 4), padding="same", use_bias=False),
            keras.layers.Activation("relu"),
            keras.layers.AveragePooling2D((3, 3)),
            keras.layers.Dropout(0.5),
            keras.layers.MaxPooling2D((2, 2)),
            keras.layers.Conv2D(4, (1, 1), activation="sigmoid"),
            keras.layers.GlobalAveragePooling2D(),
            keras.layers.Dense(3, activation="softmax"),
        ]
    )
    randomise(model)
    # Moving variance must stay positive.
    norm = model.layers[2]
    gamma, beta, mean, variance = norm.get_weights()
    norm.set_weights([gamma, beta, mean, np.abs(variance) + 0.5])
    forward = numpy_forward(model)
    assert forward is not None
    x = random_inputs(4)
    np.testing.assert_allclose(forward(x), keras_probabilities(model, x), rtol=0, atol=1e-5)


def test_unsupported_layers_leave_prediction_to_tensorflow():
    model = keras.Sequential(
        [
            keras.Input((24, 24, 3)),
            keras.layers.Conv2D(4, (3, 3), strides=2),  # strided: not in numpy
            keras.layers.Flatten(),
            keras.layers.Dense(3, activation="softmax"),
        ]
    )
    assert numpy_forward(model) is None
    classifier = Classifier(model, {"class_names": CLASSES})
    assert not classifier.uses_numpy
    x = random_inputs(2)
    np.testing.assert_allclose(
        classifier.predict_preprocessed(x), keras_probabilities(model, x), atol=1e-6
    )


class Dropout(keras.layers.Layer):
    """Named like Keras' Dropout, but not a no-op at inference: numpy would get it wrong."""

    def call(self, x):
        return x * 3.0


def test_numpy_network_that_disagrees_with_keras_is_not_used():
    model = keras.Sequential(
        [
            keras.Input((24, 24, 3)),
            keras.layers.Flatten(),
            Dropout(),
            keras.layers.Dense(3, activation="softmax"),
        ]
    )
    randomise(model)
    assert numpy_forward(model) is not None  # it looks supported...
    classifier = Classifier(model, {"class_names": CLASSES})
    assert not classifier.uses_numpy  # ...but the check at load time caught it
    x = random_inputs(1)
    np.testing.assert_allclose(
        classifier.predict_preprocessed(x), keras_probabilities(model, x), atol=1e-6
    )


def test_small_and_large_batches_give_the_same_probabilities():
    model = build_model(3)
    randomise(model)
    classifier = Classifier(model, {"class_names": CLASSES})
    assert classifier.uses_numpy
    x = random_inputs(inference.NUMPY_MAX_BATCH + 5)
    large = classifier.predict_preprocessed(x)  # TensorFlow
    small = np.concatenate([classifier.predict_preprocessed(x[i : i + 1]) for i in range(len(x))])
    np.testing.assert_allclose(small, large, rtol=0, atol=1e-5)
    np.testing.assert_allclose(large, keras_probabilities(model, x), atol=1e-6)


def test_blas_threads_are_restored_after_a_prediction():
    get, _ = numpy_net._openblas_thread_functions()
    if get is None:
        pytest.skip("numpy does not use OpenBLAS here")
    before = get()
    classifier = Classifier(build_model(3), {"class_names": CLASSES})
    classifier.predict_preprocessed(random_inputs(1))
    assert get() == before
