"""Shared fixtures: tiny datasets made in tmp_path and one small model trained per session."""

from __future__ import annotations

from pathlib import Path

import pytest

from helpers import make_dataset


@pytest.fixture
def dataset_root(tmp_path: Path) -> Path:
    return make_dataset(tmp_path / "shapes")


@pytest.fixture(scope="session")
def trained_model(tmp_path_factory) -> Path:
    """A model trained briefly on a small synthetic dataset (a few seconds), shared read-only."""
    from shapecnn.config import resolve_recipe
    from shapecnn.training import train

    root = make_dataset(tmp_path_factory.mktemp("trained") / "shapes", per_class=12, seed=1)
    path = root.parent / "model.keras"
    train(root, resolve_recipe("default", epochs=60), model_path=path)
    return path


@pytest.fixture(scope="session", autouse=True)
def private_cache(tmp_path_factory):
    """What shapecnn keeps between runs (the shape base's export) goes to this session's own
    folder, for this process and every server or training process it starts."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SHAPECNN_CACHE", str(tmp_path_factory.mktemp("cache")))
        yield
