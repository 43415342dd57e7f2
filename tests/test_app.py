"""The drawing page, section by section, through Streamlit's AppTest.

The canvas component is replaced by a stand-in module that returns whatever drawing the test put
on it (`canvas.draw(...)`), and forgets it when the page gives the canvas a new key, as the real
canvas does. Assertions are about what a person would see: the metric, the chart's bars, the
messages, the counts table, and the files on disk.
"""

from __future__ import annotations

import io
import shutil
import sys
import time
import types
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
from streamlit.testing.v1 import AppTest

from shapecnn import dataset
from shapecnn.synth import draw_shape, synth_dataset

APP = Path(__file__).resolve().parent.parent / "app.py"
TIMEOUT = 60


# --- fixtures and helpers -----------------------------------------------------------------------


class FakeCanvas:
    """Stands in for streamlit_drawable_canvas: returns the drawing the test put on it."""

    def __init__(self):
        self.drawing = None
        self.key = None
        self.calls = 0  # how many runs drew the canvas

    def draw(self, image) -> None:
        self.drawing = np.asarray(image.convert("RGBA")).copy()

    def st_canvas(self, **kwargs):
        assert kwargs["return_image_data"] is True
        assert kwargs["width"] >= 280 and kwargs["height"] >= 280
        self.calls += 1
        if kwargs["key"] != self.key:
            if self.key is not None:
                self.drawing = None  # a new key is a new, empty canvas
            self.key = kwargs["key"]
        return types.SimpleNamespace(image_data=self.drawing, json_data=None)


@pytest.fixture
def canvas(monkeypatch) -> FakeCanvas:
    fake = FakeCanvas()
    module = types.ModuleType("streamlit_drawable_canvas")
    module.st_canvas = fake.st_canvas
    monkeypatch.setitem(sys.modules, "streamlit_drawable_canvas", module)
    return fake


@pytest.fixture(scope="session")
def trained(tmp_path_factory) -> tuple[Path, Path]:
    """(dataset, model): a small synthetic dataset and a model trained on it for a few epochs."""
    from shapecnn.config import resolve_recipe
    from shapecnn.training import train

    root = tmp_path_factory.mktemp("app") / "shapes"
    synth_dataset(root, per_class=12, seed=1)
    model = root.parent / "model.keras"
    train(root, resolve_recipe("default", epochs=40), model_path=model)
    return root, model


@pytest.fixture
def data(trained, tmp_path) -> Path:
    """A private copy of the trained-on dataset, free to change."""
    return Path(shutil.copytree(trained[0], tmp_path / "shapes"))


@pytest.fixture
def model(trained, tmp_path) -> Path:
    """A private copy of the trained model: a save with "Learn as I save" on (the page's
    default) retrains it in the background."""
    return Path(shutil.copy(trained[1], tmp_path / "model.keras"))


def new_page(monkeypatch, data: Path, model: Path) -> AppTest:
    """The page for a dataset and a model, not run yet."""
    monkeypatch.setenv("SHAPECNN_DATA", str(data))
    monkeypatch.setenv("SHAPECNN_MODEL", str(model))
    return AppTest.from_file(str(APP), default_timeout=TIMEOUT)


def open_page(monkeypatch, data: Path, model: Path) -> AppTest:
    """The page, opened on its default view (Draw) once the first check of every file is done."""
    at = new_page(monkeypatch, data, model)
    at.run()
    assert not at.exception, at.exception
    assert view_of(at) == "Draw"
    # The first look at every file runs in the background, and the Drawings view, where its
    # result shows, polls until it is done (AppTest does not poll: run again, as the poll would).
    show(at, "Drawings")
    deadline = time.monotonic() + TIMEOUT
    while "Checking every file" in texts(at.main.caption) and time.monotonic() < deadline:
        time.sleep(0.5)
        at.run()
    assert "Checking every file" not in texts(at.main.caption), "the check did not finish"
    show(at, "Draw")
    return at


def view_of(at: AppTest) -> str:
    return at.segmented_control(key="view").value


def show(at: AppTest, view: str) -> None:
    """Choose a view with the control at the top of the page, as a person would."""
    control = at.segmented_control(key="view")
    assert control.options == ["Draw", "Train", "Drawings"]
    control.set_value(view).run()
    assert not at.exception, at.exception
    assert view_of(at) == view


def drawing(shape: str, seed: int = 5):
    return draw_shape(shape, np.random.default_rng(seed), hand="neat")


def elements(at: AppTest, kind: str, root=None) -> list:
    """Every element of a kind, including those AppTest has no class for (charts)."""
    found = []

    def walk(node):
        for child in getattr(node, "children", {}).values():
            if getattr(child, "type", None) == kind:
                found.append(child)
            walk(child)

    walk(root if root is not None else at.main)
    return found


def chart_rows(chart) -> list[dict]:
    if not chart.proto.data.data:  # line charts keep their data elsewhere
        return []
    return pa.ipc.open_stream(io.BytesIO(chart.proto.data.data)).read_all().to_pylist()


class _Bars(HTMLParser):
    def __init__(self):
        super().__init__()
        self.rows, self.images, self.text = [], [], []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if "data-class" in attrs:
            self.rows.append(
                {"class": attrs["data-class"], "probability": float(attrs["data-probability"])}
            )
        if tag == "img":
            self.images.append(attrs)

    def handle_data(self, data):
        self.text.append(data)


def prediction_panel(at: AppTest) -> _Bars | None:
    """The HTML panel under the Prediction metric (bars, picture, text), or None."""
    panels = [e.proto.body for e in elements(at, "html") if "data-probability" in e.proto.body]
    assert len(panels) <= 1
    if not panels:
        return None
    parser = _Bars()
    parser.feed(panels[0])
    return parser


def probability_bars(at: AppTest) -> list[dict] | None:
    """The rows of the probability bars, or None if they are not shown."""
    panel = prediction_panel(at)
    return None if panel is None else panel.rows


def section(at: AppTest, heading: str, kind: str | None = None) -> list:
    """The elements (of a kind) under a subheader, up to the next one, in page order: what a
    person sees as that part of the view, wherever its columns and expanders put it."""
    found, inside = [], False

    def walk(node):
        nonlocal inside
        for _, child in sorted(getattr(node, "children", {}).items()):
            if hasattr(child, "children"):  # a block: columns, containers, expanders
                walk(child)
            elif child.type == "subheader":
                inside = child.value == heading
            elif inside and (kind is None or child.type == kind):
                found.append(child)

    walk(at.main)
    return found


def metric(at: AppTest, label: str, within: list | None = None):
    """The first metric with that label, on the page or among the elements `within`."""
    candidates = at.metric if within is None else [e for e in within if e.type == "metric"]
    metrics = [m for m in candidates if m.label == label]
    return metrics[0] if metrics else None


