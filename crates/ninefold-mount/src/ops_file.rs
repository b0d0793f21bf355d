//! Open files and directories: open, create, read, write, flush,
//! release, fsync, lseek, copy_file_range, statfs.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use bytes::BytesMut;
use fuser::{FileAttr, FopenFlags};
use futures_util::{StreamExt, TryStreamExt};
use ninefold_client::proto::l::{Rstatfs, SetAttr};
use ninefold_client::{Bytes, Dialect, Errno, Error, Fid, OpenFlags, Result};
use ninefold_proto::{FallocateMode, SetattrMask, S_IFREG};

use crate::behind::Ticket;
use crate::core::{lock, open_flags, stamp_of, to_file_attr, Core, Handle, Who};
use crate::options::CacheMode;
use crate::remote::{retry, Conn};

const SEEK_DATA: i32 = 3;
const SEEK_HOLE: i32 = 4;
const O_EXCL: i32 = 0o200;
const S_ISUID: u32 = 0o4000;
const S_ISGID: u32 = 0o2000;
const S_IXGRP: u32 = 0o010;

/// What [`Core::try_queue`] did with a write.
pub(crate) enum Queued {
    /// Queued: answer the kernel now, then send it.
    Now(Arc<Handle>, Ticket),
    /// Answer with this error.
    Failed(Error),
    /// Run [`Core::write`] in a task.
    Later,
}

/// Longest a statfs answer is reused (`df` stays current to the second).
const STATFS_TTL: std::time::Duration = std::time::Duration::from_secs(1);

/// Pieces of a `copy_file_range` in flight at once.
const COPY_DEPTH: usize = 8;
/// Most bytes one `copy_file_range` call copies.
const COPY_MAX: u64 = 1 << 30;

impl Core {
    /// The FOPEN flags for a file whose server attributes are `a`: in
    /// `default` mode the kernel keeps its pages only while the file is
    /// unchanged since it cached them.
    fn open_reply_flags(&self, id: u64, a: Option<&ninefold_client::proto::l::Attr>) -> FopenFlags {
        match self.cache() {
            CacheMode::Strict => FopenFlags::FOPEN_DIRECT_IO,
            CacheMode::Loose => FopenFlags::FOPEN_KEEP_CACHE,
            CacheMode::Default => {
                let Some(a) = a else { return FopenFlags::empty() };
                let now = stamp_of(a);
                let mut g = self.table.lock();
                let Some(node) = g.nodes.get_mut(&id) else { return FopenFlags::empty() };
                let same = node.stamp == Some(now);
                node.stamp = Some(now);
                drop(g);
                if same {
                    return FopenFlags::FOPEN_KEEP_CACHE;
                }
                // Changed elsewhere: the kernel's attributes (its idea of
                // the size) may be stale too. Not keeping the cache drops
                // the pages; this drops the attributes, before the reply.
                if let Some(n) = self.notifier.get() {
                    let _ = n.inval_inode(fuser::INodeNo(id), -1, 0);
                }
                FopenFlags::empty()
            }
        }
    }

    /// In `loose` mode (the kernel's writeback cache), the read-write
    /// version of write-only open flags.
    fn writeback_flags(&self, f: OpenFlags) -> Option<OpenFlags> {
        let wronly = f.bits() & 3 == OpenFlags::WRONLY.bits();
        (self.cache() == CacheMode::Loose && wronly)
            .then(|| OpenFlags::from_bits_truncate((f.bits() & !3) | OpenFlags::RDWR.bits()))
    }

    pub(crate) async fn open(&self, who: Who, id: u64, flags: i32) -> Result<(u64, FopenFlags)> {
        let oflags = open_flags(flags);
        let want_attr = self.cache() == CacheMode::Default;
        if want_attr {
            self.behind.settle(id, None).await;
        }
        let (fid, oflags, attr) = retry!(self.remote, |c| async {
            let (fid, oflags) = match self.writeback_flags(oflags) {
                // The kernel's writeback cache reads the rest of a page it
                // writes partly, through any open handle of the file: a
                // write-only open is made read-write where permitted.
                Some(rw) => match self.open_fid(&c, id, who.uid, rw).await {
                    Ok(fid) => (fid, rw),
                    Err(e) if is_denied(&e) => {
                        (self.open_fid(&c, id, who.uid, oflags).await?, oflags)
                    }
                    Err(e) => return Err(e),
                },
                None => (self.open_fid(&c, id, who.uid, oflags).await?, oflags),
            };
            let attr = if want_attr {
                Some(c.session.getattr(&fid, ninefold_client::GetattrMask::BASIC).await?.attr)
            } else {
                None
            };
            Ok((fid, oflags, attr))
        })?;
        let reply = self.open_reply_flags(id, attr.as_ref());
        Ok((self.add_handle(id, who.uid, oflags, fid), reply))
    }

