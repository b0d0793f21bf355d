//! 9P2000.L.Z Tsetattrattr: Tsetattr answering with the attributes after
//! the change.

use ninefold_proto::{z, AccessMode, Errno, SetattrMask};

use super::walkgetattr::stat_of;
use super::{Ctx, OpResult};
use crate::fid::FidMode;

pub(crate) async fn tsetattrattr(ctx: &Ctx, m: &z::Tsetattrattr) -> OpResult {
    let fid = ctx.fid()?;
    m.attr.check(ctx.dialect())?;
    let mut attr = m.attr.clone();
    if attr.valid.contains(SetattrMask::ATIME_ACCESS) {
        // "Record an access": allowed on a fid opened for reading only,
        // and it sets atime to the server's clock.
        let readable = match &*fid.mode() {
            FidMode::Open(o) => {
                matches!(o.flags.access_mode(), AccessMode::ReadOnly | AccessMode::ReadWrite)
            }
            _ => false,
        };
        if !readable {
            return Err(Errno::EBADF);
        }
        attr.valid = SetattrMask::ATIME;
    }
    let node = fid.node();
    match fid.open_handle() {
        Ok(Some(h)) => h.setattr(&ctx.req, &*node, &attr).await?,
        _ => node.setattr(&ctx.req, &attr).await?,
    }
    let attr = stat_of(ctx, &node, Some(fid)).await?;
    Ok(z::Rsetattrattr { attr }.into())
}
