//! [`PassthroughNode`]: one host object, held by an `O_PATH` descriptor,
//! and the state shared by every node of an export.

use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::path::PathBuf;
use std::sync::Arc;

use async_trait::async_trait;
use bytes::Bytes;
use ninefold_proto::l::{Attr, SetAttr};
use ninefold_proto::{
    Errno, GetattrMask, LockStatus, OpenFlags, Qid, QidType, UnlinkatFlags, XattrFlags,
};
use ninefold_server::{
    Created, DirSink, LockInfo, LockRequest, Node, Opened, Request, Result, StatFs,
};
use rustix::fs::{Mode, OFlags, ResolveFlags};

use super::creds::{Credentials, Who};
use super::options::Options;
use super::qidmap::QidMap;
use super::PassthroughError;

/// `PROC_SUPER_MAGIC`: what `fstatfs` says for procfs.
const PROC_SUPER_MAGIC: i64 = 0x9fa0;

/// State shared by every node of one export.
#[derive(Debug)]
pub(crate) struct Shared {
    /// The export path as configured.
    pub(crate) root_path: PathBuf,
    /// The export path with symlinks resolved, if that worked.
    pub(crate) canonical: Option<PathBuf>,
    /// `/proc/self/fd`, to reopen descriptors through their magic links.
    proc_fd: OwnedFd,
    /// The process `proc_fd` belongs to.
    pid: rustix::process::Pid,
    /// Whether lookups use `openat2`.
    pub(crate) openat2: bool,
    pub(crate) opts: Options,
    pub(crate) qids: QidMap,
    /// `(dev, ino)` of the export root.
    pub(crate) root_ident: (u64, u64),
    /// Whether the server runs as root (and so can give created objects
    /// the client's ownership).
    pub(crate) as_root: bool,
    /// Per-request credential switching.
    pub(crate) creds: Credentials,
    /// One descriptor per live object, and where objects were seen.
    pub(crate) index: super::index::Index,
    /// Descriptors per connection.
    pub(crate) fds: super::budget::FdBudget,
    /// Whether writes run inline or on the blocking pool.
    pub(crate) writes: super::inline::WriteGate,
}

impl Shared {
    /// Opens the export root and `/proc/self/fd` and probes `openat2`.
    pub(crate) fn open(
        path: PathBuf,
        opts: Options,
    ) -> Result<(Shared, OwnedFd), PassthroughError> {
        let root_err = |source: rustix::io::Errno| PassthroughError::Root {
            path: path.clone(),
            source: std::io::Error::from_raw_os_error(source.raw_os_error()),
        };
        let root_fd = rustix::fs::open(
            &path,
            OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC,
            Mode::empty(),
        )
        .map_err(|e| {
            if e == rustix::io::Errno::NOTDIR {
                PassthroughError::NotADirectory(path.clone())
            } else {
                root_err(e)
            }
        })?;
        let root_stat = super::attr::stat(root_fd.as_fd()).map_err(root_err)?;

        let proc_fd = rustix::fs::open(
            "/proc/self/fd",
            OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
            Mode::empty(),
        )
        .map_err(|e| PassthroughError::Proc(std::io::Error::from_raw_os_error(e.raw_os_error())))?;
        let magic = rustix::fs::fstatfs(&proc_fd)
            .map_err(|e| {
                PassthroughError::Proc(std::io::Error::from_raw_os_error(e.raw_os_error()))
            })?
            .f_type;
        // `f_type` is as wide as a C long: i64 here, i32 on 32-bit hosts.
        #[allow(clippy::useless_conversion)]
        let magic = i64::from(magic);
        if magic != PROC_SUPER_MAGIC {
            return Err(PassthroughError::Proc(std::io::Error::other("/proc is not procfs")));
        }

        let openat2 = opts.openat2 != Some(false) && probe_openat2(&root_fd);
        if !openat2 {
            tracing::info!(path = %path.display(), "openat2 unavailable or disabled: single-component openat(O_NOFOLLOW) lookups");
        }
        if opts.raise_nofile {
            raise_nofile();
        }
        let opts_fds = opts.fds_per_conn;
        let canonical = std::fs::canonicalize(&path).ok();
        let root_dev = super::qidmap::dev_of(&root_stat);
        let qids = QidMap::new(root_dev);
        let root_ident = (root_dev, root_stat.stx_ino);
        let as_root = rustix::process::geteuid().is_root();
        if opts.credentials == Some(true) && !as_root {
            return Err(PassthroughError::Credentials(
                "switching credentials per request needs a server running as root".into(),
            ));
        }
        let creds = Credentials::new(opts.credentials.unwrap_or(as_root))
            .map_err(|e| PassthroughError::Credentials(e.to_string()))?;
        Ok((
            Shared {
                root_path: path,
                canonical,
                proc_fd,
                pid: rustix::process::getpid(),
                openat2,
                opts,
                qids,
                root_ident,
                as_root,
                creds,
                index: super::index::Index::default(),
                fds: super::budget::FdBudget::new(match opts_fds {
                    Some(0) => None,
                    Some(n) => Some(n),
                    None => Some(super::budget::default_budget()),
                }),
                writes: super::inline::WriteGate::default(),
            },
            root_fd,
        ))
    }

