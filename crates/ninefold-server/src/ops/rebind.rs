//! 9P2000.L.Z Trebind: bind an unused fid to an object named by its
//! `qid.path`, under an attach root named the same way, as given
//! credentials. How a reconnecting client restores its fids without
//! walking; the filesystem finds the object ([`Node::resolve`]).

use std::sync::atomic::Ordering;
use std::sync::Arc;

use bytes::Bytes;
use ninefold_proto::z::{self, Credentials};
use ninefold_proto::{Errno, GetattrMask, RebindFlags};

use super::{Ctx, OpResult};
use crate::fid::{Fid, Location};
use crate::fs::{Identity, Node};

pub(crate) async fn trebind(ctx: &Ctx, m: &z::Trebind) -> OpResult {
    let flags = m.flags;
    if !RebindFlags::all().contains(flags)
        || (flags.contains(RebindFlags::OPENED) && !flags.contains(RebindFlags::REPLAY))
    {
        return Err(Errno::EINVAL);
    }
    let creds = Credentials::parse(&m.uname, m.n_uname)?;
    let identity = Arc::new(identity_of(&creds));
    let mut req = ctx.req.clone();
    req.identity = identity.clone();
    let replay = flags.contains(RebindFlags::REPLAY);
    // Under REPLAY every refusal reads "cannot be restored".
    let stale = |e: Errno| if replay && e != Errno::EINVAL { Errno::ESTALE } else { e };

    let (aname, root, fs) = find_root(&req, ctx, m.root_inode).await.map_err(stale)?;
    // The access policy decides as for a Tattach without an auth fid (the
    // transport's principal, or a trusted network).
    let principal = ctx.req.peer().principal().cloned().map(Arc::new);
    let n_uname = identity.uid.unwrap_or(ninefold_proto::NONUNAME);
    let identity =
        super::attach::authorize(ctx, principal.as_ref(), &identity.uname, n_uname, &aname)
            .map_err(stale)?;
    req.identity = identity.clone();
    req.aname = aname.clone();
    let target = if m.inode_id == m.root_inode {
        root.node.clone()
    } else {
        fs.resolve(&req, m.inode_id).await.map_err(stale)?
    };
    if target.qid().path != m.inode_id {
        return Err(Errno::ESTALE);
    }
    let attr = target.getattr(&req, GetattrMask::BASIC).await.map_err(stale)?;
    if attr.nlink == 0 && !target.qid().is_dir() {
        return Err(if replay { Errno::ESTALE } else { Errno::EACCES });
    }
    let loc = if Arc::ptr_eq(&target, &root.node) {
        root
    } else {
        // Only the object is known, not the path to it: `..` from a
        // rebound directory leads to the attach root.
        let name = Bytes::from(format!("#{}", m.inode_id));
        Location::child(&root, name, target.clone())
    };
    let fid = Fid::new(loc, identity, aname);
    if flags.contains(RebindFlags::OPENED) {
        fid.replay_opened.store(true, Ordering::Relaxed);
    }
    ctx.bind_newfid(fid)?;
    Ok(z::Rrebind { qid: target.qid() }.into())
}

/// The identity the credentials stand for, as an attach with the same
/// `uname` and `n_uname` would get (the binary form carries its uid).
fn identity_of(creds: &Credentials) -> Identity {
    match creds {
        Credentials::Name { uname, uid } => Identity::from_attach(uname.clone().into_bytes(), *uid),
        Credentials::Groups { uid, .. } => Identity::from_attach(Bytes::new(), *uid),
    }
}

/// The export root whose `qid.path` is `root_inode` (ESTALE for anything
/// else: only whole exports are attached here), with its aname.
async fn find_root(
    req: &crate::fs::Request,
    ctx: &Ctx,
    root_inode: u64,
) -> Result<(Bytes, Arc<Location>, Arc<dyn Node>), Errno> {
    let roots = ctx.conn.server.attacher.roots(req).await;
    for (aname, root) in &roots {
        if root.qid().path == root_inode {
            return Ok((aname.clone(), Location::root(root.clone()), root.clone()));
        }
    }
    Err(Errno::ESTALE)
}
