"""The Train view's results through AppTest: the confusion matrix as a heat map, readable curves,
fixing a test drawing the model got wrong (move it to its class, or delete it), and the honest
guidance (accuracy with its count, small test splits, unbalanced classes, how long training
takes, times as "2 min ago"). The pure functions behind them are tested at the end.

One small model is trained for the whole file, on a synthetic dataset with one deliberate
mislabel: a neat circle filed under test/triangle, which the model calls a circle. The model's
results name the drawings by their path, so each test gets the dataset back as it was trained
on, in the same folder.
"""

from __future__ import annotations

import io
import json
import shutil
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path

import pyarrow as pa
import pytest
from streamlit.testing.v1 import AppTest

from page import templates
from page.results import small_test_warnings, when_html
from page.text import duration, time_ago
from page.train import balance_warning, last_run_text
from shapecnn import dataset, jobs, views
from shapecnn.model import read_metadata

from helpers import make_mislabelled

APP = Path(__file__).resolve().parent.parent / "app.py"
TIMEOUT = 60
CLASSES = ["circle", "rectangle", "triangle"]


# --- fixtures and helpers -----------------------------------------------------------------------


@pytest.fixture(scope="session")
def mislabelled(tmp_path_factory) -> dict:
    """{"data", "pristine", "model", "wrong"}: a dataset with a circle filed under test/triangle
    (`wrong`), a model trained on it, and a copy of the dataset as it was trained on."""
    folder = tmp_path_factory.mktemp("results")
    root, wrong, model = make_mislabelled(folder)
    shutil.copytree(root, folder / "pristine")
    return {"data": root, "pristine": folder / "pristine", "model": model, "wrong": wrong}


def restored(mislabelled: dict) -> Path:
    """The dataset as the model was trained on it, where its results say its drawings are."""
    root = mislabelled["data"]
    shutil.rmtree(root)
    shutil.copytree(mislabelled["pristine"], root)
    return root


@pytest.fixture
def data(mislabelled) -> Path:
    return restored(mislabelled)


@pytest.fixture
def model(mislabelled, tmp_path) -> Path:
    return Path(shutil.copy(mislabelled["model"], tmp_path / "model.keras"))


@pytest.fixture(scope="module")
def shown(mislabelled, tmp_path_factory) -> tuple[AppTest, Path]:
    """(page, model): the Train view opened once, for the tests that only look at it."""
    data = restored(mislabelled)
    model = Path(shutil.copy(mislabelled["model"], tmp_path_factory.mktemp("shown") / "m.keras"))
    with pytest.MonkeyPatch.context() as monkeypatch:
        yield train_view(monkeypatch, data, model), model


def train_view(monkeypatch, data: Path, model: Path) -> AppTest:
    """The page opened on the Train view (a bookmark), as a person would find it."""
    monkeypatch.setenv("SHAPECNN_DATA", str(data))
    monkeypatch.setenv("SHAPECNN_MODEL", str(model))
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    at.query_params["view"] = "Train"
    at.run()
    assert not at.exception, at.exception
    return at


def elements(at: AppTest, kind: str) -> list:
    """Every element of a kind, in page order, including those AppTest has no class for."""
    found = []

    def walk(node):
        for _, child in sorted(getattr(node, "children", {}).items()):
            if getattr(child, "type", None) == kind:
                found.append(child)
            walk(child)

    walk(at.main)
    return found


def charts(at: AppTest) -> list[tuple[dict, list[dict]]]:
    """(spec, rows) of every Vega-Lite chart on the page."""
    return [
        (
            json.loads(chart.proto.spec),
            pa.ipc.open_stream(io.BytesIO(chart.proto.data.data)).read_all().to_pylist(),
        )
        for chart in elements(at, "vega_lite_chart")
    ]


def heat_map(at: AppTest) -> tuple[dict, list[dict]]:
    maps = [(spec, rows) for spec, rows in charts(at) if "layer" in spec]
    assert len(maps) == 1, "one confusion matrix"
    return maps[0]


def texts(at: AppTest, kind: str) -> list[str]:
    return [str(element.value) for element in elements(at, kind)]


def button(at: AppTest, label: str):
    matches = [b for b in at.button if b.label == label]
    assert matches, f"no button {label!r} in {[b.label for b in at.button]}"
    return matches[0]


def metrics(at: AppTest, label: str) -> list:
    return [m for m in at.metric if m.label == label]


def counts_shown(at: AppTest) -> dict[str, dict[str, int]]:
    """The Dataset panel's counts (the last table on the page), without the total row."""
    frame = elements(at, "table")[-1].value
    return {
        row["class"]: {"train": row["train"], "test": row["test"]}
        for row in frame.to_dict("records")
        if row["class"] != "total"
    }


