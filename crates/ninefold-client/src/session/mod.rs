//! The low-level [`Session`]: one 9P2000.L connection, multiplexed.
//!
//! A spawned writer task owns the write half (frames queued by callers are
//! batched into vectored writes), a reader task owns the read half and
//! routes each reply to its tag, and a reaper task clunks dropped fids.
//! Callers share nothing but a short-held tag-table lock (never held across
//! an await) and a semaphore bounding the requests in flight.
//!
//! Cancel safety: a request future dropped after its frame was queued
//! leaves its tag reserved, sends Tflush, and releases the tag only when
//! the reply or the Rflush arrives; a fid the request may have bound is
//! clunked once the outcome is known.

mod auth;
mod conn;
mod fid;
mod msg;
pub use msg::OpenedRead;
mod negotiate;
mod tags;

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use bytes::BytesMut;
use ninefold_proto::{base, sizes, Dialect, Frame, Message};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::{mpsc, oneshot, OwnedSemaphorePermit, Semaphore};

pub use auth::{split_target, AuthKey};
pub use fid::Fid;
pub(crate) use negotiate::{check_offer, negotiate, refused_error, Refused};
pub use negotiate::{Lineage, DEFAULT_DIALECTS};
pub(crate) use tags::Settle;

use crate::error::{Error, Result};
use conn::Outgoing;
use fid::FidAlloc;
use tags::{Reply, Slot, TagTable};

/// Default bound on requests in flight per session.
pub const DEFAULT_MAX_IN_FLIGHT: usize = 256;

/// What the connection negotiated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Negotiated {
    pub(crate) msize: u32,
    pub(crate) dialect: Dialect,
}

/// State shared by a session's handles, its tasks and its fids.
pub(crate) struct Shared {
    tags: Mutex<TagTable>,
    fids: Mutex<FidAlloc>,
    out: mpsc::UnboundedSender<Outgoing>,
    reap: mpsc::UnboundedSender<u32>,
    inflight: Arc<Semaphore>,
    neg: Negotiated,
    /// Rgetlineage of a `9P2000.L.Z` connection.
    lineage: Option<Lineage>,
    flushes_sent: AtomicU64,
    reader: Mutex<Option<tokio::task::AbortHandle>>,
    /// Becomes `true` when the connection dies (see [`Session::closed`]).
    dead_tx: tokio::sync::watch::Sender<bool>,
}

impl fmt::Debug for Shared {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Shared").field("neg", &self.neg).finish_non_exhaustive()
    }
}

impl Drop for Shared {
    fn drop(&mut self) {
        if let Ok(mut r) = self.reader.lock() {
            if let Some(r) = r.take() {
                r.abort();
            }
        }
    }
}

/// Counters for tests and monitoring.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct SessionStats {
    /// Tags reserved now (waiting, abandoned, or carrying a Tflush).
    pub tags_in_use: usize,
    /// Fid numbers allocated now (bound, being clunked, or being bound).
    pub fids_live: usize,
    /// One past the highest fid number ever used: bounded in a client that
    /// recycles its fids.
    pub fid_high_water: u32,
    /// Tflush requests sent for abandoned calls.
    pub flushes_sent: u64,
    /// Whether the connection is gone.
    pub dead: bool,
}

/// One 9P2000.L connection: message-level calls, multiplexed.
///
/// Cheap to clone; every clone speaks over the same connection. Methods
/// are named after the wire messages (`walk` sends Twalk, `lopen` sends
/// Tlopen ...) and take fids as [`Fid`] handles; calls that bind a new fid
/// (`attach`, `walk`) allocate it and return it owned, so a dropped call
/// cannot leak one.
///
/// ```no_run
/// # async fn demo() -> ninefold_client::Result<()> {
/// use ninefold_client::{OpenFlags, Session};
///
/// let session = Session::connect("127.0.0.1:5640", 256 * 1024).await?;
/// let (root, _qid) = session.attach("root", "/srv/export", 0).await?;
/// let (file, _qids) = session.walk(&root, &["notes.txt"]).await?;
/// session.lopen(&file, OpenFlags::RDONLY).await?;
/// let data = session.read(&file, 0, 4096).await?;
/// println!("{} bytes", data.len());
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Session {
    pub(crate) shared: Arc<Shared>,
}

