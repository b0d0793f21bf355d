//! Tmkdir.

use ninefold_proto::{l, S_IFDIR, S_IFMT};

use super::{checked_name, dir_node, Ctx, OpResult};

pub(crate) async fn tmkdir(ctx: &Ctx, m: &l::Tmkdir) -> OpResult {
    let dir = dir_node(ctx.fid()?)?;
    let name = checked_name(&m.name)?;
    let mode = S_IFDIR | (m.mode & !S_IFMT);
    let node = dir.mkdir(&ctx.req, name, mode, m.gid).await?;
    Ok(l::Rmkdir { qid: node.qid() }.into())
}
