//! A FUSE filesystem over the Ninefold 9P2000.L client: `ninefold mount`
//! and the `mount.ninefold` helper.
//!
//! It mounts any 9P2000.L server (Ninefold's, diod, QEMU's) on a local
//! directory. Each kernel request becomes a tokio task that walks, opens
//! or reads through one multiplexed [`Session`](ninefold_client::Session);
//! see docs/MOUNT.md for the options, caching modes, per-user access and
//! what happens when the server restarts.
//!
//! ```no_run
//! use ninefold_mount::{mount, MountOptions};
//!
//! let mut opts = MountOptions::default();
//! opts.apply("aname=/srv/export,cache=default").unwrap();
//! opts.foreground = true;
//! // Blocks until unmounted or SIGINT/SIGTERM.
//! mount("tcp://127.0.0.1:5564", std::path::Path::new("/mnt/nf"), opts).unwrap();
//! ```
//!
//! | file | what |
//! |---|---|
//! | `options.rs` | `-o` options, [`CacheMode`] |
//! | `remote.rs` | the connection, per-uid attaches, reconnect, the `retry!` loop |
//! | `inode.rs` | node ids, lookup counts, cached fids and how to re-walk them |
//! | `core.rs` | shared state, open handles, attribute conversion |
//! | `behind.rs` | write-behind: writes answered once queued, ordered, bounded |
//! | `ops_entry.rs`, `ops_file.rs`, `ops_dir.rs`, `ops_lock.rs` | the operations |
//! | `fs.rs` | `fuser::Filesystem`: one tokio task per request |
//! | `daemon.rs` | foreground/background, signals, unmount, the helper's arguments |

#![forbid(unsafe_code)]
#![warn(clippy::unwrap_used)]

mod behind;
mod core;
mod daemon;
mod fs;
mod inode;
mod ops_dir;
mod ops_entry;
mod ops_file;
mod ops_lock;
mod options;
mod prefetch;
mod remote;

pub use daemon::{helper_main, mount, CHILD_ENV};
pub use options::{CacheMode, MountOptions};

/// Why a mount failed.
#[derive(Debug, thiserror::Error)]
pub enum MountError {
    /// A bad `-o` option or argument.
    #[error("{0}")]
    Option(String),
    /// The server could not be reached or refused the attach.
    #[error("cannot connect to {target}: {source}")]
    Connect {
        /// The target as given.
        target: String,
        /// The client's error.
        source: ninefold_client::Error,
    },
    /// The mount itself failed (mount point, /dev/fuse, fusermount3).
    #[error("cannot mount on {mountpoint}: {source}")]
    Mount {
        /// The mount point.
        mountpoint: String,
        /// The system error.
        source: std::io::Error,
    },
    /// The background daemon did not come up.
    #[error("{0}")]
    Daemon(String),
}
