"""The Train view's results in real Chromium: the confusion matrix is a heat map on screen, and a
click on a test drawing the model got wrong lets the user move it to its class, on disk.

A server of its own, on a small dataset with one deliberate mislabel (a circle filed under
test/triangle) and a model trained on it: the model calls that drawing a circle.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
from playwright.sync_api import expect

from shapecnn import dataset

from driver import streamlit_server, wait_idle
from helpers import make_mislabelled

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def results_site(chromium_path, tmp_path_factory) -> dict:
    folder = tmp_path_factory.mktemp("results-browser")
    data, wrong, model = make_mislabelled(folder)
    with streamlit_server(data, model, folder / "streamlit.log") as url:
        yield {"url": url, "data": data, "wrong": wrong}


@pytest.fixture
def train_page(browser, results_site):
    page = browser.new_page(viewport={"width": 1440, "height": 1600})
    page.set_default_timeout(60_000)
    page.goto(f"{results_site['url']}/?view=Train")
    expect(page.get_by_text("Confusion matrix")).to_be_visible()
    wait_idle(page)
    yield page
    page.close()


def wait_for_file(path: Path, exists: bool, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while path.exists() != exists:
        assert time.monotonic() < deadline, f"{path} {'never came' if exists else 'stayed'}"
        time.sleep(0.1)


def test_the_confusion_matrix_shows_as_a_heat_map(train_page):
    heat_map = train_page.locator(".st-key-confusion_matrix .vega-embed .marks")
    expect(heat_map).to_be_visible()
    box = heat_map.bounding_box()
    assert box["width"] >= 3 * 44 and box["height"] >= 3 * 44  # three rows of 44 px cells
    # Times read "… ago" (or "just now"), the full time on hover.
    trained = train_page.locator("span[data-time]").first
    expect(trained).to_have_text(re.compile(r"^(just now|.+ ago)$"))
    expect(trained).to_have_attribute("title", re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$"))


def test_a_click_on_a_wrong_drawing_relabels_it_on_disk(train_page, results_site):
    wrong, data = results_site["wrong"], results_site["data"]
    circles = len(dataset.list_images(data, "test", "circle"))
    card = train_page.locator("[class*='st-key-wrong-']", has_text="triangle → circle")
    expect(card).to_have_count(1)
    picture = card.locator("img")
    picture.scroll_into_view_if_needed()
    box = picture.bounding_box()
    # A click on the drawing itself (its card's button covers it) picks it.
    train_page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    panel = train_page.locator(".st-key-fix_panel")
    expect(panel).to_contain_text(f"{wrong.name} (test) is filed as triangle")
    wait_idle(train_page)
    panel.get_by_role("button", name="Move to circle").click()
    expect(
        train_page.get_by_text(f"Moved {wrong.name} from test/triangle to test/circle")
    ).to_be_visible()
    wait_for_file(wrong, exists=False)
    assert len(dataset.list_images(data, "test", "circle")) == circles + 1
    expect(card).to_contain_text("moved to circle, not retrained yet")
    expect(panel).to_have_count(0)
    wait_idle(train_page)
