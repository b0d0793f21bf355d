//! Open files and directories: open, create, read, write, flush,
//! release, fsync, lseek, readdir, statfs.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use bytes::BytesMut;
use fuser::{FileAttr, FopenFlags};
use ninefold_client::proto::l::{Dirent, Rstatfs};
use ninefold_client::{Bytes, Errno, Error, OpenFlags, Result};

use crate::core::{open_flags, stamp_of, to_file_attr, Core, Who};
use crate::options::CacheMode;
use crate::remote::retry;

const SEEK_DATA: i32 = 3;
const SEEK_HOLE: i32 = 4;
const O_EXCL: i32 = 0o200;

/// Bytes asked for per Treaddir.
const READDIR_COUNT: u32 = 64 * 1024;

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

    pub(crate) async fn open(&self, who: Who, id: u64, flags: i32) -> Result<(u64, FopenFlags)> {
        let oflags = open_flags(flags);
        let want_attr = self.cache() == CacheMode::Default;
        let (fid, attr) = retry!(self.remote, |c| async {
            let fid = self.clone_fid(&c, id, who.uid).await?;
            c.session.lopen(&fid, oflags).await?;
            let attr = if want_attr {
                Some(c.session.getattr(&fid, ninefold_client::GetattrMask::BASIC).await?.attr)
            } else {
                None
            };
            Ok((fid, attr))
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
        if flags & O_EXCL != 0 {
            oflags |= OpenFlags::EXCL;
        }
        let (fid, id, attr) = retry!(self.remote, |c| async {
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
        retry!(self.remote, |c| async {
            let fid = self.handle_fid(&c, &h).await?;
            let first = c.session.read(&fid, offset, size).await?;
            if first.len() >= size as usize || first.is_empty() {
                return Ok(first);
            }
            // A reply is capped by msize: read on until full or EOF.
            let mut buf = BytesMut::from(&first[..]);
            while buf.len() < size as usize {
                let off = offset + buf.len() as u64;
                let more = c.session.read(&fid, off, size - buf.len() as u32).await?;
                if more.is_empty() {
                    break;
                }
                buf.extend_from_slice(&more);
            }
            Ok(buf.freeze())
        })
    }

    pub(crate) async fn write(&self, fh: u64, offset: u64, data: Bytes) -> Result<u32> {
        let h = self.handle(fh)?;
        h.wrote.store(true, Ordering::Relaxed);
        retry!(self.remote, |c| async {
            let fid = self.handle_fid(&c, &h).await?;
            let chunk = c.session.max_write_chunk() as usize;
            let mut done = 0usize;
            while done < data.len() {
                let end = (done + chunk).min(data.len());
                let n = c.session.write(&fid, offset + done as u64, data.slice(done..end)).await?;
                if n == 0 {
                    break;
                }
                done += n as usize;
            }
            Ok(done as u32)
        })
    }

    /// `close()` of one descriptor: drops the POSIX locks of `owner` and,
    /// in `default` mode, records what our own writes left on the server
    /// so that they do not count as a foreign change at the next open.
    pub(crate) async fn flush(&self, fh: u64, owner: u64) -> Result<()> {
        let h = self.handle(fh)?;
        self.drop_lock_fid(h.ino, owner).await;
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
        retry!(self.remote, |c| async {
            let fid = self.handle_fid(&c, &h).await?;
            c.session.fsync(&fid, datasync).await
        })
    }

    /// SEEK_DATA / SEEK_HOLE (9P has no sparse-file query: the whole file
    /// is data, as Linux's generic implementation reports).
    pub(crate) async fn lseek(&self, fh: u64, offset: i64, whence: i32) -> Result<i64> {
        let h = self.handle(fh)?;
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

    pub(crate) async fn opendir(&self, who: Who, id: u64) -> Result<u64> {
        let fid = retry!(self.remote, |c| async {
            let fid = self.clone_fid(&c, id, who.uid).await?;
            c.session.lopen(&fid, OpenFlags::RDONLY).await?;
            Ok(fid)
        })?;
        Ok(self.add_handle(id, who.uid, OpenFlags::RDONLY, fid))
    }

    /// One Treaddir block from cookie `offset`.
    pub(crate) async fn readdir(&self, fh: u64, offset: u64) -> Result<Vec<Dirent>> {
        let h = self.handle(fh)?;
        retry!(self.remote, |c| async {
            let fid = self.handle_fid(&c, &h).await?;
            let block = c.session.readdir(&fid, offset, READDIR_COUNT).await?;
            Ok(block.iter().collect::<Vec<_>>())
        })
    }

    pub(crate) async fn statfs(&self, who: Who) -> Result<Rstatfs> {
        retry!(self.remote, |c| async {
            let root = self.fid_of(&c, crate::inode::ROOT, who.uid).await?;
            c.session.statfs(&root).await
        })
    }
}