impl fmt::Debug for Session {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Session")
            .field("msize", &self.shared.neg.msize)
            .field("dialect", &self.shared.neg.dialect)
            .finish()
    }
}

impl Session {
    /// Connects to `target` (see [`Target`](crate::Target)) and negotiates
    /// 9P2000.L with `msize`. No attach is made.
    pub async fn connect(target: &str, msize: u32) -> Result<Session> {
        let target = crate::target::Target::parse(target)?;
        target.connect_session(msize, DEFAULT_MAX_IN_FLIGHT).await
    }

    /// Connects to `target` and negotiates the first dialect of `offer`
    /// the server accepts (a server that hangs up on one is dialled again
    /// for the next). No attach is made.
    pub async fn connect_offer(target: &str, msize: u32, offer: &[Dialect]) -> Result<Session> {
        let target = crate::target::Target::parse(target)?;
        target
            .connect_offer(msize, DEFAULT_MAX_IN_FLIGHT, offer, &crate::TlsOptions::default())
            .await
    }

    /// Negotiates 9P2000.L over any byte stream (TCP, unix socket, an
    /// in-process duplex ...) and starts the connection tasks. Must be
    /// called within a tokio runtime.
    pub async fn handshake<S>(io: S, msize: u32) -> Result<Session>
    where
        S: AsyncRead + AsyncWrite + Send + 'static,
    {
        let (r, w) = tokio::io::split(io);
        Session::handshake_split(r, w, msize, DEFAULT_MAX_IN_FLIGHT).await
    }

    /// Like [`handshake`](Session::handshake) with separate halves and an
    /// explicit bound on requests in flight. Negotiates 9P2000.L only; see
    /// [`handshake_with`](Session::handshake_with) for other dialects.
    pub async fn handshake_split<R, W>(
        r: R,
        w: W,
        msize: u32,
        max_in_flight: usize,
    ) -> Result<Session>
    where
        R: AsyncRead + Unpin + Send + 'static,
        W: AsyncWrite + Unpin + Send + 'static,
    {
        Session::handshake_with(r, w, msize, max_in_flight, &[Dialect::L]).await
    }

    /// Negotiates one of `offer` (tried in order; see the module docs of
    /// `negotiate` and `docs/CLIENT.md`) over separate halves and starts
    /// the connection tasks. On `9P2000.L.Z` the Tgetlineage that must
    /// follow Rversion is sent too ([`Session::lineage`]). A server that
    /// closes the connection on a dialect it does not speak makes this
    /// fail; [`Client::connect_with`](crate::Client::connect_with) dials
    /// again and goes on with the rest of the offer.
    pub async fn handshake_with<R, W>(
        r: R,
        w: W,
        msize: u32,
        max_in_flight: usize,
        offer: &[Dialect],
    ) -> Result<Session>
    where
        R: AsyncRead + Unpin + Send + 'static,
        W: AsyncWrite + Unpin + Send + 'static,
    {
        check_offer(offer)?;
        Session::handshake_from(r, w, msize, max_in_flight, offer, 0).await.map_err(refused_error)
    }

