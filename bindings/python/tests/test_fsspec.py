"""fsspec: the ``9p`` protocol through the entry point, a pandas round trip,
and fsspec's own abstract test classes."""

from __future__ import annotations

import posixpath
import uuid
from collections.abc import Iterator
from typing import Any, Callable

import fsspec
import fsspec.tests.abstract as abstract
import pandas as pd
import pytest

import ninefold
from conftest import Server, get_server
from ninefold.fsspec import NinefoldFileSystem


def url(s: Server, path: str) -> str:
    return s.target.replace("tcp://", "9p://") + path


def test_entry_point_registers_9p() -> None:
    assert fsspec.get_filesystem_class("9p") is NinefoldFileSystem
    assert fsspec.get_filesystem_class("ninefold") is NinefoldFileSystem


def test_open_url(ninefold_server: Server, base: str) -> None:
    with ninefold_server.connect_sync() as c:
        c.create_dir(base)
        c.write(f"{base}/data.csv", b"a,b\n1,2\n")
    with fsspec.open(url(ninefold_server, f"{base}/data.csv"), "rb") as f:
        assert f.read() == b"a,b\n1,2\n"
    with fsspec.open(url(ninefold_server, f"{base}/out.txt"), "wt") as f:
        f.write("written through fsspec")
    with ninefold_server.connect_sync() as c:
        assert c.read_text(f"{base}/out.txt") == "written through fsspec"
        c.remove_dir_all(base)


def test_pandas_round_trip(ninefold_server: Server, base: str) -> None:
    fs = fsspec.filesystem("9p", target=ninefold_server.target)
    fs.mkdir(base)
    df = pd.DataFrame({"x": range(1000), "y": [f"row {i}" for i in range(1000)]})
    # pandas hands only letter-first schemes to fsspec: `ninefold://`.
    named = url(ninefold_server, f"{base}/data.csv").replace("9p://", "ninefold://")
    df.to_csv(named, index=False)
    back = pd.read_csv(named)
    pd.testing.assert_frame_equal(df, back)
    # `9p://` through an fsspec file object.
    with fsspec.open(url(ninefold_server, f"{base}/data.csv"), "rb") as f:
        pd.testing.assert_frame_equal(df, pd.read_csv(f))
    with fsspec.open(url(ninefold_server, f"{base}/d2.csv"), "wt") as f:
        df.to_csv(f, index=False)
    pd.testing.assert_frame_equal(df, pd.read_csv(named.replace("data.csv", "d2.csv")))
    assert fs.info(f"{base}/data.csv")["size"] == len(df.to_csv(index=False).encode())
    fs.rm(base, recursive=True)
    assert not fs.exists(base)


def test_filesystem_calls(ninefold_server: Server, base: str) -> None:
    fs = NinefoldFileSystem(target=ninefold_server.target, skip_instance_cache=True)
    fs.makedirs(f"{base}/a/b")
    fs.pipe_file(f"{base}/a/b/f", b"0123456789")
    assert fs.cat_file(f"{base}/a/b/f", start=2, end=5) == b"234"
    assert fs.cat_file(f"{base}/a/b/f", start=-3) == b"789"
    assert fs.ls(f"{base}/a", detail=False) == [f"{base}/a/b"]
    info = fs.info(f"{base}/a/b/f")
    assert info["type"] == "file" and info["size"] == 10 and info["name"] == f"{base}/a/b/f"
    assert fs.isdir(f"{base}/a") and fs.isfile(f"{base}/a/b/f")
    fs.cp_file(f"{base}/a/b/f", f"{base}/g")
    fs.mv(f"{base}/g", f"{base}/h")
    assert fs.cat(f"{base}/h") == b"0123456789"
    fs.touch(f"{base}/t")
    assert fs.size(f"{base}/t") == 0
    assert fs.modified(f"{base}/t").tzinfo is not None
    assert sorted(fs.find(base)) == [f"{base}/a/b/f", f"{base}/h", f"{base}/t"]
    with fs.open(f"{base}/h", "ab") as f:
        f.write(b"!")
    assert fs.cat(f"{base}/h") == b"0123456789!"
    with fs.open(f"{base}/h", "rb", block_size=4) as f:
        f.seek(3)
        assert f.read(4) == b"3456"
    with pytest.raises(FileNotFoundError):
        fs.info(f"{base}/missing")
    fs.rm(base, recursive=True)


class NinefoldFixtures(abstract.AbstractFixtures):  # type: ignore[misc]
    @pytest.fixture(scope="class")
    @classmethod
    def fs(cls) -> Iterator[NinefoldFileSystem]:
        s = get_server("memfs")
        yield NinefoldFileSystem(target=s.target, skip_instance_cache=True)

    @pytest.fixture
    def fs_path(self, fs: NinefoldFileSystem) -> Iterator[str]:
        p = f"/abstract-{uuid.uuid4().hex[:10]}"
        fs.mkdir(p)
        yield p
        fs.rm(p, recursive=True)

    @pytest.fixture
    def fs_join(self) -> Callable[..., Any]:
        return posixpath.join

    @pytest.fixture
    def supports_empty_directories(self) -> bool:
        return True


class TestCopy(abstract.AbstractCopyTests, NinefoldFixtures):  # type: ignore[misc]
    pass


class TestGet(abstract.AbstractGetTests, NinefoldFixtures):  # type: ignore[misc]
    pass


class TestPut(abstract.AbstractPutTests, NinefoldFixtures):  # type: ignore[misc]
    pass


class TestOpen(abstract.AbstractOpenTests, NinefoldFixtures):  # type: ignore[misc]
    pass


class TestPipe(abstract.AbstractPipeTests, NinefoldFixtures):  # type: ignore[misc]
    pass


def test_sync_client_type() -> None:
    assert NinefoldFileSystem.protocol == ("9p", "ninefold")
    assert NinefoldFileSystem._strip_protocol("9p://h:1/a/b/") == "/a/b"
    assert NinefoldFileSystem._get_kwargs_from_urls("9p://h:77/x") == {"host": "h", "port": 77}
    assert isinstance(ninefold.SyncClient, type)
