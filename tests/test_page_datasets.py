"""Several datasets on the page (issue 15, point 7), through AppTest: start one from the page,
empty or as a copy of the starter drawings; pick one (kept in the address); each with its own
model; and the starter folder kept as it shipped, the first save there making my_shapes.

The starter is a small synthetic dataset in tmp_path, named to the page with SHAPECNN_STARTER
(`--starter`), so nothing here writes beside the committed one.
"""

from __future__ import annotations

import sys
import types
from pathlib import Path

import pytest
from PIL import Image
from streamlit.testing.v1 import AppTest
from test_app import (  # the page's AppTest helpers
    APP,
    TIMEOUT,
    FakeCanvas,
    button,
    counts_table,
    drawing,
    quick_button,
    refusal,
    show,
    snapshot,
    texts,
)

from shapecnn import dataset

from helpers import make_dataset


@pytest.fixture
def canvas(monkeypatch) -> FakeCanvas:
    """test_app's stand-in for the canvas component (a fixture is not importable by name)."""
    fake = FakeCanvas()
    monkeypatch.setitem(
        sys.modules, "streamlit_drawable_canvas", types.SimpleNamespace(st_canvas=fake.st_canvas)
    )
    return fake


@pytest.fixture
def starter(tmp_path) -> Path:
    return make_dataset(tmp_path / "data" / "starter", per_class=4)


def page_on(monkeypatch, data: Path, starter: Path, query: dict | None = None) -> AppTest:
    """The page started with --data DATA (its model: models/shapes.keras beside the data folder),
    the starter given, no first model trained by itself; opened (and with `query` in its
    address)."""
    models = starter.parent.parent / "models"
    monkeypatch.setenv("SHAPECNN_DATA", str(data))
    monkeypatch.setenv("SHAPECNN_MODEL", str(models / "shapes.keras"))
    monkeypatch.setenv("SHAPECNN_STARTER", str(starter))
    monkeypatch.setenv("SHAPECNN_FIRST_MODEL", "0")
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    at.query_params.update(query or {})
    at.run()
    assert not at.exception, at.exception
    return at


def picked(at: AppTest) -> str:
    return at.selectbox(key="dataset").value


def class_buttons(at: AppTest) -> list[str]:
    return [b.label for b in at.button if b.key.startswith("quick-")]


def save_as(at: AppTest, canvas, label: str) -> None:
    """Draw a shape and save it with its one-click button; no retraining in the background."""
    at.toggle(key="learn_as_i_save").set_value(False).run()
    canvas.draw(drawing(label if label in ("circle", "rectangle", "triangle") else "circle"))
    at.run()
    quick_button(at, label).click().run()
    assert not at.exception, at.exception


def settings_text(at: AppTest) -> str:
    show(at, "Drawings")
    text = texts(at.markdown)
    show(at, "Draw")
    return text


def create(at: AppTest, name: str, start: str = "starter") -> None:
    at.text_input(key="new_dataset_name").input(name)
    at.radio(key="new_dataset_start").set_value(start)
    button(at, "Create").click().run()
    assert not at.exception, at.exception


def test_a_dataset_started_as_a_copy_of_the_starter_takes_the_saves_and_the_starter_stays(
    monkeypatch, canvas, starter
):
    shipped = snapshot(starter)
    at = page_on(monkeypatch, starter, starter)
    assert at.selectbox(key="dataset").options == ["starter"]
    create(at, "birds")
    birds = starter.parent / "birds"
    assert picked(at) == "birds"
    assert "Started birds with a copy of 12 starter drawings" in texts(at.toast)
    assert dataset.count_images(birds) == dataset.count_images(starter)
    assert class_buttons(at) == ["circle 3/1", "rectangle 3/1", "triangle 3/1"]
    models = starter.parent.parent / "models"
    assert f"{models / 'birds.keras'}" in settings_text(at)  # its own model
    save_as(at, canvas, "circle")
    assert dataset.count_images(birds)["circle"] == {"train": 4, "test": 1}
    assert snapshot(starter) == shipped
    assert class_buttons(at) == ["circle 4/1", "rectangle 3/1", "triangle 3/1"]
    # The starter is one pick away, as it shipped, with its own model.
    at.selectbox(key="dataset").select("starter").run()
    assert class_buttons(at) == ["circle 3/1", "rectangle 3/1", "triangle 3/1"]
    assert f"{models / 'shapes.keras'}" in settings_text(at)