    /// Negotiation from `offer[start..]`, keeping a closed connection
    /// apart from other failures.
    pub(crate) async fn handshake_from<R, W>(
        mut r: R,
        mut w: W,
        msize: u32,
        max_in_flight: usize,
        offer: &[Dialect],
        start: usize,
    ) -> std::result::Result<Session, Refused>
    where
        R: AsyncRead + Unpin + Send + 'static,
        W: AsyncWrite + Unpin + Send + 'static,
    {
        let msize = msize.max(sizes::MIN_MSIZE);
        let agreed = negotiate(&mut r, &mut w, msize, offer, start).await?;
        let (neg, buf) = (agreed.neg, agreed.rest);
        let (out_tx, out_rx) = mpsc::unbounded_channel();
        let (reap_tx, reap_rx) = mpsc::unbounded_channel();
        let max_in_flight = max_in_flight.clamp(1, 16384);
        let shared = Arc::new(Shared {
            tags: Mutex::new(TagTable::default()),
            fids: Mutex::new(FidAlloc::default()),
            out: out_tx,
            reap: reap_tx,
            inflight: Arc::new(Semaphore::new(max_in_flight)),
            neg,
            lineage: agreed.lineage,
            flushes_sent: AtomicU64::new(0),
            reader: Mutex::new(None),
            dead_tx: tokio::sync::watch::Sender::new(false),
        });
        let weak = Arc::downgrade(&shared);
        tokio::spawn(conn::writer(out_rx, w, weak.clone()));
        tokio::spawn(conn::reaper(reap_rx, weak.clone()));
        let reader =
            tokio::spawn(conn::reader(r, buf, weak, neg.dialect, neg.msize)).abort_handle();
        if let Ok(mut slot) = shared.reader.lock() {
            *slot = Some(reader);
        }
        Ok(Session { shared })
    }

    /// The negotiated msize.
    pub fn msize(&self) -> u32 {
        self.shared.neg.msize
    }

    /// The negotiated dialect.
    pub fn dialect(&self) -> Dialect {
        self.shared.neg.dialect
    }

    /// What Rgetlineage said on a `9P2000.L.Z` connection (`None` on any
    /// other dialect).
    pub fn lineage(&self) -> Option<Lineage> {
        self.shared.lineage
    }

    /// Bytes asked for per Tread / Treaddir: on `9P2000.L.Z` `msize - 11`,
    /// the most one reply frame carries (the dialect's formula); on every
    /// other dialect `msize - 24`, the Linux client's rule, which every
    /// server answers in full (diod refuses larger counts with EIO).
    pub fn max_read_chunk(&self) -> u32 {
        match self.shared.neg.dialect {
            Dialect::Z => sizes::max_read_payload(self.shared.neg.msize),
            _ => sizes::client_io_size(0, self.shared.neg.msize),
        }
    }

    /// Bytes sent per Twrite: on `9P2000.L.Z` `msize - 48` (header, the
    /// 25-byte envelope and the Twrite fields); elsewhere `msize - 24`.
    pub fn max_write_chunk(&self) -> u32 {
        match self.shared.neg.dialect {
            Dialect::Z => sizes::max_write_payload(self.shared.neg.msize, Dialect::Z),
            _ => sizes::client_io_size(0, self.shared.neg.msize),
        }
    }

    /// Current counters.
    pub fn stats(&self) -> SessionStats {
        let (tags_in_use, dead) =
            self.shared.tags.lock().map(|t| (t.len(), t.dead)).unwrap_or((0, true));
        let (fids_live, fid_high_water) =
            self.shared.fids.lock().map(|f| (f.live(), f.high_water())).unwrap_or((0, 0));
        SessionStats {
            tags_in_use,
            fids_live,
            fid_high_water,
            flushes_sent: self.shared.flushes_sent.load(Ordering::Relaxed),
            dead,
        }
    }

    /// Whether the connection is gone (every later call fails).
    pub fn is_dead(&self) -> bool {
        self.shared.tags.lock().map(|t| t.dead).unwrap_or(true)
    }

    /// Resolves once the connection is gone (at once if it already is).
    ///
    /// A `Session` is one connection and never reconnects; the path-level
    /// [`Client`](crate::Client) watches this to reconnect and replay.
    pub async fn closed(&self) {
        let mut rx = self.shared.dead_tx.subscribe();
        let _ = rx.wait_for(|dead| *dead).await;
    }

    /// Whether `fid` belongs to this connection.
    pub fn owns(&self, fid: &Fid) -> bool {
        Arc::ptr_eq(&self.shared, fid.shared())
    }

