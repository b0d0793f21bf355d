//! Treadlink.

use ninefold_proto::{l, P9String};

use super::Ctx;
use super::OpResult;

pub(crate) async fn treadlink(ctx: &Ctx) -> OpResult {
    let node = ctx.fid()?.node();
    let target = node.readlink(&ctx.req).await?;
    Ok(l::Rreadlink { target: P9String::from(target) }.into())
}
