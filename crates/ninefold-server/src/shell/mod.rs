//! The async shell of one connection: it moves bytes and runs operations;
//! every decision is the [`Core`]'s.
//!
//! - The **reader** ([`run`]) cuts frames (size checked against msize
//!   before anything is buffered), takes each frame's share of the reply
//!   budget (back-pressure: with the budget spent, it stops reading),
//!   hands the frame to the core, and starts each admitted request on
//!   the reader's task (but a large read or write whose copy takes long,
//!   which gets a task of its own at once; see [`bulky`] and
//!   [`BulkGate`]): one that completes at once never costs a task; one
//!   that waits moves to a task of its own as soon as the next frame
//!   arrives (see [`Inline`]). A Tversion is carried out here: drain, release
//!   every fid, negotiate.
//! - A **request task** ([`request`]) runs one admitted request, straight
//!   through: running slot, middleware and operation, completion.
//! - Replies are written in the order the core released them
//!   ([`writer`]): by the task that released them, at once, when nobody
//!   else is writing (a lone request's reply costs no hand-off), else by
//!   the **writer task**, which batches them into vectored writes and
//!   waits for a full socket; a reply's budget permit is returned once it
//!   is on the wire.
//!
//! The reply budget: every frame read holds one permit until its reply is
//! written (or suppressed), Tflush from a budget of its own so a flush is
//! always read even when every request slot is taken. So a client that
//! sends and never reads makes the server hold at most
//! `2 × (max_inflight + max_queued)` replies before it stops reading.
//!
//! The abuse limits ([`crate::limits`]) act in the reader too: a frame's
//! memory is charged once its header is seen (before the buffer grows for
//! it) together with the largest reply it can produce, a partial frame
//! must complete within the frame deadline and the first within the
//! handshake deadline, and over a request rate the reader sleeps before
//! taking the frame on.

mod encode;
mod recv;
mod request;
mod slots;
mod writer;

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::Poll;

use bytes::BytesMut;
use ninefold_proto::base;
use ninefold_proto::framing::{self, FrameStatus};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::Notify;
use tracing::Instrument;

use crate::core::{Core, Limits, Received};
use crate::fid::{lock, Fid};
use crate::fs::ConnFacts;
use crate::limits::{Bucket, Budgets, FramePermit, PeerState};
use crate::ops;
use crate::reply::{Permit, Replies};
use crate::server::ServerInner;
use crate::ServeError;
use recv::{read_frame, LargeFrame, Pending, RECV_IDLE_CAPACITY};
pub(crate) use request::catch_panic;
pub(crate) use slots::Slot;
use slots::Slots;
use writer::Out;

/// The type number of Tflush, the same in every dialect.
const TFLUSH: u8 = 108;

/// Shared by the reader, the writer and the request tasks of one
/// connection.
#[derive(Debug)]
pub(crate) struct Conn {
    pub(crate) server: Arc<ServerInner>,
    pub(crate) id: u64,
    /// Every decision about the connection (held for a few instructions
    /// at a time, never across a filesystem call or an await).
    pub(crate) core: Mutex<Core>,
    /// Running slots (`max_inflight`).
    run: Arc<Slots>,
    /// Reply budget of every frame but Tflush.
    budget: Arc<Slots>,
    /// Reply budget of Tflush.
    flush_budget: Arc<Slots>,
    /// Signalled whenever a request completes.
    progress: Notify,
    /// Where replies go (see [`writer`]).
    pub(crate) out: Arc<Out>,
    /// The memory budgets frames are charged to.
    budgets: Budgets,
    /// The peer's shared limits (its request rate), if it has any.
    peer: Option<Arc<PeerState>>,
}

impl Drop for Conn {
    fn drop(&mut self) {
        // The last holder is gone (reader and request tasks alike): no
        // reply can come any more.
        self.out.close();
    }
}

impl Conn {
    pub(crate) fn facts(&self) -> Arc<ConnFacts> {
        lock(&self.core).facts().clone()
    }