    /// Allocates an unbound fid (for messages that bind one, via
    /// [`call`](Session::call)). Dropping it unbound just frees the number.
    pub fn alloc_fid(&self) -> Result<Fid> {
        Fid::new_unbound(self.shared.clone())
    }

    /// Sends any request and returns the reply frame's message as received
    /// (an `Rlerror` is returned as `Err`). The caller is responsible for
    /// the fid semantics of what it sends.
    pub async fn call(&self, request: impl Into<Message>) -> Result<Message> {
        let frame = Shared::rpc(&self.shared, request.into(), None).await?;
        check_error(frame).map(|f| f.message)
    }

    /// Sends a request that may bind `fid`; the fid is marked bound on
    /// success, and cleaned up correctly if this future is dropped.
    pub(crate) async fn call_binding(
        &self,
        request: Message,
        fid: Fid,
        wnames: usize,
    ) -> Result<(Frame, Fid)> {
        let call = Shared::start(&self.shared, request).await?;
        let mut call = call.with_settle(Settle::Bind { fid, wnames });
        let reply = (&mut call).await;
        let Settle::Bind { mut fid, .. } = call.take_settle() else {
            return Err(Error::protocol("settle lost"));
        };
        let frame = check_error(reply?)?;
        if let Message::Rwalk(w) = &frame.message {
            if w.wqids.len() < wnames {
                return Ok((frame, fid));
            }
        }
        fid.set_bound(true);
        Ok((frame, fid))
    }
}

impl Shared {
    /// Queues `request` and waits for its reply (raw frame, errors not
    /// interpreted).
    pub(crate) async fn rpc(
        this: &Arc<Shared>,
        request: Message,
        settle: Option<Settle>,
    ) -> Result<Frame> {
        let call = Shared::start(this, request).await?;
        let mut call = match settle {
            Some(s) => call.with_settle(s),
            None => call,
        };
        let reply = (&mut call).await;
        call.take_settle().run(reply.as_ref().ok());
        reply
    }

    /// Reserves a permit and a tag and queues the frame. The only await is
    /// the permit: dropping this future there leaves nothing behind.
    async fn start(this: &Arc<Shared>, request: Message) -> Result<Call> {
        let permit =
            this.inflight.clone().acquire_owned().await.map_err(|_| Error::disconnected())?;
        this.start_with(request, Some(permit))
    }

    fn start_with(
        self: &Arc<Shared>,
        request: Message,
        permit: Option<OwnedSemaphorePermit>,
    ) -> Result<Call> {
        let (tx, rx) = oneshot::channel();
        let tag = {
            let mut tags = self.tags.lock().map_err(|_| Error::protocol("tag table poisoned"))?;
            if tags.dead {
                return Err(Error::disconnected());
            }
            tags.insert(Slot::Waiting { tx, _permit: permit })
                .ok_or_else(|| Error::protocol("no free tag"))?
        };
        if let Err(e) = self.send(tag, request) {
            if let Ok(mut tags) = self.tags.lock() {
                tags.remove(tag);
            }
            return Err(e);
        }
        Ok(Call { shared: self.clone(), tag, rx, settle: None, done: false })
    }

    /// Encodes and queues one frame.
    fn send(&self, tag: u16, request: Message) -> Result<()> {
        let d = self.neg.dialect;
        let ty = request.msg_type();
        if d.message_facts(ty).is_none() {
            return Err(Error::unsupported(request.name(), d));
        }
        let mut frame = Frame::new(tag, request);
        if d.has_envelope(ty) {
            let epoch = self.lineage.map_or(0, |l| l.writer_epoch);
            if let Some(env) = crate::opid::envelope_for(ty, epoch) {
                frame = frame.with_envelope(env);
            }
        }
        let mut head = BytesMut::new();
        let len = frame
            .encoded_len(self.neg.dialect)
            .map_err(|e| Error::invalid(format!("cannot encode {}: {e}", frame.message.name())))?;
        if len > self.neg.msize as usize {
            return Err(Error::invalid(format!(
                "{} of {len} bytes exceeds msize {}",
                frame.message.name(),
                self.neg.msize
            )));
        }
        let payload = frame
            .encode_vectored(self.neg.dialect, &mut head)
            .map_err(|e| Error::invalid(format!("cannot encode: {e}")))?;
        self.out.send(Outgoing { head: head.freeze(), payload }).map_err(|_| Error::disconnected())
    }

