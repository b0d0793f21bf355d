//! [`BenchError`]: everything that stops a benchmark run.

use ninefold_proto::{DecodeError, EncodeError, Errno};

/// Why a run (or the responder) stopped.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BenchError {
    /// The `--target`/`--listen` string is not `tcp://HOST:PORT` or `unix:/path`.
    #[error("bad address {0:?}: expected tcp://HOST:PORT or unix:/path")]
    BadTarget(String),
    /// Connecting failed.
    #[error("cannot connect to {0}: {1}")]
    Connect(String, #[source] std::io::Error),
    /// Binding a listener failed.
    #[error("cannot listen on {0}: {1}")]
    Listen(String, #[source] std::io::Error),
    /// The transport failed mid-run.
    #[error("i/o: {0}")]
    Io(#[from] std::io::Error),
    /// The server closed the connection.
    #[error("the server closed the connection")]
    Closed,
    /// A frame from the server could not be decoded.
    #[error("bad frame from the server: {0}")]
    Decode(#[from] DecodeError),
    /// A request could not be encoded (an option is out of range).
    #[error("cannot encode a request: {0}")]
    Encode(#[from] EncodeError),
    /// Tversion was refused or answered with another dialect.
    #[error("version negotiation failed: {0}")]
    Version(String),
    /// A setup or cleanup request was answered with Rlerror.
    #[error("{op} failed: {} ({})", .errno.name().unwrap_or("?"), .errno.message())]
    Refused {
        /// What was being done.
        op: String,
        /// The server's errno.
        errno: Errno,
    },
    /// A reply of the wrong type, or for a tag that was not in flight.
    #[error("protocol violation: {0}")]
    Protocol(String),
    /// The server stopped answering.
    #[error("timed out: {0}")]
    Timeout(String),
    /// A bad option value.
    #[error("{0}")]
    Usage(String),
    /// A local scratch file (the placement measurement) failed.
    #[error("{0}: {1}")]
    Scratch(String, #[source] std::io::Error),
}
