//! Treadlink.

use ninefold_proto::{l, P9String};

use super::Reply;
use crate::dispatch::Ctx;

pub(crate) async fn treadlink(ctx: &Ctx) -> Reply {
    let node = ctx.fid()?.node();
    let target = node.readlink(&ctx.req).await?;
    Ok(l::Rreadlink { target: P9String::from(target) }.into())
}
