"""How the page is served: this computer only by default, XSRF protection on, uploads limited."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import time
import tomllib
import urllib.error
import urllib.request

import pytest

from shapecnn import dataset
from shapecnn.config import PROJECT_ROOT

CONFIG = PROJECT_ROOT / ".streamlit" / "config.toml"
README = PROJECT_ROOT / "README.md"


def test_page_serves_this_computer_only_with_xsrf_protection_on():
    config = tomllib.loads(CONFIG.read_text())
    server = config["server"]
    assert server["address"] in ("localhost", "127.0.0.1")
    assert server["enableXsrfProtection"] is True
    assert server.get("enableCORS", True) is True  # no other site may read the page's answers
    assert config["browser"]["gatherUsageStats"] is False


def test_streamlit_reads_the_same_settings_from_the_project_folder(monkeypatch):
    from streamlit import config as streamlit_config

    monkeypatch.chdir(PROJECT_ROOT)
    streamlit_config.get_config_options(force_reparse=True)
    try:
        assert streamlit_config.get_option("server.address") == "localhost"
        assert streamlit_config.get_option("server.enableXsrfProtection") is True
        assert streamlit_config.get_option("server.maxUploadSize") * 1024 * 1024 == (
            dataset.MAX_UPLOAD_BYTES
        )
    finally:
        monkeypatch.undo()
        streamlit_config.get_config_options(force_reparse=True)


def test_readme_says_how_to_serve_a_classroom_and_what_that_allows():
    text = README.read_text()
    section = text.split("## Serving to a classroom", 1)[1].split("\n## ", 1)[0]
    assert "--server.address 0.0.0.0" in section
    assert re.search(r"anyone on the network can", section, re.IGNORECASE)
    assert "localhost" in section
    assert text.index("## Serving to a classroom") < text.index("## Command line")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _network_address() -> str | None:
    """This computer's address on its network, if it has one besides loopback."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("10.255.255.255", 1))  # UDP: picks a route, sends nothing
        except OSError:
            return None
        address = probe.getsockname()[0]
    return None if address.startswith("127.") else address


@contextlib.contextmanager
def _page_with_project_settings(tmp_path):
    """`streamlit run app.py` as a user starts it: only the port is given."""
    port = _free_port()
    env = {
        **os.environ,
        "SHAPECNN_DATA": str(tmp_path / "data"),
        "SHAPECNN_MODEL": str(tmp_path / "m.keras"),
    }
    command = [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port)]
    command += ["--server.headless", "true", "--server.fileWatcherType", "none"]
    server = subprocess.Popen(
        command,
        cwd=PROJECT_ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 120
        while True:
            assert server.poll() is None, "streamlit exited"
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2):
                    break
            except OSError:
                assert time.monotonic() < deadline, "streamlit did not start"
                time.sleep(0.3)
        yield port
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()


def test_the_running_page_refuses_uploads_without_its_xsrf_token_and_hides_from_the_network(
    tmp_path,
):
    with _page_with_project_settings(tmp_path) as port:
        # A form on another site posting a file to the page, as a cross-site request would.
        body = (
            b'--b\r\nContent-Disposition: form-data; name="file"; filename="x.png"\r\n'
            b"Content-Type: image/png\r\n\r\nPNG\r\n--b--\r\n"
        )
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/_stcore/upload_file/session/file",
            data=body,
            method="PUT",
            headers={"Content-Type": "multipart/form-data; boundary=b"},
        )
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(request, timeout=10)
        assert refused.value.code == 403
        assert b"XSRF" in refused.value.read()
        address = _network_address()
        if address is not None:
            with pytest.raises(OSError), socket.create_connection((address, port), timeout=5):
                pass