def button(at: AppTest, label: str):
    matches = [b for b in at.button if b.label == label]
    assert matches, f"no button {label!r} in {[b.label for b in at.button]}"
    return matches[0]


def refusal(at: AppTest) -> str:
    """The one line under the save panel (or another form) that says why it refused; '' if none."""
    lines = [e.proto.body for e in elements(at, "html") if "data-refusal=" in e.proto.body]
    found = []
    for body in lines:
        parser = _Bars()
        parser.feed(body)
        found.append("".join(parser.text))
    return " ".join(line for line in found if line)


def quick_button(at: AppTest, name: str):
    """The save panel's one-click "It's a ..." button for a class: "<name> <train>/<test>"."""
    return at.button(key=f"quick-{name}")


def texts(elements_) -> str:
    return " ".join(str(element.value) for element in elements_)


def files(root: Path, split: str, label: str) -> list[Path]:
    return dataset.list_images(root, split, label)


def counts_table(at: AppTest) -> dict[str, dict[str, int]]:
    """The counts of the Dataset section (Train and Drawings views), without the total row."""
    frame = dataset_table(at).value
    return {
        row["class"]: {"train": row["train"], "test": row["test"]}
        for row in frame.to_dict("records")
        if row["class"] != "total"
    }


def dataset_table(at: AppTest):
    tables = section(at, "Dataset", "table")
    assert tables, f"no counts table in the {view_of(at)} view"
    return tables[0]


# --- views -------------------------------------------------------------------------------------


def test_the_page_opens_on_the_draw_view_and_only_it_draws_the_canvas(
    monkeypatch, canvas, data, model
):
    canvas.draw(drawing("circle"))
    at = new_page(monkeypatch, data, model)
    at.run()
    assert not at.exception, at.exception
    assert view_of(at) == "Draw"
    assert canvas.calls == 1 and button(at, "Clear")
    assert metric(at, "Prediction") is not None and probability_bars(at)
    assert "Recipe and settings" not in [e.label for e in at.expander]
    assert not section(at, "Browse drawings")
    for view, heading in [("Train", "Train"), ("Drawings", "Browse drawings")]:
        calls = canvas.calls
        show(at, view)
        assert canvas.calls == calls, view  # the canvas is not drawn
        assert "Clear" not in [b.label for b in at.button], view
        assert metric(at, "Prediction") is None and probability_bars(at) is None, view
        assert section(at, heading), view
        recipe_shown = "Recipe and settings" in [e.label for e in at.expander]
        assert recipe_shown == (view == "Train"), view
    # The view is in the address: a bookmark opens on it.
    bookmarked = new_page(monkeypatch, data, model)
    bookmarked.query_params["view"] = "Train"
    calls = canvas.calls
    bookmarked.run()
    assert view_of(bookmarked) == "Train" and canvas.calls == calls
    assert "Recipe and settings" in [e.label for e in bookmarked.expander]


# --- draw and live prediction -------------------------------------------------------------------


def test_empty_canvas_shows_a_hint_instead_of_a_prediction(monkeypatch, canvas, data, model):
    at = open_page(monkeypatch, data, model)
    assert metric(at, "Prediction") is None
    assert "Draw a shape on the canvas" in texts(at.info)
    assert probability_bars(at) is None


def test_drawing_shows_the_models_class_probabilities_and_view(monkeypatch, canvas, data, model):
    from shapecnn.inference import Classifier

    canvas.draw(drawing("circle"))
    at = open_page(monkeypatch, data, model)
    expected = Classifier.load(model).predict(canvas.drawing)
    top = max(expected, key=expected.get)
    shown = metric(at, "Prediction")
    assert shown is not None and shown.value == top
    assert shown.delta == f"{expected[top]:.0%} sure"
    rows = probability_bars(at)
    assert [row["class"] for row in rows] == ["circle", "rectangle", "triangle"]
    for row in rows:
        assert row["probability"] == pytest.approx(expected[row["class"]], abs=1e-3)
    panel = prediction_panel(at)
    assert "What it sees" in panel.text
    [picture] = panel.images
    assert picture["src"].startswith("data:image/png;base64,")
    assert "Model trained" in " ".join(panel.text)


def test_augmentation_preview_shows_what_training_makes_of_the_drawing(
    monkeypatch, canvas, data, model
):
    canvas.draw(drawing("triangle"))
    at = open_page(monkeypatch, data, model)
    images_before = sum(len(image.captions) or 1 for image in at.image)
    at.toggle(key="augmentation_preview").set_value(True).run()
    assert not at.exception
    images_after = sum(len(image.captions) or 1 for image in at.image)
    assert images_after - images_before == 8
    assert "slightly turned" in " ".join(c.value for c in at.caption)


def test_a_new_stroke_updates_the_prediction(monkeypatch, canvas, data, model):
    from shapecnn.inference import Classifier

    classifier = Classifier.load(model)
    at = open_page(monkeypatch, data, model)
    for shape in ("triangle", "rectangle"):
        canvas.draw(drawing(shape, seed=9))
        at.run()
        expected = classifier.predict(canvas.drawing)
        assert metric(at, "Prediction").value == max(expected, key=expected.get)


def test_a_fresh_clone_predicts_at_once_and_trains_its_first_model_by_itself(
    monkeypatch, canvas, data, tmp_path
):
    path = tmp_path / "first.keras"
    canvas.draw(drawing("circle"))
    at = new_page(monkeypatch, data, path)
    at.run()
    assert not at.exception, at.exception
    # No model file: the shape base and the starter drawings answer the first stroke (the first
    # run only: a warm training process may have the first model ready a few reruns later).
    assert metric(at, "Prediction").value == "circle"
    assert "Starter predictions from the shape base" in " ".join(prediction_panel(at).text)
    # ... while a first model trains without a click, and then answers instead.
    # The first model's process starts TensorFlow at a low priority beside this test's reruns.
    wait_for(
        at,
        lambda: path.is_file() and "Model trained" in " ".join(prediction_panel(at).text),
        timeout=240,
    )
    assert metric(at, "Prediction").value == "circle"


def test_without_a_model_and_first_model_off_the_page_waits_for_train(
    monkeypatch, canvas, data, tmp_path
):
    monkeypatch.setenv("SHAPECNN_FIRST_MODEL", "0")
    canvas.draw(drawing("circle"))
    at = open_page(monkeypatch, data, tmp_path / "none.keras")
    assert metric(at, "Prediction").value == "circle"  # the starter predictions
    assert not button(at, "Train model").disabled  # right below the canvas
    assert "No model yet" in texts(at.caption)  # the status beside the button
    assert not (tmp_path / "none.keras").exists()
    show(at, "Train")
    assert "No model yet" in texts(section(at, "Model", "info"))


