"""A classroom on one server: N users drawing at once, saving now and then, one pressing Train.

    python benchmarks/bench_load.py            N = 1, 10, 30, 60 (about 6 min)
    python benchmarks/bench_load.py --quick    a smoke run (N = 1, 3, a few seconds each)

Each simulated user is its own Streamlit session over the real WebSocket protocol, the one
Streamlit's browser client speaks: it opens /_stcore/stream, asks for the first script run
(a BackMsg `rerun_script` with empty widget states), and after that sends what the browser sends
on a pen-up: `rerun_script` for the canvas's fragment with every widget's state, the canvas's
value (a JSON widget state: the strokes and a PNG of the canvas) among them. The canvas payloads
are recorded from real Chromium at the start of the run (a circle, a rectangle, a triangle drawn
on the page) and replayed shifted by a few pixels, so that no two strokes are the same drawing.
A few users of every N above 1 are real Chromium tabs (bench_page's recorder times them). The
server's ForwardMsgs are decoded with Streamlit's own protobuf classes.

A user draws a stroke every 2-3 s (the next one waits for the last one's prediction, as a person
looks before drawing on), saves about one stroke in six with one click on a class button (the
page's "Learn as I save" default is kept: a save retrains unless a run goes on), and user 0
presses Train halfway through. Measured per N, on a fresh server with its own copy of the
starter data and the same trained model:
- stroke to prediction: from sending the stroke's rerun request to the `script_finished` of the
  run that sent the prediction (median, 95th percentile), also for strokes while training ran;
- errors: exceptions shown on the page, strokes unanswered within 30 s, closed connections;
- saves lost: every save the page acknowledged ("Saved to train/circle/x.png" toast) must be one
  file on disk, and the number of files on disk must be the number at the start plus the
  acknowledged saves (must be 0 lost);
- server memory per session (the server's RSS with the N sessions open, minus before, over N)
  and CPU (the server process and its training child, in % of one core, over the measured part).

Loopback only; every loop is bounded by the run's duration, and the run ends by itself.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import io
import json
import os
import random
import re
import shutil
import statistics
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from common import OUT_DIR, ROOT, Figure, Report, md_table

if str(ROOT) not in sys.path:
    sys.path.insert(1, str(ROOT))

NAME = "load"
TITLE = "Load: N users drawing on one server, saving, one training run"

USERS = (1, 10, 30, 60)
QUICK_USERS = (1, 3)
SECONDS, QUICK_SECONDS = 40.0, 6.0
# Users join over this many seconds (a class does not click the link in the same millisecond).
RAMP_SECONDS, QUICK_RAMP_SECONDS = 8.0, 2.0
BROWSER_USERS = 2  # of every N above 1
STROKE_EVERY = (2.0, 3.0)
SAVE_CHANCE = 1 / 6
STROKE_TIMEOUT_S = 30.0
P95_LIMIT_S = 1.0
P95_TARGET_RATIO = 2.0
TARGET_USERS = 30
# The target N again over this many page servers behind nginx (deploy/), on this machine: one
# Streamlit process runs every session's script on one interpreter.
SPREAD_SERVERS = 2
SHIFT_PX = 12
FIRST_ALONE_S = 4.0
# The training child counts as training while it uses more than this share of a core.
TRAINING_CPU = 0.3

ID_PATTERN = re.compile(rb"\$\$ID-[0-9a-f]{32}-[A-Za-z0-9_\-]+")
SAVED_PATTERN = re.compile(r"Saved to (\w+)/([^/]+)/([^ ]+\.png)")


# --- the protocol -----------------------------------------------------------------------------


def context_info(url: str):
    from streamlit.proto.ClientState_pb2 import ContextInfo

    return ContextInfo(
        timezone="UTC", timezone_offset=0, locale="en-US", url=url + "/", color_scheme="light"
    )


def rerun_message(url: str, widgets: dict, fragment_id: str = "", page_hash: str = ""):
    """The BackMsg the browser sends to ask for a (fragment) run with these widget states."""
    from streamlit.proto.BackMsg_pb2 import BackMsg

    message = BackMsg()
    rerun = message.rerun_script
    rerun.context_info.CopyFrom(context_info(url))
    rerun.widget_states.widgets.extend(widgets.values())
    if fragment_id:
        rerun.fragment_id = fragment_id
    if page_hash:
        rerun.page_script_hash = page_hash
    return message


def widget_key(widget_id: str) -> str:
    """'$$ID-<hash>-canvas-0' -> 'canvas-0' (the key the page gave the widget)."""
    return widget_id.split("-", 2)[2]


@dataclass
class RunSeen:
    """What one script run sent: its widgets, fragments, prediction, toasts, errors."""

    ids: dict[str, str] = field(default_factory=dict)  # key -> widget id
    fragments: dict[str, str] = field(default_factory=dict)  # widget key -> fragment id
    prediction: bool = False
    deltas: int = 0
    elements: list[str] = field(default_factory=list)  # the element types, in order
    buttons: dict[str, bool] = field(default_factory=dict)  # label -> disabled
    toasts: list[str] = field(default_factory=list)
    exceptions: list[str] = field(default_factory=list)
    alerts: list[str] = field(default_factory=list)  # st.error, st.info, ... bodies
    html: list[str] = field(default_factory=list)  # st.html bodies


class StreamlitSession:
    """One user of the page over Streamlit's WebSocket protocol (no browser)."""

    def __init__(
        self,
        url: str,
        name: str = "user",
        headers: dict | None = None,
        replay_auto_reruns: bool = True,
    ):
        self.url = url.rstrip("/")
        # False: the fragments' timed reruns are noted (auto_rerun_intervals), not sent; a test
        # sends them itself when its scenario needs them.
        self.replay_auto_reruns = replay_auto_reruns
        self.auto_rerun_intervals: dict[str, float] = {}  # fragment id -> seconds, as asked
        self.name = name
        self.headers = headers or {}
        self.ids: dict[str, str] = {}
        self.fragments: dict[str, str] = {}
        self.page_hash = ""
        self.widgets: dict[str, object] = {}  # widget id -> WidgetState (kept values)
        self.websocket = None
        self.run = RunSeen()
        self.finished = asyncio.Event()
        self.finished_runs = 0
        self.toasts: list[str] = []
        self.exceptions: list[str] = []
        self.auto_reruns: dict[str, asyncio.Task] = {}
        self.sent_fragment: tuple[str, str] = ("", "")
        self.closed = False
        self.messages = 0
        self.bytes_received = 0
        self._reader: asyncio.Task | None = None
        self._runs: list[RunSeen] = []
        self.cut_runs = 0  # runs without their script_finished (see _handle)

    async def open(self) -> None:
        from websockets.asyncio.client import connect

        ws_url = self.url.replace("http://", "ws://") + "/_stcore/stream"
        self.websocket = await connect(
            ws_url,
            subprotocols=["streamlit"],
            origin=self.url,
            max_size=None,
            compression=None,
            open_timeout=60,
            ping_interval=None,
            additional_headers=self.headers,
        )
        self._reader = asyncio.create_task(self._read())
        await self.request({}, "")

    async def close(self) -> None:
        for task in self.auto_reruns.values():
            task.cancel()
        if self.websocket is not None:
            with contextlib.suppress(Exception):
                await self.websocket.close()
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(BaseException):
                await self._reader

    async def request(self, extra_widgets: dict, fragment_id: str, wait: bool = True) -> RunSeen:
        """Ask for a run (with the kept widget states plus `extra_widgets`); returns what the run
        sent once a run that answered it has finished."""
        widgets = {**self.widgets, **extra_widgets}
        message = rerun_message(self.url, widgets, fragment_id, self.page_hash)
        self.finished.clear()
        self._runs = []
        await self.websocket.send(message.SerializeToString())
        if not wait:
            return self.run
        await asyncio.wait_for(self.finished.wait(), STROKE_TIMEOUT_S)
        return self.run

    async def wait_run(self, predicate, timeout: float = STROKE_TIMEOUT_S) -> RunSeen:
        """Wait for a finished run whose RunSeen satisfies `predicate`."""
        deadline = time.monotonic() + timeout
        while True:
            for seen in self._runs:
                if predicate(seen):
                    return seen
            remaining = deadline - time.monotonic()
            if remaining <= 0 or self.closed:
                raise TimeoutError(f"{self.name}: no such run within {timeout:.0f} s")
            self.finished.clear()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self.finished.wait(), remaining)

    def forget_runs(self) -> None:
        self._runs = []

    async def _read(self) -> None:
        from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

        try:
            async for data in self.websocket:
                self.messages += 1
                self.bytes_received += len(data)
                message = ForwardMsg.FromString(data)
                self._handle(message, data)
        except Exception:  # noqa: BLE001 - a closed connection is counted, not raised here
            pass
        finally:
            self.closed = True
            self.finished.set()

    def _handle(self, message, data: bytes) -> None:
        kind = message.WhichOneof("type")
        if kind == "new_session":
            if self.run.deltas:
                # A run whose script_finished Streamlit (1.67) never sent, seen at 30 users
                # (likely a request landing as a run ends: AppSession starts a new script
                # runner and ignores the old one's remaining events). Its deltas were sent and
                # a browser draws them as they come, so it counts as finished here, now.
                self.cut_runs += 1
                self._finish_run()
            self.run = RunSeen()
            self.page_hash = message.new_session.page_script_hash or self.page_hash
            if not message.metadata.run.fragment_ids:
                # A run of the whole page: the browser drops every fragment's timer here
                # (cleanupAutoReruns in Streamlit's frontend); the run sets up those it still
                # wants again.
                self._stop_auto_reruns()
        elif kind == "delta":
            self._handle_delta(message, data)
        elif kind == "auto_rerun":
            self._start_auto_rerun(message.auto_rerun.fragment_id, message.auto_rerun.interval)
        elif kind == "stop_auto_rerun":
            self._stop_auto_reruns(message.stop_auto_rerun.fragment_ids)
        elif kind == "script_finished":
            self.finished_runs += 1
            self._finish_run()
            self.run = RunSeen()

    def _stop_auto_reruns(self, fragment_ids=None) -> None:
        """Stop the timed reruns of these fragments (all of them if None)."""
        for fragment_id in list(self.auto_reruns if fragment_ids is None else fragment_ids):
            task = self.auto_reruns.pop(fragment_id, None)
            if task is not None:
                task.cancel()
            self.auto_rerun_intervals.pop(fragment_id, None)

    def _finish_run(self) -> None:
        self.ids.update(self.run.ids)
        self.fragments.update(self.run.fragments)
        self._runs.append(self.run)
        self.finished.set()

    def _handle_delta(self, message, data: bytes) -> None:
        delta = message.delta
        self.run.deltas += 1
        for match in ID_PATTERN.finditer(data):
            # A protobuf string: its length is the byte before it (ids are < 128 bytes).
            length = data[match.start() - 1] if match.start() else len(match.group())
            widget_id = data[match.start() : match.start() + length].decode(errors="replace")
            key = widget_key(widget_id)
            self.run.ids[key] = widget_id
            if delta.fragment_id:
                self.run.fragments[key] = delta.fragment_id
        element = None
        if delta.HasField("new_element"):
            element = delta.new_element
        elif delta.HasField("new_transient"):
            elements = list(delta.new_transient.elements)
            element = elements[-1] if elements else None
        if element is None:
            return
        which = element.WhichOneof("type")
        self.run.elements.append(which)
        if which == "metric" and element.metric.label == "Prediction":
            self.run.prediction = True
        elif which == "button":
            self.run.buttons[element.button.label] = element.button.disabled
        elif which == "toast":
            self.run.toasts.append(element.toast.body)
            self.toasts.append(element.toast.body)
        elif which == "alert":
            self.run.alerts.append(element.alert.body)
        elif which == "html":
            self.run.html.append(element.html.body)
        elif which == "exception":
            text = f"{element.exception.type}: {element.exception.message}"
            self.run.exceptions.append(text)
            self.exceptions.append(text)

    def _start_auto_rerun(self, fragment_id: str, interval: float) -> None:
        """As the browser does: ask for the fragment every `interval` seconds until told to stop
        or until a run of the whole page begins (which sets up its fragments again)."""
        old = self.auto_reruns.pop(fragment_id, None)
        if old is not None:
            old.cancel()
        self.auto_rerun_intervals[fragment_id] = interval
        if not self.replay_auto_reruns:
            return

        async def rerun_every() -> None:
            while not self.closed:
                await asyncio.sleep(interval)
                message = rerun_message(self.url, self.widgets, fragment_id, self.page_hash)
                message.rerun_script.is_auto_rerun = True
                with contextlib.suppress(Exception):
                    await self.websocket.send(message.SerializeToString())

        self.auto_reruns[fragment_id] = asyncio.create_task(rerun_every())

    def widget_id(self, key: str) -> str:
        return self.ids[key]

    def canvas_key(self) -> str:
        keys = [k for k in self.ids if re.fullmatch(r"canvas-\d+", k)]
        return max(keys, key=lambda k: int(k.rsplit("-", 1)[1]))

    def trigger(self, key: str):
        from streamlit.proto.WidgetStates_pb2 import WidgetState

        return {self.ids[key]: WidgetState(id=self.ids[key], trigger_value=True)}

    def canvas_state(self, payload: str):
        from streamlit.proto.WidgetStates_pb2 import WidgetState

        widget_id = self.ids[self.canvas_key()]
        return {widget_id: WidgetState(id=widget_id, json_value=payload)}

    async def stroke(self, payload: str) -> tuple[float, RunSeen]:
        """Send a stroke as the canvas does on pen-up; seconds to the run that predicted it."""
        key = self.canvas_key()
        started = time.perf_counter()
        self.forget_runs()
        # What the stroke asked for, for an unanswered stroke's error line.
        self.sent_fragment = (key, self.fragments.get(key, ""))
        # The canvas keeps its value from pen-up on, as the browser's widget manager does: every
        # request after this one (the status fragment's timed reruns included) carries it.
        # Streamlit folds a request that arrives while one is pending into it, the newer
        # request's widget states winning, so a timed rerun that still carried the old canvas
        # value would undo the stroke.
        self.widgets.update(self.canvas_state(payload))
        await self.request({}, self.fragments.get(key, ""), wait=False)
        seen = await self.wait_run(lambda run: run.prediction or run.exceptions)
        return time.perf_counter() - started, seen

    async def click(self, key: str) -> RunSeen:
        """Press a button (a trigger, sent once, with the fragment it belongs to)."""
        self.forget_runs()
        await self.request(self.trigger(key), self.fragments.get(key, ""), wait=False)
        return await self.wait_run(lambda run: True)

    async def save(self, label: str) -> str | None:
        """One click on the class's button; the saved file's relative path as the toast says,
        or None if the page did not acknowledge it."""
        self.forget_runs()
        key = f"quick-{label}"
        await self.request(self.trigger(key), self.fragments.get(key, ""), wait=False)
        # The save reruns the whole page; its toast comes with the run after it.
        seen = await self.wait_run(lambda run: any("Saved to" in t for t in run.toasts))
        self.widgets = {k: v for k, v in self.widgets.items() if "-canvas-" not in k}
        for toast in seen.toasts:
            found = SAVED_PATTERN.search(toast)
            if found:
                return "/".join(found.groups())
        return None