    pub(crate) async fn create(
        &self,
        who: Who,
        parent: u64,
        name: &[u8],
        mode: u32,
        flags: i32,
    ) -> Result<(u64, FileAttr, u64, FopenFlags)> {
        let mut oflags = open_flags(flags) | OpenFlags::CREATE;
        // A new file may be opened read-write whatever its mode: the
        // writeback cache may read through this handle (see `open`).
        oflags = self.writeback_flags(oflags).unwrap_or(oflags);
        if flags & O_EXCL != 0 {
            oflags |= OpenFlags::EXCL;
        }
        let (fid, id, attr) = retry!(self.remote, |c| async {
            if c.session.dialect() == Dialect::Z {
                // One round trip: Tlcreateattr creates, opens and stats.
                // It is exclusive; without O_EXCL an existing name (made
                // since the kernel's lookup) is opened below instead.
                let dir = self.fid_of(&c, parent, who.uid).await?;
                let mode = S_IFREG | (mode & 0o7777);
                let f = oflags - OpenFlags::EXCL;
                match c.session.lcreateattr(&dir, name, f, mode, who.gid).await {
                    Ok((fid, _, a)) => {
                        let id = self.table.remember(parent, name, a.qid.path, who.uid, None);
                        return Ok((fid, id, a));
                    }
                    Err(e) if oflags.contains(OpenFlags::EXCL) || !is_exists(&e) => return Err(e),
                    Err(_) => {}
                }
            }
            let fid = self.clone_fid(&c, parent, who.uid).await?;
            c.session.lcreate(&fid, name, oflags, mode & 0o7777, who.gid).await?;
            let a = c.session.getattr(&fid, ninefold_client::GetattrMask::BASIC).await?.attr;
            let dir = self.fid_of(&c, parent, who.uid).await?;
            let walked = c.session.walk(&dir, &[name]).await.ok().map(|(f, _)| Arc::new(f));
            let id = self.table.remember(parent, name, a.qid.path, who.uid, walked);
            Ok((fid, id, a))
        })?;
        let reopen = oflags - OpenFlags::CREATE - OpenFlags::EXCL;
        let reply = self.open_reply_flags(id, Some(&attr));
        let fh = self.add_handle(id, who.uid, reopen, fid);
        Ok((id, to_file_attr(&attr, id), fh, reply))
    }

    pub(crate) async fn read(&self, fh: u64, offset: u64, size: u32) -> Result<Bytes> {
        let h = self.handle(fh)?;
        self.behind.settle(h.ino, Some((offset, offset.saturating_add(u64::from(size))))).await;
        retry!(self.remote, |c| async {
            let fid = self.handle_fid(&c, &h).await?;
            let chunk = c.session.max_read_chunk().max(1);
            if size <= chunk {
                return self.read_on(&c, &fid, offset, size).await;
            }
            // A FUSE read larger than one Tread (a small msize): every
            // piece in flight at once, joined up to the first short one.
            let pieces =
                (0..size).step_by(chunk as usize).map(|at| {
                    let n = chunk.min(size - at);
                    let (c, fid) = (&c, &fid);
                    async move {
                        Ok::<_, Error>((c.session.read(fid, offset + u64::from(at), n).await?, n))
                    }
                });
            let mut buf = BytesMut::with_capacity(size as usize);
            for r in futures_util::future::join_all(pieces).await {
                let (data, n) = r?;
                buf.extend_from_slice(&data);
                if data.len() < n as usize {
                    break;
                }
            }
            Ok(buf.freeze())
        })
    }

    /// One Tread, read on until `size` or EOF when the server answers
    /// short.
    async fn read_on(&self, c: &Conn, fid: &Fid, offset: u64, size: u32) -> Result<Bytes> {
        let first = c.session.read(fid, offset, size).await?;
        if first.len() >= size as usize || first.is_empty() {
            return Ok(first);
        }
        let mut buf = BytesMut::from(&first[..]);
        while buf.len() < size as usize {
            let off = offset + buf.len() as u64;
            let more = c.session.read(fid, off, size - buf.len() as u32).await?;
            if more.is_empty() {
                break;
            }
            buf.extend_from_slice(&more);
        }
        Ok(buf.freeze())
    }

