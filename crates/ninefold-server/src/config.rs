//! Server configuration: limits and their defaults.

use std::path::PathBuf;
use std::time::Duration;

use ninefold_proto::Dialect;

use crate::ConfigError;

/// Default largest msize the server accepts: 1 MiB of payload plus the
/// 24-byte I/O header.
pub const DEFAULT_MAX_MSIZE: u32 = 1024 * 1024 + ninefold_proto::sizes::IOHDRSZ;
/// The largest `max_msize` that can be configured: 16 MiB + 24.
pub const MAX_MSIZE_LIMIT: u32 = 16 * 1024 * 1024 + ninefold_proto::sizes::IOHDRSZ;
/// Default requests running at once per connection.
pub const DEFAULT_MAX_INFLIGHT: usize = 64;
/// Default requests admitted but waiting for a running slot, per connection.
pub const DEFAULT_MAX_QUEUED: usize = 64;
/// Default fids per connection.
pub const DEFAULT_MAX_FIDS: usize = 65536;
/// Default time a connection may take to finish its requests at shutdown.
pub const DEFAULT_SHUTDOWN_DEADLINE: Duration = Duration::from_secs(10);

/// The limits and choices of a [`Server`](crate::Server), with
/// defaults; see each field. Build one through
/// [`ServerBuilder`](crate::ServerBuilder).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ServerConfig {
    /// Largest msize negotiated (default [`DEFAULT_MAX_MSIZE`]). Frames
    /// larger than the negotiated msize close the connection before any
    /// byte of them is buffered.
    pub max_msize: u32,
    /// Requests running at once per connection (default 64).
    pub max_inflight: usize,
    /// Requests admitted and waiting for a running slot (default 64).
    /// With both full the server stops reading the connection.
    pub max_queued: usize,
    /// Connections served at once; more are closed on accept (default
    /// none).
    pub max_connections: Option<usize>,
    /// Fids per connection; creating one more answers EMFILE (default
    /// 65536).
    pub max_fids: usize,
    /// Close a connection with nothing in flight after this long without a
    /// request (default none).
    pub idle_timeout: Option<Duration>,
    /// Time in-flight requests get to finish at shutdown or disconnect
    /// before they are cancelled (default 10 s).
    pub shutdown_deadline: Duration,
    /// Dialects offered, in no particular order (default 9P2000.L.Z,
    /// 9P2000.L, 9P2000.u and 9P2000). `9P2000.L.Z` is answered only to a
    /// client asking for exactly that string.
    pub dialects: Vec<Dialect>,
    /// Bounds and retention of the 9P2000.L.Z exactly-once ledger.
    pub ledger: crate::LedgerConfig,
    /// Where the ledger's journal lives, so exactly-once survives a
    /// restart (default none: the ledger lives in memory only).
    pub state_dir: Option<PathBuf>,
    /// Abuse limits: per peer, per connection, memory, deadlines.
    pub limits: crate::AbuseLimits,
    /// Whether reads of 64 KiB and more are spliced from the filesystem
    /// into the socket or copied (default: measured on the host, per
    /// transport and size; see [`SpliceReads`](crate::SpliceReads)).
    pub splice_reads: crate::SpliceReads,
}

impl Default for ServerConfig {
    fn default() -> ServerConfig {
        ServerConfig {
            max_msize: DEFAULT_MAX_MSIZE,
            max_inflight: DEFAULT_MAX_INFLIGHT,
            max_queued: DEFAULT_MAX_QUEUED,
            max_connections: None,
            max_fids: DEFAULT_MAX_FIDS,
            idle_timeout: None,
            shutdown_deadline: DEFAULT_SHUTDOWN_DEADLINE,
            dialects: vec![Dialect::Z, Dialect::L, Dialect::U, Dialect::Base],
            ledger: crate::LedgerConfig::default(),
            state_dir: None,
            limits: crate::AbuseLimits::default(),
            splice_reads: crate::SpliceReads::Measured,
        }
    }
}

impl ServerConfig {
    /// Checks the settings for consistency.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if !(ninefold_proto::sizes::MIN_MSIZE..=MAX_MSIZE_LIMIT).contains(&self.max_msize) {
            return Err(ConfigError::Msize(self.max_msize));
        }
        if self.max_inflight == 0 {
            return Err(ConfigError::Zero("max_inflight"));
        }
        if self.max_fids == 0 {
            return Err(ConfigError::Zero("max_fids"));
        }
        if self.max_connections == Some(0) {
            return Err(ConfigError::Zero("max_connections"));
        }
        if self.dialects.is_empty() {
            return Err(ConfigError::NoDialect);
        }
        if self.ledger.max_entries == 0 {
            return Err(ConfigError::Zero("ledger.max_entries"));
        }
        if self.ledger.max_bytes == 0 {
            return Err(ConfigError::Zero("ledger.max_bytes"));
        }
        self.limits.validate(self.max_msize)
    }
}
