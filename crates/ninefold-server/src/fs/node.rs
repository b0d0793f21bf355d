//! [`Node`]: one object of a served tree (file, directory, symlink,
//! device...), with every operation defaulting to ENOSYS.

use std::any::Any;
use std::sync::Arc;

use async_trait::async_trait;
use bytes::Bytes;
use ninefold_proto::l::{Attr, SetAttr};
use ninefold_proto::{
    Errno, FallocateMode, GetattrMask, LockStatus, OpenFlags, Qid, UnlinkatFlags, XattrFlags,
};

use super::{Created, DirSink, LockInfo, LockRequest, Opened, Request, StatFs};

/// The result of a filesystem method: a value or a Linux errno.
pub type Result<T, E = Errno> = std::result::Result<T, E>;

/// An object in a served tree. Implement the methods your object
/// supports; every other one answers `ENOSYS` (the client sees "Function
/// not implemented", and for some operations falls back to another
/// message, as each method's documentation says).
///
/// The server holds nodes as `Arc<dyn Node>`, one per fid (several fids
/// may share one node), and never asks a node for anything it can decide
/// itself: names are checked before [`lookup`](Node::lookup) and the
/// create methods (never empty, `.`, `..` or containing `/`; `..` is
/// resolved by the server and never reaches a node), directory-only
/// operations are only called on nodes whose qid says directory, and
/// 9P2000/9P2000.u requests are mapped onto these same methods (Tstat →
/// getattr, Twstat → setattr/rename, Tcreate → create/mkdir/symlink/
/// mknod/link, Tremove → unlink on the parent, Tread on a directory →
/// readdir).
///
/// # Concurrency
///
/// Methods run concurrently, on the same node and on different nodes,
/// in any order: the server serialises nothing on a node's behalf. It
/// does guarantee that:
/// - a fid's clunk (and with it [`Handle::release`](super::Handle::release)) runs after every
///   earlier request on that fid has finished;
/// - a Tversion runs after every earlier request on the connection has
///   finished;
/// - no server lock is held while a method runs.
///
/// A node must therefore protect its own state (a `Mutex` or `RwLock`
/// per node is the usual answer), and operations spanning two nodes
/// (rename, link) must take their locks in a consistent order.
///
/// # Flush
///
/// When the client flushes a request, the server drops the method's
/// future at its next `.await` (and [`Request::cancelled`] fires first).
/// A method must leave its node consistent at every `.await`.
///
/// # Example
///
/// A read-only file in four methods:
///
/// ```
/// use async_trait::async_trait;
/// use bytes::Bytes;
/// use ninefold_proto::l::Attr;
/// use ninefold_proto::{GetattrMask, Qid, QidType, S_IFREG};
/// use ninefold_server::{Node, Request, Result};
///
/// #[derive(Debug)]
/// struct Hello;
///
/// const QID: Qid = Qid { ty: QidType::FILE, version: 0, path: 2 };
/// const TEXT: &[u8] = b"hello, world\n";
///
/// #[async_trait]
/// impl Node for Hello {
///     fn qid(&self) -> Qid {
///         QID
///     }
///     async fn getattr(&self, _req: &Request, _mask: GetattrMask) -> Result<Attr> {
///         Ok(Attr { qid: QID, mode: S_IFREG | 0o444, nlink: 1, size: TEXT.len() as u64, ..Attr::default() })
///     }
///     async fn read(&self, _req: &Request, offset: u64, count: u32) -> Result<Bytes> {
///         let start = (offset as usize).min(TEXT.len());
///         let end = start.saturating_add(count as usize).min(TEXT.len());
///         Ok(Bytes::from_static(&TEXT[start..end]))
///     }
/// }
/// ```
#[async_trait]
pub trait Node: Any + Send + Sync + std::fmt::Debug {
    /// The node's qid: `ty` must agree with its file type, `path` must be
    /// unique and stable for the export's life, and `version` should
    /// change only when the content does (0 = "do not cache").
    fn qid(&self) -> Qid;

