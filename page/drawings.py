"""The Drawings view: browse a class's drawings, delete or move them; the files training skips;
import drawings; where the data and the model are."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from page import state, templates
from page.common import (
    NEW_CLASS,
    THUMBNAIL_WIDTH,
    Settings,
    clean_label,
    counts_section,
    first_problem_scan,
    flash,
    label_options,
    label_refusal,
    label_rule,
    load_classifier,
    model_problem,
    refusal_line,
    short_error,
    shown,
)
from page.datasets import for_new_drawings
from page.text import shown_as, t, tn
from shapecnn import dataset, views
from shapecnn.config import BIN_KEEP_SECONDS, SPLITS
from shapecnn.errors import ShapeCNNError

THUMBNAILS_PER_PAGE = 24
MAX_PROBLEMS_SHOWN = 50
_MB = 1024 * 1024  # as Streamlit counts megabytes
UPLOAD_LIMIT_MB = dataset.MAX_UPLOAD_BYTES // _MB
# What one session may upload in all (the uploader's limit is per file): past it an upload is
# refused and its files dropped from the server's memory (issue 14).
SESSION_UPLOAD_LIMIT_MB = 100
# The orders of the thumbnails (shown as browse.order.<order>); the second needs a model.
NEWEST_FIRST = "newest"
DISAGREES_FIRST = "disagrees"


def problems_section(settings: Settings, polling: bool = False) -> None:
    """Files training skips, named. Each file is decoded once per version (find_problems keeps
    its verdicts), so after a save only the new file is looked at, and never on a stroke.
    `polling`: this fragment reruns itself until the first scan is done."""
    if not first_problem_scan(str(settings.data)).done():
        st.caption(t("drawings.checking"))
        return
    if polling:
        st.rerun()  # the whole page: the poll stops, and this section shows the result
    problems = dataset.find_problems(settings.data)
    if not problems:
        return
    st.warning(tn("drawings.problems", len(problems)))
    with st.expander(t("drawings.skipped_files")):
        st.table(
            [
                {
                    t("column.file"): str(path.relative_to(settings.data)),
                    t("column.problem"): reason,
                }
                for path, reason in problems[:MAX_PROBLEMS_SHOWN]
            ],
            hide_index=True,
            border="horizontal",
        )
        if len(problems) > MAX_PROBLEMS_SHOWN:
            st.caption(t("drawings.more_problems", count=len(problems) - MAX_PROBLEMS_SHOWN))


def import_section(settings: Settings, classes: list[str]) -> None:
    """Upload drawings: images into a chosen class, or a zip of class folders."""
    session = state.current()
    report, session.import_report = session.import_report, None
    refusal, session.upload_refusal = session.upload_refusal, None
    with st.expander(t("import.heading"), expanded=report is not None or refusal is not None):
        key = state.upload_key(session.upload_generation)
        uploads = st.file_uploader(
            t("import.files"),
            type=["png", "jpg", "jpeg", "zip"],
            accept_multiple_files=True,
            max_upload_size=UPLOAD_LIMIT_MB,
            key=key,
            on_change=count_uploads,
            args=(key,),
            help=t("import.help", limit=UPLOAD_LIMIT_MB, session_limit=SESSION_UPLOAD_LIMIT_MB),
        )
        refusal_line(refusal)
        choice = st.selectbox(
            t("import.class"),
            [*classes, NEW_CLASS],
            format_func=label_options(),
            key="import_choice",
        )
        label = choice
        if choice == NEW_CLASS:
            label = clean_label(
                st.text_input(
                    t("save.new_class_name"),
                    key="import_new_label",
                    max_chars=dataset.MAX_LABEL_LENGTH,
                    help=label_rule(),
                )
            )
        if st.button(t("import.button"), key="import", disabled=not uploads, width="stretch"):
            import_drawings(settings, uploads, label)
        if report is not None:
            st.warning(tn("import.skipped", len(report)))
            st.table(
                [{t("column.file"): name, t("column.why"): reason} for name, reason in report],
                hide_index=True,
                border="horizontal",
            )


def count_uploads(key: str) -> None:
    """Before the run that shows them: count the newly uploaded files against the session's
    limit; past it, refuse them all, empty the uploader and drop the files from the server."""
    session = state.current()
    # Files the server no longer holds come back as DeletedFile (no size): nothing to count.
    uploads = [u for u in state.widget_value(key) or [] if hasattr(u, "size")]
    new = [u for u in uploads if u.file_id not in session.counted_uploads]
    size = sum(u.size for u in new)
    if session.uploaded_bytes + size > SESSION_UPLOAD_LIMIT_MB * _MB:
        state.forget_uploads(uploads)
        session.upload_generation += 1  # the uploader under a new key: empty
        session.upload_refusal = t(
            "import.refused",
            sent=session.uploaded_bytes / _MB,
            limit=SESSION_UPLOAD_LIMIT_MB,
            size=size / _MB,
        )
        return
    session.uploaded_bytes += size
    session.counted_uploads.update(u.file_id for u in new)


def import_drawings(settings: Settings, uploads: list, label: str) -> None:
    try:
        settings = for_new_drawings(settings)  # never into the starter as shipped
        with st.spinner(t("import.working")):
            report = dataset.import_uploads(
                settings.data, [(upload.name, upload.getvalue()) for upload in uploads], label
            )
    except ShapeCNNError as error:
        st.error(t("import.failed", error=error))
        return
    saved = len(report.saved)
    flash(tn("import.done", saved), icon="📥" if saved else "⚠️")
    session = state.current()
    session.import_report = report.skipped or None
    state.forget_uploads(uploads)  # imported: the server need not hold them any longer
    session.upload_generation += 1  # an empty uploader for the next import
    st.rerun()  # the whole page: counts and classes change


def settings_section(settings: Settings) -> None:
    with st.expander(t("settings.heading")):
        st.markdown(
            # Inline code, not a code block: a block loads the syntax highlighter, about 0.8 s
            # of the browser's time on the first paint.
            t("settings.where", data=shown(settings.data), model=shown(settings.model))
        )


@st.fragment
def browser_section(settings: Settings, counts: dict[str, dict[str, int]]) -> list[Path]:
    """Thumbnails of one class and split, a page at a time, each with what the model says of it;
    select by clicking them; delete (undo is one click away) or move what is selected; rename or
    delete the class."""
    classes = list(counts)
    if not classes:
        st.info(t("browse.empty"))
        return []
    session = state.current()
    pending, session.pending_browse_class = session.pending_browse_class, None
    if pending in classes:
        state.set_widget_value(state.Key.BROWSE_CLASS, pending)
    class_column, split_column, page_column = st.columns([2, 2, 1])
    label = class_column.selectbox(t("browse.class"), classes, key=state.Key.BROWSE_CLASS)
    class_section(settings, label, counts[label])
    split = split_column.radio(
        t("browse.split"),
        SPLITS,
        format_func=shown_as("split."),
        horizontal=True,
        key="browse_split",
    )
    page_key = state.browse_page_key(label, split)
    classifier = model_for_verdicts(settings)
    order = NEWEST_FIRST
    if classifier is not None:
        order = st.segmented_control(
            t("browse.order_label"),
            [NEWEST_FIRST, DISAGREES_FIRST],
            format_func=shown_as("browse.order."),
            default=NEWEST_FIRST,
            required=True,
            key=state.Key.BROWSE_ORDER,
            on_change=state.set_widget_value,
            args=(page_key, 1),  # the drawings most in doubt are on the first page
            label_visibility="collapsed",
            help=t("browse.order_help"),
        )
    paths = views.newest_first(settings.data, split, label)
    if order == DISAGREES_FIRST:
        paths = views.disagreeing_first(paths, label, views.verdicts(classifier, paths))
    page = views.page_of(paths, state.widget_value(page_key, 1), THUMBNAILS_PER_PAGE)
    state.set_widget_value(page_key, page.number)
    page_column.number_input(t("browse.page", pages=page.pages), 1, page.pages, key=page_key)
    # The selection is of the class and split on screen: drawings deleted or moved since, and
    # those of another class or split, are not selected.
    session.picked &= {str(path) for path in paths}
    selected = [path for path in paths if str(path) in session.picked]
    if not page.paths:
        st.caption(t("browse.none", split=t(f"split.{split}"), label=label))
    else:
        st.caption(
            tn("browse.total", page.total, order=t(f"browse.in_order.{order}"))
            + ("" if classifier is None else t("browse.with_verdicts"))
        )
        thumbnails(page.paths, label, classifier)
    actions_section(settings, label, split, classes, paths, selected)
    undo_section(settings)
    return selected


def model_for_verdicts(settings: Settings):
    """The page's classifier for the model file, or None (no model, or one the page cannot use:
    then the thumbnails are shown without verdicts, and a line says why)."""
    stamp = views.model_stamp(settings.model)
    if stamp is None:
        return None
    try:
        return load_classifier(str(settings.model), stamp)
    except Exception as error:  # noqa: BLE001 - a bad model file must not take the view down
        st.caption(model_problem(error))
        return None


def thumbnails(paths: list[Path], label: str, classifier) -> None:
    """A row of thumbnails that wraps; a click on one ticks its checkbox (THUMBNAIL_STYLE)."""
    st.html(templates.THUMBNAIL_STYLE)
    said = {} if classifier is None else views.verdicts(classifier, paths)
    grid = st.container(horizontal=True, gap="small", key="thumbnails")
    for index, path in enumerate(paths):
        with grid.container(width=THUMBNAIL_WIDTH, gap=None, key=f"thumb-{index}"):
            image = views.thumbnail(path)
            if image is not None:
                st.image(image, width="stretch", output_format="PNG")
            else:
                st.caption(t("browse.unreadable"))
            key = state.pick_key(path.name)
            state.set_widget_value(key, str(path) in state.current().picked)
            st.checkbox(
                path.name,
                key=key,
                on_change=pick,
                args=(key, str(path)),
                label_visibility="collapsed",
            )
            verdict = said.get(path)
            if verdict is not None:
                st.html(
                    templates.thumbnail_verdict(
                        path.name,
                        verdict.label,
                        verdict.confidence,
                        verdict.unsure,
                        wrong=verdict.label != label,
                        title=t(
                            "browse.verdict_unsure" if verdict.unsure else "browse.verdict",
                            label=verdict.label,
                            confidence=verdict.confidence,
                        ),
                    )
                )


def pick(key: str, path: str) -> None:
    picked = state.current().picked
    if state.widget_value(key):
        picked.add(path)
    else:
        picked.discard(path)


def select(paths: list[str]) -> None:
    state.current().picked = set(paths)


def actions_section(
    settings: Settings,
    label: str,
    split: str,
    classes: list[str],
    paths: list[Path],
    selected: list[Path],
) -> None:
    """Select all or none of the class and split shown; delete or move what is selected (a
    refusal: one line under the buttons)."""
    refusal = None
    other_split = "test" if split == "train" else "train"
    with st.container(horizontal=True, gap="small", vertical_alignment="bottom"):
        st.button(
            t("browse.select_all", count=len(paths)),
            key="browse_select_all",
            on_click=select,
            args=([str(path) for path in paths],),
            disabled=not paths or len(selected) == len(paths),
            help=t("browse.select_all_help", split=t(f"split.{split}"), label=label),
        )
        st.button(
            t("browse.select_none"),
            key="browse_select_none",
            on_click=select,
            args=([],),
            disabled=not selected,
        )
    delete_column, split_move_column, class_column, class_move_column = st.columns(
        [1, 1, 1.2, 1], vertical_alignment="bottom"
    )
    nothing = not selected
    count = f" ({len(selected)})" if selected else ""
    if delete_column.button(t("browse.delete", count=count), key="browse_delete", disabled=nothing):
        refusal = delete_drawings(settings, selected, label, split)
    if split_move_column.button(
        t("browse.move_split", split=t(f"split.{other_split}"), count=count),
        key="browse_move_split",
        disabled=nothing,
    ):
        refusal = move_drawings(settings, selected, split=other_split, label=label)
    others = [name for name in classes if name != label]
    target = class_column.selectbox(
        t("browse.other_class"), others, key="browse_target", disabled=nothing
    )
    if class_move_column.button(
        t("browse.move_class", target=target, count=count) if target else t("browse.move"),
        key="browse_move_class",
        disabled=nothing or not target,
    ):
        refusal = move_drawings(settings, selected, split=split, label=target)
    refusal_line(refusal)


def undo_section(settings: Settings) -> None:
    """After a delete: what went to the bin, and Undo, which puts it back."""
    session = state.current()
    last = session.last_delete
    if last is None:
        return
    refusal = None
    with st.container(horizontal=True, gap="small", vertical_alignment="center"):
        st.caption(
            tn(
                "browse.bin",
                last.count,
                label=last.label,
                split=t(f"split.{last.split}"),
                days=BIN_KEEP_SECONDS // 86400,
            )
        )
        if st.button(t("browse.undo"), key="browse_undo", icon=":material/undo:"):
            refusal = undo_delete(settings, last)
    refusal_line(refusal)


def undo_delete(settings: Settings, last: state.LastDelete) -> str | None:
    try:
        restored = dataset.restore_deleted(settings.data, last.entry)
    except (ShapeCNNError, OSError) as error:
        return views.describe_error(error)
    state.current().last_delete = None
    flash(tn("browse.restored", len(restored), label=last.label), icon="↩️")
    st.rerun()  # the whole page: counts change


def delete_drawings(settings: Settings, paths: list[Path], label: str, split: str) -> str | None:
    """Delete into the dataset's bin, all or none: the Undo button brings them back."""
    try:
        deleted = dataset.delete_images(settings.data, paths)
    except (ShapeCNNError, OSError) as error:
        return views.describe_error(error)
    session = state.current()
    session.last_delete = state.LastDelete(deleted.entry, len(deleted.paths), label, split)
    session.picked.clear()
    flash(tn("drawings.deleted", len(deleted.paths)), icon="🗑️")
    st.rerun()  # the whole page: counts change


