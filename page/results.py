"""The Train view's results: a run's (or the current model's) metrics, curves, per-class accuracy,
the confusion matrix as a heat map, warnings where the test split is too small to trust, and the
test drawings the model got wrong, which a click picks to move to their right class or delete."""

from __future__ import annotations

from datetime import datetime
from html import escape

import streamlit as st

from page import state, templates
from page.common import MISCLASSIFIED_SHOWN, THUMBNAIL_WIDTH, Settings, refusal_line
from page.text import duration, t, time_ago, tn
from shapecnn import dataset, jobs, views
from shapecnn.errors import ShapeCNNError
from shapecnn.model import read_metadata


def curves(history: list[dict]) -> None:
    """Loss and accuracy per epoch, train and test."""
    if not history:
        return
    splits = {split: t(f"split.{split}") for split in ("train", "test")}
    for column, metric in zip(st.columns(2), ("loss", "accuracy"), strict=True):
        column.vega_lite_chart(
            views.history_rows(history, metric),
            templates.curve_spec(
                metric,
                points=len(history) < 30,
                title=t(f"train.{metric}_curve"),
                epoch=t("chart.epoch"),
                value=t(f"chart.{metric}"),
                legend=t("chart.drawings"),
                splits=splits,
            ),
            width="stretch",
        )


def misclassified_grid(result: jobs.JobResult, settings: Settings, classes: list[str]) -> None:
    """The test drawings the model got wrong, most confidently wrong first. A click on one
    picks it, to move it to its right class or delete it (fix_panel)."""
    if result.accuracy is None:
        return
    if not result.misclassified:
        st.success(t("train.all_right"))
        return
    session = state.current()
    message, session.fix_message = session.fix_message, None
    st.markdown(t("train.wrong", count=len(result.misclassified)))
    if message:
        st.success(message)
    changed = sum(str(item.path) in session.fixed for item in result.misclassified)
    if changed:
        st.caption(tn("train.changed", changed))
    shown_items = result.misclassified[:MISCLASSIFIED_SHOWN]
    st.html(templates.WRONG_CARD_STYLE)
    grid = st.container(horizontal=True, gap="small")
    picked = None
    for index, item in enumerate(shown_items):
        change = session.fixed.get(str(item.path))
        is_picked = change is None and session.fixing == str(item.path)
        with grid.container(
            width=THUMBNAIL_WIDTH + 24, gap=None, key=f"wrong-{index}", border=is_picked
        ):
            picked = wrong_card(item, change, is_picked) or picked
    if len(result.misclassified) > len(shown_items):
        st.caption(t("train.more", count=len(result.misclassified) - len(shown_items)))
    if picked is not None:
        fix_panel(settings, picked, classes)


def wrong_card(
    item: jobs.Misclassified, change: state.DrawingChange | None, is_picked: bool
) -> jobs.Misclassified | None:
    """One misclassified drawing: its thumbnail, what the model said, and a button (the whole
    card, templates.WRONG_CARD_STYLE) that picks it. Returns it when it is the picked one."""
    said = f"{item.true} → {item.predicted} {item.confidence:.0%}"
    image = views.thumbnail(change.path if change and change.path else item.path)
    if image is not None:
        st.image(image, caption=said, output_format="PNG")
    else:
        st.caption(said)
    if change is not None:
        if change.action == "moved":
            st.caption(t("fix.moved_mark", label=change.label))
        else:
            st.caption(t("fix.deleted_mark"))
        return None
    if image is None:
        st.caption(t("fix.gone"))
        return None
    st.button(
        t("fix.picked") if is_picked else t("fix.pick"),
        key=f"fix-{item.path.name}",
        type="tertiary",
        on_click=pick_wrong_drawing,
        args=(None if is_picked else str(item.path),),
    )
    return item if is_picked else None


def pick_wrong_drawing(path: str | None) -> None:
    state.current().fixing = path


def fix_panel(settings: Settings, item: jobs.Misclassified, classes: list[str]) -> None:
    """The picked drawing: move it to another class (same split) or delete it."""
    split = item.path.parent.parent.name
    refusal = None
    with st.container(border=True, key="fix_panel"):
        st.markdown(
            t(
                "fix.filed",
                name=item.path.name,
                split=t(f"split.{split}"),
                true=item.true,
                predicted=item.predicted,
                confidence=item.confidence,
            )
        )
        others = [name for name in classes if name != item.true]
        target_column, move_column, delete_column, close_column = st.columns(
            [2, 1.2, 1, 1], vertical_alignment="bottom"
        )
        target = target_column.selectbox(
            t("fix.target"),
            others,
            index=others.index(item.predicted) if item.predicted in others else 0,
            key=f"fix_target-{item.path.name}",
        )
        if move_column.button(
            t("browse.move_class", target=target, count="") if target else t("browse.move"),
            key="fix_move",
            disabled=not target,
            width="stretch",
        ):
            refusal = change_wrong_drawing(settings, item, split, target)
        if delete_column.button(t("fix.delete"), key="fix_delete", width="stretch"):
            refusal = change_wrong_drawing(settings, item, split, None)
        close_column.button(
            t("fix.close"),
            key="fix_close",
            on_click=pick_wrong_drawing,
            args=(None,),
            width="stretch",
        )
        refusal_line(refusal)


