"""Every exception class: raised by a real failure where one can be
provoked, each both a ``ninefold.NinefoldError`` and the matching
``OSError`` subclass, with ``errno`` and the path set."""

from __future__ import annotations

import errno
import socket

import pytest

import ninefold
from conftest import Server

CLASSES = {
    "NotFound": (errno.ENOENT, FileNotFoundError),
    "PermissionDenied": (errno.EACCES, PermissionError),
    "NotPermitted": (errno.EPERM, PermissionError),
    "AlreadyExists": (errno.EEXIST, FileExistsError),
    "NotADirectory": (errno.ENOTDIR, NotADirectoryError),
    "IsADirectory": (errno.EISDIR, IsADirectoryError),
    "DirectoryNotEmpty": (errno.ENOTEMPTY, OSError),
    "NameTooLong": (errno.ENAMETOOLONG, OSError),
    "InvalidArgument": (errno.EINVAL, OSError),
    "TooManySymlinks": (errno.ELOOP, OSError),
    "Closed": (errno.EBADF, OSError),
    "ConnectFailed": (errno.EIO, ConnectionError),
    "Io": (errno.ENOSPC, OSError),
    "Protocol": (errno.EIO, OSError),
}


@pytest.mark.parametrize("name", sorted(CLASSES))
def test_hierarchy(name: str) -> None:
    cls = getattr(ninefold, name)
    code, base = CLASSES[name]
    assert issubclass(cls, ninefold.NinefoldError)
    assert issubclass(cls, base) and issubclass(cls, OSError)
    assert getattr(ninefold.NinefoldError, name) is cls
    # The native mapping picks this class for this variant.
    e = ninefold._ninefold._error_for_test(name, code)
    assert type(e) is cls and e.errno == code and e.filename == "/p"


def check(e: pytest.ExceptionInfo[OSError], cls: type[OSError], path: str) -> None:
    assert type(e.value) is cls, repr(e.value)
    code = CLASSES[cls.__name__][0]
    if cls is not ninefold.Io:
        assert e.value.errno == code
    assert e.value.filename == path
    assert path in str(e.value)


async def test_not_found(fs: ninefold.Client, base: str) -> None:
    p = f"{base}/missing"
    with pytest.raises(FileNotFoundError) as e:
        await fs.read(p)
    check(e, ninefold.NotFound, p)
    with pytest.raises(ninefold.NinefoldError.NotFound):
        await fs.stat(p)


async def test_already_exists(fs: ninefold.Client, base: str) -> None:
    with pytest.raises(FileExistsError) as e:
        await fs.create_dir(base)
    check(e, ninefold.AlreadyExists, base)


async def test_not_a_directory(fs: ninefold.Client, base: str) -> None:
    await fs.write(f"{base}/f", b"")
    p = f"{base}/f/x"
    with pytest.raises(NotADirectoryError) as e:
        await fs.read(p)
    check(e, ninefold.NotADirectory, p)


async def test_is_a_directory(fs: ninefold.Client, base: str) -> None:
    await fs.create_dir(f"{base}/d")
    with pytest.raises(IsADirectoryError) as e:
        await fs.open(f"{base}/d", ninefold.OpenOptions(write=True))
    check(e, ninefold.IsADirectory, f"{base}/d")


async def test_directory_not_empty(fs: ninefold.Client, base: str) -> None:
    await fs.create_dir_all(f"{base}/d/e")
    with pytest.raises(ninefold.DirectoryNotEmpty) as e:
        await fs.remove_dir(f"{base}/d")
    check(e, ninefold.DirectoryNotEmpty, f"{base}/d")


async def test_name_too_long(fs: ninefold.Client, base: str) -> None:
    p = f"{base}/{'n' * 300}"
    with pytest.raises(ninefold.NameTooLong) as e:
        await fs.write(p, b"")
    check(e, ninefold.NameTooLong, p)


async def test_invalid_argument(fs: ninefold.Client, base: str) -> None:
    await fs.write(f"{base}/f", b"")
    with pytest.raises(ninefold.InvalidArgument) as e:
        await fs.set_times(f"{base}/f", mtime=-5)
    check(e, ninefold.InvalidArgument, f"{base}/f")


async def test_too_many_symlinks(fs: ninefold.Client, base: str) -> None:
    await fs.symlink("b", f"{base}/a")
    await fs.symlink("a", f"{base}/b")
    with pytest.raises(ninefold.TooManySymlinks) as e:
        await fs.metadata(f"{base}/a")
    check(e, ninefold.TooManySymlinks, f"{base}/a")


async def test_closed(server: Server, base: str) -> None:
    fs = await server.connect()
    await fs.create_dir(base)
    f = await fs.create(f"{base}/f")
    await f.close()
    with pytest.raises(ninefold.Closed) as e:
        await f.read_at(0, 1)
    check(e, ninefold.Closed, f"{base}/f")
    await fs.remove_dir_all(base)
    await fs.close()
    with pytest.raises(ninefold.Closed):
        await fs.read("/x")


async def test_connect_failed() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    target = f"tcp://127.0.0.1:{port}"
    with pytest.raises(ConnectionError) as e:
        await ninefold.Client.connect_with(target, ninefold.ConnectOptions(connect_timeout_ms=2000))
    assert type(e.value) is ninefold.ConnectFailed and e.value.filename == target
    with pytest.raises(ninefold.ConnectFailed):
        ninefold.connect_sync(target, ninefold.ConnectOptions(connect_timeout_ms=2000))


async def test_permission_errors(ninefold_server: Server, base: str) -> None:
    """A non-root identity: EACCES from permission bits, EPERM from chown."""
    async with await ninefold_server.connect() as root:
        await root.create_dir(base, 0o700)
        await root.write(f"{base}/f", b"")
        await root.create_dir(f"{base}-open", 0o777)
        try:
            async with await ninefold_server.connect(uid=4321, gid=4321) as user:
                with pytest.raises(PermissionError) as e:
                    await user.read_dir(base)
                check(e, ninefold.PermissionDenied, base)
                await user.write(f"{base}-open/mine", b"")
                with pytest.raises(PermissionError) as e2:
                    await user.chown(f"{base}-open/mine", 0, None)
                check(e2, ninefold.NotPermitted, f"{base}-open/mine")
        finally:
            await root.remove_dir_all(base)
            await root.remove_dir_all(f"{base}-open")


async def test_io_other_errno(passthrough: Server, base: str) -> None:
    """An errno without a variant of its own keeps its number (ENXIO from
    opening a socket node on the host)."""
    async with await passthrough.connect() as fs:
        await fs.create_dir(base)
        await fs.mknod(f"{base}/sock", ninefold.NodeKind.Socket)
        with pytest.raises(ninefold.Io) as e:
            await fs.read(f"{base}/sock")
        assert e.value.errno == errno.ENXIO and e.value.filename == f"{base}/sock"
        await fs.remove_dir_all(base)


def test_rename_names_both_paths(sfs: ninefold.SyncClient, base: str) -> None:
    with pytest.raises(FileNotFoundError) as e:
        sfs.rename(f"{base}/a", f"{base}/b")
    assert e.value.filename == f"{base}/a" and e.value.filename2 == f"{base}/b"


def test_argument_type_errors(sfs: ninefold.SyncClient) -> None:
    with pytest.raises(TypeError):
        sfs.read(42)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        sfs.set_times("/x", mtime="yesterday")  # type: ignore[arg-type]
