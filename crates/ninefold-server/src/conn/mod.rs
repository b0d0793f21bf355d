//! One connection: the reader loop, the writer task and the request tasks.
//!
//! Request lifecycle:
//!
//! 1. The reader cuts a frame (its size checked against msize first) and
//!    decodes it with the negotiated dialect.
//! 2. Tversion, Tflush, Tclunk and Tremove are ordered here, in arrival
//!    order: Tversion drains the connection, Tflush is registered against
//!    its target, Tclunk/Tremove unbind their fid at once.
//! 3. Other requests take an admission permit (at most `max_inflight`
//!    running plus `max_queued` waiting), resolve their fids and take each
//!    fid's busy lock shared, then run in their own task. The task waits
//!    for a running slot, then runs the middleware chain and the handler.
//! 4. A flush cancels the target: a queued request is dropped; a running
//!    interruptible one (read, write, readdir, lock, walk...) has its
//!    future dropped; a mutation finishes and its real reply is sent.
//! 5. The finished request goes through [`ConnState::complete`], which
//!    queues its reply and then the Rflush of every flush waiting on it,
//!    so Rflush is never written before the reply it follows.
//! 6. The writer encodes replies (payloads by reference) and writes them
//!    with vectored I/O; the admission permit is released once written.

pub(crate) mod state;
mod writer;

use std::io;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use bytes::{Bytes, BytesMut};
use ninefold_proto::framing::{self, FrameStatus};
use ninefold_proto::{base, Dialect, Frame, Message, NOTAG};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite};
use tokio::sync::{mpsc, Notify, Semaphore};
use tokio_util::sync::CancellationToken;
use tracing::{debug, warn, Instrument};

use crate::dispatch::{self, FidRefs};
use crate::fid::{lock, Fid};
use crate::fs::{ConnFacts, Identity, Request};
use crate::handle;
use crate::server::ServerInner;
use crate::ServeError;
use state::{ConnState, Reply, Violation};
pub(crate) use writer::Outgoing;

/// Shared by the reader, the writer and the request tasks of one
/// connection.
#[derive(Debug)]
pub(crate) struct Conn {
    pub(crate) server: Arc<ServerInner>,
    pub(crate) id: u64,
    facts: Mutex<Arc<ConnFacts>>,
    pub(crate) state: Mutex<ConnState>,
    /// Running slots (`max_inflight`).
    run: Arc<Semaphore>,
    /// Admission (running + queued).
    admit: Arc<Semaphore>,
    /// Signalled whenever a request completes.
    progress: Notify,
    out: mpsc::UnboundedSender<Outgoing>,
    fid_count: AtomicUsize,
}

impl Conn {
    pub(crate) fn facts(&self) -> Arc<ConnFacts> {
        lock(&self.facts).clone()
    }

    pub(crate) fn dialect(&self) -> Dialect {
        lock(&self.facts).dialect
    }

    /// Queues replies in order. Called with the state lock held so that
    /// the order computed there is the order written.
    fn send(&self, dialect: Dialect, msize: u32, replies: Vec<Reply>) {
        for r in replies {
            // The writer is gone only when the connection is closing.
            let _ = self.out.send(Outgoing { reply: r, dialect, msize });
        }
    }

    /// Completes request `tag` with `reply` (or `None`: suppressed).
    pub(crate) fn complete(&self, tag: u16, reply: Option<Message>) {
        let facts = self.facts();
        {
            let mut st = lock(&self.state);
            let out = st.complete(tag, reply);
            self.send(facts.dialect, facts.msize, out);
        }
        self.progress.notify_waiters();
    }

    /// Answers a request that was never admitted (bad fid, undecodable
    /// body): the tag must not be in flight.
    fn reply_now(&self, tag: u16, message: Message) -> Result<(), Violation> {
        let facts = self.facts();
        let st = lock(&self.state);
        if st.in_flight(tag) {
            return Err(Violation::TagInUse(tag));
        }
        self.send(facts.dialect, facts.msize, vec![Reply { tag, message, permit: None }]);
        Ok(())
    }

