"""Several people on one page (issue 6): simultaneous saves, Train from two tabs, uploads."""

from __future__ import annotations

import io
import re
import time
import zipfile

import pytest
from PIL import Image
from playwright.sync_api import expect

from shapecnn import dataset

from driver import open_page, ready_to_save, show_view, wait_idle

pytestmark = pytest.mark.browser


@pytest.fixture
def two_pages(browser, site):
    pages = [open_page(browser, site["url"]), open_page(browser, site["url"])]
    yield pages
    for page in pages:
        page.close()


def test_two_sessions_saving_at_the_same_moment_both_keep_their_drawing(two_pages, site):
    data = site["data"]
    before = set(dataset.list_images(data, "train", "rectangle"))
    for seed, page in enumerate(two_pages):
        ready_to_save(page, "rectangle", seed=seed + 10, label="rectangle", split="train")
    # Both clicks go out before either page hears back.
    for page in two_pages:
        page.get_by_role("button", name="Save drawing").click(no_wait_after=True)
    names = []
    for page in two_pages:
        toast = page.get_by_test_id("stToast").filter(has_text="Saved to train/rectangle/")
        expect(toast).to_be_visible()
        names.append(toast.inner_text().split("train/rectangle/")[1].split()[0])
    new = set(dataset.list_images(data, "train", "rectangle")) - before
    assert len(new) == 2
    assert sorted(path.name for path in new) == sorted(names)
    assert dataset.find_problems(data) == []


def set_long_training(page) -> None:
    """The tutorial recipe for 1000 epochs: a run still going when Cancel is pressed (the
    default recipe, from the shape base, is done in seconds)."""
    show_view(page, "Train")
    page.locator(".st-key-recipe_name").click()
    page.get_by_role("option", name=re.compile(r"^tutorial:")).click()
    wait_idle(page)
    epochs = page.get_by_label("Epochs (at most)")
    epochs.fill("1000")
    epochs.press("Enter")
    wait_idle(page)


@pytest.mark.slow
def test_train_clicked_in_two_tabs_runs_one_job_that_both_show(two_pages, site):
    from shapecnn.jobs import ModelLock

    model = site["model"]
    lock = ModelLock(model)
    deadline = time.monotonic() + 120
    while not lock.acquire():  # a save's "learn as I save" run from an earlier test ends first
        assert time.monotonic() < deadline, "an earlier training run did not end"
        time.sleep(0.2)
    lock.release()
    before = model.read_bytes()
    for page in two_pages:
        set_long_training(page)
    # Both clicks go out at once; the later one finds the job running (its button is drawn
    # disabled, or it joins the run) and shows that job.
    for page in two_pages:
        page.get_by_role("button", name="Train model").click(no_wait_after=True)
    for page in two_pages:
        expect(page.get_by_test_id("stProgress")).to_be_visible()
        expect(page.get_by_test_id("stProgress")).to_contain_text("Epoch")
        expect(page.get_by_role("button", name="Train model")).to_be_disabled()
    assert not lock.acquire()  # the server is training this model
    # One Cancel, in one tab, ends the training both tabs show.
    two_pages[1].get_by_role("button", name="Cancel").click()
    for page in two_pages:
        expect(page.get_by_text("Cancelled")).to_be_visible(timeout=90_000)
        expect(page.get_by_role("button", name="Train model")).to_be_enabled()
    deadline = time.monotonic() + 30
    while not lock.acquire():  # no second job goes on training behind the first
        assert time.monotonic() < deadline, "a training job still holds the model"
        time.sleep(0.2)
    lock.release()
    assert model.read_bytes() == before  # cancelled: the previous model stays


@pytest.mark.slow
def test_uploading_a_zip_imports_it_and_too_big_a_file_is_refused(browser, site):
    data = site["data"]
    page = open_page(browser, site["url"])
    try:
        show_view(page, "Drawings")
        panel = page.get_by_test_id("stMain")
        panel.get_by_text("Import drawings").click()
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            for seed in range(2):
                image = Image.new("L", (120, 120), 255)
                image.paste(0, (20 + seed, 20, 100, 100))
                image.paste(255, (30 + seed, 30, 90, 90))  # a thick square outline
                png = io.BytesIO()
                image.save(png, format="PNG")
                archive.writestr(f"square/{seed}.png", png.getvalue())
            archive.writestr("square/readme.txt", "not a drawing")
        uploader = panel.locator("[data-testid=stFileUploaderDropzoneInput]")
        uploader.set_input_files(
            [{"name": "mine.zip", "mimeType": "application/zip", "buffer": buffer.getvalue()}]
        )
        expect(panel.get_by_text("mine.zip")).to_be_visible()
        wait_idle(page)
        panel.get_by_role("button", name="Import", exact=True).click()
        expect(
            page.get_by_test_id("stToast").filter(has_text="Imported 2 drawings")
        ).to_be_visible()
        expect(panel.get_by_text("Skipped 1 file")).to_be_visible()
        assert sum(dataset.count_images(data)["square"].values()) == 2
        # Larger than the limit: the browser refuses it before it is sent.
        counts = dataset.count_images(data)
        uploader = panel.locator("[data-testid=stFileUploaderDropzoneInput]")
        uploader.set_input_files(
            [{"name": "huge.png", "mimeType": "image/png", "buffer": b"\0" * (21 * 1024 * 1024)}]
        )
        expect(panel.get_by_text("20.0MB or smaller", exact=False)).to_be_visible()
        assert not panel.get_by_role("button", name="Import", exact=True).is_enabled()
        assert dataset.count_images(data) == counts
    finally:
        page.close()
