"""Several datasets in Chromium (issue 15, point 7): start one from the page as a copy of the
starter drawings, draw and save into it, and find it again after a reload (it is in the
address); the starter folder stays as it was.

A server of its own, on a small starter in tmp_path (named with SHAPECNN_STARTER) and without a
model (SHAPECNN_FIRST_MODEL=0: no training process), so nothing here waits for TensorFlow.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from shapecnn import dataset

from driver import (
    draw,
    metric,
    open_page,
    shape_strokes,
    streamlit_server,
    wait_idle,
)
from helpers import make_dataset

pytestmark = pytest.mark.browser


def files(root):
    return sorted(str(path.relative_to(root)) for path in root.rglob("*"))


def test_a_new_dataset_takes_the_drawings_and_stays_in_the_address(browser, tmp_path, monkeypatch):
    starter = make_dataset(tmp_path / "data" / "starter", per_class=4)
    shipped = files(starter)
    monkeypatch.setenv("SHAPECNN_STARTER", str(starter))  # the server inherits them
    monkeypatch.setenv("SHAPECNN_FIRST_MODEL", "0")
    model = tmp_path / "models" / "shapes.keras"
    log = tmp_path / "streamlit.log"
    with streamlit_server(starter, model, log) as url:
        page = open_page(browser, url)
        picker = page.locator(".st-key-dataset").get_by_role("combobox", name="Dataset")
        expect(picker).to_have_value("starter")

        page.get_by_role("button", name="New dataset").click()
        page.get_by_role("textbox", name="Name").fill("birds")
        page.get_by_role("button", name="Create").click()
        expect(page).to_have_url(re.compile(r"[?&]dataset=birds"))
        expect(picker).to_have_value("birds")
        wait_idle(page)
        birds = starter.parent / "birds"
        assert dataset.count_images(birds) == dataset.count_images(starter)

        page.locator(".st-key-learn_as_i_save").get_by_text("Learn as I save").click()
        wait_idle(page)
        draw(page, shape_strokes("circle"))
        expect(metric(page.get_by_test_id("stMain"), "Prediction")).to_be_visible()
        wait_idle(page)
        page.locator(".st-key-quick-circle").get_by_role("button").click()
        expect(page.get_by_test_id("stToast").filter(has_text="Saved to ")).to_be_visible()
        expect(page.locator(".st-key-quick-circle")).to_contain_text("circle 4/1")
        assert dataset.count_images(birds)["circle"] == {"train": 4, "test": 1}
        assert files(starter) == shipped

        page.reload()
        page.wait_for_selector(".st-key-quick-circle")
        wait_idle(page)
        expect(picker).to_have_value("birds")
        expect(page.locator(".st-key-quick-circle")).to_contain_text("circle 4/1")
        page.close()