    pub(crate) fn fid_added(&self) {
        self.fid_count.fetch_add(1, Ordering::Relaxed);
        self.server.metrics.fids(1);
    }

    pub(crate) fn fid_removed(&self, n: usize) {
        if n > 0 {
            self.fid_count.fetch_sub(n, Ordering::Relaxed);
            self.server.metrics.fids(-(n as i64));
        }
    }

    async fn wait_drained(&self) {
        loop {
            let notified = self.progress.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if lock(&self.state).inflight_len() == 0 {
                return;
            }
            notified.await;
        }
    }
}

/// Serves one connection until the peer closes it, a protocol violation
/// ends it, or the server shuts down.
pub(crate) async fn run<IO>(
    server: Arc<ServerInner>,
    io: IO,
    remote: Option<Arc<str>>,
) -> Result<(), ServeError>
where
    IO: AsyncRead + AsyncWrite + Send + 'static,
{
    let id = server.next_conn_id();
    let config = &server.config;
    let (rd, wr) = tokio::io::split(io);
    let (tx, rx) = mpsc::unbounded_channel();
    let facts = Arc::new(ConnFacts { id, dialect: Dialect::Base, msize: config.max_msize, remote });
    let conn = Arc::new(Conn {
        server: server.clone(),
        id,
        facts: Mutex::new(facts),
        state: Mutex::new(ConnState::new(config.max_fids)),
        run: Arc::new(Semaphore::new(config.max_inflight)),
        admit: Arc::new(Semaphore::new(config.max_inflight + config.max_queued)),
        progress: Notify::new(),
        out: tx,
        fid_count: AtomicUsize::new(0),
    });
    let writer = tokio::spawn(writer::run(wr, rx).in_current_span());
    let result = read_loop(&conn, rd).await;

    // Teardown: cancel what runs, let it finish, release every fid.
    lock(&conn.state).cancel_all();
    let _ = tokio::time::timeout(config.shutdown_deadline, conn.wait_drained()).await;
    let fids = lock(&conn.state).take_all_fids();
    release_all(&conn, fids).await;
    drop(conn);
    // The writer ends when the last sender (held by `conn`) is gone.
    let _ = writer.await;
    result
}

/// Releases fids after a reset (Tversion, disconnect).
async fn release_all(conn: &Arc<Conn>, fids: Vec<(u32, Arc<Fid>)>) {
    let n = fids.len();
    for (num, fid) in fids {
        let _ = handle::clunk::release(conn, &fid, num, None).await;
    }
    conn.fid_removed(n);
}

async fn read_loop<R: AsyncRead + Send + 'static>(
    conn: &Arc<Conn>,
    rd: R,
) -> Result<(), ServeError> {
    let mut rd = Box::pin(rd);
    let mut buf = BytesMut::with_capacity(64 * 1024);
    let mut negotiated = false;
    let shutdown = conn.server.shutdown.clone();
    loop {
        let max = conn.facts().msize;
        let frame = tokio::select! {
            biased;
            _ = shutdown.cancelled() => {
                // Graceful: stop reading, let what runs finish.
                let deadline = conn.server.config.shutdown_deadline;
                let _ = tokio::time::timeout(deadline, conn.wait_drained()).await;
                return Ok(());
            }
            f = read_frame(conn, &mut rd, &mut buf, max) => f?,
        };
        let Some(frame) = frame else { return Ok(()) };
        conn.server.metrics.request_bytes(frame.len());
        if !on_frame(conn, frame, &mut negotiated).await? {
            return Ok(());
        }
    }
}

