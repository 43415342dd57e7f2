"""The drawing page: draw a shape, watch the model's guess change live, label, save and train.

    streamlit run app.py                                  # starter data, models/shapes.keras
    streamlit run app.py -- --data DIR --model PATH       # your own folders

Without arguments after `--`, the environment variables SHAPECNN_DATA and SHAPECNN_MODEL are
used, then the command line's defaults. This file is layout and widgets only: `main()` plus one
function per section of the page; the work (predicting, saving, training, thumbnails) is done by
the shapecnn package, which never imports streamlit.
"""

from __future__ import annotations

import argparse
import os
import sys
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from html import escape
from pathlib import Path

import streamlit as st

from shapecnn import dataset, jobs, views
from shapecnn.config import DEFAULT_DATA, DEFAULT_MODEL, RECIPES, SPLITS, Recipe
from shapecnn.errors import BlankDrawingError, ShapeCNNError

# The reference canvas of the shape generator: strokes replayed by the browser tests fit it.
CANVAS_SIZE = 280
# 8 px on 280 px: still a clear line once a drawing is cropped and shrunk to 24 px.
STROKE_WIDTH = 8
THUMBNAILS_PER_PAGE = 24
THUMBNAILS_PER_ROW = 8
NEW_CLASS = "+ New class…"
SAVE_PANEL_WIDTH = 250
MAX_PROBLEMS_SHOWN = 50
UPLOAD_LIMIT_MB = dataset.MAX_UPLOAD_BYTES // (1024 * 1024)
RECIPE_HELP = {
    "default": "batch 16, augmented, stops when the loss stops improving",
    "tutorial": "the Keras tutorial's: batch 3, 50 epochs of 45 steps, no augmentation",
}


# --- settings -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Settings:
    data: Path
    model: Path


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
    args, _unknown = parser.parse_known_args(sys.argv[1:] if argv is None else argv)
    return Settings(data=args.data, model=args.model)


