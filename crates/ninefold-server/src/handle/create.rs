//! 9P2000/.u Tcreate: files, directories, and (9P2000.u) symlinks, hard
//! links, devices, FIFOs and sockets, mapped onto the same node methods
//! as 9P2000.L.

use std::sync::Arc;

use bytes::Bytes;
use ninefold_proto::u::{DeviceKind, Extension};
use ninefold_proto::{base, DirMode, Errno, GetattrMask, OpenFlags, OpenMode};
use ninefold_proto::{S_IFBLK, S_IFCHR, S_IFDIR, S_IFIFO, S_IFSOCK};

use super::open::{flags_of, open_fid};
use super::{dir_node, iounit, Reply};
use crate::dispatch::{checked_name, Ctx};
use crate::fid::{FidMode, Location, OpenState};
use crate::fs::Node;

/// Unix permission bits (with setuid, setgid and sticky from 9P2000.u).
pub(crate) fn unix_perm(perm: DirMode) -> u32 {
    let mut mode = perm.perm();
    if perm.contains(DirMode::SETUID) {
        mode |= 0o4000;
    }
    if perm.contains(DirMode::SETGID) {
        mode |= 0o2000;
    }
    if perm.contains(DirMode::SETVTX) {
        mode |= 0o1000;
    }
    mode
}

pub(crate) async fn tcreate(ctx: &Ctx, m: &base::Tcreate) -> Reply {
    let fid = ctx.fid()?;
    if !matches!(*fid.mode(), FidMode::Walked) {
        return Err(Errno::EBUSY);
    }
    let dir = dir_node(fid)?;
    let name = checked_name(&m.name)?;
    // New objects take the directory's group (9P2000 semantics).
    let gid = dir.getattr(&ctx.req, GetattrMask::BASIC).await.map(|a| a.gid).unwrap_or(0);
    let perm = unix_perm(m.perm);
    let ext = if ctx.dialect().has_unix_fields() {
        Extension::parse(m.perm, &m.extension).map_err(|_| Errno::EINVAL)?
    } else {
        Extension::None
    };
    let req = &ctx.req;
    let node: Arc<dyn Node> = if m.perm.contains(DirMode::DIR) {
        dir.mkdir(req, name, S_IFDIR | perm, gid).await?
    } else {
        match ext {
            Extension::None => {
                let flags = flags_of(m.mode) | OpenFlags::CREATE | OpenFlags::EXCL;
                let created = dir.create(req, name, flags, perm, gid).await?;
                let qid = created.node.qid();
                let unit = iounit(created.opened.iounit, req.msize());
                let loc =
                    Location::child(&fid.location(), Bytes::copy_from_slice(name), created.node);
                fid.set_location(loc);
                *fid.mode() = FidMode::Open(OpenState {
                    handle: created.opened.handle,
                    flags,
                    remove_on_clunk: m.mode.contains(OpenMode::RCLOSE),
                    dir_stats: None,
                });
                return Ok(base::Rcreate { qid, iounit: unit }.into());
            }
            Extension::Symlink(target) => dir.symlink(req, name, &target, gid).await?,
            Extension::HardLink { fid: target } => {
                let target = crate::fid::lock(&ctx.conn.state).fid(target)?.node();
                dir.link(req, &target, name).await?;
                target
            }
            Extension::Device { kind, major, minor } => {
                let ty = if kind == DeviceKind::Block { S_IFBLK } else { S_IFCHR };
                dir.mknod(req, name, ty | perm, major, minor, gid).await?
            }
            Extension::NamedPipe => dir.mknod(req, name, S_IFIFO | perm, 0, 0, gid).await?,
            Extension::Socket => dir.mknod(req, name, S_IFSOCK | perm, 0, 0, gid).await?,
        }
    };
    // The fid now names the new object; directories are opened as asked,
    // special files are left open without I/O.
    let loc = Location::child(&fid.location(), Bytes::copy_from_slice(name), node.clone());
    fid.set_location(loc);
    if node.qid().is_dir() {
        let (qid, unit) = open_fid(ctx, fid, flags_of(m.mode.access()), false).await?;
        return Ok(base::Rcreate { qid, iounit: unit }.into());
    }
    *fid.mode() = FidMode::Open(OpenState {
        handle: None,
        flags: OpenFlags::empty(),
        remove_on_clunk: false,
        dir_stats: None,
    });
    Ok(base::Rcreate { qid: node.qid(), iounit: 0 }.into())
}
