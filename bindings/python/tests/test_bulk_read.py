"""Whole-file ``read`` of large files: the path that fills a new ``bytes``
in place without zeroing it first (``src/uninit_bytes.rs``). What it
returns must equal what was written, whatever the server does meanwhile:
empty and short files, a file that ends before or goes on past the size
its getattr reported, the server going away mid-transfer, the file
removed mid-transfer, an asyncio read cancelled mid-transfer (the object
and the fid released), and several readers at once.

The mid-transfer cases sit behind ``WireProxy`` (tests/wire_proxy.py),
which stops passing replies on after a set number of bytes, so the read is
provably half done when the test acts."""

from __future__ import annotations

import _thread
import asyncio
import errno
import gc
import os
import signal
import threading
import time
import tracemalloc
from concurrent.futures import ThreadPoolExecutor

import pytest

import ninefold
from conftest import (
    Server,
    gauge,
    get_server,
    settled_fids,
    start_ninefold,
    until_back_to_baseline,
)
from wire_proxy import WireProxy, downgrade, getattr_size

MiB = 1 << 20
#: Over the direct-read threshold (1 MiB) and not a multiple of any chunk.
BIG = 3 * MiB + 12345
#: For the mid-transfer cases: replies are held after HOLD bytes of it.
HUGE = 24 * MiB
HOLD = 4 * MiB


async def test_async_read_equals_written(fs: ninefold.Client, base: str) -> None:
    for n in (MiB, BIG):
        data = os.urandom(n)
        await fs.write(f"{base}/f{n}", data)
        got = await fs.read(f"{base}/f{n}")
        assert type(got) is bytes
        assert got == data


def test_sync_read_equals_written(sfs: ninefold.SyncClient, base: str) -> None:
    for n in (MiB, BIG):
        data = os.urandom(n)
        sfs.write(f"{base}/f{n}", data)
        got = sfs.read(f"{base}/f{n}")
        assert type(got) is bytes
        assert got == data


async def test_empty_and_small_files(server: Server, base: str) -> None:
    async with await server.connect() as c:
        await c.create_dir(base, 0o777)
        for n in (0, 1, MiB - 1):
            data = os.urandom(n)
            await c.write(f"{base}/s{n}", data)
            assert await c.read(f"{base}/s{n}") == data
        with server.connect_sync() as s:
            for n in (0, 1, MiB - 1):
                got = s.read(f"{base}/s{n}")
                assert type(got) is bytes and len(got) == n
                assert got == await c.read(f"{base}/s{n}")
        await c.remove_dir_all(base)


@pytest.mark.parametrize("lie", ["larger", "smaller"])
async def test_size_that_lies(server: Server, base: str, lie: str) -> None:
    """The getattr says 5 MiB more than the file holds (the read ends
    mid-span: a copy of the written prefix comes back), or less than it
    holds (the rest is read on and appended)."""
    data = os.urandom(BIG)
    async with await server.connect() as direct:
        await direct.create_dir(base, 0o777)
        await direct.write(f"{base}/f", data)
    size = BIG + 5 * MiB if lie == "larger" else MiB + 7
    edit = getattr_size(size)
    with WireProxy(server.target, to_server=downgrade, to_client=edit) as proxy:
        opts = server.options()
        async with await ninefold.Client.connect_with(proxy.target, opts) as c:
            assert (await c.metadata(f"{base}/f")).size == size
            got = await c.read(f"{base}/f")
            assert type(got) is bytes and got == data
        with ninefold.connect_sync(proxy.target, opts) as s:
            assert s.metadata(f"{base}/f").size == size
            got = s.read(f"{base}/f")
            assert type(got) is bytes and got == data
    async with await server.connect() as direct:
        await direct.remove_dir_all(base)


def big_file(server: Server, path: str) -> bytes:
    data = os.urandom(HUGE)
    with server.connect_sync() as s:
        s.write(path, data)
    return data


