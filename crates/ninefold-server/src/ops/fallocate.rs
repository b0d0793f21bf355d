//! 9P2000.L.Z Tfallocate: allocate, punch or zero a range of a file open
//! for writing.

use ninefold_proto::{z, AccessMode, Errno};

use super::{Ctx, OpResult};
use crate::fid::FidMode;

pub(crate) async fn tfallocate(ctx: &Ctx, m: &z::Tfallocate) -> OpResult {
    let fid = ctx.fid()?;
    let handle = match &*fid.mode() {
        FidMode::Open(o)
            if matches!(o.flags.access_mode(), AccessMode::WriteOnly | AccessMode::ReadWrite) =>
        {
            o.handle.clone()
        }
        _ => return Err(Errno::EBADF),
    };
    if !m.mode.is_supported() {
        return Err(Errno::EOPNOTSUPP);
    }
    let node = fid.node();
    if node.qid().is_dir() {
        return Err(Errno::EISDIR);
    }
    if m.length == 0 {
        return Err(Errno::EINVAL);
    }
    if m.offset.checked_add(m.length).is_none_or(|end| end > i64::MAX as u64) {
        return Err(Errno::EFBIG);
    }
    match handle {
        Some(h) => h.fallocate(&ctx.req, &*node, m.offset, m.length, m.mode).await?,
        None => node.fallocate(&ctx.req, m.offset, m.length, m.mode).await?,
    }
    Ok(z::Rfallocate.into())
}
