//! Tstatfs.

use super::Reply;
use crate::dispatch::Ctx;

pub(crate) async fn tstatfs(ctx: &Ctx) -> Reply {
    let node = ctx.fid()?.node();
    Ok(node.statfs(&ctx.req).await?.into())
}
