//! [`Error`]: the one flat error type of every client call.

use std::io;

use ninefold_proto::Errno;

/// The result type of every client call.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Every fallible client call returns this flat error.
///
/// Server errors map 1:1 from their errno: the named errnos below become
/// their variant, any other is kept verbatim in [`Error::Io`].
/// [`errno`](Error::errno) gives the Linux errno of every variant.
///
/// | Variant | errno |
/// |---|---|
/// | `NotFound` | ENOENT |
/// | `PermissionDenied` | EACCES |
/// | `NotPermitted` | EPERM |
/// | `AlreadyExists` | EEXIST |
/// | `NotADirectory` | ENOTDIR |
/// | `IsADirectory` | EISDIR |
/// | `DirectoryNotEmpty` | ENOTEMPTY |
/// | `NameTooLong` | ENAMETOOLONG |
/// | `InvalidArgument` | EINVAL |
/// | `TooManySymlinks` | ELOOP |
/// | `Closed` | EBADF |
/// | `Stale` | ESTALE |
/// | `Unsupported` | EOPNOTSUPP |
/// | `ConnectFailed` | EIO |
/// | `Tls` | EIO |
/// | `AuthFailed` | EACCES |
/// | `Io` | its own |
/// | `Protocol` | EIO |
///
/// ```
/// use ninefold_client::{Errno, Error};
///
/// let e = Error::from_errno(Errno::ENOENT);
/// assert!(e.is_not_found());
/// assert_eq!(e.errno(), Errno::ENOENT);
/// assert_eq!(Error::from_errno(Errno::ENOSPC), Error::Io(Errno::ENOSPC));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// No entry at the path (ENOENT).
    #[error("not found")]
    NotFound,
    /// Denied by permission bits (EACCES).
    #[error("permission denied")]
    PermissionDenied,
    /// Requires ownership or privilege (EPERM).
    #[error("operation not permitted")]
    NotPermitted,
    /// The target already exists (EEXIST).
    #[error("already exists")]
    AlreadyExists,
    /// A path component is not a directory (ENOTDIR).
    #[error("not a directory")]
    NotADirectory,
    /// A directory where a non-directory was required (EISDIR).
    #[error("is a directory")]
    IsADirectory,
    /// Removing a non-empty directory (ENOTEMPTY).
    #[error("directory not empty")]
    DirectoryNotEmpty,
    /// A name exceeds 255 bytes (ENAMETOOLONG).
    #[error("name too long")]
    NameTooLong,
    /// Bad input, client-side or from the server (EINVAL).
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
    /// Symlink resolution exceeded the 40-hop cap (ELOOP).
    #[error("too many levels of symbolic links")]
    TooManySymlinks,
    /// A handle or client was used after `close()` (EBADF).
    #[error("handle or client is closed")]
    Closed,
    /// Stale (ESTALE, 116): a handle that could not be restored after a
    /// reconnect (its object is gone or its path now names another
    /// object), a `9P2000.L.Z` mutation re-sent with RETRY that the server
    /// no longer knows (its outcome is unknown), or a `sync` whose lineage
    /// check failed (earlier acknowledged writes may be lost).
    #[error("stale: {0}")]
    Stale(String),
    /// The negotiated dialect cannot express the operation (EOPNOTSUPP):
    /// symlinks, hard links or device nodes on 9P2000, say.
    #[error("unsupported by the negotiated dialect: {0}")]
    Unsupported(String),
    /// The initial connection, negotiation or attach failed (EIO).
    #[error("connect failed: {0}")]
    ConnectFailed(String),
    /// A `tls://` connection failed its TLS handshake, or its local TLS
    /// material is unusable (EIO); [`TlsError::kind`](crate::TlsError::kind)
    /// says which.
    #[error("TLS: {0}")]
    Tls(crate::TlsError),
    /// Authentication or access was refused at connect (EACCES): the key
    /// was wrong or unknown, the server could not prove it holds the key,
    /// offers no authentication, or refused the attach (an export not
    /// granted, a uid not allowed, an unauthenticated peer on a network
    /// it does not trust). Not retried by the first connect.
    #[error("authentication failed: {0}")]
    AuthFailed(String),
    /// Any other server errno, preserved verbatim.
    #[error("server error: {0}")]
    Io(Errno),
    /// Wire-level failure: codec, unexpected reply, lost connection (EIO).
    #[error("protocol error: {0}")]
    Protocol(String),
}

