//! Tgetattr.

use ninefold_proto::{l, GetattrMask};

use super::Ctx;
use super::OpResult;

pub(crate) async fn tgetattr(ctx: &Ctx, m: &l::Tgetattr) -> OpResult {
    let fid = ctx.fid()?;
    let node = fid.node();
    let attr = match fid.open_handle() {
        Ok(Some(h)) => h.getattr(&ctx.req, &*node, m.request_mask).await?,
        _ => node.getattr(&ctx.req, m.request_mask).await?,
    };
    // Nodes fill every basic field; the extras are reported as asked.
    let extra = GetattrMask::BTIME | GetattrMask::GEN | GetattrMask::DATA_VERSION;
    let valid = GetattrMask::BASIC | (m.request_mask & extra);
    Ok(l::Rgetattr { valid, attr }.into())
}