def move_drawings(settings: Settings, paths: list[Path], split: str, label: str) -> str | None:
    try:
        for path in paths:
            dataset.move_image(settings.data, path, split, label)
    except (ShapeCNNError, OSError) as error:
        return views.describe_error(error)
    flash(tn("drawings.moved", len(paths), split=t(f"split.{split}"), label=label))
    st.rerun()  # the whole page: counts change


def class_section(settings: Settings, label: str, counts: dict[str, int]) -> None:
    """Rename the class, or delete it with its drawings once the user confirms."""
    session = state.current()
    refusal = None
    with st.expander(t("class.expander", label=label)):
        name_column, rename_column = st.columns([3, 1], vertical_alignment="bottom")
        new_name = clean_label(
            name_column.text_input(
                t("class.new_name", label=label),
                key=f"rename-{label}",
                max_chars=dataset.MAX_LABEL_LENGTH,
                help=label_rule(),
            )
        )
        if rename_column.button(t("class.rename"), key="rename_class", width="stretch"):
            refusal = rename_class(settings, label, new_name)
        drawings = tn("drawings.count", counts["train"] + counts["test"])
        if session.confirm_delete == label:
            st.warning(
                t(
                    "class.confirm",
                    label=label,
                    drawings=drawings,
                    train=counts["train"],
                    test=counts["test"],
                )
            )
            with st.container(horizontal=True, gap="small"):
                if st.button(
                    t("class.confirm_button", label=label),
                    key="confirm_delete_class",
                    type="primary",
                ):
                    refusal = delete_class(settings, label, drawings)
                st.button(t("class.keep"), key="keep_class", on_click=ask_to_delete, args=(None,))
        else:
            st.button(
                t("class.delete", label=label),
                key="delete_class",
                on_click=ask_to_delete,
                args=(label,),
                help=t("class.delete_help"),
            )
        refusal_line(refusal)


