//! Directories: opendir, readdir and readdirplus.
//!
//! Each open directory keeps the last listing block it read, so the
//! kernel's successive small readdir calls (a page or so each) are served
//! from one Treaddir of [`READDIR_COUNT`] bytes.
//!
//! readdirplus hands the kernel each entry's attributes with its name,
//! so `ls -l` and `find` need no lookup per entry afterwards. Where the
//! listing already carries attributes ([`Listed::attr`] filled by the
//! listing call, which is where the `.Z` dialect's one-round-trip listing
//! plugs in) they are used as they are; otherwise the entries about to be
//! handed out are walked and stat'ed together, pipelined on the session,
//! a batch at a time. Attributes fetched for entries that did not fit in
//! the kernel's buffer stay with the block for the next call.

use std::sync::Arc;

use fuser::{FileAttr, FileType};
use futures_util::future::join_all;
use ninefold_client::proto::l::Attr;
use ninefold_client::proto::DirentType;
use ninefold_client::{Dialect, Errno, Error, Fid, GetattrMask, OpenFlags, Result};

use crate::core::{lock, to_file_attr, Core, Handle, Who};
use crate::inode::node_id;
use crate::prefetch::{self, Opened};
use crate::remote::{retry, Conn};

/// Bytes asked for per Treaddir.
pub(crate) const READDIR_COUNT: u32 = 64 * 1024;

/// Entries whose attributes are fetched together for readdirplus on
/// 9P2000.L: about what one kernel readdirplus buffer (a 4 KiB page,
/// ~150 bytes per entry) takes, so that the kernel's first call in a
/// directory under `READDIRPLUS_AUTO` (as a bare `find` makes) does not
/// stat entries it will then ask for without attributes.
const PLUS_BATCH: usize = 32;

/// Entries of a prefetched 9P2000.L directory stat'ed ahead: about what
/// the kernel's first readdirplus takes (its buffer is the caller's
/// getdents buffer, 32 KiB for glibc's readdir, ~160 bytes per entry).
const PREFETCH_STAT: usize = 256;

/// What is known of a listed entry beyond its name.
#[derive(Debug, Clone, Default)]
pub(crate) enum Known {
    /// Nothing yet.
    #[default]
    Unknown,
    /// Its attributes, and the fid walked to it when we walked one.
    Attr(Box<Attr>, Option<Arc<Fid>>),
    /// It went away between the listing and the stat: left out.
    Gone,
    /// It cannot be stat'ed by this user (a directory readable but not
    /// searchable): listed without attributes.
    Opaque,
}

/// One entry of a listing block.
#[derive(Debug, Clone)]
pub(crate) struct Listed {
    pub(crate) name: Vec<u8>,
    pub(crate) qpath: u64,
    pub(crate) ty: DirentType,
    /// The cookie of the next entry.
    pub(crate) offset: u64,
    pub(crate) known: Known,
}

impl Listed {
    fn is_dot(&self) -> bool {
        self.name == b"." || self.name == b".."
    }
}

/// The block an open directory read last, and the next one being read
/// ahead.
#[derive(Debug, Default)]
pub(crate) struct DirBuf {
    /// The cookie it was read at.
    at: Option<u64>,
    entries: Vec<Listed>,
    /// The block after it (or, after opendir, the first block), already
    /// requested: the kernel's next call is answered without a round trip.
    ahead: Option<Ahead>,
    /// The block at cookie 0 came with the open (read ahead or
    /// prefetched) and no readdir has used it yet.
    unread: bool,
}

/// A listing block requested before the kernel asked for it.
#[derive(Debug)]
pub(crate) struct Ahead {
    /// The cookie it is read at.
    at: u64,
    /// Whether its entries carry attributes (Treaddirattr on `.Z`).
    attrs: bool,
    task: tokio::task::JoinHandle<Result<Vec<Listed>>>,
}

