"""Every Client operation of the seed's table, against memfs, passthrough
and diod."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
from collections.abc import AsyncIterator
from pathlib import PurePosixPath

import pytest

import ninefold
from conftest import Server, none


async def test_seed_example(server: Server) -> None:
    """The seed's Python example, as written (module renamed)."""
    async with await ninefold.Client.connect_with(server.target, server.options()) as fs:
        await fs.create_dir_all("/demo", 0o755)
        await fs.write("/demo/notes.txt", b"hello from zerofs")
        data = await fs.read("/demo/notes.txt")
        meta = await fs.metadata("/demo/notes.txt")
        assert (len(data), meta.size, meta.is_file()) == (17, 17, True)
        async with await fs.open(
            "/demo/data.bin", ninefold.OpenOptions(write=True, create=True)
        ) as f:
            await f.write_at(0, b"\x00" * 4096)
            await f.sync_all()
        names = []
        async with await fs.open_dir("/demo") as d:
            async for entry in d:
                names.append(entry.name)
        assert sorted(names) == ["data.bin", "notes.txt"]
        await fs.rename("/demo/notes.txt", "/demo/notes.md")
        await fs.remove_file("/demo/notes.md")
        await fs.remove_dir_all("/demo")
        assert not await fs.exists("/demo")


async def test_connect_plain_target(ninefold_server: Server) -> None:
    """`connect` with default options (diod needs an aname, so it is reached
    through `connect_with` everywhere else)."""
    fs = await ninefold.Client.connect(ninefold_server.target)
    assert isinstance(fs, ninefold.Client)
    caps = fs.capabilities()
    assert caps.msize > 0 and caps.max_read_chunk > 0 and caps.max_write_chunk > 0
    # Our server speaks ZeroFS's dialect, which the client offers first.
    assert caps.dialect == "9P2000.L.Z"
    assert caps.extensions_v1 is True and caps.extensions_v2 is True
    assert caps.max_read_chunk == caps.msize - 11
    assert caps.max_write_chunk == caps.msize - 48
    assert "9P2000.L.Z" in repr(caps)
    assert fs.generation == 0
    await fs.close()


async def test_read_write_append(fs: ninefold.Client, base: str) -> None:
    p = f"{base}/a.bin"
    await fs.write(p, b"hello")
    assert await fs.read(p) == b"hello"
    assert isinstance(await fs.read(p), bytes)
    assert await fs.append(p, b" world") == 5
    assert await fs.read(p) == b"hello world"
    assert await fs.read_range(p, 6, 100) == b"world"
    assert await fs.read_range(p, 100, 10) == b""
    await fs.write(p, bytearray(b"xy"))
    assert await fs.read(p) == b"xy"
    await fs.write(p, memoryview(b"0123456789")[2:5])
    assert await fs.read(p) == b"234"
    big = os.urandom(3 << 20)
    await fs.write(p, big)
    assert await fs.read(p) == big
    with pytest.raises(TypeError):
        await fs.write(p, "text")  # type: ignore[arg-type]


async def test_text(fs: ninefold.Client, base: str) -> None:
    p = f"{base}/t.txt"
    await fs.write_text(p, "héllo ✓")
    assert await fs.read(p) == "héllo ✓".encode()
    assert await fs.read_text(p) == "héllo ✓"
    await fs.write_text(p, "héllo", encoding="latin-1")
    assert await fs.read_text(p, encoding="latin-1") == "héllo"
    await fs.write(p, b"\xff")
    with pytest.raises(UnicodeDecodeError):
        await fs.read_text(p)
    assert await fs.read_text(p, errors="replace") == "\ufffd"


async def test_pathlike(fs: ninefold.Client, base: str) -> None:
    p = PurePosixPath(base) / "pl.txt"
    await fs.write(p, b"x")
    assert await fs.read(os.fsencode(str(p))) == b"x"
    assert (await fs.stat(p)).size == 1


async def test_stat_metadata_predicates(fs: ninefold.Client, base: str) -> None:
    await fs.write(f"{base}/f", b"abc")
    await fs.symlink("f", f"{base}/l")
    st = await fs.stat(f"{base}/l")
    assert st.is_symlink() and not st.is_file()
    assert st.file_type == ninefold.FileType.Symlink
    m = await fs.metadata(f"{base}/l")
    assert m.is_file() and not m.is_dir() and m.size == 3
    assert m.file_type == ninefold.FileType.File
    assert m.nlink >= 1 and m.ino > 0 and m.block_size > 0
    assert isinstance(m.mtime, dt.datetime) and m.mtime.tzinfo is not None
    assert abs((dt.datetime.now(dt.timezone.utc) - m.mtime).total_seconds()) < 600
    assert (
        m.mtime_ns // 1000 == int(m.mtime.timestamp() * 1e6)
        or abs(m.mtime_ns / 1e9 - m.mtime.timestamp()) < 1e-5
    )
    assert isinstance(m.atime, dt.datetime) and isinstance(m.ctime, dt.datetime)
    assert isinstance(m.btime, dt.datetime)
    assert m.data_version >= 0 and m.rdev >= 0 and m.blocks >= 0
    assert m.permissions() == m.mode & 0o7777
    d = await fs.metadata(base)
    assert d.is_dir() and d.file_type == ninefold.FileType.Dir
    assert await fs.exists(f"{base}/f")
    assert not await fs.exists(f"{base}/nope")
    await fs.symlink("nowhere", f"{base}/dangling")
    assert await fs.exists(f"{base}/dangling")
    assert "Metadata(" in repr(m)
    assert m == await fs.metadata(f"{base}/f")


