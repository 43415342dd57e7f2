"""Background training jobs: one per model file, progress, cancel, results and the lock file."""

from __future__ import annotations

import os

import pytest

from shapecnn import jobs
from shapecnn.errors import ShapeCNNError
from shapecnn.synth import synth_dataset


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    root = tmp_path_factory.mktemp("jobs") / "shapes"
    synth_dataset(root, per_class=8, seed=4)
    return root


def test_a_model_lock_is_exclusive_until_released(tmp_path):
    model = tmp_path / "m.keras"
    first, second = jobs.ModelLock(model), jobs.ModelLock(model)
    assert first.acquire()
    assert not second.acquire()
    first.release()
    assert second.acquire()
    second.release()
    assert jobs.lock_path(model) == tmp_path / ".m.keras.lock"


def test_make_recipe_applies_overrides_and_refuses_unknown_names():
    recipe = jobs.make_recipe("default", epochs=3, augment=None)
    assert recipe.epochs == 3 and recipe.augment is True and recipe.architecture == "base"
    with pytest.raises(ShapeCNNError, match="recipe must be one of"):
        jobs.make_recipe("fancy")


def test_a_job_reports_every_epoch_saves_the_model_and_summarises(data, tmp_path):
    model = tmp_path / "m.keras"
    recipe = jobs.make_recipe("tutorial", epochs=3)
    job, started = jobs.JobRegistry().start(data, model, recipe)
    assert started
    assert job.join(timeout=120)
    snapshot = job.snapshot()
    assert snapshot.state == jobs.DONE, snapshot.error
    assert [row["epoch"] for row in snapshot.history] == [1, 2, 3]
    assert {"loss", "accuracy", "test_loss", "test_accuracy"} <= set(snapshot.history[0])
    assert snapshot.progress == 1.0 and not snapshot.active
    # The values a page words its own progress line from (the message is the CLI's English).
    assert snapshot.drawings == sum(c["train"] for c in snapshot.result.counts.values()) == 18
    assert snapshot.cold_start  # a new registry's process had no TensorFlow yet
    result = snapshot.result
    assert model.is_file() and result.model_path == model
    # TensorFlow trained in a child process, not in this one.
    assert snapshot.worker_pid not in (None, os.getpid())
    assert result.classes == ["circle", "rectangle", "triangle"]
    assert sum(map(sum, result.confusion)) == 6  # every test drawing
    wrong = sum(result.confusion[i][j] for i in range(3) for j in range(3) if i != j)
    assert len(result.misclassified) == wrong
    for item in result.misclassified:
        assert item.true != item.predicted and item.path.is_file()
    assert jobs.ModelLock(model).acquire()  # released when the job ended


def test_a_second_start_returns_the_running_job_and_another_process_is_refused(data, tmp_path):
    model = tmp_path / "m.keras"
    registry = jobs.JobRegistry()
    job, started = registry.start(data, model, jobs.make_recipe("tutorial", epochs=1000))
    try:
        again, started_again = registry.start(data, model)
        assert started and not started_again and again is job
        assert registry.latest(model) is job
        # Another registry stands in for another server process holding the lock file.
        with pytest.raises(jobs.JobBusyError, match="another process"):
            jobs.JobRegistry().start(data, model)
    finally:
        job.cancel()
    assert job.join(timeout=120)
    assert job.snapshot().state == jobs.CANCELLED
    assert not model.exists()  # a cancelled run saves nothing


def test_a_dataset_that_cannot_be_trained_fails_with_the_reason(tmp_path):
    root = tmp_path / "one"
    synth_dataset(root, per_class=4, classes=["circle"])
    job, _ = jobs.JobRegistry().start(root, tmp_path / "m.keras")
    assert job.join(timeout=120)
    snapshot = job.snapshot()
    assert snapshot.state == jobs.FAILED
    assert "at least 2 classes" in snapshot.error


def test_another_model_file_takes_over_the_idle_warm_training_process(tmp_path):
    """The page switching datasets (each with its own model file) keeps one warm TensorFlow
    process, not one per dataset looked at."""
    import multiprocessing

    before = set(multiprocessing.active_children())
    registry = jobs.JobRegistry()
    try:
        registry.warm_up(tmp_path / "shapes.keras")
        registry.warm_up(tmp_path / "letters.keras")
        registry.warm_up(tmp_path / "shapes.keras")
        assert len(set(multiprocessing.active_children()) - before) == 1
    finally:
        registry.shutdown()
