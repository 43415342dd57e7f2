"""The page in real Chromium: draw with the mouse, watch the prediction, save, train."""

from __future__ import annotations

import re
from itertools import pairwise

import numpy as np
import pytest
from PIL import Image
from playwright.sync_api import expect

from shapecnn import dataset
from shapecnn.config import SPLITS

from driver import (
    CANVAS,
    canvas_generation,
    clear,
    draw,
    metric,
    open_page,
    ready_to_save,
    shape_strokes,
    show_view,
    wait_cleared,
    wait_idle,
)

pytestmark = pytest.mark.browser


@pytest.fixture
def page(browser, site):
    page = open_page(browser, site["url"])
    yield page
    page.close()


def test_drawing_a_shape_shows_its_class_as_the_prediction(page):
    main = page.get_by_test_id("stMain")
    expect(main.get_by_text("Draw a shape on the canvas")).to_be_visible()
    for shape in ("triangle", "circle"):
        clear(page)
        expect(metric(main, "Prediction")).to_have_count(0)
        draw(page, shape_strokes(shape))
        expect(metric(main, "Prediction")).to_have_text(shape)
        wait_idle(page)
    expect(main.get_by_text("What it sees")).to_be_visible()


def test_a_stroke_started_under_the_top_right_edge_registers(page):
    """The hover toolbar (undo, redo) must not lie, invisible, over the canvas (issue #4)."""
    main = page.get_by_test_id("stMain")
    box = page.locator(CANVAS).bounding_box()
    top, right = 2.0, box["width"] - 8
    # A rectangle from its top right corner, 2 px under the canvas's top edge, pressed the
    # moment the pointer comes in from the right (before any hover effect has run).
    corners = [(right, top), (8, top), (8, 150), (right, 150), (right, top)]
    stroke = np.concatenate([np.linspace(a, b, 12) for a, b in pairwise(corners)])
    page.mouse.move(box["x"] + box["width"] + 40, box["y"] + top)
    draw(page, [stroke])
    expect(metric(main, "Prediction")).to_have_count(1)
    wait_idle(page)
    # Undo and redo still show on hover, and undo works: the canvas is empty again.
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    expect(page.locator(".dc-toolbar")).to_have_css("opacity", "1")
    page.get_by_role("button", name="Undo").click()
    expect(metric(main, "Prediction")).to_have_count(0)
    expect(main.get_by_text("Draw a shape on the canvas")).to_be_visible()
    wait_idle(page)


def test_the_canvas_toolbar_offers_only_undo_and_redo_beside_clear(page):
    """Someone who draws gets undo, redo and the page's Clear; not the component's "Update the
    app", "Edit", "Bring forward / Send backward" or its own reset (issue 15, point 8)."""
    main = page.get_by_test_id("stMain")
    draw(page, shape_strokes("circle", seed=8))
    expect(metric(main, "Prediction")).to_have_count(1)
    wait_idle(page)
    box = page.locator(CANVAS).bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    toolbar = page.locator(".dc-toolbar")
    expect(toolbar).to_have_css("opacity", "1")
    shown = [
        b.get_attribute("aria-label") for b in toolbar.locator("button").all() if b.is_visible()
    ]
    assert shown == ["Undo", "Redo"]
    expect(main.get_by_role("button", name="Clear")).to_be_visible()
    page.get_by_role("button", name="Undo").click()
    expect(metric(main, "Prediction")).to_have_count(0)
    wait_idle(page)
    page.get_by_role("button", name="Redo").click()
    expect(metric(main, "Prediction")).to_have_count(1)
    wait_idle(page)


INK = """canvas => {
  const pixels = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
  let dark = 0;
  for (let i = 0; i < pixels.length; i += 4) dark += pixels[i] < 128;
  return dark;
}"""


def about(ink: int, expected: int) -> bool:
    return abs(ink - expected) <= 0.02 * expected


def class_files(data, label: str) -> set:
    return {path for split in SPLITS for path in dataset.list_images(data, split, label)}


