"""Cancellation reaches Rust: when ``asyncio.wait_for`` times out, the
Rust future is dropped, the request in flight is flushed (Tflush) and the
fid it bound is clunked. Proven on the server side: ``ninefold serve``'s
frame trace (every reply it encodes) and its Prometheus gauges."""

from __future__ import annotations

import asyncio
import os
import re
import time
from collections.abc import Iterator

import pytest

from conftest import Server, gauge, settled_fids, start_ninefold, until, until_back_to_baseline

ANSI = re.compile(r"\x1b\[[0-9;]*m")


@pytest.fixture
def traced() -> Iterator[Server]:
    """A passthrough server of its own that logs every reply it encodes."""
    s = start_ninefold(
        "passthrough",
        "info,ninefold_server::shell::writer=trace,ninefold_server::shell::encode=trace",
    )
    yield s
    s.stop()


def replies(s: Server) -> list[tuple[int, str]]:
    """(tag, reply type) of every frame the server encoded, in order."""
    assert s.log is not None
    text = ANSI.sub("", s.log.read_text(errors="replace"))
    return [(int(t), n) for t, n in re.findall(r"encoded tag=(\d+) (R\w+)", text)]


async def test_wait_for_timeout_flushes_and_clunks(traced: Server) -> None:
    assert traced.export is not None
    fifo = traced.export / "fifo"
    os.mkfifo(fifo)
    async with await traced.connect() as fs:
        await fs.write("/plain", b"ok")
        base_fids = await asyncio.to_thread(settled_fids, traced)
        # The server opens the FIFO at once (non-blocking) and the read
        # waits for a writer that never comes: the Tread stays in flight.
        t0 = time.monotonic()
        with pytest.raises((asyncio.TimeoutError, TimeoutError)):
            await asyncio.wait_for(fs.read("/fifo"), 0.3)
        assert time.monotonic() - t0 < 2.0, "the wait was not abandoned promptly"

        # The dropped future flushed the waiting read (Rflush after the
        # Rlopen) and clunked its fid.
        def flushed() -> bool:
            names = [n for _, n in replies(traced)]
            return "Rlopen" in names and "Rflush" in names[names.index("Rlopen") :]

        await asyncio.to_thread(until, flushed, "Rlopen followed by Rflush")
        await asyncio.to_thread(
            until,
            lambda: gauge(traced, "ninefold_server_active_requests") == 0,
            "no request in flight",
        )
        await asyncio.to_thread(
            until,
            lambda: gauge(traced, "ninefold_server_fid_count") == base_fids,
            "the fid to be clunked",
        )
        # The session is intact (the read's own fid is clunked in the
        # background once it returns, as every dropped handle is).
        assert await fs.read("/plain") == b"ok"
        await asyncio.to_thread(
            until,
            lambda: gauge(traced, "ninefold_server_fid_count") == base_fids,
            "the read's fid to be clunked",
        )


async def test_cancelled_task_stops_bulk_read(traced: Server) -> None:
    """Task.cancel() on a 64 MiB read: the Rust future is dropped, so the
    server serves only the reads issued before (not all 64 of 1 MiB),
    and every fid and request slot is released."""
    async with await traced.connect() as fs:
        await fs.write("/big", os.urandom(64 << 20))
        base_fids = await asyncio.to_thread(settled_fids, traced)
        before = len(replies(traced))
        task = asyncio.ensure_future(fs.read("/big"))
        await asyncio.sleep(0.005)
        assert not task.done()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        await asyncio.to_thread(until_back_to_baseline, traced, base_fids)
        await asyncio.sleep(0.5)
        reads = [n for _, n in replies(traced)[before:] if n == "Rread"]
        assert len(reads) < 64, f"{len(reads)} reads served: the read was not stopped"
        assert await fs.read_range("/big", 0, 4) != b""
