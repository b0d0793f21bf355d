//! The operations: one module per request, with the file stems of
//! `ninefold_proto`'s message modules (`open.rs` holds Tlopen, Tlcreate,
//! and the 9P2000 Topen and Tcreate; `remove.rs` holds Tremove). Each
//! operation takes the request's [`Ctx`] and its message and returns the
//! reply message or an errno ([`OpResult`]); [`run`] is the one `match`
//! from a message to its operation.

pub(crate) mod attach;
pub(crate) mod clunk;
pub(crate) mod createattr;
pub(crate) mod fallocate;
pub(crate) mod fsync;
pub(crate) mod fsyncdur;
pub(crate) mod getattr;
pub(crate) mod lineage;
pub(crate) mod link;
pub(crate) mod lock;
pub(crate) mod lopenat;
pub(crate) mod mkdir;
pub(crate) mod mknod;
pub(crate) mod open;
pub(crate) mod read;
pub(crate) mod readdir;
pub(crate) mod readdirattr;
pub(crate) mod readlink;
pub(crate) mod rebind;
pub(crate) mod remove;
pub(crate) mod rename;
pub(crate) mod replay;
pub(crate) mod setattr;
pub(crate) mod setattrattr;
pub(crate) mod stat;
pub(crate) mod statfs;
pub(crate) mod symlink;
pub(crate) mod unlinkat;
pub(crate) mod walk;
pub(crate) mod walkgetattr;
pub(crate) mod write;
pub(crate) mod xattr;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use ninefold_proto::{Dialect, Errno, Message, P9String};

use crate::core::{Admitted, Marks};
use crate::fid::{lock, Fid, FidMode};
use crate::fs::{Node, Request};
use crate::middleware::Next;
use crate::reply::error_reply;
use crate::shell::Conn;

/// What an operation returns: the reply message, or the errno to answer.
pub(crate) type OpResult = Result<Message, Errno>;

/// The context an operation runs with: its connection, its [`Request`]
/// and the fids admission resolved for it.
#[derive(Debug)]
pub(crate) struct Ctx {
    pub(crate) conn: Arc<Conn>,
    pub(crate) req: Request,
    fid: Option<Arc<Fid>>,
    fid2: Option<Arc<Fid>>,
    newfid: Option<Reservation>,
    marks: Mutex<Marks>,
    /// The reply's payload, when an Rread's waits in a pipe (see
    /// [`crate::splice`]).
    body: Mutex<Option<crate::splice::Body>>,
}

impl Ctx {
    /// The context of an admitted request (its message stays with the
    /// caller).
    pub(crate) fn new(conn: Arc<Conn>, a: Admitted) -> (Ctx, Message) {
        let newfid = a.newfid.map(|(fid, replaces)| Reservation {
            conn: conn.clone(),
            fid,
            replaces,
            bound: AtomicBool::new(false),
        });
        let ctx = Ctx {
            conn,
            req: a.request,
            fid: a.fid,
            fid2: a.fid2,
            newfid,
            marks: Mutex::new(a.marks),
            body: Mutex::new(None),
        };
        (ctx, a.message)
    }

    /// Sets the reply's payload in a pipe (an Rread answered with no data
    /// of its own).
    pub(crate) fn set_body(&self, body: crate::splice::Body) {
        *lock(&self.body) = Some(body);
    }

    /// The reply's payload in a pipe, if the operation left one.
    pub(crate) fn take_body(&self) -> Option<crate::splice::Body> {
        lock(&self.body).take()
    }

    /// The request's (first) fid.
    pub(crate) fn fid(&self) -> Result<&Arc<Fid>, Errno> {
        self.fid.as_ref().ok_or(Errno::EBADF)
    }

    /// The request's second fid.
    pub(crate) fn fid2(&self) -> Result<&Arc<Fid>, Errno> {
        self.fid2.as_ref().ok_or(Errno::EBADF)
    }

    pub(crate) fn dialect(&self) -> Dialect {
        self.req.dialect()
    }

