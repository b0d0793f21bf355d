//! Tmkdir.

use std::sync::Arc;

use ninefold_proto::{l, Errno, P9String, S_IFDIR, S_IFMT};

use super::{checked_name, dir_node, Ctx, OpResult};
use crate::fs::Node;

/// Makes directory `name` in the request's directory fid.
pub(crate) async fn make(
    ctx: &Ctx,
    name: &P9String,
    mode: u32,
    gid: u32,
) -> Result<Arc<dyn Node>, Errno> {
    let dir = dir_node(ctx.fid()?)?;
    let name = checked_name(name)?;
    let mode = S_IFDIR | (mode & !S_IFMT);
    dir.mkdir(&ctx.req, name, mode, gid).await
}

pub(crate) async fn tmkdir(ctx: &Ctx, m: &l::Tmkdir) -> OpResult {
    let node = make(ctx, &m.name, m.mode, m.gid).await?;
    Ok(l::Rmkdir { qid: node.qid() }.into())
}
