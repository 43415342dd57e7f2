"""A classroom on one page server, over Streamlit's own WebSocket protocol (the load benchmark's
client, benchmarks/bench_load.py): what one student's page does when a classmate's save starts
the next learn-as-you-save update (issue 17).

The student's page polls its own update every 0.3 s and reruns whole when it ends, which turns
its Train button back on and stops the poll. When a classmate's save started the next update
between two of those polls, the page never saw its own end: it went on polling every 0.3 s with
Train off until its own next save (at 60 users most unanswered strokes were on such pages).
"""

from __future__ import annotations

import asyncio
import shutil
import sys
import time
from pathlib import Path

import pytest

from shapecnn.config import DEFAULT_DATA

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
sys.path.insert(0, str(ROOT / "tests" / "browser"))

import bench_load  # noqa: E402

import driver  # noqa: E402

pytestmark = pytest.mark.slow
TRAINING_TIMEOUT_S = 90
TRAIN = "Train model"


async def written_after(model: Path, before: float | None, timeout: float = TRAINING_TIMEOUT_S):
    """Wait until a training run has written `model` again (its mtime is not `before`) and
    has ended (the model's lock is free)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if model.exists() and model.stat().st_mtime_ns != before and not driver.lock_is_held(model):
            return model.stat().st_mtime_ns
        await asyncio.sleep(0.1)
    raise TimeoutError(f"no training run wrote {model} and ended within {timeout:.0f} s")


async def scenario(url: str, model: Path) -> dict:
    # The student's page: its timed reruns are sent by this test, when the scenario needs one.
    student = bench_load.StreamlitSession(url, "student", replay_auto_reruns=False)
    classmate = bench_load.StreamlitSession(url, "classmate")
    found: dict = {}
    try:
        await student.open()
        await student.wait_run(lambda run: "quick-circle" in student.ids, timeout=60)
        # A fresh model path: the first page trains the first model at once.
        stamp = await written_after(model, None)
        await classmate.open()
        await classmate.wait_run(lambda run: "quick-circle" in classmate.ids, timeout=60)

        # The student saves: its own update starts, its page polls it and Train is off.
        await student.stroke(bench_load.synthetic_payload("circle"))
        found["student_saved"] = await student.save("circle")
        saved_run = student._runs[-1]
        found["train_disabled_after_save"] = saved_run.buttons.get(TRAIN)
        found["polls"] = dict(student.auto_rerun_intervals)
        stamp = await written_after(model, stamp)  # the student's update is over...

        # ... and before the student's next poll, the classmate's save starts the next one.
        await classmate.stroke(bench_load.synthetic_payload("triangle"))
        found["classmate_saved"] = await classmate.save("triangle")
        await written_after(model, stamp)

        # The student's next poll, as its browser sends it.
        (status_fragment,) = found["polls"] or [""]
        student.forget_runs()
        await student.request({}, status_fragment, wait=False)
        try:
            seen = await student.wait_run(lambda run: TRAIN in run.buttons, timeout=30)
            found["train_disabled_after_poll"] = seen.buttons[TRAIN]
        except TimeoutError:
            found["train_disabled_after_poll"] = "not drawn again"
        found["exceptions"] = student.exceptions + classmate.exceptions
    finally:
        await student.close()
        await classmate.close()
    return found


def test_a_page_whose_update_a_classmates_save_followed_gets_its_train_button_back(tmp_path):
    data = Path(shutil.copytree(DEFAULT_DATA, tmp_path / "data"))
    model = tmp_path / "models" / "shapes.keras"
    model.parent.mkdir()
    with driver.streamlit_server(data, model, tmp_path / "server.log") as url:
        found = driver.run_in_own_loop(scenario(url, model), "classroom")
    assert found["student_saved"] and found["classmate_saved"], found
    assert not found["exceptions"], found["exceptions"]
    # The scenario's premise: right after the save, the page showed its update running.
    assert found["train_disabled_after_save"] is True, found
    assert list(found["polls"].values()) == [pytest.approx(0.3)], found["polls"]
    # The poll after the classmate's update: the student's page reran whole, Train back on.
    assert found["train_disabled_after_poll"] is False, found