    /// Reopens `fd`'s object through `/proc/self/fd/N` with `flags`. The
    /// magic link names the inode, not a path: nothing can be swapped in.
    /// `flags` must not create; `O_NOFOLLOW` would refuse the magic link.
    pub(crate) fn reopen(&self, fd: &OwnedFd, flags: OFlags) -> rustix::io::Result<OwnedFd> {
        // (O_TMPFILE is never passed: its mask includes O_DIRECTORY.)
        let flags = (flags - (OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW)) | OFlags::CLOEXEC;
        rustix::fs::openat(self.proc_fd()?, fd_name(fd), flags, Mode::empty())
    }

    /// `/proc/self/fd` (for `*at` calls that follow `N`'s magic link).
    /// After a fork it would be the parent's descriptor table: EIO
    /// rather than reach the wrong object.
    pub(crate) fn proc_fd(&self) -> rustix::io::Result<&OwnedFd> {
        if rustix::process::getpid() != self.pid {
            return Err(rustix::io::Errno::IO);
        }
        Ok(&self.proc_fd)
    }
}

/// `N` for descriptor `fd`, as named in `/proc/self/fd`.
pub(crate) fn fd_name(fd: &OwnedFd) -> String {
    fd.as_raw_fd().to_string()
}

/// `/proc/self/fd/N`, for the calls that take only a path (xattrs).
pub(crate) fn proc_path(fd: &OwnedFd) -> String {
    format!("/proc/self/fd/{}", fd.as_raw_fd())
}

/// Every node holds a descriptor: lift the soft descriptor limit to the
/// hard one (often 1024 → 524288), so a client's walks do not run the
/// server out of descriptors.
fn raise_nofile() {
    use rustix::process::{getrlimit, setrlimit, Resource};
    let limit = getrlimit(Resource::Nofile);
    if limit.current != limit.maximum {
        let raised = rustix::process::Rlimit { current: limit.maximum, maximum: limit.maximum };
        match setrlimit(Resource::Nofile, raised) {
            Ok(()) => tracing::debug!(limit = ?limit.maximum, "passthrough: raised RLIMIT_NOFILE"),
            Err(e) => tracing::warn!(error = %e, "passthrough: could not raise RLIMIT_NOFILE"),
        }
    }
}

fn probe_openat2(root: &OwnedFd) -> bool {
    match rustix::fs::openat2(
        root,
        ".",
        OFlags::PATH | OFlags::CLOEXEC,
        Mode::empty(),
        ResolveFlags::BENEATH | ResolveFlags::NO_SYMLINKS | ResolveFlags::NO_MAGICLINKS,
    ) {
        Ok(_) => true,
        Err(e) => {
            tracing::debug!(errno = e.raw_os_error(), "openat2 probe failed");
            false
        }
    }
}

/// A Linux errno from a host error.
pub(crate) fn errno(e: rustix::io::Errno) -> Errno {
    Errno::from_host(e.raw_os_error())
}