def test_clear_empties_the_canvas(monkeypatch, canvas, data, model):
    canvas.draw(drawing("circle"))
    at = open_page(monkeypatch, data, model)
    assert metric(at, "Prediction") is not None
    button(at, "Clear").click().run()
    assert canvas.drawing is None
    assert metric(at, "Prediction") is None


# --- label and save -----------------------------------------------------------------------------


def test_save_writes_into_the_chosen_class_and_split_and_clears(monkeypatch, canvas, data, model):
    at = open_page(monkeypatch, data, model)
    before = len(files(data, "test", "rectangle"))
    canvas.draw(drawing("rectangle"))
    at.run()
    at.selectbox(key="label_choice").select("rectangle")
    at.radio(key="split").set_value("test")
    button(at, "Save drawing").click().run()
    assert not at.exception
    saved = files(data, "test", "rectangle")
    assert len(saved) == before + 1
    counts = dataset.count_images(data)["rectangle"]
    (toast,) = at.toast
    assert f"test/rectangle/{saved[-1].name}" in toast.value
    assert f"{counts['train']} train, {counts['test']} test" in toast.value
    assert canvas.drawing is None  # cleared for the next drawing
    assert metric(at, "Prediction") is None
    show(at, "Train")
    assert counts_table(at)["rectangle"] == counts


def test_auto_split_keeps_about_a_quarter_in_test(monkeypatch, canvas, data, model):
    at = open_page(monkeypatch, data, model)
    at.selectbox(key="label_choice").select("circle")
    assert at.radio(key="split").value == "auto"
    assert dataset.count_images(data)["circle"] == {"train": 9, "test": 3}
    for seed in range(4):
        canvas.draw(drawing("circle", seed))
        at.run()
        button(at, "Save drawing").click().run()
    # 9 + 3 is already a quarter in test: three more go to train, the fourth to test.
    assert dataset.count_images(data)["circle"] == {"train": 12, "test": 4}


def test_a_blank_drawing_is_refused(monkeypatch, canvas, data, model):
    at = open_page(monkeypatch, data, model)
    before = dataset.count_images(data)
    button(at, "Save drawing").click().run()
    assert "canvas is blank" in refusal(at)
    canvas.drawing = np.full((280, 280, 4), 255, np.uint8)  # white, as the real canvas sends it
    at.run()
    button(at, "Save drawing").click().run()
    assert "canvas is blank" in refusal(at)
    assert dataset.count_images(data) == before


def test_a_new_class_is_validated_then_created(monkeypatch, canvas, data, model):
    at = open_page(monkeypatch, data, model)
    canvas.draw(drawing("triangle"))
    at.run()
    at.selectbox(key="label_choice").select("+ New class…")
    at.run()
    at.text_input(key="new_label").input("../star")
    button(at, "Save drawing").click().run()
    assert "Not a class name" in refusal(at)
    assert not (data.parent / "star").exists()
    at.text_input(key="new_label").input("Circle")
    button(at, "Save drawing").click().run()
    assert "Differs only by case from 'circle'" in refusal(at)
    at.text_input(key="new_label").input("star")
    button(at, "Save drawing").click().run()
    assert not at.error and not refusal(at)
    assert dataset.count_images(data)["star"] == {"train": 1, "test": 0}
    assert at.selectbox(key="label_choice").value == "star"  # ready for the next star
    show(at, "Drawings")
    assert "star" in counts_table(at)


def test_counts_table_is_in_the_train_and_drawings_views(monkeypatch, canvas, data, model):
    at = open_page(monkeypatch, data, model)
    assert not section(at, "Dataset")  # the Draw view keeps to drawing
    for view in ("Train", "Drawings"):
        show(at, view)
        assert counts_table(at) == dataset.count_images(data), view
        total = dataset_table(at).value.to_dict("records")[-1]
        assert total == {"class": "total", "train": 27, "test": 9, "total": 36}, view


# --- correct the model --------------------------------------------------------------------------


def test_one_click_saves_a_wrong_prediction_under_the_right_label(monkeypatch, canvas, data, model):
    canvas.draw(drawing("triangle"))
    at = open_page(monkeypatch, data, model)
    predicted = metric(at, "Prediction").value
    right = next(name for name in ("circle", "rectangle", "triangle") if name != predicted)
    # The save panel has one button per class, the predicted one included, with its counts.
    counts = dataset.count_images(data)
    labels = [b.label for b in at.button if b.key.startswith("quick-")]
    assert labels == [
        f"{n} {counts[n]['train']}/{counts[n]['test']}" for n in ("circle", "rectangle", "triangle")
    ]
    assert "It's a" in texts(at.caption)
    before = sum(counts[right].values())
    quick_button(at, right).click().run()
    assert sum(dataset.count_images(data)[right].values()) == before + 1
    assert f"/{right}/" in at.toast[0].value
    assert canvas.drawing is None


# --- dataset browser ----------------------------------------------------------------------------


def browse(at: AppTest, label: str, split: str) -> None:
    if view_of(at) != "Drawings":
        show(at, "Drawings")  # the browser is drawn only in its view
    at.selectbox(key="browse_class").select(label)
    at.radio(key="browse_split").set_value(split)
    at.run()


def test_browser_shows_thumbnails_and_deletes_the_selected(monkeypatch, canvas, data, model):
    at = open_page(monkeypatch, data, model)
    browse(at, "triangle", "train")
    paths = files(data, "train", "triangle")
    boxes = [box for box in at.checkbox if box.key.startswith("pick-")]
    assert sorted(box.label for box in boxes) == sorted(path.name for path in paths)
    victim = paths[0]
    at.checkbox(key=f"pick-{victim.name}").check().run()
    button(at, "Delete (1)").click().run()
    assert not victim.exists()
    assert len(files(data, "train", "triangle")) == len(paths) - 1
    assert counts_table(at)["triangle"]["train"] == len(paths) - 1


def test_browser_moves_to_the_other_split_and_another_class(monkeypatch, canvas, data, model):
    at = open_page(monkeypatch, data, model)
    browse(at, "circle", "test")
    first, second = files(data, "test", "circle")[:2]
    at.checkbox(key=f"pick-{first.name}").check().run()
    button(at, "Move to train (1)").click().run()
    assert not first.exists()
    assert len(files(data, "train", "circle")) == 10
    browse(at, "circle", "test")
    at.checkbox(key=f"pick-{second.name}").check().run()
    at.selectbox(key="browse_target").select("triangle").run()
    button(at, "Move to triangle (1)").click().run()
    assert not second.exists()
    assert len(files(data, "test", "triangle")) == 4
    assert counts_table(at)["circle"] == {"train": 10, "test": 1}