    /// The caller of `tag` gave up before its reply.
    fn abandon(self: &Arc<Shared>, tag: u16, rx: &mut oneshot::Receiver<Reply>, settle: Settle) {
        let Ok(mut tags) = self.tags.lock() else { return };
        match rx.try_recv() {
            Ok(reply) => {
                drop(tags);
                settle.run(reply.as_ref().ok());
            }
            Err(oneshot::error::TryRecvError::Closed) => {
                drop(tags);
                settle.run(None);
            }
            Err(oneshot::error::TryRecvError::Empty) => {
                let _permit = match tags.remove(tag) {
                    Some(Slot::Waiting { _permit, .. }) => _permit,
                    other => {
                        // Not ours (cannot happen): put it back untouched,
                        // never dropping a slot while the table is locked.
                        if let Some(other) = other {
                            tags.put(tag, other);
                        }
                        drop(tags);
                        settle.run(None);
                        return;
                    }
                };
                let flush_tag =
                    if tags.dead { None } else { tags.insert(Slot::Flush { oldtag: tag }) };
                tags.put(tag, Slot::Abandoned { flush_tag, settle, _permit });
                drop(tags);
                if let Some(ftag) = flush_tag {
                    self.flushes_sent.fetch_add(1, Ordering::Relaxed);
                    if self.send(ftag, Message::Tflush(base::Tflush { oldtag: tag })).is_err() {
                        self.kill();
                    }
                }
            }
        }
    }
}

/// A request on the wire: resolves to its reply. Dropping it before then
/// abandons the request (Tflush, tag kept until settled).
struct Call {
    shared: Arc<Shared>,
    tag: u16,
    rx: oneshot::Receiver<Reply>,
    settle: Option<Settle>,
    done: bool,
}

impl Call {
    fn with_settle(mut self, settle: Settle) -> Call {
        self.settle = Some(settle);
        self
    }

    fn take_settle(&mut self) -> Settle {
        self.settle.take().unwrap_or(Settle::Nothing)
    }
}

impl Future for &mut Call {
    type Output = Reply;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Reply> {
        let this = self.get_mut();
        match Pin::new(&mut this.rx).poll(cx) {
            Poll::Ready(r) => {
                this.done = true;
                Poll::Ready(r.unwrap_or_else(|_| Err(Error::disconnected())))
            }
            Poll::Pending => Poll::Pending,
        }
    }
}

impl Drop for Call {
    fn drop(&mut self) {
        let settle = self.settle.take().unwrap_or(Settle::Nothing);
        if self.done {
            settle.run(None);
            return;
        }
        self.shared.abandon(self.tag, &mut self.rx, settle);
    }
}

/// Turns Rlerror/Rerror into `Err`.
pub(crate) fn check_error(frame: Frame) -> Result<Frame> {
    match &frame.message {
        Message::Rlerror(e) => Err(Error::from_errno(e.ecode)),
        Message::Rerror(e) => Err(Error::from_errno(e.to_errno())),
        _ => Ok(frame),
    }
}

/// A reply that carries nothing (Rclunk, Rsetattr ...), checked by name.
pub(crate) fn expect_empty(frame: Frame, name: &str) -> Result<()> {
    let frame = check_error(frame)?;
    if frame.message.name() == name {
        Ok(())
    } else {
        Err(unexpected(&frame.message, name))
    }
}

/// The error for a reply of the wrong type.
pub(crate) fn unexpected(got: &Message, wanted: &str) -> Error {
    Error::protocol(format!("expected {wanted}, got {}", got.name()))
}
