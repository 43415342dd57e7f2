"""The look inside in real Chromium (issue 16, part 5): toggled on, each stroke shows the
network's layer maps and occlusion map under the prediction, and the server that computes them
still has no TensorFlow loaded (they come from the model file's LiteRT export)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from test_no_tensorflow import tensorflow_libraries

from driver import clear, draw, loaded_libraries, metric, open_page, shape_strokes, wait_idle

pytestmark = pytest.mark.browser

FIGURES = ["conv1", "conv2", "pooled", "occlusion"]


def shown_figures(page) -> list[dict]:
    """The panel's figures: key, the loaded picture's width on screen, its source, and text."""
    return page.locator("[data-inside]").evaluate_all(
        """figures => figures.map(f => {
            const img = f.querySelector('img');
            return {key: f.dataset.inside, text: f.innerText, src: img.src,
                    loaded: img.complete && img.naturalWidth > 0, width: img.width};
        })"""
    )


def test_toggled_on_each_stroke_shows_the_layers_and_the_server_has_no_tensorflow(browser, site):
    page = open_page(browser, site["url"])
    try:
        main = page.get_by_test_id("stMain")
        draw(page, shape_strokes("triangle"))
        expect(metric(main, "Prediction")).to_have_text("triangle")
        wait_idle(page)
        expect(page.locator("[data-inside]")).to_have_count(0)  # off by default
        page.locator(".st-key-look_inside").get_by_text("Look inside the network").click()
        expect(page.locator("[data-inside]")).to_have_count(len(FIGURES))
        wait_idle(page)
        first = shown_figures(page)
        assert [f["key"] for f in first] == FIGURES
        assert all(f["loaded"] and f["width"] > 100 for f in first), first
        assert "First convolution: 32 maps" in first[0]["text"]
        assert "less sure of “triangle”" in first[3]["text"]
        # The next drawing: the maps follow it, on its stroke, with no click.
        clear(page)
        draw(page, shape_strokes("circle"))
        expect(metric(main, "Prediction")).to_have_text("circle")
        expect(page.locator("[data-inside=occlusion]")).to_contain_text("less sure of “circle”")
        wait_idle(page)
        second = shown_figures(page)
        assert all(f["loaded"] for f in second)
        assert [f["src"] for f in second] != [f["src"] for f in first]
        pid = site["url"].pid
        assert tensorflow_libraries(pid) == []
        assert any("litert" in name.lower() for name in loaded_libraries(pid))
    finally:
        page.close()