impl Drop for Ahead {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl DirBuf {
    /// Index of the first entry after cookie `offset` when the buffered
    /// block holds it (`Some(len)` at the end of the listing).
    fn start(&self, offset: u64) -> Option<usize> {
        if offset == 0 {
            // The block read with the open serves the first readdir; a
            // rewinddir reads again.
            return (self.unread && self.at == Some(0)).then_some(0);
        }
        if self.at == Some(offset) {
            return Some(0);
        }
        let i = self.entries.iter().position(|e| e.offset == offset)? + 1;
        (i < self.entries.len()).then_some(i)
    }
}

/// One entry as the kernel gets it: node id (0: none), cookie, name,
/// kind, and attributes for readdirplus.
pub(crate) struct Out<'a> {
    pub(crate) ino: u64,
    pub(crate) offset: u64,
    pub(crate) name: &'a [u8],
    pub(crate) kind: FileType,
    pub(crate) attr: Option<FileAttr>,
}

fn kind_of_dirent(t: DirentType) -> FileType {
    match t {
        DirentType::DIR => FileType::Directory,
        DirentType::LNK => FileType::Symlink,
        DirentType::FIFO => FileType::NamedPipe,
        DirentType::SOCK => FileType::Socket,
        DirentType::CHR => FileType::CharDevice,
        DirentType::BLK => FileType::BlockDevice,
        _ => FileType::RegularFile,
    }
}

/// A listing block from cookie `offset`: names, qids and cookies, with
/// attributes where the server sends them along.
///
/// For readdirplus (`plus`) on a `9P2000.L.Z` connection this is one
/// Treaddirattr: every entry of the block arrives with its attributes, so
/// a directory page costs one round trip instead of a walk and a Tgetattr
/// per entry. The server's Treaddirattr fails the whole block when one
/// entry cannot be stat'ed (a directory readable but not searchable): that
/// block is then read with a plain Treaddir and stat'ed entry by entry,
/// as on 9P2000.L, so the entries that can be stat'ed still are.
async fn list_block(c: &Conn, fid: &Fid, offset: u64, plus: bool) -> Result<Vec<Listed>> {
    if plus && c.session.dialect() == Dialect::Z {
        match c.session.readdirattr(fid, offset, READDIR_COUNT).await {
            Ok(block) => {
                return Ok(block
                    .iter()
                    .map(|d| Listed {
                        name: d.name.as_bytes().to_vec(),
                        qpath: d.qid.path,
                        ty: d.ty,
                        offset: d.offset,
                        known: Known::Attr(Box::new(d.attr), None),
                    })
                    .collect())
            }
            Err(e) if e.is_disconnected() => return Err(e),
            Err(e) => tracing::debug!(error = %e, "Treaddirattr failed; plain Treaddir"),
        }
    }
    let block = c.session.readdir(fid, offset, READDIR_COUNT).await?;
    Ok(block
        .iter()
        .map(|d| Listed {
            name: d.name.as_bytes().to_vec(),
            qpath: d.qid.path,
            ty: d.ty,
            offset: d.offset,
            known: Known::Unknown,
        })
        .collect())
}

/// Requests the block at cookie `at` in the background.
fn read_ahead(c: Arc<Conn>, fid: Arc<Fid>, at: u64, plus: bool) -> Ahead {
    let attrs = plus && c.session.dialect() == Dialect::Z;
    let task = tokio::spawn(async move { list_block(&c, &fid, at, plus).await });
    Ahead { at, attrs, task }
}