def shown(path: Path) -> str:
    """A path as the user knows it: relative to the working directory when inside it."""
    try:
        return str(Path(path).resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


# --- shared resources ---------------------------------------------------------------------------


@st.cache_resource(show_spinner=False)
def keep_keras_state() -> bool:
    """Stop Streamlit from clearing Keras after every script run.

    Streamlit calls keras.backend.clear_session() at the end of every run, fragment reruns
    included: that empties TensorFlow's kernel cache and collects garbage, so every stroke's
    prediction rebuilds its kernels and a training thread stalls on each progress poll (a
    3-epoch run took 10x longer). The page keeps its models in caches on purpose, and each
    training run builds its own, so there is nothing to clear. `runner.postScriptGC = false` in
    .streamlit/config.toml removes the other full collection per run.
    """
    from streamlit.runtime.scriptrunner import script_runner

    if not hasattr(script_runner, "_clean_problem_modules"):
        return False  # a Streamlit without the hook: nothing to undo
    script_runner._clean_problem_modules = lambda: None
    return True


@st.cache_resource(show_spinner=False)
def job_registry() -> jobs.JobRegistry:
    """One registry for every session: a reload or a second tab sees the running job."""
    return jobs.JobRegistry()


# The spinner shows only while a model loads, not on every stroke (a message to the browser).
@st.cache_resource(show_spinner="Loading the model…", max_entries=2)
def load_classifier(path: str, stamp: tuple[int, int]):
    """The model, loaded once per file version: `stamp` changes when training replaces it."""
    from shapecnn.inference import Classifier  # TensorFlow: only once the canvas is on screen

    return Classifier.load(path)


def flash(message: str, icon: str = "✅") -> None:
    """A toast for the next run (a rerun right after an action would swallow it)."""
    st.session_state.setdefault("flashes", []).append((message, icon))


def show_flashes() -> None:
    for message, icon in st.session_state.pop("flashes", []):
        st.toast(message, icon=icon)


@st.cache_resource(show_spinner=False)
def clean_leftovers(data: str) -> int:
    """Once per dataset and server: remove temporary files that interrupted saves left."""
    return dataset.clean_temp_files(data)


# --- beside the Train and Drawings views: counts, model, settings --------------------------------


def counts_section(settings: Settings, counts: dict[str, dict[str, int]]) -> None:
    st.subheader("Dataset")
    st.caption(f"`{shown(settings.data)}`")
    if counts:
        st.table(views.count_rows(counts), hide_index=True, border="horizontal")
        return
    st.info("No drawings yet. Draw one and save it under a new class, or start from examples.")
    if st.button("Create starter drawings", key="make_starter"):
        from shapecnn.synth import synth_dataset

        with st.spinner("Drawing 60 example shapes"):
            made = synth_dataset(settings.data, per_class=20)
        flash(f"Wrote {sum(sum(c.values()) for c in made.values())} drawings")
        st.rerun()


def model_section(settings: Settings, dataset_classes: list[str]) -> views.ModelInfo | None:
    st.subheader("Model")
    st.caption(f"`{shown(settings.model)}`")
    try:
        info = views.model_info(settings.model)
    except ShapeCNNError as error:
        st.error(str(error))
        return None
    if info is None:
        st.info("No model yet: press **Train model** (here, or under the canvas).")
        return None
    accuracy = "-" if info.test_accuracy is None else f"{info.test_accuracy:.0%}"
    left, right = st.columns(2)
    left.metric("Test accuracy", accuracy)
    right.metric("Classes", len(info.classes))
    st.markdown("**Classes:** " + ", ".join(info.classes))
    plural = "" if info.epochs_run == 1 else "s"
    epochs = f" · {info.epochs_run} epoch{plural}" if info.epochs_run else ""
    st.caption(f"Trained {info.trained_at}{epochs} · recipe {info.recipe.get('name', '?')}")
    if info.counts:
        with st.expander("Drawings it was trained on"):
            st.table(views.count_rows(info.counts), hide_index=True, border="horizontal")
    mismatch = views.class_mismatch(info.classes, dataset_classes)
    if mismatch:
        st.warning(mismatch)
    model_path = info.path
    st.download_button(
        f"Download {model_path.name} ({info.size_bytes / 1e6:.1f} MB)",
        data=lambda: model_path.read_bytes(),  # read on click, not on every rerun
        file_name=model_path.name,
        mime="application/octet-stream",
        on_click="ignore",
        key="download_model",
        width="stretch",
    )
    return info


@st.cache_resource(show_spinner=False)
def first_problem_scan(data: str) -> Future:
    """The first look at every file of a dataset, once per server, in the background: it decodes
    every drawing (seconds for a big dataset), and the first page must not wait for it."""
    return ThreadPoolExecutor(1, thread_name_prefix="problem-scan").submit(
        dataset.find_problems, data
    )


def problems_section(settings: Settings, polling: bool = False) -> None:
    """Files training skips, named. Each file is decoded once per version (find_problems keeps
    its verdicts), so after a save only the new file is looked at, and never on a stroke.
    `polling`: this fragment reruns itself until the first scan is done."""
    if not first_problem_scan(str(settings.data)).done():
        st.caption("Checking every file in the dataset…")
        return
    if polling:
        st.rerun()  # the whole page: the poll stops, and this section shows the result
    problems = dataset.find_problems(settings.data)
    if not problems:
        return
    count = f"{len(problems)} file{'s' if len(problems) != 1 else ''}"
    st.warning(f"{count} in the dataset cannot be used; training skips them.")
    with st.expander("Files training skips"):
        st.table(
            [
                {"file": str(path.relative_to(settings.data)), "problem": reason}
                for path, reason in problems[:MAX_PROBLEMS_SHOWN]
            ],
            hide_index=True,
            border="horizontal",
        )
        if len(problems) > MAX_PROBLEMS_SHOWN:
            st.caption(f"and {len(problems) - MAX_PROBLEMS_SHOWN} more: python -m shapecnn info")


def import_section(settings: Settings, classes: list[str]) -> None:
    """Upload drawings: images into a chosen class, or a zip of class folders."""
    report = st.session_state.pop("import_report", None)
    with st.expander("Import drawings", expanded=report is not None):
        generation = st.session_state.setdefault("upload_generation", 0)
        uploads = st.file_uploader(
            "PNG or JPEG drawings, or a .zip of class folders",
            type=["png", "jpg", "jpeg", "zip"],
            accept_multiple_files=True,
            max_upload_size=UPLOAD_LIMIT_MB,
            key=f"uploads-{generation}",
            help=f"At most {UPLOAD_LIMIT_MB} MB at once. A zip holds <class>/<image> or "
            "train|test/<class>/<image>. Files that are not usable drawings are skipped and "
            "listed.",
        )
        choice = st.selectbox("Class of the images", [*classes, NEW_CLASS], key="import_choice")
        label = choice
        if choice == NEW_CLASS:
            label = st.text_input("New class name", key="import_new_label", help=dataset.LABEL_RULE)
        if st.button("Import", key="import", disabled=not uploads, width="stretch"):
            import_drawings(settings, uploads, label)
        if report is not None:
            st.warning(f"Skipped {len(report)} file{'s' if len(report) != 1 else ''}:")
            st.table(
                [{"file": name, "why": reason} for name, reason in report],
                hide_index=True,
                border="horizontal",
            )


def import_drawings(settings: Settings, uploads: list, label: str) -> None:
    try:
        with st.spinner("Checking and importing the drawings"):
            report = dataset.import_uploads(
                settings.data, [(upload.name, upload.getvalue()) for upload in uploads], label
            )
    except ShapeCNNError as error:
        st.error(str(error))
        return
    saved = len(report.saved)
    flash(f"Imported {saved} drawing{'s' if saved != 1 else ''}", icon="📥" if saved else "⚠️")
    st.session_state["import_report"] = report.skipped or None
    st.session_state["upload_generation"] += 1  # an empty uploader for the next import
    st.rerun()  # the whole page: counts and classes change


def settings_section(settings: Settings) -> None:
    with st.expander("Settings"):
        st.markdown(
            f"Dataset `{shown(settings.data)}`  \nModel `{shown(settings.model)}`\n\n"
            # Inline code, not a code block: a block loads the syntax highlighter, about 0.8 s
            # of the browser's time on the first paint.
            "Start with other folders: `streamlit run app.py -- --data DIR --model PATH`, "
            "or set `SHAPECNN_DATA` and `SHAPECNN_MODEL`."
        )


# --- drawing, live prediction, saving -----------------------------------------------------------


def canvas_section() -> object:
    """The canvas; returns its pixels (H x W x 4 uint8), or None before the first stroke."""
    from streamlit_drawable_canvas import st_canvas  # only importable inside a Streamlit run

    generation = st.session_state.setdefault("canvas_generation", 0)
    # A drawing left behind when another view was opened comes back on the canvas (keep_drawing).
    kept = st.session_state.get("kept_drawing")
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
        key=f"canvas-{generation}",
    )
    st.button("Clear", key="clear_canvas", icon=":material/delete:", on_click=clear_canvas)
    st.session_state["drawing_strokes"] = result.json_data
    if result.image_data is None and restored:
        return restored.pixels  # until the next stroke, the component sends no pixels
    return result.image_data


