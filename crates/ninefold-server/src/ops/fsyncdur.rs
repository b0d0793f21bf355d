//! 9P2000.L.Z Tfsyncdur: an fsync of the object (INODE scope) or of the
//! whole filesystem, then a check of the client's lineage token.

use ninefold_proto::{l, z, Errno, FsyncdurFlags};

use super::{Ctx, OpResult};

pub(crate) async fn tfsyncdur(ctx: &Ctx, m: &z::Tfsyncdur) -> OpResult {
    let fid = ctx.fid()?;
    if !FsyncdurFlags::all().contains(m.datasync) {
        return Err(Errno::EINVAL);
    }
    let datasync = m.datasync.contains(FsyncdurFlags::DATASYNC);
    if m.datasync.contains(FsyncdurFlags::INODE) {
        let node = fid.node();
        match fid.open_handle() {
            Ok(Some(h)) => h.fsync(&ctx.req, &*node, datasync).await?,
            _ => node.fsync(&ctx.req, datasync).await?,
        }
    } else {
        // The whole filesystem: asked of the fid's attach root.
        let mut loc = fid.location();
        while let Some(parent) = loc.parent.clone() {
            loc = parent;
        }
        loc.node.sync_fs(&ctx.req).await?;
    }
    // Flushed; was everything the client was told about on this lineage?
    if m.token != 0 && m.token != ctx.conn.server.lineage.token() {
        return Err(Errno::ESTALE);
    }
    Ok(l::Rfsync.into())
}
