//! `ninefold-bench`: a load generator for any 9P2000.L server.
//!
//! It speaks raw frames built with `ninefold-proto` over TCP or a unix
//! socket (no client library in between): `--conns` connections, each
//! keeping `--depth` requests outstanding, replies matched to requests by
//! tag. It makes its own fixture through the protocol (a scratch directory
//! and file in the export root, filled with Twrite), measures each row for
//! `--duration` after `--warmup`, removes the fixture, and prints an
//! aligned table (or JSON).
//!
//! # Rows
//!
//! | row | one operation | figure |
//! |---|---|---|
//! | `getattr` | Tgetattr, mask BASIC, on a fid walked to the scratch file | ops/s |
//! | `walk-clunk` | Twalk of one name to a new fid, then Tclunk of it | ops/s (pairs) |
//! | `read-4k`, `read-1m` | Tread of 4 KiB / 1 MiB on the opened file | MB/s |
//! | `write-4k`, `write-1m` | Twrite of 4 KiB / 1 MiB on the opened file | MB/s |
//!
//! I/O sizes are capped at the negotiated msize - 24, as the Linux client
//! caps them; the table says which size each row used. Every row also
//! reports p50/p99/max latency (request written to reply decoded).
//!
//! # Subcommands
//!
//! - `ninefold-bench --target tcp://HOST:PORT ...`: measure a server.
//! - `ninefold-bench responder --listen ADDR`: the built-in canned-reply
//!   server ([`responder`]), for the *raw-socket limit*.
//! - `ninefold-bench compare A.json B.json ...`: several `--json` reports
//!   side by side with ratios of the first to each other.
//!
//! # Library
//!
//! The binary is a thin shell over [`run::run`], [`responder::serve`] and
//! [`report::compare`], so tests drive the generator in-process.
//!
//! ```no_run
//! # async fn demo() -> Result<(), ninefold_bench::BenchError> {
//! use std::time::Duration;
//! use ninefold_bench::{run::{run, RunConfig}, session::Attach, Row};
//! let cfg = RunConfig {
//!     target: "tcp://127.0.0.1:5640".parse()?,
//!     attach: Attach { uname: "root".into(), aname: "/srv/export".into(), n_uname: 0 },
//!     gid: 0, conns: 2, depth: 8,
//!     duration: Duration::from_secs(3), warmup: Duration::from_secs(1),
//!     rows: Row::ALL.to_vec(), msize: (1 << 20) + 24, file_size: 8 << 20,
//!     label: "server".into(),
//! };
//! println!("{}", run(&cfg).await?.table());
//! # Ok(()) }
//! ```

#![forbid(unsafe_code)]
#![warn(clippy::unwrap_used)]

pub mod error;
pub mod fixture;
pub mod histogram;
pub mod load;
pub mod matrix;
pub mod memory;
pub mod placement;
pub mod report;
pub mod responder;
pub mod rows;
pub mod run;
pub mod session;
pub mod splicewrite;
pub mod syscalls;
pub mod tap;
pub mod target;

pub use error::BenchError;
pub use histogram::Histogram;
pub use report::{Report, RowResult};
pub use rows::Row;
pub use target::Target;

/// Parses a duration: `3`, `3s`, `1.5s`, `500ms`, `2m`.
///
/// ```
/// use std::time::Duration;
/// use ninefold_bench::parse_duration;
/// assert_eq!(parse_duration("3").unwrap(), Duration::from_secs(3));
/// assert_eq!(parse_duration("250ms").unwrap(), Duration::from_millis(250));
/// assert_eq!(parse_duration("1.5s").unwrap(), Duration::from_millis(1500));
/// assert_eq!(parse_duration("2m").unwrap(), Duration::from_secs(120));
/// assert!(parse_duration("fast").is_err());
/// ```
pub fn parse_duration(s: &str) -> Result<std::time::Duration, BenchError> {
    let s = s.trim();
    let (num, scale) = if let Some(n) = s.strip_suffix("ms") {
        (n, 0.001)
    } else if let Some(n) = s.strip_suffix('s') {
        (n, 1.0)
    } else if let Some(n) = s.strip_suffix('m') {
        (n, 60.0)
    } else {
        (s, 1.0)
    };
    match num.trim().parse::<f64>() {
        Ok(v) if v.is_finite() && v >= 0.0 && v * scale < 1e6 => {
            Ok(std::time::Duration::from_secs_f64(v * scale))
        }
        _ => Err(BenchError::Usage(format!("bad duration {s:?} (examples: 3s, 500ms)"))),
    }
}

/// Parses a byte size: `8388608`, `64K`, `8M`, `1G` (binary units).
///
/// ```
/// use ninefold_bench::parse_size;
/// assert_eq!(parse_size("64K").unwrap(), 65536);
/// assert_eq!(parse_size("8M").unwrap(), 8 << 20);
/// assert_eq!(parse_size("100").unwrap(), 100);
/// assert!(parse_size("lots").is_err());
/// ```
pub fn parse_size(s: &str) -> Result<u64, BenchError> {
    let s = s.trim();
    let (num, shift) = match s.as_bytes().last() {
        Some(b'k' | b'K') => (&s[..s.len() - 1], 10),
        Some(b'm' | b'M') => (&s[..s.len() - 1], 20),
        Some(b'g' | b'G') => (&s[..s.len() - 1], 30),
        _ => (s, 0),
    };
    num.parse::<u64>()
        .ok()
        .and_then(|v| v.checked_mul(1 << shift))
        .ok_or_else(|| BenchError::Usage(format!("bad size {s:?} (examples: 65536, 64K, 8M)")))
}
