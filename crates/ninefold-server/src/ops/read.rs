//! Tread: file data, xattr values, and 9P2000/.u directory reads (whole
//! stat records).

use bytes::Bytes;
use ninefold_proto::{base, AccessMode, Errno};

use super::stat::dir_stats;
use super::Ctx;
use super::OpResult;
use crate::fid::FidMode;

pub(crate) async fn tread(ctx: &Ctx, m: &base::Tread) -> OpResult {
    let fid = ctx.fid()?;
    let count = m.count.min(ctx.max_payload());
    let (handle, flags) = match &*fid.mode() {
        FidMode::XattrRead(value) => {
            let start = usize::try_from(m.offset).unwrap_or(usize::MAX).min(value.len());
            let end = start.saturating_add(count as usize).min(value.len());
            return Ok(base::Rread { data: value.slice(start..end) }.into());
        }
        FidMode::Open(open) => (open.handle.clone(), open.flags),
        FidMode::Walked | FidMode::XattrWrite(_) => return Err(Errno::EBADF),
    };
    if matches!(flags.access_mode(), AccessMode::WriteOnly | AccessMode::NoAccess) {
        return Err(Errno::EBADF);
    }
    let node = fid.node();
    if node.qid().is_dir() {
        if ctx.dialect().is_dotl() {
            return Err(Errno::EISDIR);
        }
        let stats = dir_stats(ctx, fid, m.offset).await?;
        return Ok(base::Rread { data: stats.slice(m.offset, count)? }.into());
    }
    let mut data: Bytes = match handle {
        Some(h) => h.read(&ctx.req, &*node, m.offset, count).await?,
        None => node.read(&ctx.req, m.offset, count).await?,
    };
    if data.len() > count as usize {
        tracing::warn!(got = data.len(), count, "read returned more than asked; truncated");
        data.truncate(count as usize);
    }
    Ok(base::Rread { data }.into())
}