@dataclass(frozen=True)
class KeptDrawing:
    generation: int  # the canvas it belongs to: Clear and Save start a new one
    strokes: dict  # the canvas's own record of its strokes, to draw them again
    pixels: object  # what it showed, for the prediction and Save until the next stroke


def keep_drawing() -> None:
    """Called when a view other than Draw is shown: the canvas is not drawn there, so Streamlit
    forgets what was on it. Keep it, to draw it again when the Draw view comes back."""
    pixels = st.session_state.get("drawing")
    strokes = st.session_state.get("drawing_strokes")
    if pixels is None or not strokes or not strokes.get("objects"):
        # Nothing on the canvas (never drawn, or undone): nothing to bring back.
        st.session_state.pop("kept_drawing", None)
        return
    generation = st.session_state.get("canvas_generation", 0)
    st.session_state["kept_drawing"] = KeptDrawing(generation, strokes, pixels)


def clear_canvas() -> None:
    st.session_state["canvas_generation"] = st.session_state.get("canvas_generation", 0) + 1


def prediction_html(prediction: views.Prediction, trained: str) -> str:
    """Probability bars, the model's view of the drawing and when the model was trained, as one
    element: a stroke then sends the browser one small piece of HTML, not a chart, an image
    file and a caption to fetch and lay out one by one (benchmarks/RESULTS.md, page)."""
    bars = "".join(
        f'<div data-class="{escape(row["class"])}" data-probability="{row["probability"]}" '
        'style="display:flex;align-items:center;gap:.5rem;margin:.15rem 0">'
        f'<span style="width:6.5rem;overflow:hidden;text-overflow:ellipsis;white-space:nowrap">'
        f"{escape(row['class'])}</span>"
        '<span style="flex:1;height:1.1rem;background:#f0f2f6;border-radius:3px">'
        f'<span style="display:block;height:100%;width:{row["probability"]:.1%};'
        f'background:{"#ff4b4b" if row["top"] else "#b9bdc9"};border-radius:3px"></span></span>'
        f'<span style="width:2.8rem;text-align:right">{row["probability"]:.0%}</span></div>'
        for row in views.probability_rows(prediction.probabilities)
    )
    picture = views.png_data_uri(views.model_input_image(prediction.model_input, size=96))
    return (
        '<div style="display:flex;gap:1.25rem;align-items:flex-start;flex-wrap:wrap">'
        f'<div style="flex:1;min-width:12rem">{bars}</div>'
        '<figure style="margin:0;text-align:center">'
        f'<img src="{picture}" width="98" height="98" alt="What the model sees" '
        'style="image-rendering:pixelated">'
        '<figcaption style="font-size:.8rem;color:#808495">What it sees</figcaption></figure>'
        "</div>"
        f'<p style="font-size:.8rem;color:#808495;margin:.5rem 0 0">Model trained {trained}</p>'
    )


