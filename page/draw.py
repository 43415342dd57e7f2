"""The Draw view: the canvas, the live prediction, label and save, and Train, on one screen.

A stroke reruns only the canvas and the prediction (`stroke_section`, a fragment), and the save
panel is a fragment of its own: the page keeps what a stroke costs small.
"""

from __future__ import annotations

import streamlit as st

from page import state, templates
from page.common import (
    NEW_CLASS,
    Settings,
    clean_label,
    flash,
    job_registry,
    label_options,
    label_refusal,
    label_rule,
    load_classifier,
    model_problem,
    refusal_line,
    short_error,
    starter_classifier,
    warm_training_process,
)
from page.datasets import for_new_drawings
from page.text import shown_as, t
from page.train import follow, model_summary, progress_text, train_button, watch_own_job
from shapecnn import dataset, inside, jobs, views
from shapecnn.config import LEARN_AS_YOU_SAVE, SPLITS, is_learn_as_you_save, resolve_recipe
from shapecnn.errors import BlankDrawingError, ShapeCNNError

# The reference canvas of the shape generator: strokes replayed by the browser tests fit it.
CANVAS_SIZE = 280
# 8 px on 280 px: still a clear line once a drawing is cropped and shrunk to 24 px.
STROKE_WIDTH = 8
SAVE_PANEL_WIDTH = 250


def canvas_section() -> object:
    """The canvas; returns its pixels (H x W x 4 uint8), or None before the first stroke."""
    from streamlit_drawable_canvas import st_canvas  # only importable inside a Streamlit run

    session = state.current()
    generation = session.canvas_generation
    # A drawing left behind when another view was opened comes back on the canvas (keep_drawing).
    kept = session.kept_drawing
    restored = kept if kept is not None and kept.generation == generation else None
    result = st_canvas(
        stroke_width=STROKE_WIDTH,
        stroke_color="#000000",
        background_color="#FFFFFF",
        height=CANVAS_SIZE,
        width=CANVAS_SIZE,
        drawing_mode="freedraw",
        initial_drawing=restored.strokes if restored else None,
        return_image_data=True,
        # A new key is a new, empty canvas: how the page clears it after a save.
        key=state.canvas_key(generation),
    )
    st.button(t("draw.clear"), key="clear_canvas", icon=":material/delete:", on_click=clear_canvas)
    session.drawing_strokes = result.json_data
    if result.image_data is None and restored:
        return restored.pixels  # until the next stroke, the component sends no pixels
    return result.image_data


def keep_drawing() -> None:
    """Called when a view other than Draw is shown: the canvas is not drawn there, so Streamlit
    forgets what was on it. Keep it, to draw it again when the Draw view comes back."""
    session = state.current()
    pixels, strokes = session.drawing, session.drawing_strokes
    if pixels is None or not strokes or not strokes.get("objects"):
        # Nothing on the canvas (never drawn, or undone): nothing to bring back.
        session.kept_drawing = None
        return
    session.kept_drawing = state.KeptDrawing(session.canvas_generation, strokes, pixels)


def clear_canvas() -> None:
    state.current().canvas_generation += 1


def prediction_section(settings: Settings, drawing, training: bool) -> views.Prediction | None:
    """The model's guess for the drawing, its probabilities and its view; None if there is none.
    Everything here is redrawn after every stroke, so it is kept to a few elements."""
    stamp = views.model_stamp(settings.model)
    try:
        if stamp is None:
            classifier = starter_classifier(str(settings.data), counts_key(settings))
            if classifier is None:
                st.info(t("draw.no_model"))
                return None
        else:
            classifier = load_classifier(str(settings.model), stamp)
        prediction = views.predict_drawing(classifier, drawing)
    except Exception as error:  # noqa: BLE001 - a bad model file must not take the page down
        st.error(model_problem(error))
        st.caption(t("draw.replace_model"))
        return None
    if prediction is None:
        st.info(t("draw.prompt"))
        return None
    if stamp is not None:
        answered_by = t("draw.answered_by_model", when=views.trained_when(classifier.metadata))
    else:
        answered_by = t(
            "draw.answered_by_starter_training" if training else "draw.answered_by_starter"
        )
    panel = templates.prediction_html(
        views.probability_rows(prediction.probabilities),
        views.png_data_uri(views.model_input_image(prediction.model_input, size=64)),
        answered_by,
        t("draw.seen_alt"),
        t("draw.seen_caption"),
    )
    # A drawing like none of the classes gets "not sure" and the closest class, never a
    # confident wrong answer.
    st.metric(
        t("draw.prediction"),
        t("draw.unsure") if prediction.unsure else prediction.label,
        delta=(
            t("draw.closest", label=prediction.label)
            if prediction.unsure
            else t("draw.sure", confidence=prediction.confidence)
        ),
        delta_color="off",
        delta_arrow="off",
    )
    st.html(panel)
    # Off by default: a stroke should pay only for the prediction.
    if st.toggle(t("draw.augmentation"), key="augmentation_preview"):
        st.image(views.augmentation_images(prediction.model_input), width=64)
        st.caption(t("draw.augmentation_caption"))
    inside_section(classifier if stamp is not None else None, prediction)
    return prediction


