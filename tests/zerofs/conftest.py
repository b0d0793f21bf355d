"""`ninefold serve` for the official zerofs-client tests.

One server per kind (memfs, passthrough) for the whole session, on a free
loopback port; `Server.restart()` SIGKILLs it and starts it again on the same
port and export. `NINEFOLD_BIN` names the binary (default
target/release/ninefold of this checkout).
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import zerofs_client as z

REPO = Path(__file__).resolve().parents[2]


def ninefold_bin() -> str:
    b = os.environ.get("NINEFOLD_BIN") or str(REPO / "target" / "release" / "ninefold")
    if not os.access(b, os.X_OK):
        pytest.fail(f"ninefold binary not found at {b} (set NINEFOLD_BIN)", pytrace=False)
    return b


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    kind: str
    port: int
    export: Path | None
    proc: subprocess.Popen[bytes] | None = None

    @property
    def target(self) -> str:
        return f"tcp://127.0.0.1:{self.port}"

    def start(self) -> None:
        args = [ninefold_bin(), "serve", "--listen", self.target, "--log", "warn"]
        args += [str(self.export)] if self.export is not None else ["--memory"]
        self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"ninefold serve exited with {self.proc.returncode}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.02)
        raise RuntimeError(f"ninefold serve did not listen on {self.target}")

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()
        self.proc = None

    def restart(self) -> None:
        self.kill()
        self.start()

    def host_path(self, path: str) -> Path | None:
        return None if self.export is None else self.export / path.lstrip("/")


@pytest.fixture(scope="session", params=["memfs", "passthrough"])
def server(request: pytest.FixtureRequest) -> Iterator[Server]:
    tmp = tempfile.mkdtemp(prefix="ninefold-zerofs-") if request.param == "passthrough" else None
    srv = Server(request.param, free_port(), Path(tmp) if tmp else None)
    srv.start()
    yield srv
    srv.kill()
    if tmp:
        shutil.rmtree(tmp, ignore_errors=True)


def options() -> z.ConnectOptions:
    return z.ConnectOptions(uid=0, gid=0, uname="root", connect_timeout_ms=10_000)


@pytest.fixture
async def fs(server: Server) -> AsyncIterator[z.Client]:
    client = await z.Client.connect_with(server.target, options())
    try:
        yield client
    finally:
        await client.close()


@pytest.fixture
async def base(fs: z.Client) -> str:
    """A fresh directory for one test."""
    d = f"/py-{uuid.uuid4().hex[:12]}"
    await fs.create_dir(d, 0o755)
    return d
