"""Start several page servers sharing one dataset and one model, and nginx in front of them.

    python -m deploy.serve                                # 2 servers, http://127.0.0.1:8080
    python -m deploy.serve --servers 3 --port 9000 --data /srv/shapes --model /srv/shapes.keras
    python -m deploy.serve --address 0.0.0.0 --allowed-host "$(hostname)"   # for the network

Each server is `streamlit run app.py -- --data DATA --model MODEL` on its own port (8501, 8502,
...); nginx (Debian's /usr/sbin/nginx) runs with deploy/nginx.conf, written with these ports
into the run folder, and keeps every browser on one server (a cookie, see the config). Saves land
in the one dataset folder (atomic, unique names); one training run at a time across the servers
(the model's lock file); every server switches to a new model file when it is written. Ctrl+C (or
SIGTERM) stops nginx and the servers. Logs: the run folder (printed), one file per process.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
CONFIG = Path(__file__).resolve().parent / "nginx.conf"
NGINX = os.environ.get("SHAPECNN_NGINX") or shutil.which("nginx") or "/usr/sbin/nginx"
START_TIMEOUT_S = 90


@dataclass(frozen=True)
class Deployment:
    url: str  # nginx's address
    servers: list[str]  # each page server's own address
    pids: list[int]  # the page servers' process ids
    run_dir: Path


def nginx_config(listen: str, servers: list[str]) -> str:
    """deploy/nginx.conf with this listen address and these upstream servers."""
    text = CONFIG.read_text()
    upstream = "".join(f"        server {server};\n" for server in servers)
    text, found = re.subn(
        r"(upstream shapecnn_pages \{\n\s*hash [^\n]*\n)(?:\s*server [^\n]*\n)+",
        lambda m: m.group(1) + upstream,
        text,
    )
    if found != 1:
        raise RuntimeError(f"{CONFIG}: no upstream shapecnn_pages block with servers")
    text, found = re.subn(r"listen [^;]+;", f"listen {listen};", text, count=1)
    if found != 1:
        raise RuntimeError(f"{CONFIG}: no listen directive")
    return text


def wait_healthy(url: str, processes: list[subprocess.Popen], logs: list[Path]) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while True:
        for process, log in zip(processes, logs, strict=True):
            if process.poll() is not None:
                tail = log.read_text(errors="replace")[-3000:] if log.exists() else ""
                raise RuntimeError(f"{process.args[0]} exited with {process.returncode}:\n{tail}")
        with (
            contextlib.suppress(OSError),
            urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response,
        ):
            if response.read().strip() == b"ok":
                return
        if time.monotonic() > deadline:
            raise RuntimeError(f"{url} did not answer within {START_TIMEOUT_S} s")
        time.sleep(0.1)


def stop(processes: list[subprocess.Popen]) -> None:
    for process in processes:
        if process.poll() is None:
            process.terminate()
    for process in processes:
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextlib.contextmanager
def serve(
    data: Path,
    model: Path,
    servers: int = 2,
    port: int = 8080,
    first_server_port: int = 8501,
    address: str = "127.0.0.1",
    allowed_hosts: tuple[str, ...] = (),
    run_dir: Path | None = None,
    server_ports: list[int] | None = None,
) -> Iterator[Deployment]:
    """The page servers and nginx, running until the block ends."""
    if not Path(NGINX).exists():
        raise RuntimeError(f"nginx not found ({NGINX}): apt-get install nginx")
    run_dir = Path(run_dir or tempfile.mkdtemp(prefix="shapecnn-serve-"))
    for sub in ("logs", "tmp"):
        (run_dir / sub).mkdir(parents=True, exist_ok=True)
    # nginx's workers run as `nobody` when it is started as root: they write its temp files.
    os.chmod(run_dir, 0o755)
    os.chmod(run_dir / "tmp", 0o777)
    ports = server_ports or [first_server_port + i for i in range(servers)]
    processes: list[subprocess.Popen] = []
    logs: list[Path] = []
    hosts = [arg for host in allowed_hosts for arg in ("--server.allowedHosts", host)]
    try:
        for server_port in ports:
            log = run_dir / "logs" / f"page-{server_port}.log"
            command = [
                sys.executable, "-m", "streamlit", "run", str(PROJECT / "app.py"),
                "--server.headless", "true",
                "--server.port", str(server_port),
                # The servers answer nginx only; nginx answers the browsers.
                "--server.address", "127.0.0.1",
                "--browser.gatherUsageStats", "false",
                "--server.fileWatcherType", "none",
                *hosts,
                "--", "--data", str(data), "--model", str(model),
            ]  # fmt: skip
            with open(log, "wb") as output:
                processes.append(
                    subprocess.Popen(
                        command,
                        cwd=PROJECT,
                        stdout=output,
                        stderr=subprocess.STDOUT,
                        start_new_session=True,
                    )
                )
            logs.append(log)
        config = run_dir / "nginx.conf"
        config.write_text(nginx_config(f"{address}:{port}", [f"127.0.0.1:{p}" for p in ports]))
        nginx_log = run_dir / "logs" / "nginx.log"
        with open(nginx_log, "wb") as output:
            processes.append(
                subprocess.Popen(
                    [NGINX, "-p", str(run_dir), "-c", str(config), "-g", "daemon off;"],
                    stdout=output,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            )
        logs.append(nginx_log)
        for server_port, process, log in zip(ports, processes, logs, strict=False):
            wait_healthy(f"http://127.0.0.1:{server_port}", [process], [log])
        host = "127.0.0.1" if address in ("0.0.0.0", "::") else address
        url = f"http://{host}:{port}"
        wait_healthy(url, processes[-1:], logs[-1:])
        yield Deployment(
            url,
            [f"http://127.0.0.1:{p}" for p in ports],
            [p.pid for p in processes[:-1]],
            run_dir,
        )
    finally:
        stop(processes[-1:])  # nginx first: no new requests
        stop(processes[:-1])


def main(argv: list[str] | None = None) -> int:
    from shapecnn.config import DEFAULT_DATA, DEFAULT_MODEL

    parser = argparse.ArgumentParser(prog="python -m deploy.serve", description=__doc__)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="the shared dataset")
    parser.add_argument("--model", type=Path, default=DEFAULT_MODEL, help="the shared model")
    parser.add_argument("--servers", type=int, default=2, help="page servers (default 2)")
    parser.add_argument("--port", type=int, default=8080, help="nginx's port (default 8080)")
    parser.add_argument("--first-server-port", type=int, default=8501)
    parser.add_argument("--address", default="127.0.0.1", help="nginx listens here")
    parser.add_argument(
        "--allowed-host",
        action="append",
        default=[],
        help="a host name the browsers use (server.allowedHosts; repeatable)",
    )
    parser.add_argument("--run-dir", type=Path, help="logs and nginx's files (default: a temp dir)")
    args = parser.parse_args(argv)
    if args.servers < 1:
        parser.error(f"--servers must be at least 1, got {args.servers}")
    stopping = []
    signal.signal(signal.SIGTERM, lambda *_: stopping.append(True) or sys.exit(0))
    hosts = tuple(args.allowed_host) + (("localhost", "127.0.0.1") if args.allowed_host else ())
    with serve(
        args.data.resolve(),
        args.model.resolve(),
        args.servers,
        args.port,
        args.first_server_port,
        args.address,
        hosts,
        args.run_dir,
    ) as deployment:
        servers = ", ".join(deployment.servers)
        print(f"shapecnn on {deployment.url} (page servers: {servers}); Ctrl+C stops")
        print(f"logs: {deployment.run_dir}/logs")
        with contextlib.suppress(KeyboardInterrupt):
            while True:
                time.sleep(3600)
    return 0


if __name__ == "__main__":
    sys.exit(main())