    /// Sends replies the core released (with `core` locked, so the
    /// order the core computed is the order written), writing them at
    /// once when nobody else is writing; the write itself happens after
    /// the core's lock is dropped.
    #[inline]
    fn send(&self, core: MutexGuard<'_, Core>, replies: Replies) {
        let facts = core.facts();
        let direct = self.out.release(facts.dialect, facts.msize, replies);
        drop(core);
        if let Some(d) = direct {
            self.out.write(d);
        }
    }

    /// Completes request `tag` with `reply` (or `None`: suppressed).
    pub(crate) fn complete(&self, tag: u16, reply: Option<ninefold_proto::Message>) {
        self.complete_spliced(tag, reply, None);
    }

    /// [`complete`](Conn::complete), the reply's payload waiting in a pipe
    /// (see [`crate::splice`]).
    pub(crate) fn complete_spliced(
        &self,
        tag: u16,
        reply: Option<ninefold_proto::Message>,
        body: Option<crate::splice::Body>,
    ) {
        let mut core = lock(&self.core);
        let out = core.complete(tag, reply);
        match body {
            None => self.send(core, out),
            Some(body) => {
                // Large: always through the writer task, never direct.
                let facts = core.facts();
                self.out.release_spliced(facts.dialect, facts.msize, out, tag, body);
                drop(core);
            }
        }
        self.progress.notify_waiters();
    }

