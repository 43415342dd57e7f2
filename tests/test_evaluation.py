import numpy as np

from shapecnn.evaluation import evaluate_predictions, format_evaluation


def test_accuracy_per_class_and_confusion():
    y = np.array([0, 0, 1, 1, 2])
    probabilities = np.eye(3)[[0, 1, 1, 1, 0]]
    result = evaluate_predictions(y, probabilities, ["a", "b", "c"])
    assert result.accuracy == 3 / 5
    assert result.count == 5
    assert result.per_class == {"a": 0.5, "b": 1.0, "c": 0.0}
    assert result.confusion == [[1, 1, 0], [0, 2, 0], [1, 0, 0]]
    assert set(result.to_dict()) == {"accuracy", "count", "classes", "per_class", "confusion"}


def test_class_without_drawings_has_no_accuracy():
    result = evaluate_predictions(np.array([0]), np.array([[0.9, 0.1]]), ["a", "b"])
    assert result.per_class == {"a": 1.0, "b": None}
    report = format_evaluation(result)
    assert "accuracy: 100.00% of 1 drawings" in report
    assert "b       -" in report