impl Core {
    /// Opens directory `id` and requests its first listing block at once
    /// (a readdir follows every opendir), so the kernel's first readdir
    /// finds it arriving or arrived.
    ///
    /// A directory prefetched for a tree walker (see prefetch.rs) is
    /// opened and read already; opening one may start the prefetch of its
    /// next siblings.
    pub(crate) async fn opendir(self: &Arc<Self>, who: Who, id: u64) -> Result<u64> {
        let fh = match self.prefetched(id, who.uid).await {
            Some(o) => {
                tracing::trace!(id, "opendir: prefetched");
                let fh = self.add_handle_shared(id, who.uid, OpenFlags::RDONLY, o.fid);
                if let Ok(h) = self.handle(fh) {
                    self.note_block(&h, 0, &o.first);
                    if let Ok(mut buf) = h.dir.try_lock() {
                        *buf =
                            DirBuf { at: Some(0), entries: o.first, ahead: o.next, unread: true };
                    }
                }
                fh
            }
            None => {
                let (fid, c) = retry!(self.remote, |c| async {
                    let fid = self.open_fid(&c, id, who.uid, OpenFlags::RDONLY).await?;
                    Ok((fid, c.clone()))
                })?;
                let fid = Arc::new(fid);
                let ahead = read_ahead(c, fid.clone(), 0, self.plus_listing());
                let fh = self.add_handle_shared(id, who.uid, OpenFlags::RDONLY, fid);
                if let Ok(h) = self.handle(fh) {
                    if let Ok(mut buf) = h.dir.try_lock() {
                        buf.ahead = Some(ahead);
                    }
                }
                fh
            }
        };
        self.prefetch_after(id, who.uid);
        Ok(fh)
    }

    /// The prefetch of directory `id` for `uid`, when there is a usable
    /// one (same connection, fresh, no change through the mount since).
    async fn prefetched(&self, id: u64, uid: u32) -> Option<Opened> {
        let age = prefetch::max_age(self.ttl());
        if age.is_zero() {
            return None;
        }
        let (taken, gen) = self.pre.take(id, uid, age)?;
        let o = taken.result().await?;
        let current = self.remote.conn();
        (current.gen == o.conn.gen && !self.pre.changed_since(gen)).then_some(o)
    }

    /// Starts prefetching the siblings that follow directory `id` when
    /// its parent's subdirectories are being opened in order.
    fn prefetch_after(self: &Arc<Self>, id: u64, uid: u32) {
        if prefetch::max_age(self.ttl()).is_zero() {
            return;
        }
        let Some(parent) = self.table.lock().nodes.get(&id).map(|n| n.parent) else { return };
        for next in self.pre.opened(parent, id, uid) {
            let core = self.clone();
            let plus = self.plus_listing();
            let gen = self.pre.gen();
            let stat = !plus && core.cache() != crate::options::CacheMode::Strict;
            let task = tokio::spawn(async move {
                let c = core.remote.conn();
                let fid = Arc::new(core.open_fid(&c, next, uid, OpenFlags::RDONLY).await?);
                let mut first = list_block(&c, &fid, 0, plus).await?;
                let ahead =
                    next_block(&first).map(|at| read_ahead(c.clone(), fid.clone(), at, plus));
                if stat {
                    // 9P2000.L: the kernel's first call is a readdirplus
                    // (READDIRPLUS_AUTO); its entries are stat'ed here
                    // already, as many as one kernel buffer holds.
                    let n = first.len().min(PREFETCH_STAT);
                    for part in first[..n].chunks_mut(PLUS_BATCH) {
                        core.stat_entries(uid, next, part).await?;
                    }
                }
                Ok(Opened { conn: c, fid, first, next: ahead })
            });
            self.pre.start(next, uid, gen, task);
        }
    }

    /// Records the subdirectories of a listing block of `h`'s directory
    /// read at cookie `offset`, for prefetching.
    fn note_block(&self, h: &Handle, offset: u64, entries: &[Listed]) {
        let root = self.table.root_qpath;
        let dirs = entries
            .iter()
            .filter(|e| e.ty == DirentType::DIR && !e.is_dot())
            .map(|e| node_id(e.qpath, root));
        self.pre.listed(h.ino, h.uid, offset == 0, dirs);
    }

    /// Whether the kernel will list with readdirplus (always on `.Z`
    /// outside `strict`; see `init` in fs.rs): read-ahead then asks for
    /// attributes too.
    fn plus_listing(&self) -> bool {
        self.cache() != crate::options::CacheMode::Strict
            && self.remote.conn().session.dialect() == Dialect::Z
    }

