"""Everything the page keeps for a session between reruns, in one typed place.

The page's own values live in one `PageState` in `st.session_state` (`current()`), so a reader
sees every one of them here, with its type and what it is for. Widgets keep their values under
their keys, as Streamlit does; the keys that code outside the widget reads or sets are named
here too (`Key`, `setting_key`, `browse_page_key`, `pick_key`). What the server holds for the
session outside this state, its uploaded files, is let go here too (`forget_uploads`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

_STATE = "shapecnn"  # the one session-state entry the page's own values live in


@dataclass(frozen=True)
class KeptDrawing:
    """A drawing left on the canvas when another view was opened."""

    generation: int  # the canvas it belongs to: Clear and Save start a new one
    strokes: dict  # the canvas's own record of its strokes, to draw them again
    pixels: object  # what it showed, for the prediction and Save until the next stroke


@dataclass(frozen=True)
class DrawingChange:
    """What this session did to a test drawing the model got wrong, from the Train view."""

    action: str  # "moved" or "deleted"
    label: str = ""  # the class it was moved to
    path: str | None = None  # where it is now (None once deleted)


@dataclass(frozen=True)
class LastDelete:
    """The drawings the last delete put in the dataset's bin, for its Undo button."""

    entry: str  # the bin entry (dataset.restore_deleted)
    count: int
    label: str
    split: str


@dataclass
class PageState:
    # Toasts for the next run: (message, icon). A rerun right after an action would swallow them.
    flashes: list[tuple[str, str]] = field(default_factory=list)
    # The toasts the last whole run showed, and when: a rerun that follows at once (a
    # learn-as-you-save update ending) shows them again rather than swallowing them.
    shown_flashes: tuple[float, list[tuple[str, str]]] = (0.0, [])
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
    # The job this session started (a click, a save): it polls that one fast, and its end
    # reruns this session's page even when it was a learn-as-you-save update (page/train.py).
    own_job: str | None = None
    # The uploader's key number: a new number is an empty uploader for the next import.
    upload_generation: int = 0
    # The class whose deletion waits for a confirmation in the Drawings view.
    confirm_delete: str | None = None
    # The class just renamed: the Drawings view's class box selects it on the next run.
    pending_browse_class: str | None = None
    # The files the last import skipped, (name, why), shown once under the uploader.
    import_report: list[tuple[str, str]] | None = None
    # The misclassified test drawing picked in the Train view's results (its path), to relabel.
    fixing: str | None = None
    # What was done to misclassified drawings since (by their path when the model was trained):
    # the results mark them, the model has not learnt the change yet.
    fixed: dict[str, DrawingChange] = field(default_factory=dict)
    # The one line saying what the last relabel or delete did, shown once.
    fix_message: str | None = None
    # Bytes of the files this session uploaded (counted once each, by file id), imported or
    # not: past the page's limit per session an upload is refused and its files dropped.
    uploaded_bytes: int = 0
    counted_uploads: set[str] = field(default_factory=set)
    # Why the last upload was refused, shown once under the emptied uploader.
    upload_refusal: str | None = None
    # The drawings selected in the Drawings view (their paths), of the class and split shown.
    picked: set[str] = field(default_factory=set)
    # What the last delete in the Drawings view put in the bin: its Undo button brings it back.
    last_delete: LastDelete | None = None
    # The Draw view's "look inside" panel is open: the network's layer maps and occlusion map
    # under the prediction, on every stroke (off by default: it costs a stroke time).
    look_inside: bool = False
    # The dataset just made (on the page, or by the first save into the starter): the dataset
    # box selects it on the next run.
    pending_dataset: str | None = None


def current() -> PageState:
    """This session's page state, made on first use."""
    return st.session_state.setdefault(_STATE, PageState())


class Key:
    """Widget keys that code besides the widget reads or sets (the tests find widgets by them,
    and the browser tests by the class `st-key-<key>` Streamlit gives each widget)."""

    VIEW = "view"
    DATASET = "dataset"
    LANGUAGE = "lang"
    LABEL_CHOICE = "label_choice"
    RECIPE_NAME = "recipe_name"
    BROWSE_CLASS = "browse_class"
    BROWSE_ORDER = "browse_order"
    LEARN_AS_I_SAVE = "learn_as_i_save"
    LOOK_INSIDE = "look_inside"


def setting_key(setting: str, recipe: str) -> str:
    """A recipe setting's widget key: one per recipe, so choosing another recipe shows its own
    values. Read back by chosen_recipe when the widgets are not on screen."""
    return f"{setting}-{recipe}"


def browse_page_key(label: str, split: str) -> str:
    """The Drawings view's page number for one class and split: each keeps its own page."""
    return f"browse_page-{label}-{split}"


def pick_key(name: str) -> str:
    """The checkbox of one thumbnail in the Drawings view (a click on the thumbnail ticks it)."""
    return f"pick-{name}"


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


def forget_uploads(files) -> None:
    """Drop uploaded files from the server's memory now. Streamlit keeps every file a session
    uploaded until the session ends: an uploader under a new key does not free them (only the
    browser's own delete, a click on a file's x, does), so an imported or refused upload would
    stay held. Only its in-memory manager can drop a file (remove_file is not in the protocol
    every manager follows); with another, the files wait for the session's end."""
    ctx = get_script_run_ctx()
    remove = getattr(getattr(ctx, "uploaded_file_mgr", None), "remove_file", None)
    if remove is None:
        return
    for file in files or ():
        file_id = getattr(file, "file_id", None)
        if file_id:
            remove(ctx.session_id, file_id)
