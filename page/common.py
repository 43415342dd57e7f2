"""What every view shares: the settings, the cached singletons, toasts, and the dataset panel
beside the Train and Drawings views."""

from __future__ import annotations

import re
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import streamlit as st

from page import state, templates
from page.text import CATALOGUES, language, t
from shapecnn import dataset, jobs, views
from shapecnn.config import DEFAULT_DATA

# Thumbnails in the Drawings view and under the Train view's results: as many to a row as the
# width holds (a row that wraps), so a phone shows three and a wide screen twenty.
THUMBNAIL_WIDTH = 96
MISCLASSIFIED_SHOWN = 16
# The last choice of a label box: a class not made yet, named in a text field. The value stays
# the same in every language; label boxes show it as t("label.new_class") (label_option).
NEW_CLASS = "+ New class…"


@dataclass(frozen=True)
class Settings:
    # The dataset the page shows and its model file (page/datasets.py: the one picked at the top).
    data: Path
    model: Path
    # With no model file, train a first one by itself when the Draw view opens (the starter
    # predictions answer meanwhile). Off: a teacher presses Train as part of the lesson.
    first_model: bool = True
    # The shipped starter drawings: a new dataset can start as a copy of them, and the page
    # saves no new drawing into this folder (the first save starts a copy; page/datasets.py).
    starter: Path = DEFAULT_DATA
    # (--data, --model) while the page shows another dataset; None while it shows that one.
    given: tuple[Path, Path] | None = None


