"""The blocking API: no event loop needed, shared by many threads, the
GIL released while a call waits."""

from __future__ import annotations

import asyncio
import io
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import ninefold
from conftest import Server, none


def test_surface(sfs: ninefold.SyncClient, base: str) -> None:
    assert isinstance(sfs, ninefold.SyncClient)
    assert sfs.capabilities().msize > 0
    p = f"{base}/f"
    assert none(sfs.write)(p, b"hello") is None
    assert sfs.read(p) == b"hello"
    assert sfs.append(p, b"!") == 5
    assert sfs.read_range(p, 1, 3) == b"ell"
    sfs.write_text(p, "tëxt")
    assert sfs.read_text(p) == "tëxt"
    assert sfs.stat(p).is_file() and sfs.metadata(p).size == len("tëxt".encode())
    assert sfs.exists(p) and not sfs.exists(f"{base}/no")
    assert sfs.chmod(p, 0o600).permissions() == 0o600
    assert sfs.truncate(p, 1).size == 1
    assert sfs.set_attr(p, ninefold.SetAttrs(size=3)).size == 3
    assert sfs.chown(p, os.geteuid()).uid == os.geteuid()
    assert sfs.set_times(p, ninefold.SetTime.Now, ninefold.SetTime.Now).is_file()
    assert sfs.statfs().block_size > 0
    assert none(sfs.sync)() is None
    assert sfs.create_dir(f"{base}/d").is_dir()
    sfs.create_dir_all(f"{base}/d/e/f")
    sfs.symlink("f", f"{base}/l")
    assert sfs.read_link(f"{base}/l") == b"f"
    assert sfs.canonicalize(f"{base}/l") == f"{base}/f".encode()
    assert sfs.hard_link(p, f"{base}/h").nlink == 2
    assert sfs.mknod(f"{base}/p", ninefold.NodeKind.Fifo).file_type == ninefold.FileType.Fifo
    assert sorted(e.name for e in sfs.read_dir(base)) == ["d", "f", "h", "l", "p"]
    sfs.rename(f"{base}/h", f"{base}/h2")
    sfs.remove_file(f"{base}/h2")
    sfs.remove_dir(f"{base}/d/e/f")
    sfs.remove_dir_all(f"{base}/d")
    with sfs.create(f"{base}/c") as f:
        assert isinstance(f, ninefold.SyncFile)
        f.write_at(0, b"abc")
        assert f.read_at(0, 3) == b"abc"
        f.set_len(2)
        assert f.metadata().size == 2
        assert f.set_attr(ninefold.SetAttrs(mode=0o640)).permissions() == 0o640
        f.sync_all()
        f.sync_data()
        assert f.write_from(io.BytesIO(b"x" * 3_000_000)) == 3_000_000
        assert f.write_from([b"1", b"2"], offset=3_000_000) == 2
        assert b"".join(f.read_chunks(1 << 20)) == b"x" * 3_000_000 + b"12"
    with sfs.open(f"{base}/c", ninefold.OpenOptions(read=True)) as f:
        assert f.read_at(0, 1) == b"x"


def test_no_event_loop(server: Server) -> None:
    try:
        asyncio.get_running_loop()
        raise AssertionError("a loop is running")
    except RuntimeError:
        pass
    c = server.connect_sync()
    assert c.exists("/")
    c.close()


async def test_inside_a_running_loop(server: Server) -> None:
    """Notebook style: the blocking API works inside a running loop too."""
    with server.connect_sync() as c:
        assert c.metadata("/").is_dir()


def test_threads_share_one_client(sfs: ninefold.SyncClient, base: str) -> None:
    def work(i: int) -> bytes:
        p = f"{base}/t{i}"
        for j in range(20):
            sfs.write(p, bytes([i, j]) * 1000)
        return sfs.read(p)

    with ThreadPoolExecutor(16) as ex:
        got = list(ex.map(work, range(32)))
    assert got == [bytes([i, 19]) * 1000 for i in range(32)]


def test_gil_released_while_blocked(passthrough: Server, base: str) -> None:
    """A thread stuck in a call (reading a FIFO no one writes) does not stop
    other Python threads."""
    assert passthrough.export is not None
    with passthrough.connect_sync() as c:
        c.create_dir(base)
        fifo = passthrough.export / base.lstrip("/") / "fifo"
        os.mkfifo(fifo)
        f = c.open(f"{base}/fifo")
        out: list[bytes] = []
        t = threading.Thread(target=lambda: out.append(f.read_at(0, 10)))
        t.start()
        time.sleep(0.1)
        spins = 0
        end = time.monotonic() + 0.3
        while time.monotonic() < end:
            spins += 1
        assert t.is_alive() and spins > 10_000
        # A writer comes and goes: the read sees end of file.
        fd = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
        os.close(fd)
        t.join(10)
        assert not t.is_alive() and out == [b""]
        f.close()
        c.remove_dir_all(base)


def test_bulk_read_write(sfs: ninefold.SyncClient, base: str) -> None:
    """Whole-file reads past 1 MiB fill the `bytes` in place; writes of
    `bytes` send the object's own buffer, which stays valid after."""
    p = f"{base}/bulk"
    data = os.urandom((5 << 20) + 7)
    sfs.write(p, data)
    back = sfs.read(p)
    assert type(back) is bytes and back == data
    sfs.truncate(p, 3 << 20)
    assert sfs.read(p) == data[: 3 << 20]
    sfs.write(p, bytearray(data))
    assert sfs.read(p) == data
    sfs.remove_file(p)


def test_event_loops_one_after_another(server: Server) -> None:
    """Each new event loop of a thread gets its own wake-up channel: calls
    on a second loop (and on a loop in another thread) settle."""

    async def work(i: int) -> int:
        async with await server.connect() as fs:
            metas = await asyncio.wait_for(
                asyncio.gather(*(fs.metadata("/") for _ in range(64))), 30
            )
            return len(metas) + i

    assert asyncio.run(work(0)) == 64
    assert asyncio.run(work(1)) == 65
    with ThreadPoolExecutor(2) as ex:
        assert sorted(ex.map(lambda i: asyncio.run(work(i)), range(4))) == [64, 65, 66, 67]