def prediction_section(settings: Settings, drawing, training: bool) -> views.Prediction | None:
    """The model's guess for the drawing, its probabilities and its view; None if there is none.
    Everything here is redrawn after every stroke, so it is kept to a few elements."""
    stamp = views.model_stamp(settings.model)
    if stamp is None:
        if training:
            st.info("Training the first model: its progress is below the canvas.")
        else:
            st.info(
                "No model yet. Press **Train model** below the canvas: it takes a few seconds, "
                "then the predictions appear here as you draw."
            )
        return None
    try:
        classifier = load_classifier(str(settings.model), stamp)
    except ShapeCNNError as error:
        st.error(f"The model could not be loaded: {error}")
        return None
    prediction = views.predict_drawing(classifier, drawing)
    if prediction is None:
        st.info("Draw a shape on the canvas: the prediction appears when you lift the pen.")
        return None
    panel = prediction_html(prediction, views.trained_when(classifier.metadata))
    st.metric(
        "Prediction",
        prediction.label,
        delta=f"{prediction.confidence:.0%} sure",
        delta_color="off",
        delta_arrow="off",
    )
    st.html(panel)
    # Off by default: a stroke should pay only for the prediction.
    if st.toggle("Show what training makes of it", key="augmentation_preview"):
        st.image(views.augmentation_images(prediction.model_input), width=64)
        st.caption(
            "Training shows the network versions like these of every drawing, new ones each "
            "epoch: turned, resized, stretched, sheared, shifted and with thicker strokes."
        )
    return prediction


@st.fragment
def save_section(settings: Settings, classes: list[str]) -> None:
    """Label and save the drawing on the canvas. A fragment of its own: a stroke does not redraw
    it, and choosing a label does not rerun the prediction."""
    drawing = st.session_state.get("drawing")
    if classes:
        st.caption("One click saves the drawing as:")
        with st.container(horizontal=True, gap="small"):
            for name in classes:
                if st.button(f"It's a {name}", key=f"quick-{name}"):
                    save_drawing(settings, name, drawing, "auto")
    pending = st.session_state.pop("pending_label", None)
    if pending in classes:
        st.session_state["label_choice"] = pending
    choice = st.selectbox("Label", [*classes, NEW_CLASS], key="label_choice", persist_state="page")
    label = choice
    if choice == NEW_CLASS:
        label = st.text_input(
            "New class name", key="new_label", placeholder="e.g. star", help=dataset.LABEL_RULE
        )
    split = st.radio(
        "Split",
        ("auto", *SPLITS),
        horizontal=True,
        key="split",
        persist_state="page",
        help="auto keeps about a quarter of each class in test, the rest in train",
    )
    if st.button("Save drawing", type="primary", key="save", width="stretch"):
        save_drawing(settings, label, drawing, split)


def save_drawing(settings: Settings, label: str, drawing, split: str) -> None:
    """Save into the dataset, then clear the canvas and say where it went (or why not)."""
    try:
        if drawing is None:
            raise BlankDrawingError("nothing drawn yet")
        path = dataset.save_drawing(settings.data, label, drawing, split)
    except BlankDrawingError:
        st.error("Nothing to save: the canvas is blank. Draw a shape first.")
        return
    except ShapeCNNError as error:
        st.error(str(error))
        return
    saved_label, saved_split = path.parent.name, path.parent.parent.name
    counts = dataset.count_images(settings.data).get(saved_label, {"train": 0, "test": 0})
    flash(
        f"Saved to {saved_split}/{saved_label}/{path.name} — {saved_label}: "
        f"{counts['train']} train, {counts['test']} test"
    )
    st.session_state["pending_label"] = saved_label
    clear_canvas()
    st.rerun()  # the whole page: counts and classes change


