//! Tsymlink.

use ninefold_proto::{l, Errno};

use super::{dir_node, Reply};
use crate::dispatch::{checked_name, Ctx};

pub(crate) async fn tsymlink(ctx: &Ctx, m: &l::Tsymlink) -> Reply {
    let dir = dir_node(ctx.fid()?)?;
    let name = checked_name(&m.name)?;
    if m.symtgt.is_empty() {
        return Err(Errno::ENOENT);
    }
    let node = dir.symlink(&ctx.req, name, &m.symtgt, m.gid).await?;
    Ok(l::Rsymlink { qid: node.qid() }.into())
}
