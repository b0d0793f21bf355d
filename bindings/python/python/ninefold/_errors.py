"""The exception classes of ``ninefold``.

Every error a call raises is a :class:`NinefoldError` and, through multiple
inheritance, the matching built-in :class:`OSError` subclass, with ``errno``,
``strerror``, ``filename`` (and ``filename2`` for two-path calls) set. So both
``except FileNotFoundError`` and ``except ninefold.NotFound`` work, as does
``except ninefold.NinefoldError.NotFound``.
"""

from __future__ import annotations

from typing import ClassVar

__all__ = [
    "AlreadyExists",
    "Closed",
    "ConnectFailed",
    "DirectoryNotEmpty",
    "InvalidArgument",
    "Io",
    "IsADirectory",
    "NameTooLong",
    "NinefoldError",
    "NotADirectory",
    "NotFound",
    "NotPermitted",
    "PermissionDenied",
    "Protocol",
    "TooManySymlinks",
]


class NinefoldError(OSError):
    """Base class of every error a ninefold call raises.

    Each subclass is also reachable as an attribute
    (``NinefoldError.NotFound``), the seed's spelling.
    """

    NotFound: ClassVar[type[NotFound]]
    PermissionDenied: ClassVar[type[PermissionDenied]]
    NotPermitted: ClassVar[type[NotPermitted]]
    AlreadyExists: ClassVar[type[AlreadyExists]]
    NotADirectory: ClassVar[type[NotADirectory]]
    IsADirectory: ClassVar[type[IsADirectory]]
    DirectoryNotEmpty: ClassVar[type[DirectoryNotEmpty]]
    NameTooLong: ClassVar[type[NameTooLong]]
    InvalidArgument: ClassVar[type[InvalidArgument]]
    TooManySymlinks: ClassVar[type[TooManySymlinks]]
    Closed: ClassVar[type[Closed]]
    ConnectFailed: ClassVar[type[ConnectFailed]]
    Io: ClassVar[type[Io]]
    Protocol: ClassVar[type[Protocol]]


class NotFound(NinefoldError, FileNotFoundError):
    """No entry at the path (ENOENT)."""


class PermissionDenied(NinefoldError, PermissionError):
    """Denied by permission bits (EACCES)."""


class NotPermitted(NinefoldError, PermissionError):
    """Requires ownership or privilege (EPERM)."""


class AlreadyExists(NinefoldError, FileExistsError):
    """The target already exists (EEXIST)."""


class NotADirectory(NinefoldError, NotADirectoryError):
    """A path component is not a directory (ENOTDIR)."""


class IsADirectory(NinefoldError, IsADirectoryError):
    """A directory where a non-directory was required (EISDIR)."""


class DirectoryNotEmpty(NinefoldError):
    """Removing a non-empty directory (ENOTEMPTY)."""


class NameTooLong(NinefoldError):
    """A name exceeds 255 bytes (ENAMETOOLONG)."""


class InvalidArgument(NinefoldError):
    """Bad input, client-side or from the server (EINVAL)."""


class TooManySymlinks(NinefoldError):
    """Symlink resolution exceeded the 40-hop cap (ELOOP)."""


class Closed(NinefoldError):
    """A handle or client was used after close() (EBADF)."""


class ConnectFailed(NinefoldError, ConnectionError):
    """The initial connection, negotiation or attach failed (EIO)."""


class Io(NinefoldError):
    """Any other server errno, preserved verbatim in ``errno``."""


class Protocol(NinefoldError):
    """Wire-level failure: codec, unexpected reply, lost connection (EIO)."""


# The seed's spelling: ``except ninefold.NinefoldError.NotFound``.
for _cls in (
    NotFound,
    PermissionDenied,
    NotPermitted,
    AlreadyExists,
    NotADirectory,
    IsADirectory,
    DirectoryNotEmpty,
    NameTooLong,
    InvalidArgument,
    TooManySymlinks,
    Closed,
    ConnectFailed,
    Io,
    Protocol,
):
    setattr(NinefoldError, _cls.__name__, _cls)
del _cls
