//! [`Dir`]: a directory listing cursor plus openat-style child operations.

use std::collections::VecDeque;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use ninefold_proto::{OpenFlags, P9String, UnlinkatFlags, S_IFDIR};

use crate::client::{access_flags, child_path, Client};
use crate::error::{Error, Result};
use crate::file::File;
use crate::options::{NodeKind, OpenOptions, SetAttrs};
use crate::path::check_name;
use crate::session::Fid;
use crate::types::{DirEntry, FileType, Metadata};

/// An open directory: a pull-based listing cursor plus `*_at` operations
/// on its children. Child names are bytes: feed
/// [`DirEntry::name_bytes`] back verbatim.
///
/// Like [`File`], a directory handle survives reconnects: it walks its
/// canonical path again on first use after one (and reopens its listing,
/// keeping the server's directory offset).
#[derive(Clone)]
pub struct Dir {
    inner: Arc<DirInner>,
}

struct DirInner {
    client: Client,
    /// The directory itself, unopened (for walks and `*_at` calls).
    fid: Mutex<Option<Arc<Fid>>>,
    closed: AtomicBool,
    cursor: tokio::sync::Mutex<Cursor>,
    /// The canonical path from the attach root.
    path: Vec<P9String>,
    /// Serialises re-walks after a reconnect.
    rewalk: tokio::sync::Mutex<()>,
}

#[derive(Default)]
struct Cursor {
    /// Opened lazily for Treaddir.
    listing: Option<Fid>,
    offset: u64,
    buffered: VecDeque<DirEntry>,
    eof: bool,
}

impl fmt::Debug for Dir {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let fid = self.inner.fid.lock().ok().and_then(|g| g.as_ref().map(|f| f.num()));
        f.debug_struct("Dir").field("fid", &fid).finish()
    }
}

impl Dir {
    pub(crate) fn new(client: Client, fid: Fid, path: Vec<P9String>) -> Dir {
        Dir {
            inner: Arc::new(DirInner {
                client,
                fid: Mutex::new(Some(Arc::new(fid))),
                closed: AtomicBool::new(false),
                cursor: tokio::sync::Mutex::new(Cursor::default()),
                path,
                rewalk: tokio::sync::Mutex::new(()),
            }),
        }
    }

    /// The directory's fid on a live connection: after a reconnect, the
    /// path is walked again from the new root.
    async fn live_fid(&self) -> Result<Arc<Fid>> {
        let fid = self.fid()?;
        if !fid.session().is_dead() {
            return Ok(fid);
        }
        let _one = self.inner.rewalk.lock().await;
        let fid = self.fid()?;
        if !fid.session().is_dead() {
            return Ok(fid);
        }
        let conn = self.client().inner.conn_now();
        if conn.session.is_dead() {
            return Err(Error::disconnected());
        }
        let r =
            crate::path::resolve(&conn.session, &conn.root, self.inner.path.clone(), false).await?;
        if r.qid.is_some_and(|q| !q.is_dir()) {
            return Err(Error::NotADirectory);
        }
        let new = Arc::new(r.fid);
        let mut slot = self.inner.fid.lock().map_err(|_| Error::protocol("fid slot poisoned"))?;
        if slot.is_none() || self.inner.closed.load(Ordering::Acquire) {
            return Err(Error::Closed);
        }
        *slot = Some(new.clone());
        Ok(new)
    }

    /// The directory's (unopened) fid, or `Closed`.
    pub fn fid(&self) -> Result<Arc<Fid>> {
        if self.inner.closed.load(Ordering::Acquire) {
            return Err(Error::Closed);
        }
        self.inner.fid.lock().ok().and_then(|g| g.clone()).ok_or(Error::Closed)
    }

    fn client(&self) -> &Client {
        &self.inner.client
    }

    /// The next entries in directory order, `.` and `..` excluded; an
    /// empty result means the end. `None` returns one server batch;
    /// `Some(n)` at most `n` entries.
    pub async fn next_batch(&self, max: Option<usize>) -> Result<Vec<DirEntry>> {
        retry!(self.client(), self.next_batch_once(max))
    }

    async fn next_batch_once(&self, max: Option<usize>) -> Result<Vec<DirEntry>> {
        let fid = self.live_fid().await?;
        let s = self.client().on(&fid)?;
        let mut cur = self.inner.cursor.lock().await;
        if cur.listing.as_ref().is_some_and(|l| !s.owns(l)) {
            cur.listing = None;
        }
        while cur.buffered.is_empty() && !cur.eof {
            if cur.listing.is_none() {
                let (lfid, _) = s.walk::<&[u8]>(&fid, &[]).await?;
                s.lopen(&lfid, OpenFlags::RDONLY | OpenFlags::DIRECTORY).await?;
                cur.listing = Some(lfid);
            }
            let Some(listing) = cur.listing.as_ref() else { continue };
            let block = s.readdir(listing, cur.offset, s.max_read_chunk()).await?;
            if block.is_empty() {
                cur.eof = true;
                break;
            }
            let mut last = cur.offset;
            let mut entries = VecDeque::new();
            for d in block.iter() {
                last = d.offset;
                let name = d.name.as_bytes();
                if name != b"." && name != b".." {
                    entries.push_back(DirEntry::from_dirent(&d));
                }
            }
            cur.offset = last;
            cur.buffered = entries;
        }
        let n = max.unwrap_or(usize::MAX).min(cur.buffered.len());
        Ok(cur.buffered.drain(..n).collect())
    }

