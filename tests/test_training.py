import shutil

import numpy as np
import pytest

from shapecnn.augment import augmented_versions
from shapecnn.config import DEFAULT_DATA, RECIPES, resolve_recipe
from shapecnn.errors import DatasetError, ShapeCNNError
from shapecnn.inference import Classifier
from shapecnn.model import read_metadata
from shapecnn.preprocess import preprocess
from shapecnn.training import load_training_data, train

from helpers import draw_outline, make_dataset


def test_training_reports_every_epoch_and_saves_model_with_metadata(dataset_root, tmp_path):
    seen = []
    result = train(
        dataset_root,
        resolve_recipe("default", epochs=3),
        model_path=tmp_path / "m.keras",
        on_epoch_end=lambda epoch, logs: seen.append((epoch, sorted(logs))),
    )
    assert [epoch for epoch, _ in seen] == [1, 2, 3]
    assert seen[0][1] == ["accuracy", "loss", "test_accuracy", "test_loss"]
    metadata = read_metadata(tmp_path / "m.keras")
    assert metadata.class_names == ["circle", "rectangle", "triangle"]
    assert metadata.input_shape == (24, 24, 3)
    assert metadata.preprocess.crop == "ink"
    assert metadata.recipe["name"] == "default" and metadata.recipe["epochs"] == 3
    assert metadata.recipe["seed"] == RECIPES["default"].seed
    assert metadata.counts["circle"] == {"train": 6, "test": 2}
    assert metadata.test_metrics["count"] == 6
    assert metadata.test_metrics["accuracy"] == result.evaluation.accuracy
    assert sum(map(sum, metadata.test_metrics["confusion"])) == 6
    assert [row["epoch"] for row in metadata.history] == [1, 2, 3]  # the curves, kept
    assert metadata.trained_at
    assert result.test_probabilities.shape == (6, 3)
    # Trained from the base: the file can tell drawings of none of its classes.
    assert Classifier.load(tmp_path / "m.keras").can_be_unsure


def test_same_seed_gives_the_same_model(dataset_root):
    for name in ("default", "tutorial"):
        recipe = resolve_recipe(name, epochs=2, seed=7)
        first, second = train(dataset_root, recipe), train(dataset_root, recipe)
        np.testing.assert_array_equal(first.test_probabilities, second.test_probabilities)
        assert first.history == second.history


def test_one_class_is_refused_saying_a_classifier_needs_two(tmp_path):
    make_dataset(tmp_path, per_class=4, classes=["circle"])
    with pytest.raises(DatasetError, match=r"at least 2 classes.*only 'circle'"):
        train(tmp_path)


def test_class_without_training_drawings_is_named(dataset_root):
    shutil.rmtree(dataset_root / "train" / "triangle")
    with pytest.raises(DatasetError, match=r"none in .*train for: 'triangle'"):
        load_training_data(dataset_root)


def test_empty_test_split_trains_and_says_there_is_no_test_data(dataset_root, tmp_path):
    shutil.rmtree(dataset_root / "test")
    result = train(dataset_root, resolve_recipe(epochs=1), model_path=tmp_path / "m.keras")
    assert result.evaluation is None
    assert "no test data" in result.notes[0]
    assert read_metadata(tmp_path / "m.keras").test_metrics is None


def test_cancelled_training_keeps_the_previous_model(dataset_root, trained_model, tmp_path):
    path = tmp_path / "m.keras"
    shutil.copy(trained_model, path)
    before = path.read_bytes()
    for name in ("default", "tutorial"):
        result = train(dataset_root, name, model_path=path, should_stop=lambda: True)
        assert result.cancelled and result.model_path is None
        assert path.read_bytes() == before
    result = train(dataset_root, model_path=path, should_stop=lambda: True)
    assert result.cancelled
    assert result.model_path is None
    assert path.read_bytes() == before


def test_bad_settings_are_refused_with_the_value():
    with pytest.raises(ShapeCNNError, match=r"recipe must be one of default, .*; got 'fast'"):
        train(DEFAULT_DATA, "fast")
    with pytest.raises(ShapeCNNError, match=r"batch_size must be .*; got 0"):
        train(DEFAULT_DATA, resolve_recipe(batch_size=0))


@pytest.mark.slow
def test_default_recipe_learns_the_starter_data(tmp_path):
    result = train(DEFAULT_DATA, model_path=tmp_path / "shapes.keras")
    assert result.evaluation.accuracy >= 0.9
    classifier = Classifier.load(tmp_path / "shapes.keras")
    assert classifier.classes == ["circle", "rectangle", "triangle"]