/// The message of the lost-connection protocol error.
const DISCONNECTED: &str = "9P connection lost";

impl Error {
    /// The variant for a server (or host) errno: the 1:1 mapping.
    pub fn from_errno(errno: Errno) -> Error {
        match errno {
            Errno::ENOENT => Error::NotFound,
            Errno::EACCES => Error::PermissionDenied,
            Errno::EPERM => Error::NotPermitted,
            Errno::EEXIST => Error::AlreadyExists,
            Errno::ENOTDIR => Error::NotADirectory,
            Errno::EISDIR => Error::IsADirectory,
            Errno::ENOTEMPTY => Error::DirectoryNotEmpty,
            Errno::ENAMETOOLONG => Error::NameTooLong,
            Errno::EINVAL => Error::InvalidArgument("server answered EINVAL".into()),
            Errno::ELOOP => Error::TooManySymlinks,
            Errno::EBADF => Error::Closed,
            Errno::ESTALE => Error::Stale("the server answered ESTALE".into()),
            other => Error::Io(other),
        }
    }

    /// The Linux errno this error stands for.
    pub fn errno(&self) -> Errno {
        match self {
            Error::NotFound => Errno::ENOENT,
            Error::PermissionDenied => Errno::EACCES,
            Error::NotPermitted => Errno::EPERM,
            Error::AlreadyExists => Errno::EEXIST,
            Error::NotADirectory => Errno::ENOTDIR,
            Error::IsADirectory => Errno::EISDIR,
            Error::DirectoryNotEmpty => Errno::ENOTEMPTY,
            Error::NameTooLong => Errno::ENAMETOOLONG,
            Error::InvalidArgument(_) => Errno::EINVAL,
            Error::TooManySymlinks => Errno::ELOOP,
            Error::Closed => Errno::EBADF,
            Error::Stale(_) => Errno::ESTALE,
            Error::Unsupported(_) => Errno::EOPNOTSUPP,
            Error::ConnectFailed(_) | Error::Protocol(_) | Error::Tls(_) => Errno::EIO,
            Error::AuthFailed(_) => Errno::EACCES,
            Error::Io(e) => *e,
        }
    }

    /// A client-side [`InvalidArgument`](Error::InvalidArgument).
    pub(crate) fn invalid(reason: impl Into<String>) -> Error {
        Error::InvalidArgument(reason.into())
    }

    /// [`Unsupported`](Error::Unsupported): `what` cannot be sent in
    /// `dialect`.
    pub(crate) fn unsupported(what: &str, dialect: ninefold_proto::Dialect) -> Error {
        Error::Unsupported(format!("{what} in {}", dialect.version()))
    }

    /// [`Stale`](Error::Stale).
    pub fn is_stale(&self) -> bool {
        matches!(self, Error::Stale(_))
    }

    /// [`Unsupported`](Error::Unsupported).
    pub fn is_unsupported(&self) -> bool {
        matches!(self, Error::Unsupported(_))
    }

    /// A [`Protocol`](Error::Protocol) error.
    pub(crate) fn protocol(reason: impl Into<String>) -> Error {
        Error::Protocol(reason.into())
    }

    /// The connection is gone.
    pub(crate) fn disconnected() -> Error {
        Error::Protocol(DISCONNECTED.into())
    }

    /// Whether this is the lost-connection [`Protocol`](Error::Protocol)
    /// error (a call on a dead connection, or on a fid of one).
    pub fn is_disconnected(&self) -> bool {
        matches!(self, Error::Protocol(m) if m == DISCONNECTED)
    }

