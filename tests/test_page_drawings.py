"""The Drawings view through Streamlit's AppTest: selecting thumbnails (one, all, none), delete
into the bin and Undo, what the model says under each thumbnail and the "model disagrees most
first" order (issue 15 point 4); the per-session upload limit, and uploads dropped from the
server's memory (issue 14)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path
from typing import ClassVar

import pytest
from streamlit.testing.v1 import AppTest, local_script_runner
from test_app import button, counts_table, elements, refusal, texts

from page.drawings import DISAGREES_FIRST
from shapecnn import dataset
from shapecnn.config import PROJECT_ROOT
from shapecnn.synth import synth_dataset

from helpers import make_dataset

APP = Path(__file__).resolve().parent.parent / "app.py"
TIMEOUT = 60
MB = 1024 * 1024


@pytest.fixture(scope="session")
def trained(tmp_path_factory) -> Path:
    """A small dataset and a model trained on it (its folder: shapes/, model.keras), by the CLI
    in a child process: with Keras imported here, Streamlit would clear Keras' session after
    every AppTest run (GUIDE.md), half a second each."""
    root = make_dataset(tmp_path_factory.mktemp("drawings") / "shapes", per_class=12, seed=1)
    model = root.parent / "model.keras"
    command = ["train", "--data", str(root), "--model", str(model), "--epochs", "60"]
    done = subprocess.run(
        [sys.executable, "-m", "shapecnn", *command],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return root.parent


@pytest.fixture
def data(trained, tmp_path) -> Path:
    """A private copy of the dataset the model was trained on, free to change."""
    return Path(shutil.copytree(trained / "shapes", tmp_path / "shapes"))


@pytest.fixture
def model(trained, tmp_path) -> Path:
    return Path(shutil.copy(trained / "model.keras", tmp_path / "model.keras"))


def drawings_view(monkeypatch, data: Path, model: Path) -> AppTest:
    """The page opened on the Drawings view (as ?view=Drawings does), its first check of every
    file done (AppTest does not poll: run again, as the poll would)."""
    monkeypatch.setenv("SHAPECNN_DATA", str(data))
    monkeypatch.setenv("SHAPECNN_MODEL", str(model))
    monkeypatch.setenv("SHAPECNN_FIRST_MODEL", "0")  # no model file means no model here
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    at.query_params["view"] = "Drawings"
    at.run()
    for _ in range(200):
        assert not at.exception, at.exception
        if "Checking every file" not in texts(at.caption):
            break
        at.run()
    assert at.segmented_control(key="view").value == "Drawings"
    return at


def browse(at: AppTest, label: str, split: str) -> None:
    at.selectbox(key="browse_class").select(label)
    at.radio(key="browse_split").set_value(split)
    at.run()
    assert not at.exception, at.exception


def picks(at: AppTest) -> dict[str, bool]:
    """{file name: ticked} of the thumbnails on screen, in page order."""
    return {box.label: box.value for box in at.checkbox if box.key.startswith("pick-")}


def click(at: AppTest, name: str) -> None:
    """A click on a thumbnail: its checkbox (the whole thumbnail is its label in the browser)."""
    box = at.checkbox(key=f"pick-{name}")
    (box.uncheck() if box.value else box.check()).run()
    assert not at.exception, at.exception


def on_disk(root: Path, split: str, label: str) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in dataset.list_images(root, split, label)}


class _Verdicts(HTMLParser):
    def __init__(self):
        super().__init__()
        self.rows = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if "data-drawing" in attrs:
            self.rows.append(
                {
                    "drawing": attrs["data-drawing"],
                    "class": attrs["data-predicted"],
                    "confidence": float(attrs["data-confidence"]),
                    "wrong": attrs["data-wrong"] == "1",
                }
            )


def verdicts(at: AppTest) -> list[dict]:
    """What the page says the model thinks, under each thumbnail, in page order."""
    parser = _Verdicts()
    for element in elements(at, "html"):
        parser.feed(element.proto.body)
    return parser.rows


# --- selecting ----------------------------------------------------------------------------------


def test_a_click_selects_a_thumbnail_and_select_all_takes_every_page(monkeypatch, tmp_path, model):
    big = tmp_path / "big"
    synth_dataset(big, per_class=40, seed=2, classes=["circle", "rectangle"], test_fraction=0)
    at = drawings_view(monkeypatch, big, model)
    browse(at, "circle", "train")
    first_page = list(picks(at))
    assert len(first_page) == 24 and not any(picks(at).values())
    assert button(at, "Delete").disabled and button(at, "Select none").disabled
    click(at, first_page[3])
    assert [name for name, ticked in picks(at).items() if ticked] == [first_page[3]]
    assert not button(at, "Delete (1)").disabled
    click(at, first_page[3])  # a second click lets go
    assert not any(picks(at).values())
    button(at, "Select all (40)").click().run()
    assert all(picks(at).values())
    assert button(at, "Delete (40)") and button(at, "Move to rectangle (40)")
    at.number_input(key="browse_page-circle-train").set_value(2).run()
    assert len(picks(at)) == 16 and all(picks(at).values())  # every page of circle/train
    click(at, next(iter(picks(at))))
    assert button(at, "Delete (39)")
    button(at, "Select none").click().run()
    assert not any(picks(at).values()) and button(at, "Delete").disabled
    # A selection belongs to the class and split on screen.
    button(at, "Select all (40)").click().run()
    browse(at, "rectangle", "train")
    assert not any(picks(at).values()) and button(at, "Delete").disabled


# --- delete and undo ----------------------------------------------------------------------------


def test_a_delete_goes_to_the_bin_and_undo_puts_the_drawings_back(monkeypatch, data, model):
    at = drawings_view(monkeypatch, data, model)
    browse(at, "triangle", "train")
    before = on_disk(data, "train", "triangle")
    counts = counts_table(at)["triangle"]
    victims = list(picks(at))[:2]
    for name in victims:
        click(at, name)
    button(at, "Delete (2)").click().run()
    assert not at.exception and not at.error
    assert "Deleted 2 drawings" in at.toast[0].value
    assert set(on_disk(data, "train", "triangle")) == set(before) - set(victims)
    assert counts_table(at)["triangle"]["train"] == counts["train"] - 2
    binned = {p.name: p.read_bytes() for p in (data / ".bin").rglob("*.png")}
    assert binned == {name: before[name] for name in victims}
    assert set(picks(at)) == set(before) - set(victims) and not any(picks(at).values())
    assert "Deleted 2 drawings of triangle (train); they wait 7 days in the dataset's bin." in (
        texts(at.caption)
    )
    at.button(key="browse_undo").click().run()
    assert not at.exception and not at.error
    assert "Restored 2 drawings of triangle" in at.toast[0].value
    assert on_disk(data, "train", "triangle") == before  # the same names and bytes
    assert counts_table(at)["triangle"] == counts
    assert list((data / ".bin").rglob("*.png")) == []
    assert not [b for b in at.button if b.key == "browse_undo"]  # done: no second undo


def test_undo_brings_back_a_whole_class_and_split_deleted_with_select_all(monkeypatch, data, model):
    at = drawings_view(monkeypatch, data, model)
    browse(at, "circle", "test")
    before = on_disk(data, "test", "circle")
    button(at, f"Select all ({len(before)})").click().run()
    button(at, f"Delete ({len(before)})").click().run()
    assert not (data / "test" / "circle").exists()  # its last drawing went: so did its folder
    assert counts_table(at)["circle"]["test"] == 0
    at.button(key="browse_undo").click().run()
    assert on_disk(data, "test", "circle") == before


def test_an_undo_that_would_replace_a_file_says_why_in_one_line_and_restores_nothing(
    monkeypatch, data, model
):
    at = drawings_view(monkeypatch, data, model)
    browse(at, "rectangle", "train")
    victims = list(picks(at))[:2]
    for name in victims:
        click(at, name)
    button(at, "Delete (2)").click().run()
    taken = data / "train" / "rectangle" / victims[0]
    taken.write_bytes(b"a file that took the name since")
    at.button(key="browse_undo").click().run()
    assert not at.exception
    assert (
        refusal(at) == f"cannot undo: train/rectangle/{victims[0]} exists again; nothing restored"
    )
    assert taken.read_bytes() == b"a file that took the name since"
    assert not (data / "train" / "rectangle" / victims[1]).exists()
    taken.unlink()
    at.button(key="browse_undo").click().run()  # the offer stays: once the name is free, it works
    assert {victims[0], victims[1]} <= set(on_disk(data, "train", "rectangle"))


def test_a_selected_drawing_gone_meanwhile_is_left_out_of_the_delete_and_the_undo(
    monkeypatch, data, model
):
    at = drawings_view(monkeypatch, data, model)
    browse(at, "circle", "train")
    first, second = list(picks(at))[:2]
    click(at, first)
    click(at, second)
    (data / "train" / "circle" / second).unlink()  # deleted in another tab, say
    kept = (data / "train" / "circle" / first).read_bytes()
    button(at, "Delete (2)").click().run()  # the button as it was on screen
    assert not at.exception and not at.error
    assert "Deleted 1 drawing" in at.toast[0].value
    assert {first, second}.isdisjoint(on_disk(data, "train", "circle"))
    at.button(key="browse_undo").click().run()
    assert "Restored 1 drawing of circle" in at.toast[0].value
    assert on_disk(data, "train", "circle")[first] == kept
    assert second not in on_disk(data, "train", "circle")


# --- what the model says ------------------------------------------------------------------------


def test_each_thumbnail_shows_the_models_class_and_confidence(monkeypatch, data, model):
    from shapecnn.inference import Classifier

    at = drawings_view(monkeypatch, data, model)
    browse(at, "circle", "train")
    shown = verdicts(at)
    assert [row["drawing"] for row in shown] == list(picks(at))  # one under every thumbnail
    classifier = Classifier.load(model)
    folder = data / "train" / "circle"
    for row in shown:
        expected = classifier.predict(folder / row["drawing"])
        assert row["class"] == expected.label
        assert row["confidence"] == pytest.approx(expected.confidence, abs=1e-4)
        assert row["wrong"] == (expected.label != "circle")
    assert "Under each: what the model says it is." in texts(at.caption)


def test_model_disagrees_most_first_puts_likely_mislabels_on_top(monkeypatch, data, model):
    from shapecnn.inference import Classifier

    # Two triangles saved as circles, the oldest drawings of the class (last, newest first).
    mislabels = []
    for index, path in enumerate(dataset.list_images(data, "train", "triangle")[:2]):
        target = data / "train" / "circle" / f"20000101-000000-00000{index}-0000000{index}.png"
        shutil.copy(path, target)
        mislabels.append(target.name)
    at = drawings_view(monkeypatch, data, model)
    browse(at, "circle", "train")
    assert set(list(picks(at))[-2:]) == set(mislabels)  # newest first: last
    order = at.segmented_control(key="browse_order")
    assert order.options == ["Newest first", "Model disagrees most first"]
    order.set_value(DISAGREES_FIRST).run()
    assert not at.exception, at.exception
    shown = verdicts(at)
    classifier = Classifier.load(model)
    wrong = sorted(
        (classifier.predict(data / "train" / "circle" / name) for name in mislabels),
        key=lambda p: -p.confidence,
    )
    assert [row["wrong"] for row in shown[:2]] == [True, True]
    assert {row["drawing"] for row in shown[:2]} == set(mislabels)
    assert [row["confidence"] for row in shown[:2]] == pytest.approx(
        [p.confidence for p in wrong], abs=1e-4
    )
    agreeing = [row["confidence"] for row in shown[2:]]
    assert not any(row["wrong"] for row in shown[2:])
    assert agreeing == sorted(agreeing)  # then the least sure first
    assert "drawings, model disagrees most first" in texts(at.caption)


def test_without_a_model_the_thumbnails_show_no_verdicts_and_no_order(monkeypatch, data, tmp_path):
    at = drawings_view(monkeypatch, data, tmp_path / "none.keras")
    browse(at, "circle", "train")
    assert picks(at) and verdicts(at) == []
    assert not [c for c in at.segmented_control if c.key == "browse_order"]


def test_a_model_file_that_cannot_be_used_is_named_and_the_thumbnails_still_show(
    monkeypatch, data, tmp_path
):
    broken = tmp_path / "broken.keras"
    broken.write_bytes(os.urandom(2000))
    at = drawings_view(monkeypatch, data, broken)
    browse(at, "circle", "train")
    assert not at.exception
    assert "The model file cannot be used" in texts(at.caption)
    assert picks(at) and verdicts(at) == []


# --- the upload limit per session ---------------------------------------------------------------


class RecordingFileManager(local_script_runner.MemoryUploadedFileManager):
    """Streamlit's own in-memory manager of uploaded files, remembered, to look inside later."""

    made: ClassVar[list] = []

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        RecordingFileManager.made.append(self)