def test_a_drawing_comes_back_after_a_look_at_another_view(page, site):
    """The canvas is not drawn in the Train and Drawings views; coming back, the drawing is on
    it again, predicted, and the next strokes and Save carry on from it."""
    main = page.get_by_test_id("stMain")
    drawn = page.locator("canvas.dc-canvas.lower-canvas")
    first, *rest = shape_strokes("triangle", seed=2)
    draw(page, [first])
    prediction = metric(main, "Prediction")
    expect(prediction).to_have_count(1)
    wait_idle(page)
    guess, ink = prediction.inner_text(), drawn.evaluate(INK)
    assert ink > 100

    show_view(page, "Train")
    show_view(page, "Drawings")
    show_view(page, "Draw")
    expect(prediction).to_have_text(guess)
    # Drawn again from the canvas's record of the stroke: the same line, give or take its edge.
    assert about(drawn.evaluate(INK), ink)

    draw(page, rest)
    expect(prediction).to_have_text("triangle")
    wait_idle(page)
    ink = drawn.evaluate(INK)
    before = class_files(site["data"], "triangle")
    quick_button(page, "triangle").click()
    expect(page.get_by_test_id("stToast")).to_contain_text("Saved to")
    (new,) = class_files(site["data"], "triangle") - before
    # The file holds every stroke: the one from before the views and the ones after.
    assert about(int((np.asarray(Image.open(new).convert("L")) < 128).sum()), ink)
    # Saved means done: the next visit to Draw starts on an empty canvas.
    show_view(page, "Train")
    show_view(page, "Draw")
    expect(main.get_by_text("Draw a shape on the canvas")).to_be_visible()
    assert drawn.evaluate(INK) == 0


def quick_button(page, label: str):
    """The save panel's one-click "It's a ..." button for a class: "<label> <train>/<test>"."""
    return page.get_by_role("button", name=re.compile(rf"^{re.escape(label)} \d+.\d+$"))


def test_a_refused_label_says_why_in_one_line_and_nothing_moves(page, site):
    """A refused name gets one line in a slot that is always there: the class buttons, the Save
    button and the canvas stay where they were, and the field takes at most 40 characters."""
    main = page.get_by_test_id("stMain")
    classes = set(dataset.count_images(site["data"]))
    draw(page, shape_strokes("circle", seed=6))
    expect(metric(main, "Prediction")).to_be_visible()
    wait_idle(page)
    page.locator(".st-key-label_choice").click()
    page.get_by_role("option", name="+ New class…", exact=True).click()
    wait_idle(page)
    field = page.locator(".st-key-new_label input")
    field.press_sequentially("x" * 45)  # typed: the field stops at 40
    assert field.input_value() == "x" * 40
    watched = {
        "class buttons": quick_button(page, "triangle"),
        "save": page.locator(".st-key-save button"),
        "canvas": page.locator(CANVAS),
    }
    where = {name: locator.bounding_box() for name, locator in watched.items()}
    field.fill("a/b")
    field.press("Enter")
    wait_idle(page)
    page.locator(".st-key-save button").click()
    line = page.locator("[data-refusal]").filter(has_text="is not allowed")
    expect(line).to_have_count(1)
    wait_idle(page)
    assert line.bounding_box()["height"] < 30  # one line
    for name, locator in watched.items():
        assert locator.bounding_box() == where[name], name
    assert set(dataset.count_images(site["data"])) == classes


def test_save_puts_the_drawing_in_the_chosen_class_and_split(page, site):
    data = site["data"]
    before = set(dataset.list_images(data, "test", "rectangle"))
    ready_to_save(page, "rectangle", seed=4, label="rectangle", split="test")
    generation = canvas_generation(page)
    page.get_by_role("button", name="Save drawing").click()
    toast = page.get_by_test_id("stToast")
    expect(toast).to_contain_text("Saved to test/rectangle/")
    (new,) = set(dataset.list_images(data, "test", "rectangle")) - before
    expect(toast).to_contain_text(new.name)
    counts = dataset.count_images(data)["rectangle"]
    expect(toast).to_contain_text(f"rectangle: {counts['train']} train, {counts['test']} test")
    # The canvas is cleared for the next drawing, and the counts table has the new count.
    wait_cleared(page, generation)
    expect(page.get_by_text("Draw a shape on the canvas")).to_be_visible()
    assert counts["test"] == len(before) + 1
    show_view(page, "Drawings")
    table = page.get_by_test_id("stMain").get_by_test_id("stTable").first
    row = table.locator("tr", has_text="rectangle")
    expect(row).to_have_text(f"rectangle{counts['train']}{counts['test']}{sum(counts.values())}")


