//! 9P2000.L.Z creates that answer with attributes: Tlcreateattr,
//! Tmkdirattr, Tsymlinkattr, Tmknodattr and Tlinkattr, each composed from
//! the standard create method and `getattr`.

use bytes::Bytes;
use ninefold_proto::{z, Errno, OpenFlags};

use super::open::install;
use super::walkgetattr::stat_of;
use super::{checked_name, dir_node, iounit, link, mkdir, mknod, symlink, Ctx, OpResult};
use crate::fid::Location;

/// Creates regular file `name` exclusively (EEXIST when it exists, with or
/// without EXCL) and opens it on `newfid`; `dfid` is left as it is.
pub(crate) async fn tlcreateattr(ctx: &Ctx, m: &z::Tlcreateattr) -> OpResult {
    let fid = ctx.fid()?;
    if m.newfid == m.dfid {
        // dfid stays the directory: newfid must be another, unused fid.
        return Err(Errno::EINVAL);
    }
    let dir = dir_node(fid)?;
    let name = checked_name(&m.name)?;
    let flags = m.flags | OpenFlags::CREATE | OpenFlags::EXCL;
    let created = dir.create(&ctx.req, name, flags, m.mode, m.gid).await?;
    let unit = iounit(created.opened.iounit, ctx.req.msize());
    let loc = Location::child(&fid.location(), Bytes::copy_from_slice(name), created.node.clone());
    let new = fid.derive(loc);
    install(&new, created.opened, flags - (OpenFlags::CREATE | OpenFlags::EXCL), false)?;
    let attr = stat_of(ctx, &created.node, Some(&new)).await?;
    ctx.bind_newfid(new)?;
    Ok(z::Rlcreateattr { iounit: unit, attr }.into())
}

pub(crate) async fn tmkdirattr(ctx: &Ctx, m: &z::Tmkdirattr) -> OpResult {
    let node = mkdir::make(ctx, &m.name, m.mode, m.gid).await?;
    Ok(z::Rmkdirattr { attr: stat_of(ctx, &node, None).await? }.into())
}

pub(crate) async fn tsymlinkattr(ctx: &Ctx, m: &z::Tsymlinkattr) -> OpResult {
    let node = symlink::make(ctx, &m.name, &m.symtgt, m.gid).await?;
    Ok(z::Rsymlinkattr { attr: stat_of(ctx, &node, None).await? }.into())
}

pub(crate) async fn tmknodattr(ctx: &Ctx, m: &z::Tmknodattr) -> OpResult {
    let node = mknod::make(ctx, &m.name, m.mode, m.major, m.minor, m.gid).await?;
    Ok(z::Rmknodattr { attr: stat_of(ctx, &node, None).await? }.into())
}

pub(crate) async fn tlinkattr(ctx: &Ctx, m: &z::Tlinkattr) -> OpResult {
    let node = link::make(ctx, &m.name).await?;
    Ok(z::Rlinkattr { attr: stat_of(ctx, &node, None).await? }.into())
}
