//! Tlopen, Tlcreate (9P2000.L), and Topen and Tcreate (9P2000/.u): files,
//! directories, and (9P2000.u) symlinks, hard links, devices, FIFOs and
//! sockets, mapped onto the same node methods as 9P2000.L.

use std::sync::Arc;

use bytes::Bytes;
use ninefold_proto::u::{DeviceKind, Extension};
use ninefold_proto::{base, l, AccessMode, DirMode, Errno, GetattrMask, OpenFlags, OpenMode};
use ninefold_proto::{S_IFBLK, S_IFCHR, S_IFDIR, S_IFIFO, S_IFSOCK};

use super::{checked_name, dir_node, iounit, Ctx, OpResult};
use crate::fid::{Fid, FidMode, Location, OpenState};
use crate::fs::{Created, Node, Opened};

/// Opens `fid`'s node with `flags` and records the open state.
pub(crate) async fn open_fid(
    ctx: &Ctx,
    fid: &Arc<Fid>,
    flags: OpenFlags,
    remove_on_clunk: bool,
) -> Result<(ninefold_proto::Qid, u32), Errno> {
    if !matches!(*fid.mode(), FidMode::Walked) {
        return Err(if fid.is_open() { Errno::EBUSY } else { Errno::EINVAL });
    }
    let node = fid.node();
    let qid = node.qid();
    if flags.contains(OpenFlags::DIRECTORY) && !qid.is_dir() {
        return Err(Errno::ENOTDIR);
    }
    if qid.is_dir() && (flags.access_mode().can_write() || flags.contains(OpenFlags::TRUNC)) {
        return Err(Errno::EISDIR);
    }
    let replay = fid.replay_opened.swap(false, std::sync::atomic::Ordering::Relaxed);
    if replay && node.getattr(&ctx.req, GetattrMask::BASIC).await.map(|a| a.nlink) == Ok(0) {
        // Open-unlinked objects are not restored across reconnects.
        return Err(Errno::ESTALE);
    }
    let opened = match node.open(&ctx.req, flags).await {
        Err(e) if replay && e == Errno::EACCES => return Err(Errno::ESTALE),
        r => r?,
    };
    let unit = iounit(opened.iounit, ctx.req.msize());
    install(fid, opened, flags, remove_on_clunk)?;
    Ok((node.qid(), unit))
}

/// Records an open on a fid that is still unopened.
pub(crate) fn install(
    fid: &Fid,
    opened: Opened,
    flags: OpenFlags,
    remove_on_clunk: bool,
) -> Result<(), Errno> {
    let mut mode = fid.mode();
    if !matches!(*mode, FidMode::Walked) {
        // Opened concurrently by another request on the same fid.
        return Err(Errno::EBUSY);
    }
    *mode =
        FidMode::Open(OpenState { handle: opened.handle, flags, remove_on_clunk, dir_stats: None });
    Ok(())
}

pub(crate) async fn tlopen(ctx: &Ctx, m: &l::Tlopen) -> OpResult {
    let fid = ctx.fid()?;
    // CREATE and EXCL mean nothing for an object that exists.
    let flags = m.flags - (OpenFlags::CREATE | OpenFlags::EXCL);
    let (qid, iounit) = open_fid(ctx, fid, flags, false).await?;
    Ok(l::Rlopen { qid, iounit }.into())
}

pub(crate) async fn tlcreate(ctx: &Ctx, m: &l::Tlcreate) -> OpResult {
    let fid = ctx.fid()?;
    if !matches!(*fid.mode(), FidMode::Walked) {
        return Err(Errno::EBUSY);
    }
    let dir = dir_node(fid)?;
    let name = checked_name(&m.name)?;
    let created = match dir.create(&ctx.req, name, m.flags, m.mode, m.gid).await {
        // Without EXCL an existing name is opened, as open(2) with O_CREAT
        // does (another client may have created it after the caller's
        // lookup): the same lookup and open as Twalk + Tlopen.
        Err(e) if e == Errno::EEXIST && !m.flags.contains(OpenFlags::EXCL) => {
            let node = dir.lookup(&ctx.req, name).await?;
            if node.qid().is_dir() {
                return Err(Errno::EISDIR);
            }
            let opened =
                node.open(&ctx.req, m.flags - (OpenFlags::CREATE | OpenFlags::EXCL)).await?;
            Created { node, opened }
        }
        r => r?,
    };
    let qid = created.node.qid();
    let unit = iounit(created.opened.iounit, ctx.req.msize());
    // The directory fid becomes the new, open file.
    let loc = Location::child(&fid.location(), Bytes::copy_from_slice(name), created.node.clone());
    fid.set_location(loc);
    install(fid, created.opened, m.flags, false)?;
    Ok(l::Rlcreate { qid, iounit: unit }.into())
}

/// The P9_DOTL flags a 9P2000 open mode stands for.
pub(crate) fn flags_of(mode: OpenMode) -> OpenFlags {
    let access = match mode.access() {
        OpenMode::WRITE => AccessMode::WriteOnly,
        OpenMode::RDWR => AccessMode::ReadWrite,
        _ => AccessMode::ReadOnly,
    };
    let mut flags = OpenFlags::empty().with_access_mode(access);
    if mode.contains(OpenMode::TRUNC) {
        flags |= OpenFlags::TRUNC;
    }
    if mode.contains(OpenMode::APPEND) {
        flags |= OpenFlags::APPEND;
    }
    flags
}

pub(crate) async fn topen(ctx: &Ctx, m: &base::Topen) -> OpResult {
    let fid = ctx.fid()?;
    let flags = flags_of(m.mode);
    let (qid, iounit) = open_fid(ctx, fid, flags, m.mode.contains(OpenMode::RCLOSE)).await?;
    Ok(base::Ropen { qid, iounit }.into())
}

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

pub(crate) async fn tcreate(ctx: &Ctx, m: &base::Tcreate) -> OpResult {
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
                let target = crate::fid::lock(&ctx.conn.core).fid(target)?.node();
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
