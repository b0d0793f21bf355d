//! [`PassthroughBuilder`]: the export's options.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use ninefold_server::Node;

use super::idmap::IdMap;
use super::node::{PassthroughNode, Shared};
use super::{Passthrough, PassthroughError};

/// The options of an export, fixed at build time.
#[derive(Clone, Debug)]
pub(crate) struct Options {
    pub(crate) read_only: bool,
    pub(crate) id_map: IdMap,
    pub(crate) keep_direct: bool,
    pub(crate) devices: bool,
    pub(crate) qid_version: bool,
    pub(crate) lock_wait: Duration,
    pub(crate) openat2: Option<bool>,
    pub(crate) raise_nofile: bool,
    pub(crate) credentials: Option<bool>,
    /// Descriptors per connection: `None` the default (half the
    /// descriptor limit), `Some(0)` unlimited.
    pub(crate) fds_per_conn: Option<usize>,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            read_only: false,
            id_map: IdMap::Identity,
            keep_direct: false,
            devices: false,
            qid_version: false,
            lock_wait: Duration::from_secs(1),
            openat2: None,
            raise_nofile: true,
            credentials: None,
            fds_per_conn: None,
        }
    }
}

/// Configures a [`Passthrough`] export.
///
/// ```no_run
/// use std::time::Duration;
/// use ninefold_fs::passthrough::{IdMap, Passthrough};
///
/// let export = Passthrough::builder("/srv/ro")
///     .read_only(true)
///     .id_map(IdMap::Squash { uid: 65534, gid: 65534 })
///     .lock_wait(Duration::from_millis(200))
///     .build()
///     .unwrap();
/// ```
#[derive(Debug)]
pub struct PassthroughBuilder {
    path: PathBuf,
    opts: Options,
}

impl PassthroughBuilder {
    pub(crate) fn new(path: PathBuf) -> PassthroughBuilder {
        PassthroughBuilder { path, opts: Options::default() }
    }

    /// Refuses every mutation (EROFS), writable opens included.
    #[must_use]
    pub fn read_only(mut self, on: bool) -> PassthroughBuilder {
        self.opts.read_only = on;
        self
    }

    /// How client ids map to host ids (default: identity).
    #[must_use]
    pub fn id_map(mut self, map: IdMap) -> PassthroughBuilder {
        self.opts.id_map = map;
        self
    }

    /// Keeps P9_DOTL_DIRECT on host opens. Off by default: the client's
    /// offsets and sizes are not aligned, so host O_DIRECT I/O would fail
    /// with EINVAL.
    #[must_use]
    pub fn keep_direct(mut self, on: bool) -> PassthroughBuilder {
        self.opts.keep_direct = on;
        self
    }

    /// Allows opening character and block devices (off by default, as on
    /// a `nodev` mount: a client could otherwise create a node for a host
    /// disk and read it). Creating device nodes is always allowed.
    #[must_use]
    pub fn devices(mut self, on: bool) -> PassthroughBuilder {
        self.opts.devices = on;
        self
    }

    /// Derives `qid.version` from mtime and size for regular files (as
    /// QEMU does). Off by default: version 0 tells the client not to
    /// cache by version, and never creates duplicate inodes.
    #[must_use]
    pub fn qid_version(mut self, on: bool) -> PassthroughBuilder {
        self.opts.qid_version = on;
        self
    }

    /// How long a blocking lock request (Tlock with BLOCK) polls for the
    /// lock before answering BLOCKED (default 1 s; zero answers at once).
    /// The wait is asynchronous and ends early when the request is
    /// flushed.
    #[must_use]
    pub fn lock_wait(mut self, wait: Duration) -> PassthroughBuilder {
        self.opts.lock_wait = wait;
        self
    }

    /// `Some(false)` disables `openat2` lookups; `None` and `Some(true)`
    /// (default) use them when the kernel has them (probed at build).
    /// Disabling exists to test the single-component `openat(O_NOFOLLOW)`
    /// fallback.
    #[must_use]
    pub fn openat2(mut self, use_it: Option<bool>) -> PassthroughBuilder {
        self.opts.openat2 = use_it;
        self
    }

    /// Raises the process's soft descriptor limit to its hard limit at
    /// build (default on): every node and open fid holds a descriptor.
    #[must_use]
    pub fn raise_nofile(mut self, on: bool) -> PassthroughBuilder {
        self.opts.raise_nofile = on;
        self
    }

    /// Whether each request's host system calls run with the requesting
    /// user's credentials (fsuid, fsgid, supplementary groups), so the
    /// host checks its permissions. Default: on when the server runs as
    /// root, off otherwise. `true` without root makes
    /// [`build`](Self::build) fail; `false` makes every check with the
    /// server's own credentials.
    #[must_use]
    pub fn credentials(mut self, on: bool) -> PassthroughBuilder {
        self.opts.credentials = Some(on);
        self
    }

    /// Host descriptors one connection may hold through the export: the
    /// `O_PATH` descriptor of every node it walked to or created (a fid
    /// pins its ancestors too) and every open fid's. Past it, the walk,
    /// create or open answers EMFILE to that connection only. Default: half
    /// the descriptor limit in force after
    /// [`raise_nofile`](Self::raise_nofile), at least 256; `0` is
    /// unlimited.
    #[must_use]
    pub fn descriptors_per_connection(mut self, n: usize) -> PassthroughBuilder {
        self.opts.fds_per_conn = Some(n);
        self
    }

    /// Opens the export root and `/proc/self/fd`, probes `openat2`.
    pub fn build(self) -> Result<Passthrough, PassthroughError> {
        self.opts.id_map.validate().map_err(PassthroughError::IdMap)?;
        let (shared, root_fd) = Shared::open(self.path, self.opts)?;
        let shared = Arc::new(shared);
        let root =
            PassthroughNode::from_fd(&shared, root_fd).map_err(|e| PassthroughError::Root {
                path: shared.root_path.clone(),
                source: std::io::Error::from_raw_os_error(e.raw_os_error()),
            })?;
        let root: Arc<dyn Node> = Arc::new(root);
        Ok(Passthrough { shared, root })
    }
}
