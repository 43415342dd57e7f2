"""Training jobs under contention: many tabs clicking Train at once, a trainer killed with -9.

test_jobs.py covers one job's life; this file, what happens when several want the same model.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading

import pytest

from shapecnn import jobs
from shapecnn.jobs import JobBusyError, JobRegistry

from helpers import make_dataset

HOLD_LOCK = """
import sys, time
from shapecnn.jobs import ModelLock
assert ModelLock(sys.argv[1]).acquire()
print("LOCKED", flush=True)
time.sleep(600)
"""


@pytest.fixture
def small(tmp_path):
    return make_dataset(tmp_path / "shapes", per_class=4), tmp_path / "models" / "m.keras"


def long_recipe():
    return jobs.make_recipe("tutorial", epochs=1000)


def stop(job) -> None:
    job.cancel()
    assert job.join(120)


def test_train_clicked_in_two_tabs_at_once_starts_one_job(small):
    data, model = small
    registry = JobRegistry()
    barrier = threading.Barrier(8)
    results = []

    def click():
        barrier.wait()
        results.append(registry.start(data, model, long_recipe()))

    tabs = [threading.Thread(target=click) for _ in range(8)]
    for tab in tabs:
        tab.start()
    for tab in tabs:
        tab.join(60)
    try:
        assert len(results) == 8
        assert len({job.id for job, _ in results}) == 1
        assert sorted(started for _, started in results) == [False] * 7 + [True]
        job = results[0][0]
        assert registry.latest(model) is job and job.active
        # Another path to the same file is the same model.
        same_file = model.parent / ".." / model.parent.name / model.name
        assert registry.start(data, same_file, long_recipe()) == (job, False)
    finally:
        stop(results[0][0])
    assert registry.latest(model).snapshot().state == jobs.CANCELLED


def test_another_process_training_blocks_until_it_is_killed(small):
    data, model = small
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_LOCK, str(model)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout.readline().strip() == "LOCKED"
        registry = JobRegistry()
        with pytest.raises(JobBusyError, match=str(model)):
            registry.start(data, model, long_recipe())
        assert registry.latest(model) is None
    finally:
        os.kill(holder.pid, signal.SIGKILL)
        holder.wait(30)
        holder.stdout.close()
    # kill -9 leaves the lock file, but the OS dropped the lock with the process.
    assert jobs.lock_path(model).exists()
    job, started = registry.start(data, model, long_recipe())
    assert started
    stop(job)


def test_the_cli_refuses_to_train_a_model_the_page_is_training(small):
    data, model = small
    page = jobs.ModelLock(model)
    assert page.acquire("the page (pid 4242)")
    try:
        done = subprocess.run(
            [sys.executable, "-m", "shapecnn", "train", "--data", str(data), "--model", str(model)],
            capture_output=True,
            text=True,
            timeout=120,
        )
    finally:
        page.release()
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "being trained by the page (pid 4242)" in lines[0]
    assert not model.exists()


def test_the_page_says_who_holds_a_model_the_cli_is_training(small):
    data, model = small
    cli = jobs.ModelLock(model)
    assert cli.acquire("python -m shapecnn train (pid 77)")
    try:
        with pytest.raises(JobBusyError, match=r"python -m shapecnn train \(pid 77\)"):
            JobRegistry().start(data, model, long_recipe())
    finally:
        cli.release()
