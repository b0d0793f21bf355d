//! The `fuser::Filesystem` face: each kernel request is handed to a
//! tokio task that runs the [`Core`] operation and replies, so slow
//! requests (a blocking lock, a server restart) never hold up others.

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::sync::Arc;

use fuser::{
    AccessFlags, CopyFileRangeFlags, Errno as FErrno, FileHandle, Filesystem, FopenFlags,
    Generation, INodeNo, InitFlags, KernelConfig, LockOwner, OpenFlags as FOpenFlags, RenameFlags,
    ReplyAttr, ReplyCreate, ReplyData, ReplyDirectory, ReplyDirectoryPlus, ReplyEmpty, ReplyEntry,
    ReplyLock, ReplyLseek, ReplyOpen, ReplyStatfs, ReplyWrite, ReplyXattr, Request, TimeOrNow,
    WriteFlags,
};
use ninefold_client::Bytes;
use tokio::runtime::Handle as Rt;

use crate::core::{errno, Core, Who};
use crate::ops_entry::Changes;
use crate::ops_file::Queued;
use crate::ops_lock::XattrReply;
use crate::options::CacheMode;

/// The mounted filesystem.
#[derive(Debug)]
pub(crate) struct NinefoldFs {
    pub(crate) core: Arc<Core>,
    pub(crate) rt: Rt,
}

const GEN: Generation = Generation(0);

impl NinefoldFs {
    fn who(&self, req: &Request) -> Who {
        let o = &self.core.opts;
        let (uid, gid) = if o.per_user { (req.uid(), req.gid()) } else { (o.uid, o.gid) };
        Who { uid, gid, real_uid: req.uid(), real_gid: req.gid(), pid: req.pid() }
    }

    /// Runs a request as a tokio task.
    fn spawn<F>(&self, f: F)
    where
        F: std::future::Future<Output = ()> + Send + 'static,
    {
        self.rt.spawn(f);
    }

    /// Runs a request that is often answered from memory (a listing
    /// block already read ahead, a cached statfs): polled once here on
    /// the FUSE thread, inside the runtime's context, so that such an
    /// answer costs no thread hop; what is left to wait for becomes a
    /// task. (Data requests stay on [`spawn`](Self::spawn): measured
    /// side by side, sending Treads from the FUSE thread slowed
    /// sequential reads.)
    fn inline<F>(&self, f: F)
    where
        F: std::future::Future<Output = ()> + Send + 'static,
    {
        let _in_runtime = self.rt.enter();
        let mut fut = Box::pin(f);
        let waker = futures_util::task::noop_waker();
        let mut cx = std::task::Context::from_waker(&waker);
        // A future left pending registered the no-op waker; the task's
        // first poll, which tokio makes at once, registers its own.
        if fut.as_mut().poll(&mut cx).is_pending() {
            self.rt.spawn(fut);
        }
    }
}

fn name_of(n: &OsStr) -> Vec<u8> {
    n.as_bytes().to_vec()
}

fn einval() -> FErrno {
    FErrno::from_i32(22)
}