async def test_canonicalize_and_links(fs: ninefold.Client, base: str) -> None:
    await fs.create_dir(f"{base}/real")
    await fs.write(f"{base}/real/f", b"1")
    await fs.symlink("real", f"{base}/alias")
    assert await fs.canonicalize(f"{base}/alias/f") == f"{base}/real/f".encode()
    assert await fs.read_link(f"{base}/alias") == b"real"
    m = await fs.hard_link(f"{base}/real/f", f"{base}/hl")
    assert m.nlink == 2
    assert await fs.read(f"{base}/hl") == b"1"
    sm = await fs.symlink(b"raw\xfftarget", f"{base}/rawlink")
    assert sm.is_symlink()
    assert await fs.read_link(f"{base}/rawlink") == b"raw\xfftarget"


async def test_set_attr_family(fs: ninefold.Client, base: str) -> None:
    p = f"{base}/attr"
    await fs.write(p, b"0123456789")
    m = await fs.chmod(p, 0o600)
    assert m.permissions() == 0o600
    m = await fs.truncate(p, 4)
    assert m.size == 4 and await fs.read(p) == b"0123"
    m = await fs.truncate(p, 8)
    assert await fs.read(p) == b"0123\0\0\0\0"
    me = os.geteuid()
    m = await fs.chown(p, me, None)
    assert m.uid == me
    m = await fs.chown(p)
    assert m.uid == me
    when = dt.datetime(2001, 2, 3, 4, 5, 6, 789000, tzinfo=dt.timezone.utc)
    m = await fs.set_times(p, ninefold.SetTime.At(when), when)
    assert m.mtime == when and m.atime == when
    m = await fs.set_times(p, None, ninefold.SetTime.Now)
    assert m.atime == when
    assert (dt.datetime.now(dt.timezone.utc) - m.mtime).total_seconds() < 600
    m = await fs.set_times(p, mtime=1_000_000_000)
    assert m.mtime_ns == 1_000_000_000 * 10**9
    attrs = ninefold.SetAttrs(mode=0o640, size=2, mtime=ninefold.SetTime.At(when))
    assert not attrs.is_empty() and ninefold.SetAttrs().is_empty()
    assert attrs.mode == 0o640 and attrs.size == 2 and attrs.uid is None
    assert attrs.mtime == ninefold.SetTime.At(when)
    m = await fs.set_attr(p, attrs)
    assert (m.permissions(), m.size, m.mtime) == (0o640, 2, when)
    assert (await fs.set_attr(p, ninefold.SetAttrs())).size == 2


async def test_statfs_sync(fs: ninefold.Client) -> None:
    s = await fs.statfs()
    assert s.block_size > 0 and s.max_name_len >= 255
    assert s.blocks >= s.blocks_free >= 0
    assert "StatFs(" in repr(s)
    assert await none(fs.sync)() is None


async def test_dirs(fs: ninefold.Client, base: str) -> None:
    m = await fs.create_dir(f"{base}/d", 0o750)
    assert m.is_dir() and m.permissions() == 0o750
    assert await none(fs.create_dir_all)(f"{base}/a/b/c") is None
    await fs.create_dir_all(f"{base}/a/b/c")
    await fs.write(f"{base}/a/b/c/f", b"")
    names = sorted(e.name for e in await fs.read_dir(f"{base}/a/b"))
    assert names == ["c"]
    entries = await fs.read_dir(f"{base}/a/b/c")
    assert [(e.name, e.file_type, e.name_is_utf8) for e in entries] == [
        ("f", ninefold.FileType.File, True)
    ]
    assert entries[0].is_file() and entries[0].ino > 0
    await fs.remove_dir(f"{base}/d")
    await fs.remove_file(f"{base}/a/b/c/f")
    await fs.remove_dir_all(f"{base}/a")
    assert await fs.read_dir(base) == []