class _Spans(HTMLParser):
    def __init__(self):
        super().__init__()
        self.spans: list[dict] = []

    def handle_starttag(self, tag, attrs):
        if tag == "span":
            self.spans.append(dict(attrs))

    def handle_data(self, data):
        if self.spans and "text" not in self.spans[-1]:
            self.spans[-1]["text"] = data


def time_spans(caption: str) -> list[dict]:
    parser = _Spans()
    parser.feed(caption)
    return [span for span in parser.spans if "title" in span]


# --- the results on screen ---------------------------------------------------------------------


def test_the_confusion_matrix_is_a_heat_map_with_its_counts_in_the_cells(shown):
    at, model = shown
    metrics_ = read_metadata(model).test_metrics
    spec, cells = heat_map(at)
    # Rows are the true class, columns the predicted one, in the model's class order.
    assert spec["encoding"]["y"]["field"] == "true" and spec["encoding"]["y"]["sort"] == CLASSES
    assert spec["encoding"]["x"]["field"] == "predicted"
    assert spec["encoding"]["x"]["sort"] == CLASSES
    assert [layer["mark"]["type"] for layer in spec["layer"]] == ["rect", "text"]
    assert spec["layer"][0]["encoding"]["color"]["field"] == "count"
    assert spec["layer"][1]["encoding"]["text"]["field"] == "count"  # written in the cells
    matrix = [[0] * 3 for _ in CLASSES]
    for cell in cells:
        matrix[CLASSES.index(cell["true"])][CLASSES.index(cell["predicted"])] = cell["count"]
    assert matrix == metrics_["confusion"]
    assert matrix[CLASSES.index("triangle")][CLASSES.index("circle")] >= 1  # the mislabel
    assert sum(cell["count"] for cell in cells) == metrics_["count"]
    # It replaces the plain table.
    assert all("true \\ predicted" not in frame.value.columns for frame in at.dataframe)


def test_the_curves_are_300_px_high_with_axis_titles_and_a_legend(shown):
    at, model = shown
    curves = [(spec, rows) for spec, rows in charts(at) if "layer" not in spec]
    assert [spec["title"]["text"] for spec, _ in curves] == ["Loss per epoch", "Accuracy per epoch"]
    epochs = read_metadata(model).epochs_run
    for (spec, rows), y_title in zip(curves, ["Loss", "Accuracy"], strict=True):
        assert spec["height"] == 300
        assert spec["encoding"]["x"]["title"] == "Epoch"
        assert spec["encoding"]["y"]["title"] == y_title
        legend = spec["encoding"]["color"]
        assert legend["field"] == "split" and legend["legend"] and legend["title"]
        assert {row["split"] for row in rows} == {"train", "test"}
        assert max(row["epoch"] for row in rows) == epochs


def test_accuracy_is_shown_with_the_number_of_drawings_it_was_measured_on(shown):
    at, model = shown
    metrics_ = read_metadata(model).test_metrics
    shown = metrics(at, "Test accuracy")
    assert len(shown) == 2  # the results, and the model panel beside them
    for metric in shown:
        assert metric.value == f"{metrics_['accuracy']:.0%}"
        assert metric.proto.delta == f"of {metrics_['count']} test drawings"
    per_class = next(f.value for f in at.dataframe if "accuracy" in f.value.columns)
    assert dict(zip(per_class["class"], per_class["test drawings"], strict=True)) == {
        "circle": 3,
        "rectangle": 3,
        "triangle": 4,
    }


def test_small_test_splits_are_called_out_with_their_count(shown):
    at, model = shown
    warnings = " ".join(texts(at, "warning"))
    per_class = read_metadata(model).test_metrics["per_class"]
    for name, count in [("circle", 3), ("rectangle", 3), ("triangle", 4)]:
        assert f"{name}: {per_class[name]:.0%} of {count} test drawings says little" in warnings
    # Balanced classes (9 training drawings each) get no warning about balance.
    assert "Unbalanced" not in warnings


def test_unbalanced_classes_are_warned_about_before_training(monkeypatch, data, model):
    for path in dataset.list_images(data, "train", "triangle")[:6]:
        path.unlink()  # 9 circles and rectangles against 3 triangles
    at = train_view(monkeypatch, data, model)
    warnings = texts(at, "warning")
    assert (
        "Unbalanced classes: circle has 9 training drawings, triangle only 3. "
        "The model will lean towards circle; draw more triangle."
    ) in warnings


def test_the_page_says_how_long_training_took_last_time(monkeypatch, data, model):
    at = train_view(monkeypatch, data, model)
    seconds = read_metadata(model).train_seconds
    line = f"took {duration(seconds)} to fit"
    captions = [c for c in texts(at, "caption") if line in c]
    assert captions and "default recipe, 27 training drawings" in captions[0]
    assert "expect about as long" in captions[0]
    assert "a few seconds" not in " ".join(texts(at, "caption"))
    at.selectbox(key="recipe_name").select("tutorial").run()
    captions = [c for c in texts(at, "caption") if line in c]
    assert "the tutorial recipe may take quite a different time" in captions[0]


