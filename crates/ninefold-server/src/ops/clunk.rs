//! Tclunk, and the release of a fid's state (also used by Tremove,
//! Tversion and disconnects).

use std::sync::Arc;

use ninefold_proto::{base, Errno, UnlinkatFlags};

use super::{Ctx, OpResult};
use crate::fid::{Fid, FidMode};
use crate::fs::Request;
use crate::shell::Conn;

/// Waits until every earlier request on `fid` has finished, then releases
/// what it holds: the open handle (its locks), a pending xattr value
/// (committed here), a remove-on-close. The error, if any, belongs in the
/// Rclunk slot.
pub(crate) async fn release(
    conn: &Arc<Conn>,
    fid: &Arc<Fid>,
    num: u32,
    req: Option<&Request>,
) -> Result<(), Errno> {
    let _exclusive = fid.busy.clone().write_owned().await;
    let commit = req.is_some();
    // A reset's release has no request of its own: one is made for it. (A
    // clunk's is borrowed, not cloned: no reference counts to touch.)
    let own;
    let req = match req {
        Some(r) => r,
        None => {
            own = Request {
                conn: conn.facts(),
                identity: fid.identity.clone(),
                aname: fid.aname.clone(),
                // The fid's own number: lock ownership is (connection, fid).
                fid: num,
                tag: ninefold_proto::NOTAG,
                cancel: Default::default(),
                envelope: None,
            };
            &own
        }
    };
    let mode = std::mem::take(&mut *fid.mode());
    let loc = fid.location();
    match mode {
        FidMode::Walked | FidMode::XattrRead(_) => Ok(()),
        FidMode::Open(open) => {
            let released = match &open.handle {
                Some(h) => h.release(req, &*loc.node).await,
                None => loc.node.release(req).await,
            };
            if open.remove_on_clunk {
                if let Some(parent) = &loc.parent {
                    let flags = if loc.node.qid().is_dir() {
                        UnlinkatFlags::REMOVEDIR
                    } else {
                        UnlinkatFlags::empty()
                    };
                    parent.node.unlink(req, &loc.name, flags).await?;
                }
            }
            released
        }
        // Only a real clunk commits; a reset abandons the value.
        FidMode::XattrWrite(_) if !commit => Ok(()),
        FidMode::XattrWrite(x) => {
            if x.size == 0 {
                loc.node.xattr_remove(req, &x.name).await
            } else if x.buf.len() as u64 != x.size {
                Err(Errno::EINVAL)
            } else {
                loc.node.xattr_set(req, &x.name, x.buf.freeze(), x.flags).await
            }
        }
    }
}

pub(crate) async fn tclunk(ctx: &Ctx) -> OpResult {
    let fid = ctx.fid()?;
    ctx.release_marks();
    release(&ctx.conn, fid, ctx.req.fid(), Some(&ctx.req)).await?;
    Ok(base::Rclunk.into())
}