    /// The FUSE thread's part of a write: with write-behind, budget left
    /// and nothing to check first, the write is queued here and answered
    /// at once, without waking a task ([`Queued::Now`]; the caller sends
    /// it with [`send_queued`](Core::send_queued)); otherwise the caller
    /// runs [`write`](Core::write) in a task.
    pub(crate) fn try_queue(&self, fh: u64, offset: u64, len: usize, kill: bool) -> Queued {
        let h = match self.handle(fh) {
            Ok(h) => h,
            Err(e) => return Queued::Failed(e),
        };
        if let Some(e) = self.behind.take_error(h.ino) {
            return Queued::Failed(Error::Io(e));
        }
        if kill && !self.known_plain(h.ino) {
            return Queued::Later;
        }
        match self.behind.try_register(h.ino, offset, len) {
            Some(t) => {
                h.wrote.store(true, Ordering::Relaxed);
                Queued::Now(h, t)
            }
            None => Queued::Later,
        }
    }

    /// Sends a write [`try_queue`](Core::try_queue) queued and answered.
    pub(crate) async fn send_queued(&self, h: Arc<Handle>, t: Ticket, offset: u64, data: Bytes) {
        self.behind.ready(&t).await;
        let len = data.len();
        let err = match self.write_now(&h, offset, data).await.and_then(|n| short(n, len)) {
            Ok(_) => None,
            Err(e) => Some(e.errno()),
        };
        if let Some(e) = err {
            tracing::warn!(ino = h.ino, offset, len, errno = ?e, "queued write failed");
        }
        self.behind.finish(t, err);
    }

    /// A FUSE write: `ack` answers the kernel. With write-behind the
    /// answer goes out once the write is queued (see `behind.rs`), and
    /// the Twrite follows; otherwise after the server's reply. `kill`:
    /// the kernel asks for the file's set-user/group-ID bits to be
    /// cleared (a writer without CAP_FSETID; see `handle_killpriv_v2` in
    /// docs/MOUNT.md).
    pub(crate) async fn write(
        &self,
        fh: u64,
        offset: u64,
        data: Bytes,
        kill: bool,
        ack: impl FnOnce(Result<u32>),
    ) {
        let h = match self.handle(fh) {
            Ok(h) => h,
            Err(e) => return ack(Err(e)),
        };
        if let Some(e) = self.behind.take_error(h.ino) {
            return ack(Err(Error::Io(e)));
        }
        if kill {
            if let Err(e) = self.kill_suid(&h).await {
                return ack(Err(e));
            }
        }
        h.wrote.store(true, Ordering::Relaxed);
        let len = data.len();
        if !self.behind.enabled() {
            return ack(self.write_now(&h, offset, data).await.and_then(|n| short(n, len)));
        }
        let t = self.behind.register(h.ino, offset, len).await;
        ack(Ok(len as u32));
        self.send_queued(h, t, offset, data).await;
    }

    /// Whether node `id` was seen without set-user/group-ID bits within
    /// the attribute timeout.
    fn known_plain(&self, id: u64) -> bool {
        let ttl = self.ttl();
        !ttl.is_zero() && lock(&self.plain).get(&id).is_some_and(|t| t.elapsed() < ttl)
    }

    /// Clears the set-user-ID bit, and the set-group-ID bit of a
    /// group-executable file, as a write by an unprivileged user does on
    /// a local file system.
    async fn kill_suid(&self, h: &Handle) -> Result<()> {
        if self.known_plain(h.ino) {
            return Ok(());
        }
        retry!(self.remote, |c| async {
            let fid = self.handle_fid(&c, h).await?;
            let a = c.session.getattr(&fid, ninefold_client::GetattrMask::BASIC).await?.attr;
            let mut mode = a.mode & 0o7777;
            if mode & S_ISUID != 0 {
                mode &= !S_ISUID;
            }
            if mode & (S_ISGID | S_IXGRP) == S_ISGID | S_IXGRP {
                mode &= !S_ISGID;
            }
            if mode != a.mode & 0o7777 {
                let set = SetAttr { valid: SetattrMask::MODE, mode, ..SetAttr::default() };
                c.session.setattr(&fid, set).await?;
            }
            Ok(())
        })?;
        lock(&self.plain).insert(h.ino, std::time::Instant::now());
        Ok(())
    }

    /// Sends `data` at `offset` in Twrite-sized pieces, all in flight at
    /// once; returns the bytes the server took (up to the first short
    /// piece).
    async fn write_now(&self, h: &Handle, offset: u64, data: Bytes) -> Result<usize> {
        let r = self.write_pieces(h, offset, data).await;
        self.touched();
        r
    }

