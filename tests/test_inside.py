"""The look inside (issue 16, part 5): the layer maps and the occlusion map of a drawing, from the
model file's own export run by LiteRT, and the Draw view's panel that shows them.

The models here are trained on drawings whose answer rests on one part: a square outline, plain
or marked with a filled dot in its top-left quarter. Erasing the dot turns "marked" into "plain",
so the occlusion map of a marked square must be highest on the dot.
"""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path

import numpy as np
import pytest
import test_app
from PIL import Image, ImageColor, ImageDraw
from test_app import FakeCanvas, elements, new_page

from shapecnn import dataset, inside
from shapecnn.inference import Classifier
from shapecnn.model import EXPORT_ENTRY
from shapecnn.runtime import LAYER_OUTPUTS

# The page's canvas replaced by one the test draws on (test_app.FakeCanvas).
canvas = test_app.canvas

# The maps each architecture's layers make of a 24x24 drawing (H, W, maps).
LAYER_SHAPES = {
    # Conv2D(32) and Conv2D(64) without padding, MaxPooling2D(2).
    "tutorial": {"conv1": (22, 22, 32), "conv2": (20, 20, 64), "pooled": (10, 10, 64)},
    # The shape base: conv1 (32, same padding), pool1, conv2 (64), pool2.
    "base": {"conv1": (24, 24, 32), "conv2": (12, 12, 64), "pooled": (6, 6, 64)},
}


def marked_square(seed: int, marked: bool) -> Image.Image:
    """A square outline at a random place and size, with a filled dot in its top-left quarter
    when `marked`; the same seed gives the same square either way."""
    rng = np.random.default_rng(seed)
    image = Image.new("RGB", (280, 280), "white")
    pen = ImageDraw.Draw(image)
    left, top = rng.integers(30, 70, 2)
    side = rng.integers(150, 190)
    pen.rectangle((left, top, left + side, top + side), outline="black", width=8)
    if marked:
        x, y = left + side * 0.25, top + side * 0.25
        pen.ellipse((x - 16, y - 16, x + 16, y + 16), fill="black")
    return image