def draw_section(settings: Settings, classes: list[str], training: bool) -> None:
    """Canvas and prediction (a stroke reruns only these), and the save panel beside them.
    Their headings are in DRAW_HEADER, outside the fragments."""
    row = st.container(horizontal=True, gap="large")
    with row:
        stroke_section(settings, training)
    with row.container(width=SAVE_PANEL_WIDTH):
        save_section(settings, classes)


@st.fragment
def stroke_section(settings: Settings, training: bool) -> None:
    """The canvas and the live prediction: what a stroke reruns."""
    # The canvas's column is as wide as the canvas, whatever the screen; the prediction gets the
    # rest. Same gap as the headings' row, so each heading sits over its column.
    row = st.container(horizontal=True, gap="large")
    with row.container(width=CANVAS_SIZE + 4):
        drawing = canvas_section()
    # The save panel, a fragment of its own, saves what the canvas shows now.
    st.session_state["drawing"] = drawing
    with row.container(width="stretch"):
        prediction_section(settings, drawing, training)


# --- training -----------------------------------------------------------------------------------


def setting_key(setting: str, recipe: str) -> str:
    """A recipe setting's widget key: one per recipe, so choosing another recipe shows its own
    values. Read back by chosen_recipe when the widgets are not on screen."""
    return f"{setting}-{recipe}"


def training_settings_section(disabled: bool) -> None:
    """The recipe's settings. They keep their values while another view is shown
    (`persist_state`), so Train below the canvas uses them too (`chosen_recipe`)."""
    name = st.selectbox(
        "Recipe",
        list(RECIPES),
        key="recipe_name",
        format_func=lambda n: f"{n}: {RECIPE_HELP.get(n, '')}",
        disabled=disabled,
        persist_state="page",
    )
    base = RECIPES[name]
    left, right = st.columns(2)
    left.number_input(
        "Epochs (at most)",
        1,
        1000,
        base.epochs,
        key=setting_key("epochs", name),
        disabled=disabled,
        persist_state="page",
    )
    right.number_input(
        "Batch size",
        1,
        1024,
        base.batch_size,
        key=setting_key("batch", name),
        disabled=disabled,
        persist_state="page",
    )
    left.number_input(
        "Learning rate",
        0.0001,
        0.1,
        base.learning_rate,
        step=0.0005,
        format="%.4f",
        key=setting_key("lr", name),
        disabled=disabled,
        persist_state="page",
    )
    right.toggle(
        "Augmentation (rotate, shift, zoom)",
        value=base.augment,
        key=setting_key("augment", name),
        disabled=disabled,
        persist_state="page",
    )


def chosen_recipe() -> Recipe:
    """The recipe as the Train view's settings last left it; the recipe's own values for any
    setting never touched."""
    name = st.session_state.get("recipe_name", "default")
    base = RECIPES[name]
    state = st.session_state
    return jobs.make_recipe(
        name,
        epochs=int(state.get(setting_key("epochs", name), base.epochs)),
        batch_size=int(state.get(setting_key("batch", name), base.batch_size)),
        learning_rate=float(state.get(setting_key("lr", name), base.learning_rate)),
        augment=bool(state.get(setting_key("augment", name), base.augment)),
    )


def start_training(settings: Settings, recipe: Recipe) -> None:
    try:
        job, started = job_registry().start(settings.data, settings.model, recipe)
    except ShapeCNNError as error:
        st.error(str(error))
        return
    st.session_state["watched_job"] = job.id
    if not started:
        flash("This model is already being trained: showing that run.", icon="⏳")
    st.rerun()


def curves(history: list[dict]) -> None:
    """Loss and accuracy per epoch, train and test. Vega-Lite specs written out by hand:
    st.line_chart builds an Altair chart (about 0.2 s of Python per call), which would hold up
    the training thread on every poll."""
    if not history:
        return
    for column, metric, title in zip(
        st.columns(2), ("loss", "accuracy"), ("Loss per epoch", "Accuracy per epoch"), strict=True
    ):
        column.vega_lite_chart(
            views.history_rows(history, metric),
            {
                "title": {"text": title, "anchor": "start", "fontSize": 13},
                "height": 180,
                "mark": {"type": "line", "point": len(history) < 30},
                "encoding": {
                    "x": {"field": "epoch", "type": "quantitative", "axis": {"tickMinStep": 1}},
                    "y": {"field": "value", "type": "quantitative", "title": None},
                    "color": {"field": "split", "type": "nominal", "title": None},
                },
            },
            width="stretch",
        )


