//! [`MemNode`]: one memfs object, and its [`Node`] implementation, which
//! dispatches to the per-concern modules.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard, Weak};

use async_trait::async_trait;
use bytes::Bytes;
use ninefold_proto::l::{Attr, SetAttr};
use ninefold_proto::{
    Errno, FallocateMode, GetattrMask, LockStatus, OpenFlags, Qid, QidType, UnlinkatFlags,
    XattrFlags, S_IFDIR, S_IFLNK, S_IFMT, S_IFREG, S_IFSOCK,
};
use ninefold_server::{
    Created, DirSink, Handle, LockInfo, LockRequest, Node, Opened, Request, Result, StatFs,
};

use super::content::Content;
use super::dir::DirBody;
use super::locks::LockState;
use super::meta::Meta;
use super::perm;
use super::shared::Shared;

/// Block size reported by getattr and statfs.
pub(crate) const BLOCK: u64 = 4096;

/// `statfs` type: TMPFS_MAGIC.
const TMPFS_MAGIC: u32 = 0x0102_1994;

/// The content of an object, by kind.
#[derive(Debug)]
pub(crate) enum Body {
    Dir(DirBody),
    File(Content),
    Symlink(Bytes),
    /// FIFO, socket, character or block device.
    Special {
        rdev: u64,
    },
}

/// Metadata and content, under one lock.
#[derive(Debug)]
pub(crate) struct State {
    pub(crate) meta: Meta,
    pub(crate) body: Body,
}

/// One memfs object: directory, regular file, symlink, FIFO, socket or
/// device. Served as `Arc<dyn Node>`.
pub struct MemNode {
    pub(crate) shared: Arc<Shared>,
    path: u64,
    qtype: QidType,
    version: AtomicU32,
    /// This node, for handing out references to itself.
    pub(crate) me: Weak<MemNode>,
    /// Directories: the directory holding this one (changed only under
    /// the rename lock).
    pub(crate) parent: Mutex<Weak<MemNode>>,
    state: RwLock<State>,
    pub(crate) locks: LockState,
}

impl MemNode {
    /// A new object (charged against the inode limit).
    pub(crate) fn create(
        shared: &Arc<Shared>,
        meta: Meta,
        body: Body,
        parent: Weak<MemNode>,
    ) -> Result<Arc<MemNode>> {
        shared.charge_inode()?;
        let path = shared.qids.next_path();
        let qtype = QidType::from_mode(meta.mode);
        let node = Arc::new_cyclic(|me| MemNode {
            shared: shared.clone(),
            path,
            qtype,
            version: AtomicU32::new(0),
            me: me.clone(),
            parent: Mutex::new(parent),
            state: RwLock::new(State { meta, body }),
            locks: LockState::default(),
        });
        shared.register(path, Arc::downgrade(&node));
        Ok(node)
    }

