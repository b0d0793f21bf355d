//! Treaddir.

use ninefold_proto::{l, Errno};

use super::Ctx;
use super::OpResult;
use crate::fs::DirSink;

pub(crate) async fn treaddir(ctx: &Ctx, m: &l::Treaddir) -> OpResult {
    let fid = ctx.fid()?;
    let handle = fid.open_handle().map_err(|()| Errno::EBADF)?;
    let node = fid.node();
    if !node.qid().is_dir() {
        return Err(Errno::ENOTDIR);
    }
    let count = m.count.min(ctx.max_payload());
    let mut sink = DirSink::new(count as usize);
    match handle {
        Some(h) => h.readdir(&ctx.req, &*node, m.offset, &mut sink).await?,
        None => node.readdir(&ctx.req, m.offset, &mut sink).await?,
    }
    Ok(l::Rreaddir { data: sink.finish_block() }.into())
}