def test_times_read_as_ago_with_the_full_time_on_hover(shown):
    at, model = shown
    trained = views.trained_time(read_metadata(model))
    spans = [span for caption in texts(at, "caption") for span in time_spans(caption)]
    assert len(spans) == 2  # the model panel, and the results' heading
    for span in spans:
        assert span["title"] == trained.strftime("%Y-%m-%d %H:%M:%S")
        assert span["text"].endswith("ago") or span["text"] == "just now"


# --- fixing what the model got wrong -------------------------------------------------------------


def pick(at: AppTest, wrong: Path) -> None:
    """Click the misclassified drawing (its card's button)."""
    at.button(key=f"fix-{wrong.name}").click().run()
    assert not at.exception, at.exception


def test_a_click_on_a_wrong_drawing_moves_it_to_the_class_picked(
    monkeypatch, data, model, mislabelled
):
    wrong = mislabelled["wrong"]
    at = train_view(monkeypatch, data, model)
    captions = [c for image in elements(at, "image") for c in image.captions]
    assert any(c.startswith("triangle → circle") for c in captions)
    assert not [s for s in at.selectbox if s.key.startswith("fix_target")]  # nothing picked yet
    pick(at, wrong)
    target = at.selectbox(key=f"fix_target-{wrong.name}")
    assert target.value == "circle"  # what the model said, first
    assert target.options == ["circle", "rectangle"]  # the other classes
    before = counts_shown(at)
    button(at, "Move to circle").click().run()
    assert not at.exception, at.exception
    # The file moved within its split, by the dataset's own move.
    assert not wrong.exists()
    assert len(dataset.list_images(data, "test", "circle")) == before["circle"]["test"] + 1
    assert len(dataset.list_images(data, "test", "triangle")) == before["triangle"]["test"] - 1
    # One line says what happened, the card says the model has not learnt it yet.
    assert texts(at, "success") == [
        f"Moved {wrong.name} from test/triangle to test/circle: "
        "the model learns it when you train again."
    ]
    captions = " ".join(texts(at, "caption"))
    assert "**moved to circle**, not retrained yet" in captions
    assert "1 drawing changed since this model was trained" in captions
    assert counts_shown(at)["circle"]["test"] == before["circle"]["test"] + 1
    assert not [b for b in at.button if (b.key or "").startswith("fix-")]  # done with it
    # The line is said once; the mark stays.
    at.run()
    assert not texts(at, "success")
    assert "**moved to circle**, not retrained yet" in " ".join(texts(at, "caption"))


def test_a_wrong_drawing_can_be_deleted_from_the_results(monkeypatch, data, model, mislabelled):
    wrong = mislabelled["wrong"]
    at = train_view(monkeypatch, data, model)
    pick(at, wrong)
    button(at, "Delete it").click().run()
    assert not at.exception, at.exception
    assert not wrong.exists()
    assert texts(at, "success") == [
        f"Deleted {wrong.name} from test/triangle: the model learns it when you train again."
    ]
    assert "**deleted**, not retrained yet" in " ".join(texts(at, "caption"))


def test_close_puts_the_drawing_back_untouched(monkeypatch, data, model, mislabelled):
    wrong = mislabelled["wrong"]
    at = train_view(monkeypatch, data, model)
    pick(at, wrong)
    button(at, "Close").click().run()
    assert wrong.exists()
    assert not [s for s in at.selectbox if s.key.startswith("fix_target")]


def test_a_drawing_gone_since_training_says_so_and_cannot_be_picked(
    monkeypatch, data, model, mislabelled
):
    wrong = mislabelled["wrong"]
    wrong.unlink()  # deleted in the Drawings view, say
    at = train_view(monkeypatch, data, model)
    assert "gone since training" in texts(at, "caption")
    assert not [b for b in at.button if (b.key or "") == f"fix-{wrong.name}"]


# --- the pure functions behind them -------------------------------------------------------------


NOW = datetime(2026, 12, 1, 12, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("seconds", "said"),
    [
        (-5, "just now"),  # a clock a little ahead
        (3, "just now"),
        (42, "42 s ago"),
        (60, "1 min ago"),
        (150, "2 min ago"),
        (3599, "59 min ago"),
        (3 * 3600 + 5, "3 h ago"),
        (86400 + 10, "yesterday"),
        (5 * 86400, "5 days ago"),
        (40 * 86400, "2026-10-22"),
    ],
)
def test_time_ago_says_it_as_a_person_would(seconds, said):
    assert time_ago(NOW - timedelta(seconds=seconds), NOW) == said


