"""Several datasets: the dataset box at the top of the page, New dataset beside it, and the
starter drawings kept as they shipped.

Datasets live side by side in the folder of the --data dataset (on a fresh clone data/, where
data/handwriting_shape holds the starter drawings). The --data dataset's model is the --model
file; every other dataset's model goes beside that file, named after the dataset
(models/<dataset>.keras). The dataset shown is in the address (?dataset=my_shapes), as the view
is. The views get the picked dataset's Settings (`for_dataset`), and every cached singleton is
keyed on its folder or its model file: switching datasets switches the classes, counts, model,
training job and predictions together.

The starter folder is committed, and the page saves no new drawing into it: the first save there
makes MY_DATASET, a copy of the starter drawings, saves the drawing into it, shows it from then
on (the page opens on it once it exists) and says so in a toast. Why this, and not a question
before the first save or a copy made when the page opens: someone who has just drawn a circle and
pressed "It's a circle" expects it saved and the circle count to go up by one, which it does (the
copy holds every starter drawing); nothing is written for someone who only looks; and the starter
stays as shipped, for `git status` and for the next dataset started from it.
"""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

import streamlit as st

from page import state
from page.common import (
    Settings,
    clean_label,
    flash,
    label_refusal,
    refusal_line,
    short_error,
    shown,
)
from page.text import t
from shapecnn import dataset
from shapecnn.errors import DatasetError, ShapeCNNError

# The dataset the first save into the starter makes (a copy of the starter drawings).
MY_DATASET = "my_shapes"
# How a dataset made on the page starts: the first is the default.
STARTS = ("starter", "empty")


def _absolute(path: Path) -> Path:
    return Path(os.path.abspath(path))


def given(settings: Settings) -> tuple[Path, Path]:
    """(--data, --model): the dataset the page was started with, and its model file."""
    return settings.given or (settings.data, settings.model)


def datasets_folder(settings: Settings) -> Path:
    """Where the datasets to pick from live, and new ones are made: beside the --data one."""
    return _absolute(given(settings)[0]).parent


def is_starter(settings: Settings) -> bool:
    """Whether the page shows the starter dataset, which it keeps as shipped."""
    return dataset.same_folder(settings.data, settings.starter)


def dataset_names(settings: Settings) -> list[str]:
    """The datasets to pick from: the one the page opens on first, then the others by name."""
    data = _absolute(given(settings)[0])
    names = {*dataset.list_datasets(data.parent), data.name}
    from_starter = dataset.same_folder(data, settings.starter)
    opening = MY_DATASET if MY_DATASET in names and from_starter else None
    first = opening or data.name
    return [first, *sorted(names - {first})]


def model_of(settings: Settings, name: str) -> Path:
    """A dataset's model file: --model for the --data dataset, else <models>/<name>.keras."""
    data, model = given(settings)
    return model if name == _absolute(data).name else model.parent / f"{name}.keras"


def for_dataset(settings: Settings, name: str) -> Settings:
    """The Settings the views use for the dataset `name` (one of dataset_names)."""
    data, model = given(settings)
    if name == _absolute(data).name:
        return replace(settings, data=data, model=model, given=None)
    return replace(
        settings,
        data=datasets_folder(settings) / name,
        model=model_of(settings, name),
        given=(data, model),
    )


# --- at the top of the page ---------------------------------------------------------------------


def dataset_picker(settings: Settings):
    """The dataset box (kept in the address), and beside it, side by side also on a phone, the
    place of New dataset; returns the picked dataset's Settings and that place, which
    `new_dataset_button` fills once the view is drawn (the canvas first: the cold start)."""
    session = state.current()
    names = dataset_names(settings)
    pending, session.pending_dataset = session.pending_dataset, None
    if pending in names:
        state.set_widget_value(state.Key.DATASET, pending)
    with st.container(horizontal=True, gap="small", width="content"):
        name = st.selectbox(
            t("datasets.box"),
            names,
            key=state.Key.DATASET,
            bind="query-params",
            icon=":material/folder:",
            label_visibility="collapsed",
            width=200,
        )
        place = st.container(width="content")
    return for_dataset(settings, name), place


