"""fsspec support: ``ninefold.fsspec.NinefoldFileSystem``, protocol ``9p``.

Registered through the ``fsspec.specs`` entry point, so once ``ninefold`` is
installed::

    import fsspec, pandas
    with fsspec.open("9p://127.0.0.1:5564/data.csv", "rb") as f: ...
    df = pandas.read_csv("ninefold://127.0.0.1:5564/data.csv")

URLs are ``9p://HOST[:PORT]/PATH`` (TCP, port 5564 by default), or the same
with the scheme ``ninefold://``, registered too because pandas only hands
URLs whose scheme starts with a letter (RFC 3986) to fsspec:
``pandas.read_csv("ninefold://127.0.0.1:5564/data.csv")``, or
``pandas.read_csv(fsspec.open("9p://..."))``. Storage options
(``fsspec.filesystem("9p", ...)`` or pandas' ``storage_options``): ``host``,
``port``, ``target`` (any ``ninefold`` target, e.g. ``unix:/run/9p.sock``;
overrides host/port), ``aname``, ``uid``, ``gid``, ``msize``,
``connect_timeout_ms``. Calls go through the blocking client, so the file
system is usable from any thread.
"""

from __future__ import annotations

import datetime as _dt
import posixpath
from typing import Any
from urllib.parse import urlsplit

from fsspec.spec import AbstractBufferedFile, AbstractFileSystem

import ninefold

__all__ = ["NinefoldFile", "NinefoldFileSystem"]


def _kind(m: ninefold.Metadata) -> str:
    if m.is_file():
        return "file"
    if m.is_dir():
        return "directory"
    if m.is_symlink():
        return "link"
    return "other"


_SCHEMES = ("9p://", "ninefold://")


def _split(url: str) -> tuple[str, str]:
    """``9p://AUTHORITY/PATH`` as ``(AUTHORITY, /PATH)``."""
    rest = url.split("://", 1)[1]
    authority, slash, path = rest.partition("/")
    return authority, slash + path