def misclassified_grid(result: jobs.JobResult) -> None:
    if result.accuracy is None:
        return
    if not result.misclassified:
        st.success("Every test drawing was recognised.")
        return
    st.markdown(f"**Test drawings it got wrong** ({len(result.misclassified)})")
    shown_items = result.misclassified[: THUMBNAILS_PER_ROW * 2]
    columns = st.columns(THUMBNAILS_PER_ROW)
    for index, item in enumerate(shown_items):
        image = views.thumbnail(item.path)
        with columns[index % THUMBNAILS_PER_ROW]:
            if image is None:
                st.caption(f"{item.path.name} (gone)")
            else:
                st.image(
                    image,
                    caption=f"{item.true} → {item.predicted} {item.confidence:.0%}",
                    output_format="PNG",
                )
    if len(result.misclassified) > len(shown_items):
        st.caption(f"and {len(result.misclassified) - len(shown_items)} more")


def training_result_section(snapshot: jobs.JobSnapshot) -> None:
    if snapshot.state == jobs.FAILED:
        st.error(f"Training failed: {snapshot.error}")
        return
    if snapshot.state == jobs.CANCELLED:
        st.warning(snapshot.message)
        curves(snapshot.history)
        return
    result = snapshot.result
    accuracy = "-" if result.accuracy is None else f"{result.accuracy:.0%}"
    columns = st.columns(4)
    columns[0].metric("Test accuracy", accuracy)
    columns[1].metric("Epochs", result.epochs_run)
    columns[2].metric("Training time", f"{result.seconds:.1f} s")
    columns[3].metric(
        "Drawings", sum(c["train"] for c in result.counts.values()), help="training drawings"
    )
    for note in result.notes:
        st.info(note)
    if result.skipped:
        st.warning(
            f"{len(result.skipped)} unreadable files were skipped: "
            + "; ".join(f"{path.name}: {reason}" for path, reason in result.skipped[:5])
        )
    curves(snapshot.history)
    if result.accuracy is not None:
        per_class_column, confusion_column = st.columns([1, 2])
        with per_class_column:
            st.markdown("**Per-class accuracy**")
            st.dataframe(
                views.per_class_rows(result.per_class),
                hide_index=True,
                column_config={
                    "accuracy": st.column_config.ProgressColumn(
                        "accuracy", format="percent", min_value=0.0, max_value=1.0
                    )
                },
                key="per_class",
            )
        with confusion_column:
            st.markdown("**Confusion matrix** (rows: true class, columns: predicted)")
            st.dataframe(
                views.confusion_rows(result.classes, result.confusion),
                hide_index=True,
                key="confusion",
            )
    misclassified_grid(result)


def training_progress_section(settings: Settings) -> jobs.JobSnapshot | None:
    """The running job (progress, curves, cancel) or the last one's results."""
    job = job_registry().latest(settings.model)
    if job is None:
        st.caption("Train a model on the dataset's train split; it is tested on the test split.")
        return None
    snapshot = follow(job.snapshot())
    if snapshot.active:
        progress_column, cancel_column = st.columns([5, 1], vertical_alignment="bottom")
        progress_column.progress(snapshot.progress, text=snapshot.message)
        cancel_column.button(
            "Cancel",
            key="cancel_training",
            disabled=snapshot.cancel_requested,
            width="stretch",
            on_click=job.cancel,
        )
        curves(snapshot.history)
        return snapshot
    training_result_section(snapshot)
    return snapshot


def train_button(settings: Settings, training: bool) -> None:
    """Train with the chosen recipe; one run at a time per model file."""
    if st.button("Train model", type="primary", key="train", disabled=training):
        start_training(settings, chosen_recipe())


def training_status_section(settings: Settings) -> None:
    """Below the canvas: the running job's progress, or what the current model is."""
    job = job_registry().latest(settings.model)
    snapshot = None if job is None else follow(job.snapshot())
    if snapshot is not None and snapshot.active:
        st.progress(snapshot.progress, text=snapshot.message)
        return
    info = model_summary(settings)
    st.caption(f"{info} Recipe, curves and results: **Train** at the top.")


def model_summary(settings: Settings) -> str:
    try:
        info = views.model_info(settings.model)
    except ShapeCNNError as error:
        return f"The model cannot be read: {error}."
    if info is None:
        return "No model yet."
    accuracy = "" if info.test_accuracy is None else f", {info.test_accuracy:.0%} on its test split"
    return f"Current model: from {info.trained_at}{accuracy}."


