//! Routing: which fids a request names, the per-request context, and the
//! one `match` from a [`Message`] to its handler in [`crate::handle`].

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use ninefold_proto::{base, l, Dialect, Errno, Message, P9String};
use tokio::sync::OwnedRwLockReadGuard;
use tracing::field::Empty;

use crate::conn::state::ConnState;
use crate::conn::Conn;
use crate::fid::{lock, Fid, FidMode};
use crate::fs::{Identity, Request};
use crate::handle;
use crate::middleware::Next;

/// The fid fields of a request.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct FidRefs {
    /// The fid acted on (for Tlink the directory, for Trenameat the old
    /// directory).
    pub(crate) fid: Option<u32>,
    /// A second existing fid (Tlink's file, Trename's and Trenameat's new
    /// directory).
    pub(crate) fid2: Option<u32>,
    /// A fid the request creates (Tattach, Twalk, Txattrwalk).
    pub(crate) newfid: Option<u32>,
    /// The request ends the fid (Tclunk, Tremove): unbound on arrival.
    pub(crate) unbind: bool,
}

impl FidRefs {
    pub(crate) fn of(msg: &Message) -> FidRefs {
        let one = |fid| FidRefs { fid: Some(fid), ..FidRefs::default() };
        let two = |fid, fid2| FidRefs { fid: Some(fid), fid2: Some(fid2), ..FidRefs::default() };
        match msg {
            Message::Tattach(m) => FidRefs { newfid: Some(m.fid), ..FidRefs::default() },
            Message::Twalk(m) => {
                FidRefs { fid: Some(m.fid), newfid: Some(m.newfid), ..FidRefs::default() }
            }
            Message::Txattrwalk(m) => {
                FidRefs { fid: Some(m.fid), newfid: Some(m.newfid), ..FidRefs::default() }
            }
            Message::Tclunk(m) => FidRefs { fid: Some(m.fid), unbind: true, ..FidRefs::default() },
            Message::Tremove(m) => FidRefs { fid: Some(m.fid), unbind: true, ..FidRefs::default() },
            Message::Topen(m) => one(m.fid),
            Message::Tcreate(m) => one(m.fid),
            Message::Tread(m) => one(m.fid),
            Message::Twrite(m) => one(m.fid),
            Message::Tstat(m) => one(m.fid),
            Message::Twstat(m) => one(m.fid),
            Message::Tstatfs(m) => one(m.fid),
            Message::Tlopen(m) => one(m.fid),
            Message::Tlcreate(m) => one(m.fid),
            Message::Tsymlink(m) => one(m.fid),
            Message::Tmknod(m) => one(m.dfid),
            Message::Trename(m) => two(m.fid, m.dfid),
            Message::Treadlink(m) => one(m.fid),
            Message::Tgetattr(m) => one(m.fid),
            Message::Tsetattr(m) => one(m.fid),
            Message::Txattrcreate(m) => one(m.fid),
            Message::Treaddir(m) => one(m.fid),
            Message::Tfsync(m) => one(m.fid),
            Message::Tlock(m) => one(m.fid),
            Message::Tgetlock(m) => one(m.fid),
            Message::Tlink(m) => two(m.dfid, m.fid),
            Message::Tmkdir(m) => one(m.dfid),
            Message::Trenameat(m) => two(m.olddirfid, m.newdirfid),
            Message::Tunlinkat(m) => one(m.dirfid),
            _ => FidRefs::default(),
        }
    }

    /// The fid a request is "about", for spans and [`Request::fid`].
    pub(crate) fn primary(&self) -> Option<u32> {
        self.fid.or(self.newfid)
    }
}

/// A fid number reserved for a request; released on drop unless bound.
#[derive(Debug)]
pub(crate) struct Reservation {
    conn: Arc<Conn>,
    fid: u32,
    /// `true` when the request replaces its own fid (Twalk newfid == fid).
    replaces: bool,
    bound: AtomicBool,
}

impl Drop for Reservation {
    fn drop(&mut self) {
        if !self.bound.load(Ordering::Relaxed) && !self.replaces {
            lock(&self.conn.state).unreserve(self.fid);
        }
    }
}

/// What a request resolved on arrival.
#[derive(Debug, Default)]
pub(crate) struct Prepared {
    pub(crate) fid: Option<Arc<Fid>>,
    pub(crate) fid2: Option<Arc<Fid>>,
    pub(crate) newfid: Option<Reservation>,
    pub(crate) identity: Option<Arc<Identity>>,
    pub(crate) aname: Bytes,
    guards: Mutex<Vec<OwnedRwLockReadGuard<()>>>,
}