impl Filesystem for NinefoldFs {
    fn init(&mut self, _req: &Request, config: &mut KernelConfig) -> std::io::Result<()> {
        // 1 MiB writes whatever the msize: a `dd bs=1M` write(2) is one
        // FUSE request, which the daemon sends as one or more Twrites in
        // flight together (on `.Z` a Twrite carries msize − 48 bytes, so
        // a page-rounded max_write would split every 1 MiB write in two
        // FUSE requests, each a round trip the writer waits for).
        let max_write = 1 << 20;
        if let Err(nearest) = config.set_max_write(max_write) {
            let _ = config.set_max_write(nearest);
        }
        if let Err(nearest) = config.set_max_readahead(1 << 20) {
            let _ = config.set_max_readahead(nearest);
        }
        let _ = config.set_max_background(64);
        let mut want = InitFlags::FUSE_POSIX_LOCKS
            | InitFlags::FUSE_FLOCK_LOCKS
            | InitFlags::FUSE_PARALLEL_DIROPS
            | InitFlags::FUSE_ASYNC_READ
            | InitFlags::FUSE_BIG_WRITES
            // The kernel leaves set-ID clearing on write to us (the
            // `FUSE_WRITE_KILL_SUIDGID` flag) and marks the superblock
            // SB_NOSEC: no `security.capability` lookup before every
            // write(2), which is a FUSE round trip the writer waits for.
            | InitFlags::FUSE_HANDLE_KILLPRIV_V2;
        // readdirplus: names with attributes, so `ls -l` and `find` need
        // no lookup per entry (the kernel picks plain readdir when its
        // caller does not stat). Useless with zero timeouts.
        // On `9P2000.L.Z` a listing page with attributes costs the same
        // one round trip as without (Treaddirattr), so the kernel is told
        // to use readdirplus always; on 9P2000.L each entry's attributes
        // cost a walk and a Tgetattr, so only when it expects stats.
        let z = self.core.remote.conn().session.dialect() == ninefold_client::Dialect::Z;
        let plus = if z {
            InitFlags::FUSE_DO_READDIRPLUS
        } else {
            InitFlags::FUSE_DO_READDIRPLUS | InitFlags::FUSE_READDIRPLUS_AUTO
        };
        match self.core.cache() {
            CacheMode::Default => want |= InitFlags::FUSE_AUTO_INVAL_DATA | plus,
            // The kernel's writeback cache: writes gather in the page
            // cache and go out in the background, many in flight, so a
            // writer never waits for the daemon. The kernel then trusts
            // its own size and mtime of a file it caches (another
            // client's change of them is not seen), which is `loose`'s
            // contract and not `default`'s.
            CacheMode::Loose => {
                want |= InitFlags::FUSE_CACHE_SYMLINKS | InitFlags::FUSE_WRITEBACK_CACHE | plus
            }
            CacheMode::Strict => {}
        }
        if let Err(missing) = config.add_capabilities(want) {
            tracing::warn!(?missing, "kernel lacks some FUSE capabilities");
            let _ = config.add_capabilities(want - missing);
        }
        Ok(())
    }

    fn lookup(&self, req: &Request, parent: INodeNo, name: &OsStr, reply: ReplyEntry) {
        let (core, who, name) = (self.core.clone(), self.who(req), name_of(name));
        self.spawn(async move {
            match core.lookup(who, parent.0, &name).await {
                Ok((_, attr)) => reply.entry(&core.ttl(), &attr, GEN),
                Err(e) => reply.error(errno(&e)),
            }
        });
    }

    fn forget(&self, _req: &Request, ino: INodeNo, nlookup: u64) {
        self.core.table.forget(ino.0, nlookup);
    }

    fn getattr(&self, req: &Request, ino: INodeNo, fh: Option<FileHandle>, reply: ReplyAttr) {
        let (core, who) = (self.core.clone(), self.who(req));
        self.spawn(async move {
            match core.getattr(who, ino.0, fh.map(|f| f.0)).await {
                Ok(attr) => reply.attr(&core.ttl(), &attr),
                Err(e) => reply.error(errno(&e)),
            }
        });
    }

    fn setattr(
        &self,
        req: &Request,
        ino: INodeNo,
        mode: Option<u32>,
        uid: Option<u32>,
        gid: Option<u32>,
        size: Option<u64>,
        atime: Option<TimeOrNow>,
        mtime: Option<TimeOrNow>,
        _ctime: Option<std::time::SystemTime>,
        fh: Option<FileHandle>,
        _crtime: Option<std::time::SystemTime>,
        _chgtime: Option<std::time::SystemTime>,
        _bkuptime: Option<std::time::SystemTime>,
        _flags: Option<fuser::BsdFileFlags>,
        reply: ReplyAttr,
    ) {
        let (core, who) = (self.core.clone(), self.who(req));
        let ch = Changes { mode, uid, gid, size, atime, mtime, fh: fh.map(|f| f.0) };
        self.spawn(async move {
            let r = core.setattr(who, ino.0, ch).await;
            core.touched();
            match r {
                Ok(attr) => reply.attr(&core.ttl(), &attr),
                Err(e) => reply.error(errno(&e)),
            }
        });
    }

