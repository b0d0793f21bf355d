//! Operations on paths from the attach root ([`Client`](crate::Client)'s
//! path API). One struct per operation; its plan is the plain 9P2000.L
//! composition.

use std::path::Path;

use bytes::Bytes;
use ninefold_proto::{OpenFlags, UnlinkatFlags};

use super::file::{read_chunk, read_span, read_span_after, read_to_end, LenFrom};
use super::{access_flags, Cx, Op};
use crate::dir::Dir;
use crate::error::{Error, Result};
use crate::file::File;
use crate::options::{NodeKind, OpenOptions, SetAttrs};
use crate::path;
use crate::types::{Metadata, StatFs};

/// `stat` (`follow` false) and `metadata` (`follow` true).
pub(crate) struct Stat<'a> {
    pub(crate) path: &'a Path,
    pub(crate) follow: bool,
}

impl Op for Stat<'_> {
    type Output = Metadata;
    const NAME: &'static str = "stat";
    fn mutates(&self) -> bool {
        false
    }
    async fn plan(&self, cx: &Cx<'_>) -> Result<Metadata> {
        let r = cx.resolve(self.path, self.follow).await?;
        cx.meta_of(&r).await
    }
}

/// `canonicalize`: the path with every symlink resolved.
pub(crate) struct Canonicalize<'a> {
    pub(crate) path: &'a Path,
}

impl Op for Canonicalize<'_> {
    type Output = Bytes;
    const NAME: &'static str = "canonicalize";
    fn mutates(&self) -> bool {
        false
    }
    async fn plan(&self, cx: &Cx<'_>) -> Result<Bytes> {
        let r = cx.resolve(self.path, true).await?;
        Ok(path::join(&r.names))
    }
}

/// `exists` (a final symlink is not followed).
pub(crate) struct Exists<'a> {
    pub(crate) path: &'a Path,
}

impl Op for Exists<'_> {
    type Output = bool;
    const NAME: &'static str = "exists";
    fn mutates(&self) -> bool {
        false
    }
    async fn plan(&self, cx: &Cx<'_>) -> Result<bool> {
        match cx.resolve(self.path, false).await {
            Ok(_) => Ok(true),
            Err(Error::NotFound) | Err(Error::NotADirectory) => Ok(false),
            Err(e) => Err(e),
        }
    }
}

/// `set_attr` (and `chmod`, `chown`, `truncate`, `set_times`).
pub(crate) struct SetAttr<'a> {
    pub(crate) path: &'a Path,
    pub(crate) attrs: SetAttrs,
}

impl Op for SetAttr<'_> {
    type Output = Metadata;
    const NAME: &'static str = "set_attr";
    fn mutates(&self) -> bool {
        !self.attrs.is_empty()
    }
    async fn plan(&self, cx: &Cx<'_>) -> Result<Metadata> {
        let r = cx.resolve(self.path, false).await?;
        cx.setattr(&r.fid, self.attrs).await
    }
}

/// `statfs` of the attach root.
pub(crate) struct Statfs;

impl Op for Statfs {
    type Output = StatFs;
    const NAME: &'static str = "statfs";
    fn mutates(&self) -> bool {
        false
    }
    async fn plan(&self, cx: &Cx<'_>) -> Result<StatFs> {
        if cx.plan9() {
            return Err(Error::unsupported("statfs", cx.dialect()));
        }
        Ok(cx.session.statfs(cx.root()?).await?.into())
    }
}

/// `sync` on `9P2000.L.Z`: Tfsyncdur of the attach root with filesystem
/// scope, checked against the lineage of the oldest unsynced write.
pub(crate) struct SyncFs {
    pub(crate) token: u64,
}

impl Op for SyncFs {
    type Output = ();
    const NAME: &'static str = "sync";
    fn mutates(&self) -> bool {
        false
    }
    async fn plan(&self, cx: &Cx<'_>) -> Result<()> {
        let flags = ninefold_proto::FsyncdurFlags::empty();
        match cx.session.fsyncdur(cx.root()?, flags, self.token).await {
            Err(Error::Stale(_)) => Err(Error::Stale(
                "the server's durability lineage changed: writes acknowledged before may be lost"
                    .into(),
            )),
            other => other,
        }
    }
}