    /// Restarts the listing from the first entry.
    pub async fn rewind(&self) -> Result<()> {
        self.fid()?;
        let mut cur = self.inner.cursor.lock().await;
        cur.offset = 0;
        cur.buffered.clear();
        cur.eof = false;
        Ok(())
    }

    /// Metadata of the directory itself.
    pub async fn metadata(&self) -> Result<Metadata> {
        retry!(self.client(), async {
            let fid = self.live_fid().await?;
            self.client().getattr(&fid).await
        })
    }

    /// Changes the directory itself; returns its new metadata.
    pub async fn set_attr(&self, attrs: SetAttrs) -> Result<Metadata> {
        retry!(self.client(), async {
            let fid = self.live_fid().await?;
            if !attrs.is_empty() {
                self.client().on(&fid)?.setattr(&fid, attrs.to_wire()?).await?;
            }
            self.client().getattr(&fid).await
        })
    }

    /// openat(2): opens child `name` (a symlink is not followed: opening
    /// one fails with `TooManySymlinks`, as with `O_NOFOLLOW`).
    pub async fn open_at(&self, name: impl AsRef<[u8]>, opts: OpenOptions) -> Result<File> {
        let name = name.as_ref();
        check_name(name)?;
        retry!(self.client(), async {
            let fid = self.live_fid().await?;
            let flags = access_flags(&opts)?;
            let c = self.client();
            if opts.create_new {
                return c.create_in(&fid, name, &self.inner.path, flags, &opts, true).await;
            }
            match c.on(&fid)?.walk(&fid, &[name]).await {
                Ok((child, qids)) => {
                    let qid = qids.last().copied();
                    if qid.is_some_and(|q| q.is_symlink()) {
                        return Err(Error::TooManySymlinks);
                    }
                    c.open_fid(child, qid, child_path(&self.inner.path, name), flags, &opts).await
                }
                Err(Error::NotFound) if opts.create => {
                    c.create_in(&fid, name, &self.inner.path, flags, &opts, false).await
                }
                Err(e) => Err(e),
            }
        })
    }

    /// Descends into child directory `name`.
    pub async fn open_dir_at(&self, name: impl AsRef<[u8]>) -> Result<Dir> {
        let name = name.as_ref();
        check_name(name)?;
        retry!(self.client(), async {
            let fid = self.live_fid().await?;
            self.client().open_dir_fid(&fid, name, &self.inner.path).await
        })
    }

    /// fstatat(2): metadata of child `name`, never following a symlink.
    pub async fn metadata_at(&self, name: impl AsRef<[u8]>) -> Result<Metadata> {
        let name = name.as_ref();
        check_name(name)?;
        retry!(self.client(), async {
            let fid = self.live_fid().await?;
            self.client().getattr_at(&fid, name).await
        })
    }

    /// Changes child `name` without opening it; returns its new metadata.
    pub async fn set_attr_at(&self, name: impl AsRef<[u8]>, attrs: SetAttrs) -> Result<Metadata> {
        let name = name.as_ref();
        check_name(name)?;
        retry!(self.client(), async {
            let fid = self.live_fid().await?;
            let c = self.client();
            let (child, _) = c.on(&fid)?.walk(&fid, &[name]).await?;
            if !attrs.is_empty() {
                c.on(&child)?.setattr(&child, attrs.to_wire()?).await?;
            }
            c.getattr(&child).await
        })
    }

    /// mkdirat(2).
    pub async fn create_dir_at(&self, name: impl AsRef<[u8]>, mode: u32) -> Result<Metadata> {
        let name = name.as_ref();
        check_name(name)?;
        retry!(self.client(), async {
            let fid = self.live_fid().await?;
            let c = self.client();
            c.on(&fid)?.mkdir(&fid, name, S_IFDIR | (mode & 0o7777), c.gid()).await?;
            c.getattr_at(&fid, name).await
        })
    }

    /// symlinkat(2): `target` is stored verbatim.
    pub async fn symlink_at(
        &self,
        name: impl AsRef<[u8]>,
        target: impl AsRef<[u8]>,
    ) -> Result<Metadata> {
        let name = name.as_ref();
        check_name(name)?;
        retry!(self.client(), async {
            let fid = self.live_fid().await?;
            let c = self.client();
            c.on(&fid)?.symlink(&fid, name, target.as_ref(), c.gid()).await?;
            c.getattr_at(&fid, name).await
        })
    }