async def test_rename_replaces(fs: ninefold.Client, base: str) -> None:
    await fs.write(f"{base}/x", b"x")
    await fs.write(f"{base}/y", b"y")
    await fs.rename(f"{base}/x", f"{base}/y")
    assert await fs.read(f"{base}/y") == b"x"
    assert not await fs.exists(f"{base}/x")


async def test_mknod(fs: ninefold.Client, base: str) -> None:
    m = await fs.mknod(f"{base}/fifo", ninefold.NodeKind.Fifo, 0o600)
    assert m.file_type == ninefold.FileType.Fifo
    m = await fs.mknod(f"{base}/sock", ninefold.NodeKind.Socket)
    assert m.file_type == ninefold.FileType.Socket
    m = await fs.mknod(f"{base}/null", ninefold.NodeKind.CharDevice(1, 3), 0o666)
    assert m.file_type == ninefold.FileType.CharDevice and m.rdev != 0
    assert ninefold.NodeKind.BlockDevice(7, 0) == ninefold.NodeKind.BlockDevice(7, 0)
    assert repr(ninefold.NodeKind.Fifo) == "NodeKind.Fifo"


async def test_open_create(fs: ninefold.Client, base: str) -> None:
    p = f"{base}/o"
    async with await fs.create(p) as f:
        assert isinstance(f, ninefold.File)
        await f.write_at(0, b"abc")
        assert await f.read_at(0, 10) == b"abc"
    async with await fs.open(p) as f:
        assert await f.read_at(1, 1) == b"b"
    with pytest.raises(ninefold.AlreadyExists):
        await fs.open(p, ninefold.OpenOptions(write=True, create_new=True))
    f = await fs.open(p, ninefold.OpenOptions(read=True, write=True, truncate=True))
    assert (await f.metadata()).size == 0
    await f.close()
    await f.close()  # idempotent
    o = ninefold.OpenOptions(write=True, create=True, mode=0o600)
    assert (o.read, o.write, o.create, o.create_new, o.truncate, o.mode) == (
        False,
        True,
        True,
        False,
        False,
        0o600,
    )
    o.read = True
    assert "read=True" in repr(o)
    async with await fs.open(f"{base}/m", o) as f:
        assert (await f.metadata()).permissions() == 0o600


async def test_file_ops(fs: ninefold.Client, base: str) -> None:
    f = await fs.open(f"{base}/f", ninefold.OpenOptions(read=True, write=True, create=True))
    await f.write_at(10, b"xyz")
    assert await f.read_at(0, 100) == b"\0" * 10 + b"xyz"
    await f.set_len(5)
    assert (await f.metadata()).size == 5
    m = await f.set_attr(ninefold.SetAttrs(mode=0o604))
    assert m.permissions() == 0o604
    assert await none(f.sync_all)() is None
    assert await none(f.sync_data)() is None
    await f.close()


async def test_streaming(fs: ninefold.Client, base: str) -> None:
    data = os.urandom(5 * 1024 * 1024 + 123)
    async with await fs.create(f"{base}/s") as f:
        assert await f.write_from(data) == len(data)
        chunks = [c async for c in f.read_chunks(1 << 20)]
        assert b"".join(chunks) == data
        assert all(len(c) <= 1 << 20 for c in chunks)
        part = [c async for c in f.read_chunks(1000, offset=10, length=2500)]
        assert b"".join(part) == data[10:2510]

        async def gen() -> AsyncIterator[bytes]:
            for i in range(3):
                yield bytes([i]) * 10

        assert await f.write_from(gen(), offset=0) == 30
        assert await f.read_at(0, 30) == b"\0" * 10 + b"\1" * 10 + b"\2" * 10
        assert await f.write_from([b"ab", b"cd"], offset=1) == 4
        assert await f.read_at(0, 6) == b"\0abcd\0"
        import io

        assert await f.write_from(io.BytesIO(b"Q" * 100), offset=0) == 100
        assert await f.read_at(0, 100) == b"Q" * 100


async def test_concurrent_tasks(fs: ninefold.Client, base: str) -> None:
    import asyncio

    await asyncio.gather(*(fs.write(f"{base}/c{i}", bytes([i]) * 1000) for i in range(32)))
    got = await asyncio.gather(*(fs.read(f"{base}/c{i}") for i in range(32)))
    assert got == [bytes([i]) * 1000 for i in range(32)]


async def test_many_tasks_in_a_row(fs: ninefold.Client, base: str) -> None:
    """32 tasks each awaiting 50 calls in a row: every outcome reaches the
    loop (the runtime threads queue them and wake the loop, which must not
    lose a wake-up while it drains)."""

    async def loop(i: int) -> int:
        n = 0
        for _ in range(50):
            n += (await fs.metadata(base)).is_dir()
        return n + i

    got = await asyncio.wait_for(asyncio.gather(*(loop(i) for i in range(32))), 60)
    assert got == [50 + i for i in range(32)]
