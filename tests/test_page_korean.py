"""The page in Korean: the catalogues (page/text.py) and the page opened with ?lang=ko.

The page runs on a small synthetic dataset without a model file: the starter predictions answer
(no TensorFlow, nothing to train), and the canvas is a stand-in that returns a drawing.
"""

from __future__ import annotations

import re
import sys
import types
from html.parser import HTMLParser
from pathlib import Path
from string import Formatter

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from page.text import EN, KO
from shapecnn import dataset
from shapecnn.synth import draw_shape, synth_dataset

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


def english_shown(at: AppTest) -> list[str]:
    """The English catalogue's fragments the page shows."""
    joined = "\n".join(visible_texts(at))
    return [
        fragment
        for fragment in english_fragments()
        if re.search(rf"(?<![A-Za-z]){re.escape(fragment)}(?![A-Za-z])", joined)
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