def test_training_shows_metrics_and_the_new_model_predicts(page, site):
    """Settings in the Train view, Train under the canvas: the prediction on screen switches to
    the new model without a new stroke, and the Train view shows the run's results."""
    model = site["model"]
    before = model.stat().st_mtime_ns
    main = page.get_by_test_id("stMain")
    show_view(page, "Train")
    epochs = page.get_by_label("Epochs (at most)")
    epochs.fill("2")
    epochs.press("Enter")
    wait_idle(page)
    show_view(page, "Draw")
    draw(page, shape_strokes("circle", seed=7))
    expect(metric(main, "Prediction")).to_have_text("circle")
    wait_idle(page)
    trained = main.get_by_text("Model trained")
    old_caption = trained.inner_text()
    page.get_by_role("button", name="Train model").click()
    expect(page.get_by_test_id("stProgress")).to_be_visible()
    # Live predictions switched to the new model without a new stroke.
    expect(trained).not_to_have_text(old_caption, timeout=90_000)
    expect(metric(main, "Prediction")).to_be_visible()
    assert model.stat().st_mtime_ns != before
    show_view(page, "Train")
    expect(metric(main, "Epochs")).to_have_text("2")
    expect(main.get_by_text("Confusion matrix")).to_be_visible()
    expect(main.get_by_text("2 epochs")).to_be_visible()


def open_at(browser, url: str, width: int, **options):
    page = browser.new_page(viewport={"width": width, "height": 900}, **options)
    page.set_default_timeout(60_000)
    page.goto(url)
    page.wait_for_selector(CANVAS)
    wait_idle(page)
    return page


def scaled(strokes: list[np.ndarray], box: dict) -> list[np.ndarray]:
    """Strokes made for the 280 px canvas, drawn over the canvas as it is shown."""
    return [stroke * (box["width"] / 280) for stroke in strokes]


@pytest.mark.parametrize("width", [360, 400, 1280, 2560])
def test_the_draw_view_fits_from_a_phone_to_a_wide_screen(browser, site, width):
    """No sideways scrolling and no cut heading at any width; the canvas as large as the space
    allows (larger on a wide screen); the prediction beside the canvas or right under it, its
    bars no wider than a reader's eye can follow (issue 15, point 3)."""
    page = open_at(browser, site["url"], width)
    try:
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        heading = page.get_by_role("heading", name="Draw a shape")
        assert heading.evaluate("h => h.scrollWidth <= h.clientWidth")
        for key in ("draw_column", "prediction_column", "save_column"):
            column = page.locator(f".st-key-{key}")
            box = column.bounding_box()
            assert box["x"] >= 0 and box["x"] + box["width"] <= width, key
        canvas = page.locator(CANVAS).bounding_box()
        assert canvas["x"] + canvas["width"] <= width
        if width >= 2560:
            assert canvas["width"] >= 480  # a fifth of the screen, not 280 px
        draw(page, scaled(shape_strokes("triangle", seed=3), canvas))
        prediction = metric(page.get_by_test_id("stMain"), "Prediction")
        expect(prediction).to_have_text("triangle")
        wait_idle(page)
        shown = prediction.bounding_box()
        if width < 700:  # right under the canvas and its Clear button
            assert 0 < shown["y"] - (canvas["y"] + canvas["height"]) < 200
        else:  # beside it
            assert shown["x"] > canvas["x"] + canvas["width"] and shown["y"] < canvas["y"] + 100
        bars = page.locator("[data-probability]").first.bounding_box()
        assert bars["width"] <= 720
    finally:
        page.close()


