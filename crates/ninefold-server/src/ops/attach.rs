//! Tauth and Tattach, the operations on auth fids, and the access checks
//! every attach (and 9P2000.L.Z Trebind) and every mutation goes through.

use std::sync::Arc;

use bytes::Bytes;
use ninefold_proto::{base, Errno, Message, Qid, QidType, NOFID};
use tracing::warn;

use super::Ctx;
use super::OpResult;
use crate::access::Stage;
use crate::auth::AuthFid;
use crate::fid::{lock, Fid, Location};
use crate::fs::Identity;
use crate::reply::error_reply;
use crate::{Node, Principal};

/// Tauth. Without keys no authentication is offered: in 9P2000.L the
/// answer is ENOENT, the errno diod's libnpclient (`diodls`, `diodcat`)
/// and the Linux client read as "authentication not required". With keys,
/// `afid` becomes an auth fid (qid type QTAUTH) running the exchange of
/// docs/AUTH.md.
pub(crate) async fn tauth(ctx: &Ctx, m: &base::Tauth) -> OpResult {
    let server = &ctx.conn.server;
    if server.keys.is_empty() {
        return if ctx.dialect().is_dotl() {
            Err(Errno::ENOENT)
        } else {
            Ok(base::Rerror {
                ename: "no authentication required".into(),
                errno: Errno::EOPNOTSUPP,
            }
            .into())
        };
    }
    let n_uname =
        if ctx.dialect().has_unix_fields() { m.n_uname } else { ninefold_proto::NONUNAME };
    let af = AuthFid::new(m.uname.clone().into_bytes(), n_uname, m.aname.clone().into_bytes())?;
    let aqid = Qid { ty: QidType::AUTH, version: 0, path: u64::from(m.afid) };
    let fid = Fid::new_auth(Location::root(Arc::new(AuthNode(aqid))), af);
    {
        let mut core = lock(&ctx.conn.core);
        core.reserve(m.afid)?;
        core.bind(m.afid, fid);
    }
    server.metrics.fids(1);
    Ok(base::Rauth { aqid }.into())
}

/// The placeholder node of an auth fid: it has a qid and nothing else
/// (every other operation is refused before reaching it).
#[derive(Debug)]
struct AuthNode(Qid);

#[async_trait::async_trait]
impl Node for AuthNode {
    fn qid(&self) -> Qid {
        self.0
    }
}

/// Whether the request names an auth fid (then [`auth_fid_op`] decides
/// it).
pub(crate) fn names_auth_fid(ctx: &Ctx) -> bool {
    ctx.fid().is_ok_and(|f| f.auth.is_some()) || ctx.fid2().is_ok_and(|f| f.auth.is_some())
}

/// Requests on an auth fid: Tread and Twrite run the exchange, Tremove
/// clunks it (Tclunk takes the ordinary path); anything else (a walk, an open, a getattr, using
/// it as a second fid) is EBADF. `None` when the request names no auth
/// fid.
pub(crate) async fn auth_fid_op(ctx: &Ctx, msg: &Message) -> Option<Message> {
    let fid = ctx.fid().ok();
    let auth = fid.and_then(|f| f.auth.clone());
    let second = ctx.fid2().ok().is_some_and(|f| f.auth.is_some());
    if auth.is_none() && !second {
        return None;
    }
    let reply = match (msg, auth) {
        (_, _) if second => Err(Errno::EBADF),
        (Message::Tread(m), Some(a)) => {
            let count = m.count.min(ctx.max_payload());
            a.read(m.offset, count).map(|data| base::Rread { data }.into())
        }
        (Message::Twrite(m), Some(a)) => match a.write(&ctx.conn.server.keys, m.offset, &m.data) {
            Ok(count) => Ok(base::Rwrite { count }.into()),
            Err(why) => {
                deny(ctx, Stage::Auth, why, None, None);
                Err(Errno::EACCES)
            }
        },
        // A clunk of an auth fid is an ordinary clunk.
        (Message::Tclunk(_), Some(_)) => return None,
        (Message::Tremove(_), Some(_)) => {
            super::clunk::tclunk(ctx).await.map(|_| base::Rremove.into())
        }
        _ => Err(Errno::EBADF),
    };
    Some(reply.unwrap_or_else(|e| error_reply(ctx.dialect(), e)))
}

