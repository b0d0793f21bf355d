"""``File.read_into`` / ``SyncFile.read_into``: a span read into a buffer
the caller owns (bytearray, writable memoryview, array), returning the
count; read-only and non-contiguous buffers are a ``TypeError``; the
buffer's export ends with the call, so it can be resized after."""

from __future__ import annotations

import array
import asyncio
import os

import pytest

import ninefold

SIZE = (3 << 20) + 123


def test_sync_read_into(sfs: ninefold.SyncClient, base: str) -> None:
    p = f"{base}/r"
    data = os.urandom(SIZE)
    sfs.write(p, data)
    with sfs.open(p, ninefold.OpenOptions(read=True)) as f:
        buf = bytearray(SIZE)
        assert f.read_into(0, buf) == SIZE
        assert buf == data
        # The same buffer again, from an offset: a short count is the end.
        assert f.read_into(1000, buf) == SIZE - 1000
        assert buf[: SIZE - 1000] == data[1000:]
        buf.append(1)  # the export ended: the bytearray can grow again
        # A window of a larger buffer: only the window is written.
        big = bytearray(b"\xaa" * 10_000)
        assert f.read_into(7, memoryview(big)[10:5010]) == 5000
        assert big[10:5010] == data[7:5007]
        assert big[:10] == b"\xaa" * 10 and big[5010:] == b"\xaa" * 4990
        # Items wider than a byte: the count is in bytes.
        words = array.array("I", [0] * 1000)
        assert f.read_into(0, words) == 4000
        assert words.tobytes() == data[:4000]
        # At or past the end, and an empty buffer.
        assert f.read_into(SIZE, bytearray(10)) == 0
        assert f.read_into(SIZE + 5, bytearray(10)) == 0
        assert f.read_into(0, bytearray()) == 0


def test_sync_read_into_rejects_unwritable_buffers(sfs: ninefold.SyncClient, base: str) -> None:
    p = f"{base}/r"
    sfs.write(p, b"x" * 100)
    with sfs.open(p, ninefold.OpenOptions(read=True)) as f:
        with pytest.raises(TypeError, match="read-only"):
            f.read_into(0, b"\0" * 10)
        with pytest.raises(TypeError, match="writable buffer"):
            f.read_into(0, "text")  # type: ignore[arg-type]
        with pytest.raises(TypeError, match="contiguous"):
            f.read_into(0, memoryview(bytearray(100))[::2])
        f.close()
        buf = bytearray(10)
        with pytest.raises(ninefold.Closed):
            f.read_into(0, buf)
        buf.append(1)  # released on the error path too


async def test_async_read_into(fs: ninefold.Client, base: str) -> None:
    p = f"{base}/r"
    data = os.urandom(SIZE)
    await fs.write(p, data)
    async with await fs.open(p, ninefold.OpenOptions(read=True)) as f:
        buf = bytearray(SIZE)
        assert await f.read_into(0, buf) == SIZE
        assert buf == data
        buf.append(1)
        # Two at once into separate buffers.
        a, b = bytearray(1 << 20), bytearray(1 << 20)
        got = await asyncio.gather(f.read_into(0, a), f.read_into(SIZE - 100, b))
        assert list(got) == [1 << 20, 100]
        assert a == data[: 1 << 20] and b[:100] == data[-100:]
        with pytest.raises(TypeError, match="read-only"):
            await f.read_into(0, b"\0" * 10)
        assert await f.read_into(SIZE, bytearray(10)) == 0
        await f.close()
        with pytest.raises(ninefold.Closed):
            await f.read_into(0, buf)
        buf.append(1)


def test_read_into_bytearray_subclass_and_views(sfs: ninefold.SyncClient, base: str) -> None:
    """A ``bytearray`` (or a subclass) is written through its own storage,
    anything else through its ``memoryview``: both give the same bytes, a
    read that spans several segments and a short read at the end of the
    file included."""

    class Buf(bytearray):
        pass

    data = os.urandom(SIZE)
    sfs.write(f"{base}/s", data)
    with sfs.open(f"{base}/s", ninefold.OpenOptions(read=True)) as f:
        for buf in (bytearray(SIZE), Buf(SIZE), memoryview(bytearray(SIZE))):
            assert f.read_into(0, buf) == SIZE
            assert bytes(buf) == data
        tail = Buf(b"\x55" * 100)
        assert f.read_into(SIZE - 40, tail) == 40
        assert bytes(tail[:40]) == data[-40:] and bytes(tail[40:]) == b"\x55" * 60
