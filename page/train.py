"""The Train view: the recipe, the running job's progress, the last run's results and the model;
and starting a run, which the Draw view's Train button does too."""

from __future__ import annotations

from html import escape

import streamlit as st

from page import state
from page.common import (
    Settings,
    class_mismatch,
    count_table,
    counts_section,
    flash,
    flash_again,
    job_registry,
    model_problem,
    shown,
)
from page.results import accuracy_metric, current_model_results, curves, results_section, when_html
from page.text import duration, shown_as, t, tn
from shapecnn import jobs, views
from shapecnn.config import RECIPES, Recipe, is_learn_as_you_save
from shapecnn.errors import ShapeCNNError


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
    left, right = st.columns(2)
    accuracy_metric(left, info.test_accuracy, info.test_count)
    right.metric(t("train.classes"), len(info.classes))
    st.markdown(t("train.class_list", names=", ".join(info.classes)))
    epochs = tn("train.epochs_run", info.epochs_run) if info.epochs_run else ""
    st.caption(
        t(
            "train.trained",
            when=when_html(info.trained),
            epochs=epochs,
            recipe=escape(str(info.recipe.get("name", "?"))),
        ),
        unsafe_allow_html=True,
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
    watch_own_job(job.id)
    if not started:
        flash(t("train.already"), icon="⏳")
    st.rerun()


def training_result_section(
    snapshot: jobs.JobSnapshot, settings: Settings, classes: list[str]
) -> None:
    if snapshot.state == jobs.FAILED:
        st.error(t("status.failed", error=snapshot.error))
        current_model_results(settings, classes)
        return
    if snapshot.state == jobs.CANCELLED:
        st.warning(t("train.cancelled"))
        current_model_results(settings, classes)
        return
    results_section(snapshot.result, snapshot.history, settings, classes)


def balance_warning(counts: dict[str, dict[str, int]]) -> str | None:
    """One line when the biggest class has at least 3x the training drawings of the smallest."""
    found = views.imbalance(counts)
    if found is None:
        return None
    smallest_part = t(
        "train.unbalanced_only" if found.smallest_count else "train.unbalanced_none",
        smallest=found.smallest,
        smallest_count=found.smallest_count,
    )
    return t(
        "train.unbalanced",
        largest=found.largest,
        largest_count=found.largest_count,
        smallest=found.smallest,
        smallest_part=smallest_part,
    )


def progress_text(snapshot: jobs.JobSnapshot) -> str:
    """The progress bar's line for a running job, from the job's values in the page's words (the
    job's own `message` is the English the command line prints)."""
    if snapshot.cancel_requested:
        return t("progress.cancelling")
    if snapshot.state == jobs.STARTING:
        return t("progress.starting" if snapshot.cold_start else "progress.loading")
    if snapshot.epoch:
        return t("progress.epoch", epoch=snapshot.epoch, epochs=snapshot.recipe.epochs)
    return tn("progress.training", snapshot.drawings or 0)


def training_progress_section(settings: Settings, classes: list[str]) -> jobs.JobSnapshot | None:
    """The running job (progress, curves, cancel) or the last one's results."""
    job = job_registry().latest(settings.model)
    if job is None:
        st.caption(t("train.intro"))
        current_model_results(settings, classes)
        return None
    snapshot = follow(job.snapshot())
    if snapshot.active:
        progress_column, cancel_column = st.columns([5, 1], vertical_alignment="bottom")
        progress_column.progress(snapshot.progress, text=progress_text(snapshot))
        cancel_column.button(
            t("train.cancel"),
            key="cancel_training",
            disabled=snapshot.cancel_requested,
            width="stretch",
            on_click=job.cancel,
        )
        curves(snapshot.history)
        return snapshot
    training_result_section(snapshot, settings, classes)
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


def watch_own_job(job_id: str) -> None:
    """This session started the job (or saved a drawing while it ran): follow it closely."""
    session = state.current()
    session.watched_job = session.own_job = job_id


def follow(snapshot: jobs.JobSnapshot) -> jobs.JobSnapshot:
    """Watch the newest job; when a watched job has ended, rerun the whole page, so that the
    model panel, the Train button and the live predictions switch to the new model at once and
    the page's polls stop.

    The registry keeps the newest job per model file and replaces only one that has ended, so a
    watched job that is no longer the newest has ended too, though no poll saw it end: in a
    classroom a classmate's save can start the next update between two polls, and such a page
    went on polling every 0.3 s with its Train button off until its own next save.

    Every page that saw a Train click's run reruns at its end; a learn-as-you-save update reruns
    only the page of the session whose save started it. In a classroom those updates come back
    to back, and a whole-page run of every open page after each was the largest share of the
    server's work (benchmarks/RESULTS.md, load; so was a rerun of the others' pages once no run
    went on: tried and measured there); the others' next stroke is answered by the new model
    anyway (the prediction loads each new file version)."""
    session = state.current()
    own, watched = session.own_job, session.watched_job

    def over(job_id: str | None) -> bool:
        return job_id is not None and (job_id != snapshot.id or not snapshot.active)

    own_over, watched_over = over(own), over(watched)
    if own_over:
        session.own_job = None
    if snapshot.active:
        session.watched_job = snapshot.id
    elif watched_over:
        session.watched_job = None
    if not (own_over or watched_over):
        return snapshot
    # The newest job is the one that ended (not one that began after it): its own end.
    train_click_ended = (
        not snapshot.active
        and snapshot.id in (own, watched)
        and not is_learn_as_you_save(snapshot.recipe)
    )
    if own_over or train_click_ended:
        flash_again()
        # A Train click's run ends with a toast; a save's quick update only shows its model.
        if train_click_ended and snapshot.state == jobs.DONE:
            flash(t("train.finished"), icon="🎉")
        st.rerun()
    return snapshot


def last_run_line(settings: Settings, recipe: Recipe) -> str | None:
    """How long training takes, from the last run: this server's last finished job (from the
    click to the new model), else what the model file says its fit took."""
    job = job_registry().latest(settings.model)
    snapshot = None if job is None else job.snapshot()
    if snapshot is not None and snapshot.state == jobs.DONE and snapshot.finished_at:
        counts = snapshot.result.counts if snapshot.result else {}
        seconds = snapshot.finished_at - snapshot.started_at
        return last_run_text(seconds, snapshot.recipe.name, counts, recipe.name, whole=True)
    try:
        info = views.model_info(settings.model)
    except Exception:  # noqa: BLE001 - the model panel says what is wrong with the file
        return None
    if info is None or not info.train_seconds:
        return None
    last_recipe = info.recipe.get("name", "?")
    return last_run_text(info.train_seconds, last_recipe, info.counts, recipe.name, whole=False)


def last_run_text(seconds: float, last_recipe: str, counts: dict, chosen: str, whole: bool) -> str:
    """The line under Train: how long the last run took (`whole`: from the click to the model;
    else the fit alone, as a model file records it), and whether the chosen recipe is the one
    timed."""
    took = t("train.took_whole" if whole else "train.took_fit", duration=duration(seconds))
    drawings = tn("train.training_drawings", sum(c.get("train", 0) for c in counts.values()))
    if last_recipe == chosen:
        return t("train.last_run_same", took=took, recipe=last_recipe, drawings=drawings)
    return t(
        "train.last_run_other", took=took, recipe=last_recipe, drawings=drawings, chosen=chosen
    )


def training_section(settings: Settings, counts: dict[str, dict[str, int]], training: bool) -> None:
    st.subheader(t("train.heading"))
    with st.expander(t("train.settings"), expanded=True):
        training_settings_section(disabled=training)
    warning = balance_warning(counts)
    if warning:
        st.warning(warning)
    train_button(settings, training)
    if not training:
        line = last_run_line(settings, chosen_recipe())
        if line:
            st.caption(line)
    # Poll once a second while a job runs; otherwise the fragment stays still.
    st.fragment(training_progress_section, run_every=1.0 if training else None)(
        settings, list(counts)
    )


def train_view(
    settings: Settings, classes: list[str], counts: dict[str, dict[str, int]], training: bool
) -> None:
    training_column, side_column = st.columns([3, 1], gap="large")
    with training_column:
        training_section(settings, counts, training)
    with side_column:
        model_section(settings, classes)
        counts_section(settings, counts)