def inside_section(classifier, prediction: views.Prediction) -> None:
    """The look inside, under the prediction when its toggle is on (off by default, kept in the
    session's PageState): the layer maps and the occlusion map of the drawing, from the same
    runtime that made the prediction. `classifier` is None for the starter predictions."""
    session = state.current()
    shown = st.toggle(
        t("inside.toggle"),
        value=session.look_inside,
        key=state.Key.LOOK_INSIDE,
        help=t("inside.help"),
        on_change=remember_look_inside,
    )
    if not shown:
        return
    if classifier is None:
        st.caption(t("inside.no_model"))
        return
    try:
        seen = inside.look_inside(classifier, prediction.model_input)
    except inside.NoLayerOutputsError:
        st.caption(t("inside.no_layers"))
        return
    pictures = inside.pictures(seen, prediction.model_input)
    figures = []
    for key, picture in pictures.items():
        if key == "occlusion":
            values = {
                "patch": inside.PATCH,
                "patches": seen.patches,
                "label": seen.label,
                "lowest": f"{seen.lowest:.0%}",
            }
        else:
            height, width, count = seen.layers[key].shape
            values = {"count": count, "height": height, "width": width}
        figures.append(
            {
                "key": key,
                "title": t(f"inside.{key}.title", **values),
                "sentence": t(f"inside.{key}.text", **values),
                "picture_uri": views.png_data_uri(picture.image),
                "width": picture.width,
            }
        )
    st.html(templates.inside_html(figures, t("inside.legend")))


def remember_look_inside() -> None:
    state.current().look_inside = bool(state.widget_value(state.Key.LOOK_INSIDE, False))


@st.fragment
def save_section(settings: Settings, counts: dict[str, dict[str, int]]) -> None:
    """Label and save the drawing on the canvas. A fragment of its own: a stroke does not redraw
    it, and choosing a label does not rerun the prediction. A refused save says why in one line
    under the Save button."""
    session = state.current()
    drawing = session.drawing
    classes = list(counts)
    refusal = None
    if classes:
        st.caption(t("save.quick_caption"))
        with st.container(horizontal=True, gap="small"):
            for name in classes:
                train, test = counts[name]["train"], counts[name]["test"]
                if st.button(
                    f"{name} {train}/{test}",
                    key=f"quick-{name}",
                    help=t("save.quick_help", name=name, train=train, test=test),
                ):
                    refusal = save_drawing(settings, name, drawing, "auto")
    pending, session.pending_label = session.pending_label, None
    if pending in classes:
        state.set_widget_value(state.Key.LABEL_CHOICE, pending)
    choice = st.selectbox(
        t("save.label"),
        [*classes, NEW_CLASS],
        format_func=label_options(),
        key=state.Key.LABEL_CHOICE,
        persist_state="page",
    )
    label = choice
    if choice == NEW_CLASS:
        label = clean_label(
            st.text_input(
                t("save.new_class_name"),
                key="new_label",
                placeholder=t("save.new_class_placeholder"),
                max_chars=dataset.MAX_LABEL_LENGTH,
                help=label_rule(),
            )
        )
    st.toggle(
        t("save.learn"),
        value=True,
        key=state.Key.LEARN_AS_I_SAVE,
        help=t("save.learn_help"),
    )
    split = st.radio(
        t("save.split"),
        ("auto", *SPLITS),
        format_func=shown_as("split."),
        horizontal=True,
        key="split",
        persist_state="page",
        help=t("save.split_help"),
    )
    if st.button(t("save.button"), type="primary", key="save", width="stretch"):
        refusal = (label_refusal(label) if choice == NEW_CLASS else None) or save_drawing(
            settings, label, drawing, split
        )
    refusal_line(refusal)


def save_drawing(settings: Settings, label: str, drawing, split: str) -> str | None:
    """Save into the dataset, then clear the canvas and say where it went; or say in one line
    why not."""
    try:
        if drawing is None:
            raise BlankDrawingError("nothing drawn yet")
        # Never into the starter as shipped: its first save makes a copy (page/datasets.py).
        settings = for_new_drawings(settings, label, drawing, split)
        path = dataset.save_drawing(settings.data, label, drawing, split)
    except BlankDrawingError:
        return t("save.blank")
    except ShapeCNNError as error:
        return short_error(error)
    saved_label, saved_split = path.parent.name, path.parent.parent.name
    counts = dataset.count_images(settings.data).get(saved_label, {"train": 0, "test": 0})
    flash(
        t(
            "save.saved",
            path=f"{saved_split}/{saved_label}/{path.name}",
            label=saved_label,
            train=counts["train"],
            test=counts["test"],
        )
    )
    if state.widget_value(state.Key.LEARN_AS_I_SAVE, True):
        learn_from_saves(settings)
    state.current().pending_label = saved_label
    clear_canvas()
    st.rerun()  # the whole page: counts and classes change