    /// [`write_now`](Core::write_now) without the change notice.
    async fn write_pieces(&self, h: &Handle, offset: u64, data: Bytes) -> Result<usize> {
        retry!(self.remote, |c| async {
            let fid = self.handle_fid(&c, h).await?;
            let chunk = (c.session.max_write_chunk() as usize).max(1);
            if data.len() <= chunk {
                return Ok(c.session.write(&fid, offset, data.clone()).await? as usize);
            }
            let pieces = (0..data.len()).step_by(chunk).map(|at| {
                let piece = data.slice(at..(at + chunk).min(data.len()));
                let (c, fid) = (&c, &fid);
                async move {
                    let want = piece.len();
                    let n = c.session.write(fid, offset + at as u64, piece).await? as usize;
                    Ok::<_, Error>((n, want))
                }
            });
            let mut done = 0usize;
            for r in futures_util::future::join_all(pieces).await {
                let (n, want) = r?;
                done += n;
                if n < want {
                    break;
                }
            }
            Ok(done)
        })
    }

    /// `close()` of one descriptor: drops the POSIX locks of `owner` and,
    /// in `default` mode, records what our own writes left on the server
    /// so that they do not count as a foreign change at the next open.
    pub(crate) async fn flush(&self, fh: u64, owner: u64) -> Result<()> {
        let h = self.handle(fh)?;
        let pending = self.behind.drain(h.ino).await;
        self.drop_lock_fid(h.ino, owner).await;
        if let Some(e) = pending {
            return Err(Error::Io(e));
        }
        if self.cache() == CacheMode::Default && h.wrote.swap(false, Ordering::Relaxed) {
            let attr = retry!(self.remote, |c| async {
                let fid = self.handle_fid(&c, &h).await?;
                Ok(c.session.getattr(&fid, ninefold_client::GetattrMask::BASIC).await?.attr)
            })?;
            if let Some(node) = self.table.lock().nodes.get_mut(&h.ino) {
                node.stamp = Some(stamp_of(&attr));
            }
        }
        Ok(())
    }

    pub(crate) async fn release(&self, fh: u64, owner: Option<u64>) {
        if let Some(h) = self.take_handle(fh) {
            if let Some(o) = owner {
                self.drop_lock_fid(h.ino, o).await;
            }
        }
    }

    pub(crate) async fn fsync(&self, fh: u64, datasync: bool) -> Result<()> {
        let h = self.handle(fh)?;
        if let Some(e) = self.behind.drain(h.ino).await {
            return Err(Error::Io(e));
        }
        retry!(self.remote, |c| async {
            let fid = self.handle_fid(&c, &h).await?;
            c.session.fsync(&fid, datasync).await
        })
    }

    /// `fallocate(2)`: Tfallocate on `9P2000.L.Z` servers, for the modes
    /// the dialect defines (allocate, which may extend the file; punch a
    /// hole keeping the size; zero a range, keeping the size or not).
    /// Everything else, and every mode on plain 9P2000.L (no such
    /// message), is EOPNOTSUPP, which is what `fallocate(2)` reports on a
    /// file system without it (posix_fallocate then falls back to
    /// writing). Queued writes of the file reach the server first.
    pub(crate) async fn fallocate(&self, fh: u64, offset: u64, len: u64, mode: i32) -> Result<()> {
        let h = self.handle(fh)?;
        let mode = u32::try_from(mode).map_err(|_| Error::Io(Errno::EOPNOTSUPP))?;
        let mode = FallocateMode::from_bits_retain(mode);
        if self.remote.conn().session.dialect() != Dialect::Z || !mode.is_supported() {
            return Err(Error::Io(Errno::EOPNOTSUPP));
        }
        self.behind.settle(h.ino, None).await;
        let r = retry!(self.remote, |c| async {
            let fid = self.handle_fid(&c, &h).await?;
            c.session.fallocate(&fid, offset, len, mode).await
        });
        match r {
            Ok(()) => {
                // Our own change: not a foreign one at the next open.
                h.wrote.store(true, Ordering::Relaxed);
                Ok(())
            }
            // ENOSYS would make the kernel stop asking for good; a
            // refusal of one mode must not disable the others.
            Err(e) if e.errno() == Errno::ENOSYS => Err(Error::Io(Errno::EOPNOTSUPP)),
            Err(e) => Err(e),
        }
    }