def traced_now() -> int:
    gc.collect()
    return tracemalloc.get_traced_memory()[0]


async def released(c: ninefold.Client, before: int) -> bool:
    """Whether traced memory falls back to ``before`` (within a quarter of
    the file) in 10 s. A cancelled task drops its future on a runtime
    thread, without the GIL; PyO3 frees the object at the next call into
    the extension, which ``c.generation`` is."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        assert c.generation >= 0
        if traced_now() - before < HUGE // 4:
            return True
        await asyncio.sleep(0.02)
    return False


async def test_connection_lost_mid_read_async(base: str) -> None:
    """The connection drops with a quarter of the file read: the client
    reconnects and reads the span again into the same object."""
    memfs = get_server("memfs")
    data = await asyncio.to_thread(big_file, memfs, f"{base}.bin")
    with WireProxy(memfs.target, hold_at=HOLD) as proxy:
        async with await ninefold.Client.connect(proxy.target) as c:
            task = asyncio.ensure_future(c.read(f"{base}.bin"))
            assert await asyncio.to_thread(proxy.held.wait, 20), "the read never got going"
            assert not task.done()
            proxy.drop()
            assert await asyncio.wait_for(task, 30) == data
            assert c.generation >= 1
    with memfs.connect_sync() as s:
        s.remove_file(f"{base}.bin")


def test_connection_lost_mid_read_sync(base: str) -> None:
    memfs = get_server("memfs")
    data = big_file(memfs, f"{base}.bin")
    with WireProxy(memfs.target, hold_at=HOLD) as proxy:
        with ninefold.connect_sync(proxy.target) as c, ThreadPoolExecutor(1) as pool:
            job = pool.submit(c.read, f"{base}.bin")
            assert proxy.held.wait(20), "the read never got going"
            assert not job.done()
            proxy.drop()
            assert job.result(30) == data
            assert c.generation >= 1
    with memfs.connect_sync() as s:
        s.remove_file(f"{base}.bin")


def test_server_gone_mid_read_sync(base: str) -> None:
    """The server goes away for good mid-transfer. The client waits for it
    to come back (its reconnect policy: calls block, they do not fail), so
    the way out is Ctrl-C: the read raises ``KeyboardInterrupt`` within
    its signal poll, and the half-filled object is released."""
    memfs = get_server("memfs")
    big_file(memfs, f"{base}.bin")
    # `interrupt_main` does nothing while SIGINT is ignored, which is how a
    # shell without job control starts a background job (CI runners, `cmd &`):
    # make Ctrl-C raise KeyboardInterrupt for this test whatever we inherited.
    previous_sigint = signal.signal(signal.SIGINT, signal.default_int_handler)
    tracemalloc.start()
    try:
        before = traced_now()
        with WireProxy(memfs.target, hold_at=HOLD) as proxy:

            def pull_the_plug() -> None:
                if proxy.held.wait(20):
                    # The whole object exists (allocated before the first Tread).
                    grown.append(tracemalloc.get_traced_memory()[0] - before)
                    proxy.cut()
                    time.sleep(0.3)
                _thread.interrupt_main()

            grown: list[int] = []
            with ninefold.connect_sync(proxy.target) as c:
                plug = threading.Thread(target=pull_the_plug)
                plug.start()
                t0 = time.monotonic()
                with pytest.raises(KeyboardInterrupt):
                    c.read(f"{base}.bin")
                plug.join()
                assert time.monotonic() - t0 < 15
                assert grown and grown[0] >= HUGE, "the read never got going"
        assert traced_now() - before < HUGE // 4, "the half-filled bytes was not released"
    finally:
        tracemalloc.stop()
        signal.signal(signal.SIGINT, previous_sigint)
    with memfs.connect_sync() as s:
        s.remove_file(f"{base}.bin")


async def test_server_gone_mid_read_async(base: str) -> None:
    """As above for asyncio: ``wait_for`` gives up, and the object the
    read was filling is released."""
    memfs = get_server("memfs")
    await asyncio.to_thread(big_file, memfs, f"{base}.bin")
    tracemalloc.start()
    try:
        before = traced_now()
        with WireProxy(memfs.target, hold_at=HOLD) as proxy:
            async with await ninefold.Client.connect(proxy.target) as c:
                task = asyncio.ensure_future(c.read(f"{base}.bin"))
                assert await asyncio.to_thread(proxy.held.wait, 20), "the read never got going"
                assert traced_now() - before >= HUGE
                proxy.cut()
                with pytest.raises((asyncio.TimeoutError, TimeoutError)):
                    await asyncio.wait_for(task, 0.5)
                assert await released(c, before), "the abandoned read's bytes leaked"
    finally:
        tracemalloc.stop()
    with memfs.connect_sync() as s:
        s.remove_file(f"{base}.bin")


def test_file_removed_mid_read(ninefold_server: Server, base: str) -> None:
    """Removing the file while it is being read: the open handle keeps it
    (POSIX semantics, which both memfs and passthrough give), so the read
    completes with every byte; a later read finds nothing."""
    data = big_file(ninefold_server, f"{base}.bin")
    with WireProxy(ninefold_server.target, hold_at=HOLD) as proxy:
        with ninefold.connect_sync(proxy.target) as c, ThreadPoolExecutor(1) as pool:
            job = pool.submit(c.read, f"{base}.bin")
            assert proxy.held.wait(20), "the read never got going"
            assert not job.done()
            with ninefold_server.connect_sync() as other:
                other.remove_file(f"{base}.bin")
            proxy.release()
            assert job.result(20) == data
            with pytest.raises(ninefold.NotFound):
                c.read(f"{base}.bin")


def test_file_removed_and_connection_lost_mid_read(ninefold_server: Server, base: str) -> None:
    """The file is removed and then the connection drops mid-transfer: the
    reconnected client cannot restore the handle, so the read raises
    ``ESTALE`` naming the path (and nothing of the half-filled object
    escapes)."""
    big_file(ninefold_server, f"{base}.bin")
    with WireProxy(ninefold_server.target, hold_at=HOLD) as proxy:
        with ninefold.connect_sync(proxy.target) as c, ThreadPoolExecutor(1) as pool:
            job = pool.submit(c.read, f"{base}.bin")
            assert proxy.held.wait(20), "the read never got going"
            with ninefold_server.connect_sync() as other:
                other.remove_file(f"{base}.bin")
            proxy.drop()
            with pytest.raises(ninefold.Io, match=f"{base}.bin") as e:
                job.result(30)
            assert e.value.errno == errno.ESTALE


async def test_cancel_mid_transfer_releases_object_and_fid(base: str) -> None:
    """Task.cancel() while half the replies are held back: the task ends
    cancelled, the server's fid count and requests return to where they
    were, the 24 MiB object is released, and the session goes on."""
    srv = start_ninefold("memfs")
    tracemalloc.start()
    try:
        await asyncio.to_thread(big_file, srv, f"{base}.bin")
        with WireProxy(srv.target, hold_at=HOLD) as proxy:
            async with await ninefold.Client.connect(proxy.target) as c:
                base_fids = await asyncio.to_thread(settled_fids, srv)
                before = traced_now()
                task = asyncio.ensure_future(c.read(f"{base}.bin"))
                assert await asyncio.to_thread(proxy.held.wait, 20), "the read never got going"
                assert not task.done()
                assert traced_now() - before >= HUGE
                assert gauge(srv, "ninefold_server_fid_count") > base_fids
                task.cancel()
                with pytest.raises(asyncio.CancelledError):
                    await task
                proxy.release()
                await asyncio.to_thread(until_back_to_baseline, srv, base_fids)
                assert await released(c, before), "the cancelled read's bytes leaked"
                assert await c.read_range(f"{base}.bin", 0, 4) != b""
    finally:
        tracemalloc.stop()
        srv.stop()


def test_threads_read_at_once(sfs: ninefold.SyncClient, base: str) -> None:
    files = {f"{base}/t{i}": os.urandom(BIG + i) for i in range(4)}
    for p, d in files.items():
        sfs.write(p, d)
    with ThreadPoolExecutor(4) as pool:
        got = list(pool.map(sfs.read, [p for p in files for _ in range(2)]))
    want = [d for d in files.values() for _ in range(2)]
    assert [len(g) for g in got] == [len(w) for w in want]
    assert got == want


async def test_tasks_read_at_once(fs: ninefold.Client, base: str) -> None:
    files = {f"{base}/t{i}": os.urandom(BIG + i) for i in range(4)}
    for p, d in files.items():
        await fs.write(p, d)
    got = await asyncio.gather(*(fs.read(p) for p in files for _ in range(2)))
    assert list(got) == [d for d in files.values() for _ in range(2)]


def thp_mode() -> str:
    """The kernel's transparent huge page mode (``always``, ``madvise``,
    ``never``), or ``""`` where there is none (not Linux, no THP)."""
    try:
        with open("/sys/kernel/mm/transparent_hugepage/enabled") as f:
            text = f.read()
    except OSError:
        return ""
    return text.split("[", 1)[1].split("]", 1)[0] if "[" in text else ""


def huge_bytes_under(obj: bytes) -> int:
    """Bytes of ``obj``'s memory that the kernel backs with huge pages:
    the ``AnonHugePages`` of every mapping that overlaps the object, from
    ``/proc/self/smaps`` (``id`` is the object's address in CPython)."""
    lo, hi = id(obj), id(obj) + len(obj)
    total, inside = 0, False
    with open("/proc/self/smaps") as f:
        for line in f:
            head = line.split(None, 1)[0]
            if "-" in head and not head.endswith(":"):
                start, end = (int(x, 16) for x in head.split("-"))
                inside = start < hi and end > lo
            elif inside and head == "AnonHugePages:":
                total += int(line.split()[1]) * 1024
    return total


@pytest.mark.skipif(
    os.environ.get("NINEFOLD_PYTHON_SKIP_THP") == "1",
    reason="NINEFOLD_PYTHON_SKIP_THP=1 (a kernel without transparent huge pages)",
)
async def test_large_read_lands_on_huge_pages(server: Server, base: str) -> None:
    """A large ``read`` advises its ``bytes`` onto transparent huge pages
    (``src/uninit_bytes.rs``, ``advise_huge``): one page fault per 2 MiB
    while it is filled, not one per 4 KiB. With THP in ``madvise`` mode
    (the default) nothing else would give it huge pages, so this fails
    without the advice. Asyncio and blocking alike.

    The object is larger than glibc's largest dynamic mmap threshold
    (32 MiB), so it is always a fresh mapping: a smaller one may reuse heap
    pages that are already mapped (then there is nothing to fault, and
    nothing to check)."""
    mode = thp_mode()
    assert mode not in ("", "never"), (
        f"the kernel has no transparent huge pages (THP mode: {mode or 'absent'}); "
        "set NINEFOLD_PYTHON_SKIP_THP=1 to skip this check on such a kernel"
    )
    n = 40 * MiB + 4321
    data = os.urandom(n)
    async with await server.connect() as c:
        await c.create_dir(base, 0o777)
        await c.write(f"{base}/f", data)
        got = await c.read(f"{base}/f")
        assert got == data
        # All but the partial 2 MiB pieces at either end may be huge; the
        # kernel falls back to small pages where it finds no free 2 MiB,
        # so this asks for a quarter of the object.
        assert huge_bytes_under(got) >= n // 4, "the asyncio read's bytes is not on huge pages"
        del got
        with server.connect_sync() as s:
            got = s.read(f"{base}/f")
            assert got == data
            assert huge_bytes_under(got) >= n // 4, "the blocking read's bytes is not on huge pages"
        await c.remove_dir_all(base)