    /// Makes `buf` hold the entries after cookie `offset`; returns the
    /// index of the first one.
    async fn position(
        &self,
        h: &Handle,
        buf: &mut DirBuf,
        offset: u64,
        plus: bool,
    ) -> Result<usize> {
        if let Some(i) = buf.start(offset) {
            return Ok(i);
        }
        let mut got = None;
        if let Some(mut a) = buf.ahead.take() {
            // A block read ahead without attributes does not serve
            // readdirplus on `.Z` (one with them serves both). A failed
            // one is read again below, inside the reconnect loop.
            let z = self.remote.conn().session.dialect() == Dialect::Z;
            if a.at == offset && (a.attrs || !plus || !z) {
                if let Ok(Ok(entries)) = (&mut a.task).await {
                    got = Some(entries);
                }
            }
        }
        let (entries, ahead) = match got {
            Some(entries) => {
                let ahead = self.next_ahead(h, &entries, plus);
                (entries, ahead)
            }
            None => retry!(self.remote, |c| async {
                let fid = self.handle_fid(&c, h).await?;
                let entries = list_block(&c, &fid, offset, plus).await?;
                let ahead = next_block(&entries).map(|at| read_ahead(c.clone(), fid, at, plus));
                Ok((entries, ahead))
            })?,
        };
        self.note_block(h, offset, &entries);
        *buf = DirBuf { at: Some(offset), entries, ahead, unread: false };
        Ok(0)
    }

    /// The read-ahead of the block after `entries`, on the handle's
    /// current fid (none at the end of the listing or while the
    /// connection is being replaced).
    fn next_ahead(&self, h: &Handle, entries: &[Listed], plus: bool) -> Option<Ahead> {
        let at = next_block(entries)?;
        let c = self.remote.conn();
        let fid = lock(&h.fid).clone();
        c.session.owns(&fid).then(|| read_ahead(c, fid, at, plus))
    }

