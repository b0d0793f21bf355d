//! An in-memory filesystem with POSIX semantics, built with a fluent
//! [`MemFsBuilder`].
//!
//! Every object is a [`MemNode`]; directories may also hold any other
//! `Arc<dyn Node>` (synthetic files, wrappers, another filesystem's
//! nodes), which they list, look up, rename and unlink like their own.
//!
//! ```
//! use ninefold_fs::memfs::MemFs;
//!
//! let fs = MemFs::builder()
//!     .file("etc/motd", "hello\n")
//!     .dir_mode("tmp", 0o1777)
//!     .symlink("motd", "etc/motd")
//!     .build()
//!     .unwrap();
//! let root = fs.root(); // an Arc<dyn Node> to serve
//! # let _ = root;
//! ```
//!
//! # Semantics
//!
//! - create, mkdir, symlink, mknod (FIFO, socket, character and block
//!   devices), hard links, unlink and rmdir, atomic rename (replacing,
//!   across directories, with the POSIX refusals);
//! - objects stay usable through open fids after they are unlinked (a
//!   fid holds the node; memory is freed at the last reference);
//! - setattr (chmod, chown, truncate, utimes with "now"), timestamps and
//!   link counts as POSIX specifies, `qid.version` bumped on every
//!   content change of a regular file;
//! - extended attributes (64 KiB values, 255-byte names);
//! - byte-range POSIX locks per [`LockOwner`](ninefold_server::LockOwner),
//!   released at clunk, with a bounded, cancellable wait for blocking
//!   requests;
//! - readdir cookies that stay valid while the directory changes (see
//!   [`MemNode::readdir`](ninefold_server::Node::readdir)).
//!
//! # Permissions
//!
//! Checked by default (turn off with [`MemFsBuilder::permissions`]),
//! from [`Request::uid`](ninefold_server::Request::uid) only: uid 0 or no
//! uid is the superuser. The server does not know the caller's groups,
//! so a caller who does not own the object gets the **union** of the
//! group and other bits. This errs on the permissive side; the Linux
//! client applies the full POSIX rules (groups included) itself before
//! sending a request, so mounts still behave exactly.
//!
//! # Locking discipline
//!
//! Each node has one `RwLock` over its metadata and content. Operations
//! lock a directory before a child; operations that need two directories
//! (rename, rmdir) first take a filesystem-wide rename lock, so no two
//! operations ever wait on each other in opposite orders. No lock is held
//! across an `.await`.

mod builder;
mod content;
mod dir;
mod file;
mod locks;
mod meta;
mod node;
mod perm;
mod rename;
mod setattr;
mod shared;
mod xattr;

use std::sync::Arc;

use ninefold_server::{Node, QidGen};

pub use builder::{BuildError, MemFsBuilder};
pub use node::{FileHandle, MemNode};
pub use shared::Limits;

use shared::Shared;

/// An in-memory filesystem: its root and its shared state.
///
/// Cheap to clone; every clone serves the same tree.
#[derive(Clone, Debug)]
pub struct MemFs {
    root: Arc<MemNode>,
    shared: Arc<Shared>,
}

impl MemFs {
    /// A builder for a tree (empty root, mode 0755, owned by root,
    /// permissions enforced, default [`Limits`]).
    pub fn builder() -> MemFsBuilder {
        MemFsBuilder::new()
    }

    /// An empty filesystem with default settings.
    pub fn new() -> MemFs {
        MemFsBuilder::new().into_empty()
    }

    /// The root directory, ready to serve (`Arc<dyn Node>` implements
    /// `Attacher`).
    pub fn root(&self) -> Arc<dyn Node> {
        self.root.clone()
    }

    /// The root directory as its concrete type.
    pub fn root_node(&self) -> &Arc<MemNode> {
        &self.root
    }

    /// The qid generator of this filesystem: use it for foreign nodes
    /// added later so their qid paths do not collide with memfs objects.
    pub fn qids(&self) -> &QidGen {
        &self.shared.qids
    }

    /// The limits in force.
    pub fn limits(&self) -> &Limits {
        &self.shared.limits
    }

    /// Bytes of file content currently held (including unlinked files
    /// still open).
    pub fn bytes_used(&self) -> u64 {
        self.shared.bytes_used()
    }

    /// memfs objects currently alive (including unlinked ones still
    /// referenced).
    pub fn inodes_used(&self) -> u64 {
        self.shared.inodes_used()
    }
}

impl Default for MemFs {
    fn default() -> MemFs {
        MemFs::new()
    }
}