/// Resolves a request's fids in arrival order (called under the state
/// lock): existing fids are looked up and marked busy, a new fid is
/// reserved, and Tclunk/Tremove unbind theirs.
pub(crate) fn prepare(
    conn: &Arc<Conn>,
    st: &mut ConnState,
    refs: &FidRefs,
    msg: &Message,
) -> Result<Prepared, Errno> {
    let mut p = Prepared::default();
    if let Some(n) = refs.fid {
        let f = if refs.unbind {
            let f = st.remove(n)?;
            conn.fid_removed(1);
            f
        } else {
            let f = st.fid(n)?;
            lock(&p.guards).push(f.busy.clone().try_read_owned().map_err(|_| Errno::EBADF)?);
            f
        };
        p.identity = Some(f.identity.clone());
        p.aname = f.aname.clone();
        p.fid = Some(f);
    }
    if let Some(n) = refs.fid2 {
        let f = st.fid(n)?;
        lock(&p.guards).push(f.busy.clone().try_read_owned().map_err(|_| Errno::EBADF)?);
        p.fid2 = Some(f);
    }
    if let Some(n) = refs.newfid {
        let replaces = refs.fid == Some(n);
        if !replaces {
            st.reserve(n)?;
        }
        p.newfid = Some(Reservation {
            conn: conn.clone(),
            fid: n,
            replaces,
            bound: AtomicBool::new(false),
        });
    }
    if let Message::Tattach(a) = msg {
        let identity = Identity::from_attach(a.uname.clone(), a.n_uname);
        p.identity = Some(Arc::new(identity));
        p.aname = a.aname.clone().into_bytes();
    }
    Ok(p)
}

/// The context a handler runs with.
#[derive(Debug)]
pub(crate) struct Ctx {
    pub(crate) conn: Arc<Conn>,
    pub(crate) req: Request,
    prepared: Prepared,
}

impl Ctx {
    pub(crate) fn new(conn: Arc<Conn>, req: Request, prepared: Prepared) -> Ctx {
        Ctx { conn, req, prepared }
    }

    /// The request's (first) fid.
    pub(crate) fn fid(&self) -> Result<&Arc<Fid>, Errno> {
        self.prepared.fid.as_ref().ok_or(Errno::EBADF)
    }

    /// The request's second fid.
    pub(crate) fn fid2(&self) -> Result<&Arc<Fid>, Errno> {
        self.prepared.fid2.as_ref().ok_or(Errno::EBADF)
    }

    pub(crate) fn dialect(&self) -> Dialect {
        self.req.dialect()
    }

    /// The largest payload one reply may carry: every reply stays strictly
    /// below msize (the Linux fd transport drops the connection at
    /// `size >= msize`).
    pub(crate) fn max_payload(&self) -> u32 {
        ninefold_proto::sizes::max_read_payload(self.req.msize()).saturating_sub(1)
    }

    /// Binds the request's new fid to `f` (on full success only).
    pub(crate) fn bind_newfid(&self, f: Arc<Fid>) -> Result<(), Errno> {
        let r = self.prepared.newfid.as_ref().ok_or(Errno::EBADF)?;
        let old = lock(&self.conn.state).bind(r.fid, f);
        r.bound.store(true, Ordering::Relaxed);
        if !r.replaces {
            self.conn.fid_added();
        }
        if let Some(old) = old {
            if old.is_open() || !matches!(*old.mode(), FidMode::Walked) {
                let conn = self.conn.clone();
                let num = r.fid;
                tokio::spawn(async move {
                    let _ = handle::clunk::release(&conn, &old, num, None).await;
                });
            }
        }
        Ok(())
    }

    /// Drops the busy marks early (Tclunk waits for other requests on the
    /// same fid, not for itself).
    pub(crate) fn release_guards(&self) {
        lock(&self.prepared.guards).clear();
    }
}

/// A name from a create or walk request, refused when it could escape or
/// confuse a directory: empty, `.`, `..`, or containing `/` or NUL.
pub(crate) fn checked_name(name: &P9String) -> Result<&[u8], Errno> {
    let b = name.as_bytes();
    if b.is_empty() || b == b"." || b == b".." || b.contains(&b'/') || b.contains(&0) {
        return Err(Errno::EINVAL);
    }
    Ok(b)
}

/// The error reply of a dialect: Rlerror in 9P2000.L, Rerror elsewhere.
pub fn error_reply(dialect: Dialect, errno: Errno) -> Message {
    if dialect.is_dotl() {
        l::Rlerror { ecode: errno }.into()
    } else {
        base::Rerror::from_errno(errno).into()
    }
}

/// The errno of an error reply, if `m` is one.
pub(crate) fn reply_errno(m: &Message) -> Option<Errno> {
    match m {
        Message::Rlerror(e) => Some(e.ecode),
        Message::Rerror(e) => Some(e.to_errno()),
        _ => None,
    }
}

