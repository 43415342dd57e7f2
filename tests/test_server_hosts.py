"""Who can drive the page: Streamlit, started with the project's config, refuses a WebSocket
whose Host is not one of the page's own names (DNS rebinding, issue 14). A real server and raw
HTTP upgrade requests; no browser."""

from __future__ import annotations

import base64
import os
import socket
import subprocess
import sys
import time
import tomllib
import urllib.request

import pytest

from shapecnn.config import PROJECT_ROOT


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def server(tmp_path, request):
    """`streamlit run` from the project folder (so .streamlit/config.toml applies) on a tiny
    script: the Host check does not depend on the page."""
    script = tmp_path / "hello.py"
    script.write_text("import streamlit as st\nst.write('hello')\n")
    port = free_port()
    flags = ["--server.port", str(port), "--server.headless", "true"]
    flags += getattr(request, "param", [])
    process = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(script), *flags],
        cwd=PROJECT_ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2):
                break
        except OSError:
            time.sleep(0.3)
    else:
        process.kill()
        pytest.fail("streamlit did not start")
    yield port
    process.terminate()
    process.wait(30)


def upgrade(port: int, host: str) -> str:
    """The status line of a WebSocket upgrade with Host and Origin both set to `host`."""
    key = base64.b64encode(os.urandom(16)).decode()
    request = (
        f"GET /_stcore/stream HTTP/1.1\r\nHost: {host}:{port}\r\n"
        f"Origin: http://{host}:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
        "Sec-WebSocket-Protocol: streamlit\r\n\r\n"
    )
    with socket.create_connection(("127.0.0.1", port), timeout=10) as connection:
        connection.sendall(request.encode())
        return connection.recv(256).split(b"\r\n")[0].decode()


def test_the_config_names_this_computer_only():
    from streamlit import config

    assert "server.allowedHosts" in config._config_options_template
    hosts = tomllib.loads((PROJECT_ROOT / ".streamlit" / "config.toml").read_text())["server"][
        "allowedHosts"
    ]
    assert sorted(hosts) == ["127.0.0.1", "::1", "localhost"]


def test_a_websocket_for_another_host_name_is_refused(server):
    assert upgrade(server, "localhost").endswith("101 Switching Protocols")
    assert upgrade(server, "127.0.0.1").endswith("101 Switching Protocols")
    assert upgrade(server, "rebound.example").endswith("403 Forbidden")


@pytest.mark.parametrize(
    "server",
    [["--server.allowedHosts", "localhost", "--server.allowedHosts", "classroom-pc"]],
    indirect=True,
)
def test_the_classroom_command_adds_the_computer_s_own_name(server):
    assert upgrade(server, "classroom-pc").endswith("101 Switching Protocols")
    assert upgrade(server, "localhost").endswith("101 Switching Protocols")
    assert upgrade(server, "rebound.example").endswith("403 Forbidden")