def held_bytes() -> int:
    """What the uploaded-file manager of the last run still holds for the session."""
    manager = RecordingFileManager.made[-1]
    return sum(len(f.data) for files in manager.file_storage.values() for f in files.values())


def uploader(at: AppTest):
    (found,) = [u for u in at.get("file_uploader") if u.key.startswith("uploads-")]
    return found


def test_uploads_past_the_session_limit_are_refused_in_one_line_and_dropped(
    monkeypatch, data, model
):
    # AppTest makes a new manager for each run, filled with what the uploader holds: what one
    # run's manager holds at its end is what the server would go on holding.
    RecordingFileManager.made = []
    monkeypatch.setattr(local_script_runner, "MemoryUploadedFileManager", RecordingFileManager)
    at = drawings_view(monkeypatch, data, model)
    before = {p: p.read_bytes() for p in data.rglob("*") if p.is_file()}
    for index in range(5):  # 5 x 19 MB, each under the 20 MB a file, one after the other
        uploader(at).set_value([(f"big-{index}.png", b"\0" * (19 * MB), "image/png")])
        at.run()
        assert not at.exception and refusal(at) == ""
        assert held_bytes() == 19 * MB  # the one in the uploader
    uploader(at).set_value([("one-too-many.png", b"\0" * (19 * MB), "image/png")])
    at.run()
    assert not at.exception
    assert refusal(at) == (
        "Upload refused: this session has already sent 95 MB of at most 100 MB (these files: 19 MB)"
    )
    assert held_bytes() == 0  # dropped from the server's memory
    assert not uploader(at).value  # the uploader is empty
    at.run()
    assert refusal(at) == ""  # said once
    assert {p: p.read_bytes() for p in data.rglob("*") if p.is_file()} == before


def test_an_imported_upload_is_dropped_from_the_servers_memory(monkeypatch, data, model):
    from test_app import png_bytes

    RecordingFileManager.made = []
    monkeypatch.setattr(local_script_runner, "MemoryUploadedFileManager", RecordingFileManager)
    at = drawings_view(monkeypatch, data, model)
    at.selectbox(key="import_choice").select("circle").run()
    uploader(at).set_value([("a.png", png_bytes("circle"), "image/png")])
    at.run()
    assert held_bytes() > 0
    button(at, "Import").click().run()
    assert "Imported 1 drawing" in at.toast[0].value
    assert held_bytes() == 0  # imported: dropped from the server's memory
    assert not uploader(at).value
