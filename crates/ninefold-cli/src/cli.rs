//! The command line, declared with clap's derive API.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// Ninefold: a 9P2000 / 9P2000.u / 9P2000.L server and toolkit.
///
/// Client commands take locations: tcp://HOST:PORT/PATH, HOST:PORT/PATH or
/// HOST/PATH (port 5564),
/// unix:SOCKET:PATH (docs/CLI.md).
#[derive(Debug, Parser)]
#[command(name = "ninefold", version, about, propagate_version = true)]
pub(crate) struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub(crate) command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
#[allow(clippy::large_enum_variant)] // parsed once per process
pub(crate) enum Command {
    /// Serve a directory (or an in-memory tree) over 9P.
    ///
    /// With no DIR, serves a small writable in-memory tree. Listens on
    /// tcp://127.0.0.1:5564 unless told otherwise.
    Serve(ServeArgs),
    /// Mount a 9P2000.L export on a local directory (FUSE).
    Mount(crate::mount::MountArgs),

    /// The client commands (`ls`, `cat`, `get`, `put`, `cp`, ...).
    #[command(flatten)]
    Client(crate::client::args::ClientCommand),
}

/// Options of `ninefold serve`; each has a key of the same name in the
/// `--config` file (docs/CONFIGURATION.md), and a flag given here wins.
#[derive(Debug, Default, Args)]
pub(crate) struct ServeArgs {
    /// Host directory to export (the default export). Without it, an
    /// in-memory tree is served.
    #[arg(value_name = "DIR", conflicts_with = "memory")]
    pub(crate) dir: Option<PathBuf>,

    /// Serve an in-memory tree (lost at exit) as the default export.
    #[arg(long)]
    pub(crate) memory: bool,

    /// Where to listen: tcp://HOST:PORT, tls://HOST:PORT (with --tls-cert
    /// and --tls-key) or unix:/PATH. Repeatable.
    /// [default: tcp://127.0.0.1:5564]
    #[arg(long, short = 'l', value_name = "ADDR")]
    pub(crate) listen: Vec<String>,

    /// Extra export reached by aname NAME (mount -o aname=NAME): a
    /// directory, or the word `memory` for an empty in-memory tree.
    /// Repeatable.
    #[arg(long, value_name = "NAME=DIR")]
    pub(crate) aname: Vec<String>,

    /// Refuse every change (EROFS) on every export.
    #[arg(long)]
    pub(crate) read_only: bool,

    /// Give every object clients create or chown this host owner
    /// (directory exports). GID defaults to UID.
    #[arg(long, value_name = "UID[:GID]", conflicts_with_all = ["uid_map", "gid_map"])]
    pub(crate) squash_uid: Option<String>,

    /// Map a client uid to a host uid (directory exports); unlisted ids
    /// become 65534. Repeatable.
    #[arg(long, value_name = "CLIENT:HOST")]
    pub(crate) uid_map: Vec<String>,

    /// Map a client gid to a host gid, like --uid-map. Repeatable.
    #[arg(long, value_name = "CLIENT:HOST")]
    pub(crate) gid_map: Vec<String>,

    /// Largest msize to negotiate, in bytes. [default: 1048600]
    #[arg(long, value_name = "BYTES")]
    pub(crate) max_msize: Option<u32>,

    /// Requests handled at once per connection. [default: 64]
    #[arg(long, value_name = "N")]
    pub(crate) max_inflight: Option<usize>,

    /// Connections served at once (more are closed). [default: unlimited]
    #[arg(long, value_name = "N")]
    pub(crate) max_connections: Option<usize>,

    /// Fids per connection. [default: 65536]
    #[arg(long, value_name = "N")]
    pub(crate) max_fids: Option<usize>,

    /// Close connections idle this long, e.g. 30s, 5m, 1h; `off` to
    /// disable. [default: off]
    #[arg(long, value_name = "DURATION")]
    pub(crate) idle_timeout: Option<String>,

    /// Serve Prometheus metrics at http://HOST:PORT/metrics.
    #[arg(long, value_name = "HOST:PORT")]
    pub(crate) metrics: Option<String>,

    /// Log filter: error, warn, info, debug, trace, or a RUST_LOG-style
    /// directive. Overrides RUST_LOG. [default: info]
    #[arg(long, value_name = "LEVEL")]
    pub(crate) log: Option<String>,

    /// Offer only these dialects: 9P2000.L.Z, 9P2000.L, 9P2000.u,
    /// 9P2000. Repeatable. [default: all four; 9P2000.L.Z is answered
    /// only to a client asking for exactly it]
    #[arg(long, value_name = "VERSION")]
    pub(crate) dialect: Vec<String>,

    /// Keep the 9P2000.L.Z exactly-once journal (and a directory
    /// export's lineage token) in DIR, so a restart keeps them.
    #[arg(long, value_name = "DIR")]
    pub(crate) state_dir: Option<PathBuf>,

    /// Whether reads of 64 KiB and more are spliced from the file into
    /// the socket or copied: measured (over tcp, from 128 KiB, per size
    /// the way cheaper on this host; smaller ones and unix sockets
    /// splice), always, never. [default: measured]
    #[arg(long, value_name = "WAY")]
    pub(crate) splice_reads: Option<String>,

    /// TLS certificate, key and client CA of tls:// listeners.
    #[command(flatten)]
    pub(crate) tls: crate::serve::TlsArgs,
    /// Accept the ninefold Tauth scheme (docs/AUTH.md) with key NAME,
    /// whose secret is the content of FILE (at least 16 bytes; chmod 600).
    /// A key given only here may attach every export as any uid; use
    /// `[[access.grant]]` in the config file for per-export rules and uid
    /// mapping. Repeatable.
    #[arg(long, value_name = "NAME=FILE")]
    pub(crate) auth_key: Vec<String>,

    /// Trust unauthenticated peers from this network (the uid they assert
    /// is believed): `loopback`, `any`, an address or ADDR/PREFIX, or
    /// `none` to require authentication from everyone. Repeatable; replaces
    /// the config file's `trusted`. [default: loopback (and unix sockets)]
    #[arg(long, value_name = "NETWORK")]
    pub(crate) trust: Vec<String>,

    /// TOML configuration file; flags override its settings.
    #[arg(long, short = 'c', value_name = "FILE")]
    pub(crate) config: Option<PathBuf>,

    /// Abuse limits (`[limits]` in the configuration file).
    #[command(flatten)]
    pub(crate) limits: crate::serve::limits::LimitArgs,
}
