"""The Train view: the recipe, the running job's progress, the last run's results and the model;
and starting a run, which the Draw view's Train button does too."""

from __future__ import annotations

import streamlit as st

from page import state, templates
from page.common import (
    MISCLASSIFIED_SHOWN,
    THUMBNAIL_WIDTH,
    Settings,
    class_mismatch,
    count_table,
    counts_section,
    flash,
    job_registry,
    model_problem,
    shown,
)
from page.text import shown_as, t, tn
from shapecnn import jobs, views
from shapecnn.config import RECIPES, Recipe
from shapecnn.errors import ShapeCNNError
from shapecnn.model import read_metadata


def model_section(settings: Settings, dataset_classes: list[str]) -> views.ModelInfo | None:
    st.subheader(t("train.model_heading"))
    st.caption(f"`{shown(settings.model)}`")
    try:
        info = views.model_info(settings.model)
    except Exception as error:  # noqa: BLE001 - a bad model file must not take the page down
        st.error(model_problem(error))
        st.caption(t("train.replace_model"))
        return None
    if info is None:
        st.info(t("train.no_model"))
        return None
    accuracy = "-" if info.test_accuracy is None else f"{info.test_accuracy:.0%}"
    left, right = st.columns(2)
    left.metric(t("train.test_accuracy"), accuracy)
    right.metric(t("train.classes"), len(info.classes))
    st.markdown(t("train.class_list", names=", ".join(info.classes)))
    epochs = tn("train.epochs_run", info.epochs_run) if info.epochs_run else ""
    st.caption(
        t("train.trained", when=info.trained_at, epochs=epochs, recipe=info.recipe.get("name", "?"))
    )
    if info.counts:
        with st.expander(t("train.trained_on")):
            st.table(count_table(info.counts), hide_index=True, border="horizontal")
    mismatch = class_mismatch(info.classes, dataset_classes)
    if mismatch:
        st.warning(mismatch)
    model_path = info.path
    st.download_button(
        t("train.download", name=model_path.name, size=info.size_bytes / 1e6),
        data=lambda: model_path.read_bytes(),  # read on click, not on every rerun
        file_name=model_path.name,
        mime="application/octet-stream",
        on_click="ignore",
        key="download_model",
        width="stretch",
    )
    return info


def training_settings_section(disabled: bool) -> None:
    """The recipe's settings. They keep their values while another view is shown
    (`persist_state`), so Train below the canvas uses them too (`chosen_recipe`)."""
    name = st.selectbox(
        t("train.recipe"),
        list(RECIPES),
        key=state.Key.RECIPE_NAME,
        format_func=shown_as("recipe."),  # its name and what it does
        disabled=disabled,
        persist_state="page",
    )
    base = RECIPES[name]
    left, right = st.columns(2)
    left.number_input(
        t("train.epochs_at_most"),
        1,
        1000,
        base.epochs,
        key=state.setting_key("epochs", name),
        disabled=disabled,
        persist_state="page",
    )
    right.number_input(
        t("train.batch_size"),
        1,
        1024,
        base.batch_size,
        key=state.setting_key("batch", name),
        disabled=disabled,
        persist_state="page",
    )
    left.number_input(
        t("train.learning_rate"),
        0.0001,
        0.1,
        base.learning_rate,
        step=0.0005,
        format="%.4f",
        key=state.setting_key("lr", name),
        disabled=disabled,
        persist_state="page",
    )
    right.toggle(
        t("train.augmentation"),
        value=base.augment,
        key=state.setting_key("augment", name),
        disabled=disabled,
        persist_state="page",
    )


def chosen_recipe() -> Recipe:
    """The recipe as the Train view's settings last left it; the recipe's own values for any
    setting never touched."""
    name = state.widget_value(state.Key.RECIPE_NAME, "default")
    base = RECIPES[name]

    def setting(key: str, default):
        return state.widget_value(state.setting_key(key, name), default)

    return jobs.make_recipe(
        name,
        epochs=int(setting("epochs", base.epochs)),
        batch_size=int(setting("batch", base.batch_size)),
        learning_rate=float(setting("lr", base.learning_rate)),
        augment=bool(setting("augment", base.augment)),
    )


def start_training(settings: Settings, recipe: Recipe) -> None:
    try:
        job, started = job_registry().start(settings.data, settings.model, recipe)
    except ShapeCNNError as error:
        st.error(t("train.cannot_start", error=error))
        return
    state.current().watched_job = job.id
    if not started:
        flash(t("train.already"), icon="⏳")
    st.rerun()


def curves(history: list[dict]) -> None:
    """Loss and accuracy per epoch, train and test."""
    if not history:
        return
    for column, metric, title in zip(
        st.columns(2),
        ("loss", "accuracy"),
        (t("train.loss_curve"), t("train.accuracy_curve")),
        strict=True,
    ):
        column.vega_lite_chart(
            views.history_rows(history, metric),
            templates.curve_spec(title, points=len(history) < 30),
            width="stretch",
        )


def misclassified_grid(result: jobs.JobResult) -> None:
    if result.accuracy is None:
        return
    if not result.misclassified:
        st.success(t("train.all_right"))
        return
    st.markdown(t("train.wrong", count=len(result.misclassified)))
    shown_items = result.misclassified[:MISCLASSIFIED_SHOWN]
    grid = st.container(horizontal=True, gap="small")
    for item in shown_items:
        image = views.thumbnail(item.path)
        with grid.container(width=THUMBNAIL_WIDTH + 24):
            if image is None:
                st.caption(t("train.gone", name=item.path.name))
            else:
                st.image(
                    image,
                    caption=f"{item.true} → {item.predicted} {item.confidence:.0%}",
                    output_format="PNG",
                )
    if len(result.misclassified) > len(shown_items):
        st.caption(t("train.more", count=len(result.misclassified) - len(shown_items)))


