//! [`Dir`]: a directory listing cursor plus openat-style child operations.

use std::collections::VecDeque;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use ninefold_proto::{Dialect, OpenFlags, P9String, UnlinkatFlags};

use crate::client::Client;
use crate::error::{Error, Result};
use crate::file::File;
use crate::op;
use crate::options::{NodeKind, OpenOptions, SetAttrs};
use crate::path::check_name;
use crate::session::{Fid, Session};
use crate::types::{DirEntry, FileType, Metadata};

/// An open directory: a pull-based listing cursor plus `*_at` operations
/// on its children. Child names are bytes: feed
/// [`DirEntry::name_bytes`] back verbatim.
///
/// Like [`File`], a directory handle survives reconnects: it is restored on
/// its first use after one (Trebind on `9P2000.L.Z`, else a walk of its
/// canonical path that must reach the same qid.path; [`Error::Stale`]
/// otherwise) and reopens its listing, keeping the server's directory
/// offset.
///
/// Listing: on `9P2000.L.Z` Tlopenat + Treaddirattr, so every
/// [`DirEntry::metadata`] is filled (readdirplus); on 9P2000.L Treaddir
/// (metadata `None`); on 9P2000/.u Tread of stat records (metadata
/// filled).
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
    /// The directory's qid.path: what a restore must reach.
    ino: u64,
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
    /// Watches the cookies the server hands out for a loop.
    cookies: CookieWatch,
}

/// Catches a server whose readdir cookies never lead to the end: one that
/// does not advance, or that comes back to a cookie already asked for.
///
/// Cookies are opaque (hash-ordered on ext4), so only repetition can be
/// checked. Each listing step maps the cookie asked for to the next one, so
/// a loop is a cycle in that sequence; Brent's algorithm finds it in
/// constant memory, within at most about four times (lead-in + cycle
/// length) steps.
#[derive(Debug, Clone, Copy)]
struct CookieWatch {
    /// The cookie compared against (Brent's "tortoise").
    mark: u64,
    /// Steps since `mark` was set, and the step count at which it moves.
    steps: u64,
    power: u64,
}

impl Default for CookieWatch {
    fn default() -> CookieWatch {
        CookieWatch::from(0)
    }
}

impl CookieWatch {
    /// A watch for a listing that starts at cookie `start`.
    fn from(start: u64) -> CookieWatch {
        CookieWatch { mark: start, steps: 0, power: 1 }
    }

    /// The server answered a Treaddir at `asked` with entries ending at
    /// cookie `next`.
    fn step(&mut self, asked: u64, next: u64) -> Result<()> {
        if next == asked {
            return Err(Error::protocol(format!("readdir cookie {next} did not advance")));
        }
        if next == self.mark {
            return Err(Error::protocol(format!(
                "readdir cookie {next} came back: the listing would never end"
            )));
        }
        self.steps += 1;
        if self.steps == self.power {
            self.mark = next;
            self.power = self.power.saturating_mul(2);
            self.steps = 0;
        }
        Ok(())
    }
}

impl fmt::Debug for Dir {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let fid = self.inner.fid.lock().ok().and_then(|g| g.as_ref().map(|f| f.num()));
        f.debug_struct("Dir").field("fid", &fid).finish()
    }
}

impl Dir {
    pub(crate) fn new(client: Client, fid: Fid, path: Vec<P9String>, ino: u64) -> Dir {
        Dir {
            inner: Arc::new(DirInner {
                client,
                fid: Mutex::new(Some(Arc::new(fid))),
                closed: AtomicBool::new(false),
                cursor: tokio::sync::Mutex::new(Cursor::default()),
                path,
                ino,
                rewalk: tokio::sync::Mutex::new(()),
            }),
        }
    }

