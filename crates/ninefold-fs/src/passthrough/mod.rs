//! Host-directory passthrough: exports a directory of the host, and
//! nothing outside it.
//!
//! ```no_run
//! use ninefold_fs::passthrough::{IdMap, Passthrough};
//!
//! # fn main() -> Result<(), ninefold_fs::passthrough::PassthroughError> {
//! let export = Passthrough::builder("/srv/share")
//!     .read_only(false)
//!     .id_map(IdMap::Identity)
//!     .build()?;
//! // `export.attacher()` serves the empty aname and "/srv/share".
//! let _attacher = export.attacher();
//! # Ok(()) }
//! ```
//!
//! # Containment
//!
//! Every node holds one `O_PATH | O_NOFOLLOW | O_CLOEXEC` descriptor of
//! its host object; nothing is ever looked up by a path string.
//!
//! - A lookup opens **one** component relative to the parent's
//!   descriptor, with `openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS |
//!   RESOLVE_NO_MAGICLINKS)` where the kernel has it (probed at build
//!   time), else `openat(O_NOFOLLOW)`. Names that are empty, `.`, `..`,
//!   contain `/` or NUL are refused with EINVAL before any system call.
//!   A symbolic link is never followed: looking one up gives a symlink
//!   node (readlink works, walking through it is ENOTDIR, opening it is
//!   ELOOP).
//! - I/O reopens the node's own descriptor through `/proc/self/fd/N`
//!   (relative to a `/proc/self/fd` directory opened at build time): the
//!   magic link names the inode itself, never a path, so renamed and
//!   unlinked-but-open objects keep working and nothing can be swapped in.
//! - Creation, removal and renames are `*at` calls relative to the parent
//!   descriptor with single-component names; `O_CREAT` always carries
//!   `O_EXCL | O_NOFOLLOW`.
//! - Hard links and renames only accept nodes of the same export (EXDEV
//!   otherwise), so no object from elsewhere can be linked in.
//! - Device nodes may be created (pjdfstest does) but not opened, as on a
//!   `nodev` mount (EACCES), unless [`PassthroughBuilder::devices`] allows
//!   it: otherwise a client could create a node for a host disk and read
//!   it.
//!
//! What `RESOLVE_BENEATH` cannot promise: if a process **on the host**
//! moves a directory out of the export while a client holds a fid on it,
//! that fid still names the moved directory, and lookups below it reach
//! the moved subtree (and only it: `..` never reaches a node and names
//! have a single component). A pre-existing hard link from inside the
//! export to an outside file is the same inode, so it is served like any
//! file of the export. Both need host-side action; no request can cause
//! them.
//!
//! # Identity
//!
//! The server trusts the uid a client asserts (Tattach `n_uname`, carried
//! by every fid); getattr reports host owners mapped back through the
//! [`IdMap`].
//!
//! When the server runs as root (see
//! [`PassthroughBuilder::credentials`]), every host system call of a
//! request runs with the requesting user's credentials, as diod does: on
//! the blocking thread serving the request, fsuid = the mapped uid,
//! fsgid = its primary gid, and its supplementary groups, both from the
//! host user database (`getpwuid_r`, `getgrouplist`; cached per uid for
//! a minute, at most 1024 users). A uid the host does not know gets gid
//! 65534 (nogroup) and no supplementary group. [`IdMap::Squash`] runs
//! every request as its uid and gid, with no supplementary group. uid 0
//! and attaches without a numeric uid run as the server (root). The host
//! kernel then makes every permission check (EACCES, EPERM, sticky
//! directories, set-id bit clearing) for that user. The server's ids are
//! restored before the thread serves anything else, even when the call
//! fails or panics.
//!
//! Objects a user creates belong to its fsuid and, by the host's rules,
//! to its fsgid or the setgid parent's group. When the gid the client
//! sends (Linux: the caller's fsgid, or the setgid parent's group)
//! differs, the group is changed to it if the user may (it is a member);
//! otherwise the host's choice stays. Requests running as root give new
//! objects the client's (mapped) uid and the gid it sends.
//!
//! Capabilities outside the filesystem set stay with a root server
//! whatever the fsuid: `trusted.*` extended attributes (CAP_SYS_ADMIN)
//! are therefore refused to users by the server itself, as the host
//! would refuse them (ENODATA to read, EPERM to change, hidden from
//! lists).
//!
//! A server not running as root cannot switch: its own credentials make
//! every check, and new objects keep its ownership. Run such a
//! multi-user export read-only or with [`IdMap::Squash`] if that matters.
//!
//! # Runtime
//!
//! Every system call that may block runs on `tokio::task::spawn_blocking`:
//! the methods must be called inside a Tokio runtime. Two cheap calls on
//! descriptors the server holds run on the calling task instead when the
//! request needs no credential switch: the `fstat` of Tgetattr and the
//! one-name `openat2` + `fstat` of a walk step (a pool hand-off costs
//! more than either on a local filesystem). FIFOs are the
//! exception: they are opened non-blocking and waited on through the
//! runtime's reactor (which must have I/O enabled), so a pipe with no
//! peer never holds a thread and a flush or disconnect ends the wait.

