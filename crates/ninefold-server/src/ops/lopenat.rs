//! 9P2000.L.Z Tlopenat (clone + open) and Tlopenatread (clone + open +
//! read of the start), composed from `open`, `read` and `getattr`.

use std::sync::Arc;

use bytes::Bytes;
use ninefold_proto::{z, Errno, GetattrMask, OpenFlags, Qid, S_IFMT, S_IFREG};

use super::open::open_fid;
use super::walk::walkable;
use super::{Ctx, OpResult};
use crate::fid::Fid;

/// Fixed size of Rlopenatread: `size type tag qid iounit eof count`.
const RLOPENATREAD_OVERHEAD: u32 = 29;

/// Opens `fid`'s object on the request's new fid (or in place when
/// `newfid == fid`, allowed only for an unopened fid), binding it only on
/// success. Returns the open fid, its qid and iounit.
async fn open_at(ctx: &Ctx, newfid: u32, flags: OpenFlags) -> Result<(Arc<Fid>, Qid, u32), Errno> {
    let fid = ctx.fid()?;
    walkable(fid)?;
    // CREATE and EXCL mean nothing for an object that exists.
    let flags = flags - (OpenFlags::CREATE | OpenFlags::EXCL);
    if newfid == ctx.req.fid() {
        let (qid, unit) = open_fid(ctx, fid, flags, false).await?;
        return Ok((fid.clone(), qid, unit));
    }
    let new = fid.derive(fid.location());
    let (qid, unit) = open_fid(ctx, &new, flags, false).await?;
    ctx.bind_newfid(new.clone())?;
    Ok((new, qid, unit))
}

pub(crate) async fn tlopenat(ctx: &Ctx, m: &z::Tlopenat) -> OpResult {
    let (_, qid, iounit) = open_at(ctx, m.newfid, m.flags).await?;
    Ok(z::Rlopenat { qid, iounit }.into())
}

pub(crate) async fn tlopenatread(ctx: &Ctx, m: &z::Tlopenatread) -> OpResult {
    let (fid, qid, iounit) = open_at(ctx, m.newfid, m.flags).await?;
    // Clamped to msize - 29, as the reference says (only `.Z` replies may
    // fill msize; see the writer).
    let max = ctx.req.msize().saturating_sub(RLOPENATREAD_OVERHEAD);
    let count = m.count.min(max);
    // The open is authoritative, the read best-effort: no data and eof
    // false when the open cannot read or the read fails.
    let (data, eof) = if m.flags.access_mode().can_read() && !qid.is_dir() {
        read_start(ctx, &fid, count).await.unwrap_or((Bytes::new(), false))
    } else {
        (Bytes::new(), false)
    };
    Ok(z::Rlopenatread { qid, iounit, eof, data }.into())
}

/// Up to `count` bytes from offset 0 of a regular file, and whether
/// they are the whole file (FIFOs and devices are not read: a read there
/// could wait forever).
async fn read_start(ctx: &Ctx, fid: &Fid, count: u32) -> Result<(Bytes, bool), Errno> {
    let node = fid.node();
    let handle = fid.open_handle().map_err(|()| Errno::EBADF)?;
    let attr = match &handle {
        Some(h) => h.getattr(&ctx.req, &*node, GetattrMask::BASIC).await?,
        None => node.getattr(&ctx.req, GetattrMask::BASIC).await?,
    };
    if attr.mode & S_IFMT != S_IFREG {
        return Err(Errno::EINVAL);
    }
    let mut data = match &handle {
        Some(h) => h.read(&ctx.req, &*node, 0, count).await?,
        None => node.read(&ctx.req, 0, count).await?,
    };
    data.truncate(count as usize);
    let eof = data.len() < count as usize || data.len() as u64 >= attr.size;
    Ok((data, eof))
}
