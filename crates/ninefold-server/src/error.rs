//! Errors that end a connection or a listener.

use ninefold_proto::DecodeError;
use thiserror::Error;

/// Why a connection ended abnormally. Errors of single requests never end
/// a connection: they are answered with an errno.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum ServeError {
    /// The transport failed.
    #[error("transport error: {0}")]
    Io(#[from] std::io::Error),
    /// The byte stream cannot be framed any more (a size field larger than
    /// msize or smaller than a header).
    #[error("unframeable input: {0}")]
    Decode(DecodeError),
    /// The client broke the protocol (a tag reused while in flight).
    #[error("protocol violation: {0}")]
    Protocol(String),
    /// No request arrived within the idle timeout.
    #[error("idle timeout")]
    IdleTimeout,
    /// The connection was closed while a request was being admitted.
    #[error("connection closed")]
    Closed,
    /// A frame did not arrive in full within the frame deadline after its
    /// first byte (a slow-loris client), or no Tversion arrived within the
    /// handshake deadline after connect.
    #[error("{0} deadline expired")]
    Deadline(&'static str),
    /// The connection was over its memory budget and none of its replies
    /// was written within the stall deadline (a client that never reads).
    #[error("replies stalled over the memory budget")]
    Stalled,
    /// The peer already has as many connections as it may.
    #[error("too many connections from this peer")]
    PeerLimit,
}

/// An inconsistent [`ServerBuilder`](crate::ServerBuilder) setting.
#[derive(Debug, Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConfigError {
    /// `max_msize` outside 4096..=16 MiB + 24.
    #[error("max msize {0} is outside {min}..={max}", min = ninefold_proto::sizes::MIN_MSIZE, max = crate::config::MAX_MSIZE_LIMIT)]
    Msize(u32),
    /// A limit that must be at least 1 was 0.
    #[error("{0} must be at least 1")]
    Zero(&'static str),
    /// No dialect enabled.
    #[error("at least one dialect must be enabled")]
    NoDialect,
    /// The state directory (the `.Z` ledger journal) cannot be used.
    #[error("state directory: {0}")]
    StateDir(String),
    /// A memory budget smaller than two frames of the largest msize.
    #[error("{name} of {bytes} bytes is below {floor} (twice max_msize)")]
    Budget {
        /// The setting.
        name: &'static str,
        /// Its value.
        bytes: usize,
        /// The smallest value that works.
        floor: usize,
    },
}
