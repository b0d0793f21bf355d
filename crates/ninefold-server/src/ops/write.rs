//! Twrite: file data, and the value of an xattr being created.

use ninefold_proto::{base, AccessMode, Errno};

use super::Ctx;
use super::OpResult;
use crate::fid::FidMode;

pub(crate) async fn twrite(ctx: &Ctx, m: &base::Twrite) -> OpResult {
    let fid = ctx.fid()?;
    let handle = {
        let mut mode = fid.mode();
        match &mut *mode {
            FidMode::XattrWrite(x) => {
                // Chunks land at their offset; the total must stay within
                // the size announced by Txattrcreate.
                let end = m.offset.checked_add(m.data.len() as u64).ok_or(Errno::EINVAL)?;
                if end > x.size {
                    return Err(Errno::EINVAL);
                }
                let (start, end) = (m.offset as usize, end as usize);
                if x.buf.len() < end {
                    x.buf.resize(end, 0);
                }
                x.buf[start..end].copy_from_slice(&m.data);
                return Ok(base::Rwrite { count: m.data.len() as u32 }.into());
            }
            FidMode::Open(open) => {
                if matches!(open.flags.access_mode(), AccessMode::ReadOnly | AccessMode::NoAccess) {
                    return Err(Errno::EBADF);
                }
                open.handle.clone()
            }
            FidMode::Walked | FidMode::XattrRead(_) => return Err(Errno::EBADF),
        }
    };
    let node = fid.node();
    if node.qid().is_dir() {
        return Err(Errno::EISDIR);
    }
    let len = m.data.len() as u32;
    let n = match handle {
        Some(h) => h.write(&ctx.req, &*node, m.offset, m.data.clone()).await?,
        None => node.write(&ctx.req, m.offset, m.data.clone()).await?,
    };
    Ok(base::Rwrite { count: n.min(len) }.into())
}