    /// Attributes (Tgetattr; Tstat in 9P2000/.u).
    ///
    /// Fill every BASIC field (mode, nlink, uid, gid, rdev, atime, mtime,
    /// ctime, ino via `qid.path`, size, blocks), whatever `mask` asks:
    /// the server replies with `valid` = BASIC plus the requested extra
    /// bits (BTIME, GEN, DATA_VERSION) it got. The Linux client needs
    /// this for every object it instantiates; without it nothing mounts.
    async fn getattr(&self, req: &Request, mask: GetattrMask) -> Result<Attr> {
        let _ = (req, mask);
        Err(Errno::ENOSYS)
    }

    /// Changes attributes (Tsetattr; Twstat in 9P2000/.u): chmod, chown,
    /// truncate/extend, utimes. `attr.valid` says which fields to apply;
    /// ATIME/MTIME without ATIME_SET/MTIME_SET mean "the current time".
    /// Linux sends O_TRUNC as a separate size-0 setattr.
    async fn setattr(&self, req: &Request, attr: &SetAttr) -> Result<()> {
        let _ = (req, attr);
        Err(Errno::ENOSYS)
    }

    /// The child called `name` of this directory (one Twalk element).
    /// Return ENOENT when there is none; ENOTDIR if this is not a
    /// directory.
    async fn lookup(&self, req: &Request, name: &[u8]) -> Result<Arc<dyn Node>> {
        let _ = (req, name);
        Err(Errno::ENOSYS)
    }

    /// Opens the node (Tlopen, Topen). The default succeeds without a
    /// handle, so I/O goes to this node's [`read`](Node::read),
    /// [`write`](Node::write) and [`readdir`](Node::readdir). Return a
    /// [`Handle`](super::Handle) for per-open state (a cursor, a host
    /// descriptor, locks).
    ///
    /// `flags` are the P9_DOTL open flags. The server has already refused
    /// DIRECTORY on a non-directory (ENOTDIR) and writable opens of a
    /// directory (EISDIR); TRUNC and APPEND are the node's to honour.
    async fn open(&self, req: &Request, flags: OpenFlags) -> Result<Opened> {
        let _ = (req, flags);
        Ok(Opened::node())
    }

    /// Reads up to `count` bytes at `offset` (Tread). Return fewer at end
    /// of file, none past it. The server truncates anything longer than
    /// `count` (already clamped to what one reply can carry).
    async fn read(&self, req: &Request, offset: u64, count: u32) -> Result<Bytes> {
        let _ = (req, offset, count);
        Err(Errno::ENOSYS)
    }

    /// Writes `data` at `offset` (Twrite) and returns how many bytes were
    /// written. `data` is a zero-copy slice of the received frame.
    async fn write(&self, req: &Request, offset: u64, data: Bytes) -> Result<u32> {
        let _ = (req, offset, data);
        Err(Errno::ENOSYS)
    }

    /// Lists the directory from `offset` (Treaddir; Tread on a directory
    /// in 9P2000/.u): push entries into `sink` until it refuses one.
    ///
    /// `offset` 0 means the start; any other value is a cookie this
    /// method gave an earlier entry. Include `.` and `..` (the Linux
    /// client does not invent them). Cookies must stay valid while the
    /// directory changes: entries added or removed during a listing may
    /// be missed or returned, but no entry may repeat in a way that loops.
    async fn readdir(&self, req: &Request, offset: u64, sink: &mut DirSink) -> Result<()> {
        let _ = (req, offset, sink);
        Err(Errno::ENOSYS)
    }

    /// Creates and opens the regular file `name` in this directory
    /// (Tlcreate; Tcreate in 9P2000/.u). `mode` carries permission bits
    /// (already umasked by the client), `gid` the group to assign.
    /// Return EEXIST when the name exists: the server then opens the
    /// existing file through [`lookup`](Node::lookup) and
    /// [`open`](Node::open) unless the client asked for EXCL, as open(2)
    /// with O_CREAT does.
    async fn create(
        &self,
        req: &Request,
        name: &[u8],
        flags: OpenFlags,
        mode: u32,
        gid: u32,
    ) -> Result<Created> {
        let _ = (req, name, flags, mode, gid);
        Err(Errno::ENOSYS)
    }

