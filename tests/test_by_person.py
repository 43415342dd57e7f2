"""Accuracy on people the model never saw: trained without each person, scored on them."""

from __future__ import annotations

import json

import numpy as np
import pytest

from shapecnn import cli, dataset, synth
from shapecnn.errors import DatasetError
from shapecnn.model import read_metadata
from shapecnn.people import MIN_PER_CLASS, held_out_people, recipe_of

# Three of the named hands and a random stranger draw alike enough; "stretched" draws thin
# rectangles, flat ellipses and obtuse triangles that none of the others draw.
HANDS = ["neat", "shaky", "marker", "stranger", "stretched"]
PER_CLASS = 8  # per person and class: 6 train, 2 test


def _hand(name: str) -> synth.Hand:
    return synth.HANDS.get(name) or synth.random_hand(np.random.default_rng(7), name)


@pytest.fixture(scope="module")
def people_dataset(tmp_path_factory):
    """Five people's drawings, each PNG saying who drew it, and a model trained on all."""
    from shapecnn.config import resolve_recipe
    from shapecnn.training import train

    root = tmp_path_factory.mktemp("people") / "shapes"
    for h, name in enumerate(HANDS):
        hand = _hand(name)
        for c, label in enumerate(synth.SHAPES):
            for i in range(PER_CLASS):
                rng = np.random.default_rng([h, c, i])
                image = synth.draw_shape(label, rng, hand=hand, canvas_size=140)
                split = "test" if i % 4 == 3 else "train"
                dataset.save_image(root, split, label, image, drawn_by=name)
    # A drawer with too few drawings to be held out, and an unnamed drawing.
    for label in synth.SHAPES:
        image = synth.draw_shape(label, np.random.default_rng(99), hand="sloppy", canvas_size=140)
        dataset.save_image(root, "train", label, image, drawn_by="Sam")
    dataset.save_image(
        root, "train", "circle", synth.draw_shape("circle", np.random.default_rng(5))
    )
    model = root.parent / "shapes.keras"
    train(root, resolve_recipe("tutorial", epochs=10), model_path=model)
    return root, model


def test_a_hand_unlike_the_others_scores_lower_than_the_ordinary_test_accuracy(people_dataset):
    root, model = people_dataset
    metadata = read_metadata(model)
    report = held_out_people(root, metadata, only=["stretched", "neat"])
    scores = {p.name: p for p in report.people}
    assert set(scores) == {"neat", "stretched"}
    assert scores["stretched"].count == PER_CLASS * len(synth.SHAPES)
    assert report.test_accuracy == metadata.test_accuracy
    assert scores["stretched"].accuracy < report.test_accuracy
    assert scores["stretched"].accuracy < scores["neat"].accuracy
    assert report.accuracy == pytest.approx(np.mean([p.accuracy for p in report.people]))
    assert report.too_few == {"Sam": 3} and report.unnamed == 1
    assert report.recipe == "tutorial"


def test_cli_prints_it_beside_the_test_accuracy_and_records_it_in_the_card(
    people_dataset, capsys, tmp_path
):
    root, model = people_dataset
    copy = tmp_path / "copy.keras"
    copy.write_bytes(model.read_bytes())
    args = ["evaluate", "--by-person", "--person", "stretched"]
    assert cli.main([*args, "--model", str(copy), "--data", str(root)]) == 0
    out = capsys.readouterr().out
    test = read_metadata(model).test_accuracy
    assert f"test accuracy: {test:.2%}" in out
    assert "training without stretched" in out and "beside test accuracy" in out
    assert "not held out (fewer than 5 drawings of some class): Sam (3)" in out
    recorded = read_metadata(copy).held_out_people
    assert [p["name"] for p in recorded["people"]] == ["stretched"]
    assert recorded["test_accuracy"] == test and recorded["accuracy"] < test
    assert cli.main(["card", "--model", str(copy)]) == 0
    card = capsys.readouterr().out
    assert f"people it never saw: **{recorded['accuracy']:.1%}**" in card
    # --json --no-record: one object, the file untouched.
    before = copy.read_bytes()
    assert (
        cli.main([*args, "--json", "--no-record", "--model", str(copy), "--data", str(root)]) == 0
    )
    line = json.loads(capsys.readouterr().out)
    assert line["people"][0]["name"] == "stretched" and line["too_few"] == {"Sam": 3}
    assert copy.read_bytes() == before


def test_nobody_with_enough_drawings_is_said_in_one_line(tmp_path, capsys):
    from shapecnn.model import ModelMetadata

    for label in ("circle", "triangle"):
        for i in range(MIN_PER_CLASS - 1):
            image = synth.draw_shape(label, np.random.default_rng(i), canvas_size=64)
            dataset.save_image(tmp_path, "train", label, image, drawn_by="Ada")
    metadata = ModelMetadata(["circle", "triangle"], recipe={"name": "tutorial"})
    with pytest.raises(
        DatasetError, match=r"no person .* has 5 drawings of every class.*Ada \(8\)"
    ):
        held_out_people(tmp_path, metadata)


def test_the_models_own_recipe_is_used():
    from shapecnn.config import resolve_recipe
    from shapecnn.model import ModelMetadata

    recipe = resolve_recipe("tutorial", epochs=7)
    metadata = ModelMetadata(["a", "b"], recipe=recipe.to_dict())
    assert recipe_of(metadata) == recipe
    assert recipe_of(ModelMetadata(["a", "b"])).name == "default"
