//! Trename and Trenameat.

use bytes::Bytes;
use ninefold_proto::{l, Errno};

use super::{checked_name, dir_node, Ctx, OpResult};
use crate::fid::Location;

pub(crate) async fn trename(ctx: &Ctx, m: &l::Trename) -> OpResult {
    let fid = ctx.fid()?;
    let dfid = ctx.fid2()?;
    let new_dir = dir_node(dfid)?;
    let name = checked_name(&m.name)?;
    let loc = fid.location();
    let parent = loc.parent.clone().ok_or(Errno::EBUSY)?;
    parent.node.rename(&ctx.req, &loc.name, &new_dir, name).await?;
    fid.set_location(Location::child(
        &dfid.location(),
        Bytes::copy_from_slice(name),
        loc.node.clone(),
    ));
    Ok(l::Rrename.into())
}

pub(crate) async fn trenameat(ctx: &Ctx, m: &l::Trenameat) -> OpResult {
    let old_dir = dir_node(ctx.fid()?)?;
    let new_dir = dir_node(ctx.fid2()?)?;
    let old = checked_name(&m.oldname)?;
    let new = checked_name(&m.newname)?;
    old_dir.rename(&ctx.req, old, &new_dir, new).await?;
    Ok(l::Rrenameat.into())
}