/// The last step of `sync` on plain dialects: fsync of the attach root
/// directory (Twstat sync request on 9P2000/.u).
pub(crate) struct SyncRoot;

impl Op for SyncRoot {
    type Output = ();
    const NAME: &'static str = "sync_root";
    fn mutates(&self) -> bool {
        false
    }
    async fn plan(&self, cx: &Cx<'_>) -> Result<()> {
        let s = &cx.session;
        let (fid, _) = s.walk::<&[u8]>(cx.root()?, &[]).await?;
        if cx.plan9() {
            return cx.sync9(&fid).await;
        }
        s.lopen(&fid, OpenFlags::RDONLY | OpenFlags::DIRECTORY).await?;
        s.fsync(&fid, false).await
    }
}

/// `create_dir`: Tmkdir in the parent, then the new directory's metadata.
pub(crate) struct Mkdir<'a> {
    pub(crate) path: &'a Path,
    pub(crate) mode: u32,
}

impl Op for Mkdir<'_> {
    type Output = Metadata;
    const NAME: &'static str = "create_dir";
    fn mutates(&self) -> bool {
        true
    }
    async fn plan(&self, cx: &Cx<'_>) -> Result<Metadata> {
        let (dir, name) = cx.parent(self.path).await?;
        cx.mkdir_in(&dir, &name, self.mode).await
    }
}

/// `remove_file` (no flags) and `remove_dir` (`REMOVEDIR`).
pub(crate) struct Unlink<'a> {
    pub(crate) path: &'a Path,
    pub(crate) flags: UnlinkatFlags,
}

impl Op for Unlink<'_> {
    type Output = ();
    const NAME: &'static str = "unlink";
    fn mutates(&self) -> bool {
        true
    }
    async fn plan(&self, cx: &Cx<'_>) -> Result<()> {
        let (dir, name) = cx.parent(self.path).await?;
        cx.unlink_in(&dir, &name, self.flags).await
    }
}

/// The directory at `path` as a handle, its final component not
/// followed (the first step of `remove_dir_all`, which refuses the root).
pub(crate) struct OpenChildDir<'a> {
    pub(crate) path: &'a Path,
}

impl Op for OpenChildDir<'_> {
    type Output = Dir;
    const NAME: &'static str = "open_child_dir";
    fn mutates(&self) -> bool {
        false
    }
    async fn plan(&self, cx: &Cx<'_>) -> Result<Dir> {
        let (parent, name, pnames) = cx.parent_full(self.path).await?;
        cx.open_dir_fid(&parent, &name, &pnames).await
    }
}

/// `rename`: both parents walked, then Trenameat.
pub(crate) struct Rename<'a> {
    pub(crate) from: &'a Path,
    pub(crate) to: &'a Path,
}

impl Op for Rename<'_> {
    type Output = ();
    const NAME: &'static str = "rename";
    fn mutates(&self) -> bool {
        true
    }
    async fn plan(&self, cx: &Cx<'_>) -> Result<()> {
        let (odir, oname) = cx.parent(self.from).await?;
        let (ndir, nname) = cx.parent(self.to).await?;
        cx.rename_in(&odir, &oname, &ndir, &nname).await
    }
}

/// `hard_link`: Tlink of `original` into the parent of `link`.
pub(crate) struct HardLink<'a> {
    pub(crate) original: &'a Path,
    pub(crate) link: &'a Path,
}

impl Op for HardLink<'_> {
    type Output = Metadata;
    const NAME: &'static str = "hard_link";
    fn mutates(&self) -> bool {
        true
    }
    async fn plan(&self, cx: &Cx<'_>) -> Result<Metadata> {
        let target = cx.resolve(self.original, false).await?;
        let (dir, name) = cx.parent(self.link).await?;
        cx.link_in(&dir, &target.fid, &name).await
    }
}

/// `symlink`: Tsymlink with the target stored verbatim.
pub(crate) struct Symlink<'a> {
    pub(crate) target: &'a [u8],
    pub(crate) link_path: &'a Path,
}