    fn readlink(&self, req: &Request, ino: INodeNo, reply: ReplyData) {
        let (core, who) = (self.core.clone(), self.who(req));
        self.spawn(async move {
            match core.readlink(who, ino.0).await {
                Ok(t) => reply.data(&t),
                Err(e) => reply.error(errno(&e)),
            }
        });
    }

    fn mknod(
        &self,
        req: &Request,
        parent: INodeNo,
        name: &OsStr,
        mode: u32,
        _umask: u32,
        rdev: u32,
        reply: ReplyEntry,
    ) {
        let (core, who, name) = (self.core.clone(), self.who(req), name_of(name));
        self.spawn(async move {
            let r = core.mknod(who, parent.0, &name, mode, rdev).await;
            core.touched();
            match r {
                Ok((_, attr)) => reply.entry(&core.ttl(), &attr, GEN),
                Err(e) => reply.error(errno(&e)),
            }
        });
    }

    fn mkdir(
        &self,
        req: &Request,
        parent: INodeNo,
        name: &OsStr,
        mode: u32,
        _umask: u32,
        reply: ReplyEntry,
    ) {
        let (core, who, name) = (self.core.clone(), self.who(req), name_of(name));
        self.spawn(async move {
            let r = core.mkdir(who, parent.0, &name, mode).await;
            core.touched();
            match r {
                Ok((_, attr)) => reply.entry(&core.ttl(), &attr, GEN),
                Err(e) => reply.error(errno(&e)),
            }
        });
    }

    fn unlink(&self, req: &Request, parent: INodeNo, name: &OsStr, reply: ReplyEmpty) {
        let (core, who, name) = (self.core.clone(), self.who(req), name_of(name));
        self.spawn(async move {
            let r = core.unlink(who, parent.0, &name, false).await;
            core.touched();
            match r {
                Ok(()) => reply.ok(),
                Err(e) => reply.error(errno(&e)),
            }
        });
    }

    fn rmdir(&self, req: &Request, parent: INodeNo, name: &OsStr, reply: ReplyEmpty) {
        let (core, who, name) = (self.core.clone(), self.who(req), name_of(name));
        self.spawn(async move {
            let r = core.unlink(who, parent.0, &name, true).await;
            core.touched();
            match r {
                Ok(()) => reply.ok(),
                Err(e) => reply.error(errno(&e)),
            }
        });
    }

    fn symlink(
        &self,
        req: &Request,
        parent: INodeNo,
        link_name: &OsStr,
        target: &Path,
        reply: ReplyEntry,
    ) {
        let (core, who, name) = (self.core.clone(), self.who(req), name_of(link_name));
        let target = target.as_os_str().as_bytes().to_vec();
        self.spawn(async move {
            let r = core.symlink(who, parent.0, &name, &target).await;
            core.touched();
            match r {
                Ok((_, attr)) => reply.entry(&core.ttl(), &attr, GEN),
                Err(e) => reply.error(errno(&e)),
            }
        });
    }

    fn rename(
        &self,
        req: &Request,
        parent: INodeNo,
        name: &OsStr,
        newparent: INodeNo,
        newname: &OsStr,
        flags: RenameFlags,
        reply: ReplyEmpty,
    ) {
        let (core, who) = (self.core.clone(), self.who(req));
        let (name, newname) = (name_of(name), name_of(newname));
        self.spawn(async move {
            let r = core.rename(who, parent.0, &name, newparent.0, &newname, flags.bits()).await;
            core.touched();
            match r {
                Ok(()) => reply.ok(),
                Err(e) => reply.error(errno(&e)),
            }
        });
    }

    fn link(
        &self,
        req: &Request,
        ino: INodeNo,
        newparent: INodeNo,
        newname: &OsStr,
        reply: ReplyEntry,
    ) {
        let (core, who, name) = (self.core.clone(), self.who(req), name_of(newname));
        self.spawn(async move {
            let r = core.link(who, ino.0, newparent.0, &name).await;
            core.touched();
            match r {
                Ok((_, attr)) => reply.entry(&core.ttl(), &attr, GEN),
                Err(e) => reply.error(errno(&e)),
            }
        });
    }

