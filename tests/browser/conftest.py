"""One page server for the browser tests, on a copy of the starter data with a trained model.

Chromium must be the Debian package at /usr/bin/chromium. Without it the tests are skipped on a
developer machine, and fail in CI (CI set): a browser test that silently skips proves nothing.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from driver import CHROMIUM, PROJECT, launch_chromium, streamlit_server

STARTER_DATA = PROJECT / "data" / "handwriting_shape"


@pytest.fixture(scope="session")
def chromium_path() -> Path:
    if not CHROMIUM.is_file():
        message = f"Chromium not found at {CHROMIUM} (apt-get install chromium)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return CHROMIUM


@pytest.fixture(scope="session")
def site(chromium_path, tmp_path_factory) -> dict:
    """The running page: {"url", "data", "model"}; a model is trained before it starts."""
    from shapecnn.config import resolve_recipe
    from shapecnn.training import train

    folder = tmp_path_factory.mktemp("browser")
    data = Path(shutil.copytree(STARTER_DATA, folder / "shapes"))
    model = folder / "models" / "shapes.keras"
    # Ten epochs are enough for neatly drawn shapes and keep the start short.
    train(data, resolve_recipe("default", epochs=100), model_path=model)
    with streamlit_server(data, model, folder / "streamlit.log") as url:
        yield {"url": url, "data": data, "model": model, "log": folder / "streamlit.log"}


@pytest.fixture(scope="session")
def browser(chromium_path):
    """One Chromium for every browser test (each opens its own pages), whichever server."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = launch_chromium(playwright)
        yield chromium
        chromium.close()