/// Runs `f` on the blocking pool.
pub(crate) async fn blocking<T, F>(f: F) -> Result<T>
where
    F: FnOnce() -> Result<T> + Send + 'static,
    T: Send + 'static,
{
    match tokio::task::spawn_blocking(f).await {
        Ok(result) => result,
        Err(e) => {
            tracing::error!(error = %e, "passthrough: blocking task failed");
            Err(Errno::EIO)
        }
    }
}

/// Runs `f` on the blocking pool with `req`'s credentials (see
/// [`creds`](super::creds)): the server's own, or the requesting user's
/// when switching is on, restored before the thread serves anything
/// else.
pub(crate) async fn blocking_as<T, F>(fs: &Arc<Shared>, req: &Request, f: F) -> Result<T>
where
    F: FnOnce() -> Result<T> + Send + 'static,
    T: Send + 'static,
{
    let who = fs.who(req);
    let fs = fs.clone();
    blocking(move || {
        let _guard = fs.creds.enter(who)?;
        f()
    })
    .await
}

/// Runs `f` on the calling task when `req` runs with the server's own
/// credentials, else as [`blocking_as`] does. For the metadata calls on
/// descriptors the server already holds: an `fstat` of an `O_PATH`
/// descriptor, a one-name `openat2`, create, `mkdir`, `unlink`, `rename`,
/// owners, modes, times and xattrs, opening a regular file or directory.
/// On a local filesystem they take microseconds, while a hand-off to the
/// blocking pool and back costs two thread wake-ups, takes the pool's
/// shared queue lock and, with many requests in flight, a thread per
/// request; on a busy host each wake-up may wait for a CPU (through the
/// kernel's v9fs, untar of 300 files paid 0.4-2.4 ms per create, clunk and
/// setattr that way). Data transfer, `fsync`, truncation and `readdir`
/// stay on the pool. A request as another user runs here too, switched to
/// the user's ids around `f` (see [`creds`](super::creds)), once the
/// user's ids are known; a user database lookup goes to the pool.
pub(crate) async fn cheap_as<T, F>(fs: &Arc<Shared>, req: &Request, f: F) -> Result<T>
where
    F: FnOnce() -> Result<T> + Send + 'static,
    T: Send + 'static,
{
    let who = fs.who(req);
    match fs.creds.enter_known(who) {
        Some(guard) => {
            let _guard = guard?;
            f()
        }
        None => blocking_as(fs, req, f).await,
    }
}

impl Shared {
    /// Whom `req`'s system calls run as.
    pub(crate) fn who(&self, req: &Request) -> Who {
        self.creds.who(&self.opts.id_map, req)
    }
}

/// The file type of a node, fixed for the life of its descriptor.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    Dir,
    File,
    Symlink,
    Fifo,
    Socket,
    CharDev,
    BlockDev,
}

impl Kind {
    pub(crate) fn from_mode(mode: u32) -> Kind {
        match mode & ninefold_proto::S_IFMT {
            ninefold_proto::S_IFDIR => Kind::Dir,
            ninefold_proto::S_IFLNK => Kind::Symlink,
            ninefold_proto::S_IFIFO => Kind::Fifo,
            ninefold_proto::S_IFSOCK => Kind::Socket,
            ninefold_proto::S_IFCHR => Kind::CharDev,
            ninefold_proto::S_IFBLK => Kind::BlockDev,
            _ => Kind::File,
        }
    }

    pub(crate) fn qid_type(self) -> QidType {
        match self {
            Kind::Dir => QidType::DIR,
            Kind::Symlink => QidType::SYMLINK,
            _ => QidType::FILE,
        }
    }
}

/// A host object of a [`Passthrough`](super::Passthrough) export.
///
/// Holds an `O_PATH | O_NOFOLLOW | O_CLOEXEC` descriptor, shared with
/// every other node of the same host object: the node keeps naming the
/// same object across renames and after unlink.
#[derive(Debug)]
pub struct PassthroughNode {
    pub(crate) fs: Arc<Shared>,
    pub(crate) fd: Arc<OwnedFd>,
    pub(crate) kind: Kind,
    pub(crate) qid: Qid,
    /// Birth time, when the host filesystem reports one: with the inode
    /// number, what tells this object from a later one reusing it.
    pub(crate) born: Option<(i64, u32)>,
    /// This node's share of its connection's descriptor budget.
    pub(crate) charge: Option<super::budget::FdCharge>,
}

