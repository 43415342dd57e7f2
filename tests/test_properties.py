"""Property tests (hypothesis): preprocessing and label validation on inputs nobody thought of."""

from __future__ import annotations

import re
import tempfile
import unicodedata
from pathlib import Path

import numpy as np
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from PIL import Image

from shapecnn import dataset
from shapecnn.errors import BlankDrawingError, InvalidImageError, InvalidLabelError
from shapecnn.preprocess import preprocess

MODEST = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])

DTYPES = st.sampled_from(
    [np.uint8, np.float32, np.float64, np.float16, np.int32, np.int64, np.uint16, np.bool_]
)


@st.composite
def any_array(draw):
    dtype = np.dtype(draw(DTYPES))
    height = draw(st.integers(0, 70))
    width = draw(st.integers(0, 70))
    shape = draw(
        st.sampled_from([(height, width), *((height, width, channels) for channels in range(0, 6))])
    )
    if draw(st.booleans()) and dtype.kind == "f":
        elements = st.floats(width=min(dtype.itemsize * 8, 64), allow_nan=True)
    else:
        elements = None
    return draw(hnp.arrays(dtype, shape, elements=elements))


def check_model_input(x: np.ndarray) -> None:
    assert x.shape == (24, 24, 3)
    assert x.dtype == np.float32
    assert np.isfinite(x).all()
    assert x.min() >= 0.0 and x.max() <= 1.0


def _with_nan() -> np.ndarray:
    array = np.ones((8, 8), np.float32)
    array[2:5, 2:5] = 0.0
    array[3, 3] = np.nan
    return array


@MODEST
@given(any_array())
@example(_with_nan())
def test_preprocess_gives_a_model_input_or_a_clear_refusal(array):
    try:
        x = preprocess(array)
    except (BlankDrawingError, InvalidImageError):
        return
    check_model_input(x)
    assert x.min() == 0.0  # the darkest ink is stretched to black


@MODEST
@given(
    st.integers(1, 600),
    st.integers(1, 600),
    st.floats(0, 1),
    st.floats(0, 1),
    st.integers(1, 4),
)
def test_a_dot_anywhere_on_a_canvas_of_any_size_is_a_drawing(height, width, fy, fx, size):
    canvas = np.full((height, width, 4), 255, np.uint8)
    y, x = int(fy * (height - 1)), int(fx * (width - 1))
    canvas[y : y + size, x : x + size, :3] = 0
    model_input = preprocess(canvas)
    check_model_input(model_input)
    assert model_input.min() == 0.0


@st.composite
def ink_pattern(draw):
    height, width = draw(st.integers(1, 40)), draw(st.integers(1, 40))
    ink = draw(hnp.arrays(np.bool_, (height, width)))
    assume(ink.any())
    return ink


@MODEST
@given(ink_pattern(), st.data())
def test_moving_a_drawing_on_the_canvas_does_not_change_the_models_input(ink, data):
    pattern = np.where(ink, 0, 255).astype(np.uint8)
    canvas_height = data.draw(st.integers(ink.shape[0], 200))
    canvas_width = data.draw(st.integers(ink.shape[1], 200))

    def placed():
        top = data.draw(st.integers(0, canvas_height - ink.shape[0]))
        left = data.draw(st.integers(0, canvas_width - ink.shape[1]))
        canvas = np.full((canvas_height, canvas_width), 255, np.uint8)
        canvas[top : top + ink.shape[0], left : left + ink.shape[1]] = pattern
        return preprocess(canvas)

    first, second = placed(), placed()
    assert np.abs(first - second).max() < 1e-4


# --- labels -------------------------------------------------------------------------------------

# An alphabet whose characters we classify ourselves, so the oracle below does not reuse the
# implementation's idea of a letter.
WORD = "abcxyzABCXYZ0189éßÅ가나다한ЖжΩω"
INSIDE = " -_"
FORBIDDEN = "./\\:\x00\x07\t\n\r\x1b\x7f\u200b\u202e*?\"<>|'😀"
ORACLE = re.compile(f"[{re.escape(WORD)}]([{re.escape(WORD + INSIDE)}]*[{re.escape(WORD)}])?")


def oracle_accepts(label: str) -> bool:
    return 1 <= len(label) <= 40 and ORACLE.fullmatch(label) is not None and "  " not in label


@MODEST
@given(st.text(alphabet=WORD + INSIDE + FORBIDDEN, max_size=45))
def test_labels_are_accepted_exactly_as_the_rule_says(label):
    accepted = True
    try:
        result = dataset.validate_label(label)
    except InvalidLabelError as error:
        accepted = False
        assert repr(label) in str(error)
    assert accepted == oracle_accepts(label)
    if accepted:
        assert result == label


@MODEST
@given(st.text(alphabet=WORD + INSIDE, min_size=1, max_size=40))
def test_labels_from_the_allowed_alphabet_pass_unless_spaces_or_ends_are_wrong(label):
    assume(label[0] not in INSIDE and label[-1] not in INSIDE and "  " not in label)
    assert dataset.validate_label(label) == label


@MODEST
@given(st.text(max_size=45))
@example("\u0301a")  # a combining mark with no letter before it
@example("a\u200bb")  # zero-width space
@example("\u202ecod.exe")  # right-to-left override
def test_an_accepted_label_is_always_one_safe_folder_name(label):
    try:
        name = dataset.validate_label(label)
    except InvalidLabelError:
        return
    assert name not in (".", "..")
    assert not any(char in name for char in "/\\:\x00")
    assert not any(
        unicodedata.category(char) in ("Cc", "Cf", "Cs", "Co", "Zl", "Zp") for char in name
    )
    assert name == name.strip() and 1 <= len(name) <= 40
    assert unicodedata.category(name[0])[0] in "LN"
    root = Path("/nonexistent/root")
    assert (root / name).parent == root and (root / name).name == name


@MODEST
@given(
    st.sampled_from([".", "..", "/", "\\", "a/b", "a\\b", "../a", "a/..", "\x00"]),
    st.text(max_size=3),
)
def test_dots_separators_and_control_characters_are_never_accepted(core, extra):
    for label in (core, core + extra, extra + core):
        try:
            name = dataset.validate_label(label)
        except InvalidLabelError:
            continue
        assert name not in (".", "..") and not set(name) & set("/\\\x00")


@settings(max_examples=40, deadline=None)
@given(st.text(alphabet="abcdéßΣς가", min_size=1, max_size=8), st.data())
def test_a_label_differing_only_by_case_from_a_class_is_refused(label, data):
    other = "".join(data.draw(st.sampled_from([c.lower(), c.upper()])) for c in label)
    assume(other != label and other.casefold() == label.casefold())
    with tempfile.TemporaryDirectory() as root:
        # A class is a folder with a drawing in it (an empty folder is no class).
        (Path(root) / "train" / label).mkdir(parents=True)
        Image.new("L", (8, 8), 0).save(Path(root) / "train" / label / "one.png")
        try:
            dataset.resolve_label(root, other)
        except InvalidLabelError as error:
            assert "differs only by case" in str(error)
        else:
            raise AssertionError(f"{other!r} accepted next to {label!r}")
        assert dataset.list_classes(root) == [label]
        assert dataset.resolve_label(root, label) == label
