//! Tsymlink.

use ninefold_proto::{l, Errno};

use super::{checked_name, dir_node, Ctx, OpResult};

pub(crate) async fn tsymlink(ctx: &Ctx, m: &l::Tsymlink) -> OpResult {
    let dir = dir_node(ctx.fid()?)?;
    let name = checked_name(&m.name)?;
    if m.symtgt.is_empty() {
        return Err(Errno::ENOENT);
    }
    let node = dir.symlink(&ctx.req, name, &m.symtgt, m.gid).await?;
    Ok(l::Rsymlink { qid: node.qid() }.into())
}