    async fn wait_drained(&self) {
        loop {
            let notified = self.progress.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if lock(&self.core).inflight_len() == 0 {
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
    peer: Arc<crate::Peer>,
    peer_state: Option<Arc<PeerState>>,
) -> Result<(), ServeError>
where
    IO: AsyncRead + AsyncWrite + Send + 'static,
{
    let id = server.next_conn_id();
    let config = &server.config;
    let (rd, wr, choice) = crate::splice::split(io);
    let out = Arc::new(Out::with_transport(wr, choice, config.splice_reads));
    let limits = Limits {
        max_msize: config.max_msize,
        max_fids: config.max_fids,
        dialects: config.dialects.clone(),
    };
    let budget = config.max_inflight + config.max_queued;
    let conn = Arc::new(Conn {
        server: server.clone(),
        id,
        core: Mutex::new(Core::new(id, peer, limits, server.ledger.clone())),
        run: Arc::new(Slots::new(config.max_inflight)),
        budget: Arc::new(Slots::new(budget)),
        flush_budget: Arc::new(Slots::new(budget)),
        progress: Notify::new(),
        out: out.clone(),
        budgets: Budgets {
            conn: config
                .limits
                .connection_memory
                .map(|m| Arc::new(crate::limits::ByteBudget::new(m))),
            server: server.memory.clone(),
            stall: config.limits.stall_timeout,
        },
        peer: peer_state,
    });
    let writer = tokio::spawn(writer::run(out).in_current_span());
    let result = read_loop(&conn, rd).await;

    // Teardown: cancel what runs, let it finish, release every fid.
    lock(&conn.core).cancel_all();
    let _ = tokio::time::timeout(config.shutdown_deadline, conn.wait_drained()).await;
    let fids = lock(&conn.core).take_all_fids();
    release_all(&conn, fids).await;
    drop(conn);
    // The writer task ends when the last holder of the connection is gone
    // (`Conn`'s drop closes its side).
    // (Tried: the writer joined to the reader's task instead of a task of
    // its own. Measured side by side it cost more: getattr at depth 1 took
    // 2.6–2.8 context switches and 35 µs of server CPU per request against
    // 1.1 and 20 µs.)
    let _ = writer.await;
    result
}

/// Releases fids after a reset (Tversion, disconnect).
async fn release_all(conn: &Arc<Conn>, fids: Vec<(u32, Arc<Fid>)>) {
    let n = fids.len();
    for (num, fid) in fids {
        let _ = catch_panic(ops::clunk::release(conn, &fid, num, None)).await;
    }
    conn.server.metrics.fids(-(n as i64));
}

async fn read_loop<R: AsyncRead + Send + 'static>(
    conn: &Arc<Conn>,
    rd: R,
) -> Result<(), ServeError> {
    let mut rd = Box::pin(rd);
    // Small until the peer sends more than a handshake: an idle connection
    // costs little (issue 16's budget is 64 KiB); read_frame grows it, and
    // shrinks it back once the connection is quiet (`RECV_SHRINK_ABOVE`).
    let mut buf = BytesMut::with_capacity(RECV_IDLE_CAPACITY);
    // A large frame being received into a pooled buffer (see `LargeFrame`).
    let mut large: Option<LargeFrame> = None;
    let shutdown = conn.server.shutdown.clone().cancelled_owned();
    tokio::pin!(shutdown);
    let mut shutdown = ShutdownWatch { server: &conn.server, token: shutdown, joined: false };
    let mut inline = Inline { running: None, spare: None };
    let limits = &conn.server.config.limits;
    let mut rate = limits.connection_rate.map(Bucket::new);
    let mut pending = Pending {
        deadline: None,
        handshake: limits.handshake_timeout.map(|d| tokio::time::Instant::now() + d),
        charge: None,
        last_frame: 0,
        move_out: 0,
    };
    let mut gate = BulkGate::default();
    let mut batching = false;
    loop {
        let max = conn.facts().msize;
        let frame = tokio::select! {
            biased;
            () = shutdown.wait() => {
                // Graceful: stop reading, let what runs finish.
                inline.detach();
                let deadline = conn.server.config.shutdown_deadline;
                let _ = tokio::time::timeout(deadline, conn.wait_drained()).await;
                return Ok(());
            }
            () = inline.finished() => continue,
            f = read_frame(conn, &mut rd, &mut buf, &mut large, max, &mut pending) => f?,
        };
        // Anything the reader does next may wait (for budget, a drain):
        // the request started here moves to a task of its own first.
        inline.detach();
        let Some((raw, charge)) = frame else { return Ok(()) };
        // More whole frames already buffered: a pipelined batch, whose
        // replies go out together once the reader yields (see `writer`);
        // a lone request's reply is written at once by whoever completes
        // it.
        let more = matches!(framing::check(&buf, max), Ok(FrameStatus::Complete { .. }));
        if more != batching {
            batching = more;
            conn.out.set_batching(more);
        }
        let raw_len = raw.len();
        conn.server.metrics.request_bytes(raw.len());

        // Over a request rate: stop reading until the bucket refills.
        if rate.is_some() || conn.peer.as_ref().is_some_and(|p| p.bucket.is_some()) {
            throttle(conn, &mut rate).await;
        }

        // Back-pressure: no frame is taken on without its reply budget.
        let budget = if raw.get(4) == Some(&TFLUSH) { &conn.flush_budget } else { &conn.budget };
        let slot = budget.take().await;
        let permit = Some(FramePermit { _slot: slot, _memory: charge });

        let received = {
            let mut core = lock(&conn.core);
            match core.receive(raw, permit)? {
                Received::Replies(out) => {
                    conn.send(core, out);
                    continue;
                }
                other => other,
            }
        };
        match received {
            Received::Replies(_) => {}
            Received::Version { tag, version: v, permit } => version(conn, tag, v, permit).await,
            Received::Run(admitted) => {
                if admitted.ended_fid {
                    conn.server.metrics.fids(-1);
                }
                // A large read or write goes to a task of its own at once
                // when its copy here would keep the reader from the next
                // frame (another worker can copy in parallel); one that
                // is quick here (memfs: a slice of a chunk) stays (see
                // `bulky`, `BulkGate`).
                let bulk = bulky(&admitted.message, raw_len);
                if bulk && !gate.inline() {
                    pending.held(raw_len);
                    tokio::spawn(request::start(conn, admitted));
                    continue;
                }
                // Started here, on the reader's task: a request that
                // completes without waiting (memfs, a cheap syscall) costs
                // no task and no wake-up; one that waits stays here until
                // the next frame arrives, then moves to a task of its own.
                let started = bulk.then(std::time::Instant::now);
                let mut running = inline.boxed(request::start(conn, admitted));
                let first = std::future::poll_fn(|cx| Poll::Ready(running.as_mut().poll(cx)));
                if first.await.is_pending() {
                    pending.held(raw_len);
                    inline.running = Some(running);
                } else {
                    inline.spare = Some(running);
                }
                if let Some(t) = started {
                    gate.took(t.elapsed());
                }
            }
        }
    }
}

/// The server's shutdown as the reader watches it, once per frame: the
/// token's waiter list (whose locks every connection shares) is joined on
/// the first poll only, with the reader task's waker, which stays the
/// same for the connection's life; later polls read
/// [`ServerInner::stopping`], which is set before the token is cancelled.
struct ShutdownWatch<'a, F> {
    server: &'a ServerInner,
    token: std::pin::Pin<&'a mut F>,
    joined: bool,
}

impl<'a, F: Future<Output = ()>> ShutdownWatch<'a, F> {
    /// Completes once the server shuts down.
    fn wait<'b>(&'b mut self) -> impl Future<Output = ()> + use<'a, 'b, F> {
        std::future::poll_fn(move |cx| {
            if self.server.stopping.load(std::sync::atomic::Ordering::Acquire) {
                return Poll::Ready(());
            }
            if self.joined {
                return Poll::Pending;
            }
            let r = self.token.as_mut().poll(cx);
            self.joined = r.is_pending();
            r
        })
    }
}

