"""Strokes kept beside each drawing (<name>.json, Quick Draw style) and who drew it (PNG text)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from shapecnn import dataset, synth
from shapecnn.errors import InvalidImageError, InvalidLabelError
from shapecnn.preprocess import preprocess
from shapecnn.strokes import read_strokes, render_stroke_file, strokes_path


def _drawing(shape: str = "triangle", seed: int = 0, canvas: int = 280):
    strokes = synth.shape_strokes(shape, np.random.default_rng(seed), canvas_size=canvas)
    return strokes, synth.render_canvas_rgba(strokes, canvas_size=canvas, stroke_width=8)


def test_strokes_are_saved_beside_the_png_in_quickdraw_style(tmp_path):
    strokes, canvas = _drawing()
    path = dataset.save_drawing(tmp_path, "triangle", canvas, "train", strokes=strokes)
    kept = strokes_path(path)
    assert kept.name == path.stem + ".json" and kept.parent == path.parent
    data = json.loads(kept.read_text())
    assert data["format"] == "quickdraw" and data["canvas"] == [280, 280]
    assert len(data["strokes"]) == len(strokes)
    xs, ys = data["strokes"][0]
    assert len(xs) == len(ys) == len(strokes[0])
    assert np.allclose(xs, strokes[0][:, 0], atol=0.01)
    assert np.allclose(ys, strokes[0][:, 1], atol=0.01)
    # No temporary file is left behind.
    assert sorted(p.name for p in path.parent.iterdir()) == sorted([path.name, kept.name])


def test_quickdraw_pairs_are_accepted_and_the_canvas_comes_from_the_drawing(tmp_path):
    _, canvas = _drawing(canvas=200)
    pairs = [[[10, 190, 100, 10], [190, 190, 10, 190]]]
    path = dataset.save_drawing(tmp_path, "triangle", canvas, "train", strokes=pairs)
    kept = read_strokes(path)
    assert kept.canvas == (200, 200)
    assert kept.strokes[0].tolist() == [[10, 190], [190, 190], [100, 10], [10, 190]]


def test_listing_does_not_take_strokes_for_junk(tmp_path):
    strokes, canvas = _drawing()
    path = dataset.save_drawing(tmp_path, "triangle", canvas, "train", strokes=strokes)
    assert dataset.list_files(tmp_path, "train", "triangle") == [path]
    assert dataset.find_problems(tmp_path) == []
    assert dataset.count_images(tmp_path) == {"triangle": {"train": 1, "test": 0}}
    samples = dataset.load_samples(tmp_path, "train")
    assert samples.paths == [path] and samples.skipped == []
    # Strokes whose drawing is gone are a stray file, named as one.
    path.unlink()
    stray = strokes_path(path)
    (tmp_path / "train" / "triangle" / "keep.png").write_bytes(
        dataset._png_bytes(synth.draw_shape("triangle", np.random.default_rng(1)))
    )
    assert stray in dataset.list_files(tmp_path, "train", "triangle")
    assert [p for p, _ in dataset.find_problems(tmp_path)] == [stray]


def test_synth_renders_a_drawing_again_from_its_strokes(tmp_path):
    strokes, canvas = _drawing("circle", seed=3)
    path = dataset.save_drawing(tmp_path, "circle", canvas, "train", strokes=strokes)
    again = synth.render_stroke_file(path, stroke_width=8)
    assert again.size == (280, 280)
    # Same strokes, same width: the model's input is the same as the saved PNG's.
    assert np.abs(preprocess(again) - preprocess(path)).max() < 0.02
    # Another size and stroke width: the same drawing, scaled.
    small = render_stroke_file(strokes_path(path), canvas_size=64, stroke_width=2)
    assert small.size == (64, 64)
    assert np.abs(preprocess(small) - preprocess(path)).mean() < 0.08


def test_deleting_or_moving_a_drawing_takes_its_strokes_along(tmp_path):
    strokes, canvas = _drawing()
    first = dataset.save_drawing(tmp_path, "triangle", canvas, "train", strokes=strokes)
    second = dataset.save_drawing(tmp_path, "triangle", canvas, "train", strokes=strokes)
    moved = dataset.move_image(tmp_path, first, "test", "circle")
    assert strokes_path(moved).is_file() and not strokes_path(first).exists()
    assert read_strokes(moved).canvas == (280, 280)
    dataset.delete_image(tmp_path, second)
    assert not strokes_path(second).exists()
    assert not (tmp_path / "train" / "triangle").exists()


def test_bad_strokes_are_refused_and_nothing_is_written(tmp_path):
    _, canvas = _drawing()
    for bad, said in (
        ("no", "must be a list"),
        ([[[1, 2], [3]]], r"strokes\[0\]"),
        ([[[1, float("nan")], [3, 4]]], "finite"),
        ([[[], []]], "at least one"),
    ):
        with pytest.raises(InvalidImageError, match=said):
            dataset.save_drawing(tmp_path, "triangle", canvas, "train", strokes=bad)
    assert not (tmp_path / "train").exists()


def test_drawn_by_is_kept_in_the_png_and_survives_a_move(tmp_path):
    _, canvas = _drawing()
    path = dataset.save_drawing(tmp_path, "triangle", canvas, "train", drawn_by="  Zoë ")
    assert dataset.drawn_by_of(path) == "Zoë"
    path = dataset.move_image(tmp_path, path, "test", "triangle")
    assert dataset.drawn_by_of(path) == "Zoë"
    plain = dataset.save_drawing(tmp_path, "triangle", canvas, "train")
    assert dataset.drawn_by_of(plain) is None
    # Still a plain grayscale PNG that every reader of the Keras layout opens.
    assert np.array_equal(preprocess(plain), preprocess(path))
    with pytest.raises(InvalidLabelError, match="drawn_by"):
        dataset.save_drawing(tmp_path, "triangle", canvas, "train", drawn_by="a\nb")


def test_imports_keep_who_drew_each_png(tmp_path):
    source = tmp_path / "source"
    _, canvas = _drawing()
    path = dataset.save_drawing(source, "triangle", canvas, "train", drawn_by="Ada")
    saved = dataset.import_images(tmp_path / "a", "triangle", [path])
    assert dataset.drawn_by_of(saved[0]) == "Ada"
    saved = dataset.import_images(tmp_path / "b", "triangle", [path], drawn_by="Bo")
    assert dataset.drawn_by_of(saved[0]) == "Bo"
    report = dataset.import_uploads(tmp_path / "c", [("x.png", path.read_bytes())], "triangle")
    assert dataset.drawn_by_of(report.saved[0]) == "Ada"


def test_cli_add_by_names_the_drawer_in_every_png(tmp_path, capsys):
    from shapecnn import cli

    source = tmp_path / "a.png"
    synth.draw_shape("circle", np.random.default_rng(2)).save(source)
    data = tmp_path / "data"
    assert (
        cli.main(["add", "--data", str(data), "--label", "circle", "--by", "Ada", str(source)]) == 0
    )
    (saved,) = dataset.list_images(data, "train", "circle")
    assert dataset.drawn_by_of(saved) == "Ada"
    assert (
        cli.main(["add", "--data", str(data), "--label", "circle", "--by", "x\ty", str(source)])
        == 1
    )
    assert "drawn_by must be" in capsys.readouterr().err