/// Reads one whole frame, or `None` at a clean end of stream.
async fn read_frame<R: AsyncRead + Unpin>(
    conn: &Arc<Conn>,
    rd: &mut R,
    buf: &mut BytesMut,
    max: u32,
) -> Result<Option<Bytes>, ServeError> {
    let idle = conn.server.config.idle_timeout;
    loop {
        match framing::check(buf, max) {
            Ok(FrameStatus::Complete { frame_len }) => {
                return Ok(Some(buf.split_to(frame_len).freeze()));
            }
            Ok(FrameStatus::Incomplete { frame_len }) => {
                if let Some(len) = frame_len {
                    buf.reserve(len.saturating_sub(buf.len()));
                } else if buf.capacity() - buf.len() < 4096 {
                    buf.reserve(64 * 1024);
                }
            }
            Err(e) => return Err(ServeError::Decode(e)),
        }
        let n = match idle {
            Some(idle) => loop {
                match tokio::time::timeout(idle, rd.read_buf(buf)).await {
                    Ok(r) => break r?,
                    Err(_) if lock(&conn.state).inflight_len() == 0 => {
                        debug!(conn = conn.id, "idle timeout");
                        return Err(ServeError::IdleTimeout);
                    }
                    Err(_) => continue,
                }
            },
            None => rd.read_buf(buf).await?,
        };
        if n == 0 {
            return if buf.is_empty() {
                Ok(None)
            } else {
                Err(ServeError::Io(io::Error::from(io::ErrorKind::UnexpectedEof)))
            };
        }
    }
}

/// Handles one frame; `Ok(false)` ends the connection quietly.
async fn on_frame(conn: &Arc<Conn>, raw: Bytes, negotiated: &mut bool) -> Result<bool, ServeError> {
    let dialect = if *negotiated { conn.dialect() } else { Dialect::Base };
    let frame = match Frame::decode(raw, dialect) {
        Ok(f) => f,
        Err(e) if e.is_fatal() => return Err(ServeError::Decode(e)),
        Err(e) => {
            let Some(tag) = e.tag() else { return Err(ServeError::Decode(e)) };
            debug!(conn = conn.id, tag, error = %e, "undecodable request");
            conn.reply_now(tag, dispatch::error_reply(dialect, e.errno()))?;
            return Ok(true);
        }
    };
    let tag = frame.tag;
    let msg = frame.message;
    if !msg.is_request() {
        conn.reply_now(tag, dispatch::error_reply(dialect, ninefold_proto::Errno::EINVAL))?;
        return Ok(true);
    }
    match msg {
        Message::Tversion(v) => {
            *negotiated = version(conn, tag, v).await?;
            Ok(true)
        }
        _ if !*negotiated => {
            let e = base::Rerror {
                ename: "version not negotiated: send Tversion first".into(),
                errno: ninefold_proto::Errno::EPROTO,
            };
            conn.reply_now(tag, e.into())?;
            Ok(true)
        }
        Message::Tflush(f) => {
            let facts = conn.facts();
            let mut st = lock(&conn.state);
            let out = st.flush(tag, f.oldtag, None)?;
            conn.send(facts.dialect, facts.msize, out);
            Ok(true)
        }
        msg => {
            admit(conn, tag, msg).await?;
            Ok(true)
        }
    }
}

/// Tversion: drain, reset every fid, negotiate. Returns whether a dialect
/// was agreed; when not, the connection is back to its unnegotiated state.
async fn version(conn: &Arc<Conn>, tag: u16, v: base::Tversion) -> Result<bool, ServeError> {
    lock(&conn.state).cancel_all();
    conn.wait_drained().await;
    let fids = lock(&conn.state).take_all_fids();
    release_all(conn, fids).await;

    let config = &conn.server.config;
    let old = conn.facts();
    // Until a dialect is agreed the connection speaks plain 9P2000.
    *lock(&conn.facts) = Arc::new(ConnFacts {
        id: conn.id,
        dialect: Dialect::Base,
        msize: config.max_msize,
        remote: old.remote.clone(),
    });
    let mut agreed = false;
    let reply: Message = match ninefold_proto::sizes::negotiate_msize(v.msize, config.max_msize) {
        None => base::Rerror {
            ename: format!(
                "msize {} is below the minimum of {}",
                v.msize,
                ninefold_proto::sizes::MIN_MSIZE
            )
            .into(),
            errno: ninefold_proto::Errno::EINVAL,
        }
        .into(),
        Some(msize) => match Dialect::negotiate(&v.version, &config.dialects) {
            Some(dialect) => {
                *lock(&conn.facts) =
                    Arc::new(ConnFacts { id: conn.id, dialect, msize, remote: old.remote.clone() });
                debug!(conn = conn.id, %dialect, msize, "negotiated");
                agreed = true;
                base::Rversion { msize, version: dialect.version().into() }.into()
            }
            None => base::Rversion { msize, version: "unknown".into() }.into(),
        },
    };
    let facts = conn.facts();
    conn.send(facts.dialect, facts.msize, vec![Reply { tag, message: reply, permit: None }]);
    if tag != NOTAG {
        debug!(conn = conn.id, tag, "Tversion with a tag other than NOTAG");
    }
    Ok(agreed)
}