    fn open(&self, req: &Request, ino: INodeNo, flags: FOpenFlags, reply: ReplyOpen) {
        let (core, who) = (self.core.clone(), self.who(req));
        self.spawn(async move {
            match core.open(who, ino.0, flags.0).await {
                Ok((fh, f)) => reply.opened(FileHandle(fh), f),
                Err(e) => reply.error(errno(&e)),
            }
        });
    }

    fn read(
        &self,
        _req: &Request,
        _ino: INodeNo,
        fh: FileHandle,
        offset: u64,
        size: u32,
        _flags: FOpenFlags,
        _lock_owner: Option<LockOwner>,
        reply: ReplyData,
    ) {
        let core = self.core.clone();
        self.spawn(async move {
            match core.read(fh.0, offset, size).await {
                Ok(b) => reply.data(&b),
                Err(e) => reply.error(errno(&e)),
            }
        });
    }

    fn write(
        &self,
        _req: &Request,
        _ino: INodeNo,
        fh: FileHandle,
        offset: u64,
        data: &[u8],
        write_flags: WriteFlags,
        _flags: FOpenFlags,
        _lock_owner: Option<LockOwner>,
        reply: ReplyWrite,
    ) {
        let kill = write_flags.contains(WriteFlags::FUSE_WRITE_KILL_SUIDGID);
        let (core, data) = (self.core.clone(), Bytes::copy_from_slice(data));
        match core.try_queue(fh.0, offset, data.len(), kill) {
            // Answered from this thread: the writer goes on at once.
            Queued::Now(h, t) => {
                reply.written(data.len() as u32);
                self.spawn(async move { core.send_queued(h, t, offset, data).await });
            }
            Queued::Failed(e) => reply.error(errno(&e)),
            Queued::Later => self.spawn(async move {
                core.write(fh.0, offset, data, kill, |r| match r {
                    Ok(n) => reply.written(n),
                    Err(e) => reply.error(errno(&e)),
                })
                .await
            }),
        }
    }

    fn flush(
        &self,
        _req: &Request,
        _ino: INodeNo,
        fh: FileHandle,
        lock_owner: LockOwner,
        reply: ReplyEmpty,
    ) {
        let core = self.core.clone();
        self.spawn(async move {
            match core.flush(fh.0, lock_owner.0).await {
                Ok(()) => reply.ok(),
                Err(e) => reply.error(errno(&e)),
            }
        });
    }

    fn release(
        &self,
        _req: &Request,
        _ino: INodeNo,
        fh: FileHandle,
        _flags: FOpenFlags,
        lock_owner: Option<LockOwner>,
        _flush: bool,
        reply: ReplyEmpty,
    ) {
        let core = self.core.clone();
        self.spawn(async move {
            core.release(fh.0, lock_owner.map(|o| o.0)).await;
            reply.ok();
        });
    }

    fn fsync(
        &self,
        _req: &Request,
        _ino: INodeNo,
        fh: FileHandle,
        datasync: bool,
        reply: ReplyEmpty,
    ) {
        let core = self.core.clone();
        self.spawn(async move {
            match core.fsync(fh.0, datasync).await {
                Ok(()) => reply.ok(),
                Err(e) => reply.error(errno(&e)),
            }
        });
    }

    fn opendir(&self, req: &Request, ino: INodeNo, _flags: FOpenFlags, reply: ReplyOpen) {
        let (core, who) = (self.core.clone(), self.who(req));
        // Inline: a prefetched directory is answered from memory.
        self.inline(async move {
            match core.opendir(who, ino.0).await {
                Ok(fh) => {
                    let f = if core.cache() == CacheMode::Loose {
                        FopenFlags::FOPEN_KEEP_CACHE | FopenFlags::FOPEN_CACHE_DIR
                    } else {
                        FopenFlags::empty()
                    };
                    reply.opened(FileHandle(fh), f)
                }
                Err(e) => reply.error(errno(&e)),
            }
        });
    }

