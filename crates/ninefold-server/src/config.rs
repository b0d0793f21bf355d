//! Server configuration and its defaults.

/// Default largest msize the server accepts: 1 MiB of payload plus the
/// 24-byte I/O header.
pub const DEFAULT_MAX_MSIZE: u32 = 1024 * 1024 + ninefold_proto::sizes::IOHDRSZ;
