//! Twalk: clone, or walk up to 16 names; `..` is resolved here and never
//! reaches a node.

use ninefold_proto::{base, Errno};

use super::OpResult;
use super::{checked_name, Ctx};
use crate::fid::{FidMode, Location};

pub(crate) async fn twalk(ctx: &Ctx, m: &base::Twalk) -> OpResult {
    let fid = ctx.fid()?;
    if matches!(*fid.mode(), FidMode::XattrRead(_) | FidMode::XattrWrite(_)) {
        return Err(Errno::EINVAL);
    }
    let mut loc = fid.location();
    let mut wqids = Vec::with_capacity(m.wnames.len());
    for (i, name) in m.wnames.iter().enumerate() {
        let step = async {
            if !loc.node.qid().is_dir() {
                return Err(Errno::ENOTDIR);
            }
            if name.as_bytes() == b".." {
                // Clamped at the attach root.
                return Ok(loc.parent.clone().unwrap_or_else(|| loc.clone()));
            }
            let name = checked_name(name)?;
            let child = loc.node.lookup(&ctx.req, name).await?;
            Ok(Location::child(&loc, bytes::Bytes::copy_from_slice(name), child))
        };
        match step.await {
            Ok(next) => {
                wqids.push(next.node.qid());
                loc = next;
            }
            Err(e) if i == 0 => return Err(e),
            // A partial walk: the qids that succeeded, newfid not bound.
            Err(_) => return Ok(base::Rwalk { wqids }.into()),
        }
    }
    ctx.bind_newfid(fid.derive(loc))?;
    Ok(base::Rwalk { wqids }.into())
}