class NinefoldFileSystem(AbstractFileSystem):  # type: ignore[misc]
    """A 9P2000.L server as an fsspec file system."""

    protocol = ("9p", "ninefold")
    root_marker = "/"

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 5564,
        target: str | None = None,
        aname: str = "",
        uid: int | None = None,
        gid: int | None = None,
        msize: int | None = None,
        connect_timeout_ms: int | None = 30000,
        auto_mkdir: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.auto_mkdir = auto_mkdir
        self.target = target or f"tcp://{host}:{port}"
        opts = ninefold.ConnectOptions(
            aname=aname, uid=uid, gid=gid, connect_timeout_ms=connect_timeout_ms
        )
        if msize is not None:
            opts.msize = msize
        self.client = ninefold.connect_sync(self.target, opts)

    # URLs -----------------------------------------------------------------

    @classmethod
    def _strip_protocol(cls, path: Any) -> str:
        if isinstance(path, list):
            return [cls._strip_protocol(p) for p in path]  # type: ignore[return-value]
        path = str(path)
        if path.startswith(_SCHEMES):
            path = _split(path)[1]
        if not path.startswith("/"):
            path = "/" + path
        path = posixpath.normpath(path)
        return "/" if path in ("/", "//") else path.rstrip("/")

    @staticmethod
    def _get_kwargs_from_urls(path: str) -> dict[str, Any]:
        if not path.startswith(_SCHEMES):
            return {}
        # urllib does not take a scheme that starts with a digit: parse
        # the authority as if it were http.
        u = urlsplit("http://" + _split(path)[0])
        out: dict[str, Any] = {}
        if u.hostname:
            out["host"] = u.hostname
        if u.port:
            out["port"] = u.port
        return out

    # Metadata ---------------------------------------------------------------

    def info(self, path: str, **kwargs: Any) -> dict[str, Any]:
        path = self._strip_protocol(path)
        lst = self.client.stat(path)
        meta = lst
        if lst.is_symlink():
            try:
                meta = self.client.metadata(path)
            except FileNotFoundError:
                pass  # dangling: describe the link itself
        return self._describe(path, meta, lst.is_symlink())

    @staticmethod
    def _describe(path: str, m: ninefold.Metadata, islink: bool) -> dict[str, Any]:
        return {
            "name": path,
            "size": m.size,
            "type": _kind(m),
            "islink": islink,
            "mode": m.mode,
            "uid": m.uid,
            "gid": m.gid,
            "ino": m.ino,
            "nlink": m.nlink,
            "mtime": m.mtime_ns / 1e9,
            "created": m.ctime_ns / 1e9,
        }

    def ls(self, path: str, detail: bool = True, **kwargs: Any) -> list[Any]:
        path = self._strip_protocol(path)
        info = self.info(path)
        if info["type"] != "directory":
            return [info] if detail else [path]
        names = sorted(
            posixpath.join(path, e.name_bytes.decode("utf-8", "surrogateescape"))
            for e in self.client.read_dir(path)
        )
        if not detail:
            return names
        return [self.info(n) for n in names]

    def modified(self, path: str) -> _dt.datetime:
        return self.client.metadata(self._strip_protocol(path)).mtime

    def created(self, path: str) -> _dt.datetime:
        return self.client.metadata(self._strip_protocol(path)).ctime

    # Directories ------------------------------------------------------------

    def _parents(self, path: str) -> None:
        """Creates the missing ancestors of ``path`` (with ``auto_mkdir``,
        the default, as fsspec's object-store semantics expect)."""
        parent = posixpath.dirname(path)
        if self.auto_mkdir and parent != "/":
            self.client.create_dir_all(parent)

    def mkdir(self, path: str, create_parents: bool = True, **kwargs: Any) -> None:
        path = self._strip_protocol(path)
        if create_parents:
            parent = posixpath.dirname(path)
            if parent != "/":
                self.client.create_dir_all(parent)
        self.client.create_dir(path)

    def makedirs(self, path: str, exist_ok: bool = False) -> None:
        path = self._strip_protocol(path)
        if not exist_ok and self.client.exists(path):
            raise FileExistsError(path)
        self.client.create_dir_all(path)

    def rmdir(self, path: str) -> None:
        self.client.remove_dir(self._strip_protocol(path))

    def rm_file(self, path: str) -> None:
        self.client.remove_file(self._strip_protocol(path))

    def _rm(self, path: str) -> None:
        self.rm_file(path)

    def rm(self, path: Any, recursive: bool = False, maxdepth: int | None = None) -> None:
        for p in reversed(self.expand_path(path, recursive=recursive, maxdepth=maxdepth)):
            if self.isdir(p):
                if recursive:
                    self.client.remove_dir_all(p)
                else:
                    self.client.remove_dir(p)
            elif self.client.exists(p):
                self.client.remove_file(p)

    # Data ---------------------------------------------------------------------

    def cat_file(
        self, path: str, start: int | None = None, end: int | None = None, **kwargs: Any
    ) -> bytes:
        path = self._strip_protocol(path)
        if start is None and end is None:
            return self.client.read(path)
        size = self.client.metadata(path).size
        s = 0 if start is None else (start if start >= 0 else max(size + start, 0))
        e = size if end is None else (end if end >= 0 else max(size + end, 0))
        if e <= s:
            return b""
        return self.client.read_range(path, s, e - s)

    def pipe_file(self, path: str, value: bytes, mode: str = "overwrite", **kwargs: Any) -> None:
        path = self._strip_protocol(path)
        self._parents(path)
        if mode == "create":
            opts = ninefold.OpenOptions(write=True, create_new=True)
            with self.client.open(path, opts) as f:
                f.write_from(value)
        else:
            self.client.write(path, value)

    def cp_file(self, path1: str, path2: str, **kwargs: Any) -> None:
        src, dst = self._strip_protocol(path1), self._strip_protocol(path2)
        if self.isdir(src):
            self.makedirs(dst, exist_ok=True)
            return
        self._parents(dst)
        with self.client.open(src) as fin, self.client.create(dst) as fout:
            offset = 0
            for chunk in fin.read_chunks():
                fout.write_at(offset, chunk)
                offset += len(chunk)

    def mv(
        self, path1: Any, path2: Any, recursive: bool = False, maxdepth: Any = None, **kwargs: Any
    ) -> None:
        if (
            isinstance(path1, str)
            and isinstance(path2, str)
            and not any(c in path1 for c in "*?[")
            and self.exists(path1)
        ):
            dst = self._strip_protocol(path2)
            if self.isdir(dst) and not self.isdir(path1):
                dst = posixpath.join(dst, posixpath.basename(self._strip_protocol(path1)))
            self.client.rename(self._strip_protocol(path1), dst)
            return
        super().mv(path1, path2, recursive=recursive, maxdepth=maxdepth, **kwargs)

    def touch(self, path: str, truncate: bool = True, **kwargs: Any) -> None:
        path = self._strip_protocol(path)
        self._parents(path)
        if truncate or not self.client.exists(path):
            self.client.write(path, b"")
        else:
            self.client.set_times(path, ninefold.SetTime.Now, ninefold.SetTime.Now)

    def _open(
        self,
        path: str,
        mode: str = "rb",
        block_size: int | None = None,
        autocommit: bool = True,
        cache_options: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> NinefoldFile:
        return NinefoldFile(
            self,
            self._strip_protocol(path),
            mode,
            block_size or "default",
            autocommit=autocommit,
            cache_options=cache_options,
            **kwargs,
        )


class NinefoldFile(AbstractBufferedFile):  # type: ignore[misc]
    """A file of a :class:`NinefoldFileSystem`: buffered, positioned I/O on
    one open handle."""

    def __init__(
        self,
        fs: NinefoldFileSystem,
        path: str,
        mode: str = "rb",
        block_size: Any = "default",
        **kwargs: Any,
    ) -> None:
        client = fs.client
        self.handle: ninefold.SyncFile | None = None
        self._written = 0
        if ("w" in mode or "a" in mode or "x" in mode) and fs.auto_mkdir:
            fs._parents(path)
        if "x" in mode:
            # Exclusive create happens now, so the error comes at open().
            self.handle = client.open(path, ninefold.OpenOptions(write=True, create_new=True))
        elif "r" in mode:
            self.handle = client.open(path)
            kwargs.setdefault("size", self.handle.metadata().size)
        super().__init__(fs, path, mode, block_size, **kwargs)

    def _fetch_range(self, start: int, end: int) -> bytes:
        assert self.handle is not None
        return self.handle.read_at(start, end - start)

    def _initiate_upload(self) -> None:
        if self.handle is not None:
            return
        client = self.fs.client
        if "a" in self.mode:
            self.handle = client.open(self.path, ninefold.OpenOptions(write=True, create=True))
            self._written = self.handle.metadata().size
        else:
            self.handle = client.open(
                self.path, ninefold.OpenOptions(write=True, create=True, truncate=True)
            )

    def _upload_chunk(self, final: bool = False) -> bool:
        if self.handle is None:
            self._initiate_upload()
        assert self.handle is not None
        data = self.buffer.getvalue()
        if data:
            self.handle.write_at(self._written, data)
            self._written += len(data)
        return True

    def close(self) -> None:
        try:
            if self.writable() and not self.closed and self.handle is None:
                self._initiate_upload()  # an empty file is still created
            super().close()
        finally:
            if self.handle is not None:
                self.handle.close()
                self.handle = None