mod attach;
mod attr;
mod budget;
mod bufpool;
mod create;
mod creds;
mod fifo;
mod flags;
mod handle;
mod idmap;
mod index;
mod inline;
mod lock;
mod node;
mod options;
mod qidmap;
mod readdir;
mod remove;
mod splice;
#[allow(unsafe_code)]
mod sys;
mod walk;
mod xattr;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use ninefold_server::{Exports, Node};

pub use attach::PassthroughAttacher;
pub use handle::PassthroughHandle;
pub use idmap::{IdMap, OVERFLOW_ID};
pub use node::PassthroughNode;
pub use options::PassthroughBuilder;

use node::Shared;

/// Why an export could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum PassthroughError {
    /// The export directory could not be opened.
    #[error("cannot open export root {path}: {source}")]
    Root {
        /// The configured path.
        path: PathBuf,
        /// The host error.
        source: std::io::Error,
    },
    /// The export path is not a directory.
    #[error("export root {0} is not a directory")]
    NotADirectory(PathBuf),
    /// `/proc/self/fd` is not available (it is needed to reopen
    /// descriptors without a second name lookup).
    #[error("cannot open /proc/self/fd: {0}")]
    Proc(std::io::Error),
    /// The id map is not usable (for example, a client id mapped twice).
    #[error("invalid id map: {0}")]
    IdMap(String),
    /// Per-request credential switching was asked for but is not
    /// possible (the server does not run as root).
    #[error("credential switching: {0}")]
    Credentials(String),
}

/// Walks, creates and opens answered EMFILE because their connection held
/// its descriptor budget, by every passthrough export of this process
/// (see [`PassthroughBuilder::descriptors_per_connection`]).
pub fn descriptor_refusals_total() -> u64 {
    budget::refused_total()
}

/// An exported host directory: its root node and how to attach to it.
///
/// Cloning is cheap; every clone serves the same export.
#[derive(Clone, Debug)]
pub struct Passthrough {
    shared: Arc<Shared>,
    root: Arc<dyn Node>,
}

impl Passthrough {
    /// Starts configuring an export of `path`.
    pub fn builder(path: impl Into<PathBuf>) -> PassthroughBuilder {
        PassthroughBuilder::new(path.into())
    }

    /// Exports `path` with the default options (read-write, identity id
    /// map, O_DIRECT stripped, device nodes not openable).
    pub fn new(path: impl Into<PathBuf>) -> Result<Passthrough, PassthroughError> {
        Passthrough::builder(path).build()
    }

    /// The root node of the export.
    pub fn root(&self) -> Arc<dyn Node> {
        self.root.clone()
    }

    /// The export path as configured.
    pub fn path(&self) -> &Path {
        &self.shared.root_path
    }

    /// Whether lookups use `openat2(RESOLVE_BENEATH)` (false: the kernel
    /// lacks it and single-component `openat(O_NOFOLLOW)` is used).
    pub fn uses_openat2(&self) -> bool {
        self.shared.openat2
    }

    /// Host descriptors one connection may hold through this export (its
    /// nodes and open fids); `None`: unlimited. See
    /// [`PassthroughBuilder::descriptors_per_connection`].
    pub fn descriptors_per_connection(&self) -> Option<usize> {
        self.shared.fds.max()
    }

    /// Requests answered EMFILE so far because their connection held its
    /// descriptor budget.
    pub fn descriptor_refusals(&self) -> u64 {
        self.shared.fds.refused()
    }

    /// An [`Attacher`](ninefold_server::Attacher) serving this export for
    /// the empty aname (what the Linux client sends by default) and for
    /// the export's path, as configured or canonical, with or without a
    /// trailing `/` (what diod users write). Other anames get ENOENT.
    pub fn attacher(&self) -> PassthroughAttacher {
        PassthroughAttacher::new(self.shared.clone(), self.root.clone())
    }

    /// An [`Exports`] holding this export under the same anames as
    /// [`attacher`](Self::attacher), to combine with other trees.
    pub fn exports(&self) -> Exports {
        self.attacher()
            .anames()
            .iter()
            .fold(Exports::new(), |exports, aname| exports.export(aname.clone(), self.root.clone()))
    }
}
