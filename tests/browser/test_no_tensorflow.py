"""The page's server process never loads TensorFlow: predictions run in LiteRT, training in a
child process (issue #12). Checked on the real server, in its memory map, after real strokes
and a real training run started from the page."""

from __future__ import annotations

import time

import pytest
from playwright.sync_api import expect

from driver import clear, draw, loaded_libraries, metric, open_page, shape_strokes, wait_idle

pytestmark = pytest.mark.browser


def tensorflow_libraries(pid: int) -> list[str]:
    return sorted(
        name
        for name in loaded_libraries(pid)
        if "tensorflow" in name.lower() or name.startswith("_pywrap_tf")
    )


def test_the_server_predicts_and_trains_without_loading_tensorflow(browser, site):
    pid = site["url"].pid
    page = open_page(browser, site["url"])
    try:
        main = page.get_by_test_id("stMain")
        draw(page, shape_strokes("triangle"))
        expect(metric(main, "Prediction")).to_have_text("triangle")
        assert tensorflow_libraries(pid) == []
        # LiteRT is what answered.
        assert any("litert" in name.lower() for name in loaded_libraries(pid))
        before = site["model"].stat().st_mtime_ns
        page.get_by_role("button", name="Train model").click()
        deadline = time.monotonic() + 180
        while site["model"].stat().st_mtime_ns == before and time.monotonic() < deadline:
            time.sleep(0.5)
        assert site["model"].stat().st_mtime_ns != before, "the training run wrote no model"
        wait_idle(page)
        clear(page)  # a circle on top of the triangle would be two shapes: "not sure"
        draw(page, shape_strokes("circle"))
        expect(metric(main, "Prediction")).to_have_text("circle")
        assert tensorflow_libraries(pid) == []
    finally:
        page.close()