    /// The largest payload one reply may carry. In the Linux dialects every
    /// reply stays strictly below msize (the kernel's fd transport drops the
    /// connection at `size >= msize`). A `9P2000.L.Z` client is never the
    /// kernel, and ZeroFS's client asks for exactly `msize - 11` and takes
    /// any shorter reply for end of file, so there a reply may fill msize.
    pub(crate) fn max_payload(&self) -> u32 {
        let full = ninefold_proto::sizes::max_read_payload(self.req.msize());
        if self.dialect() == Dialect::Z {
            full
        } else {
            full.saturating_sub(1)
        }
    }

    /// Binds the request's new fid to `f` (on full success only).
    pub(crate) fn bind_newfid(&self, f: Arc<Fid>) -> Result<(), Errno> {
        let r = self.newfid.as_ref().ok_or(Errno::EBADF)?;
        let old = lock(&self.conn.core).bind(r.fid, f);
        r.bound.store(true, Ordering::Relaxed);
        if !r.replaces {
            self.conn.server.metrics.fids(1);
        }
        if let Some(old) = old {
            if old.is_open() || !matches!(*old.mode(), FidMode::Walked) {
                let conn = self.conn.clone();
                let num = r.fid;
                tokio::spawn(async move {
                    let _ = clunk::release(&conn, &old, num, None).await;
                });
            }
        }
        Ok(())
    }

    /// Drops the busy marks early (Tclunk waits for other requests on the
    /// same fid, not for itself).
    pub(crate) fn release_marks(&self) {
        lock(&self.marks).clear();
    }
}

/// A fid number reserved for a request; released on drop unless bound.
#[derive(Debug)]
struct Reservation {
    conn: Arc<Conn>,
    fid: u32,
    /// `true` when the request replaces its own fid (Twalk newfid == fid).
    replaces: bool,
    bound: AtomicBool,
}

impl Drop for Reservation {
    fn drop(&mut self) {
        if !self.bound.load(Ordering::Relaxed) && !self.replaces {
            lock(&self.conn.core).unreserve(self.fid);
        }
    }
}

/// Runs the middleware chain, then the operation.
pub(crate) async fn run_chain(ctx: &Ctx, msg: &Message) -> Message {
    // Auth fids and read-only grants are decided before any middleware.
    // The rare paths (an auth fid, a middleware chain) run boxed: their
    // futures would otherwise make every request's future larger (it is
    // copied whenever it moves).
    if attach::names_auth_fid(ctx) {
        if let Some(reply) = Box::pin(attach::auth_fid_op(ctx, msg)).await {
            return reply;
        }
    }
    if let Some(reply) = attach::refuse_read_only(ctx, msg) {
        return reply;
    }
    // Boxed: the mapped message lives across the awaits below.
    let mapped = attach::map_gid(ctx, msg).map(Box::new);
    let msg = mapped.as_deref().unwrap_or(msg);
    let chain = &ctx.conn.server.middleware;
    if chain.is_empty() {
        run(ctx, msg).await
    } else {
        Box::pin(Next::new(chain, ctx).run(&ctx.req, msg)).await
    }
}

