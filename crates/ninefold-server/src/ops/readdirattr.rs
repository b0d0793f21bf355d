//! 9P2000.L.Z Treaddirattr: Treaddir with each entry's attributes,
//! composed from `readdir`, `lookup` and `getattr` (readdirplus for any
//! filesystem). Cookies are the filesystem's own, so they stay as stable
//! as its Treaddir cookies.

use std::sync::Arc;

use ninefold_proto::dir::DirPacker;
use ninefold_proto::z::{self, DirentAttr};
use ninefold_proto::{Dialect, Errno};

use super::walkgetattr::stat_of;
use super::{Ctx, OpResult};
use crate::fs::{DirSink, Node};

/// Readdir rounds that yield only vanished entries before giving up
/// (never an empty reply while entries remain).
const MAX_ROUNDS: usize = 64;

pub(crate) async fn treaddirattr(ctx: &Ctx, m: &z::Treaddirattr) -> OpResult {
    let fid = ctx.fid()?;
    let handle = fid.open_handle().map_err(|()| Errno::EBADF)?;
    let loc = fid.location();
    let node = loc.node.clone();
    if !node.qid().is_dir() {
        return Err(Errno::ENOTDIR);
    }
    let count = m.count.min(ctx.max_payload()) as usize;
    let mut packer = DirPacker::<DirentAttr>::new(count, Dialect::Z);
    let mut offset = m.offset;
    for _ in 0..MAX_ROUNDS {
        let mut sink = DirSink::new(count);
        match &handle {
            Some(h) => h.readdir(&ctx.req, &*node, offset, &mut sink).await?,
            None => node.readdir(&ctx.req, offset, &mut sink).await?,
        }
        let block = sink.finish_block();
        if block.is_empty() {
            break;
        }
        for e in block.iter() {
            offset = e.offset;
            let child: Arc<dyn Node> = match e.name.as_bytes() {
                b"." => node.clone(),
                b".." => loc.parent.as_ref().map_or_else(|| node.clone(), |p| p.node.clone()),
                name => match node.lookup(&ctx.req, name).await {
                    Ok(c) => c,
                    // Removed since it was listed: skip it.
                    Err(e) if e == Errno::ENOENT => continue,
                    Err(err) => return Err(err),
                },
            };
            let attr = match stat_of(ctx, &child, None).await {
                Ok(a) => a,
                Err(e) if e == Errno::ENOENT => continue,
                Err(err) => return Err(err),
            };
            let entry =
                DirentAttr { qid: attr.qid, offset: e.offset, ty: e.ty, name: e.name, attr };
            if !packer.push(&entry).map_err(|_| Errno::EIO)? {
                return Ok(z::Rreaddirattr { data: packer.finish_block() }.into());
            }
        }
        if !packer.is_empty() {
            break;
        }
    }
    Ok(z::Rreaddirattr { data: packer.finish_block() }.into())
}
