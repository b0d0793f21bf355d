"""Ninefold: an async (and blocking) 9P2000.L client over a Rust core.

>>> import ninefold
>>> async def main() -> None:  # doctest: +SKIP
...     async with await ninefold.Client.connect("tcp://127.0.0.1:5564") as fs:
...         await fs.write("/notes.txt", b"hello")
...         print(await fs.read("/notes.txt"))
"""

from __future__ import annotations

from ninefold._errors import (
    AlreadyExists,
    Closed,
    ConnectFailed,
    DirectoryNotEmpty,
    InvalidArgument,
    Io,
    IsADirectory,
    NameTooLong,
    NinefoldError,
    NotADirectory,
    NotFound,
    NotPermitted,
    PermissionDenied,
    Protocol,
    TooManySymlinks,
)
from ninefold._ninefold import (
    Capabilities,
    ChunkStream,
    Client,
    ConnectOptions,
    Dir,
    DirEntry,
    File,
    FileType,
    Metadata,
    NodeKind,
    OpenOptions,
    SetAttrs,
    SetTime,
    StatFs,
    SyncChunkStream,
    SyncClient,
    SyncDir,
    SyncFile,
    __version__,
    connect_sync,
)

__all__ = [
    "AlreadyExists",
    "Capabilities",
    "ChunkStream",
    "Client",
    "Closed",
    "ConnectFailed",
    "ConnectOptions",
    "Dir",
    "DirEntry",
    "DirectoryNotEmpty",
    "File",
    "FileType",
    "InvalidArgument",
    "Io",
    "IsADirectory",
    "Metadata",
    "NameTooLong",
    "NinefoldError",
    "NodeKind",
    "NotADirectory",
    "NotFound",
    "NotPermitted",
    "OpenOptions",
    "PermissionDenied",
    "Protocol",
    "SetAttrs",
    "SetTime",
    "StatFs",
    "SyncChunkStream",
    "SyncClient",
    "SyncDir",
    "SyncFile",
    "TooManySymlinks",
    "__version__",
    "connect_sync",
]

# Runtime threads must not enter the interpreter while it finalizes.
import atexit as _atexit

from ninefold import _ninefold

_atexit.register(_ninefold._shutdown)