    pub(crate) fn read_state(&self) -> RwLockReadGuard<'_, State> {
        self.state.read().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn write_state(&self) -> RwLockWriteGuard<'_, State> {
        self.state.write().unwrap_or_else(PoisonError::into_inner)
    }

    /// Whether this is a directory.
    pub fn is_dir(&self) -> bool {
        self.qtype.contains(QidType::DIR)
    }

    /// Records a content change (qid.version).
    pub(crate) fn bump_version(&self) {
        self.version.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn parent_node(&self) -> Option<Arc<MemNode>> {
        self.parent.lock().unwrap_or_else(PoisonError::into_inner).upgrade()
    }

    pub(crate) fn set_parent(&self, parent: Weak<MemNode>) {
        *self.parent.lock().unwrap_or_else(PoisonError::into_inner) = parent;
    }

    /// Whether `other` is this filesystem's.
    pub(crate) fn same_fs(&self, other: &MemNode) -> bool {
        Arc::ptr_eq(&self.shared, &other.shared)
    }

    /// The attributes of this node.
    pub(crate) fn attr(&self) -> Attr {
        let st = self.read_state();
        let m = &st.meta;
        let (size, nlink, rdev, blocks) = match &st.body {
            Body::Dir(d) => (BLOCK, d.nlink(), 0, BLOCK / 512),
            Body::File(data) => {
                let len = data.len() as u64;
                (len, m.nlink, 0, len.div_ceil(BLOCK) * (BLOCK / 512))
            }
            Body::Symlink(t) => (t.len() as u64, m.nlink, 0, 0),
            Body::Special { rdev } => (0, m.nlink, *rdev, 0),
        };
        Attr {
            qid: self.qid(),
            mode: m.mode,
            uid: m.uid,
            gid: m.gid,
            nlink,
            rdev,
            size,
            blksize: BLOCK,
            blocks,
            atime_sec: m.atime.sec,
            atime_nsec: m.atime.nsec,
            mtime_sec: m.mtime.sec,
            mtime_nsec: m.mtime.nsec,
            ctime_sec: m.ctime.sec,
            ctime_nsec: m.ctime.nsec,
            btime_sec: m.btime.sec,
            btime_nsec: m.btime.nsec,
            gen: 0,
            data_version: u64::from(self.version.load(Ordering::Relaxed)),
        }
    }

    fn do_open(&self, req: &Request, flags: OpenFlags) -> Result<Opened> {
        let access = flags.access_mode();
        let mut want = 0;
        if access.can_read() {
            want |= perm::R;
        }
        if access.can_write() || flags.contains(OpenFlags::TRUNC) {
            want |= perm::W;
        }
        let enforce = self.shared.permissions;
        let mut st = self.write_state();
        match st.meta.mode & S_IFMT {
            S_IFLNK => return Err(Errno::ELOOP),
            S_IFDIR if access.can_write() => return Err(Errno::EISDIR),
            // As open(2) on a socket inode.
            S_IFSOCK => return Err(Errno::ENXIO),
            _ => {}
        }
        perm::check(enforce, &st.meta, req, want)?;
        if st.meta.mode & S_IFMT != S_IFREG {
            return Ok(Opened::node());
        }
        if flags.contains(OpenFlags::TRUNC) && access.can_write() {
            self.truncate_locked(&mut st, 0)?;
        }
        Ok(Opened::with_handle(FileHandle::new(flags)))
    }

    fn do_statfs(&self) -> StatFs {
        let s = &self.shared;
        let blocks = s.limits.capacity / BLOCK;
        let free = s.limits.capacity.saturating_sub(s.bytes_used()) / BLOCK;
        StatFs {
            ty: TMPFS_MAGIC,
            bsize: BLOCK as u32,
            blocks,
            bfree: free,
            bavail: free,
            files: s.limits.max_inodes,
            ffree: s.limits.max_inodes.saturating_sub(s.inodes_used()),
            fsid: s.fsid,
            namelen: u32::try_from(s.limits.max_name).unwrap_or(u32::MAX),
        }
    }
}

impl std::fmt::Debug for MemNode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemNode").field("qid", &self.qid()).finish_non_exhaustive()
    }
}

impl Drop for MemNode {
    fn drop(&mut self) {
        let st = self.state.get_mut().unwrap_or_else(PoisonError::into_inner);
        if let Body::File(data) = &st.body {
            self.shared.release_bytes(data.len() as u64);
        }
        self.shared.release_bytes(super::xattr::charged(&st.meta));
        self.shared.release_inode();
        self.shared.unregister(self.path);
    }
}

#[async_trait]
impl Node for MemNode {
    fn qid(&self) -> Qid {
        Qid { ty: self.qtype, version: self.version.load(Ordering::Relaxed), path: self.path }
    }

    async fn getattr(&self, _req: &Request, _mask: GetattrMask) -> Result<Attr> {
        Ok(self.attr())
    }

    async fn setattr(&self, req: &Request, attr: &SetAttr) -> Result<()> {
        self.apply_setattr(req, attr, false)
    }

    async fn lookup(&self, req: &Request, name: &[u8]) -> Result<Arc<dyn Node>> {
        self.dir_lookup(req, name)
    }

    async fn open(&self, req: &Request, flags: OpenFlags) -> Result<Opened> {
        self.do_open(req, flags)
    }

    async fn read(&self, _req: &Request, offset: u64, count: u32) -> Result<Bytes> {
        self.read_at(offset, count)
    }

    async fn write(&self, req: &Request, offset: u64, data: Bytes) -> Result<u32> {
        self.write_at(req, Some(offset), &data)
    }

    async fn readdir(&self, _req: &Request, offset: u64, sink: &mut DirSink) -> Result<()> {
        self.dir_readdir(offset, sink)
    }

    async fn create(
        &self,
        req: &Request,
        name: &[u8],
        flags: OpenFlags,
        mode: u32,
        gid: u32,
    ) -> Result<Created> {
        let node = self.dir_create(req, name, mode, gid)?;
        let opened = Opened::with_handle(FileHandle::new(flags));
        Ok(Created { node, opened })
    }

    async fn mkdir(
        &self,
        req: &Request,
        name: &[u8],
        mode: u32,
        gid: u32,
    ) -> Result<Arc<dyn Node>> {
        self.dir_mkdir(req, name, mode, gid)
    }

    async fn symlink(
        &self,
        req: &Request,
        name: &[u8],
        target: &[u8],
        gid: u32,
    ) -> Result<Arc<dyn Node>> {
        self.dir_symlink(req, name, target, gid)
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
        self.dir_mknod(req, name, mode, major, minor, gid)
    }