impl Op for Symlink<'_> {
    type Output = Metadata;
    const NAME: &'static str = "symlink";
    fn mutates(&self) -> bool {
        true
    }
    async fn plan(&self, cx: &Cx<'_>) -> Result<Metadata> {
        let (dir, name) = cx.parent(self.link_path).await?;
        cx.symlink_in(&dir, &name, self.target).await
    }
}

/// `read_link`: the raw target.
pub(crate) struct ReadLink<'a> {
    pub(crate) path: &'a Path,
}

impl Op for ReadLink<'_> {
    type Output = Bytes;
    const NAME: &'static str = "read_link";
    fn mutates(&self) -> bool {
        false
    }
    async fn plan(&self, cx: &Cx<'_>) -> Result<Bytes> {
        let r = cx.resolve(self.path, false).await?;
        super::plan9::readlink_any(&cx.session, &r.fid).await
    }
}

/// `mknod`: a FIFO, socket or device node.
pub(crate) struct Mknod<'a> {
    pub(crate) path: &'a Path,
    pub(crate) kind: NodeKind,
    pub(crate) mode: u32,
}

impl Op for Mknod<'_> {
    type Output = Metadata;
    const NAME: &'static str = "mknod";
    fn mutates(&self) -> bool {
        true
    }
    async fn plan(&self, cx: &Cx<'_>) -> Result<Metadata> {
        let (dir, name) = cx.parent(self.path).await?;
        cx.mknod_in(&dir, &name, self.kind, self.mode).await
    }
}

/// `open_dir`: a directory handle (symlinks followed).
pub(crate) struct OpenDir<'a> {
    pub(crate) path: &'a Path,
}

impl Op for OpenDir<'_> {
    type Output = Dir;
    const NAME: &'static str = "open_dir";
    fn mutates(&self) -> bool {
        false
    }
    async fn plan(&self, cx: &Cx<'_>) -> Result<Dir> {
        let r = cx.resolve(self.path, true).await?;
        if r.qid.is_some_and(|q| !q.is_dir()) {
            return Err(Error::NotADirectory);
        }
        let ino = r.qid.map_or_else(|| cx.root_ino(), |q| q.path);
        Ok(Dir::new(cx.client.clone(), r.fid, r.names, ino))
    }
}

/// What one round of `open` ended in.
pub(crate) enum Opened {
    /// The open file.
    File(File),
    /// The file was missing, and another creator made it between the walk
    /// and the (non-exclusive) create: the caller starts a new round, a new
    /// logical operation.
    Raced,
}

/// One round of `open`: walk and open, or create (`create`, `create_new`).
pub(crate) struct Open<'a> {
    pub(crate) path: &'a Path,
    pub(crate) opts: &'a OpenOptions,
}

impl Op for Open<'_> {
    type Output = Opened;
    const NAME: &'static str = "open";
    fn mutates(&self) -> bool {
        self.opts.create || self.opts.create_new || (self.opts.truncate && self.opts.write)
    }
    async fn plan(&self, cx: &Cx<'_>) -> Result<Opened> {
        let (path, opts) = (self.path, self.opts);
        let flags = access_flags(opts)?;
        if opts.create_new {
            let (dir, name, dnames) = cx.parent_full(path).await?;
            return cx.create_in(&dir, &name, &dnames, flags, opts, true).await.map(Opened::File);
        }
        match cx.resolve(path, true).await {
            Ok(r) => cx.open_fid(r.fid, r.qid, r.names, flags, opts).await.map(Opened::File),
            Err(Error::NotFound) if opts.create => {
                let (dir, name, dnames) = cx.parent_full(path).await?;
                match cx.create_in(&dir, &name, &dnames, flags, opts, false).await {
                    Err(Error::AlreadyExists) => Ok(Opened::Raced),
                    other => other.map(Opened::File),
                }
            }
            Err(e) => Err(e),
        }
    }
}

/// `read`: the whole file. The size the server reports only decides how
/// much is asked for; buffers grow by what actually arrives.
pub(crate) struct ReadWhole<'a> {
    pub(crate) path: &'a Path,
}

