//! Twalk: clone, or walk up to 16 names; `..` is resolved here and never
//! reaches a node. The steps are shared with 9P2000.L.Z Twalkgetattr.

use std::sync::Arc;

use ninefold_proto::{base, Errno, P9String, Qid};

use super::OpResult;
use super::{checked_name, Ctx};
use crate::fid::{Fid, FidMode, Location};

/// A walk that stopped: the qids of the names that succeeded and the
/// errno of the one that failed.
pub(crate) struct Stopped {
    pub(crate) wqids: Vec<Qid>,
    pub(crate) errno: Errno,
}

/// Refuses walks from xattr fids (EINVAL).
pub(crate) fn walkable(fid: &Fid) -> Result<(), Errno> {
    if matches!(*fid.mode(), FidMode::XattrRead(_) | FidMode::XattrWrite(_)) {
        return Err(Errno::EINVAL);
    }
    Ok(())
}

/// One walk element from `loc`: `..` is clamped at the attach root.
async fn step(ctx: &Ctx, loc: &Arc<Location>, name: &P9String) -> Result<Arc<Location>, Errno> {
    if !loc.node.qid().is_dir() {
        return Err(Errno::ENOTDIR);
    }
    if name.as_bytes() == b".." {
        return Ok(loc.parent.clone().unwrap_or_else(|| loc.clone()));
    }
    let name = checked_name(name)?;
    let child = loc.node.lookup(&ctx.req, name).await?;
    Ok(Location::child(loc, bytes::Bytes::copy_from_slice(name), child))
}

/// Walks `names` from `loc`, one element at a time.
pub(crate) async fn walk_names(
    ctx: &Ctx,
    mut loc: Arc<Location>,
    names: &[P9String],
) -> Result<(Arc<Location>, Vec<Qid>), Stopped> {
    let mut wqids = Vec::with_capacity(names.len());
    for name in names {
        match step(ctx, &loc, name).await {
            Ok(next) => {
                wqids.push(next.node.qid());
                loc = next;
            }
            Err(errno) => return Err(Stopped { wqids, errno }),
        }
    }
    Ok((loc, wqids))
}

pub(crate) async fn twalk(ctx: &Ctx, m: &base::Twalk) -> OpResult {
    let fid = ctx.fid()?;
    walkable(fid)?;
    match walk_names(ctx, fid.location(), &m.wnames).await {
        Ok((loc, wqids)) => {
            ctx.bind_newfid(fid.derive(loc))?;
            Ok(base::Rwalk { wqids }.into())
        }
        Err(s) if s.wqids.is_empty() => Err(s.errno),
        // A partial walk: the qids that succeeded, newfid not bound.
        Err(s) => Ok(base::Rwalk { wqids: s.wqids }.into()),
    }
}
