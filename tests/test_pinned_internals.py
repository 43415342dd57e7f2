"""The private names of other projects that the page and its browser tests rely on.

The canvas toolbar is styled by its class names (page/templates.py: only undo and redo stay),
and the browser tests find Streamlit's elements by its test ids. Neither is public API, so
requirements.txt pins both packages to the range they were tested with; this test reads the
installed front-end bundles and fails, naming what is gone, when an upgrade renames them.
"""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
# The class names our CSS styles, and the ids and attributes the page and tests look for.
CANVAS_CLASSES = (
    "dc-container",
    "dc-toolbar",
    "dc-toolbar-contextual",
    "dc-toolbar-separator",
    "dc-icon-button",
)
STREAMLIT_IDS = (
    "stApp",
    "stMainBlockContainer",
    "stElementContainer",
    "stMetricValue",
    "stFileUploaderDropzoneInput",
    "stBidiComponentIsolated",
    "data-test-script-state",
)


def bundle_text(package: str, pattern: str) -> str:
    # Found, not imported: the canvas can only be imported inside a Streamlit run.
    folder = Path(importlib.util.find_spec(package).origin).parent
    files = [p for p in folder.rglob(pattern) if p.is_file()]
    assert files, f"no front-end files matching {pattern} in {folder}"
    return "\n".join(p.read_text(errors="replace") for p in files)


def test_the_canvas_toolbar_still_has_the_class_names_our_css_styles():
    bundle = bundle_text("streamlit_drawable_canvas", "*.[jc]s*")
    missing = [name for name in CANVAS_CLASSES if name not in bundle]
    assert not missing, f"streamlit-drawable-canvas no longer has {missing}: fix page/templates.py"
    # And the page's CSS still names only classes that exist.
    styled = set(re.findall(r"\.(dc-[a-z-]+)", (PROJECT / "page" / "templates.py").read_text()))
    assert styled <= set(CANVAS_CLASSES), styled - set(CANVAS_CLASSES)


def test_streamlit_still_has_the_test_ids_the_page_and_browser_tests_use():
    bundle = bundle_text("streamlit", "static/static/js/*.js")
    missing = [name for name in STREAMLIT_IDS if name not in bundle]
    assert not missing, f"Streamlit's front end no longer has {missing}"
