//! [`Request`]: who is asking, on which connection, and whether the
//! request has been flushed.

use std::sync::atomic::{fence, AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};

use bytes::Bytes;
use ninefold_proto::z::Envelope;
use ninefold_proto::{Dialect, NOFID, NONUNAME};
use tokio_util::sync::{CancellationToken, WaitForCancellationFuture};

/// The identity a fid was attached with, inherited by every fid walked
/// from it.
///
/// Without an [`AccessPolicy`](crate::AccessPolicy) the server trusts what
/// the client asserts in Tattach (`uname`, `n_uname`). With one, the
/// identity is what the policy decided for the authenticated
/// [`principal`](Identity::principal): the asserted uid when the grant
/// allows it, else the grant's uid (squashed), and the attach is refused
/// otherwise. A filesystem that checks permissions reads
/// [`Identity::uid`] (and may read `principal` for its own rules).
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Identity {
    /// The user name from Tattach (`""` for the Linux client's per-user
    /// attaches).
    pub uname: Bytes,
    /// The numeric uid (`n_uname`, or the uid the access policy mapped
    /// it to), or `None` when the client sent "none" (0xFFFFFFFF) and
    /// only a name.
    pub uid: Option<u32>,
    /// The group the access policy maps this identity to (a grant's
    /// `gid`), or `None`: the group a client names in a create is then
    /// used as sent.
    pub gid: Option<u32>,
    /// Who authentication proved is at the other end (a Tauth key, a TLS
    /// client certificate), or `None` for an unauthenticated peer the
    /// policy trusts (or a server without a policy).
    pub principal: Option<Arc<crate::Principal>>,
    /// The attach was granted read-only: the server itself answers EROFS
    /// to every request that would change the tree through this fid.
    pub read_only: bool,
}

impl Identity {
    /// An identity from Tattach's `uname` and `n_uname` fields.
    pub fn from_attach(uname: impl Into<Bytes>, n_uname: u32) -> Identity {
        let uid = (n_uname != NONUNAME).then_some(n_uname);
        Identity { uname: uname.into(), uid, ..Identity::default() }
    }

    /// The superuser (uid 0, uname "root").
    pub fn root() -> Identity {
        Identity { uname: Bytes::from_static(b"root"), uid: Some(0), ..Identity::default() }
    }

    /// The authenticated principal's name, if any.
    pub fn principal_name(&self) -> Option<&str> {
        self.principal.as_deref().map(crate::Principal::name)
    }
}

/// Per-connection facts shared by every request on it.
#[derive(Debug)]
pub(crate) struct ConnFacts {
    pub(crate) id: u64,
    pub(crate) dialect: Dialect,
    pub(crate) msize: u32,
    pub(crate) peer: Arc<crate::Peer>,
}

/// Lock ownership: an open fid on one connection. Two fids (or two
/// connections) are two owners, so their byte-range locks conflict.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LockOwner {
    /// The connection ([`Request::conn_id`]).
    pub conn: u64,
    /// The fid on that connection.
    pub fid: u32,
}

/// The context of one request, passed to every [`Node`](crate::Node) and
/// [`Handle`](crate::Handle) method.
///
/// It says who is asking ([`identity`](Request::identity)), through which
/// connection and dialect, and carries the request's cancellation: when
/// the client flushes the request, [`cancelled`](Request::cancelled)
/// completes. Methods that may wait for a long time (blocking locks, slow
/// synthetic reads) should select on it; the server also drops the
/// method's future when the request is flushed, so awaiting it is only
/// needed for work that must be undone explicitly.
///
/// Outside the server (tests, proxies, calling a filesystem directly),
/// build one with [`Request::new`]:
///
/// ```
/// use ninefold_server::{Identity, Request};
///
/// let req = Request::new(Identity::root()).with_fid(7);
/// assert_eq!(req.identity().uid, Some(0));
/// assert_eq!(req.lock_owner().fid, 7);
/// assert!(!req.is_cancelled());
/// ```
#[derive(Clone, Debug)]
pub struct Request {
    pub(crate) conn: Arc<ConnFacts>,
    pub(crate) identity: Arc<Identity>,
    pub(crate) aname: Bytes,
    pub(crate) fid: u32,
    pub(crate) tag: u16,
    pub(crate) cancel: Arc<Flush>,
    pub(crate) envelope: Option<Envelope>,
}

/// Whether a request has been flushed: a flag, and a [`CancellationToken`]
/// made only when someone waits for the flush ([`Request::cancelled`]),
/// so a request that never waits costs one small allocation and no lock
/// (a token takes a lock to be cloned, dropped or read).
#[derive(Debug, Default)]
pub(crate) struct Flush {
    flushed: AtomicBool,
    token: OnceLock<CancellationToken>,
}

impl Flush {
    /// Watches `token` (cancelling it counts as a flush).
    fn with_token(token: CancellationToken) -> Flush {
        Flush { flushed: AtomicBool::new(false), token: OnceLock::from(token) }
    }