    /// readdir (`plus` false) or readdirplus from cookie `offset`: calls
    /// `add` per entry until it answers that the kernel's buffer is full.
    /// With `plus`, every entry handed out with a node id counts as a
    /// lookup of that node.
    pub(crate) async fn list(
        &self,
        who: Who,
        fh: u64,
        offset: u64,
        plus: bool,
        mut add: impl FnMut(Out<'_>) -> bool,
    ) -> Result<()> {
        let h = self.handle(fh)?;
        let root = self.table.root_qpath;
        let mut buf = h.dir.lock().await;
        let mut i = self.position(&h, &mut buf, offset, plus).await?;
        buf.unread = false;
        while i < buf.entries.len() {
            let end = (i + PLUS_BATCH).min(buf.entries.len());
            if plus {
                self.stat_entries(who.uid, h.ino, &mut buf.entries[i..end]).await?;
            }
            for e in &buf.entries[i..end] {
                let id = node_id(e.qpath, root);
                let mut out = Out {
                    ino: id,
                    offset: e.offset,
                    name: &e.name,
                    kind: kind_of_dirent(e.ty),
                    attr: None,
                };
                if plus {
                    match &e.known {
                        Known::Gone => continue,
                        Known::Attr(a, _) if !e.is_dot() => {
                            let id = node_id(a.qid.path, root);
                            out.ino = id;
                            out.attr = Some(to_file_attr(a, id));
                        }
                        _ => {
                            // `.`, `..` (the kernel takes no reference on
                            // them) and entries without attributes.
                            let mut a = dummy_attr(out.kind);
                            if !e.is_dot() {
                                out.ino = 0;
                            }
                            a.ino = fuser::INodeNo(out.ino);
                            out.attr = Some(a);
                        }
                    }
                }
                let counted = plus && out.ino != 0 && !e.is_dot();
                if add(out) {
                    return Ok(());
                }
                if counted {
                    if let Known::Attr(a, fid) = &e.known {
                        self.table.remember(h.ino, &e.name, a.qid.path, who.uid, fid.clone());
                    }
                }
            }
            i = end;
        }
        Ok(())
    }

    /// Fills in the attributes of `entries` that lack them: a walk and a
    /// Tgetattr per entry, all in flight at once.
    async fn stat_entries(&self, uid: u32, dir: u64, entries: &mut [Listed]) -> Result<()> {
        let root = self.table.root_qpath;
        for e in entries.iter_mut() {
            // Attributes of a file with queued writes are taken after them.
            if matches!(e.known, Known::Attr(..)) && self.behind.busy(node_id(e.qpath, root)) {
                e.known = Known::Unknown;
            }
        }
        let need: Vec<usize> = entries
            .iter()
            .enumerate()
            .filter(|(_, e)| matches!(e.known, Known::Unknown) && !e.is_dot())
            .map(|(i, _)| i)
            .collect();
        if need.is_empty() {
            return Ok(());
        }
        let found = retry!(self.remote, |c| async {
            let dfid = self.fid_of(&c, dir, uid).await?;
            let one = |name: Vec<u8>, qpath: u64| {
                let (c, dfid) = (&c, &dfid);
                async move {
                    self.behind.settle(node_id(qpath, root), None).await;
                    let (fid, _) = c.session.walk(dfid, &[&name]).await?;
                    let r = c.session.getattr(&fid, GetattrMask::BASIC).await?;
                    Ok::<_, Error>((r.attr, fid))
                }
            };
            let all =
                join_all(need.iter().map(|&i| one(entries[i].name.clone(), entries[i].qpath)))
                    .await;
            if let Some(Err(e)) = all.iter().find(|r| matches!(r, Err(e) if e.is_disconnected())) {
                return Err(e.clone());
            }
            Ok(all)
        })?;
        for (&i, r) in need.iter().zip(found) {
            entries[i].known = match r {
                Ok((attr, fid)) => Known::Attr(Box::new(attr), Some(Arc::new(fid))),
                Err(Error::NotFound) => Known::Gone,
                Err(Error::Io(e)) if e == Errno::ENOENT => Known::Gone,
                Err(_) => Known::Opaque,
            };
        }
        Ok(())
    }
}

/// The cookie of the block after `entries` (none after an empty block:
/// the end of the listing).
fn next_block(entries: &[Listed]) -> Option<u64> {
    entries.last().map(|e| e.offset)
}

/// Attributes for an entry the kernel will not keep (`.`, `..`, or one
/// that could not be stat'ed): only its type matters.
fn dummy_attr(kind: FileType) -> FileAttr {
    let t = std::time::UNIX_EPOCH;
    FileAttr {
        ino: fuser::INodeNo(0),
        size: 0,
        blocks: 0,
        atime: t,
        mtime: t,
        ctime: t,
        crtime: t,
        kind,
        perm: 0,
        nlink: 1,
        uid: 0,
        gid: 0,
        rdev: 0,
        blksize: 4096,
        flags: 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn e(name: &str, offset: u64) -> Listed {
        Listed {
            name: name.as_bytes().to_vec(),
            qpath: offset + 100,
            ty: DirentType::REG,
            offset,
            known: Known::Unknown,
        }
    }

    #[test]
    fn buffered_block_serves_follow_up_offsets() {
        let mut buf = DirBuf {
            at: Some(5),
            entries: vec![e("a", 10), e("b", 20), e("c", 30)],
            ahead: None,
            unread: false,
        };
        assert_eq!(buf.start(0), None, "offset 0 always reads again");
        assert_eq!(buf.start(5), Some(0));
        assert_eq!(buf.start(10), Some(1));
        assert_eq!(buf.start(20), Some(2));
        assert_eq!(buf.start(30), None, "past the block: read from its last cookie");
        assert_eq!(buf.start(99), None);
        let end = DirBuf { at: Some(30), entries: vec![], ahead: None, unread: false };
        assert_eq!(end.start(30), Some(0), "an empty block is the end");
        buf.at = Some(0);
        buf.unread = true;
        assert_eq!(buf.start(0), Some(0), "the block read with the open serves the first call");
        buf.unread = false;
        assert_eq!(buf.start(0), None, "a rewinddir reads again");
    }
}
