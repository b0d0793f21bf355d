//! Tmkdir.

use ninefold_proto::{l, S_IFDIR, S_IFMT};

use super::{dir_node, Reply};
use crate::dispatch::{checked_name, Ctx};

pub(crate) async fn tmkdir(ctx: &Ctx, m: &l::Tmkdir) -> Reply {
    let dir = dir_node(ctx.fid()?)?;
    let name = checked_name(&m.name)?;
    let mode = S_IFDIR | (m.mode & !S_IFMT);
    let node = dir.mkdir(&ctx.req, name, mode, m.gid).await?;
    Ok(l::Rmkdir { qid: node.qid() }.into())
}
