//! Tlopen, Tlcreate (9P2000.L) and Topen (9P2000/.u).

use std::sync::Arc;

use ninefold_proto::{base, l, AccessMode, Errno, OpenFlags, OpenMode};

use super::{dir_node, iounit, Reply};
use crate::dispatch::{checked_name, Ctx};
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
    let opened = node.open(&ctx.req, flags).await?;
    let unit = iounit(opened.iounit, ctx.req.msize());
    install(fid, &node, opened, flags, remove_on_clunk)?;
    Ok((node.qid(), unit))
}

/// Records an open on a fid that is still unopened.
fn install(
    fid: &Fid,
    _node: &Arc<dyn Node>,
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

pub(crate) async fn tlopen(ctx: &Ctx, m: &l::Tlopen) -> Reply {
    let fid = ctx.fid()?;
    // CREATE and EXCL mean nothing for an object that exists.
    let flags = m.flags - (OpenFlags::CREATE | OpenFlags::EXCL);
    let (qid, iounit) = open_fid(ctx, fid, flags, false).await?;
    Ok(l::Rlopen { qid, iounit }.into())
}

pub(crate) async fn tlcreate(ctx: &Ctx, m: &l::Tlcreate) -> Reply {
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
    let loc =
        Location::child(&fid.location(), bytes::Bytes::copy_from_slice(name), created.node.clone());
    fid.set_location(loc);
    install(fid, &created.node, created.opened, m.flags, false)?;
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

pub(crate) async fn topen(ctx: &Ctx, m: &base::Topen) -> Reply {
    let fid = ctx.fid()?;
    let flags = flags_of(m.mode);
    let (qid, iounit) = open_fid(ctx, fid, flags, m.mode.contains(OpenMode::RCLOSE)).await?;
    Ok(base::Ropen { qid, iounit }.into())
}