impl Op for ReadWhole<'_> {
    type Output = Bytes;
    const NAME: &'static str = "read";
    fn mutates(&self) -> bool {
        false
    }
    async fn plan(&self, cx: &Cx<'_>) -> Result<Bytes> {
        let s = &cx.session;
        let r = cx.resolve(self.path, true).await?;
        if cx.z() {
            return read_whole_z(cx, &r).await;
        }
        let (iounit, size) = if cx.plan9() {
            let (_, iounit) = super::plan9::open(s, &r.fid, OpenFlags::RDONLY).await?;
            (iounit, cx.getattr(&r.fid).await?.size)
        } else {
            let (_qid, iounit) = s.lopen(&r.fid, OpenFlags::RDONLY).await?;
            (iounit, cx.getattr(&r.fid).await?.size)
        };
        let chunk = read_chunk(s, iounit);
        read_to_end(s, &r.fid, 0, Bytes::new(), size, chunk).await
    }
}

/// `read_range`: up to `len` bytes at `offset`.
pub(crate) struct ReadRange<'a> {
    pub(crate) path: &'a Path,
    pub(crate) offset: u64,
    pub(crate) len: usize,
}

impl Op for ReadRange<'_> {
    type Output = Bytes;
    const NAME: &'static str = "read_range";
    fn mutates(&self) -> bool {
        false
    }
    async fn plan(&self, cx: &Cx<'_>) -> Result<Bytes> {
        let s = &cx.session;
        let r = cx.resolve(self.path, true).await?;
        let max = ninefold_proto::sizes::max_lopenatread_payload(s.msize()) as usize;
        if cx.z() && self.offset == 0 && self.len <= max {
            // Open and read in one round trip.
            let o = s.lopenatread(&r.fid, OpenFlags::RDONLY, self.len as u32).await?;
            if o.data.len() == self.len || trusted_eof(&o, r.attr.as_ref()) {
                return Ok(o.data);
            }
            let chunk = read_chunk(s, o.iounit);
            return read_span_after(s, &o.fid, 0, o.data, self.len, chunk).await;
        }
        let iounit = if cx.plan9() {
            super::plan9::open(s, &r.fid, OpenFlags::RDONLY).await?.1
        } else {
            s.lopen(&r.fid, OpenFlags::RDONLY).await?.1
        };
        let chunk = read_chunk(s, iounit);
        read_span(s, &r.fid, self.offset, self.len, chunk, LenFrom::Caller).await
    }
}

/// `read` on `9P2000.L.Z`: the walk returned the size; Tlopenatread opens
/// and reads up to one frame in the same round trip (`eof`: that was the
/// whole file), and Treads continue on the new fid until an empty read.
async fn read_whole_z(cx: &Cx<'_>, r: &crate::path::Resolved) -> Result<Bytes> {
    let s = &cx.session;
    let max = ninefold_proto::sizes::max_lopenatread_payload(s.msize());
    let size = r.attr.as_ref().map_or(u64::from(max), |a| a.size);
    // One byte more than the size, so a file of exactly that size ends
    // with a short read.
    let count = u32::try_from(size.saturating_add(1)).unwrap_or(u32::MAX).min(max);
    let o = s.lopenatread(&r.fid, OpenFlags::RDONLY, count).await?;
    if trusted_eof(&o, r.attr.as_ref()) {
        return Ok(o.data);
    }
    let chunk = read_chunk(s, o.iounit);
    // Only a size the walk reported guides the buffer; without one it
    // grows by what arrives.
    let size = r.attr.as_ref().map_or(0, |a| a.size);
    read_to_end(s, &o.fid, 0, o.data, size, chunk).await
}

/// Whether Rlopenatread's `eof` can end the read: only when the data
/// covers the size the walk reported. A server may answer a short read
/// before the end (a proxy, a synthetic file) and flag it as the end;
/// then the client reads on until an empty Rread, as everywhere else.
fn trusted_eof(o: &crate::session::OpenedRead, attr: Option<&ninefold_proto::l::Attr>) -> bool {
    o.eof && attr.is_some_and(|a| o.data.len() as u64 >= a.size)
}