def new_dataset_button(settings: Settings, place) -> None:
    """New dataset: a popover with the form, in the place dataset_picker kept for it."""
    with place, st.popover(t("datasets.new"), icon=":material/add:"):
        st.caption(datasets_note(settings))
        new_dataset_form(settings)


def datasets_note(settings: Settings) -> str:
    starter = (
        t("datasets.note_starter", starter=settings.starter.name, mine=MY_DATASET)
        if _absolute(settings.starter).parent == datasets_folder(settings)
        else ""
    )
    return t("datasets.note", folder=shown(datasets_folder(settings))) + starter


def new_dataset_form(settings: Settings) -> None:
    with st.form("new_dataset", border=False):
        typed = st.text_input(
            t("datasets.name"),
            key="new_dataset_name",
            placeholder=t("datasets.placeholder"),
            max_chars=dataset.MAX_LABEL_LENGTH,
            help=t("datasets.rule", limit=dataset.MAX_LABEL_LENGTH),
        )
        # The choices' texts are looked up now, in this run's language (AppTest calls the
        # format function later, outside the session).
        starts = {start: t(f"datasets.start.{start}") for start in STARTS}
        start = st.radio(
            t("datasets.start"),
            STARTS,
            format_func=starts.get,
            key="new_dataset_start",
        )
        create = st.form_submit_button(t("datasets.create"), type="primary")
    refusal_line(create_on_page(settings, typed, start) if create else None)


def create_on_page(settings: Settings, typed: str | None, start: str) -> str | None:
    """Make the dataset and show it; or say in one line why not (nothing is written then)."""
    name = clean_label(typed)
    refusal = label_refusal(name, "dataset")
    if refusal:
        return refusal
    folder = datasets_folder(settings)
    try:
        name = dataset.validate_dataset_name(name)
        model = model_of(settings, name)
        taken = _absolute(model) == _absolute(given(settings)[1]) or model.exists()
        if taken and not (folder / name).exists():  # a dataset of that name: said below
            return t("datasets.model_taken", model=shown(model))
        source = settings.starter if start == "starter" else None
        root = dataset.create_dataset(folder, name, source)
    except DatasetError as error:
        if (folder / name).exists():
            return t("datasets.taken", name=repr(name), folder=shown(folder))
        return str(error)
    except ShapeCNNError as error:
        return short_error(error, "dataset name")
    drawings = sum(sum(split.values()) for split in dataset.count_images(root).values())
    flash(
        t("datasets.started_copy", name=root.name, count=drawings)
        if start == "starter"
        else t("datasets.started_empty", name=root.name)
    )
    state.current().pending_dataset = root.name
    st.rerun()


# --- the starter stays as shipped ---------------------------------------------------------------


def for_new_drawings(settings: Settings, label=None, drawing=None, split: str = "auto") -> Settings:
    """The Settings of the dataset new drawings go into: the one shown, except the starter, whose
    first save makes MY_DATASET (a copy of it) and shows it. A drawing given is checked first, so
    a save the dataset would refuse makes nothing."""
    if not is_starter(settings):
        return settings
    if drawing is not None:
        dataset.check_drawing(settings.data, label, drawing, split)
    folder = datasets_folder(settings)
    made = MY_DATASET not in dataset.list_datasets(folder)
    if made:
        try:
            dataset.create_dataset(folder, MY_DATASET, settings.data)
        except DatasetError:
            if MY_DATASET not in dataset.list_datasets(folder):
                raise  # not another session's copy made meanwhile: say why
    flash(t("datasets.made_mine" if made else "datasets.into_mine", name=MY_DATASET), icon="📁")
    state.current().pending_dataset = MY_DATASET
    return for_dataset(settings, MY_DATASET)
