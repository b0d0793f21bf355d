//! Tauth and Tattach.

use std::sync::Arc;

use ninefold_proto::{base, Errno, NOFID};

use super::Ctx;
use super::OpResult;
use crate::fid::{Fid, Location};
use crate::fs::Identity;

/// Tauth: no authentication is required, and none is offered. In
/// 9P2000.L the answer is ENOENT, the errno diod's libnpclient (`diodls`,
/// `diodcat`) reads as "authentication not required"; it refuses a server
/// that answers anything else.
pub(crate) async fn tauth(ctx: &Ctx) -> OpResult {
    if ctx.dialect().is_dotl() {
        Err(Errno::ENOENT)
    } else {
        Ok(base::Rerror { ename: "no authentication required".into(), errno: Errno::EOPNOTSUPP }
            .into())
    }
}

/// Tattach: the attacher picks the root for the aname; the new fid
/// carries the attaching identity.
pub(crate) async fn tattach(ctx: &Ctx, m: &base::Tattach) -> OpResult {
    if m.afid != NOFID {
        // No auth fid can exist: Tauth always fails.
        return Err(Errno::EBADF);
    }
    let identity = Arc::new(Identity::from_attach(m.uname.clone(), m.n_uname));
    let mut req = ctx.req.clone();
    req.identity = identity.clone();
    req.aname = m.aname.clone().into_bytes();
    let root = ctx.conn.server.attacher.attach(&req).await?;
    let qid = root.qid();
    let fid = Fid::new(Location::root(root), identity, req.aname.clone());
    ctx.bind_newfid(fid)?;
    Ok(base::Rattach { qid }.into())
}