@pytest.fixture(scope="module")
def dots(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("inside") / "dots"
    for index in range(16):
        for label in ("plain", "marked"):
            split = "test" if index % 4 == 0 else "train"
            dataset.save_drawing(root, label, marked_square(index, label == "marked"), split)
    return root


@pytest.fixture(scope="module")
def models(dots) -> dict[str, Path]:
    """{"tutorial": the tutorial CNN from scratch, "base": the default recipe (the shape base
    and a new head)}, trained on the dots."""
    from shapecnn.config import resolve_recipe
    from shapecnn.training import train

    paths = {}
    for name, recipe in (
        ("tutorial", resolve_recipe("tutorial", epochs=3)),
        ("base", resolve_recipe("default", epochs=30)),
    ):
        paths[name] = dots.parent / f"{name}.keras"
        train(dots, recipe, model_path=paths[name])
    return paths


@pytest.fixture(scope="module")
def old_model(models, tmp_path_factory) -> Path:
    """The tutorial model as saved before the look inside: its export has the probabilities
    and features only (the export_model of then)."""
    from shapecnn._tensorflow import keras, native_output_silenced

    folder = tmp_path_factory.mktemp("old")
    path = folder / "old.keras"
    network = Classifier.load(models["tutorial"]).model
    then = keras.Model(network.inputs[0], [network.outputs[0], network.layers[-2].output])
    with native_output_silenced():
        then.export(str(folder / "old.tflite"), format="litert", verbose=False)
    flatbuffer = (folder / "old.tflite").read_bytes()
    with zipfile.ZipFile(models["tutorial"]) as new, zipfile.ZipFile(path, "w") as old:
        for info in new.infolist():
            data = flatbuffer if info.filename == EXPORT_ENTRY else new.read(info)
            old.writestr(info, data)
    return path


def dot_and_rest(classifier, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(the marked square's model input, where its dot is, where the rest of its ink is)."""
    marked = classifier.preprocess(marked_square(seed, True))
    plain = classifier.preprocess(marked_square(seed, False))
    dot = np.abs(marked - plain).max(axis=2) > 0.5
    rest = (plain.min(axis=2) < 0.5) & ~dot
    return marked, dot, rest


# --- the export and the maps --------------------------------------------------------------------


@pytest.mark.parametrize("architecture", ["tutorial", "base"])
def test_the_export_has_each_layers_maps_checked_against_keras(models, architecture):
    classifier = Classifier.load(models[architecture])
    assert classifier.has_layers
    assert classifier._runtime.layer_shapes == LAYER_SHAPES[architecture]
    checked = classifier.metadata.export
    assert set(checked["layers"]) == set(LAYER_OUTPUTS)
    assert all(0 <= off <= 1e-4 for off in checked["layers"].values()), checked
    assert checked["drawings"] == 8  # the test drawings


def test_an_export_without_the_maps_is_refused_for_a_network_that_has_them(models, old_model):
    from shapecnn.errors import ModelFileError
    from shapecnn.model import check_export, read_model_file

    network = Classifier.load(models["tutorial"]).model
    x = np.stack([Classifier.load(models["tutorial"]).preprocess(marked_square(1, True))])
    with pytest.raises(ModelFileError, match="lacks the layer maps of the look inside"):
        check_export(read_model_file(old_model).flatbuffer, network, x)
    assert check_export(read_model_file(models["tutorial"]).flatbuffer, network, x)["layers"]


@pytest.mark.parametrize("architecture", ["tutorial", "base"])
def test_the_maps_are_what_the_keras_layers_compute(models, architecture):
    from shapecnn._tensorflow import keras

    classifier = Classifier.load(models[architecture])
    x, _dot, _rest = dot_and_rest(classifier, 101)
    seen = inside.look_inside(classifier, x)
    network = classifier.model
    if architecture == "tutorial":
        graph, layers = network, dict(zip(LAYER_OUTPUTS, network.layers[:3], strict=True))
    else:
        graph = network.get_layer("shape_base")
        names = ("conv1", "conv2", "pool2")
        layers = {n: graph.get_layer(k) for n, k in zip(LAYER_OUTPUTS, names, strict=True)}
    for name, layer in layers.items():
        keras_maps = np.asarray(keras.Model(graph.inputs[0], layer.output)(x[None]))[0]
        assert seen.layers[name].shape == LAYER_SHAPES[architecture][name]
        np.testing.assert_allclose(seen.layers[name], keras_maps, atol=1e-4 * keras_maps.max())
        assert keras_maps.max() > 0  # the drawing excites the layer


def test_a_prediction_copies_no_maps_unless_asked(models):
    classifier = Classifier.load(models["base"])
    x, _dot, _rest = dot_and_rest(classifier, 102)
    plain = classifier.run(x[None])
    assert set(plain) == {"probabilities", "embedding", "kinds"}
    with_maps = classifier.run(x[None], layers=True)
    assert set(with_maps) == {*plain, *LAYER_OUTPUTS}
    np.testing.assert_array_equal(with_maps["probabilities"], plain["probabilities"])


# --- which parts pushed the answer --------------------------------------------------------------


@pytest.mark.parametrize("architecture", ["tutorial", "base"])
def test_the_occlusion_map_is_highest_on_the_ink_the_answer_rests_on(models, architecture):
    classifier = Classifier.load(models[architecture])
    for seed in (100, 101, 102):
        x, dot, rest = dot_and_rest(classifier, seed)
        seen = inside.look_inside(classifier, x)
        assert seen.label == "marked" and seen.probability > 0.9
        on_dot, on_rest = seen.occlusion[dot].mean(), seen.occlusion[rest].mean()
        assert on_dot > 1.0 and on_dot > on_rest + 1.0, (seed, on_dot, on_rest)
        assert seen.lowest < seen.probability  # erasing the dot lowered the answer
        if architecture == "tutorial":
            assert dot.flat[seen.occlusion.argmax()], seed  # the peak is on the dot itself


class CountingClassifier(Classifier):
    """A real classifier that counts the runtime calls made through it."""

    def run(self, batch, *, layers=False):
        self.calls.append((len(batch), layers))
        return super().run(batch, layers=layers)


def test_every_erased_copy_goes_through_the_network_in_one_call(models):
    from shapecnn.model import read_model_file

    classifier = CountingClassifier(read_model_file(models["base"]))
    classifier.calls = []
    x, _dot, _rest = dot_and_rest(classifier, 103)
    seen = inside.look_inside(classifier, x)
    starts = inside.square_positions(24)
    over_ink = sum(
        bool(np.any(x[t : t + inside.PATCH, s : s + inside.PATCH] < 1))
        for t in starts
        for s in starts
    )
    assert 0 < seen.patches == over_ink < len(starts) ** 2
    assert classifier.calls == [(1, True), (over_ink, False)]


def test_squares_over_paper_are_not_run_and_count_zero():
    x = np.ones((24, 24, 3), np.float32)
    x[2:4, 2:4] = 0.0  # ink in the top-left corner only
    copies, boxes = inside.erased_copies(x)
    assert boxes == [(0, 0), (0, 2), (2, 0), (2, 2)]
    assert np.all(copies == 1.0)  # each copy erased the only ink there was
    heat = inside.occlusion_map(np.ones(len(boxes)), boxes, (24, 24))
    assert heat[0, 0] == 1.0 and heat[23, 23] == 0.0 and heat[12, 12] == 0.0
    assert inside.square_positions(24) == [0, 2, 4, 6, 8, 10, 12, 14, 16, 18]
    assert inside.square_positions(23) == [0, 2, 4, 6, 8, 10, 12, 14, 16, 17]  # to the edge


def test_the_pictures_show_every_map_in_a_grid(models):
    classifier = Classifier.load(models["tutorial"])
    x, _dot, _rest = dot_and_rest(classifier, 104)
    seen = inside.look_inside(classifier, x)
    pictures = inside.pictures(seen, x)
    assert list(pictures) == [*LAYER_OUTPUTS, "occlusion"]
    # 1 px lines, each map pixel 1 x 1 (conv1, conv2: 22 and 20 px) or 2 x 2 (pooled, 10 px),
    # in 8 columns; shown twice as wide by the browser.
    sizes = {name: (p.image.size, p.width) for name, p in pictures.items()}
    assert sizes == {
        "conv1": ((8 * 23 + 1, 4 * 23 + 1), 2 * (8 * 23 + 1)),
        "conv2": ((8 * 21 + 1, 8 * 21 + 1), 2 * (8 * 21 + 1)),
        "pooled": ((8 * 21 + 1, 8 * 21 + 1), 2 * (8 * 21 + 1)),
        "occlusion": ((24, 24), inside.OCCLUSION_WIDTH),
    }
    # Each map on the grid as the network computed it, on the layer's one scale.
    grid = np.asarray(pictures["conv1"].image, np.float32)
    maps = seen.layers["conv1"]
    strongest = np.unravel_index(maps.argmax(), maps.shape)
    row, column = divmod(strongest[2], 8)
    pixel = grid[1 + row * 23 + strongest[0], 1 + column * 23 + strongest[1]]
    np.testing.assert_allclose(pixel, ImageColor.getrgb(inside.MAP_COLOUR), atol=1)


# --- models saved before the look inside --------------------------------------------------------


def test_an_old_model_file_predicts_as_before_and_says_it_has_no_layer_outputs(models, old_model):
    old, new = Classifier.load(old_model), Classifier.load(models["tutorial"])
    drawing = marked_square(105, True)
    assert old.predict(drawing) == pytest.approx(new.predict(drawing), abs=1e-6)
    assert not old.has_layers
    assert set(old.run(old.preprocess(drawing)[None], layers=True)) == {
        "probabilities",
        "embedding",
    }
    with pytest.raises(inside.NoLayerOutputsError, match="this model file has no layer outputs"):
        inside.look_inside(old, old.preprocess(drawing))


# --- the panel on the Draw view (AppTest) -------------------------------------------------------


def inside_panel(at) -> list[dict]:
    """The look inside's figures on the page: [{key, title, sentence, src}] ([] when none)."""
    from html.parser import HTMLParser

    class Figures(HTMLParser):
        def __init__(self):
            super().__init__()
            self.found, self.tag = [], None

        def handle_starttag(self, tag, attrs):
            attrs = dict(attrs)
            if "data-inside" in attrs:
                self.found.append({"key": attrs["data-inside"], "title": "", "sentence": ""})
            elif self.found and tag == "img":
                self.found[-1]["src"] = attrs["src"]
            self.tag = tag

        def handle_data(self, data):
            if self.found and self.tag in ("figcaption", "p"):
                field = "title" if self.tag == "figcaption" else "sentence"
                self.found[-1][field] += data

    figures = Figures()
    for element in elements(at, "html"):
        if "data-inside-panel" in element.proto.body:
            figures.feed(element.proto.body)
    return figures.found


def captions(at) -> str:
    return " ".join(c.value for c in at.caption)


def draw_view(monkeypatch, canvas: FakeCanvas, dots: Path, model: Path, tmp_path):
    data = Path(shutil.copytree(dots, tmp_path / "dots"))
    copy = Path(shutil.copy(model, tmp_path / "model.keras"))
    monkeypatch.setenv("SHAPECNN_FIRST_MODEL", "0")
    at = new_page(monkeypatch, data, copy)
    canvas.draw(marked_square(106, True))
    at.run()
    assert not at.exception, at.exception
    return at


def test_the_panel_is_off_by_default_and_on_shows_each_layer_with_its_sentence(
    monkeypatch, canvas, dots, models, tmp_path
):
    at = draw_view(monkeypatch, canvas, dots, models["base"], tmp_path)
    toggle = at.toggle(key="look_inside")
    assert toggle.value is False and toggle.label == "Look inside the network"
    assert inside_panel(at) == []
    toggle.set_value(True).run()
    assert not at.exception, at.exception
    figures = inside_panel(at)
    assert [f["key"] for f in figures] == ["conv1", "conv2", "pooled", "occlusion"]
    titles = [f["title"] for f in figures]
    assert titles[:3] == [
        "First convolution: 32 maps of 24x24",
        "Second convolution: 64 maps of 12x12",
        "Pooled: 64 maps of 6x6",
    ]
    assert "3x3 filters" in figures[0]["sentence"]
    assert "bigger patterns" in figures[1]["sentence"]
    assert "strongest response of each 2x2 block" in figures[2]["sentence"]
    assert "less sure of “marked”" in figures[3]["sentence"]
    assert all(f["src"].startswith("data:image/png;base64,") for f in figures)
    # A new stroke: new maps.
    canvas.draw(marked_square(107, False))
    at.run()
    after = inside_panel(at)
    assert [f["src"] for f in after] != [f["src"] for f in figures]
    assert "less sure of “plain”" in after[3]["sentence"]
    # Off again: none of it.
    at.toggle(key="look_inside").set_value(False).run()
    assert inside_panel(at) == [] and "3x3 filters" not in captions(at)


def test_the_panel_stays_open_while_another_view_is_shown(
    monkeypatch, canvas, dots, models, tmp_path
):
    at = draw_view(monkeypatch, canvas, dots, models["tutorial"], tmp_path)
    at.toggle(key="look_inside").set_value(True).run()
    for view in ("Train", "Draw"):
        at.segmented_control(key="view").set_value(view).run()
        assert not at.exception, at.exception
    assert at.toggle(key="look_inside").value is True
    assert inside_panel(at)[0]["title"] == "First convolution: 32 maps of 22x22"


def test_an_old_model_file_shows_one_line_in_the_panel(
    monkeypatch, canvas, dots, old_model, tmp_path
):
    at = draw_view(monkeypatch, canvas, dots, old_model, tmp_path)
    assert at.metric[0].value == "marked"  # the old file predicts as it did
    at.toggle(key="look_inside").set_value(True).run()
    assert not at.exception and not at.error, at.exception
    assert inside_panel(at) == []
    assert "This model file has no layer outputs; train again to see inside." in captions(at)