/// The birth time of a statx result, if reported.
pub(crate) fn born(st: &rustix::fs::Statx) -> Option<(i64, u32)> {
    let has = rustix::fs::StatxFlags::from_bits_retain(st.stx_mask)
        .contains(rustix::fs::StatxFlags::BTIME);
    has.then_some((st.stx_btime.tv_sec, st.stx_btime.tv_nsec))
}

impl PassthroughNode {
    /// A node for `fd` (an `O_PATH` descriptor). Blocking.
    /// The descriptor is shared with the other nodes of the same object
    /// (a duplicate is closed).
    pub(crate) fn from_fd(fs: &Arc<Shared>, fd: OwnedFd) -> rustix::io::Result<PassthroughNode> {
        let st = super::attr::stat(fd.as_fd())?;
        let kind = Kind::from_mode(u32::from(st.stx_mode));
        let qid = fs.qids.qid(kind, &st, fs.opts.qid_version);
        let fd = fs.index.share(qid.path, fd);
        Ok(PassthroughNode { fs: fs.clone(), fd, kind, qid, born: born(&st), charge: None })
    }

    /// A node for `fd`, found as `name` in directory `parent` (recorded
    /// for [`resolve`](Node::resolve)). Blocking.
    pub(crate) fn from_child(
        fs: &Arc<Shared>,
        fd: OwnedFd,
        parent: u64,
        name: &std::ffi::OsStr,
    ) -> rustix::io::Result<PassthroughNode> {
        let node = PassthroughNode::from_fd(fs, fd)?;
        fs.index.hint(node.qid.path, parent, name, node.born);
        Ok(node)
    }

    /// A node for a descriptor already shared, whose object `st`
    /// describes.
    pub(crate) fn with_fd(
        fs: &Arc<Shared>,
        fd: Arc<OwnedFd>,
        kind: Kind,
        qid: Qid,
        st: &rustix::fs::Statx,
    ) -> PassthroughNode {
        PassthroughNode { fs: fs.clone(), fd, kind, qid, born: born(st), charge: None }
    }

    /// A node for a descriptor already shared. Blocking.
    pub(crate) fn from_shared(
        fs: &Arc<Shared>,
        fd: Arc<OwnedFd>,
    ) -> rustix::io::Result<PassthroughNode> {
        let st = super::attr::stat(fd.as_fd())?;
        let kind = Kind::from_mode(u32::from(st.stx_mode));
        let qid = fs.qids.qid(kind, &st, fs.opts.qid_version);
        Ok(PassthroughNode { fs: fs.clone(), fd, kind, qid, born: born(&st), charge: None })
    }

    /// Whether `other` belongs to the same export.
    pub(crate) fn same_export(&self, other: &PassthroughNode) -> bool {
        Arc::ptr_eq(&self.fs, &other.fs)
    }

    /// EROFS on a read-only export.
    pub(crate) fn writable(&self) -> Result<()> {
        if self.fs.opts.read_only {
            Err(Errno::EROFS)
        } else {
            Ok(())
        }
    }
}

#[async_trait]
impl Node for PassthroughNode {
    fn qid(&self) -> Qid {
        self.qid
    }

    async fn getattr(&self, req: &Request, mask: GetattrMask) -> Result<Attr> {
        self.getattr_impl(req, mask).await
    }

    async fn setattr(&self, req: &Request, attr: &SetAttr) -> Result<()> {
        self.setattr_impl(req, attr, None).await
    }

    async fn lookup(&self, req: &Request, name: &[u8]) -> Result<Arc<dyn Node>> {
        self.lookup_impl(req, name).await
    }

    async fn open(&self, req: &Request, flags: OpenFlags) -> Result<Opened> {
        self.open_impl(req, flags).await
    }

