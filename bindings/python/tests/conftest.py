"""Servers for the tests: ``ninefold serve`` (memfs and a passthrough
directory) and diod, each started once per session on a free loopback
port and stopped at the end.

``NINEFOLD_BIN`` names the ``ninefold`` binary (default: the workspace's
``target/release/ninefold``). diod must be installed (``apt-get install
diod``); without it the diod cases fail, unless ``NINEFOLD_PYTHON_SKIP_DIOD=1``
is set, which skips them (and the summary says so).
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.request
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

import ninefold

REPO = Path(__file__).resolve().parents[3]
KINDS = ("memfs", "passthrough", "diod")


def ninefold_bin() -> str:
    b = os.environ.get("NINEFOLD_BIN") or str(REPO / "target" / "release" / "ninefold")
    if not os.access(b, os.X_OK):
        pytest.fail(f"ninefold binary not found at {b} (set NINEFOLD_BIN)", pytrace=False)
    return b


@dataclass
class Server:
    """A running server and how to reach it."""

    kind: str
    proc: subprocess.Popen[bytes]
    target: str
    aname: str = ""
    export: Path | None = None
    metrics: str | None = None
    log: Path | None = None
    tmp: tempfile.TemporaryDirectory[str] | None = field(default=None, repr=False)

    def options(self, **kw: object) -> ninefold.ConnectOptions:
        return ninefold.ConnectOptions(aname=self.aname, **kw)  # type: ignore[arg-type]

    async def connect(self, **kw: object) -> ninefold.Client:
        return await ninefold.Client.connect_with(self.target, self.options(**kw))

    def connect_sync(self, **kw: object) -> ninefold.SyncClient:
        return ninefold.connect_sync(self.target, self.options(**kw))

    def scrape(self) -> str:
        assert self.metrics is not None, f"{self.kind} has no metrics endpoint"
        with urllib.request.urlopen(self.metrics, timeout=5) as r:
            body: bytes = r.read()
        return body.decode()

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.tmp is not None:
            self.tmp.cleanup()


def none(f: Callable[..., Any]) -> Callable[..., Any]:
    """``f`` typed loosely, to check at run time that a call documented as
    returning nothing gives ``None`` (mypy rejects using such a result)."""
    return f


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def wait_log(log: Path, pattern: str, proc: subprocess.Popen[bytes]) -> re.Match[str]:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        m = re.search(pattern, log.read_text(errors="replace"))
        if m:
            return m
        if proc.poll() is not None:
            break
        time.sleep(0.02)
    raise RuntimeError(f"server did not start: {log.read_text(errors='replace')}")


def gauge(s: Server, name: str) -> int:
    m = re.search(rf"^{name} (-?\d+)", s.scrape(), re.M)
    assert m, f"{name} missing from metrics"
    return int(m.group(1))


def settled_fids(s: Server) -> int:
    """The fid count once no request is in flight and it stops moving
    (a handle closed just before is clunked in the background)."""
    last = -1
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        n = gauge(s, "ninefold_server_fid_count")
        if n == last and gauge(s, "ninefold_server_active_requests") == 0:
            return n
        last = n
        time.sleep(0.1)
    raise AssertionError("the server never settled")


def until(cond: object, what: str, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if callable(cond) and cond():
            return
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


def until_back_to_baseline(s: Server, base_fids: int) -> None:
    """Wait until the server holds ``base_fids`` fids and runs no request:
    what a cancelled call must leave behind."""
    until(
        lambda: (
            gauge(s, "ninefold_server_fid_count") == base_fids
            and gauge(s, "ninefold_server_active_requests") == 0
        ),
        "fids and requests back to the baseline",
    )


def start_ninefold(kind: str, log_filter: str | None = None) -> Server:
    tmp = tempfile.TemporaryDirectory(prefix=f"ninefold-py-{kind}-")
    root = Path(tmp.name)
    log = root / "server.log"
    args = [ninefold_bin(), "serve", "-l", "tcp://127.0.0.1:0", "--metrics", "127.0.0.1:0"]
    if log_filter:
        args += ["--log", log_filter]
    export = None
    if kind == "memfs":
        args.append("--memory")
    else:
        export = root / "export"
        export.mkdir()
        args.append(str(export))
    proc = subprocess.Popen(args, stdout=log.open("wb"), stderr=subprocess.STDOUT)
    m = wait_log(log, r"metrics on (http://\S+)", proc)
    port = wait_log(log, r"listening on tcp://127\.0\.0\.1:(\d+)", proc).group(1)
    return Server(kind, proc, f"tcp://127.0.0.1:{port}", "", export, m.group(1), log, tmp)


def start_diod() -> Server:
    if not shutil.which("diod"):
        if os.environ.get("NINEFOLD_PYTHON_SKIP_DIOD") == "1":
            pytest.skip("diod not installed and NINEFOLD_PYTHON_SKIP_DIOD=1")
        pytest.fail("diod is not installed (apt-get install -y diod)", pytrace=False)
    tmp = tempfile.TemporaryDirectory(prefix="ninefold-py-diod-")
    root = Path(tmp.name)
    export = root / "export"
    export.mkdir()
    log = root / "diod.log"
    last = ""
    for _ in range(5):
        port = free_port()
        proc = subprocess.Popen(
            [
                "diod",
                "-f",
                "-n",
                "-l",
                f"127.0.0.1:{port}",
                "-e",
                str(export),
                "-L",
                "stderr",
                "-c",
                "/dev/null",
            ],
            stdout=log.open("wb"),
            stderr=subprocess.STDOUT,
            cwd=root,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                return Server(
                    "diod", proc, f"tcp://127.0.0.1:{port}", str(export), export, None, log, tmp
                )
            except OSError:
                time.sleep(0.05)
        last = log.read_text(errors="replace")
        proc.kill()
        proc.wait()
    tmp.cleanup()
    raise RuntimeError(f"diod did not start: {last}")


_servers: dict[str, Server] = {}


def get_server(kind: str) -> Server:
    if kind not in _servers:
        _servers[kind] = start_diod() if kind == "diod" else start_ninefold(kind)
    return _servers[kind]


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    for s in _servers.values():
        s.stop()


@pytest.fixture(params=KINDS)
def server(request: pytest.FixtureRequest) -> Server:
    kind: str = request.param
    return get_server(kind)


@pytest.fixture(params=("memfs", "passthrough"))
def ninefold_server(request: pytest.FixtureRequest) -> Server:
    kind: str = request.param
    return get_server(kind)


@pytest.fixture
def passthrough() -> Server:
    return get_server("passthrough")


@pytest.fixture
def base() -> str:
    """A fresh directory name for one test."""
    return f"/t-{uuid.uuid4().hex[:12]}"


@pytest.fixture
async def fs(server: Server, base: str) -> AsyncIterator[ninefold.Client]:
    async with await server.connect() as c:
        await c.create_dir(base, 0o777)
        yield c
        await c.remove_dir_all(base)


@pytest.fixture
def sfs(server: Server, base: str) -> Iterator[ninefold.SyncClient]:
    with server.connect_sync() as c:
        c.create_dir(base, 0o777)
        yield c
        c.remove_dir_all(base)
