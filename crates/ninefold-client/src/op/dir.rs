//! Operations on an open [`Dir`]: its listing, its own metadata, and the
//! openat-style calls on its children.

use bytes::Bytes;
use ninefold_proto::UnlinkatFlags;

use super::{access_flags, child_path, Cx, On, Op};
use crate::dir::Dir;
use crate::error::{Error, Result};
use crate::file::File;
use crate::options::{NodeKind, OpenOptions, SetAttrs};
use crate::types::{DirEntry, Metadata};

/// `Dir::next_batch`: the cursor's next entries (the listing step lives
/// with the cursor, in `dir.rs`).
pub(crate) struct NextBatch<'a> {
    pub(crate) dir: &'a Dir,
    pub(crate) max: Option<usize>,
}

impl Op for NextBatch<'_> {
    type Output = Vec<DirEntry>;
    const NAME: &'static str = "next_batch";
    fn mutates(&self) -> bool {
        false
    }
    fn on(&self) -> On<'_> {
        On::Dir(self.dir)
    }
    async fn plan(&self, cx: &Cx<'_>) -> Result<Vec<DirEntry>> {
        self.dir.list(&cx.session, cx.fid()?, self.max).await
    }
}

/// `Dir::metadata`.
pub(crate) struct DirStat<'a> {
    pub(crate) dir: &'a Dir,
}

impl Op for DirStat<'_> {
    type Output = Metadata;
    const NAME: &'static str = "dir_metadata";
    fn mutates(&self) -> bool {
        false
    }
    fn on(&self) -> On<'_> {
        On::Dir(self.dir)
    }
    async fn plan(&self, cx: &Cx<'_>) -> Result<Metadata> {
        cx.getattr(cx.fid()?).await
    }
}

/// `Dir::set_attr`.
pub(crate) struct DirSetAttr<'a> {
    pub(crate) dir: &'a Dir,
    pub(crate) attrs: SetAttrs,
}

impl Op for DirSetAttr<'_> {
    type Output = Metadata;
    const NAME: &'static str = "dir_set_attr";
    fn mutates(&self) -> bool {
        !self.attrs.is_empty()
    }
    fn on(&self) -> On<'_> {
        On::Dir(self.dir)
    }
    async fn plan(&self, cx: &Cx<'_>) -> Result<Metadata> {
        cx.setattr(cx.fid()?, self.attrs).await
    }
}

/// `Dir::open_at` (openat(2), never following a symlink).
pub(crate) struct OpenAt<'a> {
    pub(crate) dir: &'a Dir,
    pub(crate) name: &'a [u8],
    pub(crate) opts: &'a OpenOptions,
}

impl Op for OpenAt<'_> {
    type Output = File;
    const NAME: &'static str = "open_at";
    fn mutates(&self) -> bool {
        self.opts.create || self.opts.create_new || (self.opts.truncate && self.opts.write)
    }
    fn on(&self) -> On<'_> {
        On::Dir(self.dir)
    }
    async fn plan(&self, cx: &Cx<'_>) -> Result<File> {
        let (fid, name, opts) = (cx.fid()?, self.name, self.opts);
        let dpath = self.dir.path();
        let flags = access_flags(opts)?;
        if opts.create_new {
            return cx.create_in(fid, name, dpath, flags, opts, true).await;
        }
        match cx.session.walk(fid, &[name]).await {
            Ok((child, qids)) => {
                let qid = qids.last().copied();
                if qid.is_some_and(|q| q.is_symlink()) {
                    return Err(Error::TooManySymlinks);
                }
                cx.open_fid(child, qid, child_path(dpath, name), flags, opts).await
            }
            Err(Error::NotFound) if opts.create => {
                cx.create_in(fid, name, dpath, flags, opts, false).await
            }
            Err(e) => Err(e),
        }
    }
}

/// `Dir::open_dir_at`.
pub(crate) struct OpenDirAt<'a> {
    pub(crate) dir: &'a Dir,
    pub(crate) name: &'a [u8],
}

impl Op for OpenDirAt<'_> {
    type Output = Dir;
    const NAME: &'static str = "open_dir_at";
    fn mutates(&self) -> bool {
        false
    }
    fn on(&self) -> On<'_> {
        On::Dir(self.dir)
    }
    async fn plan(&self, cx: &Cx<'_>) -> Result<Dir> {
        cx.open_dir_fid(cx.fid()?, self.name, self.dir.path()).await
    }
}

/// `Dir::metadata_at` (fstatat(2), never following a symlink).
pub(crate) struct StatAt<'a> {
    pub(crate) dir: &'a Dir,
    pub(crate) name: &'a [u8],
}

impl Op for StatAt<'_> {
    type Output = Metadata;
    const NAME: &'static str = "metadata_at";
    fn mutates(&self) -> bool {
        false
    }
    fn on(&self) -> On<'_> {
        On::Dir(self.dir)
    }
    async fn plan(&self, cx: &Cx<'_>) -> Result<Metadata> {
        cx.getattr_at(cx.fid()?, self.name).await
    }
}

/// `Dir::set_attr_at`.
pub(crate) struct SetAttrAt<'a> {
    pub(crate) dir: &'a Dir,
    pub(crate) name: &'a [u8],
    pub(crate) attrs: SetAttrs,
}

