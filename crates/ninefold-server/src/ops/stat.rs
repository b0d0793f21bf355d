//! 9P2000/.u Tstat and Twstat, and directory reads as stat records, all
//! mapped onto getattr/setattr/rename/fsync/readdir.

use std::sync::Arc;

use bytes::{Bytes, BytesMut};
use ninefold_proto::base::Stat;
use ninefold_proto::l::{Attr, SetAttr};
use ninefold_proto::{base, DirMode, Errno, GetattrMask, P9String, SetattrMask, NONUNAME};
use ninefold_proto::{S_IFBLK, S_IFCHR, S_IFDIR, S_IFIFO, S_IFLNK, S_IFMT, S_IFSOCK};

use super::open::unix_perm;
use super::Ctx;
use super::OpResult;
use crate::fid::{Fid, FidMode};
use crate::fs::{DirSink, Node, Request};

/// The 9P2000 mode word of a Unix mode.
fn dir_mode(mode: u32, dotu: bool) -> DirMode {
    let mut m = DirMode::from_bits_retain(mode & 0o777);
    match mode & S_IFMT {
        S_IFDIR => m |= DirMode::DIR,
        S_IFLNK if dotu => m |= DirMode::SYMLINK,
        S_IFBLK | S_IFCHR if dotu => m |= DirMode::DEVICE,
        S_IFIFO if dotu => m |= DirMode::NAMEDPIPE,
        S_IFSOCK if dotu => m |= DirMode::SOCKET,
        _ => {}
    }
    if dotu {
        if mode & 0o4000 != 0 {
            m |= DirMode::SETUID;
        }
        if mode & 0o2000 != 0 {
            m |= DirMode::SETGID;
        }
        if mode & 0o1000 != 0 {
            m |= DirMode::SETVTX;
        }
    }
    m
}

/// The stat record of `node`, called `name`.
pub(crate) async fn stat_of(req: &Request, node: &dyn Node, name: &[u8]) -> Result<Stat, Errno> {
    let attr: Attr = node.getattr(req, GetattrMask::ALL).await?;
    let dotu = req.dialect().has_unix_fields();
    let extension: P9String = if !dotu {
        P9String::new()
    } else {
        match attr.mode & S_IFMT {
            S_IFLNK => node.readlink(req).await.map(P9String::from).unwrap_or_default(),
            S_IFBLK | S_IFCHR => {
                let kind = if attr.mode & S_IFMT == S_IFBLK { 'b' } else { 'c' };
                let (major, minor) = split_dev(attr.rdev);
                format!("{kind} {major} {minor}").into()
            }
            // Where the Linux .u client reads the link count of other
            // files (as QEMU's server sends it).
            _ => format!("HARDLINKCOUNT {}", attr.nlink).into(),
        }
    };
    let is_dir = attr.mode & S_IFMT == S_IFDIR;
    Ok(Stat {
        ty: 0,
        dev: 0,
        qid: attr.qid,
        mode: dir_mode(attr.mode, dotu),
        atime: attr.atime_sec as u32,
        mtime: attr.mtime_sec as u32,
        length: if is_dir { 0 } else { attr.size },
        name: P9String::from(name),
        uid: attr.uid.to_string().into(),
        gid: attr.gid.to_string().into(),
        muid: P9String::new(),
        extension,
        n_uid: attr.uid,
        n_gid: attr.gid,
        n_muid: NONUNAME,
    })
}

/// Linux `new_encode_dev` → (major, minor).
fn split_dev(rdev: u64) -> (u64, u64) {
    let major = (rdev >> 8) & 0xfff;
    let minor = (rdev & 0xff) | ((rdev >> 12) & 0xfff00);
    (major, minor)
}

pub(crate) async fn tstat(ctx: &Ctx) -> OpResult {
    let fid = ctx.fid()?;
    let loc = fid.location();
    let stat = stat_of(&ctx.req, &*loc.node, &loc.name).await?;
    Ok(base::Rstat { stat }.into())
}

