//! Tlink.

use std::sync::Arc;

use ninefold_proto::{l, Errno, P9String};

use super::{checked_name, dir_node, Ctx, OpResult};
use crate::fs::Node;

/// Links the request's second fid as `name` in its directory fid;
/// returns the linked object.
pub(crate) async fn make(ctx: &Ctx, name: &P9String) -> Result<Arc<dyn Node>, Errno> {
    let dir = dir_node(ctx.fid()?)?;
    let target = ctx.fid2()?.node();
    if target.qid().is_dir() {
        return Err(Errno::EPERM);
    }
    let name = checked_name(name)?;
    dir.link(&ctx.req, &target, name).await?;
    Ok(target)
}

pub(crate) async fn tlink(ctx: &Ctx, m: &l::Tlink) -> OpResult {
    make(ctx, &m.name).await?;
    Ok(l::Rlink.into())
}