    async fn read(&self, _req: &Request, _offset: u64, _count: u32) -> Result<Bytes> {
        // Only reached for a fid opened without data access (NOACCESS).
        Err(Errno::EBADF)
    }

    async fn write(&self, _req: &Request, _offset: u64, _data: Bytes) -> Result<u32> {
        Err(Errno::EBADF)
    }

    async fn readdir(&self, _req: &Request, _offset: u64, _sink: &mut DirSink) -> Result<()> {
        Err(Errno::EBADF)
    }

    async fn create(
        &self,
        req: &Request,
        name: &[u8],
        flags: OpenFlags,
        mode: u32,
        gid: u32,
    ) -> Result<Created> {
        self.create_impl(req, name, flags, mode, gid).await
    }

    async fn mkdir(
        &self,
        req: &Request,
        name: &[u8],
        mode: u32,
        gid: u32,
    ) -> Result<Arc<dyn Node>> {
        self.mkdir_impl(req, name, mode, gid).await
    }

    async fn symlink(
        &self,
        req: &Request,
        name: &[u8],
        target: &[u8],
        gid: u32,
    ) -> Result<Arc<dyn Node>> {
        self.symlink_impl(req, name, target, gid).await
    }

    async fn mknod(
        &self,
        req: &Request,
        name: &[u8],
        mode: u32,
        major: u32,
        minor: u32,
        gid: u32,
    ) -> Result<Arc<dyn Node>> {
        self.mknod_impl(req, name, mode, major, minor, gid).await
    }

    async fn link(&self, req: &Request, target: &Arc<dyn Node>, name: &[u8]) -> Result<()> {
        self.link_impl(req, target, name).await
    }

    async fn readlink(&self, req: &Request) -> Result<Bytes> {
        self.readlink_impl(req).await
    }

    async fn unlink(&self, req: &Request, name: &[u8], flags: UnlinkatFlags) -> Result<()> {
        self.unlink_impl(req, name, flags).await
    }

    async fn rename(
        &self,
        req: &Request,
        name: &[u8],
        new_dir: &Arc<dyn Node>,
        new_name: &[u8],
    ) -> Result<()> {
        self.rename_impl(req, name, new_dir, new_name).await
    }

    async fn statfs(&self, req: &Request) -> Result<StatFs> {
        self.statfs_impl(req).await
    }

    async fn fsync(&self, req: &Request, datasync: bool) -> Result<()> {
        self.fsync_impl(req, datasync).await
    }

    async fn sync_fs(&self, req: &Request) -> Result<()> {
        self.sync_fs_impl(req).await
    }

    async fn resolve(&self, req: &Request, path: u64) -> Result<Arc<dyn Node>> {
        let fs = self.fs.clone();
        let root = PassthroughNode {
            fs: fs.clone(),
            fd: self.fd.clone(),
            kind: self.kind,
            qid: self.qid,
            born: self.born,
            charge: None,
        };
        blocking_as(&self.fs, req, move || {
            let node = super::index::resolve(&fs, &root, path)?;
            Ok(Arc::new(node) as Arc<dyn Node>)
        })
        .await
    }

    async fn lock(&self, _req: &Request, _lock: &LockRequest) -> Result<LockStatus> {
        // Locks belong to an open descriptor: only a handle takes them.
        Err(Errno::EBADF)
    }

    async fn getlock(&self, _req: &Request, _probe: &LockRequest) -> Result<LockInfo> {
        Err(Errno::EBADF)
    }

    async fn xattr_get(&self, req: &Request, name: &[u8]) -> Result<Bytes> {
        self.xattr_get_impl(req, name).await
    }

    async fn xattr_list(&self, req: &Request) -> Result<Vec<Bytes>> {
        self.xattr_list_impl(req).await
    }

    async fn xattr_set(
        &self,
        req: &Request,
        name: &[u8],
        value: Bytes,
        flags: XattrFlags,
    ) -> Result<()> {
        self.xattr_set_impl(req, name, value, flags).await
    }

    async fn xattr_remove(&self, req: &Request, name: &[u8]) -> Result<()> {
        self.xattr_remove_impl(req, name).await
    }
}