/// Tattach: the identity comes from the access policy (with the auth
/// fid's or the transport's principal) when the server has one, else from
/// what the client asserts; the attacher then picks the root for the
/// aname.
pub(crate) async fn tattach(ctx: &Ctx, m: &base::Tattach) -> OpResult {
    let uname = m.uname.clone().into_bytes();
    let aname = m.aname.clone().into_bytes();
    let n_uname =
        if ctx.dialect().has_unix_fields() { m.n_uname } else { ninefold_proto::NONUNAME };
    let principal = if m.afid == NOFID {
        ctx.req.peer().principal().cloned().map(Arc::new)
    } else {
        let f = lock(&ctx.conn.core).fid(m.afid)?;
        let af = f.auth.clone().ok_or(Errno::EBADF)?;
        match af.principal_for(&uname, n_uname, &aname) {
            Ok(p) => Some(p),
            Err(why) => {
                deny(ctx, Stage::Attach, why, None, Some(&aname));
                return Err(Errno::EACCES);
            }
        }
    };
    let identity = authorize(ctx, principal.as_ref(), &uname, n_uname, &aname)?;
    let mut req = ctx.req.clone();
    req.identity = identity.clone();
    req.aname = aname;
    let root = ctx.conn.server.attacher.attach(&req).await?;
    let qid = root.qid();
    let fid = Fid::new(Location::root(root), identity, req.aname.clone());
    ctx.bind_newfid(fid)?;
    Ok(base::Rattach { qid }.into())
}

/// The identity an attach (or Trebind) of `aname` by `principal`,
/// asserting `uname`/`n_uname`, gets: the policy's decision, or as
/// asserted without a policy. A refusal is EACCES, logged and counted.
pub(crate) fn authorize(
    ctx: &Ctx,
    principal: Option<&Arc<Principal>>,
    uname: &Bytes,
    n_uname: u32,
    aname: &[u8],
) -> Result<Arc<Identity>, Errno> {
    let Some(policy) = &ctx.conn.server.access else {
        let mut id = Identity::from_attach(uname.clone(), n_uname);
        id.principal = principal.cloned();
        return Ok(Arc::new(id));
    };
    match policy.decide(ctx.req.peer(), principal, uname, n_uname, aname) {
        Ok(id) => Ok(Arc::new(id)),
        Err(why) => {
            let who = principal.map(|p| p.name().to_owned());
            let uid = (n_uname != ninefold_proto::NONUNAME).then_some(n_uname);
            deny_as(ctx, Stage::Attach, why, who.as_deref(), uid, Some(aname));
            Err(Errno::EACCES)
        }
    }
}

/// EROFS for a mutation through a fid attached under a read-only grant
/// (either fid of a two-fid request). What mutates is proto's fact
/// ([`Message::mutates`]).
pub(crate) fn refuse_read_only(ctx: &Ctx, msg: &Message) -> Option<Message> {
    let ro = |f: Result<&Arc<Fid>, Errno>| f.is_ok_and(|f| f.identity.read_only);
    if !(msg.mutates() && (ro(ctx.fid()) || ro(ctx.fid2()))) {
        return None;
    }
    let who = ctx.req.identity().principal_name().map(str::to_owned);
    deny_as(ctx, Stage::ReadOnly, "read-only grant", who.as_deref(), ctx.req.uid(), None);
    Some(error_reply(ctx.dialect(), Errno::EROFS))
}

fn deny(ctx: &Ctx, stage: Stage, why: &str, uid: Option<u32>, aname: Option<&[u8]>) {
    deny_as(ctx, stage, why, None, uid, aname);
}

/// Logs a refusal with the peer and identity, and counts it.
fn deny_as(
    ctx: &Ctx,
    stage: Stage,
    why: &str,
    principal: Option<&str>,
    uid: Option<u32>,
    aname: Option<&[u8]>,
) {
    ctx.conn.server.denials.count(stage);
    let aname = aname.map(|a| String::from_utf8_lossy(a).into_owned());
    let uid = uid.map_or_else(|| "-".to_owned(), |u| u.to_string());
    warn!(
        remote = ctx.req.peer().remote().unwrap_or("-"),
        principal = principal.unwrap_or("-"),
        uid = %uid,
        aname = aname.as_deref().unwrap_or("-"),
        reason = why,
        "access denied ({})",
        stage.name()
    );
}

/// A create through an identity whose grant maps a group carries that
/// group, whatever the client named (`None`: the message as sent).
pub(crate) fn map_gid(ctx: &Ctx, msg: &Message) -> Option<Message> {
    let gid = ctx.req.identity().gid?;
    let mut m = match msg {
        Message::Tlcreate(_)
        | Message::Tmkdir(_)
        | Message::Tsymlink(_)
        | Message::Tmknod(_)
        | Message::Tlcreateattr(_)
        | Message::Tmkdirattr(_)
        | Message::Tsymlinkattr(_)
        | Message::Tmknodattr(_) => msg.clone(),
        _ => return None,
    };
    match &mut m {
        Message::Tlcreate(x) => x.gid = gid,
        Message::Tmkdir(x) => x.gid = gid,
        Message::Tsymlink(x) => x.gid = gid,
        Message::Tmknod(x) => x.gid = gid,
        Message::Tlcreateattr(x) => x.gid = gid,
        Message::Tmkdirattr(x) => x.gid = gid,
        Message::Tsymlinkattr(x) => x.gid = gid,
        Message::Tmknodattr(x) => x.gid = gid,
        _ => {}
    }
    Some(m)
}
