"""The model card: written into every saved model, printed by `python -m shapecnn card`."""

from __future__ import annotations

import zipfile

import numpy as np
import pytest

from shapecnn import cli
from shapecnn.card import CARD_ENTRY, model_card, read_card, with_metadata
from shapecnn.config import PreprocessConfig
from shapecnn.model import ModelMetadata, read_metadata

CLASSES = ["circle", "rectangle", "triangle"]


def _metadata(**changes) -> ModelMetadata:
    fields = {
        "class_names": list(CLASSES),
        "recipe": {
            "name": "default",
            "epochs": 300,
            "batch_size": 64,
            "learning_rate": 0.01,
            "augment": True,
            "seed": 3,
        },
        "architecture": "base",
        "counts": {
            "circle": {"train": 15, "test": 5},
            "rectangle": {"train": 12, "test": 4},
            "triangle": {"train": 9, "test": 3},
        },
        "epochs_run": 41,
        "train_seconds": 3.2,
        "test_metrics": {
            "accuracy": 11 / 12,
            "count": 12,
            "loss": 0.2,
            "per_class": {"circle": 1.0, "rectangle": 0.75, "triangle": 1.0},
            "confusion": [[5, 0, 0], [1, 3, 0], [0, 0, 3]],
        },
        "trained_at": "2026-05-01T10:00:00+00:00",
        "novelty": {"threshold": 1.0},
    }
    fields.update(changes)
    return ModelMetadata(**fields)


def test_the_card_says_classes_counts_recipe_accuracy_inputs_and_limits():
    card = model_card(_metadata(), "shapes.keras")
    assert card.startswith("# Model card: shapes.keras\n")
    assert "| rectangle | 12 | 4 | 75.0% |" in card
    assert "| **all** | 36 | 12 | 91.7% |" in card
    assert "Recipe: `default`" in card and "41 epochs run of at most 300" in card
    assert "shape base" in card
    assert "Trained: 2026-05-01T10:00:00+00:00" in card
    assert "Test accuracy: **91.7%** of 12" in card
    assert "people it never saw: not measured" in card and "--by-person" in card
    assert "24x24" in card and "cropped to the ink plus a 12% margin" in card
    assert "shapecnn.preprocess.preprocess" in card
    assert 'says "not sure"' in card and "always answers" not in card


def test_the_card_says_how_the_head_is_weighed_against_the_base():
    judgement = {"own_weight": 0.3, "alike": [["rectangle", "square"]], "tried_on_test": []}
    card = model_card(_metadata(novelty={"threshold": 1.0, "judgement": judgement}))
    assert "weighs the head (0.3) against the base's judgement" in card
    assert "cannot tell apart (rectangle, square) the head alone decides" in card
    assert "weighs the head" not in model_card(_metadata())


def test_a_model_that_cannot_be_unsure_says_it_always_answers_one_of_its_classes():
    card = model_card(
        _metadata(
            novelty=None,
            test_metrics=None,
            architecture="tutorial",
            preprocess=PreprocessConfig(crop="none", channels=1),
        )
    )
    assert "always answers one of its classes" in card
    assert "Test accuracy: unknown" in card
    assert "resized whole" in card and "1 channel " in card


def test_accuracy_on_people_it_never_saw_and_the_gap_are_in_the_card():
    people = {
        "accuracy": 0.6,
        "test_accuracy": 0.9,
        "measured_at": "2026-05-02",
        "people": [
            {"name": "Ada", "accuracy": 0.5, "count": 15},
            {"name": "Bo", "accuracy": 0.7, "count": 20},
        ],
    }
    card = model_card(_metadata(held_out_people=people))
    assert "people it never saw: **60.0%**" in card
    assert "Ada: 50.0% of 15 drawings" in card and "Bo: 70.0% of 20" in card
    assert "+30.0 points" in card
    # The field survives the metadata's own validation.
    again = ModelMetadata.from_json(_metadata(held_out_people=people).to_json())
    assert again.held_out_people == people
    with pytest.raises(Exception, match="held_out_people"):
        ModelMetadata.from_json(
            _metadata(held_out_people=None)
            .to_json()
            .replace('"held_out_people": null', '"held_out_people": [1]')
        )


@pytest.fixture(scope="module")
def saved_model(tmp_path_factory):
    from shapecnn.model import build_model, save_model

    path = tmp_path_factory.mktemp("card") / "shapes.keras"
    inputs = np.random.default_rng(1).random((4, 24, 24, 3), np.float32)
    save_model(build_model(3), path, _metadata(architecture="tutorial"), check_inputs=inputs)
    return path


def test_every_saved_model_carries_its_card(saved_model):
    with zipfile.ZipFile(saved_model) as archive:
        card = archive.read(CARD_ENTRY).decode()
    assert card == model_card(read_metadata(saved_model), "shapes.keras")
    assert "## Export" in card and "checked against Keras on 4 drawings" in card
    assert read_card(saved_model) == card


def test_new_metadata_rewrites_the_card_and_keeps_the_network(saved_model, tmp_path):
    metadata = read_metadata(saved_model)
    metadata.held_out_people = {"accuracy": 0.5, "test_accuracy": 1.0, "people": []}
    copy = tmp_path / "copy.keras"
    copy.write_bytes(with_metadata(saved_model.read_bytes(), metadata, "copy.keras"))
    assert read_metadata(copy).held_out_people["accuracy"] == 0.5
    assert "**50.0%**" in read_card(copy)
    with zipfile.ZipFile(saved_model) as old, zipfile.ZipFile(copy) as new:
        assert old.read("model.tflite") == new.read("model.tflite")
        assert sorted(old.namelist()) == sorted(new.namelist())


def test_cli_card_prints_it(saved_model, capsys):
    assert cli.main(["card", "--model", str(saved_model)]) == 0
    assert capsys.readouterr().out == read_card(saved_model)
    assert cli.main(["card", "--model", str(saved_model.with_name("none.keras"))]) == 1
    assert "no model at" in capsys.readouterr().err
