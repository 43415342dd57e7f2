"""The page in Korean: the catalogues (page/text.py) and the page opened with ?lang=ko.

The page runs on a small synthetic dataset without a model file: the starter predictions answer
(no TensorFlow, nothing to train), and the canvas is a stand-in that returns a drawing. The Train
view's results and the Drawings view's verdicts are looked at with one small model trained for
the file (tests/helpers.py: make_mislabelled, a model with a test drawing it gets wrong).
"""

from __future__ import annotations

import json
import re
import shutil
import sys
import types
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path
from string import Formatter

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from page import text
from page.drawings import DISAGREES_FIRST
from page.text import EN, KO
from page.train import progress_text
from shapecnn import dataset, jobs
from shapecnn.config import resolve_recipe
from shapecnn.synth import draw_shape, synth_dataset

from helpers import make_mislabelled

PROJECT = Path(__file__).resolve().parent.parent
APP = PROJECT / "app.py"
TIMEOUT = 60


# --- the catalogues -----------------------------------------------------------------------------


def placeholders(text: str) -> list[tuple[str, str, str | None]]:
    """The {placeholders} of a text: (name, format spec, conversion), in order of name."""
    return sorted(
        (name, spec, conversion)
        for _literal, name, spec, conversion in Formatter().parse(text)
        if name is not None
    )


def test_every_text_is_in_both_languages_with_the_same_placeholders():
    assert EN.keys() == KO.keys(), set(EN) ^ set(KO)
    for key in EN:
        assert placeholders(EN[key]) == placeholders(KO[key]), key
        assert KO[key].strip(), key


def test_every_key_the_page_looks_up_is_in_the_catalogue():
    """t("key"), tn("key", n) and shown_as("prefix.") in the page's code name existing texts."""
    code = "\n".join(path.read_text() for path in [APP, *sorted((PROJECT / "page").glob("*.py"))])
    looked_up = re.findall(r"\bt\(\s*\"([a-z_.]+)\"", code)
    counted = re.findall(r"\btn\(\s*\"([a-z_.]+)\"", code)
    prefixes = re.findall(r"\bshown_as\(\s*\"([a-z_.]+)\"", code)
    assert len(looked_up) > 100 and counted and prefixes
    missing = [key for key in looked_up if key not in EN]
    missing += [f"{key}.{form}" for key in counted for form in ("one", "other")]
    missing = [key for key in missing if key not in EN]
    assert not missing
    for prefix in prefixes:
        assert any(key.startswith(prefix) for key in EN), prefix


def test_the_class_name_rule_is_the_packages_rule():
    assert EN["label.rule"].format(limit=dataset.MAX_LABEL_LENGTH) == dataset.LABEL_RULE


# --- the page in Korean -------------------------------------------------------------------------


@pytest.fixture
def canvas(monkeypatch) -> types.SimpleNamespace:
    """Stands in for streamlit_drawable_canvas: the canvas shows `canvas.drawing`."""
    fake = types.SimpleNamespace(drawing=None)
    module = types.ModuleType("streamlit_drawable_canvas")
    module.st_canvas = lambda **kwargs: types.SimpleNamespace(
        image_data=fake.drawing, json_data=None
    )
    monkeypatch.setitem(sys.modules, "streamlit_drawable_canvas", module)
    return fake