def test_browser_pages_through_a_large_class(monkeypatch, canvas, tmp_path, model):
    big = tmp_path / "big"
    synth_dataset(big, per_class=40, seed=2, classes=["circle", "rectangle"], test_fraction=0)
    at = open_page(monkeypatch, big, model)
    browse(at, "circle", "train")
    page_input = at.number_input(key="browse_page-circle-train")
    assert page_input.label == "Page (of 2)"
    on_first = {box.label for box in at.checkbox if box.key.startswith("pick-")}
    assert len(on_first) == 24
    page_input.set_value(2).run()
    on_second = {box.label for box in at.checkbox if box.key.startswith("pick-")}
    assert len(on_second) == 16 and not on_first & on_second
    assert on_first | on_second == {path.name for path in files(big, "train", "circle")}


# --- train --------------------------------------------------------------------------------------


def wait_for(at: AppTest, done, timeout: float = 90) -> None:
    """Rerun the page until `done`, once a second as the page's own poll does: a faster loop
    takes the CPU the training process (started at a lower priority) needs."""
    deadline = time.monotonic() + timeout
    while not done():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(1.0)
        at.run()
        assert not at.exception, at.exception


def set_training(at: AppTest, epochs: int) -> None:
    """A short run of the default recipe, without augmentation (in the Train view)."""
    at.number_input(key="epochs-default").set_value(epochs)
    at.toggle(key="augment-default").set_value(False)
    at.run()


def set_long_training(at: AppTest) -> None:
    """A run that goes on until cancelled (the tutorial recipe never stops early; Train view)."""
    at.selectbox(key="recipe_name").select("tutorial").run()
    at.number_input(key="epochs-tutorial").set_value(1000).run()


def test_train_shows_progress_then_metrics_and_switches_the_model(
    monkeypatch, canvas, data, model, tmp_path
):
    new_model = tmp_path / "trained.keras"
    shutil.copy(model, new_model)
    before = new_model.stat().st_mtime_ns
    canvas.draw(drawing("circle"))
    at = open_page(monkeypatch, data, new_model)
    show(at, "Train")
    set_training(at, epochs=3)
    button(at, "Train model").click().run()
    assert button(at, "Train model").disabled  # one run at a time
    # The training's own results, not the model panel's metric beside them.
    assert at.get("progress") or metric(at, "Test accuracy", section(at, "Train"))
    wait_for(at, lambda: metric(at, "Test accuracy", section(at, "Train")) is not None)
    assert new_model.stat().st_mtime_ns != before
    assert metric(at, "Epochs", section(at, "Train")).value == "3"
    assert "finished" in at.toast[0].value
    # The per-class accuracy and the confusion matrix cover every class.
    tables = {frame.value.columns[-1]: frame.value for frame in at.main.dataframe}
    assert list(tables["accuracy"]["class"]) == ["circle", "rectangle", "triangle"]
    (cells,) = [
        chart_rows(chart)
        for chart in elements(at, "vega_lite_chart")
        if '"layer"' in chart.proto.spec
    ]  # the heat map
    assert (
        {c["true"] for c in cells}
        == {c["predicted"] for c in cells}
        == {"circle", "rectangle", "triangle"}
    )
    assert sum(c["count"] for c in cells) == 9  # every test drawing
    # The model panel describes the new model.
    assert "Trained" in texts(section(at, "Model", "caption"))
    assert not button(at, "Train model").disabled
    # Live predictions use the new file: what the page shows is what the new model says.
    from shapecnn.inference import Classifier

    show(at, "Draw")
    expected = Classifier.load(new_model).predict(canvas.drawing)
    for row in probability_bars(at):
        assert row["probability"] == pytest.approx(expected[row["class"]], abs=1e-3)
    assert not button(at, "Train model").disabled


def test_first_model_is_one_click_away_and_misclassified_drawings_are_shown(
    monkeypatch, canvas, data, tmp_path
):
    monkeypatch.setenv("SHAPECNN_FIRST_MODEL", "0")  # the click is what is tested
    path = tmp_path / "first.keras"
    canvas.draw(drawing("rectangle"))
    at = open_page(monkeypatch, data, path)
    show(at, "Train")
    set_training(at, epochs=2)
    show(at, "Draw")
    button(at, "Train model").click().run()  # below the canvas
    # The starter predictions answer meanwhile, and say a first model is training.
    assert "the first one is training" in " ".join(prediction_panel(at).text)
    assert at.get("progress")  # its progress shows below the canvas
    # The first model's process starts TensorFlow at a low priority beside this test's reruns.
    wait_for(
        at,
        lambda: path.is_file() and "Model trained" in " ".join(prediction_panel(at).text),
        timeout=240,
    )
    show(at, "Train")
    accuracy = metric(at, "Test accuracy", section(at, "Train"))
    assert accuracy is not None
    wrong = [c for image in section(at, "Train", "image") for c in image.captions if " → " in c]
    if accuracy.value != "100%":
        assert wrong, "misclassified test drawings are shown with what the model said"
        true, rest = wrong[0].split(" → ")
        assert true in ("circle", "rectangle", "triangle")
        assert rest.split()[0] in ("circle", "rectangle", "triangle")


def test_the_draw_views_train_button_uses_the_recipe_chosen_in_the_train_view(
    monkeypatch, canvas, data, tmp_path
):
    monkeypatch.setenv("SHAPECNN_FIRST_MODEL", "0")  # the click is what is tested
    from shapecnn import views

    path = tmp_path / "chosen.keras"
    at = open_page(monkeypatch, data, path)
    show(at, "Train")
    at.number_input(key="epochs-default").set_value(1)
    at.number_input(key="batch-default").set_value(8)
    at.number_input(key="lr-default").set_value(0.002)
    at.toggle(key="augment-default").set_value(False)
    at.run()
    show(at, "Draw")
    assert "Recipe and settings" not in [e.label for e in at.expander]
    button(at, "Train model").click().run()
    assert button(at, "Train model").disabled
    wait_for(at, lambda: not button(at, "Train model").disabled, timeout=120)
    assert not at.error
    info = views.model_info(path)
    assert info.epochs_run == 1
    recipe = {key: info.recipe[key] for key in ("name", "epochs", "batch_size", "augment")}
    assert recipe == {"name": "default", "epochs": 1, "batch_size": 8, "augment": False}
    assert info.recipe["learning_rate"] == pytest.approx(0.002)
    # Back in the Train view, the settings are as they were left, and the run is its result.
    show(at, "Train")
    assert at.number_input(key="epochs-default").value == 1
    assert at.number_input(key="batch-default").value == 8
    assert at.number_input(key="lr-default").value == pytest.approx(0.002)
    assert at.toggle(key="augment-default").value is False
    assert metric(at, "Epochs", section(at, "Train")).value == "1"


def test_cancel_keeps_the_previous_model(monkeypatch, canvas, data, model, tmp_path):
    kept = tmp_path / "kept.keras"
    shutil.copy(model, kept)
    before = kept.read_bytes()
    at = open_page(monkeypatch, data, kept)
    show(at, "Train")
    set_long_training(at)
    button(at, "Train model").click().run()
    button(at, "Cancel").click().run()
    wait_for(at, lambda: any("Cancelled" in w.value for w in at.warning))
    assert kept.read_bytes() == before
    assert not button(at, "Train model").disabled


