"""The drawing page: draw a shape, watch the model's guess change live, label, save and train.

    streamlit run app.py                                  # starter data, models/shapes.keras
    streamlit run app.py -- --data DIR --model PATH       # your own folders

Without arguments after `--`, the environment variables SHAPECNN_DATA and SHAPECNN_MODEL are
used, then the command line's defaults. The datasets beside DIR can be picked on the page, each
with its own model beside PATH, which is DIR's (page/datasets.py). This file is the frame: the
page's settings, the arguments, and the choice of the view and the dataset, each view a module of
the `page` package (page/__init__.py lists them). The work (predicting, saving, training,
thumbnails) is done by the shapecnn package, which never imports streamlit.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import streamlit as st

from page import state, templates
from page.assets import canvas_preloads
from page.common import Settings, clean_leftovers, job_registry, show_flashes
from page.datasets import dataset_picker, new_dataset_button
from page.draw import CANVAS_SIZE, STROKE_WIDTH, draw_view, keep_drawing
from page.drawings import drawings_view
from page.text import CATALOGUES, DEFAULT_LANGUAGE, LANGUAGES, shown_as, t
from page.train import train_view
from shapecnn import dataset
from shapecnn.config import DEFAULT_DATA, DEFAULT_MODEL

# The canvas's settings, read here by benchmarks/bench_page.py to check its bare reference page.
__all__ = ["CANVAS_SIZE", "STROKE_WIDTH", "Settings", "main", "parse_settings"]

VIEWS = ("Draw", "Train", "Drawings")
# Each view by the name it has in each language.
VIEW_NAMES = {texts[f"view.{view}"]: view for texts in CATALOGUES.values() for view in VIEWS}


def parse_settings(argv: list[str] | None = None, environ=None) -> Settings:
    """Data and model paths: `-- --data DIR --model PATH`, else the environment, else defaults."""
    environ = os.environ if environ is None else environ
    parser = argparse.ArgumentParser(prog="streamlit run app.py --", allow_abbrev=False)
    parser.add_argument(
        "--data", type=Path, default=Path(environ.get("SHAPECNN_DATA") or DEFAULT_DATA)
    )
    parser.add_argument(
        "--model", type=Path, default=Path(environ.get("SHAPECNN_MODEL") or DEFAULT_MODEL)
    )
    parser.add_argument(
        "--starter",
        type=Path,
        default=Path(environ.get("SHAPECNN_STARTER") or DEFAULT_DATA),
        help="the starter drawings, kept as they are: the first save into them makes a copy, "
        "and a new dataset can start as a copy of them",
    )
    parser.add_argument(
        "--no-first-model",
        action="store_true",
        default=environ.get("SHAPECNN_FIRST_MODEL", "1") == "0",
        help="with no model file, wait for Train instead of training a first model by itself",
    )
    args, _unknown = parser.parse_known_args(sys.argv[1:] if argv is None else argv)
    return Settings(
        data=args.data,
        model=args.model,
        first_model=not args.no_first_model,
        starter=args.starter,
    )


def choose_language() -> None:
    """The session's language, from the address (?lang=ko) when the session starts: every text
    the page shows below reads it (page/text.py)."""
    if state.widget_value(state.Key.LANGUAGE) is not None:
        return
    asked = st.query_params.get(state.Key.LANGUAGE)
    chosen = asked if asked in LANGUAGES else DEFAULT_LANGUAGE
    state.set_widget_value(state.Key.LANGUAGE, chosen)
    # The address names the view as the view control shows it, in its language (?view=학습);
    # a link with the view named in another language (?lang=ko&view=Train) opens it too. The
    # control, bound to the address, takes only its own names from it: it would open the view
    # but drop the English name from the address, and a reload would then open Draw. So the
    # address gets the name the control shows, and the run starts again with it (once per
    # session, before anything is drawn).
    named = st.query_params.get(state.Key.VIEW)
    view = VIEW_NAMES.get(named)
    if view is not None and shown_as("view.")(view) != named:
        st.query_params[state.Key.VIEW] = shown_as("view.")(view)
        st.rerun()


def language_picker() -> None:
    """English or 한국어, kept in the address as ?lang=ko like the view. Not bound to it as the
    view is: a bound widget writes the name it shows into the address (?lang=한국어), and the
    address should say ?lang=ko while the picker says 한국어."""
    st.segmented_control(
        t("app.language"),
        list(LANGUAGES),
        format_func=LANGUAGES.get,
        required=True,
        key=state.Key.LANGUAGE,
        on_change=language_changed,
        label_visibility="collapsed",
    )


def language_changed() -> None:
    language = state.widget_value(state.Key.LANGUAGE)
    if language == DEFAULT_LANGUAGE:
        st.query_params.pop(state.Key.LANGUAGE, None)
    else:
        st.query_params[state.Key.LANGUAGE] = language
    # The view control shows its choices in the language; set again, it keeps the view open
    # now (the browser still holds the view under its old name, which no longer matches).
    state.set_widget_value(state.Key.VIEW, state.widget_value(state.Key.VIEW, VIEWS[0]))


def main() -> None:
    choose_language()
    st.set_page_config(page_title=t("app.title"), page_icon=":material/draw:", layout="wide")
    settings = parse_settings()
    show_flashes()
    st.html(
        # First on the page: the canvas's code is fetched while the run goes on (page/assets.py).
        templates.preload_script(canvas_preloads())
        + templates.page_style(
            t("draw.heading.canvas"), t("draw.heading.prediction"), t("draw.heading.save")
        ),
        unsafe_allow_javascript=True,
    )
    with st.container(horizontal=True, vertical_alignment="bottom", gap="medium"):
        # One view at a time: Draw (the default), Train or Drawings, and the dataset they show.
        # Both are in the address (?view=Train&dataset=letters; in Korean the address names the
        # view in Korean, as the control does), so a bookmark opens on them and the browser's
        # back button works.
        view = st.segmented_control(
            t("app.view"),
            VIEWS,
            default=VIEWS[0],
            format_func=shown_as("view."),
            required=True,
            key=state.Key.VIEW,
            bind="query-params",
            label_visibility="collapsed",
        )
        settings, new_dataset_place = dataset_picker(settings)
        language_place = st.container(width="content")
    counts = dataset.count_images(settings.data)
    classes = list(counts)
    job = job_registry().latest(settings.model)
    training = job is not None and job.active

    clean_leftovers(str(settings.data))

    if view == "Draw":
        draw_view(settings, counts, training)
    else:
        keep_drawing()
        if view == "Train":
            train_view(settings, classes, counts, training)
        else:
            drawings_view(settings, classes, counts)
    # The header's rest goes in after the view, in the places kept for it: a fresh page shows
    # its canvas before the browser and the server spend time on these (the cold start,
    # benchmarks/RESULTS.md).
    new_dataset_button(settings, new_dataset_place)
    with language_place:
        language_picker()


if __name__ == "__main__":
    main()
