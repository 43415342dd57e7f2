"""Drive the real page: start `streamlit run app.py`, open it in Debian's Chromium, draw on it.

Used by the browser tests (conftest.py) and by screenshot.py. Chromium is the Debian package at
/usr/bin/chromium driven by Playwright's Python package; `playwright install` is never needed.
"""

from __future__ import annotations

import contextlib
import os
import re
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import numpy as np

PROJECT = Path(__file__).resolve().parents[2]
CHROMIUM = Path(os.environ.get("SHAPECNN_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
IDLE = "[data-testid=stApp][data-test-script-state=notRunning]"
# Playwright's 5 s default for expect() is too short for a shared 2-core machine under load.
EXPECT_TIMEOUT = 30_000
CANVAS = "canvas.upper-canvas"
VIEWPORT = {"width": 1440, "height": 900}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def lock_is_held(model: Path) -> bool:
    """Whether a training run holds the model's lock (shapecnn.jobs.ModelLock) now."""
    import fcntl

    from shapecnn import jobs

    fd = os.open(jobs.lock_path(model), os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    else:
        fcntl.flock(fd, fcntl.LOCK_UN)
        return False
    finally:
        os.close(fd)


def run_in_own_loop(coroutine, name: str = "protocol-users"):
    """asyncio.run in a thread of its own, for the tests whose users speak Streamlit's protocol
    (benchmarks/bench_load.py's client): in the same pytest process the browser tests'
    Playwright (sync API, session-wide) keeps an event loop running in the main thread."""
    import asyncio

    result = {}

    def target():
        try:
            result["value"] = asyncio.run(coroutine)
        except BaseException as error:  # noqa: BLE001 - re-raised in the caller's thread
            result["error"] = error

    thread = threading.Thread(target=target, name=name)
    thread.start()
    thread.join()
    if "error" in result:
        raise result["error"]
    return result["value"]


@contextlib.contextmanager
def streamlit_server(
    data: Path, model: Path, log: Path, timeout: float = 60, script: Path = PROJECT / "app.py"
) -> Iterator[str]:
    """`streamlit run SCRIPT -- --data DATA --model MODEL` on a free port; yields its URL as soon
    as the server answers (checked every 50 ms: the page benchmarks time a cold start with it)."""
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(script),
        "--server.headless",
        "true",
        "--server.port",
        str(port),
        "--server.address",
        "127.0.0.1",
        "--browser.gatherUsageStats",
        "false",
        # Streamlit evicts edited project modules from sys.modules; an edit of shapecnn/ while
        # a test runs would break an import in the training thread.
        "--server.fileWatcherType",
        "none",
        "--runner.postScriptGC",
        "false",
        "--",
        "--data",
        str(data),
        "--model",
        str(model),
    ]
    with open(log, "wb") as output:
        server = subprocess.Popen(
            command, cwd=PROJECT, stdout=output, stderr=subprocess.STDOUT, start_new_session=True
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            if server.poll() is not None:
                raise RuntimeError(f"streamlit exited with {server.returncode}:\n{tail(log)}")
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                    if response.read().strip() == b"ok":
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"streamlit did not answer within {timeout} s:\n{tail(log)}")
            time.sleep(0.05)
        yield ServerURL(url, server.pid)
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


class ServerURL(str):
    """The page's address, knowing the server process's id (to look inside it)."""

    def __new__(cls, url: str, pid: int):
        self = super().__new__(cls, url)
        self.pid = pid
        return self


def loaded_libraries(pid: int) -> set[str]:
    """The shared libraries a process has mapped: /proc/PID/maps."""
    names = set()
    for line in Path(f"/proc/{pid}/maps").read_text().splitlines():
        parts = line.split()
        if len(parts) >= 6 and parts[5].startswith("/"):
            names.add(Path(parts[5]).name)
    return names


def tail(log: Path, lines: int = 40) -> str:
    try:
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def launch_chromium(playwright):
    from playwright.sync_api import expect

    expect.set_options(timeout=EXPECT_TIMEOUT)
    return playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)


def open_page(browser, url: str, timeout: float = 60_000):
    """A fresh session of the page, with the canvas on screen and the first run finished."""
    page = browser.new_page(viewport=VIEWPORT)
    page.set_default_timeout(timeout)
    page.goto(url)
    page.wait_for_selector(CANVAS)
    wait_idle(page)
    return page


def show_view(page, name: str) -> None:
    """Switch the page to one of its views (Draw, Train, Drawings) and wait for it."""
    from playwright.sync_api import expect

    control = page.locator(".st-key-view")
    control.get_by_role("radio", name=name, exact=True).click()
    expect(page).to_have_url(re.compile(rf"view={name}" if name != "Draw" else r"^[^?]*$"))
    wait_idle(page)


def wait_idle(page) -> None:
    """Wait until no script run is going (call after the change you expect has shown)."""
    page.wait_for_selector(IDLE)


def draw(page, strokes: list[np.ndarray]) -> None:
    """Replay strokes (canvas x, y points) as mouse moves with the button down."""
    from playwright.sync_api import expect

    canvas = page.locator(CANVAS)
    # A cleared canvas is a new element; the old one lingers until the rerun ends.
    expect(canvas).to_have_count(1)
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    for stroke in strokes:
        x, y = stroke[0]
        page.mouse.move(box["x"] + x, box["y"] + y)
        page.mouse.down()
        for x, y in stroke[1:]:
            page.mouse.move(box["x"] + x, box["y"] + y)
        page.mouse.up()


def canvas_generation(page) -> int:
    """The number in the canvas's key (canvas-N): the page bumps it to clear the canvas."""
    classes = page.locator("[class*='st-key-canvas-']").first.get_attribute("class")
    return int(next(c for c in classes.split() if c.startswith("st-key-canvas-")).rsplit("-")[-1])


def wait_cleared(page, generation: int) -> None:
    """Wait until the canvas of `generation` has been replaced by the next, empty one."""
    from playwright.sync_api import expect

    expect(page.locator(f".st-key-canvas-{generation + 1} {CANVAS}")).to_have_count(1)
    expect(page.locator(f".st-key-canvas-{generation}")).to_have_count(0)


def clear(page) -> None:
    generation = canvas_generation(page)
    page.get_by_role("button", name="Clear").click()
    wait_cleared(page, generation)


def shape_strokes(shape: str, seed: int = 3) -> list[np.ndarray]:
    """A neatly drawn shape on the page's 280 px canvas."""
    from shapecnn.synth import shape_strokes as strokes_of

    return strokes_of(shape, np.random.default_rng(seed), hand="neat", canvas_size=280)


def metric(scope, label: str):
    """The value element of the metric with this label, inside `scope` (a page or locator)."""
    return scope.locator("[data-testid=stMetric]", has_text=label).locator(
        "[data-testid=stMetricValue]"
    )


def ready_to_save(page, shape: str, seed: int, label: str, split: str) -> None:
    """Draw `shape`, wait for its prediction, and pick the label and split to save it under."""
    from playwright.sync_api import expect

    draw(page, shape_strokes(shape, seed=seed))
    expect(metric(page.get_by_test_id("stMain"), "Prediction")).to_be_visible()
    wait_idle(page)
    page.locator(".st-key-label_choice").click()
    page.get_by_role("option", name=label, exact=True).click()
    page.locator(".st-key-split").get_by_text(split, exact=True).click()
    wait_idle(page)