# --- canvas payloads recorded from the real page -------------------------------------------------


def record_payloads(url: str, d) -> list[str]:
    """Draw a circle, a rectangle and a triangle on the real page in Chromium and keep the
    canvas's widget value each pen-up sent (strokes and PNG, as the component makes them)."""
    import bench_page
    from playwright.sync_api import sync_playwright
    from streamlit.proto.BackMsg_pb2 import BackMsg

    payloads = []
    with sync_playwright() as playwright:
        browser = d.launch_chromium(playwright)
        page = bench_page.open_tab(browser, url, d)
        for shape in ("circle", "rectangle", "triangle"):
            page.evaluate(bench_page.RESET)
            d.draw(page, d.shape_strokes(shape))
            page.wait_for_function("window.__bench.sent.length > 0")
            d.wait_idle(page)
            for _sent_at, data in page.evaluate("window.__bench.sent"):
                message = BackMsg.FromString(base64.b64decode(data))
                for widget in message.rerun_script.widget_states.widgets:
                    if "-canvas-" in widget.id and widget.HasField("json_value"):
                        payloads.append(widget.json_value)
            d.clear(page)
        browser.close()
    if len(payloads) < 3:
        raise RuntimeError(f"recorded {len(payloads)} canvas payloads, expected 3")
    return payloads[-3:] if len(payloads) == 3 else payloads[:: max(1, len(payloads) // 3)][:3]


def shifted(payload: str, dx: int, dy: int) -> str:
    """The same drawing moved by (dx, dy) pixels: its strokes and its PNG."""
    from PIL import Image

    value = json.loads(payload)
    drawing = value["drawing"]
    for item in drawing["raw"]["objects"]:
        item["left"] += dx
        item["top"] += dy
        for command in item.get("path", []):
            for i in range(1, len(command), 2):
                command[i] += dx
                command[i + 1] += dy
    header, encoded = drawing["data"].split(",", 1)
    image = Image.open(io.BytesIO(base64.b64decode(encoded))).convert("RGBA")
    moved = Image.new("RGBA", image.size, (255, 255, 255, 255))
    scale = image.size[0] / 280  # the PNG is drawn at the device's pixel ratio
    moved.paste(image, (round(dx * scale), round(dy * scale)))
    buffer = io.BytesIO()
    moved.save(buffer, format="PNG")
    drawing["data"] = f"{header},{base64.b64encode(buffer.getvalue()).decode()}"
    return json.dumps(value)


def synthetic_payload(shape: str, seed: int = 3) -> str:
    """A canvas value made here (no browser): a neat `shape` as one Fabric path and its PNG, in
    the component's format (what record_payloads gets from Chromium, fewer object fields)."""
    from PIL import Image, ImageDraw

    from shapecnn.synth import shape_strokes

    strokes = shape_strokes(shape, np.random.default_rng(seed), hand="neat", canvas_size=280)
    image = Image.new("RGBA", (280, 280), (255, 255, 255, 255))
    pen = ImageDraw.Draw(image)
    objects = []
    for stroke in strokes:
        points = [(float(x), float(y)) for x, y in stroke]
        pen.line(points, fill=(0, 0, 0, 255), width=8, joint="curve")
        path = [["M", *points[0]], *(["L", *point] for point in points[1:])]
        objects.append({"type": "Path", "stroke": "#000000", "strokeWidth": 8, "path": path})
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    data = "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()
    raw = {"version": "7.4.0", "objects": objects, "background": "#FFFFFF"}
    return json.dumps({"drawing": {"raw": raw, "data": data}})


def payload_pool(recorded: list[str], count: int, seed: int = 7) -> list[tuple[str, str]]:
    """(label, payload) variations of the recorded drawings."""
    rng = random.Random(seed)
    labels = ("circle", "rectangle", "triangle")
    pool = []
    for i in range(count):
        which = i % len(recorded)
        dx, dy = rng.randint(-SHIFT_PX, SHIFT_PX), rng.randint(-SHIFT_PX, SHIFT_PX)
        pool.append((labels[which], shifted(recorded[which], dx, dy)))
    return pool


# --- the server, measured from outside -----------------------------------------------------------


def proc_stat(pid: int) -> tuple[float, int]:
    """(CPU seconds used, RSS bytes) of one process."""
    import os

    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        ticks = os.sysconf("SC_CLK_TCK")
        cpu = (int(fields[11]) + int(fields[12])) / ticks
        rss = int(fields[21]) * os.sysconf("SC_PAGE_SIZE")
        return cpu, rss
    except (OSError, IndexError, ValueError):
        return 0.0, 0


def machine_busy() -> float:
    """CPU seconds every core of this machine has spent busy since boot (/proc/stat)."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        with contextlib.suppress(OSError):
            found += [int(p) for p in (task / "children").read_text().split()]
    return found


class Monitor(threading.Thread):
    """Samples the server and its children (the training process) every 0.25 s."""

    def __init__(self, pids: list[int]):
        super().__init__(daemon=True)
        self.pids = pids  # the page servers (one, or each behind nginx)
        self.samples: list[tuple[float, float, int, float, int, float, float]] = []
        self.stop = threading.Event()

    def sample(self) -> tuple[float, float, int, float, int, float, float]:
        """(time, servers' CPU seconds, servers' RSS, training children's CPU, their RSS, this
        process's CPU seconds, the whole machine's busy CPU seconds)"""
        cpu, rss, child_cpu, child_rss = 0.0, 0, 0.0, 0
        for pid in self.pids:
            c, r = proc_stat(pid)
            cpu, rss = cpu + c, rss + r
            for child in children(pid):
                c, r = proc_stat(child)
                child_cpu, child_rss = child_cpu + c, child_rss + r
        return (
            time.perf_counter(),
            cpu,
            rss,
            child_cpu,
            child_rss,
            time.process_time(),
            machine_busy(),
        )

    def run(self) -> None:
        while not self.stop.wait(0.25):
            self.samples.append(self.sample())

    def training_windows(self) -> list[tuple[float, float]]:
        """Times (perf_counter) when the training child used more than TRAINING_CPU of a core."""
        windows = []
        for before, after in zip(self.samples, self.samples[1:], strict=False):
            share = (after[3] - before[3]) / max(1e-6, after[0] - before[0])
            if share > TRAINING_CPU:
                windows.append((before[0], after[0]))
        return windows


def training_at(windows: list[tuple[float, float]], start: float, end: float) -> bool:
    return any(a < end and b > start for a, b in windows)


# --- users --------------------------------------------------------------------------------------


@dataclass
class Outcome:
    strokes: list[tuple[float, float, str]] = field(default_factory=list)  # (sent, seconds, who)
    errors: list[str] = field(default_factory=list)
    saves_asked: int = 0
    saves_acknowledged: list[str] = field(default_factory=list)
    trains: int = 0
    messages: int = 0
    bytes_received: int = 0
    cut_runs: int = 0


def unanswered_detail(session: StreamlitSession) -> str:
    """What the runs after an unanswered stroke showed instead of a prediction."""
    runs = session._runs
    if not runs:
        return " (no run finished after it)"
    shown = [text[:160] for run in runs for text in run.alerts][:2] or "nothing"
    key, sent = session.sent_fragment
    ran = [run for run in runs if sent in run.fragments.values()]
    drew = f" and drew {', '.join(ran[0].elements) or 'nothing'}" if ran else ""
    still = "the page still has it" if session.fragments.get(key) == sent else "since replaced"
    return (
        f" ({len(runs)} runs finished without a prediction; {key}'s fragment {sent[:8]} "
        f"({still}) {'ran' + drew if ran else 'did not run'}; shown: {shown})"
    )


async def protocol_user(
    index: int, url: str, pool, start_at: float, end_at: float, train_at, outcome: Outcome, rng
):
    await asyncio.sleep(max(0.0, start_at - time.perf_counter()))
    session = StreamlitSession(url, f"user-{index}")
    try:
        await session.open()
        await session.wait_run(lambda run: "quick-circle" in session.ids, timeout=60)
    except Exception as error:  # noqa: BLE001 - counted
        outcome.errors.append(f"user {index}: first run: {type(error).__name__}: {error}")
        await session.close()
        return
    try:
        count = 0
        while time.perf_counter() < end_at and not session.closed:
            label, payload = pool[(index * 7 + count) % len(pool)]
            count += 1
            sent = time.perf_counter()
            try:
                seconds, seen = await session.stroke(payload)
                if seen.exceptions:
                    outcome.errors.append(f"user {index}: {seen.exceptions[0][:200]}")
                else:
                    outcome.strokes.append((sent, seconds, "protocol"))
            except TimeoutError:
                outcome.errors.append(
                    f"user {index}: stroke unanswered in {STROKE_TIMEOUT_S} s"
                    + unanswered_detail(session)
                )
                continue
            if train_at is not None and time.perf_counter() >= train_at:
                train_at = None
                with contextlib.suppress(TimeoutError):
                    await session.click("train")
                    outcome.trains += 1
            elif rng.random() < SAVE_CHANCE and time.perf_counter() < end_at - 3:
                outcome.saves_asked += 1
                try:
                    saved = await session.save(label)
                except TimeoutError:
                    saved = None
                if saved is None:
                    outcome.errors.append(f"user {index}: save not acknowledged")
                else:
                    outcome.saves_acknowledged.append(saved)
            wait = rng.uniform(*STROKE_EVERY) - (time.perf_counter() - sent)
            await asyncio.sleep(max(0.0, min(wait, end_at - time.perf_counter())))
        if session.closed:
            outcome.errors.append(f"user {index}: connection closed")
    finally:
        outcome.messages += session.messages
        outcome.bytes_received += session.bytes_received
        outcome.cut_runs += session.cut_runs
        await session.close()


def browser_users(url: str, count: int, start_at: float, end_at: float, outcome: Outcome, d):
    """`count` Chromium tabs drawing in turn (a thread: Playwright's sync API)."""
    import bench_page
    from playwright.sync_api import sync_playwright

    if count == 0:
        return
    rng = np.random.default_rng(11)
    strokes = bench_page.strokes_to_draw(400)
    time.sleep(max(0.0, start_at - time.perf_counter()))
    with sync_playwright() as playwright:
        browser = d.launch_chromium(playwright)
        try:
            tabs = [bench_page.open_tab(browser, url, d) for _ in range(count)]
            number = 0
            while time.perf_counter() < end_at - 3:
                tab = tabs[number % count]
                stroke = strokes[number % len(strokes)]
                number += 1
                if number % 8 == 0:
                    with contextlib.suppress(Exception):
                        d.clear(tab)
                sent = time.perf_counter()
                try:
                    measured = bench_page.time_stroke(tab, stroke, d)
                    outcome.strokes.append((sent, measured["latency"] / 1000, "browser"))
                except Exception as error:  # noqa: BLE001 - counted
                    outcome.errors.append(f"browser: {type(error).__name__}: {str(error)[:200]}")
                pause = rng.uniform(*STROKE_EVERY) / count - (time.perf_counter() - sent)
                time.sleep(max(0.0, pause))
        finally:
            browser.close()


def files_on_disk(data: Path) -> set[str]:
    return {str(p.relative_to(data)) for p in data.glob("*/*/*.png")}


@contextlib.contextmanager
def page_servers(data: Path, model: Path, log: Path, script: Path, servers: int, folder, d):
    """(URL, the page servers' pids): `streamlit run script`, or `servers` of app.py behind
    nginx started as deploy/serve.py starts them (each user keeps the server nginx's cookie
    key chose for its WebSocket)."""
    if servers == 1:
        with d.streamlit_server(data, model, log, script=script) as url:
            yield url, [url.pid]
        return
    from deploy.serve import serve

    run_dir = folder / f"{log.stem}-{servers}-servers"
    ports = [d.free_port() for _ in range(servers)]
    with serve(data, model, port=d.free_port(), server_ports=ports, run_dir=run_dir) as found:
        yield found.url, found.pids


def run_users(
    n: int,
    data: Path,
    model: Path,
    folder: Path,
    seconds: float,
    ramp: float,
    pool,
    d,
    script: Path | None = None,
    servers: int = 1,
    browsers: int = BROWSER_USERS,
) -> dict:
    """One fresh server (of `script`, by default app.py), `n` users for `seconds` after they
    joined; what was measured. With `servers` > 1: that many page servers of app.py behind
    nginx (deploy/serve.py, deploy/nginx.conf), on this machine, sharing `data` and `model`."""
    before_files = files_on_disk(data)
    browsers = min(browsers, n - 1) if n > 1 else 0
    protocols = n - browsers
    outcome = Outcome()
    script = script or d.PROJECT / "app.py"
    log = folder / f"server-{n}-{script.parent.name}.log"
    with page_servers(data, model, log, script, servers, folder, d) as (url, pids):
        monitor = Monitor(pids)
        # The server with no session yet, and the training process it starts when warmed.
        base = monitor.sample()
        monitor.start()
        now = time.perf_counter()
        # User 0 first, alone for FIRST_ALONE_S (the server's RSS with one session), then the
        # others over `ramp` seconds.
        starts = [now] + [now + FIRST_ALONE_S + ramp * i / n for i in range(n - 1)]
        steady = now + FIRST_ALONE_S + ramp + 2
        end_at = steady + seconds
        train_at = steady + seconds / 2
        browser_thread = threading.Thread(
            target=browser_users,
            args=(url, browsers, starts[-1], end_at, outcome, d),
            daemon=True,
        )
        browser_thread.start()

        async def everyone():
            rngs = [random.Random(100 + i) for i in range(protocols)]
            await asyncio.gather(
                *(
                    protocol_user(
                        i,
                        url,
                        pool,
                        starts[i],
                        end_at,
                        train_at if i == 0 else None,
                        outcome,
                        rngs[i],
                    )
                    for i in range(protocols)
                )
            )

        asyncio.run(everyone())
        browser_thread.join(STROKE_TIMEOUT_S + 30)
        monitor.stop.set()
        monitor.join()
        # Let a training run started by the last saves finish writing (nothing is lost by it).
        time.sleep(1.0)
    samples = [s for s in monitor.samples if s[0] >= steady]
    # The first session loads the model and the runtime: what one more session costs is
    # measured from the server with the first user's page shown.
    alone = [s for s in monitor.samples if s[0] < now + FIRST_ALONE_S]
    one = alone[-1] if alone else base
    first, last = (samples[0], samples[-1]) if len(samples) > 1 else (base, base)
    wall = max(1e-6, last[0] - first[0])
    peak_rss = max((s[2] for s in samples), default=base[2])
    windows = monitor.training_windows()
    measured = [(sent, s, who) for sent, s, who in outcome.strokes if sent >= steady]
    after_files = files_on_disk(data)
    new_files = after_files - before_files
    acknowledged = outcome.saves_acknowledged
    missing = [p for p in acknowledged if p not in after_files]
    lost = len(missing) + max(0, len(acknowledged) - len(new_files))
    return {
        "n": n,
        "servers": servers,
        "browsers": browsers,
        # Over the protocol (the server's part, no browser drawing): the headline figures.
        "strokes": [s for _sent, s, who in measured if who == "protocol"],
        "browser_strokes": [s for _sent, s, who in measured if who == "browser"],
        "training_strokes": [
            s
            for sent, s, who in measured
            if who == "protocol" and training_at(windows, sent, sent + s)
        ],
        "quiet_strokes": [
            s
            for sent, s, who in measured
            if who == "protocol" and not training_at(windows, sent, sent + s)
        ],
        # This process's own share of a core (the protocol users' client work competes with
        # the server for the same two cores) and the whole machine's: the rest is Chromium's
        # tabs, nginx and whatever else runs.
        "generator_cpu": (last[5] - first[5]) / wall,
        "machine_cpu": (last[6] - first[6]) / wall,
        "errors": outcome.errors,
        "saves_asked": outcome.saves_asked,
        "saves_acknowledged": len(acknowledged),
        "files_new": len(new_files),
        "saves_lost": lost,
        "trains": outcome.trains,
        "training_seconds": sum(b - a for a, b in windows),
        "rss_base": base[2],
        "rss_one": one[2],
        "rss_per_session": (peak_rss - one[2]) / max(1, n - 1),
        "rss_peak": peak_rss,
        "child_rss": max((s[4] for s in samples), default=0),
        "server_cpu": (last[1] - first[1]) / wall,
        "child_cpu": (last[3] - first[3]) / wall,
        "bytes_per_stroke": outcome.bytes_received / max(1, len(outcome.strokes)),
        "messages_per_stroke": outcome.messages / max(1, len(outcome.strokes)),
        "cut_runs": outcome.cut_runs,
    }


# --- the report ---------------------------------------------------------------------------------


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def pct(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else float("nan")


def ms(value: float) -> str:
    return "-" if value != value else f"{value * 1000:.0f} ms"


def prepare(folder: Path, quick: bool, d) -> tuple[Path, Path, list]:
    """A trained model on the starter data, and the recorded canvas payloads."""
    import bench_page

    from shapecnn.config import DEFAULT_DATA

    starter = Path(shutil.copytree(DEFAULT_DATA, folder / "starter"))
    model = bench_page.train_model(starter, folder / "model.keras", quick)
    with d.streamlit_server(starter, model, folder / "record.log") as url:
        recorded = record_payloads(url, d)
    return starter, model, payload_pool(recorded, 60)


def run(
    quick: bool = False,
    users: tuple[int, ...] | None = None,
    servers: int = 1,
    browsers: int = BROWSER_USERS,
) -> Report:
    """Each N of `users` (by default USERS, and the target N again over SPREAD_SERVERS page
    servers behind nginx) on `servers` page servers, `browsers` of every N above 1 in
    Chromium."""
    import bench_page

    d = bench_page.driver()
    if users:
        runs = [(n, servers) for n in users]
    else:
        runs = [(n, 1) for n in (QUICK_USERS if quick else USERS)]
        runs.append((QUICK_USERS[-1] if quick else TARGET_USERS, SPREAD_SERVERS))
        users = tuple(n for n, _k in runs)
    seconds = QUICK_SECONDS if quick else SECONDS
    ramp = QUICK_RAMP_SECONDS if quick else RAMP_SECONDS
    report = Report(NAME, TITLE, quick=quick)
    results = []
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        starter, model, pool = prepare(folder, quick, d)
        for n, k in runs:
            data = Path(shutil.copytree(starter, folder / f"data-{n}-{k}"))
            model_n = folder / f"model-{n}-{k}.keras"
            shutil.copy(model, model_n)
            where = f"{n} users" + (f" over {k} servers" if k > 1 else "")
            print(f"   {where} ...", flush=True)
            result = run_users(
                n, data, model_n, folder, seconds, ramp, pool, d, servers=k, browsers=browsers
            )
            results.append(result)
            print(
                f"   {where}: median {ms(statistics.median(result['strokes']))}, "
                f"p95 {ms(pct(result['strokes'], 95))}, {len(result['errors'])} errors, "
                f"{result['saves_lost']} saves lost",
                flush=True,
            )
        OUT_DIR.mkdir(exist_ok=True)
        (OUT_DIR / "load.json").write_text(json.dumps(results, indent=1, default=str))
    report.figures, report.details = figures(results, users, seconds)
    return report


def export_revision(revision: str, folder: Path) -> Path:
    """The project as it was at `revision` (git archive), with today's shape base (not in git):
    its app.py, served beside today's in the same run, is the reference for a page change."""
    import subprocess
    import tarfile

    target = folder / f"rev-{revision[:12]}"
    target.mkdir()
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", "--format=tar", revision],
        check=True,
        capture_output=True,
    ).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(target, filter="data")
    base = ROOT / "shapecnn" / "base"
    if base.exists():
        shutil.copytree(base, target / "shapecnn" / "base", dirs_exist_ok=True)
    return target / "app.py"


def compare(
    revision: str, n: int, rounds: int, quick: bool, browsers: int = BROWSER_USERS
) -> list[str]:
    """`n` users on the page at `revision` and on today's, in turn, `rounds` times each."""
    import bench_page

    d = bench_page.driver()
    seconds = QUICK_SECONDS if quick else SECONDS
    ramp = QUICK_RAMP_SECONDS if quick else RAMP_SECONDS
    rows = []
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        starter, model, pool = prepare(folder, quick, d)
        scripts = {revision[:12]: export_revision(revision, folder), "now": d.PROJECT / "app.py"}
        for number in range(rounds):
            for name, script in scripts.items():
                data = Path(shutil.copytree(starter, folder / f"data-{name}-{number}"))
                model_n = folder / f"model-{name}-{number}.keras"
                shutil.copy(model, model_n)
                r = run_users(
                    n, data, model_n, folder, seconds, ramp, pool, d, script, browsers=browsers
                )
                rows.append(
                    [
                        name,
                        str(number + 1),
                        str(len(r["strokes"])),
                        ms(median(r["strokes"])),
                        ms(pct(r["strokes"], 95)),
                        ms(median(r["training_strokes"]))
                        + f" / {ms(pct(r['training_strokes'], 95))}",
                        str(len(r["errors"])),
                        str(r["saves_lost"]),
                        f"{r['rss_per_session'] / 2**20:.1f} MB",
                        f"{r['server_cpu']:.0%} + {r['child_cpu']:.0%} + "
                        f"{r['generator_cpu']:.0%}; machine {r['machine_cpu']:.0%}",
                        f"{r['bytes_per_stroke'] / 1024:.1f} kB",
                        f"{r['messages_per_stroke']:.1f}",
                    ]
                )
                print(" | ".join(rows[-1]), flush=True)
    return md_table(
        [
            "page",
            "round",
            "strokes",
            "median",
            "p95",
            "while training median / p95",
            "errors",
            "saves lost",
            "RSS per more session",
            "CPU server + training + load generator",
            "received per stroke",
            "messages per stroke",
        ],
        rows,
    )


def figures(results: list[dict], users, seconds: float) -> tuple[list, list]:
    one_server = [r for r in results if r.get("servers", 1) == 1]
    spread = [r for r in results if r.get("servers", 1) > 1]
    by_n = {r["n"]: r for r in one_server}
    single = by_n.get(users[0]) or results[0]
    single_median = statistics.median(single["strokes"]) if single["strokes"] else float("nan")
    rows = []
    for r in results:
        strokes = r["strokes"]
        rows.append(
            [
                str(r["n"])
                + (f" over {r['servers']} servers" if r.get("servers", 1) > 1 else "")
                + (f" ({r['browsers']} in Chromium)" if r["browsers"] else ""),
                str(len(strokes)),
                ms(statistics.median(strokes) if strokes else float("nan")),
                ms(pct(strokes, 95)),
                ms(median(r["training_strokes"]))
                + f" / {ms(pct(r['training_strokes'], 95))} ({len(r['training_strokes'])})",
                ms(median(r.get("quiet_strokes", [])))
                + f" / {ms(pct(r.get('quiet_strokes', []), 95))}",
                ms(median(r["browser_strokes"])),
                str(len(r["errors"])),
                str(r.get("cut_runs", "-")),
                f"{r['saves_acknowledged']}/{r['saves_asked']}, {r['files_new']} files, "
                f"{r['saves_lost']} lost",
                f"{r['training_seconds']:.0f} s",
                f"{r['rss_base'] / 2**20:.0f} / {r['rss_one'] / 2**20:.0f} / "
                f"{r['rss_peak'] / 2**20:.0f} MB"
                + (f", {r['rss_per_session'] / 2**20:.1f} MB" if r["n"] > 1 else ""),
                f"{r['server_cpu']:.0%} + {r['child_cpu']:.0%}"
                + (f" + {r['generator_cpu']:.0%}" if "generator_cpu" in r else "")
                + (f"; machine {r['machine_cpu']:.0%}" if "machine_cpu" in r else ""),
                f"{r['bytes_per_stroke'] / 1024:.1f} kB",
            ]
        )
    passes = [r["n"] for r in one_server if r["strokes"] and pct(r["strokes"], 95) > P95_LIMIT_S]
    figures = []
    target = [by_n.get(TARGET_USERS) or one_server[-1]] if one_server else []
    for r in [*target, *spread]:
        p95 = pct(r["strokes"], 95)
        where = f" over {r['servers']} servers (nginx, this machine)" if r in spread else ""
        figures.append(
            Figure(
                f"p95 stroke to prediction, {r['n']} users{where}",
                ms(p95),
                f"1 user, median: {ms(single_median)}",
                p95 / single_median if single_median == single_median else None,
                f"<= {P95_TARGET_RATIO:.0f}x",
                p95 / single_median <= P95_TARGET_RATIO,
            )
        )
    lost = sum(r["saves_lost"] for r in results)
    figures.append(
        Figure(
            "saves lost, every N",
            str(lost),
            f"{sum(r['saves_acknowledged'] for r in results)} acknowledged",
            None,
            "0",
            lost == 0,
        )
    )
    figures.append(
        Figure(
            f"users where p95 passes {P95_LIMIT_S:.0f} s",
            str(passes[0]) if passes else f"> {(one_server or results)[-1]['n']}",
            "",
            None,
            "",
            None,
        )
    )
    details = [
        f"Each N on a fresh server (starter data copy, the same trained model); users join over "
        f"{RAMP_SECONDS:.0f} s, then {seconds:.0f} s are measured. A user strokes every "
        f"{STROKE_EVERY[0]:.0f}-{STROKE_EVERY[1]:.0f} s (after the last prediction came), saves "
        f"one stroke in {round(1 / SAVE_CHANCE)} with one click (Learn as I save on, the "
        "page's default), user 0 presses Train halfway. Times (median, p95, while training): "
        "the protocol users', from sending the stroke's rerun request to the script_finished "
        "of the run that predicted it: the server's part (a run whose script_finished "
        "Streamlit never sent, its own column, ends at the next run's start: its deltas "
        "were sent and a browser draws them as they come). The Chromium users' (their own "
        "column) are from mouse-up to the frame drawn after the prediction: the browser's "
        "drawing on this loaded 2-core machine adds ~250 ms. 'While training': strokes "
        f"during which the training process used more than {TRAINING_CPU:.0%} of a core. "
        "Memory: server RSS before any session, after the first user's page (the model and "
        "runtime loaded), "
        "the peak with N sessions, and (peak - one) / (N - 1) per more session. "
        "CPU: server + training process + this benchmark's own process (the protocol users' "
        "client work, on the same cores), share of one core (2 cores in all); 'machine': every "
        "process's, from /proc/stat (the rest is Chromium's tabs, nginx and anything else). "
        "Over several "
        "servers (deploy/serve.py: nginx and the page servers on this machine, each with "
        "its own training process): memory and CPU are the servers' sums, and the second "
        "server's first session loads its own model and runtime.",
        "",
        *md_table(
            [
                "users",
                "strokes",
                "median",
                "p95",
                "while training: median / p95 (strokes)",
                "no training: median / p95",
                "Chromium median",
                "errors",
                "runs without script_finished",
                "saves ack/asked, new files, lost",
                "training",
                "server RSS: none / 1 / N sessions, per more session",
                "CPU server + training + load generator",
                "received per stroke",
            ],
            rows,
        ),
    ]
    errors = [e for r in results for e in r["errors"]]
    if errors:
        details += ["", "First errors:", "", *(f"- {e}" for e in errors[:8])]
    return figures, details


def report_from_json(path: Path, seconds: float = SECONDS) -> Report:
    """The report of a run saved in benchmarks/out/load.json, rendered again."""
    results = json.loads(path.read_text())
    report = Report(NAME, TITLE)
    report.figures, report.details = figures(results, tuple(r["n"] for r in results), seconds)
    return report


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--users", type=int, nargs="+", help="run these N only (no RESULTS.md)")
    parser.add_argument(
        "--compare",
        metavar="REV",
        help="serve the page at git revision REV and today's in turn, --users N (one), "
        "--rounds times; prints a table (a page change measured in one run)",
    )
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument(
        "--browsers",
        type=int,
        default=BROWSER_USERS,
        help=f"with --users: of every N above 1, this many in Chromium (default {BROWSER_USERS})",
    )
    parser.add_argument(
        "--servers",
        type=int,
        default=1,
        help="with --users: that many page servers behind nginx (deploy/serve.py), this machine",
    )
    args = parser.parse_args(argv)
    if args.servers < 1:
        parser.error(f"--servers must be 1 or more, not {args.servers}")
    if args.browsers < 0:
        parser.error(f"--browsers must be 0 or more, not {args.browsers}")
    if args.compare:
        n = args.users[0] if args.users else TARGET_USERS
        print("\n".join(compare(args.compare, n, args.rounds, args.quick, args.browsers)))
        return 0
    if args.users:
        report = run(
            quick=args.quick, users=tuple(args.users), servers=args.servers, browsers=args.browsers
        )
        for figure in report.figures:
            print(figure.name, figure.measured, figure.reference, figure.result)
        print("\n".join(report.details))
        return 0
    import run as runner

    return runner.main(["--only", NAME, *(["--quick"] if args.quick else [])])


if __name__ == "__main__":
    sys.exit(main())