def test_an_empty_dataset_starts_without_classes(monkeypatch, canvas, starter):
    at = page_on(monkeypatch, starter, starter)
    create(at, "letters", start="empty")
    assert picked(at) == "letters"
    assert class_buttons(at) == []
    assert dataset.count_images(starter.parent / "letters") == {}
    show(at, "Train")
    assert "No drawings yet" in texts(at.info)


def test_the_first_save_into_the_starter_makes_my_shapes_and_saves_there(
    monkeypatch, canvas, starter
):
    shipped = snapshot(starter)
    at = page_on(monkeypatch, starter, starter)
    assert "the first save into them makes **my_shapes**" in texts(at.caption)  # New dataset
    # A save the dataset refuses makes nothing: no copy for a blank canvas.
    canvas.draw(Image.new("RGB", (280, 280), "white"))
    at.run()
    quick_button(at, "circle").click().run()
    assert refusal(at) == "The canvas is blank: draw a shape first."
    assert dataset.list_datasets(starter.parent) == ["starter"]
    save_as(at, canvas, "circle")
    mine = starter.parent / "my_shapes"
    assert snapshot(starter) == shipped
    counts = dataset.count_images(mine)
    assert counts["circle"] == {"train": 4, "test": 1} and counts["triangle"]["train"] == 3
    assert picked(at) == "my_shapes"
    toasts = texts(at.toast)
    assert "Made my_shapes, your copy of the starter drawings" in toasts
    assert "Saved to train/circle/" in toasts
    # A new visit opens on the user's own drawings, not on the starter.
    again = page_on(monkeypatch, starter, starter)
    assert picked(again) == "my_shapes"
    assert at.selectbox(key="dataset").options == ["my_shapes", "starter"]


def test_the_dataset_is_kept_in_the_address_and_each_shows_its_own_classes(
    monkeypatch, canvas, starter, tmp_path
):
    shapes = make_dataset(tmp_path / "data" / "shapes", per_class=4, classes=("circle", "star5"))
    letters = dataset.create_dataset(tmp_path / "data", "letters")
    for label in ("A", "B"):
        dataset.save_drawing(letters, label, drawing("circle"), "train")
    at = page_on(monkeypatch, shapes, starter, query={"dataset": "letters"})
    assert picked(at) == "letters"
    assert class_buttons(at) == ["A 1/0", "B 1/0"]
    at.run()  # a rerun keeps it
    assert picked(at) == "letters"
    show(at, "Train")
    assert counts_table(at) == {"A": {"train": 1, "test": 0}, "B": {"train": 1, "test": 0}}
    at.selectbox(key="dataset").select("shapes").run()
    assert counts_table(at) == dataset.count_images(shapes)
    show(at, "Draw")
    assert class_buttons(at) == ["circle 3/1", "star5 3/1"]
    # An address naming no dataset opens on the --data one.
    for query in ({"dataset": "../etc"}, {"dataset": "nothing"}):
        assert picked(page_on(monkeypatch, shapes, starter, query=query)) == "shapes"


def test_a_refused_dataset_name_says_why_in_one_line_and_writes_nothing(
    monkeypatch, canvas, starter, tmp_path
):
    at = page_on(monkeypatch, starter, starter)
    field = at.text_input(key="new_dataset_name")
    assert field.proto.max_chars == dataset.MAX_LABEL_LENGTH
    before = snapshot(tmp_path)
    for name, message in [
        ("  ", "Type a name for the new dataset first."),
        ("../x", "Not a dataset name: it must start and end with a letter or digit"),
        ("a/b", "Not a dataset name: '/' is not allowed"),
        ("Starter", "Differs only by case from 'starter'"),
        ("starter", f"Taken: 'starter' exists already in {starter.parent}"),
        # Its model file would be the starter's (models/shapes.keras).
        ("shapes", "Taken: "),
    ]:
        create(at, name)
        assert not at.error, name
        assert refusal(at).startswith(message), (name, refusal(at))
        assert "\n" not in refusal(at)
        assert picked(at) == "starter", name
        assert snapshot(tmp_path) == before, name
    assert "shapes.keras is another model's file" in refusal(at)