@pytest.fixture(scope="module")
def shapes(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("korean") / "shapes"
    synth_dataset(root, per_class=6, seed=1)
    return root


def new_page(monkeypatch, data: Path, model: Path, **query: str) -> AppTest:
    monkeypatch.setenv("SHAPECNN_DATA", str(data))
    monkeypatch.setenv("SHAPECNN_MODEL", str(model))
    monkeypatch.setenv("SHAPECNN_FIRST_MODEL", "0")  # no training: the starter answers
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    for name, value in query.items():
        at.query_params[name] = value
    at.run()
    assert not at.exception, at.exception
    return at


@pytest.fixture
def korean(monkeypatch, canvas, shapes, tmp_path) -> AppTest:
    """The page opened at ?lang=ko with a circle on the canvas."""
    canvas.drawing = np.asarray(
        draw_shape("circle", np.random.default_rng(5), hand="neat").convert("RGBA")
    ).copy()
    return new_page(monkeypatch, shapes, tmp_path / "model.keras", lang="ko")


class _VisibleText(HTMLParser):
    """The text of a piece of HTML a person can see or hear: text, alt and title; no CSS or
    script."""

    def __init__(self):
        super().__init__()
        self.parts: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("style", "script"):
            self._hidden += 1
        self.parts += [value for name, value in attrs if name in ("alt", "title") and value]

    def handle_endtag(self, tag):
        if tag in ("style", "script"):
            self._hidden -= 1

    def handle_data(self, data):
        if not self._hidden:
            self.parts.append(data)


def visible_texts(at: AppTest) -> list[str]:
    """Every text the page shows: labels, choices, help, placeholders, bodies and metrics."""
    texts = []

    def walk(node):
        proto = getattr(node, "proto", None)
        if proto is not None:
            for name in ("label", "body", "help", "placeholder", "delta"):
                value = getattr(proto, name, None)
                if isinstance(value, str) and value:
                    texts.append(value)
            for option in getattr(proto, "options", ()):
                texts.append(option if isinstance(option, str) else option.content)
            if getattr(node, "type", "") == "html" or proto.__class__.__name__ == "Html":
                parser = _VisibleText()
                parser.feed(proto.body)
                texts[-1:] = parser.parts  # the body's visible text, not its markup
        for child in getattr(node, "children", {}).values():
            walk(child)

    walk(at._tree)
    return texts


def english_fragments() -> list[str]:
    """The English catalogue's words that Korean must replace: each text's literal parts (around
    its placeholders) that differ from the Korean text's and hold a word of 3 letters or more."""
    fragments = set()
    for key, english in EN.items():
        if english == KO[key]:
            continue
        for literal, *_rest in Formatter().parse(english):
            literal = literal.strip(" .,:;()·—…*")
            if re.search(r"[A-Za-z]{3}", literal) and literal not in KO[key]:
                fragments.add(literal)
    return sorted(fragments, key=len, reverse=True)


def chart_and_table_texts(at: AppTest) -> list[str]:
    """The titles charts show (axes, legends, tooltips) and the column names of data frames."""
    texts = []

    def titles(value):
        if isinstance(value, dict):
            for key, item in value.items():
                if key in ("title", "text") and isinstance(item, str):
                    texts.append(item)
                elif key == "labelExpr":  # what the legend says for each value: "… ? 'said'"
                    texts.extend(json.loads(said) for said in re.findall(r'\? ("[^"]*")', item))
                titles(item)
        elif isinstance(value, list):
            for item in value:
                titles(item)

    def walk(node):
        kind = getattr(node, "type", "")
        if kind == "vega_lite_chart":
            titles(json.loads(node.proto.spec))
        elif kind == "dataframe" and node.proto.columns:
            for column in json.loads(node.proto.columns).values():
                texts.extend(str(column.get(name, "")) for name in ("label", "help"))
        for child in getattr(node, "children", {}).values():
            walk(child)

    walk(at._tree)
    return [text for text in texts if text]


def english_shown(at: AppTest) -> list[str]:
    """The English catalogue's fragments the page shows (as words: a folder name inside a path
    or a file layout such as train|test/<class>/<image> stays as it is on disk)."""
    joined = "\n".join(visible_texts(at) + chart_and_table_texts(at))
    return [
        fragment
        for fragment in english_fragments()
        if re.search(rf"(?<![A-Za-z/<|]){re.escape(fragment)}(?![A-Za-z/>|])", joined)
    ]


def test_the_draw_view_in_korean_shows_no_english_text(korean):
    texts = visible_texts(korean)
    joined = "\n".join(texts)
    assert "도형을 그려 보세요" in joined  # the heading
    assert "예측" in [metric.label for metric in korean.metric]
    assert {"그림 저장", "모델 학습", "지우기"} <= {button.label for button in korean.button}
    assert korean.segmented_control(key="view").options == ["그리기", "학습", "그림 모음"]
    assert korean.radio(key="split").options == ["자동", "학습", "테스트"]
    # The class names stay as they were typed; numbers are formatted as in English.
    assert "circle" in joined and re.search(r"\d+%", joined)
    assert not english_shown(korean)


def test_the_draw_view_in_korean_saves_and_says_so_in_korean(korean, shapes):
    before = len(dataset.list_images(shapes, "test", "circle"))
    korean.toggle(key="learn_as_i_save").set_value(False).run()
    korean.radio(key="split").set_value("test").run()
    korean.button(key="save").click().run()
    assert not korean.exception, korean.exception
    assert len(dataset.list_images(shapes, "test", "circle")) == before + 1
    assert any("저장했습니다" in toast.value for toast in korean.toast)


def test_the_train_and_drawings_views_in_korean(korean):
    korean.segmented_control(key="view").set_value("Train").run()
    assert not korean.exception, korean.exception
    assert "학습" in [heading.value for heading in korean.subheader]
    assert "모델" in [heading.value for heading in korean.subheader]
    assert "모델 학습" in [button.label for button in korean.button]
    assert korean.selectbox(key="recipe_name").label == "레시피"
    assert korean.selectbox(key="recipe_name").options[0].startswith("default: 도형")

    korean.segmented_control(key="view").set_value("Drawings").run()
    assert not korean.exception, korean.exception
    headings = [heading.value for heading in korean.subheader]
    assert "그림 둘러보기" in headings and "데이터셋" in headings
    assert korean.radio(key="browse_split").options == ["학습", "테스트"]
    table = korean.table[0].value
    assert list(table.columns) == ["클래스", "학습", "테스트", "합계"]
    assert table.iloc[-1]["클래스"] == "합계"


def test_switching_the_language_keeps_the_view_and_the_address_follows(
    monkeypatch, canvas, shapes, tmp_path
):
    at = new_page(monkeypatch, shapes, tmp_path / "model.keras", view="Train")
    assert at.segmented_control(key="view").value == "Train"
    assert "Train model" in [button.label for button in at.button]

    at.segmented_control(key="lang").set_value("ko").run()
    assert not at.exception, at.exception
    assert at.segmented_control(key="view").value == "Train"
    assert at.segmented_control(key="view").options == ["그리기", "학습", "그림 모음"]
    assert "모델 학습" in [button.label for button in at.button]
    assert at.query_params["lang"] == "ko"

    at.segmented_control(key="lang").set_value("en").run()
    assert not at.exception, at.exception
    assert at.segmented_control(key="view").value == "Train"
    assert "Train model" in [button.label for button in at.button]
    assert "lang" not in at.query_params


def test_a_link_naming_the_view_in_english_opens_it_in_korean(
    monkeypatch, canvas, shapes, tmp_path
):
    at = new_page(monkeypatch, shapes, tmp_path / "model.keras", lang="ko", view="Train")
    assert at.segmented_control(key="view").value == "Train"
    assert "모델 학습" in [button.label for button in at.button]
    # The address keeps the view, named as the control shows it: a reload opens it again.
    assert at.query_params["view"] == "학습"
    assert at.query_params["lang"] == "ko"
    at.run()
    assert at.segmented_control(key="view").value == "Train"
    assert at.query_params["view"] == "학습"


def test_a_link_naming_the_view_in_korean_opens_it_in_english(
    monkeypatch, canvas, shapes, tmp_path
):
    at = new_page(monkeypatch, shapes, tmp_path / "model.keras", view="그림 모음")
    assert at.segmented_control(key="view").value == "Drawings"
    assert at.query_params["view"] == "Drawings"


def test_an_unknown_language_opens_the_page_in_english(monkeypatch, canvas, shapes, tmp_path):
    canvas.drawing = np.asarray(
        draw_shape("circle", np.random.default_rng(5), hand="neat").convert("RGBA")
    ).copy()
    at = new_page(monkeypatch, shapes, tmp_path / "model.keras", lang="xx")
    assert at.segmented_control(key="lang").value == "en"
    assert "Save drawing" in [button.label for button in at.button]
    # The check the Korean Draw view passes finds the English texts here.
    assert {"Draw a shape", "Save drawing", "Clear", "Prediction"} <= set(english_shown(at))


def test_both_languages_share_one_cache():
    """The spinner text is fixed per cache function, so there is one per language; a Korean
    session must still find the model an English one loaded (one cache)."""
    from page.common import cached_per_language

    loads = []

    def load(name: str) -> object:
        loads.append(name)
        return object()

    cached = cached_per_language(load, "spinner.model", max_entries=2)
    english, korean = (cached.per_language[language] for language in ("en", "ko"))
    assert english("a") is korean("a")
    assert loads == ["a"]


# --- the Train and Drawings views in Korean, with a model ---------------------------------------


@pytest.fixture(scope="module")
def mislabelled(tmp_path_factory) -> dict:
    """{"pristine", "model"}: a dataset as a model was trained on it (with a circle filed under
    test/triangle, which the model gets wrong) and the model."""
    folder = tmp_path_factory.mktemp("korean_model")
    root, _wrong, model = make_mislabelled(folder)
    return {"pristine": root, "model": model}


@pytest.fixture
def trained(mislabelled, tmp_path) -> tuple[Path, Path]:
    """(dataset, model) for one test, which may move or delete drawings: the dataset is put back
    afterwards, where the model's results say its drawings are."""
    data = mislabelled["pristine"]
    kept = Path(shutil.copytree(data, tmp_path / "kept"))
    yield data, mislabelled["model"]
    shutil.rmtree(data)
    shutil.copytree(kept, data)


# Sentences that were English-only on these views, as the English page says them.
ENGLISH_LEFTOVERS = (
    "Every test drawing was recognised",
    "changed since this model was trained",
    "not retrained yet",
    "gone since training",
    "The current model's results",
    "test drawings",
    "says little",
    "Per-class accuracy",
    "Confusion matrix",
    "The current model took",
    "training drawings",
    "min ago",
    "just now",
    "Relabel",
    "Picked",
    "Its class",
    "Deleted",
    "Restored",
    "Undo",
    "Select all",
    "Select none",
    "drawings, newest first",
    "The model says",
    "unreadable",
)


def leftovers(at: AppTest) -> list[str]:
    joined = "\n".join(visible_texts(at) + chart_and_table_texts(at))
    return [sentence for sentence in ENGLISH_LEFTOVERS if sentence in joined]


def test_the_train_view_with_a_model_in_korean(monkeypatch, canvas, trained):
    data, model = trained
    at = new_page(monkeypatch, data, model, lang="ko", view="Train")
    joined = "\n".join(visible_texts(at))
    assert "현재 모델의 결과" in joined and "에 학습" in joined
    assert re.search(r"(조금|\d+초|\d+분) 전</span>에 학습", joined)  # as a person says it
    assert "현재 모델은 학습(fit)에" in joined and "학습 그림 " in joined  # the last run's line
    assert "로는 알 수 있는 것이 적습니다" in joined  # 3 test drawings say little
    assert "**클래스별 정확도**" in joined and "**혼동 행렬**" in joined
    assert "**틀린 테스트 그림** (1)" in joined
    labels = {metric.label for metric in at.metric}
    assert {"테스트 정확도", "에포크", "학습 시간", "그림"} <= labels
    accuracy = next(metric for metric in at.metric if metric.label == "테스트 정확도")
    assert re.fullmatch(r"테스트 그림 \d+개 중", accuracy.proto.delta)
    charts = chart_and_table_texts(at)
    assert {"에포크별 손실", "에포크", "손실", "실제 클래스", "예측한 클래스"} <= set(charts)
    assert {"학습", "테스트", "정확도"} <= set(charts)  # the curves' legend, the per-class column
    assert not english_shown(at) and not leftovers(at)

    # Pick the drawing it got wrong, move it to the class the model said: Korean all the way.
    next(b for b in at.button if (b.key or "").startswith("fix-")).click().run()
    assert not at.exception, at.exception
    assert at.button(key="fix_move").label == "circle 클래스로 옮기기"
    assert (
        at.button(key="fix_delete").label == "삭제" and at.button(key="fix_close").label == "닫기"
    )
    (target,) = [box for box in at.selectbox if (box.key or "").startswith("fix_target-")]
    assert target.label == "올바른 클래스"
    assert not english_shown(at) and not leftovers(at)
    at.button(key="fix_move").click().run()
    assert not at.exception, at.exception
    joined = "\n".join(visible_texts(at))
    assert "테스트/triangle에서 테스트/circle(으)로 옮겼습니다" in joined
    assert "**circle(으)로 옮김**, 아직 다시 학습하지 않음" in joined
    assert "이 모델을 학습한 뒤 그림 1개가 바뀌었습니다" in joined
    assert not english_shown(at) and not leftovers(at)


def test_the_drawings_view_in_korean_after_a_delete_and_its_undo(monkeypatch, canvas, trained):
    data, model = trained
    at = new_page(monkeypatch, data, model, lang="ko", view="Drawings")
    at.selectbox(key="browse_class").select("circle").run()
    order = at.segmented_control(key="browse_order")
    assert order.options == ["최신순", "모델과 가장 어긋나는 순"]
    assert order.label == "순서"
    joined = "\n".join(visible_texts(at))
    assert re.search(r"그림 \d+개, 최신순\. 그림을 누르면 선택됩니다\. 그림 아래에는", joined)
    assert "모델의 답: circle" in joined  # a thumbnail's verdict, on hover
    assert not english_shown(at) and not leftovers(at)
    order.set_value(DISAGREES_FIRST).run()
    assert "모델과 가장 어긋나는 것부터" in "\n".join(visible_texts(at))

    count = len(dataset.list_images(data, "train", "circle"))
    select_all = at.button(key="browse_select_all")
    assert select_all.label == f"모두 선택 ({count})"
    select_all.click().run()
    at.button(key="browse_delete").click().run()
    assert not at.exception, at.exception
    assert not dataset.list_images(data, "train", "circle")
    assert f"그림 {count}개를 삭제했습니다" in at.toast[0].value
    joined = "\n".join(visible_texts(at))
    assert f"circle(학습)의 그림 {count}개를 삭제했습니다. 데이터셋의 휴지통에 7일" in joined
    assert at.button(key="browse_undo").label == "되돌리기"
    assert at.button(key="browse_select_none").label == "선택 해제"
    assert not english_shown(at) and not leftovers(at)

    at.button(key="browse_undo").click().run()
    assert not at.exception, at.exception
    assert len(dataset.list_images(data, "train", "circle")) == count
    assert f"circle의 그림 {count}개를 되돌려 놓았습니다" in at.toast[0].value
    assert not english_shown(at) and not leftovers(at)


def snapshot(**changes) -> jobs.JobSnapshot:
    values = {
        "id": "j",
        "data": Path("d"),
        "model_path": Path("m.keras"),
        "recipe": resolve_recipe("default", epochs=40),
        "state": jobs.RUNNING,
        "message": "",
        "epoch": 0,
        "history": [],
        "started_at": 0.0,
        "finished_at": None,
        "cancel_requested": False,
        "result": None,
        "error": None,
        "cold_start": False,
        "drawings": 27,
    }
    return jobs.JobSnapshot(**{**values, **changes})


@pytest.mark.parametrize(
    ("changes", "english", "korean"),
    [
        (
            {"state": jobs.STARTING, "cold_start": True},
            "Starting TensorFlow",
            "TensorFlow를 시작하는 중",
        ),
        ({"state": jobs.STARTING}, "Loading the drawings", "그림을 불러오는 중"),
        ({}, "Training on 27 drawings", "그림 27개로 학습하는 중"),
        ({"drawings": 1}, "Training on 1 drawing", "그림 1개로 학습하는 중"),
        ({"epoch": 3}, "Epoch 3 of at most 40", "에포크 3 / 최대 40"),
        ({"epoch": 3, "cancel_requested": True}, "Cancelling", "취소하는 중"),
    ],
)
def test_the_progress_line_is_worded_on_the_page_from_the_jobs_values(
    monkeypatch, changes, english, korean
):
    assert progress_text(snapshot(**changes)) == english
    monkeypatch.setattr(text, "language", lambda: "ko")  # the picker's choice, outside a run
    assert progress_text(snapshot(**changes)) == korean


@pytest.mark.parametrize(
    ("seconds", "english", "korean"),
    [
        (3, "just now", "조금 전"),
        (42, "42 s ago", "42초 전"),
        (150, "2 min ago", "2분 전"),
        (3 * 3600 + 5, "3 h ago", "3시간 전"),
        (86400 + 10, "yesterday", "하루 전"),
        (5 * 86400, "5 days ago", "5일 전"),
    ],
)
def test_times_are_said_in_the_pages_language(monkeypatch, seconds, english, korean):
    now = datetime(2026, 12, 1, 12, 0, 0, tzinfo=UTC)
    then = now - timedelta(seconds=seconds)
    assert text.time_ago(then, now) == english
    monkeypatch.setattr(text, "language", lambda: "ko")
    assert text.time_ago(then, now) == korean
    assert [text.duration(s) for s in (0.42, 35.4, 125, 120)] == ["0.4초", "35초", "2분 5초", "2분"]
