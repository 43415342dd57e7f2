"""What the page shows, computed without streamlit or TensorFlow."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from shapecnn import views
from shapecnn.errors import ModelFileError
from shapecnn.inference import Prediction
from shapecnn.model import ModelMetadata
from shapecnn.preprocess import preprocess
from shapecnn.synth import draw_shape, synth_dataset


class StubClassifier:
    """Classifier's interface: preprocess, predict_batch, classes."""

    def __init__(self, probabilities):
        self.classes = ["circle", "rectangle", "triangle"]
        self.probabilities = np.asarray([probabilities], dtype=np.float32)
        self.batches = []

    def preprocess(self, image):
        return preprocess(image)

    def predict_batch(self, batch):
        self.batches.append(batch)
        return [Prediction(dict(zip(self.classes, map(float, self.probabilities[0]), strict=True)))]


def canvas(image: Image.Image) -> np.ndarray:
    return np.asarray(image.convert("RGBA"))


def test_a_blank_or_missing_drawing_has_no_prediction():
    stub = StubClassifier([0.2, 0.3, 0.5])
    assert views.predict_drawing(stub, None) is None
    assert views.predict_drawing(stub, np.full((280, 280, 4), 255, np.uint8)) is None
    assert stub.batches == []


def test_a_prediction_has_the_top_class_every_probability_and_the_models_input():
    stub = StubClassifier([0.1, 0.7, 0.2])
    drawing = canvas(draw_shape("rectangle", np.random.default_rng(0)))
    prediction = views.predict_drawing(stub, drawing)
    assert prediction.label == "rectangle"
    assert prediction.confidence == pytest.approx(0.7)
    assert list(prediction.probabilities) == stub.classes
    assert prediction.model_input.shape == (24, 24, 3)
    (batch,) = stub.batches
    assert batch.shape == (1, 24, 24, 3)  # preprocessed once, one call


def test_the_models_input_is_enlarged_with_hard_edges_and_a_frame():
    model_input = np.ones((24, 24, 3), np.float32)
    model_input[0, 0] = 0.0
    image = views.model_input_image(model_input, size=96)
    assert image.size == (98, 98)  # 96 and a 1 px frame
    pixels = np.asarray(image)
    assert (pixels[1:5, 1:5] == 0).all() and (pixels[1:5, 5:9] == 255).all()
    assert (pixels[0] == 190).all()


def test_probability_rows_keep_the_models_order_and_mark_the_top():
    rows = views.probability_rows({"b": 0.2, "a": 0.8})
    assert rows == [
        {"class": "b", "probability": 0.2, "top": False},
        {"class": "a", "probability": 0.8, "top": True},
    ]


def test_count_rows_end_with_a_total():
    rows = views.count_rows({"a": {"train": 3, "test": 1}, "b": {"train": 2, "test": 0}})
    assert rows[-1] == {"class": "total", "train": 5, "test": 1, "total": 6}
    assert rows[0] == {"class": "a", "train": 3, "test": 1, "total": 4}


def test_pages_of_a_class_folder_are_newest_first_and_clamped(tmp_path):
    synth_dataset(tmp_path, per_class=30, classes=["circle"], test_fraction=0)
    first = views.page_of_images(tmp_path, "train", "circle", 1, per_page=24)
    assert (first.number, first.pages, first.total, len(first.paths)) == (1, 2, 30, 24)
    assert first.paths == sorted(first.paths, reverse=True)
    last = views.page_of_images(tmp_path, "train", "circle", 99, per_page=24)
    assert (last.number, len(last.paths)) == (2, 6)
    assert not set(first.paths) & set(last.paths)
    empty = views.page_of_images(tmp_path, "test", "circle")
    assert (empty.number, empty.pages, empty.paths) == (1, 1, [])


def test_thumbnails_are_small_squares_or_none(tmp_path):
    wide = tmp_path / "wide.png"
    Image.new("L", (300, 100), 0).save(wide)
    thumb = views.thumbnail(wide, size=64)
    assert thumb.size == (64, 64) and thumb.mode == "L"
    garbage = tmp_path / "garbage.png"
    garbage.write_bytes(b"not a png")
    assert views.thumbnail(garbage) is None
    assert views.thumbnail(tmp_path / "missing.png") is None


def test_history_rows_are_long_format_per_split():
    history = [{"epoch": 1, "loss": 1.0, "test_loss": 1.2}, {"epoch": 2, "loss": 0.5}]
    assert views.history_rows(history, "loss") == [
        {"epoch": 1, "split": "train", "value": 1.0},
        {"epoch": 1, "split": "test", "value": 1.2},
        {"epoch": 2, "split": "train", "value": 0.5},
    ]


def test_class_mismatch_names_new_and_missing_classes():
    assert views.class_mismatch(["a", "b"], ["a", "b"]) is None
    message = views.class_mismatch(["a", "b"], ["a", "c"])
    assert "does not know 'c'" in message and "no folder for 'b'" in message


def test_model_info_is_none_without_a_file_and_refuses_a_foreign_one(tmp_path):
    assert views.model_info(tmp_path / "none.keras") is None
    foreign = tmp_path / "foreign.keras"
    foreign.write_bytes(b"zip? no")
    with pytest.raises(ModelFileError):
        views.model_info(foreign)
    assert views.model_stamp(tmp_path / "none.keras") is None
    assert views.model_stamp(foreign) == (foreign.stat().st_mtime_ns, 7)


def test_trained_when_is_local_time_to_the_second():
    assert views.trained_when(ModelMetadata(["a", "b"])) == "unknown"
    shown = views.trained_when(ModelMetadata(["a", "b"], trained_at="2026-01-02T03:04:05+00:00"))
    assert len(shown) == len("2026-01-02 03:04:05") and shown.endswith(":05")