/// Reads answering more than this many bytes are *bulk*: started on the
/// reader's task only while [`BulkGate`] finds them quick there. A large
/// read's copy (`pread` into the reply) otherwise runs on another worker
/// while the reader takes the next frame and the writer sends the
/// previous reply. Profiled at depth 4 (server CPU per request, loaded
/// 2-core host): started inline, 64 KiB reads cost 19–25 µs and 0.25
/// context switches against 30–37 µs and 0.85 when spawned; 1 MiB
/// passthrough reads cost more inline (745 µs against 330 µs). A 1 MiB
/// memfs read copies nothing (a slice of a chunk): spawned, it paid a
/// task and its wake-ups for nothing.
const INLINE_READ_MAX: usize = 256 * 1024;

/// Frames larger than this (Twrite data) are bulk too. A 1 MiB
/// passthrough `pwrite` is slow enough for [`BulkGate`] to keep it on a
/// task of its own but one in [`BULK_SPAWNED`] + 1. (Started inline,
/// 1 MiB Twrites cost less CPU but, in a quiet run, no more throughput;
/// an earlier note here saw later passthrough reads of a file written that
/// way slow down: that was the placement of the read buffer, fixed in
/// [`crate::bufpool`], not the write.)
const INLINE_FRAME_MAX: usize = 256 * 1024;

/// A bulk request whose first poll on the reader's task took longer than
/// this sends the next [`BULK_SPAWNED`] bulk requests of the connection
/// to tasks of their own.
const BULK_SLOW: std::time::Duration = std::time::Duration::from_micros(50);

/// How many bulk requests go to tasks of their own after a slow one
/// before the next is tried on the reader's task again.
const BULK_SPAWNED: u32 = 64;

/// Whether the connection's bulk requests (see [`bulky`]) start on the
/// reader's task: as long as they are quick there (memfs hands out
/// slices of its chunks), they do; once one copies for long (a `pread`
/// or `pwrite` of 1 MiB), the next [`BULK_SPAWNED`] get tasks of their
/// own, then one is tried inline again. So a filesystem whose bulk
/// requests are cheap pays no task and no wake-up for them, and one whose
/// are dear keeps the reader free.
#[derive(Debug, Default)]
struct BulkGate {
    /// Bulk requests still to be spawned.
    spawn_left: u32,
}

impl BulkGate {
    /// Whether the next bulk request starts on the reader's task.
    fn inline(&mut self) -> bool {
        if self.spawn_left == 0 {
            return true;
        }
        self.spawn_left -= 1;
        false
    }

    /// Records how long a bulk request's first poll took inline.
    fn took(&mut self, elapsed: std::time::Duration) {
        if elapsed > BULK_SLOW {
            self.spawn_left = BULK_SPAWNED;
        }
    }
}

/// Whether a request moves bulk data: a large frame (Twrite) or a large
/// read.
fn bulky(message: &ninefold_proto::Message, frame_len: usize) -> bool {
    use ninefold_proto::Message;
    let reply_data = match message {
        Message::Tread(r) => r.count as usize,
        Message::Treaddir(r) => r.count as usize,
        _ => 0,
    };
    reply_data > INLINE_READ_MAX || frame_len > INLINE_FRAME_MAX
}