/// Admits a request: permit, tag, fids, then a task.
async fn admit(conn: &Arc<Conn>, tag: u16, msg: Message) -> Result<(), ServeError> {
    // Back-pressure: with every slot taken, stop reading the socket.
    let permit = conn.admit.clone().acquire_owned().await.map_err(|_| ServeError::Closed)?;
    let refs = FidRefs::of(&msg);
    let facts = conn.facts();

    // Everything below happens in arrival order, under the state lock.
    let prepared = {
        let mut st = lock(&conn.state);
        if st.in_flight(tag) {
            return Err(Violation::TagInUse(tag).into());
        }
        match dispatch::prepare(conn, &mut st, &refs, &msg) {
            Ok(p) => {
                let cancel = st.admit(tag, Some(permit))?;
                Ok((p, cancel))
            }
            Err(errno) => Err(errno),
        }
    };
    let (prepared, cancel) = match prepared {
        Ok(x) => x,
        Err(errno) => {
            conn.reply_now(tag, dispatch::error_reply(facts.dialect, errno))?;
            return Ok(());
        }
    };

    let identity = prepared.identity.clone().unwrap_or_else(|| Arc::new(Identity::default()));
    let req = Request {
        conn: facts,
        identity,
        aname: prepared.aname.clone(),
        fid: refs.primary().unwrap_or(ninefold_proto::NOFID),
        tag,
        cancel: cancel.clone(),
    };
    let conn2 = conn.clone();
    let span = dispatch::span(&msg, tag, &req, &prepared);
    tokio::spawn(run_request(conn2, tag, msg, req, prepared, cancel).instrument(span));
    Ok(())
}

async fn run_request(
    conn: Arc<Conn>,
    tag: u16,
    msg: Message,
    req: Request,
    prepared: dispatch::Prepared,
    cancel: CancellationToken,
) {
    // Queued: wait for a running slot, unless flushed first.
    // Tclunk/Tremove take no slot: they may wait for queued requests on
    // their fid, which must be able to run.
    let needs_slot = !matches!(msg, Message::Tclunk(_) | Message::Tremove(_));
    let run = conn.run.clone();
    let slot = if needs_slot {
        let slot = tokio::select! {
            biased;
            _ = cancel.cancelled() => None,
            p = run.acquire_owned() => p.ok(),
        };
        if slot.is_none() {
            conn.complete(tag, None);
            return;
        }
        slot
    } else {
        None
    };
    let _slot = slot;
    let started = std::time::Instant::now();
    conn.server.metrics.active(1);
    let interruptible = dispatch::is_interruptible(&msg);
    let name = msg.name();
    let ctx = dispatch::Ctx::new(conn.clone(), req, prepared);
    let fut = dispatch::run_chain(&ctx, &msg);
    let reply = if interruptible {
        tokio::select! {
            biased;
            r = fut => Some(r),
            _ = cancel.cancelled() => None,
        }
    } else {
        Some(fut.await)
    };
    drop(ctx);
    // A flushed request that failed (typically EINTR from a handler that
    // watched its cancellation) is suppressed: the client already gave up.
    let reply = reply.filter(|r| !(cancel.is_cancelled() && dispatch::reply_errno(r).is_some()));
    if let Some(r) = &reply {
        dispatch::record_outcome(r);
    } else {
        debug!("flushed");
    }
    conn.server.metrics.active(-1);
    conn.server.metrics.duration(name, started.elapsed(), reply.as_ref());
    conn.complete(tag, reply);
}

impl From<Violation> for ServeError {
    fn from(v: Violation) -> ServeError {
        warn!(error = %v, "protocol violation, closing the connection");
        ServeError::Protocol(v.to_string())
    }
}