    async fn link(&self, req: &Request, target: &Arc<dyn Node>, name: &[u8]) -> Result<()> {
        self.dir_link(req, target, name)
    }

    async fn readlink(&self, _req: &Request) -> Result<Bytes> {
        match &self.read_state().body {
            Body::Symlink(target) => Ok(target.clone()),
            _ => Err(Errno::EINVAL),
        }
    }

    async fn unlink(&self, req: &Request, name: &[u8], flags: UnlinkatFlags) -> Result<()> {
        self.dir_unlink(req, name, flags)
    }

    async fn rename(
        &self,
        req: &Request,
        name: &[u8],
        new_dir: &Arc<dyn Node>,
        new_name: &[u8],
    ) -> Result<()> {
        self.do_rename(req, name, new_dir, new_name)
    }

    async fn statfs(&self, _req: &Request) -> Result<StatFs> {
        Ok(self.do_statfs())
    }

    async fn resolve(&self, _req: &Request, path: u64) -> Result<Arc<dyn Node>> {
        // Only objects still linked somewhere: an unlinked file is not
        // restored across a reconnect.
        let node = self.shared.find(path).ok_or(Errno::ESTALE)?;
        if !node.is_dir() && node.read_state().meta.nlink == 0 {
            return Err(Errno::ESTALE);
        }
        Ok(node)
    }

    async fn sync_fs(&self, _req: &Request) -> Result<()> {
        // Nothing is kept anywhere but in memory: nothing to flush.
        Ok(())
    }

    async fn fallocate(
        &self,
        _req: &Request,
        offset: u64,
        length: u64,
        mode: FallocateMode,
    ) -> Result<()> {
        self.fallocate_at(offset, length, mode)
    }

    async fn lock(&self, req: &Request, lock: &LockRequest) -> Result<LockStatus> {
        self.locks.lock(req, lock, self.shared.limits.lock_wait).await
    }

    async fn getlock(&self, req: &Request, probe: &LockRequest) -> Result<LockInfo> {
        self.locks.getlock(req, probe)
    }

    async fn release(&self, req: &Request) -> Result<()> {
        self.locks.release(req.lock_owner());
        Ok(())
    }

    async fn xattr_get(&self, req: &Request, name: &[u8]) -> Result<Bytes> {
        self.xattr_get_impl(req, name)
    }

    async fn xattr_list(&self, req: &Request) -> Result<Vec<Bytes>> {
        self.xattr_list_impl(req)
    }

    async fn xattr_set(
        &self,
        req: &Request,
        name: &[u8],
        value: Bytes,
        flags: XattrFlags,
    ) -> Result<()> {
        self.xattr_set_impl(req, name, value, flags)
    }

    async fn xattr_remove(&self, req: &Request, name: &[u8]) -> Result<()> {
        self.xattr_remove_impl(req, name)
    }
}

/// Per-open state of a memfs regular file: O_APPEND, and the access
/// mode. Reads and writes the access mode does not allow fail with
/// EBADF; a writable open lets ftruncate and futimens through the fid
/// skip the permission check, as POSIX does for a descriptor.
#[derive(Debug, Clone, Copy)]
pub struct FileHandle {
    append: bool,
    readable: bool,
    writable: bool,
}

impl FileHandle {
    fn new(flags: OpenFlags) -> FileHandle {
        let access = flags.access_mode();
        FileHandle {
            append: flags.contains(OpenFlags::APPEND),
            readable: access.can_read(),
            writable: access.can_write(),
        }
    }

    /// Whether writes through this open go to the end of the file.
    pub fn append(&self) -> bool {
        self.append
    }

    /// Whether the open allowed writing.
    pub fn writable(&self) -> bool {
        self.writable
    }
}

fn mem(node: &dyn Node) -> Result<&MemNode> {
    node.downcast_ref::<MemNode>().ok_or(Errno::EIO)
}

#[async_trait]
impl Handle for FileHandle {
    async fn read(
        &self,
        _req: &Request,
        node: &dyn Node,
        offset: u64,
        count: u32,
    ) -> Result<Bytes> {
        if !self.readable {
            return Err(Errno::EBADF);
        }
        mem(node)?.read_at(offset, count)
    }

    async fn write(&self, req: &Request, node: &dyn Node, offset: u64, data: Bytes) -> Result<u32> {
        if !self.writable {
            return Err(Errno::EBADF);
        }
        let offset = (!self.append).then_some(offset);
        mem(node)?.write_at(req, offset, &data)
    }

    async fn setattr(&self, req: &Request, node: &dyn Node, attr: &SetAttr) -> Result<()> {
        mem(node)?.apply_setattr(req, attr, self.writable)
    }
}
