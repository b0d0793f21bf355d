//! Answering a 9P2000.L.Z duplicate from the ledger: wait for the first
//! attempt if it is still running (single-flight), then replay its reply.
//! A replayed create still names and opens the created file on the
//! request's fid, found by the recorded `qid.path`, so the client sees the
//! same object the first attempt made.

use std::sync::Arc;

use bytes::Bytes;
use ninefold_proto::z::EOPIDSTALE;
use ninefold_proto::{Errno, Message, OpenFlags, P9String, Qid};

use super::open::install;
use super::{checked_name, dir_node, Ctx};
use crate::core::Replay;
use crate::fid::{FidMode, Location};
use crate::fs::Node;
use crate::reply::error_reply;

/// The reply to a duplicate.
pub(crate) async fn run(ctx: &Ctx, msg: &Message, replay: Replay) -> Message {
    let reply = match replay {
        Replay::Stored(m) => m,
        Replay::Wait(mut rx) => match rx.wait_for(Option::is_some).await {
            Ok(v) => match &*v {
                Some(m) => m.clone(),
                None => return error_reply(ctx.dialect(), EOPIDSTALE),
            },
            // The first attempt produced no outcome (flushed, or its
            // connection closed): unknown, so fail closed.
            Err(_) => return error_reply(ctx.dialect(), EOPIDSTALE),
        },
    };
    let r = match (msg, &*reply) {
        (Message::Tlcreateattr(m), Message::Rlcreateattr(r)) => {
            bind_created(ctx, &m.name, m.flags, r.attr.qid, true).await.map(|()| (*reply).clone())
        }
        (Message::Tlcreate(m), Message::Rlcreate(r)) => {
            bind_created(ctx, &m.name, m.flags, r.qid, false).await.map(|()| (*reply).clone())
        }
        _ => Ok((*reply).clone()),
    };
    r.unwrap_or_else(|e| error_reply(ctx.dialect(), e))
}

/// Opens the created object `qid` (named `name` in the request's
/// directory fid, unless renamed since) on the new fid (`newfid`) or on
/// the directory fid itself (Tlcreate).
async fn bind_created(
    ctx: &Ctx,
    name: &P9String,
    flags: OpenFlags,
    qid: Qid,
    newfid: bool,
) -> Result<(), Errno> {
    let fid = ctx.fid()?;
    let dir = dir_node(fid)?;
    let name = checked_name(name)?;
    let node = find(ctx, &dir, fid.location(), name, qid.path).await?;
    // Neither create again nor truncate what was written since.
    let flags = flags - (OpenFlags::CREATE | OpenFlags::EXCL | OpenFlags::TRUNC);
    let opened = node.open(&ctx.req, flags).await?;
    let loc = Location::child(&fid.location(), Bytes::copy_from_slice(name), node);
    if newfid {
        let new = fid.derive(loc);
        install(&new, opened, flags, false)?;
        ctx.bind_newfid(new)
    } else {
        if !matches!(*fid.mode(), FidMode::Walked) {
            return Err(Errno::EBUSY);
        }
        fid.set_location(loc);
        install(fid, opened, flags, false)
    }
}

/// The object with `qid.path == path`: by its name first, else through
/// the filesystem's index; ESTALE rather than another object.
async fn find(
    ctx: &Ctx,
    dir: &Arc<dyn Node>,
    loc: Arc<Location>,
    name: &[u8],
    path: u64,
) -> Result<Arc<dyn Node>, Errno> {
    if let Ok(n) = dir.lookup(&ctx.req, name).await {
        if n.qid().path == path {
            return Ok(n);
        }
    }
    let mut root = loc;
    while let Some(p) = root.parent.clone() {
        root = p;
    }
    match root.node.resolve(&ctx.req, path).await {
        Ok(n) if n.qid().path == path => Ok(n),
        _ => Err(Errno::ESTALE),
    }
}