def follow(snapshot: jobs.JobSnapshot) -> jobs.JobSnapshot:
    """Watch a running job; when the watched job has just ended, rerun the whole page, so the
    model panel and the live predictions switch to the new model at once."""
    if snapshot.active:
        st.session_state["watched_job"] = snapshot.id
    elif st.session_state.get("watched_job") == snapshot.id:
        st.session_state["watched_job"] = None
        if snapshot.state == jobs.DONE:
            flash("Training finished: predictions now use the new model.", icon="🎉")
        st.rerun()
    return snapshot


def training_section(settings: Settings, training: bool) -> None:
    st.subheader("Train")
    with st.expander("Recipe and settings", expanded=True):
        training_settings_section(disabled=training)
    train_button(settings, training)
    # Poll once a second while a job runs; otherwise the fragment stays still.
    st.fragment(training_progress_section, run_every=1.0 if training else None)(settings)


# --- dataset browser ----------------------------------------------------------------------------


@st.fragment
def browser_section(settings: Settings, classes: list[str]) -> list[Path]:
    """Thumbnails of one class and split, a page at a time; delete or move what is selected."""
    if not classes:
        st.info("No drawings yet: the ones you save appear here.")
        return []
    class_column, split_column, page_column = st.columns([2, 2, 1])
    label = class_column.selectbox("Class", classes, key="browse_class")
    split = split_column.radio("Split", SPLITS, horizontal=True, key="browse_split")
    page_key = f"browse_page-{label}-{split}"
    page = views.page_of_images(
        settings.data, split, label, st.session_state.get(page_key, 1), THUMBNAILS_PER_PAGE
    )
    st.session_state[page_key] = page.number
    page_column.number_input(f"Page (of {page.pages})", 1, page.pages, key=page_key)
    if not page.paths:
        st.caption(f"No {split} drawings of {label}.")
        return []
    st.caption(f"{page.total} drawings, newest first")
    selected = []
    columns = st.columns(THUMBNAILS_PER_ROW)
    for index, path in enumerate(page.paths):
        with columns[index % THUMBNAILS_PER_ROW]:
            image = views.thumbnail(path)
            if image is not None:
                st.image(image, width="stretch", output_format="PNG")
            else:
                st.caption("unreadable")
            if st.checkbox(path.name, key=f"pick-{path.name}", label_visibility="collapsed"):
                selected.append(path)
    other_split = "test" if split == "train" else "train"
    delete_column, split_move_column, class_column, class_move_column = st.columns(
        [1, 1, 1.2, 1], vertical_alignment="bottom"
    )
    nothing = not selected
    count = f" ({len(selected)})" if selected else ""
    if delete_column.button(f"Delete{count}", key="browse_delete", disabled=nothing):
        change_drawings(settings, selected, "delete")
    if split_move_column.button(
        f"Move to {other_split}{count}", key="browse_move_split", disabled=nothing
    ):
        change_drawings(settings, selected, "move", split=other_split, label=label)
    others = [name for name in classes if name != label]
    target = class_column.selectbox("Other class", others, key="browse_target", disabled=nothing)
    if class_move_column.button(
        f"Move to {target}{count}" if target else "Move",
        key="browse_move_class",
        disabled=nothing or not target,
    ):
        change_drawings(settings, selected, "move", split=split, label=target)
    return selected


def change_drawings(
    settings: Settings, paths: list[Path], action: str, split: str = "", label: str = ""
) -> None:
    try:
        for path in paths:
            if action == "delete":
                dataset.delete_image(settings.data, path)
            else:
                dataset.move_image(settings.data, path, split, label)
    except (ShapeCNNError, OSError) as error:
        st.error(views.describe_error(error))
        return
    where = "Deleted" if action == "delete" else f"Moved to {split}/{label}:"
    flash(f"{where} {len(paths)} drawing{'s' if len(paths) != 1 else ''}")
    st.rerun()  # the whole page: counts change


# --- the page -----------------------------------------------------------------------------------


VIEWS = ("Draw", "Train", "Drawings")
# The Draw view's title and column headings as one piece of HTML: every rerun, a stroke's
# fragment rerun included, makes the browser render every element on the page again, and a
# title, a caption and three subheaders are five markdown elements, each parsed again on every
# render (benchmarks/RESULTS.md, the page). The columns below use the same widths and gap.
DRAW_HEADER = (
    '<h1 style="font-size:2.75rem;font-weight:700;margin:0;padding:1.25rem 0 1rem">'
    "Draw a shape</h1>"
    '<p style="font-size:.875rem;opacity:.6;margin:0 0 .75rem">The model guesses as you draw. '
    "Save drawings under a label, train, and watch it improve.</p>"
    '<div style="display:flex;gap:4rem;font-size:1.75rem;font-weight:600;line-height:1.2">'
    f'<div style="width:{CANVAS_SIZE + 4}px" title="Hover the canvas for undo and redo.">Draw</div>'
    '<div style="flex:1">Live prediction</div>'
    f'<div style="width:{SAVE_PANEL_WIDTH}px">Label and save</div></div>'
)


