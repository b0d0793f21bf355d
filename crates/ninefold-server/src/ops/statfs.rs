//! Tstatfs.

use super::Ctx;
use super::OpResult;

pub(crate) async fn tstatfs(ctx: &Ctx) -> OpResult {
    let node = ctx.fid()?.node();
    Ok(node.statfs(&ctx.req).await?.into())
}