def training_result_section(snapshot: jobs.JobSnapshot, settings: Settings) -> None:
    if snapshot.state == jobs.FAILED:
        st.error(t("status.failed", error=snapshot.error))
        current_model_results(settings)
        return
    if snapshot.state == jobs.CANCELLED:
        st.warning(snapshot.message)
        current_model_results(settings)
        return
    results_section(snapshot.result, snapshot.history)


def current_model_results(settings: Settings) -> None:
    """The current model's results, from its file: they last across restarts and cancelled
    runs, until a new model replaces it."""
    try:
        metadata = read_metadata(settings.model) if settings.model.is_file() else None
    except ShapeCNNError:
        metadata = None  # the model panel beside says what is wrong with the file
    if metadata is None:
        return
    st.caption(t("train.current_results", when=views.trained_when(metadata)))
    results_section(jobs.result_of_model(metadata, settings.model), metadata.history)


def results_section(result: jobs.JobResult, history: list[dict]) -> None:
    accuracy = "-" if result.accuracy is None else f"{result.accuracy:.0%}"
    columns = st.columns(4)
    columns[0].metric(t("train.test_accuracy"), accuracy)
    columns[1].metric(t("train.epochs"), result.epochs_run)
    columns[2].metric(t("train.time"), t("train.seconds", seconds=result.seconds))
    columns[3].metric(
        t("train.drawings"),
        sum(c["train"] for c in result.counts.values()),
        help=t("train.drawings_help"),
    )
    for note in result.notes:
        st.info(note)
    if result.skipped:
        st.warning(
            t(
                "train.skipped",
                count=len(result.skipped),
                files="; ".join(f"{path.name}: {reason}" for path, reason in result.skipped[:5]),
            )
        )
    curves(history)
    if result.accuracy is not None:
        per_class_column, confusion_column = st.columns([1, 2])
        with per_class_column:
            st.markdown(t("train.per_class"))
            st.dataframe(
                views.per_class_rows(result.per_class),
                hide_index=True,
                column_config={
                    "class": t("column.class"),
                    "accuracy": st.column_config.ProgressColumn(
                        t("train.accuracy_column"), format="percent", min_value=0.0, max_value=1.0
                    ),
                },
                key="per_class",
            )
        with confusion_column:
            st.markdown(t("train.confusion"))
            st.dataframe(
                views.confusion_rows(result.classes, result.confusion),
                hide_index=True,
                column_config={"true \\ predicted": t("train.true_predicted")},
                key="confusion",
            )
    misclassified_grid(result)


def training_progress_section(settings: Settings) -> jobs.JobSnapshot | None:
    """The running job (progress, curves, cancel) or the last one's results."""
    job = job_registry().latest(settings.model)
    if job is None:
        st.caption(t("train.intro"))
        current_model_results(settings)
        return None
    snapshot = follow(job.snapshot())
    if snapshot.active:
        progress_column, cancel_column = st.columns([5, 1], vertical_alignment="bottom")
        progress_column.progress(snapshot.progress, text=snapshot.message)
        cancel_column.button(
            t("train.cancel"),
            key="cancel_training",
            disabled=snapshot.cancel_requested,
            width="stretch",
            on_click=job.cancel,
        )
        curves(snapshot.history)
        return snapshot
    training_result_section(snapshot, settings)
    return snapshot


def train_button(settings: Settings, training: bool) -> None:
    """Train with the chosen recipe; one run at a time per model file."""
    if st.button(t("train.button"), type="primary", key="train", disabled=training):
        start_training(settings, chosen_recipe())


def model_summary(settings: Settings) -> str:
    try:
        info = views.model_info(settings.model)
    except Exception as error:  # noqa: BLE001 - a bad model file must not take the page down
        return t("summary.problem", problem=model_problem(error))
    if info is None:
        return t("summary.none")
    if info.test_accuracy is None:
        return t("summary.model", when=info.trained_at)
    return t("summary.model_accuracy", when=info.trained_at, accuracy=info.test_accuracy)


def follow(snapshot: jobs.JobSnapshot) -> jobs.JobSnapshot:
    """Watch a running job; when the watched job has just ended, rerun the whole page, so the
    model panel and the live predictions switch to the new model at once."""
    session = state.current()
    if snapshot.active:
        session.watched_job = snapshot.id
    elif session.watched_job == snapshot.id:
        session.watched_job = None
        if snapshot.state == jobs.DONE:
            flash(t("train.finished"), icon="🎉")
        st.rerun()
    return snapshot


def training_section(settings: Settings, training: bool) -> None:
    st.subheader(t("train.heading"))
    with st.expander(t("train.settings"), expanded=True):
        training_settings_section(disabled=training)
    train_button(settings, training)
    # Poll once a second while a job runs; otherwise the fragment stays still.
    st.fragment(training_progress_section, run_every=1.0 if training else None)(settings)


def train_view(
    settings: Settings, classes: list[str], counts: dict[str, dict[str, int]], training: bool
) -> None:
    training_column, side_column = st.columns([3, 1], gap="large")
    with training_column:
        training_section(settings, training)
    with side_column:
        model_section(settings, classes)
        counts_section(settings, counts)