    /// [`NotFound`](Error::NotFound).
    pub fn is_not_found(&self) -> bool {
        matches!(self, Error::NotFound)
    }

    /// [`AlreadyExists`](Error::AlreadyExists).
    pub fn is_already_exists(&self) -> bool {
        matches!(self, Error::AlreadyExists)
    }

    /// [`PermissionDenied`](Error::PermissionDenied) or
    /// [`NotPermitted`](Error::NotPermitted).
    pub fn is_permission(&self) -> bool {
        matches!(self, Error::PermissionDenied | Error::NotPermitted)
    }

    /// [`Closed`](Error::Closed).
    pub fn is_closed(&self) -> bool {
        matches!(self, Error::Closed)
    }

    /// [`NotADirectory`](Error::NotADirectory).
    pub fn is_not_a_directory(&self) -> bool {
        matches!(self, Error::NotADirectory)
    }

    /// [`IsADirectory`](Error::IsADirectory).
    pub fn is_a_directory(&self) -> bool {
        matches!(self, Error::IsADirectory)
    }

    /// [`ConnectFailed`](Error::ConnectFailed) or [`Tls`](Error::Tls):
    /// the connection could not be made.
    pub fn is_connect_failed(&self) -> bool {
        matches!(self, Error::ConnectFailed(_) | Error::Tls(_))
    }

    /// The TLS failure, for [`Tls`](Error::Tls).
    pub fn tls_error(&self) -> Option<&crate::TlsError> {
        match self {
            Error::Tls(t) => Some(t),
            _ => None,
        }
    }

    /// [`Protocol`](Error::Protocol): a wire-level failure or a lost
    /// connection.
    pub fn is_protocol(&self) -> bool {
        matches!(self, Error::Protocol(_))
    }
}

impl From<Errno> for Error {
    fn from(errno: Errno) -> Error {
        Error::from_errno(errno)
    }
}

impl From<Error> for io::Error {
    fn from(e: Error) -> io::Error {
        let kind_source = e.errno().to_io_error();
        io::Error::new(kind_source.kind(), e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_named_errno_round_trips() {
        let table = [
            (Errno::ENOENT, Error::NotFound),
            (Errno::EACCES, Error::PermissionDenied),
            (Errno::EPERM, Error::NotPermitted),
            (Errno::EEXIST, Error::AlreadyExists),
            (Errno::ENOTDIR, Error::NotADirectory),
            (Errno::EISDIR, Error::IsADirectory),
            (Errno::ENOTEMPTY, Error::DirectoryNotEmpty),
            (Errno::ENAMETOOLONG, Error::NameTooLong),
            (Errno::ELOOP, Error::TooManySymlinks),
            (Errno::EBADF, Error::Closed),
        ];
        assert!(Error::from_errno(Errno::ESTALE).is_stale());
        assert_eq!(Error::Stale(String::new()).errno(), Errno::ESTALE);
        assert_eq!(Error::Unsupported(String::new()).errno(), Errno::EOPNOTSUPP);
        for (errno, variant) in table {
            let e = Error::from_errno(errno);
            assert_eq!(e, variant);
            assert_eq!(e.errno(), errno);
        }
        assert!(matches!(Error::from_errno(Errno::EINVAL), Error::InvalidArgument(_)));
        assert_eq!(Error::from_errno(Errno::EINVAL).errno(), Errno::EINVAL);
        assert_eq!(Error::from_errno(Errno::ENOSPC), Error::Io(Errno::ENOSPC));
        assert_eq!(Error::Io(Errno::EXDEV).errno(), Errno::EXDEV);
        assert_eq!(Error::ConnectFailed("x".into()).errno(), Errno::EIO);
        assert_eq!(Error::Protocol("x".into()).errno(), Errno::EIO);
    }

    #[test]
    fn converts_to_io_error() {
        let e: io::Error = Error::NotFound.into();
        assert_eq!(e.kind(), io::ErrorKind::NotFound);
        let e: io::Error = Error::AlreadyExists.into();
        assert_eq!(e.kind(), io::ErrorKind::AlreadyExists);
    }
}