/// The request the reader started on its own task and that is still
/// waiting (see [`read_loop`]); at most one. The reader polls it while it
/// waits for the next frame and hands it to a task of its own
/// ([`detach`](Inline::detach)) before doing anything else, so it never
/// waits on the reader, and the reader never waits on it.
///
/// A request started here lives in a box, so it can move to a task
/// without moving in memory; the box of one that finished is kept and
/// reused for the next (a request's future is a few KiB: allocating one
/// per request cost more than answering a memfs Tgetattr).
struct Inline<F: Future<Output = ()> + Send + 'static> {
    running: Option<Pin<Box<F>>>,
    /// The box of a request that finished here, for the next one.
    spare: Option<Pin<Box<F>>>,
}

impl<F: Future<Output = ()> + Send + 'static> Inline<F> {
    /// `fut` in a box: the spare one if there is one.
    fn boxed(&mut self, fut: F) -> Pin<Box<F>> {
        match self.spare.take() {
            Some(mut b) => {
                b.set(fut);
                b
            }
            None => Box::pin(fut),
        }
    }

    /// Completes when the request started here finishes; never without
    /// one.
    fn finished(&mut self) -> impl Future<Output = ()> + '_ {
        std::future::poll_fn(move |cx| match &mut self.running {
            Some(running) => {
                let done = running.as_mut().poll(cx);
                if done.is_ready() {
                    self.spare = self.running.take();
                }
                done
            }
            None => Poll::Pending,
        })
    }

    /// Moves the request started here to a task of its own.
    fn detach(&mut self) {
        if let Some(running) = self.running.take() {
            // Outside a runtime (it is shutting down) the request is
            // dropped, as its task would be.
            if let Ok(rt) = tokio::runtime::Handle::try_current() {
                rt.spawn(running);
            }
        }
    }
}

impl<F: Future<Output = ()> + Send + 'static> Drop for Inline<F> {
    fn drop(&mut self) {
        self.detach();
    }
}

/// Waits out the connection's and the peer's request rates (the token is
/// taken; the frame goes on after the wait).
async fn throttle(conn: &Conn, rate: &mut Option<Bucket>) {
    let now = std::time::Instant::now();
    let mine = rate.as_mut().and_then(|b| b.take(now));
    let peer = conn
        .peer
        .as_ref()
        .and_then(|p| p.bucket.as_ref())
        .and_then(|b| b.lock().unwrap_or_else(std::sync::PoisonError::into_inner).take(now));
    if mine.is_some() {
        conn.server.metrics.limit("connection_rate");
    }
    if peer.is_some() {
        conn.server.metrics.limit("peer_rate");
    }
    if let Some(wait) = mine.max(peer) {
        tokio::time::sleep(wait).await;
    }
}

/// Tversion: cancel and drain what runs, release every fid, then let the
/// core negotiate.
async fn version(conn: &Arc<Conn>, tag: u16, v: base::Tversion, permit: Permit) {
    lock(&conn.core).cancel_all();
    conn.wait_drained().await;
    let fids = lock(&conn.core).take_all_fids();
    release_all(conn, fids).await;
    let mut core = lock(&conn.core);
    let reply = core.negotiate(tag, &v, permit);
    conn.send(core, Replies::one(reply));
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::{BulkGate, BULK_SLOW, BULK_SPAWNED};

    #[test]
    fn bulk_requests_stay_inline_while_quick() {
        let mut gate = BulkGate::default();
        for _ in 0..1000 {
            assert!(gate.inline());
            gate.took(Duration::from_micros(3));
        }
    }

    #[test]
    fn a_slow_bulk_request_sends_the_next_ones_to_tasks_then_one_is_retried() {
        let mut gate = BulkGate::default();
        assert!(gate.inline());
        gate.took(BULK_SLOW + Duration::from_micros(1));
        for _ in 0..BULK_SPAWNED {
            assert!(!gate.inline());
        }
        assert!(gate.inline(), "tried inline again after the window");
        gate.took(Duration::from_micros(1));
        assert!(gate.inline());
    }
}
