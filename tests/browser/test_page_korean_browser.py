"""The page in Korean, in Chromium: ?lang=ko opens it in Korean, a reload keeps it, the picker
switches the language and keeps the view, and the address follows."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from driver import CANVAS, PROJECT, streamlit_server, wait_idle

pytestmark = pytest.mark.browser

STARTER_DATA = PROJECT / "data" / "handwriting_shape"


@pytest.fixture(scope="module")
def korean_site(chromium_path, tmp_path_factory, monkeypatch_module):
    """The page on a copy of the starter data and no model (the starter predictions answer):
    nothing to train before it starts."""
    folder = tmp_path_factory.mktemp("korean")
    data = Path(shutil.copytree(STARTER_DATA, folder / "shapes"))
    monkeypatch_module.setenv("SHAPECNN_FIRST_MODEL", "0")
    with streamlit_server(data, folder / "models" / "shapes.keras", folder / "log") as url:
        yield url


@pytest.fixture(scope="module")
def monkeypatch_module():
    with pytest.MonkeyPatch.context() as patch:
        yield patch


@pytest.fixture(scope="module")
def chromium(korean_site, browser):
    """The one Chromium of the browser tests (conftest): a second sync_playwright in the same
    thread is refused while it runs."""
    return browser


def heading(page):
    return page.locator("h1").first


def test_lang_ko_opens_the_page_in_korean_and_a_reload_keeps_it(chromium, korean_site):
    from playwright.sync_api import expect

    page = chromium.new_page(viewport={"width": 1280, "height": 900})
    page.set_default_timeout(60_000)
    page.goto(korean_site + "?lang=ko")
    page.wait_for_selector(CANVAS)
    wait_idle(page)
    expect(heading(page)).to_have_text("도형을 그려 보세요")
    expect(page.get_by_role("button", name="그림 저장")).to_be_visible()
    expect(page.locator(".st-key-lang").get_by_role("radio", name="한국어")).to_be_checked()
    expect(page).to_have_title(re.compile("그리고"))

    page.reload()
    page.wait_for_selector(CANVAS)
    wait_idle(page)
    expect(heading(page)).to_have_text("도형을 그려 보세요")
    expect(page).to_have_url(re.compile(r"lang=ko"))
    page.close()


def test_a_link_naming_the_view_in_english_keeps_it_in_the_address(chromium, korean_site):
    """?lang=ko&view=Train opens the Train view, and the address then names it as the control
    does (view=학습): a reload stays on it (it used to drop the view and open Draw)."""
    from playwright.sync_api import expect

    page = chromium.new_page(viewport={"width": 1280, "height": 900})
    page.set_default_timeout(60_000)
    page.goto(korean_site + "?lang=ko&view=Train")
    expect(page.get_by_role("button", name="모델 학습")).to_be_visible()
    wait_idle(page)
    expect(page).to_have_url(re.compile(r"view=%ED%95%99%EC%8A%B5"))  # 학습
    page.reload()
    expect(page.get_by_role("button", name="모델 학습")).to_be_visible()
    wait_idle(page)
    expect(page.locator(".st-key-view").get_by_role("radio", name="학습")).to_be_checked()
    expect(page).to_have_url(re.compile(r"lang=ko"))
    page.close()


def test_the_picker_switches_the_language_and_keeps_the_view(chromium, korean_site):
    from playwright.sync_api import expect

    page = chromium.new_page(viewport={"width": 1280, "height": 900})
    page.set_default_timeout(60_000)
    page.goto(korean_site + "?view=Train")
    page.get_by_role("button", name="Train model").wait_for()
    wait_idle(page)

    page.locator(".st-key-lang").get_by_role("radio", name="한국어").click()
    expect(page.get_by_role("button", name="모델 학습")).to_be_visible()
    wait_idle(page)
    expect(page.locator(".st-key-view").get_by_role("radio", name="학습")).to_be_checked()
    expect(page).to_have_url(re.compile(r"lang=ko"))
    page.reload()  # the address holds the view too
    expect(page.get_by_role("button", name="모델 학습")).to_be_visible()
    wait_idle(page)
    expect(page.locator(".st-key-view").get_by_role("radio", name="학습")).to_be_checked()

    # The view control, in Korean, still changes the view and the address.
    page.locator(".st-key-view").get_by_role("radio", name="그리기").click()
    expect(heading(page)).to_have_text("도형을 그려 보세요")
    wait_idle(page)
    expect(page).to_have_url(re.compile(r"lang=ko"))

    page.locator(".st-key-lang").get_by_role("radio", name="English").click()
    expect(heading(page)).to_have_text("Draw a shape")
    wait_idle(page)
    expect(page).not_to_have_url(re.compile(r"lang="))
    page.close()