    /// The client flushed the request.
    pub(crate) fn cancel(&self) {
        self.flushed.store(true, Ordering::SeqCst);
        // Pairs with the fence in `token`: either that sees the flag, or
        // this sees the token.
        fence(Ordering::SeqCst);
        if let Some(t) = self.token.get() {
            t.cancel();
        }
    }

    /// Whether the request has been flushed.
    pub(crate) fn is_cancelled(&self) -> bool {
        self.flushed.load(Ordering::SeqCst) || self.token.get().is_some_and(|t| t.is_cancelled())
    }

    /// The token, made on first use (cancelled if the flush came first).
    fn token(&self) -> &CancellationToken {
        let t = self.token.get_or_init(CancellationToken::new);
        fence(Ordering::SeqCst);
        if self.flushed.load(Ordering::SeqCst) {
            t.cancel();
        }
        t
    }

    /// Completes when the request is flushed.
    pub(crate) fn cancelled(&self) -> WaitForCancellationFuture<'_> {
        self.token().cancelled()
    }
}

impl Request {
    /// A request context outside any connection: dialect 9P2000.L, msize
    /// 1 MiB + 24, connection id 0, no fid, tag 0.
    pub fn new(identity: Identity) -> Request {
        Request {
            conn: Arc::new(ConnFacts {
                id: 0,
                dialect: Dialect::L,
                msize: crate::config::DEFAULT_MAX_MSIZE,
                peer: Arc::default(),
            }),
            identity: Arc::new(identity),
            aname: Bytes::new(),
            fid: NOFID,
            tag: 0,
            cancel: Arc::default(),
            envelope: None,
        }
    }

    /// The same context for another fid.
    #[must_use]
    pub fn with_fid(mut self, fid: u32) -> Request {
        self.fid = fid;
        self
    }

    /// The same context as if on connection `id` (lock ownership differs
    /// between connections).
    #[must_use]
    pub fn with_conn_id(mut self, id: u64) -> Request {
        let facts = ConnFacts {
            id,
            dialect: self.conn.dialect,
            msize: self.conn.msize,
            peer: self.conn.peer.clone(),
        };
        self.conn = Arc::new(facts);
        self
    }

    /// The same context as if attached with `aname` (to test an
    /// [`Attacher`](crate::Attacher)).
    #[must_use]
    pub fn with_aname(mut self, aname: impl Into<Bytes>) -> Request {
        self.aname = aname.into();
        self
    }

    /// The same context with another cancellation token (to test how a
    /// method reacts to a flush).
    #[must_use]
    pub fn with_cancellation(mut self, token: CancellationToken) -> Request {
        self.cancel = Arc::new(Flush::with_token(token));
        self
    }

    /// Who is asking: the identity the fid was attached with.
    pub fn identity(&self) -> &Identity {
        &self.identity
    }

    /// The authenticated principal the fid was attached by (shorthand
    /// for `identity().principal`); `None` for a trusted, unauthenticated
    /// attach.
    pub fn principal(&self) -> Option<&crate::Principal> {
        self.identity.principal.as_deref()
    }

    /// Shorthand for `identity().uid`.
    pub fn uid(&self) -> Option<u32> {
        self.identity.uid
    }

    /// The attach name the fid descends from.
    pub fn aname(&self) -> &[u8] {
        &self.aname
    }

    /// The dialect negotiated on this connection.
    pub fn dialect(&self) -> Dialect {
        self.conn.dialect
    }

    /// The msize negotiated on this connection.
    pub fn msize(&self) -> u32 {
        self.conn.msize
    }

    /// A number identifying the connection, unique for the server's life.
    pub fn conn_id(&self) -> u64 {
        self.conn.id
    }

    /// The peer's address, when the transport has one.
    pub fn remote_addr(&self) -> Option<&str> {
        self.conn.peer.remote()
    }

    /// The connection's peer: its address and the principal its
    /// transport authenticated, if any.
    pub fn peer(&self) -> &crate::Peer {
        &self.conn.peer
    }

    /// The fid the request is about (its first fid field), or
    /// [`NOFID`](ninefold_proto::NOFID).
    pub fn fid(&self) -> u32 {
        self.fid
    }

    /// The request's tag.
    pub fn tag(&self) -> u16 {
        self.tag
    }

    /// The owner of locks taken through this request: the fid on this
    /// connection.
    pub fn lock_owner(&self) -> LockOwner {
        LockOwner { conn: self.conn.id, fid: self.fid }
    }

    /// The 9P2000.L.Z mutation envelope the request carried (its op id,
    /// RETRY flag and origin epoch), or `None` (other dialects, and
    /// requests the envelope does not cover).
    pub fn envelope(&self) -> Option<&Envelope> {
        self.envelope.as_ref()
    }

    /// Whether the client has flushed this request.
    pub fn is_cancelled(&self) -> bool {
        self.cancel.is_cancelled()
    }

    /// Completes when the client flushes this request.
    pub fn cancelled(&self) -> WaitForCancellationFuture<'_> {
        self.cancel.cancelled()
    }
}