def test_time_html_keeps_the_full_time_on_hover():
    then = NOW - timedelta(minutes=2)
    (span,) = time_spans(templates.time_html(then, time_ago(then, NOW)))
    assert span["text"] == "2 min ago"
    assert span["title"] == then.astimezone().strftime("%Y-%m-%d %H:%M:%S")
    assert when_html(None) == "at an unknown time"


@pytest.mark.parametrize(
    ("seconds", "said"), [(0.42, "0.4 s"), (35.4, "35 s"), (125, "2 min 5 s"), (120, "2 min")]
)
def test_duration_is_short_and_readable(seconds, said):
    assert duration(seconds) == said


def test_imbalance_is_the_biggest_against_the_smallest_from_three_times():
    def counts(*sizes):
        return {f"c{i}": {"train": n, "test": 1} for i, n in enumerate(sizes)}

    assert views.imbalance(counts(9, 4, 3)) == views.Imbalance("c0", 9, "c2", 3)
    assert views.imbalance(counts(8, 4, 3)) is None  # 2.7x
    assert views.imbalance(counts(5, 0)) == views.Imbalance("c0", 5, "c1", 0)
    assert views.imbalance(counts(0, 0)) is None
    assert views.imbalance(counts(30)) is None  # one class is not unbalanced
    assert views.imbalance(counts(3, 9), split="test") is None  # the test split: 1 each


def test_balance_warning_names_both_classes_in_one_line():
    assert balance_warning({"a": {"train": 9, "test": 3}, "b": {"train": 3, "test": 1}}) == (
        "Unbalanced classes: a has 9 training drawings, b only 3. "
        "The model will lean towards a; draw more b."
    )
    assert "b has none" in balance_warning({"a": {"train": 2, "test": 0}, "b": {"train": 0}})
    assert balance_warning({"a": {"train": 5, "test": 0}, "b": {"train": 4, "test": 0}}) is None


def test_small_test_classes_and_their_warnings():
    tested = views.test_counts(["a", "b", "c"], [[3, 0, 0], [0, 9, 1], [0, 0, 0]])
    assert tested == {"a": 3, "b": 10, "c": 0}
    assert views.small_test_classes(tested) == [("c", 0), ("a", 3)]
    result = jobs.JobResult(
        classes=["a", "b", "c"],
        counts={},
        epochs_run=1,
        seconds=1.0,
        accuracy=0.9,
        per_class={"a": 1.0, "b": 0.9, "c": None},
        confusion=[],
        misclassified=[],
        skipped=[],
        notes=[],
        model_path=None,
    )
    assert small_test_warnings(result, tested) == [
        "c has no test drawings: how well it is recognised is unknown.",
        "a: 100% of 3 test drawings says little; save at least 5 to test it.",
    ]
    many = {f"k{i}": 1 for i in range(5)}
    lines = small_test_warnings(
        jobs.JobResult(**{**result.__dict__, "per_class": dict.fromkeys(many, 0.0)}), many
    )
    assert len(lines) == 4 and lines[-1] == "2 more classes have fewer than 5 test drawings."


def test_confusion_cells_and_per_class_rows():
    assert views.confusion_cells(["a", "b"], [[3, 1], [0, 4]]) == [
        {"true": "a", "predicted": "a", "count": 3},
        {"true": "a", "predicted": "b", "count": 1},
        {"true": "b", "predicted": "a", "count": 0},
        {"true": "b", "predicted": "b", "count": 4},
    ]
    assert views.per_class_rows({"a": 0.75, "b": None}, {"a": 4}) == [
        {"class": "a", "test drawings": 4, "accuracy": 0.75},
        {"class": "b", "test drawings": 0, "accuracy": None},
    ]


def test_the_heat_map_slants_long_names_and_keeps_its_cells_square():
    words = {"true_class": "True class", "predicted": "Predicted", "drawings": "Drawings"}
    spec = templates.confusion_spec(["a", "b"], **words)
    assert spec["width"] == spec["height"] == 88
    assert spec["encoding"]["x"]["axis"]["labelAngle"] == 0
    assert spec["autosize"]["type"] == "pad"  # the cells keep their size, axes come on top
    assert templates.confusion_spec(["rectangle", "b"], **words)["encoding"]["x"]["axis"][
        "labelAngle"
    ]


def test_the_last_run_line_says_what_was_timed_and_for_which_recipe():
    counts = {"a": {"train": 20, "test": 5}, "b": {"train": 16, "test": 4}}
    assert last_run_text(35.2, "tutorial", counts, "tutorial", whole=True) == (
        "The last run took 35 s (tutorial recipe, 36 training drawings): expect about as long."
    )
    assert last_run_text(1.43, "default", counts, "tutorial", whole=False) == (
        "The current model took 1.4 s to fit, plus loading and saving (default recipe, "
        "36 training drawings); the tutorial recipe may take quite a different time."
    )