def shown(path: Path) -> str:
    """A path as the user knows it: relative to the working directory when inside it."""
    try:
        return str(Path(path).resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


# --- cached singletons --------------------------------------------------------------------------


@st.cache_resource(show_spinner=False)
def job_registry() -> jobs.JobRegistry:
    """One registry for every session: a reload or a second tab sees the running job."""
    return jobs.JobRegistry()


def _load_classifier(path: str, stamp: tuple[int, int]):
    """The model, loaded once per file version: `stamp` changes when training replaces it.
    It runs in LiteRT: the page's process never imports TensorFlow."""
    from shapecnn.inference import Classifier

    return Classifier.load(path)


def _starter_classifier(data: str, counts: tuple):
    """Predictions before any model exists (a fresh clone): the shape base and the dataset's
    training drawings (inference.StarterClassifier), read once per set of counts. None when
    the dataset has fewer than two classes to tell apart."""
    from shapecnn.inference import StarterClassifier

    if sum(1 for _name, train, _test in counts if train) < 2:
        return None
    return StarterClassifier.from_dataset(data)


def cached_per_language(function, spinner_key: str, max_entries: int):
    """`function` in st.cache_resource with a spinner in each language. The spinner shows only
    while the function runs, not on every stroke (a message to the browser); a spinner text is
    fixed when the cache is made, so there is one per language. They share one cache (Streamlit
    keys it on the function's own code), so the model loads once whatever the language."""
    cached = {
        language: st.cache_resource(show_spinner=texts[spinner_key], max_entries=max_entries)(
            function
        )
        for language, texts in CATALOGUES.items()
    }

    def call(*args):
        return cached[language()](*args)

    call.per_language = cached
    return call


load_classifier = cached_per_language(_load_classifier, "spinner.model", max_entries=2)
starter_classifier = cached_per_language(_starter_classifier, "spinner.drawings", max_entries=2)


# The training process starts this long after the page's first run: its TensorFlow import
# would otherwise share the cores with the browser loading the page (the cold start).
WARM_UP_DELAY_SECONDS = 8.0


@st.cache_resource(show_spinner=False)
def warm_training_process(model: str) -> bool:
    """Once per server and model file: start the training process soon (it imports TensorFlow
    at a low priority), so the first Train click, or the first drawing saved, trains in seconds.
    A click before then starts it at once."""
    timer = threading.Timer(WARM_UP_DELAY_SECONDS, job_registry().warm_up, args=(model,))
    timer.daemon = True
    timer.start()
    return True


@st.cache_resource(show_spinner=False)
def clean_leftovers(data: str) -> int:
    """Once per dataset and server: remove temporary files that interrupted saves left."""
    return dataset.clean_temp_files(data)


@st.cache_resource(show_spinner=False)
def first_problem_scan(data: str) -> Future:
    """The first look at every file of a dataset, once per server, in the background: it decodes
    every drawing (seconds for a big dataset), and the first page must not wait for it."""
    return ThreadPoolExecutor(1, thread_name_prefix="problem-scan").submit(
        dataset.find_problems, data
    )


# --- toasts -------------------------------------------------------------------------------------


def flash(message: str, icon: str = "✅") -> None:
    """A toast for the next run (a rerun right after an action would swallow it)."""
    state.current().flashes.append((message, icon))


def show_flashes() -> None:
    session = state.current()
    flashes, session.flashes = session.flashes, []
    for message, icon in flashes:
        st.toast(message, icon=icon)
    session.shown_flashes = (time.monotonic(), flashes)


# A toast stays about this long; one shown longer ago than this is not shown again.
TOAST_SECONDS = 4.0


def flash_again() -> None:
    """Before a rerun that comes right after a whole run (a job that ended meanwhile): its
    toasts once more, so that the rerun does not swallow them (the browser keeps a toast it
    shows already)."""
    session = state.current()
    shown_at, flashes = session.shown_flashes
    if flashes and time.monotonic() - shown_at < TOAST_SECONDS:
        session.flashes[:0] = flashes
    session.shown_flashes = (0.0, [])


# --- the model file ----------------------------------------------------------------------------


def model_problem(error: Exception) -> str:
    """One line for a model file the page cannot use, whatever broke reading it: the page stays
    whole, and training a new model replaces the file."""
    reason = " ".join(views.describe_error(error).split())  # one line, whatever it held
    if len(reason) > 300:
        reason = reason[:300] + "…"
    return t("model.unusable", reason=reason)


# --- labels typed on the page ------------------------------------------------------------------


def clean_label(text: str | None) -> str:
    """A typed class name as it is meant: without the spaces around it."""
    return (text or "").strip()


def label_refusal(label: str, thing: str = "class") -> str | None:
    """One short line for a new class (or dataset) name the page can refuse before asking the
    dataset."""
    if not label:
        return t("label.empty" if thing == "class" else "dataset_name.empty")
    if len(label) > dataset.MAX_LABEL_LENGTH:
        return t("label.too_long", length=len(label), limit=dataset.MAX_LABEL_LENGTH)
    return None


def short_error(error: Exception, noun: str = "class name") -> str:
    """The part of a label (or dataset name) error a person needs on one line: the dataset's own
    message spells out the whole rule (shown as the field's help) and echoes the name."""
    text = str(error)
    problem = re.search(r"; got .*\(([^()]*)\)$", text)
    if problem:
        key = "label.not_a_name" if noun == "class name" else "dataset_name.not_a_name"
        return t(key, problem=problem.group(1))
    twin = re.search(
        r"differs only by case from the (?:existing )?(?:class|dataset) ('[^']*')", text
    )
    if twin:
        return t("label.case_twin", name=twin.group(1))
    return text


def refusal_line(message: str | None) -> None:
    """The one line under a form that says why it refused, in a slot that is always there and
    always one line high: a refusal neither pushes the page down nor breaks a row of buttons."""
    st.html(templates.refusal_line(message or ""))


# --- beside the Train and Drawings views --------------------------------------------------------


def counts_section(settings: Settings, counts: dict[str, dict[str, int]]) -> None:
    st.subheader(t("dataset.heading"))
    st.caption(f"`{shown(settings.data)}`")
    if counts:
        st.table(count_table(counts), hide_index=True, border="horizontal")
        return
    st.info(t("dataset.empty"))
    if st.button(t("dataset.make_starter"), key="make_starter"):
        from shapecnn.synth import synth_dataset

        with st.spinner(t("dataset.making_starter")):
            made = synth_dataset(settings.data, per_class=20)
        flash(t("dataset.made_starter", count=sum(sum(c.values()) for c in made.values())))
        st.rerun()


def count_table(counts: dict[str, dict[str, int]]) -> list[dict]:
    """views.count_rows with its column names, and the name of its total row, in the page's
    language (class names stay as they are)."""
    columns = {
        "class": t("column.class"),
        "train": t("split.train"),
        "test": t("split.test"),
        "total": t("column.total"),
    }
    rows = [
        {columns[name]: value for name, value in row.items()} for row in views.count_rows(counts)
    ]
    rows[-1][columns["class"]] = columns["total"]
    return rows


def label_rule() -> str:
    """The rule for class names (dataset.LABEL_RULE), in the page's language."""
    return t("label.rule", limit=dataset.MAX_LABEL_LENGTH)


def label_options():
    """A label box's format_func: class names as they are, NEW_CLASS in the page's language."""
    new_class = t("label.new_class")
    return lambda option: new_class if option == NEW_CLASS else option


def class_mismatch(model_classes: list[str], dataset_classes: list[str]) -> str | None:
    """A sentence saying how the dataset's classes differ from the model's, or None."""
    new, gone = views.class_difference(model_classes, dataset_classes)
    differences = [
        t(key, names=", ".join(repr(name) for name in names))
        for key, names in (("train.mismatch_new", new), ("train.mismatch_gone", gone))
        if names
    ]
    return t("train.mismatch", differences="; ".join(differences)) if differences else None
