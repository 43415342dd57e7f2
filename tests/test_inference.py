import numpy as np
import pytest

from shapecnn.errors import BlankDrawingError
from shapecnn.inference import Classifier
from shapecnn.synth import draw_shape

from helpers import canvas_rgba, draw_outline


@pytest.fixture(scope="module")
def classifier(trained_model):
    return Classifier.load(trained_model)


def test_classes_come_from_the_model_not_from_the_folders(trained_model, tmp_path):
    (tmp_path / "train" / "aardvark").mkdir(parents=True)  # a new class after training
    classifier = Classifier.load(trained_model)
    assert classifier.classes == ["circle", "rectangle", "triangle"]


def test_predict_gives_a_probability_per_class_for_any_drawing(classifier, tmp_path):
    image = draw_outline("circle")
    path = tmp_path / "c.png"
    image.save(path)
    for drawing in (canvas_rgba(image), np.asarray(image), image, path):
        probabilities = classifier.predict(drawing)
        assert list(probabilities) == ["circle", "rectangle", "triangle"]
        assert sum(probabilities.values()) == pytest.approx(1.0, abs=1e-5)
        assert all(isinstance(p, float) for p in probabilities.values())


def test_predict_matches_the_network_on_the_preprocessed_input(classifier):
    drawing = canvas_rgba(draw_outline("triangle"))
    x = classifier.preprocess(drawing)[None]
    # Keras' own answer: a model from the base also returns its features and kinds.
    outputs = classifier.model.predict(x, verbose=0)
    expected = (outputs[0] if isinstance(outputs, list) else outputs)[0]
    np.testing.assert_allclose(list(classifier.predict(drawing).values()), expected, atol=1e-5)


def test_blank_canvas_has_no_prediction(classifier):
    with pytest.raises(BlankDrawingError):
        classifier.predict(np.full((280, 280, 4), 255, np.uint8))


def test_predictions_run_in_litert_and_flag_a_scribble(classifier):
    assert classifier.uses_runtime and classifier.can_be_unsure
    rng = np.random.default_rng(4)
    scribble = draw_shape("scribble", rng, canvas_size=280)
    prediction = classifier.predict(scribble)
    assert prediction.unsure
    assert prediction.label in classifier.classes  # still the closest class
    neat = classifier.predict(draw_outline("circle"))
    assert not neat.unsure and neat.label == "circle"