    /// SEEK_DATA / SEEK_HOLE (9P has no sparse-file query: the whole file
    /// is data, as Linux's generic implementation reports).
    pub(crate) async fn lseek(&self, fh: u64, offset: i64, whence: i32) -> Result<i64> {
        let h = self.handle(fh)?;
        self.behind.settle(h.ino, None).await;
        let size = retry!(self.remote, |c| async {
            let fid = self.handle_fid(&c, &h).await?;
            Ok(c.session.getattr(&fid, ninefold_client::GetattrMask::BASIC).await?.attr.size)
        })?;
        let size = i64::try_from(size).unwrap_or(i64::MAX);
        if offset < 0 {
            return Err(Error::Io(Errno::EINVAL));
        }
        if offset >= size {
            return Err(Error::Io(Errno::ENXIO));
        }
        match whence {
            SEEK_DATA => Ok(offset),
            SEEK_HOLE => Ok(size),
            _ => Err(Error::Io(Errno::EINVAL)),
        }
    }

    /// `copy_file_range(2)` between two files of this mount: the data
    /// goes through this daemon (9P has no server-side copy) in large
    /// reads and writes, [`COPY_DEPTH`] pieces in flight, without
    /// crossing into the kernel and back. Returns the bytes copied
    /// (short at the source's end; at most [`COPY_MAX`] per call, the
    /// caller loops).
    pub(crate) async fn copy_range(
        &self,
        fh_in: u64,
        off_in: u64,
        fh_out: u64,
        off_out: u64,
        len: u64,
    ) -> Result<u32> {
        let (hi, ho) = (self.handle(fh_in)?, self.handle(fh_out)?);
        if let Some(e) = self.behind.drain(ho.ino).await {
            return Err(Error::Io(e));
        }
        self.behind.settle(hi.ino, None).await;
        let size = retry!(self.remote, |c| async {
            let fid = self.handle_fid(&c, &hi).await?;
            Ok(c.session.getattr(&fid, ninefold_client::GetattrMask::BASIC).await?.attr.size)
        })?;
        let len = len.min(size.saturating_sub(off_in)).min(COPY_MAX);
        if len == 0 {
            return Ok(0);
        }
        let chunk = {
            let c = self.remote.conn();
            u64::from(c.session.max_read_chunk().min(c.session.max_write_chunk()).max(4096))
        };
        let pieces = len.div_ceil(chunk);
        let one = |k: u64| {
            let (hi, ho) = (&hi, &ho);
            async move {
                let at = k * chunk;
                let n = chunk.min(len - at) as u32;
                let data = retry!(self.remote, |c| async {
                    let fid = self.handle_fid(&c, hi).await?;
                    c.session.read(&fid, off_in + at, n).await
                })?;
                let got = data.len();
                if got > 0 {
                    let wrote = self.write_now(ho, off_out + at, data).await?;
                    if wrote < got {
                        return Err(Error::Io(Errno::EIO));
                    }
                }
                Ok::<_, Error>((k, got as u64))
            }
        };
        let mut done: Vec<(u64, u64)> = futures_util::stream::iter(0..pieces)
            .map(one)
            .buffer_unordered(COPY_DEPTH)
            .try_collect()
            .await?;
        done.sort_unstable();
        // The bytes copied without a gap from the start.
        let mut total = 0u64;
        for (_, got) in done {
            total += got;
            if got < chunk {
                break;
            }
        }
        ho.wrote.store(true, Ordering::Relaxed);
        Ok(total.min(len) as u32)
    }

    /// statfs, kept for the attribute timeout (at most [`STATFS_TTL`]):
    /// `find` asks it of every directory it enters.
    pub(crate) async fn statfs(&self, who: Who) -> Result<Rstatfs> {
        let ttl = self.ttl().min(STATFS_TTL);
        if let Some((at, s)) = lock(&self.statfs).get(&who.uid) {
            if at.elapsed() < ttl {
                return Ok(s.clone());
            }
        }
        let s = retry!(self.remote, |c| async {
            let root = self.fid_of(&c, crate::inode::ROOT, who.uid).await?;
            c.session.statfs(&root).await
        })?;
        if !ttl.is_zero() {
            lock(&self.statfs).insert(who.uid, (std::time::Instant::now(), s.clone()));
        }
        Ok(s)
    }
}

/// A write the server took only part of is an I/O error.
fn short(n: usize, len: usize) -> Result<u32> {
    if n < len {
        Err(Error::Io(Errno::EIO))
    } else {
        Ok(len as u32)
    }
}

/// Whether `e` says the name exists.
fn is_exists(e: &Error) -> bool {
    matches!(e, Error::AlreadyExists) || matches!(e, Error::Io(x) if *x == Errno::EEXIST)
}

/// Whether `e` is a permission refusal.
fn is_denied(e: &Error) -> bool {
    matches!(e, Error::PermissionDenied)
        || matches!(e, Error::Io(x) if *x == Errno::EACCES || *x == Errno::EPERM)
}
