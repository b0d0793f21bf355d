//! Tread: file data, xattr values, and 9P2000/.u directory reads (whole
//! stat records).

use bytes::Bytes;
use ninefold_proto::{base, AccessMode, Errno};

use super::stat::dir_stats;
use super::Ctx;
use super::OpResult;
use crate::fid::FidMode;
use crate::fs::{Handle, Node};
use crate::splice::{Body, Choice, Way, SPLICE_MIN};

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
    let mut timed = None;
    if let Some(h) = &handle {
        match spliced(ctx, &**h, &*node, m.offset, count).await? {
            Spliced::Sent => return Ok(base::Rread { data: Bytes::new() }.into()),
            Spliced::Copy(sample) => timed = sample.map(|c| (c, std::time::Instant::now())),
        }
    }
    let mut data: Bytes = match handle {
        Some(h) => h.read(&ctx.req, &*node, m.offset, count).await?,
        None => node.read(&ctx.req, m.offset, count).await?,
    };
    if let Some((choice, start)) = timed {
        choice.filled(Way::Copy, data.len(), start.elapsed());
    }
    if data.len() > count as usize {
        tracing::warn!(got = data.len(), count, "read returned more than asked; truncated");
        data.truncate(count as usize);
    }
    Ok(base::Rread { data }.into())
}

/// What became of a read offered a pipe.
enum Spliced {
    /// Answered through a pipe: the reply is an Rread with no data of its
    /// own (its payload is the connection's body).
    Sent,
    /// To be copied; timed as a sample of copying into this choice.
    Copy(Option<&'static Choice>),
}

/// The read answered through a pipe (see [`crate::splice`]), when the
/// connection, the request and the handle allow it and splicing is the
/// cheaper way ([`crate::splice::Choice`]); else it is to be copied.
async fn spliced(
    ctx: &Ctx,
    handle: &dyn Handle,
    node: &dyn Node,
    offset: u64,
    count: u32,
) -> Result<Spliced, Errno> {
    // Middleware and the `.Z` ledger see the reply's message; with its
    // payload in a pipe they would see an empty read.
    let Some(pipes) = ctx.conn.out.pipes() else { return Ok(Spliced::Copy(None)) };
    if (count as usize) < SPLICE_MIN
        || ctx.req.envelope().is_some()
        || !ctx.conn.server.middleware.is_empty()
    {
        return Ok(Spliced::Copy(None));
    }
    if pipes.way(count as usize) == Way::Copy {
        return Ok(Spliced::Copy(pipes.samples(Way::Copy)));
    }
    let Some(mut lease) = ctx.conn.out.lease_pipe(offset, count as usize) else {
        return Ok(Spliced::Copy(None));
    };
    let Some(sink) = lease.sink() else { return Ok(Spliced::Copy(None)) };
    let start = std::time::Instant::now();
    let Some(n) = handle.read_to_pipe(&ctx.req, node, offset, count, sink).await? else {
        return Ok(Spliced::Copy(None));
    };
    let held = lease.filled().map_err(|e| {
        tracing::error!(error = %e, "cannot tell what a spliced read's pipe holds");
        Errno::EIO
    })?;
    if held != n as usize || n > count {
        tracing::error!(
            returned = n,
            held,
            count,
            "a spliced read's count is not what its pipe holds"
        );
        return Err(Errno::EIO);
    }
    pipes.note_spliced();
    if let Some(choice) = pipes.samples(Way::Splice) {
        choice.filled(Way::Splice, held, start.elapsed());
    }
    if n > 0 {
        ctx.set_body(Body::new(lease, held));
    }
    Ok(Spliced::Sent)
}
