"""Everything the page keeps for a session between reruns, in one typed place.

The page's own values live in one `PageState` in `st.session_state` (`current()`), so a reader
sees every one of them here, with its type and what it is for. Widgets keep their values under
their keys, as Streamlit does; the keys that code outside the widget reads or sets are named
here too (`Key`, `setting_key`, `browse_page_key`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import streamlit as st

_STATE = "shapecnn"  # the one session-state entry the page's own values live in


@dataclass(frozen=True)
class KeptDrawing:
    """A drawing left on the canvas when another view was opened."""

    generation: int  # the canvas it belongs to: Clear and Save start a new one
    strokes: dict  # the canvas's own record of its strokes, to draw them again
    pixels: object  # what it showed, for the prediction and Save until the next stroke


@dataclass
class PageState:
    # Toasts for the next run: (message, icon). A rerun right after an action would swallow them.
    flashes: list[tuple[str, str]] = field(default_factory=list)
    # The canvas's key number: a new number is a new, empty canvas (Clear, Save).
    canvas_generation: int = 0
    # What the canvas shows now (H x W x 4 uint8, or None), for the save panel's fragment.
    drawing: object = None
    # The canvas's record of its strokes (its json_data), to draw them again (kept_drawing).
    drawing_strokes: dict | None = None
    # The drawing to bring back when the Draw view is shown again.
    kept_drawing: KeptDrawing | None = None
    # The class just saved into: the label box selects it on the next run.
    pending_label: str | None = None
    # The id of the training job this session watches, to rerun the page when it ends.
    watched_job: str | None = None
    # The uploader's key number: a new number is an empty uploader for the next import.
    upload_generation: int = 0
    # The class whose deletion waits for a confirmation in the Drawings view.
    confirm_delete: str | None = None
    # The class just renamed: the Drawings view's class box selects it on the next run.
    pending_browse_class: str | None = None
    # The files the last import skipped, (name, why), shown once under the uploader.
    import_report: list[tuple[str, str]] | None = None


def current() -> PageState:
    """This session's page state, made on first use."""
    return st.session_state.setdefault(_STATE, PageState())


class Key:
    """Widget keys that code besides the widget reads or sets (the tests find widgets by them,
    and the browser tests by the class `st-key-<key>` Streamlit gives each widget)."""

    VIEW = "view"
    LANGUAGE = "lang"
    LABEL_CHOICE = "label_choice"
    RECIPE_NAME = "recipe_name"
    BROWSE_CLASS = "browse_class"
    LEARN_AS_I_SAVE = "learn_as_i_save"


def setting_key(setting: str, recipe: str) -> str:
    """A recipe setting's widget key: one per recipe, so choosing another recipe shows its own
    values. Read back by chosen_recipe when the widgets are not on screen."""
    return f"{setting}-{recipe}"


def browse_page_key(label: str, split: str) -> str:
    """The Drawings view's page number for one class and split: each keeps its own page."""
    return f"browse_page-{label}-{split}"


def canvas_key(generation: int) -> str:
    return f"canvas-{generation}"


def upload_key(generation: int) -> str:
    return f"uploads-{generation}"


def widget_value(key: str, default=None):
    """A widget's value, also while the widget is not on screen (persist_state keeps it)."""
    return st.session_state.get(key, default)


def set_widget_value(key: str, value) -> None:
    """Set a widget's value before the widget is drawn in this run."""
    st.session_state[key] = value