    /// linkat(2): `new_name` here for `original_name` in `original_dir`.
    pub async fn link_at(
        &self,
        original_dir: &Dir,
        original_name: impl AsRef<[u8]>,
        new_name: impl AsRef<[u8]>,
    ) -> Result<Metadata> {
        let (oname, nname) = (original_name.as_ref(), new_name.as_ref());
        check_name(oname)?;
        check_name(nname)?;
        retry!(self.client(), async {
            let fid = self.live_fid().await?;
            let ofid = original_dir.live_fid().await?;
            let c = self.client();
            let (target, _) = c.on(&ofid)?.walk(&ofid, &[oname]).await?;
            c.on_both(&fid, &target)?.link(&fid, &target, nname).await?;
            c.getattr(&target).await
        })
    }

    /// mknodat(2).
    pub async fn mknod_at(
        &self,
        name: impl AsRef<[u8]>,
        kind: NodeKind,
        mode: u32,
    ) -> Result<Metadata> {
        let name = name.as_ref();
        check_name(name)?;
        retry!(self.client(), async {
            let fid = self.live_fid().await?;
            let c = self.client();
            let (ty, major, minor) = kind.wire();
            c.on(&fid)?.mknod(&fid, name, ty | (mode & 0o7777), major, minor, c.gid()).await?;
            c.getattr_at(&fid, name).await
        })
    }

    /// unlinkat(2).
    pub async fn remove_file_at(&self, name: impl AsRef<[u8]>) -> Result<()> {
        let name = name.as_ref();
        check_name(name)?;
        retry!(self.client(), async {
            let fid = self.live_fid().await?;
            self.client().unlink_in(&fid, name, UnlinkatFlags::empty()).await
        })
    }

    /// unlinkat(2) with AT_REMOVEDIR.
    pub async fn remove_dir_at(&self, name: impl AsRef<[u8]>) -> Result<()> {
        let name = name.as_ref();
        check_name(name)?;
        retry!(self.client(), async {
            let fid = self.live_fid().await?;
            self.client().unlink_in(&fid, name, UnlinkatFlags::REMOVEDIR).await
        })
    }

    /// renameat(2): `new_dir` may be this directory.
    pub async fn rename_at(
        &self,
        old_name: impl AsRef<[u8]>,
        new_dir: &Dir,
        new_name: impl AsRef<[u8]>,
    ) -> Result<()> {
        let (o, n) = (old_name.as_ref(), new_name.as_ref());
        check_name(o)?;
        check_name(n)?;
        retry!(self.client(), async {
            let fid = self.live_fid().await?;
            let nfid = new_dir.live_fid().await?;
            self.client().rename_in(&fid, o, &nfid, n).await
        })
    }

    /// readlinkat(2): the raw target of child symlink `name`.
    pub async fn read_link_at(&self, name: impl AsRef<[u8]>) -> Result<Bytes> {
        let name = name.as_ref();
        check_name(name)?;
        retry!(self.client(), async {
            let fid = self.live_fid().await?;
            let c = self.client();
            let (child, _) = c.on(&fid)?.walk(&fid, &[name]).await?;
            c.on(&child)?.readlink(&child).await
        })
    }

    /// Marks the handle closed and releases its fids once in-flight calls
    /// finish. Idempotent; never waits.
    pub async fn close(&self) -> Result<()> {
        self.inner.closed.store(true, Ordering::Release);
        let fid = self.inner.fid.lock().ok().and_then(|mut g| g.take());
        drop(fid);
        if let Ok(mut cur) = self.inner.cursor.try_lock() {
            cur.listing = None;
        }
        Ok(())
    }

    /// A `Stream` of entries, one server batch at a time.
    #[cfg(feature = "stream")]
    #[cfg_attr(docsrs, doc(cfg(feature = "stream")))]
    pub fn entries(&self) -> impl futures_util::Stream<Item = Result<DirEntry>> + Send + 'static {
        let dir = self.clone();
        futures_util::stream::unfold(
            (dir, VecDeque::<DirEntry>::new(), false),
            |(dir, mut buf, done)| async move {
                if done {
                    return None;
                }
                if buf.is_empty() {
                    match dir.next_batch(None).await {
                        Ok(b) if b.is_empty() => return None,
                        Ok(b) => buf.extend(b),
                        Err(e) => return Some((Err(e), (dir, buf, true))),
                    }
                }
                let e = buf.pop_front()?;
                Some((Ok(e), (dir, buf, false)))
            },
        )
    }

    /// Removes everything below this directory (depth first).
    pub(crate) fn remove_contents(&self) -> Pin<Box<dyn Future<Output = Result<()>> + Send + '_>> {
        Box::pin(async move {
            loop {
                self.rewind().await?;
                let batch = self.next_batch(None).await?;
                if batch.is_empty() {
                    return Ok(());
                }
                for e in batch {
                    let ty = match e.file_type {
                        FileType::Unknown => self.metadata_at(&e.name_bytes).await?.file_type,
                        t => t,
                    };
                    if ty == FileType::Dir {
                        let sub = self.open_dir_at(&e.name_bytes).await?;
                        sub.remove_contents().await?;
                        drop(sub);
                        self.remove_dir_at(&e.name_bytes).await?;
                    } else {
                        self.remove_file_at(&e.name_bytes).await?;
                    }
                }
            }
        })
    }
}