/// The one `match` from a request to its operation. The operations a
/// busy client sends all the time (walk, open, read, write, getattr,
/// clunk, readdir, stat) run in place; the others run boxed, so the
/// largest of their futures does not set the size of every request's
/// future (which is copied whenever it moves): one allocation on a rare
/// request instead of copies on every one.
pub(crate) async fn run(ctx: &Ctx, msg: &Message) -> Message {
    let r = match msg {
        Message::Tauth(m) => Box::pin(attach::tauth(ctx, m)).await,
        Message::Tattach(m) => Box::pin(attach::tattach(ctx, m)).await,
        Message::Twalk(m) => walk::twalk(ctx, m).await,
        Message::Topen(m) => open::topen(ctx, m).await,
        Message::Tcreate(m) => Box::pin(open::tcreate(ctx, m)).await,
        Message::Tlopen(m) => open::tlopen(ctx, m).await,
        Message::Tlcreate(m) => Box::pin(open::tlcreate(ctx, m)).await,
        Message::Tread(m) => read::tread(ctx, m).await,
        Message::Twrite(m) => write::twrite(ctx, m).await,
        Message::Tclunk(_) => clunk::tclunk(ctx).await,
        Message::Tremove(_) => Box::pin(remove::tremove(ctx)).await,
        Message::Tstat(_) => stat::tstat(ctx).await,
        Message::Twstat(m) => Box::pin(stat::twstat(ctx, m)).await,
        Message::Tstatfs(_) => Box::pin(statfs::tstatfs(ctx)).await,
        Message::Tsymlink(m) => Box::pin(symlink::tsymlink(ctx, m)).await,
        Message::Tmknod(m) => Box::pin(mknod::tmknod(ctx, m)).await,
        Message::Trename(m) => Box::pin(rename::trename(ctx, m)).await,
        Message::Trenameat(m) => Box::pin(rename::trenameat(ctx, m)).await,
        Message::Treadlink(_) => Box::pin(readlink::treadlink(ctx)).await,
        Message::Tgetattr(m) => getattr::tgetattr(ctx, m).await,
        Message::Tsetattr(m) => Box::pin(setattr::tsetattr(ctx, m)).await,
        Message::Txattrwalk(m) => Box::pin(xattr::txattrwalk(ctx, m)).await,
        Message::Txattrcreate(m) => Box::pin(xattr::txattrcreate(ctx, m)).await,
        Message::Treaddir(m) => readdir::treaddir(ctx, m).await,
        Message::Tfsync(m) => Box::pin(fsync::tfsync(ctx, m)).await,
        Message::Tlock(m) => Box::pin(lock::tlock(ctx, m)).await,
        Message::Tgetlock(m) => Box::pin(lock::tgetlock(ctx, m)).await,
        Message::Tlink(m) => Box::pin(link::tlink(ctx, m)).await,
        Message::Tmkdir(m) => Box::pin(mkdir::tmkdir(ctx, m)).await,
        Message::Tunlinkat(m) => Box::pin(unlinkat::tunlinkat(ctx, m)).await,
        // 9P2000.L.Z private messages.
        Message::Tgetlineage(_) => Box::pin(lineage::tgetlineage(ctx)).await,
        Message::Twalkgetattr(m) => walkgetattr::twalkgetattr(ctx, m).await,
        Message::Tlopenat(m) => lopenat::tlopenat(ctx, m).await,
        Message::Tlopenatread(m) => lopenat::tlopenatread(ctx, m).await,
        Message::Tlcreateattr(m) => Box::pin(createattr::tlcreateattr(ctx, m)).await,
        Message::Tmkdirattr(m) => Box::pin(createattr::tmkdirattr(ctx, m)).await,
        Message::Tsymlinkattr(m) => Box::pin(createattr::tsymlinkattr(ctx, m)).await,
        Message::Tmknodattr(m) => Box::pin(createattr::tmknodattr(ctx, m)).await,
        Message::Tlinkattr(m) => Box::pin(createattr::tlinkattr(ctx, m)).await,
        Message::Tsetattrattr(m) => Box::pin(setattrattr::tsetattrattr(ctx, m)).await,
        Message::Treaddirattr(m) => Box::pin(readdirattr::treaddirattr(ctx, m)).await,
        Message::Tfsyncdur(m) => Box::pin(fsyncdur::tfsyncdur(ctx, m)).await,
        Message::Tfallocate(m) => Box::pin(fallocate::tfallocate(ctx, m)).await,
        Message::Trebind(m) => Box::pin(rebind::trebind(ctx, m)).await,
        // Anything else in the negotiated table the server does not
        // implement.
        _ => Err(Errno::ENOSYS),
    };
    r.unwrap_or_else(|e| error_reply(ctx.dialect(), e))
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

/// The fid's node, which must be a directory (ENOTDIR).
pub(crate) fn dir_node(fid: &Fid) -> Result<Arc<dyn Node>, Errno> {
    let node = fid.node();
    if node.qid().is_dir() {
        Ok(node)
    } else {
        Err(Errno::ENOTDIR)
    }
}

/// The iounit to advertise: a node's hint when it fits a request, else 0
/// ("msize - 24", what the Linux client performs best with).
pub(crate) fn iounit(hint: u32, msize: u32) -> u32 {
    if hint > 0 && hint <= msize.saturating_sub(ninefold_proto::sizes::IOHDRSZ) {
        hint
    } else {
        0
    }
}