def draw_view(settings: Settings, classes: list[str], training: bool) -> None:
    """Draw, watch the prediction, save, train: the whole loop on one screen, and nothing else,
    because a stroke's rerun makes the browser redraw every element on the page."""
    st.html(DRAW_HEADER)
    draw_section(settings, classes, training)
    with st.container(horizontal=True, vertical_alignment="center", gap="medium", border=True):
        train_button(settings, training)
        # Polls once a second while a job runs, then reruns the page for the new model.
        st.fragment(training_status_section, run_every=1.0 if training else None)(settings)


def train_view(
    settings: Settings, classes: list[str], counts: dict[str, dict[str, int]], training: bool
) -> None:
    training_column, side_column = st.columns([3, 1], gap="large")
    with training_column:
        training_section(settings, training)
    with side_column:
        model_section(settings, classes)
        counts_section(settings, counts)


def drawings_view(
    settings: Settings, classes: list[str], counts: dict[str, dict[str, int]]
) -> None:
    browser_column, side_column = st.columns([3, 1], gap="large")
    with browser_column:
        st.subheader("Browse drawings")
        browser_section(settings, classes)
    with side_column:
        counts_section(settings, counts)
        # Polls once a second while the first check of every file runs in the background.
        polling = not first_problem_scan(str(settings.data)).done()
        st.fragment(problems_section, run_every=1.0 if polling else None)(settings, polling)
        import_section(settings, classes)
        settings_section(settings)


def main() -> None:
    st.set_page_config(
        page_title="shapecnn: draw, label, train", page_icon=":material/draw:", layout="wide"
    )
    keep_keras_state()
    settings = parse_settings()
    show_flashes()
    counts = dataset.count_images(settings.data)
    classes = list(counts)
    job = job_registry().latest(settings.model)
    training = job is not None and job.active

    clean_leftovers(str(settings.data))

    # Less empty space above the title: the canvas and the prediction fit a laptop screen.
    # The canvas's undo/redo toolbar waits, invisible, over the canvas's top right strip until
    # hovered, and swallows a stroke started there (issue #4): keep it above the canvas. The
    # canvas lives in a shadow root that page CSS cannot reach, so the script hands it the rule,
    # also when a new canvas is created (Clear); the element holding the script takes no space.
    st.html(
        "<style>[data-testid='stMainBlockContainer']{padding-top:2.5rem}"
        "[data-testid='stElementContainer']:has(>.stHtml>script){display:none}</style>"
        "<script>(()=>{if(window.shapecnnToolbarRule)return;"
        "const rule=window.shapecnnToolbarRule=new CSSStyleSheet();"
        "rule.replaceSync('.dc-toolbar{top:auto!important;bottom:100%}');"
        "const adopt=r=>{if(!r.adoptedStyleSheets.includes(rule))"
        "r.adoptedStyleSheets=[...r.adoptedStyleSheets,rule];};"
        "const attach=Element.prototype.attachShadow;"
        "Element.prototype.attachShadow=function(init){const r=attach.call(this,init);"
        "if(this.dataset.testid==='stBidiComponentIsolated')adopt(r);return r;};"
        "document.querySelectorAll('[data-testid=stBidiComponentIsolated]')"
        ".forEach(h=>h.shadowRoot&&adopt(h.shadowRoot));})()</script>",
        unsafe_allow_javascript=True,
    )
    # One view at a time: Draw (the default), Train or Drawings. The choice is in the address
    # (?view=Train), so a view can be bookmarked and the browser's back button works.
    view = st.segmented_control(
        "View",
        VIEWS,
        default=VIEWS[0],
        required=True,
        key="view",
        bind="query-params",
        label_visibility="collapsed",
    )
    if view == "Draw":
        draw_view(settings, classes, training)
    else:
        keep_drawing()
        if view == "Train":
            train_view(settings, classes, counts, training)
        else:
            drawings_view(settings, classes, counts)


if __name__ == "__main__":
    main()