def test_two_sessions_share_one_training_run(monkeypatch, canvas, data, model, tmp_path):
    shared = tmp_path / "shared.keras"
    shutil.copy(model, shared)
    first = open_page(monkeypatch, data, shared)
    second = open_page(monkeypatch, data, shared)
    for at in (first, second):
        show(at, "Train")
        set_long_training(at)
    button(first, "Train model").click().run()
    # The second tab's button was drawn before the job started: clicking it shows that job.
    button(second, "Train model").click().run()
    assert button(second, "Train model").disabled
    assert second.get("progress")
    # A reload shows the running job, below the canvas and in the Train view.
    reloaded = open_page(monkeypatch, data, shared)
    assert button(reloaded, "Train model").disabled
    assert reloaded.get("progress")
    show(reloaded, "Train")
    assert button(reloaded, "Train model").disabled
    assert reloaded.get("progress")
    button(reloaded, "Cancel").click().run()
    wait_for(first, lambda: not button(first, "Train model").disabled)


# --- model panel and settings -------------------------------------------------------------------


def test_model_panel_describes_the_model_and_offers_a_download(monkeypatch, canvas, data, model):
    at = open_page(monkeypatch, data, model)
    show(at, "Train")
    panel = section(at, "Model")
    assert "circle, rectangle, triangle" in texts(e for e in panel if e.type == "markdown")
    assert metric(at, "Test accuracy", panel) is not None
    assert metric(at, "Classes", panel).value == "3"
    assert "Trained" in texts(e for e in panel if e.type == "caption")
    downloads = [e for e in panel if e.type == "download_button"]
    assert downloads and "model.keras" in downloads[0].proto.label
    assert not [e for e in panel if e.type == "warning"]


def test_model_panel_warns_when_the_classes_no_longer_match(monkeypatch, canvas, data, model):
    dataset.save_drawing(data, "star", drawing("circle"))
    at = open_page(monkeypatch, data, model)
    show(at, "Train")
    (warning,) = section(at, "Model", "warning")
    assert "'star'" in warning.value and "Train again" in warning.value


def test_an_empty_dataset_offers_starter_drawings(monkeypatch, canvas, tmp_path):
    empty = tmp_path / "empty"
    at = open_page(monkeypatch, empty, tmp_path / "model.keras")
    show(at, "Train")
    assert "No drawings yet" in texts(section(at, "Dataset", "info"))
    button(at, "Create starter drawings").click().run()
    assert set(dataset.count_images(empty)) == {"circle", "rectangle", "triangle"}
    assert set(counts_table(at)) == {"circle", "rectangle", "triangle"}


def test_settings_come_from_arguments_then_environment_then_defaults(monkeypatch):
    import importlib.util

    from shapecnn.config import DEFAULT_DATA, DEFAULT_MODEL

    spec = importlib.util.spec_from_file_location("shapecnn_app", APP)
    app = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "shapecnn_app", app)
    spec.loader.exec_module(app)  # main() runs only under `streamlit run`
    assert app.parse_settings([], {}) == app.Settings(DEFAULT_DATA, DEFAULT_MODEL)
    environ = {"SHAPECNN_DATA": "/d", "SHAPECNN_MODEL": "/m.keras"}
    assert app.parse_settings([], environ) == app.Settings(Path("/d"), Path("/m.keras"))
    given = app.parse_settings(["--data", "x", "--model", "y.keras", "--other"], environ)
    assert given == app.Settings(Path("x"), Path("y.keras"))


# --- reliability (issue 6): bad labels, odd drawings, several users, training edge cases --------


def snapshot(root: Path) -> list:
    return sorted((p.relative_to(root), p.stat().st_size) for p in root.rglob("*") if p.is_file())


def test_every_refused_label_says_why_and_writes_nothing(monkeypatch, canvas, data, model):
    before = snapshot(data.parent)
    canvas.draw(drawing("triangle"))
    at = open_page(monkeypatch, data, model)
    at.selectbox(key="label_choice").select("+ New class…").run()
    for label, message in [
        ("", "Type a name for the new class"),
        ("   ", "Type a name for the new class"),
        (".", "Not a class name"),
        ("..", "Not a class name"),
        ("a/b", "'/' is not allowed"),
        ("a\\b", "'\\\\' is not allowed"),
        ("tab\there", "'\\t' is not allowed"),
        ("-star", "start and end with a letter or digit"),
        ("TRIANGLE", "Differs only by case from 'triangle'"),
    ]:
        at.text_input(key="new_label").input(label)
        button(at, "Save drawing").click().run()
        assert not at.exception
        assert message in refusal(at), label
        assert not at.error, label  # one line in its slot, not a box
        assert snapshot(data.parent) == before, label
        assert canvas.drawing is not None  # still there, to save under a good label


