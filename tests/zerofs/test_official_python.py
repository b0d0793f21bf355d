"""The official `zerofs-client` wheel (PyPI) against `ninefold serve`.

Every operation of the Client, File and Dir tables of the client's reference,
with their results checked, the error type of the failure cases, and a
SIGKILL + restart of the server in the middle of a session. Runs against
memfs and a passthrough directory (the `server` fixture is parametrized).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import socket
import subprocess
import time
from pathlib import Path

import pytest
import zerofs_client as z

from conftest import REPO, Server, free_port, options

E = z.ZeroFsError
UTC = dt.timezone.utc  # noqa: UP017 (Python 3.9)


async def test_connect_and_capabilities(server: Server) -> None:
    fs = await z.Client.connect(server.target)  # plain connect, default identity
    caps = fs.capabilities()
    assert caps.msize >= 4096
    assert caps.max_read_chunk == caps.msize - 11
    assert caps.max_write_chunk == caps.msize - 48
    assert (await fs.stat("/")).is_dir()
    await fs.close()
    fs2 = await z.Client.connect_with(server.target, z.ConnectOptions(msize=65536, uid=0, gid=0))
    assert fs2.capabilities().msize == 65536
    await fs2.close()


async def test_connect_failure_is_typed() -> None:
    with pytest.raises(E.ConnectFailed):
        await z.Client.connect_with(
            f"tcp://127.0.0.1:{free_port()}", z.ConnectOptions(connect_timeout_ms=2000)
        )


async def test_write_read(fs: z.Client, base: str, server: Server) -> None:
    p = f"{base}/a.txt"
    await fs.write(p, b"hello zerofs")
    assert await fs.read(p) == b"hello zerofs"
    await fs.write(p, b"hi")  # truncates
    assert await fs.read(p) == b"hi"
    big = bytes((i * 7) % 251 for i in range(3_000_000))
    await fs.write(f"{base}/big.bin", big)
    assert await fs.read(f"{base}/big.bin") == big
    host = server.host_path(f"{base}/big.bin")
    if host is not None:
        assert host.read_bytes() == big
    with pytest.raises(E.NotFound):
        await fs.read(f"{base}/missing")
    await fs.write_text(f"{base}/t.txt", "grüße")
    assert await fs.read_text(f"{base}/t.txt") == "grüße"


async def test_read_range(fs: z.Client, base: str) -> None:
    p = f"{base}/r"
    await fs.write(p, b"0123456789")
    assert await fs.read_range(p, 3, 4) == b"3456"
    assert await fs.read_range(p, 8, 100) == b"89"
    assert await fs.read_range(p, 50, 10) == b""
    with pytest.raises(E.NotFound):
        await fs.read_range(f"{base}/nope", 0, 1)


async def test_append(fs: z.Client, base: str) -> None:
    p = f"{base}/log"
    assert await fs.append(p, b"one\n") == 0
    assert await fs.append(p, b"two\n") == 4
    assert await fs.read(p) == b"one\ntwo\n"
    with pytest.raises(E.NotFound):
        await fs.append(f"{base}/no/such", b"x")


async def test_stat_metadata_exists_canonicalize(fs: z.Client, base: str) -> None:
    p = f"{base}/f"
    await fs.write(p, b"12345")
    m = await fs.stat(p)
    assert m.is_file() and m.size == 5 and m.nlink == 1 and m.file_type == z.FileType.FILE
    await fs.symlink("f", f"{base}/ln")
    ls = await fs.stat(f"{base}/ln")
    assert ls.is_symlink() and ls.size == 1
    lm = await fs.metadata(f"{base}/ln")
    assert lm.is_file() and lm.ino == m.ino and lm.size == 5
    assert await fs.exists(p) and await fs.exists(f"{base}/ln")
    assert not await fs.exists(f"{base}/nope")
    await fs.create_dir_all(f"{base}/x/y", 0o755)
    await fs.symlink("x/y", f"{base}/yl")
    assert (await fs.canonicalize_str(f"{base}/yl")).lstrip("/") == f"{base}/x/y".lstrip("/")
    with pytest.raises(E.NotFound):
        await fs.stat(f"{base}/nope")
    with pytest.raises(E.NotADirectory):
        await fs.stat(f"{base}/f/x")
    with pytest.raises(E.NameTooLong):
        await fs.stat(f"{base}/{'x' * 300}")
    with pytest.raises(E.InvalidArgument):
        await fs.stat(f"{base}/../etc")
    await fs.symlink("l2", f"{base}/l1")
    await fs.symlink("l1", f"{base}/l2")
    with pytest.raises(E.TooManySymlinks):
        await fs.metadata(f"{base}/l1")


async def test_set_attr_family(fs: z.Client, base: str, server: Server) -> None:
    p = f"{base}/attr"
    await fs.write(p, b"abcdef")
    assert (await fs.chmod(p, 0o600)).permissions() == 0o600
    m = await fs.chown(p, 1234, 2345)
    assert (m.uid, m.gid) == (1234, 2345)
    m = await fs.chown(p, None, 3456)
    assert (m.uid, m.gid) == (1234, 3456)
    assert (await fs.truncate(p, 3)).size == 3
    assert await fs.read(p) == b"abc"
    assert (await fs.truncate(p, 10)).size == 10
    t = dt.datetime(2001, 9, 9, 1, 46, 40, tzinfo=UTC)
    m = await fs.set_times(p, z.SetTime.AT(t), z.SetTime.AT(t))
    assert m.mtime == t and m.atime == t
    m = await fs.set_times(p, None, z.SetTime.NOW())
    assert m.mtime.year >= 2024 and m.atime == t
    m = await fs.set_attr(p, z.SetAttrs(mode=0o640, size=1))
    assert m.permissions() == 0o640 and m.size == 1
    st = await fs.stat(p)
    assert st.permissions() == 0o640 and st.size == 1
    host = server.host_path(p)
    if host is not None:
        hs = os.stat(host)
        assert (hs.st_mode & 0o7777, hs.st_uid, hs.st_gid, hs.st_size) == (0o640, 1234, 3456, 1)
    with pytest.raises(E.NotFound):
        await fs.chmod(f"{base}/missing", 0o600)


async def test_statfs_sync(fs: z.Client, base: str) -> None:
    s = await fs.statfs()
    assert s.block_size > 0 and s.max_name_len >= 255 and s.blocks_free <= s.blocks
    await fs.write(f"{base}/s", b"durable")
    await fs.sync()


async def test_dirs(fs: z.Client, base: str) -> None:
    m = await fs.create_dir(f"{base}/d1", 0o750)
    assert m.is_dir() and m.permissions() == 0o750
    with pytest.raises(E.AlreadyExists):
        await fs.create_dir(f"{base}/d1", 0o755)
    with pytest.raises(E.NotFound):
        await fs.create_dir(f"{base}/no/such", 0o755)
    await fs.create_dir_all(f"{base}/a/b/c/d", 0o755)
    await fs.create_dir_all(f"{base}/a/b/c/d", 0o755)
    assert (await fs.stat(f"{base}/a/b/c/d")).is_dir()
    await fs.write(f"{base}/a/b/file", b"x")
    with pytest.raises(E.DirectoryNotEmpty):
        await fs.remove_dir(f"{base}/a/b")
    with pytest.raises(E.NotADirectory):
        await fs.remove_dir(f"{base}/a/b/file")
    with pytest.raises((E.IsADirectory, E.NotPermitted)):
        await fs.remove_file(f"{base}/a/b/c")
    await fs.remove_dir(f"{base}/a/b/c/d")
    await fs.remove_file(f"{base}/a/b/file")
    assert not await fs.exists(f"{base}/a/b/file")
    with pytest.raises(E.NotFound):
        await fs.remove_file(f"{base}/a/b/file")
    await fs.write(f"{base}/a/b/c/deep", b"y")
    await fs.remove_dir_all(f"{base}/a")
    assert not await fs.exists(f"{base}/a")


async def test_rename_links(fs: z.Client, base: str) -> None:
    await fs.write(f"{base}/src", b"S")
    await fs.write(f"{base}/dst", b"D")
    await fs.rename(f"{base}/src", f"{base}/dst")
    assert await fs.read(f"{base}/dst") == b"S"
    assert not await fs.exists(f"{base}/src")
    with pytest.raises(E.NotFound):
        await fs.rename(f"{base}/src", f"{base}/x")
    m = await fs.hard_link(f"{base}/dst", f"{base}/hl")
    assert m.nlink == 2 and m.is_file()
    assert (await fs.stat(f"{base}/hl")).ino == (await fs.stat(f"{base}/dst")).ino
    with pytest.raises(E.AlreadyExists):
        await fs.hard_link(f"{base}/dst", f"{base}/hl")
    m = await fs.symlink("some/where", f"{base}/sl")
    assert m.is_symlink() and m.size == 10
    assert await fs.read_link(f"{base}/sl") == b"some/where"
    assert await fs.read_link_str(f"{base}/sl") == "some/where"
    with pytest.raises(E.InvalidArgument):
        await fs.read_link(f"{base}/dst")
    with pytest.raises(E.AlreadyExists):
        await fs.symlink("x", f"{base}/sl")


async def test_mknod(fs: z.Client, base: str) -> None:
    assert (await fs.mknod(f"{base}/fifo", z.NodeKind.FIFO(), 0o644)).file_type == z.FileType.FIFO
    assert (
        await fs.mknod(f"{base}/sock", z.NodeKind.SOCKET(), 0o644)
    ).file_type == z.FileType.SOCKET
    m = await fs.mknod(f"{base}/chr", z.NodeKind.CHAR_DEVICE(1, 3), 0o600)
    assert m.file_type == z.FileType.CHAR_DEVICE and m.rdev == 0x103
    m = await fs.mknod(f"{base}/blk", z.NodeKind.BLOCK_DEVICE(7, 0), 0o600)
    assert m.file_type == z.FileType.BLOCK_DEVICE
    with pytest.raises(E.AlreadyExists):
        await fs.mknod(f"{base}/fifo", z.NodeKind.FIFO(), 0o644)


async def test_read_dir(fs: z.Client, base: str) -> None:
    await fs.create_dir(f"{base}/ls", 0o755)
    await asyncio.gather(*(fs.write(f"{base}/ls/f{i:03}", b"x" * i) for i in range(300)))
    await fs.create_dir(f"{base}/ls/sub", 0o755)
    entries = await fs.read_dir(f"{base}/ls")
    assert len(entries) == 301
    names = {e.name for e in entries}
    assert "." not in names and ".." not in names
    for e in entries:
        if e.name == "sub":
            assert e.file_type == z.FileType.DIR and e.metadata.is_dir()
        else:
            assert e.file_type == z.FileType.FILE
            assert e.metadata is not None and e.metadata.size == int(e.name[1:])
            assert e.metadata.ino == e.ino and e.name_bytes == e.name.encode()
    with pytest.raises(E.NotADirectory):
        await fs.read_dir(f"{base}/ls/f001")
    with pytest.raises(E.NotFound):
        await fs.read_dir(f"{base}/nope")


async def test_file_ops(fs: z.Client, base: str) -> None:
    p = f"{base}/file"
    f = await fs.create(p)
    await f.write_at(0, b"hello")
    await f.write_at(10, b"world")
    assert await f.read_at(0, 100) == b"hello\0\0\0\0\0world"
    assert await f.read_at(10, 3) == b"wor"
    assert await f.read_at(100, 3) == b""
    m = await f.metadata()
    assert m.size == 15 and m.is_file()
    await f.set_len(4)
    assert (await f.metadata()).size == 4
    assert (await f.set_attr(z.SetAttrs(mode=0o604))).permissions() == 0o604
    await f.sync_all()
    await f.write_at(4, b"!")
    await f.sync_data()
    assert await fs.read(p) == b"hell!"
    chunks = [c async for c in f.read_chunks(2)]
    assert b"".join(chunks) == b"hell!"

    async def gen():  # type: ignore[no-untyped-def]
        yield b"ab"
        yield b"cd"

    assert await f.write_from(gen(), 1) == 4
    assert await fs.read(p) == b"habcd"
    await f.close()
    await f.close()
    with pytest.raises(E.Closed):
        await f.read_at(0, 1)
    async with await fs.create(p) as f2:
        assert (await f2.metadata()).size == 0
    with pytest.raises(E.NotFound):
        await fs.open(f"{base}/absent", z.OpenOptions(read=True))
    async with await fs.open(
        f"{base}/new", z.OpenOptions(write=True, create=True, mode=0o600)
    ) as f3:
        await f3.write_at(0, b"new")
    assert (await fs.stat(f"{base}/new")).permissions() == 0o600
    with pytest.raises(E.AlreadyExists):
        await fs.open(f"{base}/new", z.OpenOptions(write=True, create_new=True))
    async with await fs.open(
        f"{base}/new", z.OpenOptions(read=True, write=True, truncate=True)
    ) as f4:
        assert (await f4.metadata()).size == 0
    with pytest.raises(E.InvalidArgument):
        await fs.open(f"{base}/new", z.OpenOptions())
    with pytest.raises(E.IsADirectory):
        await fs.open(base, z.OpenOptions(write=True))
    async with await fs.open(f"{base}/new", z.OpenOptions(read=True)) as ro:
        with pytest.raises(z.ZeroFsError):
            await ro.write_at(0, b"x")


async def test_dir_ops(fs: z.Client, base: str) -> None:
    await fs.create_dir(f"{base}/D", 0o755)
    await fs.create_dir(f"{base}/E", 0o755)
    d = await fs.open_dir(f"{base}/D")
    e = await fs.open_dir(f"{base}/E")
    assert (await d.metadata()).is_dir()
    assert (await d.set_attr(z.SetAttrs(mode=0o711))).permissions() == 0o711
    odd = b"odd\xffname"
    async with await d.open_at(odd, z.OpenOptions(write=True, create=True)) as f:
        await f.write_at(0, b"odd")
    m = await d.metadata_at(odd)
    assert m.size == 3 and m.is_file()
    assert (await d.set_attr_at(odd, z.SetAttrs(size=1))).size == 1
    m = await d.create_dir_at(b"sub", 0o700)
    assert m.is_dir() and m.permissions() == 0o700
    async with await d.open_dir_at(b"sub") as sub:
        assert (await sub.metadata()).ino == m.ino
    assert (await d.symlink_at(b"sym", b"\x01raw target")).is_symlink()
    assert await d.read_link_at(b"sym") == b"\x01raw target"
    assert (await e.link_at(d, odd, b"linked")).nlink == 2
    assert (await d.mknod_at(b"pipe", z.NodeKind.FIFO(), 0o600)).file_type == z.FileType.FIFO
    got: list[bytes] = []
    while True:
        batch = await d.next_batch(2)
        if not batch:
            break
        assert len(batch) <= 2
        for ent in batch:
            if ent.name_bytes == odd:
                assert not ent.name_is_utf8 and "\ufffd" in ent.name
            got.append(ent.name_bytes)
    assert sorted(got) == sorted([odd, b"sub", b"sym", b"pipe"])
    await d.rewind()
    assert sorted([ent.name_bytes async for ent in d]) == sorted(got)
    await d.rename_at(odd, e, b"moved")
    with pytest.raises(E.NotFound):
        await d.metadata_at(odd)
    assert (await e.metadata_at(b"moved")).size == 1
    await d.rename_at(b"pipe", d, b"pipe2")
    await d.remove_file_at(b"pipe2")
    await d.remove_file_at(b"sym")
    with pytest.raises(E.NotFound):
        await d.remove_file_at(b"sym")
    with pytest.raises(E.NotFound):
        await d.remove_dir_at(b"absent")
    await d.remove_dir_at(b"sub")
    with pytest.raises(E.InvalidArgument):
        await d.create_dir_at(b"a/b", 0o755)
    await d.rewind()
    assert await d.next_batch(None) == []
    await d.close()
    await d.close()
    with pytest.raises(E.Closed):
        await d.metadata()
    await e.close()


async def test_client_close(server: Server) -> None:
    fs = await z.Client.connect_with(server.target, options())
    await fs.write("/closing", b"x")
    await fs.close()
    await fs.close()
    with pytest.raises(E.Closed):
        await fs.read("/closing")


async def test_reconnect_after_sigkill_restart(fs: z.Client, base: str, server: Server) -> None:
    p = f"{base}/persist"
    await fs.write(p, b"before restart")
    f = await fs.open(p, z.OpenOptions(read=True, write=True))
    await f.sync_all()
    # names at the root: a memfs restart loses `base`, the root stays
    during, after = f"{base}-during", f"{base}-after"
    server.kill()
    # a call made while the server is down waits, then completes
    pending = asyncio.ensure_future(fs.write(during, b"sent while down"))
    await asyncio.sleep(0.3)
    assert not pending.done()
    server.start()
    await asyncio.wait_for(pending, 30)
    assert await fs.read(during) == b"sent while down"
    await fs.write(after, b"after restart")
    assert await fs.read(after) == b"after restart"
    assert {e.name for e in await fs.read_dir("/")} >= {during[1:], after[1:]}
    if server.export is not None:
        assert await fs.read(p) == b"before restart"
        # the open handle is restored (Trebind finds the inode again) or, if
        # the restarted server cannot find objects by inode number, fails
        # cleanly as Stale; it never reads another file
        try:
            restored = await f.read_at(0, 6)
        except E.Stale:
            print("note: an open handle is Stale after the passthrough restart")
        else:
            assert restored == b"before"
            await f.write_at(0, b"BEFORE")
            assert await fs.read(p) == b"BEFORE restart"
    else:
        assert not await fs.exists(p)
        with pytest.raises((E.Stale, E.NotFound)):
            await f.read_at(0, 6)  # the file is gone: fail cleanly, never another file
    await f.close()


@pytest.mark.parametrize("n", [1])
async def test_error_to_errno(fs: z.Client, base: str, n: int) -> None:
    try:
        await fs.read(f"{base}/missing{n}")
    except E.NotFound as err:
        assert z.error_to_errno(err) == 2
    else:
        pytest.fail("read of a missing file succeeded")


def start_diod(export: str, port: int) -> subprocess.Popen[bytes]:
    """diod through the repository's launcher (installs it with apt when missing)."""
    proc = subprocess.Popen(
        [str(REPO / "scripts" / "diod-serve.sh"), export, str(port), "60"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while True:
        assert proc.poll() is None, "diod did not start (scripts/diod-serve.sh)"
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return proc
        except OSError:
            assert time.monotonic() < deadline, "diod did not listen"
            time.sleep(0.05)


async def test_official_client_refuses_plain_diod(tmp_path: Path) -> None:
    """The expected failure mode against a server without the dialect: diod
    answers Tversion("9P2000.L.Z") with Rlerror(EIO) and the official client
    gives up with ConnectFailed (it has no fallback to plain 9P2000.L)."""
    port = free_port()
    export = str(tmp_path.resolve())  # noqa: ASYNC240 (a local path, once)
    proc = start_diod(export, port)
    try:
        with pytest.raises(E.ConnectFailed) as info:
            await z.Client.connect_with(
                f"tcp://127.0.0.1:{port}", z.ConnectOptions(aname=export, connect_timeout_ms=5000)
            )
        assert "errno 5" in str(info.value)
    finally:
        proc.terminate()  # `timeout` passes SIGTERM on to diod
        proc.wait()
