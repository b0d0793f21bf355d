//! Tsymlink.

use std::sync::Arc;

use ninefold_proto::{l, Errno, P9String};

use super::{checked_name, dir_node, Ctx, OpResult};
use crate::fs::Node;

/// Makes symlink `name` → `target` in the request's directory fid.
pub(crate) async fn make(
    ctx: &Ctx,
    name: &P9String,
    target: &P9String,
    gid: u32,
) -> Result<Arc<dyn Node>, Errno> {
    let dir = dir_node(ctx.fid()?)?;
    let name = checked_name(name)?;
    if target.is_empty() {
        return Err(Errno::ENOENT);
    }
    dir.symlink(&ctx.req, name, target, gid).await
}

pub(crate) async fn tsymlink(ctx: &Ctx, m: &l::Tsymlink) -> OpResult {
    let node = make(ctx, &m.name, &m.symtgt, m.gid).await?;
    Ok(l::Rsymlink { qid: node.qid() }.into())
}