def ask_to_delete(label: str | None) -> None:
    state.current().confirm_delete = label


def rename_class(settings: Settings, old: str, new: str) -> str | None:
    """Rename a class (its folders in both splits); a refusal comes back as one line."""
    refusal = label_refusal(new)
    if refusal:
        return refusal
    if new == old:
        return t("class.same_name", old=old)
    try:
        dataset.rename_class(settings.data, old, new)
    except ShapeCNNError as error:
        return short_error(error)
    except OSError as error:
        return views.describe_error(error)
    session = state.current()
    session.pending_browse_class = new
    if state.widget_value(state.Key.LABEL_CHOICE) == old:
        session.pending_label = new  # the Draw view's label box follows the class
    flash(t("class.renamed", old=old, new=new))
    st.rerun()  # the whole page: classes change


def delete_class(settings: Settings, label: str, drawings: str) -> str | None:
    try:
        dataset.delete_class(settings.data, label)
    except (ShapeCNNError, OSError) as error:
        return views.describe_error(error)
    state.current().confirm_delete = None
    flash(t("class.deleted", label=label, drawings=drawings), icon="🗑️")
    st.rerun()  # the whole page: classes and counts change


def drawings_view(
    settings: Settings, classes: list[str], counts: dict[str, dict[str, int]]
) -> None:
    browser_column, side_column = st.columns([3, 1], gap="large")
    with browser_column:
        st.subheader(t("browse.heading"))
        browser_section(settings, counts)
    with side_column:
        counts_section(settings, counts)
        # Polls once a second while the first check of every file runs in the background.
        polling = not first_problem_scan(str(settings.data)).done()
        st.fragment(problems_section, run_every=1.0 if polling else None)(settings, polling)
        import_section(settings, classes)
        settings_section(settings)
