//! 9P2000.L.Z Twalkgetattr: an all-or-nothing walk that answers with the
//! final object's attributes, composed from `lookup` and `getattr`.

use std::sync::Arc;

use ninefold_proto::l::Attr;
use ninefold_proto::{z, GetattrMask};

use super::walk::{walk_names, walkable};
use super::{Ctx, OpResult};
use crate::fid::Fid;
use crate::fs::Node;

/// The attributes of `node` as a private reply carries them (no `valid`
/// mask: every field must mean something), read through `fid`'s open
/// handle when it has one. `qid` is the node's own.
pub(crate) async fn stat_of(
    ctx: &Ctx,
    node: &Arc<dyn Node>,
    fid: Option<&Fid>,
) -> Result<Attr, ninefold_proto::Errno> {
    let handle = fid.and_then(|f| f.open_handle().ok().flatten());
    let mut attr = match handle {
        Some(h) => h.getattr(&ctx.req, &**node, GetattrMask::ALL).await?,
        None => node.getattr(&ctx.req, GetattrMask::ALL).await?,
    };
    attr.qid = node.qid();
    Ok(attr)
}

pub(crate) async fn twalkgetattr(ctx: &Ctx, m: &z::Twalkgetattr) -> OpResult {
    let fid = ctx.fid()?;
    walkable(fid)?;
    // Any failing name fails the whole request; newfid stays unbound.
    let (loc, wqids) = walk_names(ctx, fid.location(), &m.wnames).await.map_err(|s| s.errno)?;
    let same = m.wnames.is_empty();
    let attr = stat_of(ctx, &loc.node, same.then_some(&**fid)).await?;
    ctx.bind_newfid(fid.derive(loc))?;
    Ok(z::Rwalkgetattr { wqids, attr }.into())
}