def test_drawing_with_a_finger_is_predicted(browser, site):
    """Touch drawing on a phone-sized, touch-enabled page: touch events, no mouse."""
    page = open_at(browser, site["url"], 400, has_touch=True, is_mobile=True)
    try:
        box = page.locator(CANVAS).bounding_box()
        session = page.context.new_cdp_session(page)

        def touch(kind: str, points: list[dict]) -> None:
            session.send("Input.dispatchTouchEvent", {"type": kind, "touchPoints": points})

        for stroke in scaled(shape_strokes("rectangle", seed=4), box):
            points = [{"x": box["x"] + x, "y": box["y"] + y} for x, y in stroke]
            touch("touchStart", points[:1])
            for point in points[1:]:
                touch("touchMove", [point])
            touch("touchEnd", [])
        expect(metric(page.get_by_test_id("stMain"), "Prediction")).to_have_text("rectangle")
        wait_idle(page)
    finally:
        page.close()


def test_a_class_is_made_renamed_and_deleted_on_the_page(page, site):
    """A class of its own (the other tests' classes stay): saved under a new name, renamed in the
    Drawings view, then deleted there after the confirmation; its button goes with it."""
    data = site["data"]
    main = page.get_by_test_id("stMain")
    draw(page, shape_strokes("circle", seed=11))
    expect(metric(main, "Prediction")).to_be_visible()
    wait_idle(page)
    page.locator(".st-key-label_choice").click()
    page.get_by_role("option", name="+ New class…", exact=True).click()
    wait_idle(page)
    page.locator(".st-key-new_label input").fill("  blob ")
    page.locator(".st-key-new_label input").press("Enter")
    wait_idle(page)
    page.locator(".st-key-save button").click()
    expect(page.get_by_test_id("stToast")).to_contain_text("Saved to train/blob/")
    expect(quick_button(page, "blob")).to_have_text("blob 1/0")

    show_view(page, "Drawings")
    page.locator(".st-key-browse_class").click()
    page.get_by_role("option", name="blob", exact=True).click()
    wait_idle(page)
    page.get_by_text("Rename or delete the class blob").click()
    page.locator(".st-key-rename-blob input").fill("blob two")
    page.get_by_role("button", name="Rename", exact=True).click()
    expect(page.get_by_test_id("stToast")).to_contain_text("Renamed the class blob to blob two")
    wait_idle(page)
    assert "blob" not in dataset.count_images(data)
    assert dataset.count_images(data)["blob two"] == {"train": 1, "test": 0}

    page.get_by_text("Rename or delete the class blob two").click()
    page.get_by_role("button", name="Delete the class blob two…").click()
    expect(main.get_by_text("This cannot be undone")).to_be_visible()
    assert "blob two" in dataset.count_images(data)  # not before the confirmation
    page.get_by_role("button", name="Delete blob two and its drawings").click()
    expect(page.get_by_test_id("stToast")).to_contain_text("Deleted the class blob two")
    wait_idle(page)
    assert "blob two" not in dataset.count_images(data)
    show_view(page, "Draw")
    expect(quick_button(page, "circle")).to_be_visible()
    expect(quick_button(page, "blob two")).to_have_count(0)


def test_a_fresh_page_names_the_canvas_code_first_and_uses_it(browser, site):
    """The page's first element asks the browser for the canvas's code (page/assets.py): every
    named file is there on the server, and the canvas's own bundle and style, which the canvas
    asks for once it arrives, are among them (so the names follow the installed packages)."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    asked: list[str] = []
    page.on("request", lambda request: asked.append(request.url))
    page.goto(site["url"])
    page.wait_for_selector(CANVAS, state="visible")
    named = page.eval_on_selector_all(
        "link[rel=modulepreload], link[rel=preload]", "links => links.map(l => l.href)"
    )
    component = [url for url in asked if "/_stcore/bidi-components/" in url]
    assert component and set(component) <= set(named), (component, named)
    assert any("/static/js/BidiComponent." in url for url in named)
    for url in named:
        assert page.request.get(url).status == 200, url
    context.close()
