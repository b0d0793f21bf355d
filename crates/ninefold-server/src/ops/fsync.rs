//! Tfsync.

use ninefold_proto::l;

use super::Ctx;
use super::OpResult;

pub(crate) async fn tfsync(ctx: &Ctx, m: &l::Tfsync) -> OpResult {
    let fid = ctx.fid()?;
    let node = fid.node();
    let datasync = m.datasync != 0;
    match fid.open_handle() {
        Ok(Some(h)) => h.fsync(&ctx.req, &*node, datasync).await?,
        _ => node.fsync(&ctx.req, datasync).await?,
    }
    Ok(l::Rfsync.into())
}
