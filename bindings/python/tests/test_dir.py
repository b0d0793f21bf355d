"""Dir handles: the listing cursor and every `*_at` call, including
non-UTF-8 names fed back through `DirEntry.name_bytes`."""

from __future__ import annotations

import datetime as dt

import pytest

import ninefold
from conftest import Server

ODD = b"caf\xe9-\xff"  # not UTF-8


async def test_listing_cursor(fs: ninefold.Client, base: str) -> None:
    for i in range(50):
        await fs.write(f"{base}/f{i:02}", b"")
    async with await fs.open_dir(base) as d:
        first = await d.next_batch(7)
        assert len(first) == 7
        rest: list[ninefold.DirEntry] = []
        while batch := await d.next_batch():
            rest.extend(batch)
        assert sorted(e.name for e in first + rest) == [f"f{i:02}" for i in range(50)]
        assert await d.next_batch() == []
        await d.rewind()
        again = [e.name async for e in d]
        assert sorted(again) == [f"f{i:02}" for i in range(50)]
        await d.rewind()
        one = await d.next_batch(1)
        assert len(one) == 1
        tail = [e.name async for e in d]
        assert len(tail) == 49 and one[0].name not in tail
    meta = await (await fs.open_dir(base)).metadata()
    assert meta.is_dir()


async def test_at_calls(fs: ninefold.Client, base: str) -> None:
    d = await fs.open_dir(base)
    m = await d.create_dir_at(b"sub", 0o700)
    assert m.is_dir() and m.permissions() == 0o700
    sub = await d.open_dir_at("sub")
    async with await sub.open_at(b"f", ninefold.OpenOptions(write=True, create=True)) as f:
        await f.write_at(0, b"hello")
    assert (await sub.metadata_at(b"f")).size == 5
    m = await sub.set_attr_at(b"f", ninefold.SetAttrs(mode=0o611))
    assert m.permissions() == 0o611
    m = await sub.symlink_at(b"ln", b"f")
    assert m.is_symlink()
    assert await sub.read_link_at(b"ln") == b"f"
    assert (await sub.metadata_at(b"ln")).is_symlink()
    m = await d.link_at(sub, b"f", b"hard")
    assert m.nlink == 2
    assert await fs.read(f"{base}/hard") == b"hello"
    m = await sub.mknod_at(b"p", ninefold.NodeKind.Fifo, 0o600)
    assert m.file_type == ninefold.FileType.Fifo
    await sub.rename_at(b"f", d, b"moved")
    assert await fs.read(f"{base}/moved") == b"hello"
    await d.rename_at(b"moved", d, b"moved2")
    await sub.remove_file_at(b"p")
    await sub.remove_file_at(b"ln")
    await sub.close()
    await d.remove_dir_at(b"sub")
    assert sorted(e.name for e in await fs.read_dir(base)) == ["hard", "moved2"]
    when = dt.datetime(2010, 1, 1, tzinfo=dt.timezone.utc)
    m = await d.set_attr(ninefold.SetAttrs(mtime=when))
    assert m.mtime == when
    await d.close()
    await d.close()


async def test_non_utf8_names(fs: ninefold.Client, base: str) -> None:
    d = await fs.open_dir(base)
    async with await d.open_at(ODD, ninefold.OpenOptions(write=True, create=True)) as f:
        await f.write_at(0, b"odd")
    await d.create_dir_at(ODD + b"-dir")
    entries = {e.name_bytes: e async for e in d}
    e = entries[ODD]
    assert e.name_is_utf8 is False
    assert "\ufffd" in e.name
    assert e.name_bytes == ODD
    assert (await d.metadata_at(e.name_bytes)).size == 3
    sub = await d.open_dir_at(entries[ODD + b"-dir"].name_bytes)
    await sub.close()
    # The path API takes the same bytes (and surrogate-escaped str).
    assert await fs.read(base.encode() + b"/" + ODD) == b"odd"
    assert await fs.read(f"{base}/" + ODD.decode("utf-8", "surrogateescape")) == b"odd"
    await d.rename_at(e.name_bytes, d, ODD + b"2")
    await d.remove_file_at(ODD + b"2")
    await d.remove_dir_at(ODD + b"-dir")
    await d.rewind()
    assert [x.name_bytes async for x in d] == []
    await d.close()


async def test_passthrough_host_view(passthrough: Server, base: str) -> None:
    """What the *_at calls made is really there on the host disk."""
    assert passthrough.export is not None
    async with await passthrough.connect() as fs:
        await fs.create_dir(base)
        d = await fs.open_dir(base)
        async with await d.open_at(ODD, ninefold.OpenOptions(write=True, create=True)) as f:
            await f.write_at(0, b"disk")
        host = passthrough.export / base.lstrip("/")
        import os

        assert os.listdir(os.fsencode(host)) == [ODD]
        assert (host / os.fsdecode(ODD)).read_bytes() == b"disk"
        await d.close()
        await fs.remove_dir_all(base)


def test_sync_dir(sfs: ninefold.SyncClient, base: str) -> None:
    for i in range(10):
        sfs.write(f"{base}/s{i}", b"x")
    with sfs.open_dir(base) as d:
        assert isinstance(d, ninefold.SyncDir)
        names = sorted(e.name for e in d)
        assert names == [f"s{i}" for i in range(10)]
        d.rewind()
        assert len(d.next_batch(3)) == 3
        d.create_dir_at(ODD)
        assert d.metadata_at(ODD).is_dir()
        d.remove_dir_at(ODD)
        with pytest.raises(ninefold.NotFound):
            d.metadata_at(ODD)
