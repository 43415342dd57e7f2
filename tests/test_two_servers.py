"""Two page servers behind nginx (deploy/serve.py, deploy/nginx.conf), sharing one dataset and one
model: saves through both land once each, one training run at a time across the servers, and the
model trained through one is the one the other predicts with (issue 17.3).

The users speak Streamlit's own WebSocket protocol (benchmarks/bench_load.py's client), each kept
on its server by nginx's cookie: the test finds one cookie per server first.
"""

from __future__ import annotations

import asyncio
import secrets
import shutil
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from deploy.serve import NGINX, serve
from shapecnn.config import DEFAULT_DATA

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
sys.path.insert(0, str(ROOT / "tests" / "browser"))

import bench_load  # noqa: E402

from driver import free_port, lock_is_held, run_in_own_loop  # noqa: E402

pytestmark = pytest.mark.slow
TRAINING_TIMEOUT_S = 60


def upstream_of(url: str, cookie: str) -> str:
    request = urllib.request.Request(
        f"{url}/_stcore/health", headers={"Cookie": f"shapecnn_server={cookie}"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.headers["X-Shapecnn-Upstream"]


def cookie_per_server(url: str, servers: list[str]) -> dict[str, str]:
    """server address -> a cookie that nginx sends to it (and keeps sending to it)."""
    found: dict[str, str] = {}
    for _ in range(200):
        cookie = secrets.token_hex(16)
        found.setdefault("http://" + upstream_of(url, cookie), cookie)
        if len(found) == len(servers):
            break
    assert sorted(found) == sorted(servers), f"nginx used {sorted(found)} of {servers}"
    for server, cookie in found.items():
        assert {upstream_of(url, cookie) for _ in range(5)} == {server[len("http://") :]}
    return found


def answered_by(seen: bench_load.RunSeen) -> str:
    """The line under the prediction that says which model answered."""
    return next((body for body in seen.html if "Model trained" in body or "Starter" in body), "")


async def journey(url: str, cookies: list[str], data: Path, model: Path) -> dict:
    one, two = (
        bench_load.StreamlitSession(url, f"server-{i}", {"Cookie": f"shapecnn_server={cookie}"})
        for i, cookie in enumerate(cookies)
    )
    found: dict = {}
    try:
        # The first page on a fresh dataset trains the first model at once (no click): the first
        # session, on server one, starts it.
        await one.open()
        await one.wait_run(lambda run: "quick-circle" in one.ids, timeout=60)
        await two.open()
        await two.wait_run(lambda run: "quick-circle" in two.ids, timeout=60)
        # One run at a time across the servers: Train on server two while one trains says so.
        if lock_is_held(model):
            two.forget_runs()
            await two.request(two.trigger("train"), "", wait=False)
            try:
                seen = await two.wait_run(
                    lambda run: any("another process" in alert for alert in run.alerts), 20
                )
                found["busy"] = seen.alerts
            except TimeoutError:
                found["busy"] = [a for run in two._runs for a in run.alerts]
        # A save through each server.
        await one.stroke(bench_load.synthetic_payload("circle"))
        found["saved"] = [await one.save("circle")]
        await two.stroke(bench_load.synthetic_payload("triangle"))
        found["saved"].append(await two.save("triangle"))
        # Wait for the model trained through server one.
        deadline = time.monotonic() + TRAINING_TIMEOUT_S
        while (not model.exists() or lock_is_held(model)) and time.monotonic() < deadline:
            await asyncio.sleep(0.5)
        found["model_written"] = model.exists()
        found["stamp"] = model.stat().st_mtime if model.exists() else None
        # Server two predicts with it.
        _seconds, seen = await two.stroke(bench_load.synthetic_payload("rectangle", seed=5))
        found["two_answer"] = answered_by(seen)
        found["two_exceptions"] = two.exceptions + one.exceptions
    finally:
        await one.close()
        await two.close()
    return found


def test_two_servers_share_saves_training_and_the_model(tmp_path):
    assert Path(NGINX).exists(), f"nginx is not installed ({NGINX}); .ci/run installs it"
    data = Path(shutil.copytree(DEFAULT_DATA, tmp_path / "data"))
    model = tmp_path / "models" / "shapes.keras"
    model.parent.mkdir()
    before = {str(p.relative_to(data)) for p in data.glob("*/*/*.png")}
    ports = [free_port(), free_port()]
    with serve(
        data, model, port=free_port(), server_ports=ports, run_dir=tmp_path / "run"
    ) as deployment:
        cookies = cookie_per_server(deployment.url, deployment.servers)
        # Another site may not frame the page, and the metrics stay inside (issue 14).
        with urllib.request.urlopen(deployment.url, timeout=10) as response:
            assert response.headers["X-Frame-Options"] == "DENY"
            assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
        with pytest.raises(urllib.error.HTTPError, match="404"):
            urllib.request.urlopen(f"{deployment.url}/_stcore/metrics", timeout=10)
        found = run_in_own_loop(
            journey(deployment.url, [cookies[s] for s in deployment.servers], data, model)
        )
        logs = {
            log.name: log.read_text(errors="replace")[-2000:]
            for log in (tmp_path / "run" / "logs").iterdir()
        }

    print(found)  # shown with -s, and in the report of a failure
    assert not found["two_exceptions"], found["two_exceptions"]
    if "busy" in found:
        assert any("being trained by another process" in a for a in found["busy"]), found["busy"]
    # Each save landed once, where the page said.
    saved = found["saved"]
    assert None not in saved, f"a save was not acknowledged: {saved}"
    after = {str(p.relative_to(data)) for p in data.glob("*/*/*.png")}
    assert after - before == set(saved), (sorted(after - before), saved)
    # The model trained through server one answers on server two.
    assert found["model_written"], logs
    assert "Model trained" in found["two_answer"], (found["two_answer"], logs)