def learn_from_saves(settings: Settings) -> None:
    """Retrain with the default recipe (the shape base's features are cached: seconds) so the
    live prediction reflects the drawing just saved. A run already going on is left alone."""
    classes_with_training = [
        name for name, split in dataset.count_images(settings.data).items() if split["train"]
    ]
    if len(classes_with_training) < 2:
        return
    try:
        job, _started = job_registry().start(
            settings.data, settings.model, resolve_recipe(**LEARN_AS_YOU_SAVE)
        )
    except ShapeCNNError:
        return  # another process trains this model: its next run will include the drawing
    watch_own_job(job.id)


def counts_key(settings: Settings) -> tuple:
    """The dataset's counts as a cache key: the starter predictions are read again when a
    drawing is saved, moved or deleted."""
    counts = dataset.count_images(settings.data)
    return tuple((name, split["train"], split["test"]) for name, split in counts.items())


def first_model(settings: Settings, counts: dict[str, dict[str, int]], training: bool) -> None:
    """A fresh clone has no model: train the first one at once, without a click (the starter
    predictions answer meanwhile)."""
    if not settings.first_model or training or views.model_stamp(settings.model) is not None:
        return
    if job_registry().latest(settings.model) is not None:
        return  # one automatic try per server: a failed run says why below the canvas
    if sum(1 for split in counts.values() if split["train"]) < 2:
        return
    try:
        job, _started = job_registry().start(
            settings.data, settings.model, resolve_recipe(**LEARN_AS_YOU_SAVE)
        )
    except ShapeCNNError:
        return
    watch_own_job(job.id)
    st.rerun()


def draw_section(settings: Settings, counts: dict[str, dict[str, int]], training: bool) -> None:
    """Canvas and prediction (a stroke reruns only these), and the save panel beside them; on a
    narrow screen each goes under the one before. Their headings come with their columns' keys
    (templates.LAYOUT_CSS): no element of their own to render on every stroke."""
    row = st.container(horizontal=True, gap="large")
    with row:
        stroke_section(settings, training)
    with row.container(width=SAVE_PANEL_WIDTH, key="save_column"):
        save_section(settings, counts)


@st.fragment
def stroke_section(settings: Settings, training: bool) -> None:
    """The canvas and the live prediction: what a stroke reruns."""
    # The canvas's column is as wide as the canvas is shown (templates.LAYOUT_CSS); the
    # prediction gets the rest, up to a readable width, or goes right under it on a phone.
    row = st.container(horizontal=True, gap="large")
    with row.container(width=CANVAS_SIZE + 4, key="draw_column"):
        drawing = canvas_section()
    # The save panel, a fragment of its own, saves what the canvas shows now.
    state.current().drawing = drawing
    with row.container(width="stretch", key="prediction_column"):
        prediction_section(settings, drawing, training)


def training_status_section(settings: Settings) -> None:
    """Below the canvas: the running job's progress, or why the last run failed, or what the
    current model is. A failed run says why here, where its Train button was pressed."""
    job = job_registry().latest(settings.model)
    snapshot = None if job is None else follow(job.snapshot())
    if snapshot is not None and snapshot.active:
        st.progress(snapshot.progress, text=progress_text(snapshot))
        return
    if snapshot is not None and snapshot.state == jobs.FAILED:
        st.error(t("status.failed", error=snapshot.error))
    st.caption(t("status.see_train", summary=model_summary(settings)))


def draw_view(settings: Settings, counts: dict[str, dict[str, int]], training: bool) -> None:
    """Draw, watch the prediction, save, train: the whole loop on one screen, and nothing else,
    because a stroke's rerun makes the browser redraw every element on the page."""
    warm_training_process(str(settings.model))
    first_model(settings, counts, training)
    st.html(templates.draw_header(t("draw.title"), t("draw.caption")))
    draw_section(settings, counts, training)
    with st.container(horizontal=True, vertical_alignment="center", gap="medium", border=True):
        train_button(settings, training)
        # Polls while a job runs, then reruns the page for the new model: once a second for
        # the session that started the run (or saved during it; a third of a second for its
        # learn-as-you-save updates), every few seconds for the
        # rest of a classroom, whose strokes otherwise wait behind the polls
        # (benchmarks/RESULTS.md, load).
        st.fragment(training_status_section, run_every=status_poll_seconds(settings, training))(
            settings
        )


# How often a session that did not start the running job polls its progress.
OBSERVER_POLL_SECONDS = 3.0
# How often the session that saved a drawing polls the update its save started.
QUICK_POLL_SECONDS = 0.3


def status_poll_seconds(settings: Settings, training: bool) -> float | None:
    if not training:
        return None
    job = job_registry().latest(settings.model)
    watching = job is not None and state.current().own_job == job.id
    if not watching:
        return OBSERVER_POLL_SECONDS
    # A learn-as-you-save update takes well under a second: the new model answers soon after.
    return QUICK_POLL_SECONDS if is_learn_as_you_save(job.recipe) else 1.0