    /// Creates the directory `name` (Tmkdir). Use `mode & 0o7777` for
    /// permissions.
    async fn mkdir(
        &self,
        req: &Request,
        name: &[u8],
        mode: u32,
        gid: u32,
    ) -> Result<Arc<dyn Node>> {
        let _ = (req, name, mode, gid);
        Err(Errno::ENOSYS)
    }

    /// Creates the symbolic link `name` pointing at `target` (Tsymlink).
    async fn symlink(
        &self,
        req: &Request,
        name: &[u8],
        target: &[u8],
        gid: u32,
    ) -> Result<Arc<dyn Node>> {
        let _ = (req, name, target, gid);
        Err(Errno::ENOSYS)
    }

    /// Creates a device, FIFO or socket node (Tmknod). The file type is
    /// in `mode & S_IFMT`; `major`/`minor` matter for devices only.
    async fn mknod(
        &self,
        req: &Request,
        name: &[u8],
        mode: u32,
        major: u32,
        minor: u32,
        gid: u32,
    ) -> Result<Arc<dyn Node>> {
        let _ = (req, name, mode, major, minor, gid);
        Err(Errno::ENOSYS)
    }

    /// Adds the hard link `name` in this directory to `target` (Tlink).
    /// `target` may be of another filesystem type: use
    /// `downcast_ref` (on `dyn Node`) and answer EXDEV when
    /// it is not yours.
    async fn link(&self, req: &Request, target: &Arc<dyn Node>, name: &[u8]) -> Result<()> {
        let _ = (req, target, name);
        Err(Errno::ENOSYS)
    }

    /// The target of this symbolic link (Treadlink).
    async fn readlink(&self, req: &Request) -> Result<Bytes> {
        let _ = req;
        Err(Errno::ENOSYS)
    }

    /// Removes `name` from this directory (Tunlinkat; also Tremove and
    /// Tunlinkat's fallbacks). REMOVEDIR in `flags` asks for a directory
    /// (ENOTDIR otherwise, ENOTEMPTY if not empty); without it a
    /// directory answers EISDIR. Objects still open through other fids
    /// must stay usable until their last clunk.
    ///
    /// Answering EOPNOTSUPP makes the Linux client retry with Tremove,
    /// which the server maps back onto this method: return it only if
    /// removal is truly impossible.
    async fn unlink(&self, req: &Request, name: &[u8], flags: UnlinkatFlags) -> Result<()> {
        let _ = (req, name, flags);
        Err(Errno::ENOSYS)
    }

    /// Moves `name` of this directory to `new_name` in `new_dir`
    /// (Trenameat; Trename and 9P2000 Twstat renames map here too),
    /// atomically replacing a compatible target. `new_dir` may be this
    /// node. Refuse moving a directory into its own subtree (EINVAL) and
    /// onto a non-empty directory (ENOTEMPTY).
    async fn rename(
        &self,
        req: &Request,
        name: &[u8],
        new_dir: &Arc<dyn Node>,
        new_name: &[u8],
    ) -> Result<()> {
        let _ = (req, name, new_dir, new_name);
        Err(Errno::ENOSYS)
    }

    /// Filesystem statistics (Tstatfs).
    async fn statfs(&self, req: &Request) -> Result<StatFs> {
        let _ = req;
        Err(Errno::ENOSYS)
    }

    /// Flushes the node to stable storage (Tfsync; an all-"don't touch"
    /// Twstat in 9P2000/.u). `datasync` asks only for the data
    /// (`fdatasync`). The default succeeds: a node with nothing to flush
    /// has nothing to do.
    async fn fsync(&self, req: &Request, datasync: bool) -> Result<()> {
        let _ = (req, datasync);
        Ok(())
    }

    /// Flushes the whole filesystem this node belongs to (9P2000.L.Z
    /// Tfsyncdur without the inode scope; called on the fid's attach
    /// root), like `syncfs(2)`. The default answers ENOSYS: a filesystem
    /// must say itself that nothing it acknowledged can be lost.
    async fn sync_fs(&self, req: &Request) -> Result<()> {
        let _ = req;
        Err(Errno::ENOSYS)
    }

