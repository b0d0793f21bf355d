//! Tremove.

use ninefold_proto::{base, Errno, UnlinkatFlags};

use super::clunk::release;
use super::{Ctx, OpResult};

/// Tremove: unlink the fid's object from its parent, and clunk the fid
/// whatever happens.
pub(crate) async fn tremove(ctx: &Ctx) -> OpResult {
    let fid = ctx.fid()?;
    ctx.release_marks();
    let loc = fid.location();
    let exclusive = fid.busy.clone().write_owned().await;
    let removed = match &loc.parent {
        None => Err(Errno::EBUSY),
        Some(parent) => {
            let flags = if loc.node.qid().is_dir() {
                UnlinkatFlags::REMOVEDIR
            } else {
                UnlinkatFlags::empty()
            };
            parent.node.unlink(&ctx.req, &loc.name, flags).await
        }
    };
    drop(exclusive);
    let released = release(&ctx.conn, fid, ctx.req.fid(), Some(&ctx.req)).await;
    removed?;
    released?;
    Ok(base::Rremove.into())
}