@pytest.mark.parametrize("where", ["dot", "border", "small canvas", "wide canvas"])
def test_a_dot_ink_on_the_border_and_any_canvas_size_can_be_saved(
    monkeypatch, canvas, data, model, where
):
    height, width = {"small canvas": (30, 20), "wide canvas": (200, 900)}.get(where, (280, 280))
    picture = np.full((height, width, 4), 255, np.uint8)
    if where == "dot":
        picture[140:142, 140:142, :3] = 0
    elif where == "border":
        picture[:, :6, :3] = 0  # along the left edge
        picture[-6:, :, :3] = 0  # and the bottom edge
    else:
        picture[height // 3 : height // 2, width // 4 : width // 2, :3] = 0
    canvas.drawing = picture
    at = open_page(monkeypatch, data, model)
    assert metric(at, "Prediction") is not None
    at.selectbox(key="label_choice").select("circle")
    before = sum(dataset.count_images(data)["circle"].values())
    button(at, "Save drawing").click().run()
    assert not at.exception and not at.error
    assert sum(dataset.count_images(data)["circle"].values()) == before + 1
    assert dataset.find_problems(data) == []


def test_two_sessions_saving_one_after_the_other_both_keep_their_drawing(monkeypatch, data, model):
    """Both pages drawn and ready, then both saved: the second page's view of the dataset is
    stale and must not matter. (AppTest runs one session at a time; the browser tests save
    from two sessions at the same moment.)"""
    # One stand-in canvas per session, chosen by a session state value the test sets.
    canvases = [FakeCanvas(), FakeCanvas()]
    module = types.ModuleType("streamlit_drawable_canvas")

    def st_canvas(**kwargs):
        import streamlit as st

        return canvases[st.session_state["test_canvas"]].st_canvas(**kwargs)

    module.st_canvas = st_canvas
    monkeypatch.setitem(sys.modules, "streamlit_drawable_canvas", module)
    monkeypatch.setenv("SHAPECNN_DATA", str(data))
    monkeypatch.setenv("SHAPECNN_MODEL", str(model))
    before = set(files(data, "train", "rectangle"))
    pages = []
    for index, fake in enumerate(canvases):
        fake.draw(drawing("rectangle", seed=index))
        at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
        at.session_state["test_canvas"] = index
        at.run()
        at.selectbox(key="label_choice").select("rectangle")
        at.radio(key="split").set_value("train")
        at.run()
        pages.append(at)
    for at in pages:
        button(at, "Save drawing").click().run()
        assert not at.exception, at.exception
    new = set(files(data, "train", "rectangle")) - before
    assert len(new) == 2
    shown = [at.toast[0].value.split("train/rectangle/")[1].split()[0] for at in pages]
    assert sorted(shown) == sorted(p.name for p in new)
    assert all(fake.drawing is None for fake in canvases)  # both cleared for the next drawing


def train_on_page(monkeypatch, data: Path, model_path: Path) -> AppTest:
    """Train from the Train view, where the run's results show (the click, not a first model
    trained by itself, is what these tests look at)."""
    monkeypatch.setenv("SHAPECNN_FIRST_MODEL", "0")
    at = open_page(monkeypatch, data, model_path)
    show(at, "Train")
    set_training(at, epochs=2)
    button(at, "Train model").click().run()
    wait_for(at, lambda: not button(at, "Train model").disabled, timeout=120)
    return at


def test_one_class_cannot_be_trained_and_the_page_says_a_classifier_needs_two(
    monkeypatch, canvas, data, tmp_path
):
    for name in ("rectangle", "triangle"):
        for split in ("train", "test"):
            shutil.rmtree(data / split / name)
    at = train_on_page(monkeypatch, data, tmp_path / "one.keras")
    assert "at least 2 classes" in texts(at.error) and "'circle'" in texts(at.error)
    assert not (tmp_path / "one.keras").exists()


def test_a_class_without_training_drawings_is_named_on_the_page(
    monkeypatch, canvas, data, tmp_path
):
    shutil.rmtree(data / "train" / "triangle")
    at = train_on_page(monkeypatch, data, tmp_path / "m.keras")
    assert "every class needs training drawings" in texts(at.error)
    assert "'triangle'" in texts(at.error)
    assert not (tmp_path / "m.keras").exists()


def test_no_test_drawings_trains_and_the_page_says_there_is_no_test_data(
    monkeypatch, canvas, data, tmp_path
):
    shutil.rmtree(data / "test")
    at = train_on_page(monkeypatch, data, tmp_path / "m.keras")
    assert not at.error
    assert "There is no test data" in texts(section(at, "Train", "info"))
    assert metric(at, "Test accuracy", section(at, "Train")).value == "-"
    assert (tmp_path / "m.keras").is_file()


def test_after_the_classes_change_predictions_keep_the_models_classes(
    monkeypatch, canvas, data, model
):
    dataset.save_drawing(data, "aardvark", drawing("circle"))  # sorts before every old class
    for split in ("train", "test"):
        shutil.rmtree(data / split / "rectangle")
    canvas.draw(drawing("triangle"))
    at = open_page(monkeypatch, data, model)
    assert [row["class"] for row in probability_bars(at)] == ["circle", "rectangle", "triangle"]
    assert metric(at, "Prediction").value in ("circle", "rectangle", "triangle")
    show(at, "Train")
    (warning,) = section(at, "Model", "warning")
    assert "'aardvark'" in warning.value and "'rectangle'" in warning.value


# --- dataset problems, leftovers and uploads (issue 6) ------------------------------------------


def zip_bytes(entries: dict[str, bytes]) -> bytes:
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in entries.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def png_bytes(shape: str, seed: int = 5) -> bytes:
    buffer = io.BytesIO()
    drawing(shape, seed).save(buffer, format="PNG")
    return buffer.getvalue()


def skipped_files_table(at: AppTest) -> dict[str, str]:
    """The files training skips, as the Drawings view lists them."""
    for table in section(at, "Dataset", "table"):
        frame = table.value
        if list(frame.columns) == ["file", "problem"]:
            return dict(zip(frame["file"], frame["problem"], strict=True))
    return {}


def test_the_page_lists_the_files_training_skips(monkeypatch, canvas, data, model):
    folder = data / "train" / "circle"
    (folder / "notes.txt").write_text("not an image")
    (folder / "empty.png").write_bytes(b"")
    (folder / "cut.png").write_bytes(png_bytes("circle")[:100])
    at = open_page(monkeypatch, data, model)
    show(at, "Drawings")
    assert "3 files in the dataset cannot be used" in texts(section(at, "Dataset", "warning"))
    listed = skipped_files_table(at)
    assert set(listed) == {
        "train/circle/notes.txt",
        "train/circle/empty.png",
        "train/circle/cut.png",
    }
    assert "empty file" in listed["train/circle/empty.png"]
    # A stroke changes nothing in the list.
    show(at, "Draw")
    canvas.draw(drawing("circle"))
    at.run()
    assert metric(at, "Prediction") is not None
    show(at, "Drawings")
    assert len(skipped_files_table(at)) == 3


def test_a_clean_dataset_shows_no_problems(monkeypatch, canvas, data, model):
    at = open_page(monkeypatch, data, model)
    show(at, "Drawings")
    assert "Checking every file" not in texts(section(at, "Dataset", "caption"))  # checked
    assert not section(at, "Dataset", "warning") and skipped_files_table(at) == {}


def test_opening_the_page_removes_stale_leftovers_of_interrupted_saves(
    monkeypatch, canvas, data, model
):
    import os

    folder = data / "train" / "circle"
    stale, fresh = folder / ".tmp-crashed.png", folder / ".tmp-saving.png"
    for leftover in (stale, fresh):
        leftover.write_bytes(b"\x89PNG half")
    os.utime(stale, (time.time() - 3600,) * 2)
    at = open_page(monkeypatch, data, model)
    assert not stale.exists() and fresh.exists()  # a save might still be writing the fresh one
    show(at, "Drawings")
    assert counts_table(at)["circle"] == dataset.count_images(data)["circle"]


def uploader(at: AppTest):
    """The Drawings view's uploader."""
    found = [u for u in section(at, "Dataset", "file_uploader") if u.key.startswith("uploads-")]
    assert len(found) == 1, f"no uploader in the {view_of(at)} view"
    return found[0]


def upload(at: AppTest, *files: tuple[str, bytes]) -> None:
    uploader(at).set_value([(name, content, "application/octet-stream") for name, content in files])
    at.run()


def test_uploading_a_zip_imports_its_classes_and_lists_what_it_skipped(
    monkeypatch, canvas, data, model
):
    before = dataset.count_images(data)
    at = open_page(monkeypatch, data, model)
    show(at, "Drawings")
    archive = zip_bytes(
        {
            "mine/star/a.png": png_bytes("triangle", 1),
            "mine/star/b.png": png_bytes("triangle", 2),
            "mine/circle/c.png": png_bytes("circle", 3),
            "mine/circle/notes.txt": b"hello",
            "mine/star/broken.png": b"\x89PNG broken",
        }
    )
    upload(at, ("drawings.zip", archive))
    button(at, "Import").click().run()
    assert not at.exception and not at.error
    assert "Imported 3 drawings" in at.toast[0].value
    counts = dataset.count_images(data)
    assert sum(counts["star"].values()) == 2
    assert sum(counts["circle"].values()) == sum(before["circle"].values()) + 1
    assert "star" in counts_table(at)
    assert "Skipped 2 files" in texts(section(at, "Dataset", "warning"))
    skipped = next(
        frame.value
        for frame in section(at, "Dataset", "table")
        if list(frame.value.columns) == ["file", "why"]
    )
    assert sorted(skipped["file"]) == [
        "drawings.zip/mine/circle/notes.txt",
        "drawings.zip/mine/star/broken.png",
    ]
    # The uploader is emptied for the next import.
    assert not uploader(at).value


def test_unsafe_zips_bad_labels_and_oversized_uploads_are_refused_and_write_nothing(
    monkeypatch, canvas, data, model
):
    before = snapshot(data.parent)
    at = open_page(monkeypatch, data, model)
    show(at, "Drawings")
    upload(at, ("evil.zip", zip_bytes({"../escape/a.png": png_bytes("circle")})))
    button(at, "Import").click().run()
    assert "could write outside the dataset" in texts(at.error)
    upload(at, ("Star.zip", zip_bytes({"Circle/a.png": png_bytes("circle")})))
    button(at, "Import").click().run()
    assert "differs only by case" in texts(at.error)
    at.selectbox(key="import_choice").select("+ New class…").run()
    at.text_input(key="import_new_label").input("../up").run()
    upload(at, ("a.png", png_bytes("circle")))
    button(at, "Import").click().run()
    assert "label must be" in texts(at.error)
    big = png_bytes("circle") + b"\0" * dataset.MAX_UPLOAD_BYTES
    at.selectbox(key="import_choice").select("circle").run()
    upload(at, ("big.png", big))
    button(at, "Import").click().run()
    assert "at most 20 MB" in texts(at.error)
    assert snapshot(data.parent) == before
    assert uploader(at).proto.max_upload_size_mb == 20  # the browser refuses more before sending


# --- classes, labels and failed runs on the page (issue 15, points 1 and 6) ----------------------


def test_a_class_is_renamed_from_the_drawings_view(monkeypatch, canvas, data, model):
    before = dataset.count_images(data)["triangle"]
    at = open_page(monkeypatch, data, model)
    at.selectbox(key="label_choice").select("triangle").run()
    browse(at, "triangle", "train")
    at.text_input(key="rename-triangle").input("  pyramid  ")
    button(at, "Rename").click().run()
    assert not at.exception, at.exception
    counts = dataset.count_images(data)
    assert "triangle" not in counts and counts["pyramid"] == before
    assert "Renamed the class triangle to pyramid" in at.toast[0].value
    assert at.selectbox(key="browse_class").value == "pyramid"  # still looking at it
    assert "pyramid" in counts_table(at)
    show(at, "Draw")
    assert quick_button(at, "pyramid").label == f"pyramid {before['train']}/{before['test']}"
    assert at.selectbox(key="label_choice").value == "pyramid"  # the label box followed it


def test_a_refused_new_class_name_says_why_in_one_line(monkeypatch, canvas, data, model):
    before = snapshot(data.parent)
    at = open_page(monkeypatch, data, model)
    browse(at, "circle", "train")
    for name, message in [
        ("Triangle", "Differs only by case from 'triangle'"),
        ("a/b", "'/' is not allowed"),
    ]:
        at.text_input(key="rename-circle").input(name)
        button(at, "Rename").click().run()
        assert not at.exception and not at.error, name
        assert message in refusal(at), name
        assert snapshot(data.parent) == before, name
    assert at.text_input(key="rename-circle").proto.max_chars == dataset.MAX_LABEL_LENGTH


def test_deleting_a_class_asks_first_then_removes_it_with_its_drawings(
    monkeypatch, canvas, data, model
):
    counts = dataset.count_images(data)["rectangle"]
    at = open_page(monkeypatch, data, model)
    browse(at, "rectangle", "test")
    button(at, "Delete the class rectangle…").click().run()
    # Nothing is gone yet: the page asks, with what would go.
    assert dataset.count_images(data)["rectangle"] == counts
    total = counts["train"] + counts["test"]
    (warning,) = [w for w in at.warning if "This cannot be undone" in w.value]
    assert f"its {total} drawings ({counts['train']} train, {counts['test']} test)" in warning.value
    button(at, "Keep it").click().run()
    assert not [w for w in at.warning if "This cannot be undone" in w.value]
    assert dataset.count_images(data)["rectangle"] == counts
    button(at, "Delete the class rectangle…").click().run()
    button(at, "Delete rectangle and its drawings").click().run()
    assert not at.exception, at.exception
    assert "rectangle" not in dataset.count_images(data)
    assert not any((data / split / "rectangle").exists() for split in ("train", "test"))
    assert f"Deleted the class rectangle and its {total} drawings" in at.toast[0].value
    assert "rectangle" not in counts_table(at)
    show(at, "Draw")
    assert [b.key for b in at.button if b.key.startswith("quick-")] == [
        "quick-circle",
        "quick-triangle",
    ]


def test_spaces_around_a_new_class_name_are_dropped_and_the_field_is_capped(
    monkeypatch, canvas, data, model
):
    canvas.draw(drawing("triangle"))
    at = open_page(monkeypatch, data, model)
    at.selectbox(key="label_choice").select("+ New class…").run()
    field = at.text_input(key="new_label")
    assert field.proto.max_chars == dataset.MAX_LABEL_LENGTH == 40
    field.input("  star ")
    button(at, "Save drawing").click().run()
    assert not refusal(at)
    assert dataset.count_images(data)["star"] == {"train": 1, "test": 0}


def test_a_name_longer_than_the_field_allows_is_refused_in_one_short_line():
    """The fields take 40 characters; a longer name from anywhere else gets one short line, not
    the dataset's whole rule with the name echoed."""
    from page.common import label_refusal

    assert label_refusal("x" * 300) == "Too long: 300 of at most 40 characters"
    assert label_refusal("x" * 40) is None
    assert label_refusal("") == "Type a name for the new class first."


def test_a_refusal_of_a_one_click_save_stays_out_of_the_row_of_class_buttons(
    monkeypatch, canvas, data, model
):
    at = open_page(monkeypatch, data, model)

    def slot_place():
        """Where the refusal line sits in the page's tree, and the row of class buttons."""
        for path, node in walk_with_paths(at.main):
            if getattr(node, "type", None) == "html" and "data-refusal=" in node.proto.body:
                return path
        raise AssertionError("no refusal line")

    place = slot_place()
    assert refusal(at) == ""  # the slot is there, empty, before anything is refused
    quick_button(at, "circle").click().run()  # a blank canvas
    assert "canvas is blank" in refusal(at)
    assert not at.error  # no box anywhere, none inside the row of buttons
    assert slot_place() == place
    row = next(block for block in blocks(at.main) if "quick-circle" in keys_in(block))
    assert all(child.type == "button" for child in leaves(row))


def walk_with_paths(node, path=()):
    for index, child in sorted(getattr(node, "children", {}).items()):
        yield (*path, index), child
        yield from walk_with_paths(child, (*path, index))


def blocks(node):
    for _, child in walk_with_paths(node):
        if hasattr(child, "children"):
            yield child


def leaves(node):
    for _, child in walk_with_paths(node):
        if not hasattr(child, "children"):
            yield child


def keys_in(node) -> list[str]:
    """Widget keys directly inside a block (not in blocks within it)."""
    return [getattr(child, "key", None) for child in node.children.values()]


def test_a_failed_run_started_under_the_canvas_says_why_there(monkeypatch, canvas, data, tmp_path):
    for name in ("rectangle", "triangle"):
        for split in ("train", "test"):
            shutil.rmtree(data / split / name)
    at = open_page(monkeypatch, data, tmp_path / "one.keras")
    button(at, "Train model").click().run()  # in the Draw view
    wait_for(at, lambda: not button(at, "Train model").disabled, timeout=120)
    assert view_of(at) == "Draw"
    assert "Training failed" in texts(at.error) and "at least 2 classes" in texts(at.error)
    assert not (tmp_path / "one.keras").exists()


# --- a model file the page cannot use (issue 14) -------------------------------------------------


def test_a_model_file_of_random_bytes_is_named_in_one_line_and_a_new_one_can_be_trained(
    monkeypatch, canvas, data, tmp_path
):
    bad = tmp_path / "bad.keras"
    bad.write_bytes(np.random.default_rng(0).bytes(5000))
    canvas.draw(drawing("circle"))
    at = open_page(monkeypatch, data, bad)
    assert not at.exception, at.exception
    (error,) = at.error
    assert error.value.startswith("The model file cannot be used:") and "\n" not in error.value
    assert metric(at, "Prediction") is None
    # The rest of the page is there: saving works, and Train is one click away.
    assert button(at, "Save drawing") and quick_button(at, "circle")
    assert "cannot be used" in texts(at.caption)
    show(at, "Train")
    assert "cannot be used" in texts(section(at, "Model", "error"))
    set_training(at, epochs=2)
    show(at, "Draw")
    button(at, "Train model").click().run()
    wait_for(at, lambda: metric(at, "Prediction") is not None, timeout=120)
    assert not at.error
    from shapecnn.inference import Classifier

    assert Classifier.load(bad).classes == ["circle", "rectangle", "triangle"]


def test_any_error_reading_the_model_file_leaves_the_page_whole(
    monkeypatch, canvas, data, tmp_path
):
    """Whatever a malformed file makes the loader raise (not only shapecnn's own errors), the
    page says it in one line and keeps the save panel and the Train button."""
    from shapecnn import views
    from shapecnn.inference import Classifier

    odd = tmp_path / "odd.keras"
    odd.write_bytes(b"PK\x03\x04 not really")

    def broken(*_args, **_kwargs):
        raise TypeError("class_names must be a list, got int")

    monkeypatch.setattr(Classifier, "load", broken)
    monkeypatch.setattr(views, "model_info", broken)
    canvas.draw(drawing("triangle"))
    at = open_page(monkeypatch, data, odd)
    assert not at.exception, at.exception
    assert "The model file cannot be used: TypeError: class_names must be" in texts(at.error)
    assert not button(at, "Train model").disabled and button(at, "Save drawing")
    show(at, "Train")
    assert not at.exception, at.exception
    assert "TypeError" in texts(section(at, "Model", "error"))
    assert not button(at, "Train model").disabled


# --- the page's rooms (issue 15) ----------------------------------------------------------------


def test_the_session_state_is_touched_only_by_the_state_module_and_the_package_never_by_the_page():
    """One typed place for what the page keeps per session (page/state.py); the shapecnn package
    stays free of streamlit, so the CLI and the training process never load it."""
    root = APP.parent
    for path in [APP, *sorted((root / "page").glob("*.py"))]:
        if path.name != "state.py":
            assert "session_state" not in path.read_text(), path.name
    for path in sorted((root / "shapecnn").glob("*.py")):
        text = path.read_text()
        assert "import streamlit" not in text and "from streamlit" not in text, path.name


def test_after_a_restart_the_train_view_shows_the_current_models_results(
    monkeypatch, canvas, data, model
):
    """A new server process has no training job: the results come from the model file."""
    from shapecnn.model import read_metadata

    at = open_page(monkeypatch, data, model)
    show(at, "Train")
    metadata = read_metadata(model)
    shown = metric(at, "Test accuracy", section(at, "Train"))
    assert shown.value == f"{metadata.test_accuracy:.0%}"
    assert metric(at, "Epochs", section(at, "Train")).value == str(metadata.epochs_run)
    assert "The current model's results" in texts(at.caption)
    assert len(at.dataframe) == 1  # per-class accuracy
    assert any('"layer"' in chart.proto.spec for chart in elements(at, "vega_lite_chart"))


def test_learn_as_i_save_retrains_the_model_with_the_saved_drawing(
    monkeypatch, canvas, data, model
):
    from shapecnn.model import read_metadata

    counts = dataset.count_images(data)["circle"]
    at = open_page(monkeypatch, data, model)
    assert at.toggle(key="learn_as_i_save").value is True  # on by default
    canvas.draw(drawing("circle", seed=9))
    at.run()
    button(at, f"circle {counts['train']}/{counts['test']}").click().run()
    assert not at.exception
    # A run from the shape base starts at once; the new model has learned the new drawing.
    now = dataset.count_images(data)["circle"]
    assert sum(now.values()) == sum(counts.values()) + 1
    wait_for(at, lambda: read_metadata(model).counts["circle"] == now)
    # With the switch off, a save trains nothing.
    at.toggle(key="learn_as_i_save").set_value(False).run()
    stamp = model.stat().st_mtime_ns
    canvas.draw(drawing("circle", seed=10))
    at.run()
    at.selectbox(key="label_choice").select("circle")
    button(at, "Save drawing").click().run()
    assert not at.exception
    time.sleep(3)
    assert model.stat().st_mtime_ns == stamp