impl Op for SetAttrAt<'_> {
    type Output = Metadata;
    const NAME: &'static str = "set_attr_at";
    fn mutates(&self) -> bool {
        !self.attrs.is_empty()
    }
    fn on(&self) -> On<'_> {
        On::Dir(self.dir)
    }
    async fn plan(&self, cx: &Cx<'_>) -> Result<Metadata> {
        let (child, _) = cx.session.walk(cx.fid()?, &[self.name]).await?;
        cx.setattr(&child, self.attrs).await
    }
}

/// `Dir::create_dir_at` (mkdirat(2)).
pub(crate) struct MkdirAt<'a> {
    pub(crate) dir: &'a Dir,
    pub(crate) name: &'a [u8],
    pub(crate) mode: u32,
}

impl Op for MkdirAt<'_> {
    type Output = Metadata;
    const NAME: &'static str = "create_dir_at";
    fn mutates(&self) -> bool {
        true
    }
    fn on(&self) -> On<'_> {
        On::Dir(self.dir)
    }
    async fn plan(&self, cx: &Cx<'_>) -> Result<Metadata> {
        cx.mkdir_in(cx.fid()?, self.name, self.mode).await
    }
}

/// `Dir::symlink_at` (symlinkat(2)).
pub(crate) struct SymlinkAt<'a> {
    pub(crate) dir: &'a Dir,
    pub(crate) name: &'a [u8],
    pub(crate) target: &'a [u8],
}

impl Op for SymlinkAt<'_> {
    type Output = Metadata;
    const NAME: &'static str = "symlink_at";
    fn mutates(&self) -> bool {
        true
    }
    fn on(&self) -> On<'_> {
        On::Dir(self.dir)
    }
    async fn plan(&self, cx: &Cx<'_>) -> Result<Metadata> {
        cx.symlink_in(cx.fid()?, self.name, self.target).await
    }
}

/// `Dir::link_at` (linkat(2)): `new_name` in `dir` for `original_name` in
/// `original_dir`.
pub(crate) struct LinkAt<'a> {
    pub(crate) dir: &'a Dir,
    pub(crate) original_dir: &'a Dir,
    pub(crate) original_name: &'a [u8],
    pub(crate) new_name: &'a [u8],
}

impl Op for LinkAt<'_> {
    type Output = Metadata;
    const NAME: &'static str = "link_at";
    fn mutates(&self) -> bool {
        true
    }
    fn on(&self) -> On<'_> {
        On::Dirs(self.dir, self.original_dir)
    }
    async fn plan(&self, cx: &Cx<'_>) -> Result<Metadata> {
        let (target, _) = cx.session.walk(cx.fid2()?, &[self.original_name]).await?;
        cx.link_in(cx.fid()?, &target, self.new_name).await
    }
}

/// `Dir::mknod_at` (mknodat(2)).
pub(crate) struct MknodAt<'a> {
    pub(crate) dir: &'a Dir,
    pub(crate) name: &'a [u8],
    pub(crate) kind: NodeKind,
    pub(crate) mode: u32,
}

impl Op for MknodAt<'_> {
    type Output = Metadata;
    const NAME: &'static str = "mknod_at";
    fn mutates(&self) -> bool {
        true
    }
    fn on(&self) -> On<'_> {
        On::Dir(self.dir)
    }
    async fn plan(&self, cx: &Cx<'_>) -> Result<Metadata> {
        cx.mknod_in(cx.fid()?, self.name, self.kind, self.mode).await
    }
}

/// `Dir::remove_file_at` (no flags) and `remove_dir_at` (`REMOVEDIR`).
pub(crate) struct UnlinkAt<'a> {
    pub(crate) dir: &'a Dir,
    pub(crate) name: &'a [u8],
    pub(crate) flags: UnlinkatFlags,
}

impl Op for UnlinkAt<'_> {
    type Output = ();
    const NAME: &'static str = "unlink_at";
    fn mutates(&self) -> bool {
        true
    }
    fn on(&self) -> On<'_> {
        On::Dir(self.dir)
    }
    async fn plan(&self, cx: &Cx<'_>) -> Result<()> {
        cx.unlink_in(cx.fid()?, self.name, self.flags).await
    }
}

/// `Dir::rename_at` (renameat(2)); `new_dir` may be `dir`.
pub(crate) struct RenameAt<'a> {
    pub(crate) dir: &'a Dir,
    pub(crate) old_name: &'a [u8],
    pub(crate) new_dir: &'a Dir,
    pub(crate) new_name: &'a [u8],
}

impl Op for RenameAt<'_> {
    type Output = ();
    const NAME: &'static str = "rename_at";
    fn mutates(&self) -> bool {
        true
    }
    fn on(&self) -> On<'_> {
        On::Dirs(self.dir, self.new_dir)
    }
    async fn plan(&self, cx: &Cx<'_>) -> Result<()> {
        cx.rename_in(cx.fid()?, self.old_name, cx.fid2()?, self.new_name).await
    }
}

/// `Dir::read_link_at` (readlinkat(2)).
pub(crate) struct ReadLinkAt<'a> {
    pub(crate) dir: &'a Dir,
    pub(crate) name: &'a [u8],
}

impl Op for ReadLinkAt<'_> {
    type Output = Bytes;
    const NAME: &'static str = "read_link_at";
    fn mutates(&self) -> bool {
        false
    }
    fn on(&self) -> On<'_> {
        On::Dir(self.dir)
    }
    async fn plan(&self, cx: &Cx<'_>) -> Result<Bytes> {
        let (child, _) = cx.session.walk(cx.fid()?, &[self.name]).await?;
        super::plan9::readlink_any(&cx.session, &child).await
    }
}