/// Whether a flush may abandon the request mid-way (its future is
/// dropped). Mutations run to completion and send their real reply.
pub(crate) fn is_interruptible(msg: &Message) -> bool {
    matches!(
        msg,
        Message::Tread(_)
            | Message::Twrite(_)
            | Message::Treaddir(_)
            | Message::Tlock(_)
            | Message::Tgetlock(_)
            | Message::Twalk(_)
            | Message::Tgetattr(_)
            | Message::Tstat(_)
            | Message::Txattrwalk(_)
            | Message::Treadlink(_)
            | Message::Tstatfs(_)
            | Message::Tfsync(_)
    )
}

/// The request's span: operation, tag, fid, and (when the span is
/// enabled) the fid's path; the errno is recorded on completion.
pub(crate) fn span(msg: &Message, tag: u16, req: &Request, p: &Prepared) -> tracing::Span {
    let span = tracing::debug_span!(
        "9p",
        rpc.system = "9p",
        rpc.method = msg.name(),
        conn = req.conn_id(),
        tag,
        fid = Empty,
        path = Empty,
        errno = Empty,
    );
    if !span.is_disabled() {
        if req.fid() != ninefold_proto::NOFID {
            span.record("fid", req.fid());
        }
        if let Some(f) = &p.fid {
            span.record("path", f.location().path());
        }
    }
    span
}

/// Records the reply's errno on the current span.
pub(crate) fn record_outcome(reply: &Message) {
    if let Some(e) = reply_errno(reply) {
        let span = tracing::Span::current();
        span.record("errno", tracing::field::display(e));
        tracing::debug!(errno = %e, "error reply");
    }
}

/// Runs the middleware chain, then [`dispatch`].
pub(crate) async fn run_chain(ctx: &Ctx, msg: &Message) -> Message {
    let chain = &ctx.conn.server.middleware;
    if chain.is_empty() {
        dispatch(ctx, msg).await
    } else {
        Next::new(chain, ctx).run(&ctx.req, msg).await
    }
}

/// The one `match` from a request to its handler.
pub(crate) async fn dispatch(ctx: &Ctx, msg: &Message) -> Message {
    use handle::*;
    let r = match msg {
        Message::Tauth(_) => attach::tauth(ctx).await,
        Message::Tattach(m) => attach::tattach(ctx, m).await,
        Message::Twalk(m) => walk::twalk(ctx, m).await,
        Message::Topen(m) => open::topen(ctx, m).await,
        Message::Tcreate(m) => create::tcreate(ctx, m).await,
        Message::Tlopen(m) => open::tlopen(ctx, m).await,
        Message::Tlcreate(m) => open::tlcreate(ctx, m).await,
        Message::Tread(m) => read::tread(ctx, m).await,
        Message::Twrite(m) => write::twrite(ctx, m).await,
        Message::Tclunk(_) => clunk::tclunk(ctx).await,
        Message::Tremove(_) => clunk::tremove(ctx).await,
        Message::Tstat(_) => stat::tstat(ctx).await,
        Message::Twstat(m) => stat::twstat(ctx, m).await,
        Message::Tstatfs(_) => statfs::tstatfs(ctx).await,
        Message::Tsymlink(m) => symlink::tsymlink(ctx, m).await,
        Message::Tmknod(m) => mknod::tmknod(ctx, m).await,
        Message::Trename(m) => rename::trename(ctx, m).await,
        Message::Trenameat(m) => rename::trenameat(ctx, m).await,
        Message::Treadlink(_) => readlink::treadlink(ctx).await,
        Message::Tgetattr(m) => getattr::tgetattr(ctx, m).await,
        Message::Tsetattr(m) => setattr::tsetattr(ctx, m).await,
        Message::Txattrwalk(m) => xattr::txattrwalk(ctx, m).await,
        Message::Txattrcreate(m) => xattr::txattrcreate(ctx, m).await,
        Message::Treaddir(m) => readdir::treaddir(ctx, m).await,
        Message::Tfsync(m) => fsync::tfsync(ctx, m).await,
        Message::Tlock(m) => lock::tlock(ctx, m).await,
        Message::Tgetlock(m) => lock::tgetlock(ctx, m).await,
        Message::Tlink(m) => link::tlink(ctx, m).await,
        Message::Tmkdir(m) => mkdir::tmkdir(ctx, m).await,
        Message::Tunlinkat(m) => unlinkat::tunlinkat(ctx, m).await,
        // Everything else in the negotiated table that the server does not
        // implement (9P2000.L.Z private messages until that dialect lands).
        _ => Err(Errno::ENOSYS),
    };
    r.unwrap_or_else(|e| error_reply(ctx.dialect(), e))
}