    /// The directory's fid on a live connection: after a reconnect, the
    /// path is walked again from the new root (the runner calls this
    /// before each attempt of a directory operation).
    pub(crate) async fn live_fid(&self) -> Result<Arc<Fid>> {
        let fid = self.fid()?;
        if !fid.session().is_dead() {
            return Ok(fid);
        }
        let _one = self.inner.rewalk.lock().await;
        let fid = self.fid()?;
        if !fid.session().is_dead() {
            return Ok(fid);
        }
        let (fid, _) =
            crate::restore::restore(self.client(), &self.inner.path, self.inner.ino, None).await?;
        let new = Arc::new(fid);
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

    /// The canonical path from the attach root.
    pub(crate) fn path(&self) -> &[P9String] {
        &self.inner.path
    }

    /// The next entries in directory order, `.` and `..` excluded; an
    /// empty result means the end. `None` returns one server batch;
    /// `Some(n)` at most `n` entries.
    ///
    /// A server whose cookies do not advance, or come back to one already
    /// asked for, would make the listing endless: that is a
    /// [`Protocol`](Error::Protocol) error.
    pub async fn next_batch(&self, max: Option<usize>) -> Result<Vec<DirEntry>> {
        self.client().run(op::NextBatch { dir: self, max }).await
    }

    /// The listing step of [`next_batch`](Dir::next_batch) on `s`, where
    /// `fid` is this directory's restored fid: (re)opens the listing fid
    /// when needed and reads server batches until one has entries to
    /// return.
    pub(crate) async fn list(
        &self,
        s: &Session,
        fid: &Fid,
        max: Option<usize>,
    ) -> Result<Vec<DirEntry>> {
        let mut cur = self.inner.cursor.lock().await;
        if cur.listing.as_ref().is_some_and(|l| !s.owns(l)) {
            cur.listing = None;
        }
        let dialect = s.dialect();
        while cur.buffered.is_empty() && !cur.eof {
            if cur.listing.is_none() {
                let dflags = OpenFlags::RDONLY | OpenFlags::DIRECTORY;
                let lfid = match dialect {
                    Dialect::Z => s.lopenat(fid, dflags).await?.0,
                    Dialect::L => {
                        let (lfid, _) = s.walk::<&[u8]>(fid, &[]).await?;
                        s.lopen(&lfid, dflags).await?;
                        lfid
                    }
                    _ => {
                        let (lfid, _) = s.walk::<&[u8]>(fid, &[]).await?;
                        crate::op::plan9_open(s, &lfid, OpenFlags::RDONLY).await?;
                        lfid
                    }
                };
                cur.listing = Some(lfid);
            }
            let Some(listing) = cur.listing.as_ref() else { continue };
            let mut last = cur.offset;
            let mut entries = VecDeque::new();
            let keep = |name: &[u8]| name != b"." && name != b"..";
            match dialect {
                Dialect::Z => {
                    let block = s.readdirattr(listing, cur.offset, s.max_read_chunk()).await?;
                    if block.is_empty() {
                        cur.eof = true;
                        break;
                    }
                    for d in block.iter() {
                        last = d.offset;
                        if keep(d.name.as_bytes()) {
                            entries.push_back(DirEntry::from_dirent_attr(&d));
                        }
                    }
                }
                Dialect::L => {
                    let block = s.readdir(listing, cur.offset, s.max_read_chunk()).await?;
                    if block.is_empty() {
                        cur.eof = true;
                        break;
                    }
                    for d in block.iter() {
                        last = d.offset;
                        if keep(d.name.as_bytes()) {
                            entries.push_back(DirEntry::from_dirent(&d));
                        }
                    }
                }
                _ => {
                    // 9P2000/.u: the offset is the byte position in the
                    // stream of stat records.
                    let data = s.read(listing, cur.offset, s.max_read_chunk()).await?;
                    if data.is_empty() {
                        cur.eof = true;
                        break;
                    }
                    last = cur.offset + data.len() as u64;
                    for st in ninefold_proto::dir::read_stats(&data, dialect) {
                        let st =
                            st.map_err(|e| Error::protocol(format!("bad stat record: {e}")))?;
                        if keep(st.name.as_bytes()) {
                            entries.push_back(DirEntry::from_stat(&st));
                        }
                    }
                }
            }
            let asked = cur.offset;
            cur.cookies.step(asked, last)?;
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
        cur.cookies = CookieWatch::default();
        Ok(())
    }

    /// Metadata of the directory itself.
    pub async fn metadata(&self) -> Result<Metadata> {
        self.client().run(op::DirStat { dir: self }).await
    }

    /// Changes the directory itself; returns its new metadata.
    pub async fn set_attr(&self, attrs: SetAttrs) -> Result<Metadata> {
        self.client().run(op::DirSetAttr { dir: self, attrs }).await
    }

    /// openat(2): opens child `name` (a symlink is not followed: opening
    /// one fails with `TooManySymlinks`, as with `O_NOFOLLOW`).
    pub async fn open_at(&self, name: impl AsRef<[u8]>, opts: OpenOptions) -> Result<File> {
        let name = name.as_ref();
        check_name(name)?;
        self.client().run(op::OpenAt { dir: self, name, opts: &opts }).await
    }

    /// Descends into child directory `name`.
    pub async fn open_dir_at(&self, name: impl AsRef<[u8]>) -> Result<Dir> {
        let name = name.as_ref();
        check_name(name)?;
        self.client().run(op::OpenDirAt { dir: self, name }).await
    }

    /// fstatat(2): metadata of child `name`, never following a symlink.
    pub async fn metadata_at(&self, name: impl AsRef<[u8]>) -> Result<Metadata> {
        let name = name.as_ref();
        check_name(name)?;
        self.client().run(op::StatAt { dir: self, name }).await
    }

    /// Changes child `name` without opening it; returns its new metadata.
    pub async fn set_attr_at(&self, name: impl AsRef<[u8]>, attrs: SetAttrs) -> Result<Metadata> {
        let name = name.as_ref();
        check_name(name)?;
        self.client().run(op::SetAttrAt { dir: self, name, attrs }).await
    }

    /// mkdirat(2).
    pub async fn create_dir_at(&self, name: impl AsRef<[u8]>, mode: u32) -> Result<Metadata> {
        let name = name.as_ref();
        check_name(name)?;
        self.client().run(op::MkdirAt { dir: self, name, mode }).await
    }

    /// symlinkat(2): `target` is stored verbatim.
    pub async fn symlink_at(
        &self,
        name: impl AsRef<[u8]>,
        target: impl AsRef<[u8]>,
    ) -> Result<Metadata> {
        let name = name.as_ref();
        check_name(name)?;
        self.client().run(op::SymlinkAt { dir: self, name, target: target.as_ref() }).await
    }

    /// linkat(2): `new_name` here for `original_name` in `original_dir`.
    pub async fn link_at(
        &self,
        original_dir: &Dir,
        original_name: impl AsRef<[u8]>,
        new_name: impl AsRef<[u8]>,
    ) -> Result<Metadata> {
        let (original_name, new_name) = (original_name.as_ref(), new_name.as_ref());
        check_name(original_name)?;
        check_name(new_name)?;
        self.client().run(op::LinkAt { dir: self, original_dir, original_name, new_name }).await
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
        self.client().run(op::MknodAt { dir: self, name, kind, mode }).await
    }

    /// unlinkat(2).
    pub async fn remove_file_at(&self, name: impl AsRef<[u8]>) -> Result<()> {
        let name = name.as_ref();
        check_name(name)?;
        self.client().run(op::UnlinkAt { dir: self, name, flags: UnlinkatFlags::empty() }).await
    }

    /// unlinkat(2) with AT_REMOVEDIR.
    pub async fn remove_dir_at(&self, name: impl AsRef<[u8]>) -> Result<()> {
        let name = name.as_ref();
        check_name(name)?;
        self.client().run(op::UnlinkAt { dir: self, name, flags: UnlinkatFlags::REMOVEDIR }).await
    }

    /// renameat(2): `new_dir` may be this directory.
    pub async fn rename_at(
        &self,
        old_name: impl AsRef<[u8]>,
        new_dir: &Dir,
        new_name: impl AsRef<[u8]>,
    ) -> Result<()> {
        let (old_name, new_name) = (old_name.as_ref(), new_name.as_ref());
        check_name(old_name)?;
        check_name(new_name)?;
        self.client().run(op::RenameAt { dir: self, old_name, new_dir, new_name }).await
    }

    /// readlinkat(2): the raw target of child symlink `name`.
    pub async fn read_link_at(&self, name: impl AsRef<[u8]>) -> Result<Bytes> {
        let name = name.as_ref();
        check_name(name)?;
        self.client().run(op::ReadLinkAt { dir: self, name }).await
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

#[cfg(test)]
mod tests {
    use super::CookieWatch;

    /// Feeds the cookie sequence `next(cookie)` from 0; the step at which
    /// the watch objects, if it does within `limit` steps.
    fn caught(next: impl Fn(u64) -> u64, limit: usize) -> Option<usize> {
        let mut w = CookieWatch::default();
        let mut cookie = 0;
        for step in 0..limit {
            let n = next(cookie);
            if w.step(cookie, n).is_err() {
                return Some(step);
            }
            cookie = n;
        }
        None
    }

    #[test]
    fn advancing_cookies_pass() {
        assert_eq!(caught(|c| c + 1, 100_000), None);
        // hash-ordered, not monotonic, never repeating
        assert_eq!(caught(|c| c.wrapping_mul(6364136223846793005).wrapping_add(1), 100_000), None);
    }

    #[test]
    fn a_cookie_that_stays_is_caught_at_once() {
        assert_eq!(caught(|c| c, 10), Some(0));
        assert_eq!(caught(|c| if c < 5 { c + 1 } else { c }, 100), Some(5));
    }

    #[test]
    fn cycles_of_any_length_are_caught_within_a_few_laps() {
        for lead in [0u64, 1, 7, 100] {
            for len in [2u64, 3, 5, 64, 1000] {
                // lead-in of `lead` cookies, then a cycle of `len`
                let next = |c: u64| if c + 1 < lead + len { c + 1 } else { lead };
                let at = caught(next, 100_000).expect("a cycle is caught");
                assert!(at as u64 <= 4 * (lead + len) + 2, "lead {lead} len {len}: step {at}");
            }
        }
    }
}