    fn readdir(
        &self,
        req: &Request,
        _ino: INodeNo,
        fh: FileHandle,
        offset: u64,
        mut reply: ReplyDirectory,
    ) {
        let (core, who) = (self.core.clone(), self.who(req));
        self.inline(async move {
            let r = core
                .list(who, fh.0, offset, false, |e| {
                    reply.add(INodeNo(e.ino), e.offset, e.kind, OsStr::from_bytes(e.name))
                })
                .await;
            match r {
                Ok(()) => reply.ok(),
                Err(e) => reply.error(errno(&e)),
            }
        });
    }

    fn readdirplus(
        &self,
        req: &Request,
        _ino: INodeNo,
        fh: FileHandle,
        offset: u64,
        mut reply: ReplyDirectoryPlus,
    ) {
        let (core, who) = (self.core.clone(), self.who(req));
        self.inline(async move {
            let ttl = core.ttl();
            let r = core
                .list(who, fh.0, offset, true, |e| match &e.attr {
                    Some(a) => {
                        reply.add(INodeNo(e.ino), e.offset, OsStr::from_bytes(e.name), &ttl, a, GEN)
                    }
                    None => true,
                })
                .await;
            match r {
                Ok(()) => reply.ok(),
                Err(e) => reply.error(errno(&e)),
            }
        });
    }

    fn releasedir(
        &self,
        _req: &Request,
        _ino: INodeNo,
        fh: FileHandle,
        _flags: FOpenFlags,
        reply: ReplyEmpty,
    ) {
        self.core.take_handle(fh.0);
        reply.ok();
    }

    fn fsyncdir(
        &self,
        _req: &Request,
        _ino: INodeNo,
        fh: FileHandle,
        datasync: bool,
        reply: ReplyEmpty,
    ) {
        let core = self.core.clone();
        self.spawn(async move {
            match core.fsync(fh.0, datasync).await {
                Ok(()) => reply.ok(),
                Err(e) => reply.error(errno(&e)),
            }
        });
    }

    fn statfs(&self, req: &Request, _ino: INodeNo, reply: ReplyStatfs) {
        let (core, who) = (self.core.clone(), self.who(req));
        self.inline(async move {
            match core.statfs(who).await {
                Ok(s) => reply.statfs(
                    s.blocks, s.bfree, s.bavail, s.files, s.ffree, s.bsize, s.namelen, s.bsize,
                ),
                Err(e) => reply.error(errno(&e)),
            }
        });
    }

    fn setxattr(
        &self,
        req: &Request,
        ino: INodeNo,
        name: &OsStr,
        value: &[u8],
        flags: i32,
        _position: u32,
        reply: ReplyEmpty,
    ) {
        let (core, who, name) = (self.core.clone(), self.who(req), name_of(name));
        let value = Bytes::copy_from_slice(value);
        self.spawn(async move {
            let r = core.setxattr(who, ino.0, &name, Some(value), flags).await;
            core.touched();
            match r {
                Ok(()) => reply.ok(),
                Err(e) => reply.error(errno(&e)),
            }
        });
    }

    fn getxattr(&self, req: &Request, ino: INodeNo, name: &OsStr, size: u32, reply: ReplyXattr) {
        let (core, who, name) = (self.core.clone(), self.who(req), name_of(name));
        if name.is_empty() {
            reply.error(einval());
            return;
        }
        if name == b"security.capability" && core.known_no_caps(ino.0) {
            // The check before every write: answered here, no task.
            reply.error(FErrno::from_i32(61));
            return;
        }
        self.spawn(async move { xattr_reply(core.getxattr(who, ino.0, &name, size).await, reply) });
    }

    fn listxattr(&self, req: &Request, ino: INodeNo, size: u32, reply: ReplyXattr) {
        let (core, who) = (self.core.clone(), self.who(req));
        self.spawn(async move { xattr_reply(core.getxattr(who, ino.0, b"", size).await, reply) });
    }

    fn removexattr(&self, req: &Request, ino: INodeNo, name: &OsStr, reply: ReplyEmpty) {
        let (core, who, name) = (self.core.clone(), self.who(req), name_of(name));
        self.spawn(async move {
            // XATTR_REPLACE with no value: the 9P2000.L removexattr.
            let r = core.setxattr(who, ino.0, &name, None, 2).await;
            core.touched();
            match r {
                Ok(()) => reply.ok(),
                Err(e) => reply.error(errno(&e)),
            }
        });
    }