def test_augmented_versions_vary_but_keep_the_drawing_on_paper():
    x = preprocess(draw_outline("triangle"))
    versions = augmented_versions(x, count=6, seed=1)
    assert versions.shape == (6, 24, 24, 3)
    assert versions.min() >= 0.0 and versions.max() <= 1.0
    assert len({v.tobytes() for v in versions}) == 6  # every version differs
    assert all((v < 0.5).any() for v in versions)  # the ink is still there
    np.testing.assert_array_equal(versions, augmented_versions(x, count=6, seed=1))


@pytest.mark.parametrize("classes", [2, 3])
def test_the_exact_head_solve_learns_what_epochs_of_adam_learn(tmp_path, classes):
    """Learn-as-I-save fits the head in one L-BFGS solve: the saved model answers like the
    Adam-trained one on the starter data's test drawings, with one reported "epoch"."""
    root = tmp_path / "data"
    shutil.copytree(DEFAULT_DATA, root)
    if classes == 2:
        for split in ("train", "test"):
            shutil.rmtree(root / split / "triangle")
    data = load_training_data(root)
    solved = train(data, resolve_recipe(head_solver="lbfgs"), model_path=tmp_path / "l.keras")
    assert len(solved.history["loss"]) == 1
    assert solved.evaluation.accuracy >= 0.9
    if classes == 3:  # (two classes: scikit-learn's one-logit case, mapped onto the softmax)
        fitted = train(data, resolve_recipe(), model_path=tmp_path / "a.keras")
        assert len(fitted.history["loss"]) > 1
        assert solved.evaluation.accuracy >= fitted.evaluation.accuracy - 0.05
    classifier = Classifier.load(tmp_path / "l.keras")
    assert classifier.classes == data.class_names
    assert classifier.metadata.recipe["head_solver"] == "lbfgs"


def test_an_unknown_head_solver_is_refused_with_the_choices():
    with pytest.raises(ShapeCNNError, match=r"head_solver must be one of adam, lbfgs; got 'sgd'"):
        resolve_recipe(head_solver="sgd")


def swapped_starter(folder, first="circle", second="triangle"):
    """The starter data with two classes' folders swapped: circles filed as triangles."""
    root = folder / "data"
    shutil.copytree(DEFAULT_DATA, root)
    for split in ("train", "test"):
        (root / split / first).rename(root / split / "swap")
        (root / split / second).rename(root / split / first)
        (root / split / "swap").rename(root / split / second)
    return root


def test_the_model_follows_the_users_labels_where_the_base_would_call_them_otherwise(tmp_path):
    """The base's judgement compares a drawing with the user's own drawings of each class, not
    with what the base calls a circle: circles filed under "triangle" are learned as triangles."""
    root = swapped_starter(tmp_path)
    # The head counting for 0.2 only: the judgement decides.
    recipe = resolve_recipe(head_solver="lbfgs", own_weights=(0.2,))
    result = train(root, recipe, model_path=tmp_path / "m.keras")
    assert result.evaluation.accuracy >= 0.9
    # The run's curve scores the model it saves, the judgement weighed in.
    assert result.history["test_accuracy"][-1] == result.evaluation.accuracy
    classifier = Classifier.load(tmp_path / "m.keras")
    assert classifier.predict(draw_outline("circle")).label == "triangle"
    assert classifier.predict(draw_outline("triangle")).label == "circle"


def test_the_heads_weight_against_the_base_is_chosen_on_the_test_drawings(tmp_path):
    """Every weight the recipe lists is scored on the test drawings and the best is kept; the
    accuracy a run reports is that of the model the page then runs. A recipe listing only 1.0
    keeps the head alone."""
    data = load_training_data(DEFAULT_DATA)
    weights = (0.3, 0.0, 1.0)
    recipe = resolve_recipe(head_solver="lbfgs", own_weights=weights)
    result = train(data, recipe, model_path=tmp_path / "m.keras")
    judgement = result.metadata.novelty["judgement"]
    tried = judgement["tried_on_test"]
    assert [t["own_weight"] for t in tried] == list(weights)
    best = max(t["accuracy"] for t in tried)
    assert judgement["own_weight"] in [t["own_weight"] for t in tried if t["accuracy"] == best]
    shown = Classifier.load(tmp_path / "m.keras").predict_preprocessed(data.test.x)
    assert np.mean(shown.argmax(1) == data.test.y) == result.evaluation.accuracy
    alone = train(data, resolve_recipe(head_solver="lbfgs", own_weights=(1.0,)))
    assert "judgement" not in alone.metadata.novelty
    assert not any(layer.name == "judged" for layer in alone.model.layers)


def test_head_weights_outside_0_to_1_are_refused_with_the_value():
    with pytest.raises(
        ShapeCNNError, match=r"own_weights must be numbers from 0 to 1; got \(1.5,\)"
    ):
        resolve_recipe(own_weights=(1.5,))
