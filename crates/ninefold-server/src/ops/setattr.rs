//! Tsetattr.

use ninefold_proto::l;

use super::Ctx;
use super::OpResult;

pub(crate) async fn tsetattr(ctx: &Ctx, m: &l::Tsetattr) -> OpResult {
    let fid = ctx.fid()?;
    m.attr.check(ctx.dialect())?;
    let node = fid.node();
    match fid.open_handle() {
        Ok(Some(h)) => h.setattr(&ctx.req, &*node, &m.attr).await?,
        _ => node.setattr(&ctx.req, &m.attr).await?,
    }
    Ok(l::Rsetattr.into())
}
