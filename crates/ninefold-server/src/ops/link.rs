//! Tlink.

use ninefold_proto::{l, Errno};

use super::{checked_name, dir_node, Ctx, OpResult};

pub(crate) async fn tlink(ctx: &Ctx, m: &l::Tlink) -> OpResult {
    let dir = dir_node(ctx.fid()?)?;
    let target = ctx.fid2()?.node();
    if target.qid().is_dir() {
        return Err(Errno::EPERM);
    }
    let name = checked_name(&m.name)?;
    dir.link(&ctx.req, &target, name).await?;
    Ok(l::Rlink.into())
}