    fn access(&self, req: &Request, ino: INodeNo, mask: AccessFlags, reply: ReplyEmpty) {
        let (core, who) = (self.core.clone(), self.who(req));
        self.spawn(async move {
            match core.access(who, ino.0, mask.bits()).await {
                Ok(()) => reply.ok(),
                Err(e) => reply.error(errno(&e)),
            }
        });
    }

    fn create(
        &self,
        req: &Request,
        parent: INodeNo,
        name: &OsStr,
        mode: u32,
        _umask: u32,
        flags: i32,
        reply: ReplyCreate,
    ) {
        let (core, who, name) = (self.core.clone(), self.who(req), name_of(name));
        self.spawn(async move {
            let r = core.create(who, parent.0, &name, mode, flags).await;
            core.touched();
            match r {
                Ok((_, attr, fh, f)) => reply.created(&core.ttl(), &attr, GEN, FileHandle(fh), f),
                Err(e) => reply.error(errno(&e)),
            }
        });
    }

    fn getlk(
        &self,
        _req: &Request,
        _ino: INodeNo,
        fh: FileHandle,
        lock_owner: LockOwner,
        start: u64,
        end: u64,
        typ: i32,
        pid: u32,
        reply: ReplyLock,
    ) {
        let core = self.core.clone();
        self.spawn(async move {
            match core.getlk(fh.0, lock_owner.0, start, end, typ, pid).await {
                Ok((s, e, t, p)) => reply.locked(s, e, t, p),
                Err(e) => reply.error(errno(&e)),
            }
        });
    }

    fn setlk(
        &self,
        _req: &Request,
        _ino: INodeNo,
        fh: FileHandle,
        lock_owner: LockOwner,
        start: u64,
        end: u64,
        typ: i32,
        pid: u32,
        sleep: bool,
        reply: ReplyEmpty,
    ) {
        let core = self.core.clone();
        self.spawn(async move {
            match core.setlk(fh.0, lock_owner.0, start, end, typ, pid, sleep).await {
                Ok(()) => reply.ok(),
                Err(e) => reply.error(errno(&e)),
            }
        });
    }

    fn copy_file_range(
        &self,
        _req: &Request,
        _ino_in: INodeNo,
        fh_in: FileHandle,
        offset_in: u64,
        _ino_out: INodeNo,
        fh_out: FileHandle,
        offset_out: u64,
        len: u64,
        flags: CopyFileRangeFlags,
        reply: ReplyWrite,
    ) {
        if flags.bits() != 0 {
            reply.error(einval());
            return;
        }
        let core = self.core.clone();
        self.spawn(async move {
            let r = core.copy_range(fh_in.0, offset_in, fh_out.0, offset_out, len).await;
            core.touched();
            match r {
                Ok(n) => reply.written(n),
                Err(e) => reply.error(errno(&e)),
            }
        });
    }

    fn fallocate(
        &self,
        _req: &Request,
        _ino: INodeNo,
        fh: FileHandle,
        offset: u64,
        length: u64,
        mode: i32,
        reply: ReplyEmpty,
    ) {
        let core = self.core.clone();
        self.spawn(async move {
            let r = core.fallocate(fh.0, offset, length, mode).await;
            core.touched();
            match r {
                Ok(()) => reply.ok(),
                Err(e) => reply.error(errno(&e)),
            }
        });
    }

    fn lseek(
        &self,
        _req: &Request,
        _ino: INodeNo,
        fh: FileHandle,
        offset: i64,
        whence: i32,
        reply: ReplyLseek,
    ) {
        let core = self.core.clone();
        self.spawn(async move {
            match core.lseek(fh.0, offset, whence).await {
                Ok(o) => reply.offset(o),
                Err(e) => reply.error(errno(&e)),
            }
        });
    }
}

fn xattr_reply(r: ninefold_client::Result<XattrReply>, reply: ReplyXattr) {
    match r {
        Ok(XattrReply::Size(n)) => reply.size(n),
        Ok(XattrReply::Data(d)) => reply.data(&d),
        Err(e) => reply.error(errno(&e)),
    }
}