pub(crate) async fn twstat(ctx: &Ctx, m: &base::Twstat) -> OpResult {
    let fid = ctx.fid()?;
    let st = &m.stat;
    let dont = Stat::dont_touch();
    let loc = fid.location();
    let req = &ctx.req;
    let dotu = ctx.dialect().has_unix_fields();

    let mut attr = SetAttr::default();
    if st.mode != dont.mode {
        attr.valid |= SetattrMask::MODE;
        attr.mode = if dotu { unix_perm(st.mode) } else { st.mode.perm() };
    }
    if st.length != dont.length {
        attr.valid |= SetattrMask::SIZE;
        attr.size = st.length;
    }
    if st.mtime != dont.mtime {
        attr.valid |= SetattrMask::MTIME | SetattrMask::MTIME_SET;
        attr.mtime_sec = u64::from(st.mtime);
    }
    if st.atime != dont.atime {
        attr.valid |= SetattrMask::ATIME | SetattrMask::ATIME_SET;
        attr.atime_sec = u64::from(st.atime);
    }
    let uid = if dotu && st.n_uid != NONUNAME { Some(st.n_uid) } else { parse_id(&st.uid)? };
    let gid = if dotu && st.n_gid != NONUNAME { Some(st.n_gid) } else { parse_id(&st.gid)? };
    if let Some(uid) = uid {
        attr.valid |= SetattrMask::UID;
        attr.uid = uid;
    }
    if let Some(gid) = gid {
        attr.valid |= SetattrMask::GID;
        attr.gid = gid;
    }
    let rename = !st.name.is_empty() && st.name.as_bytes() != &loc.name[..];

    if attr.valid.is_empty() && !rename {
        // Every field "don't touch": a request to sync.
        return fsync_fid(ctx, fid).await.map(|()| base::Rwstat.into());
    }
    if rename {
        let name = super::checked_name(&st.name)?;
        let parent = loc.parent.clone().ok_or(Errno::EBUSY)?;
        parent.node.rename(req, &loc.name, &parent.node, name).await?;
        let moved =
            crate::fid::Location::child(&parent, Bytes::copy_from_slice(name), loc.node.clone());
        fid.set_location(moved);
    }
    if !attr.valid.is_empty() {
        loc.node.setattr(req, &attr).await?;
    }
    Ok(base::Rwstat.into())
}

/// A numeric owner from a 9P2000 name field: empty means "don't touch";
/// anything but a number is refused (we have no user database).
fn parse_id(s: &P9String) -> Result<Option<u32>, Errno> {
    if s.is_empty() {
        return Ok(None);
    }
    s.to_str().ok().and_then(|t| t.parse().ok()).map(Some).ok_or(Errno::EINVAL)
}

async fn fsync_fid(ctx: &Ctx, fid: &Fid) -> Result<(), Errno> {
    let node = fid.node();
    match fid.open_handle() {
        Ok(Some(h)) => h.fsync(&ctx.req, &*node, false).await,
        _ => node.fsync(&ctx.req, false).await,
    }
}

/// A directory listing as consecutive stat records, captured when a
/// 9P2000/.u client reads offset 0.
#[derive(Debug)]
pub(crate) struct DirStats {
    data: Bytes,
    /// The offset of every record.
    starts: Vec<usize>,
}

impl DirStats {
    /// Whole records from `offset`, at most `count` bytes.
    pub(crate) fn slice(&self, offset: u64, count: u32) -> Result<Bytes, Errno> {
        let offset = usize::try_from(offset).map_err(|_| Errno::EINVAL)?;
        if offset >= self.data.len() {
            return Ok(Bytes::new());
        }
        let first = self.starts.binary_search(&offset).map_err(|_| Errno::EINVAL)?;
        let limit = offset.saturating_add(count as usize);
        let end = self.starts[first + 1..]
            .iter()
            .copied()
            .chain(std::iter::once(self.data.len()))
            .take_while(|&e| e <= limit)
            .last()
            .unwrap_or(offset);
        Ok(self.data.slice(offset..end))
    }
}

/// The directory's stat records: rebuilt at offset 0, reused after.
pub(crate) async fn dir_stats(
    ctx: &Ctx,
    fid: &Arc<Fid>,
    offset: u64,
) -> Result<Arc<DirStats>, Errno> {
    if offset != 0 {
        if let FidMode::Open(open) = &*fid.mode() {
            if let Some(s) = &open.dir_stats {
                return Ok(s.clone());
            }
        }
    }
    let loc = fid.location();
    let handle = fid.open_handle().map_err(|()| Errno::EBADF)?;
    let req = &ctx.req;
    let mut names: Vec<Bytes> = Vec::new();
    let mut cookie = 0u64;
    loop {
        let mut sink = DirSink::new(64 * 1024);
        match &handle {
            Some(h) => h.readdir(req, &*loc.node, cookie, &mut sink).await?,
            None => loc.node.readdir(req, cookie, &mut sink).await?,
        }
        if sink.is_empty() {
            break;
        }
        let block = sink.finish_block();
        let mut last = cookie;
        for entry in block.iter() {
            last = entry.offset;
            let name = entry.name.into_bytes();
            if &name[..] != b"." && &name[..] != b".." {
                names.push(name);
            }
        }
        if last == cookie {
            break;
        }
        cookie = last;
    }
    let mut data = BytesMut::new();
    let mut starts = Vec::with_capacity(names.len());
    for name in names {
        let Ok(child) = loc.node.lookup(req, &name).await else { continue };
        let Ok(stat) = stat_of(req, &*child, &name).await else { continue };
        let mut packer = ninefold_proto::dir::DirPacker::<Stat>::new(usize::MAX, ctx.dialect());
        if packer.push(&stat).unwrap_or(false) {
            starts.push(data.len());
            data.extend_from_slice(&packer.finish());
        }
    }
    let stats = Arc::new(DirStats { data: data.freeze(), starts });
    if let FidMode::Open(open) = &mut *fid.mode() {
        open.dir_stats = Some(stats.clone());
    }
    Ok(stats)
}