def change_wrong_drawing(
    settings: Settings, item: jobs.Misclassified, split: str, label: str | None
) -> str | None:
    """Move the drawing to `label` in its split, or delete it (label None), with the dataset's
    own functions; the results then mark it. A refusal comes back as one line."""
    shown_split = t(f"split.{split}")
    try:
        if label is None:
            dataset.delete_image(settings.data, item.path)
            change = state.DrawingChange("deleted")
            done = t("fix.deleted", name=item.path.name, split=shown_split, label=item.true)
        else:
            moved = dataset.move_image(settings.data, item.path, split, label)
            change = state.DrawingChange("moved", label, str(moved))
            done = t("fix.moved", name=item.path.name, split=shown_split, old=item.true, new=label)
    except (ShapeCNNError, OSError) as error:
        return views.describe_error(error)
    session = state.current()
    session.fixed[str(item.path)] = change
    session.fixing = None
    session.fix_message = done
    st.rerun()  # the whole page: counts change


def current_model_results(settings: Settings, classes: list[str]) -> None:
    """The current model's results, from its file: they last across restarts and cancelled
    runs, until a new model replaces it."""
    try:
        metadata = read_metadata(settings.model) if settings.model.is_file() else None
    except ShapeCNNError:
        metadata = None  # the model panel beside says what is wrong with the file
    if metadata is None:
        return
    when = when_html(views.trained_time(metadata))
    st.caption(t("train.current_results", when=when), unsafe_allow_html=True)
    results_section(
        jobs.result_of_model(metadata, settings.model), metadata.history, settings, classes
    )


def now() -> datetime:
    return datetime.now().astimezone()


def when_html(then: datetime | None) -> str:
    """When a model was trained as the page says it ('2 min ago'), the full time on hover."""
    if then is None:
        return escape(t("time.unknown"))
    return templates.time_html(then, time_ago(then, now()))


def accuracy_metric(column, accuracy: float | None, count: int) -> None:
    """Test accuracy with the number of drawings it was measured on: 100 % of 3 is not 100 %
    of 25."""
    if accuracy is None:
        column.metric(t("train.test_accuracy"), "-")
        return
    column.metric(
        t("train.test_accuracy"),
        f"{accuracy:.0%}",
        delta=tn("train.of_tested", count),
        delta_color="off",
        delta_arrow="off",
    )


# At most this many lines about classes with too few test drawings; then one line for the rest.
SMALL_TEST_LINES = 3


def small_test_warnings(result: jobs.JobResult, tested: dict[str, int]) -> list[str]:
    """One line per class whose test split is too small to trust its score."""
    small = views.small_test_classes(tested)
    lines = []
    for name, count in small[:SMALL_TEST_LINES]:
        score = result.per_class.get(name)
        if not count or score is None:
            lines.append(t("train.no_test", name=name))
        else:
            lines.append(
                tn("train.small_test", count, name=name, score=score, least=views.MIN_TRUSTED_TEST)
            )
    rest = len(small) - SMALL_TEST_LINES
    if rest > 0:
        lines.append(tn("train.small_test_rest", rest, least=views.MIN_TRUSTED_TEST))
    return lines


def results_section(
    result: jobs.JobResult, history: list[dict], settings: Settings, classes: list[str]
) -> None:
    tested = views.test_counts(result.classes, result.confusion) if result.confusion else {}
    columns = st.columns(4)
    accuracy_metric(columns[0], result.accuracy, sum(tested.values()))
    columns[1].metric(t("train.epochs"), result.epochs_run)
    columns[2].metric(t("train.time"), duration(result.seconds))
    columns[3].metric(
        t("train.drawings"),
        sum(c["train"] for c in result.counts.values()),
        help=t("train.drawings_help"),
    )
    if result.accuracy is None:
        # The package's one note today says just this (training.py), in English: say it here.
        st.info(t("train.no_test_data"))
    else:
        for note in result.notes:
            st.info(t("train.note", note=note))
    if result.accuracy is not None:
        lines = small_test_warnings(result, tested)
        if lines:
            st.warning("  \n".join(lines))  # one box, a line per class
    if result.skipped:
        files = "; ".join(f"{path.name}: {reason}" for path, reason in result.skipped[:5])
        st.warning(tn("train.skipped", len(result.skipped), files=files))
    curves(history)
    if result.accuracy is not None:
        per_class_column, confusion_column = st.columns([1, 2])
        with per_class_column:
            st.markdown(t("train.per_class"))
            st.dataframe(
                views.per_class_rows(result.per_class, tested),
                hide_index=True,
                column_config={
                    "class": st.column_config.TextColumn(t("column.class")),
                    "test drawings": st.column_config.NumberColumn(
                        t("train.of_column"), help=t("train.of_help"), width="small"
                    ),
                    "accuracy": st.column_config.ProgressColumn(
                        t("train.accuracy_column"),
                        format="percent",
                        min_value=0.0,
                        max_value=1.0,
                    ),
                },
                key="per_class",
            )
        with confusion_column:
            st.markdown(t("train.confusion"))
            with st.container(key="confusion_matrix"):
                st.vega_lite_chart(
                    views.confusion_cells(result.classes, result.confusion),
                    templates.confusion_spec(
                        result.classes,
                        true_class=t("chart.true_class"),
                        predicted=t("chart.predicted"),
                        drawings=t("chart.drawings"),
                    ),
                    width="content",
                )
    misclassified_grid(result, settings, classes)