    /// Allocates, punches or zeroes `length` bytes at `offset`
    /// (9P2000.L.Z Tfallocate, on a fid open for writing; the server has
    /// already refused modes other than the four of
    /// [`FallocateMode::is_supported`] with EOPNOTSUPP). Mode 0 may extend
    /// the file; KEEP_SIZE never changes its size.
    async fn fallocate(
        &self,
        req: &Request,
        offset: u64,
        length: u64,
        mode: FallocateMode,
    ) -> Result<()> {
        let _ = (req, offset, length, mode);
        Err(Errno::ENOSYS)
    }

    /// The live object of this filesystem whose `qid.path` is `path`
    /// (9P2000.L.Z Trebind: how a reconnecting client restores a fid
    /// without walking). Called on an export root. The default answers
    /// ESTALE ("cannot be restored": the client falls back to walking
    /// the path again). Never return another object than the one the
    /// qid named, even if it was replaced: ESTALE is the honest answer.
    async fn resolve(&self, req: &Request, path: u64) -> Result<Arc<dyn Node>> {
        let _ = (req, path);
        Err(Errno::ESTALE)
    }

    /// Takes or releases a byte-range lock (Tlock) for
    /// [`Request::lock_owner`]. Never block: answer BLOCKED (the client
    /// polls again) or wait on [`Request::cancelled`].
    async fn lock(&self, req: &Request, lock: &LockRequest) -> Result<LockStatus> {
        let _ = (req, lock);
        Err(Errno::ENOSYS)
    }

    /// Reports a lock of another owner overlapping `probe`'s range
    /// (Tgetlock), or [`LockInfo::unlocked`].
    async fn getlock(&self, req: &Request, probe: &LockRequest) -> Result<LockInfo> {
        let _ = (req, probe);
        Err(Errno::ENOSYS)
    }

    /// Called when a fid that was opened on this node is clunked, after
    /// every other request on that fid has finished (when the open
    /// returned a handle, [`Handle::release`](super::Handle::release)
    /// is called instead, and by default forwards here). Release the
    /// owner's locks here. The default does nothing.
    async fn release(&self, req: &Request) -> Result<()> {
        let _ = req;
        Ok(())
    }

    /// The value of extended attribute `name` (Txattrwalk). ENODATA when
    /// it does not exist.
    async fn xattr_get(&self, req: &Request, name: &[u8]) -> Result<Bytes> {
        let _ = (req, name);
        Err(Errno::ENOSYS)
    }

    /// The names of all extended attributes (Txattrwalk with an empty
    /// name).
    async fn xattr_list(&self, req: &Request) -> Result<Vec<Bytes>> {
        let _ = req;
        Err(Errno::ENOSYS)
    }

    /// Sets extended attribute `name` (Txattrcreate + Twrite, committed
    /// at Tclunk). `flags` CREATE fails with EEXIST if it exists, REPLACE
    /// with ENODATA if it does not. The value may be empty.
    async fn xattr_set(
        &self,
        req: &Request,
        name: &[u8],
        value: Bytes,
        flags: XattrFlags,
    ) -> Result<()> {
        let _ = (req, name, value, flags);
        Err(Errno::ENOSYS)
    }

    /// Removes extended attribute `name` (Txattrcreate with size 0).
    /// ENODATA when it does not exist.
    async fn xattr_remove(&self, req: &Request, name: &[u8]) -> Result<()> {
        let _ = (req, name);
        Err(Errno::ENOSYS)
    }
}

impl dyn Node {
    /// The node as its concrete type, if it is a `T`.
    ///
    /// ```
    /// # use async_trait::async_trait;
    /// # use ninefold_proto::Qid;
    /// # use ninefold_server::Node;
    /// # use std::sync::Arc;
    /// #[derive(Debug)]
    /// struct Mine;
    /// #[async_trait]
    /// impl Node for Mine {
    ///     fn qid(&self) -> Qid { Qid::default() }
    /// }
    /// let node: Arc<dyn Node> = Arc::new(Mine);
    /// assert!(node.downcast_ref::<Mine>().is_some());
    /// ```
    pub fn downcast_ref<T: Node>(&self) -> Option<&T> {
        let any: &dyn Any = self;
        any.downcast_ref::<T>()
    }
}
