//! The connection's outgoing side: replies are encoded in the order the
//! core released them and written with vectored I/O, payloads by
//! reference.
//!
//! Whoever releases replies while nobody is writing and nothing is queued
//! writes them itself, at once: it takes the [`Sink`] (the socket's write
//! half and its buffers) out of the shared [`Out`], encodes, and tries one
//! non-blocking `writev` (see [`Out::release`] and [`Direct`]). A request
//! answered on the reader's task (a lone request at depth 1, the common
//! case of the Linux kernel client) so costs no hand-off to another task,
//! like the raw responder's loop: read, answer, write. Everything else goes
//! through the queue to the **writer task** ([`run`]), which gathers up to
//! [`BATCH`] replies into one `writev` and waits for the socket when it is
//! full:
//! - what a direct write could not finish (a full socket: its remainder
//!   stays in the sink, the writer finishes it first);
//! - replies released while the sink is taken (queued behind it: order
//!   holds, because whoever gives the sink back hands the queue on);
//! - replies released while the reader has more whole frames buffered
//!   ([`Out::set_batching`]): a pipelined batch is answered in one
//!   `writev` once the reader yields, as before;
//! - large replies (more than [`DIRECT_MAX`] bytes of payload), whose copy
//!   into the socket is better done by the writer task, in parallel with
//!   the reader.
//!
//! A reply's permit (its share of the reply budget and memory) is dropped
//! once the reply is on the wire.

use std::collections::VecDeque;
use std::io::{self, IoSlice};
use std::pin::Pin;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, Waker};

use bytes::{Buf, Bytes, BytesMut};
use ninefold_proto::{Dialect, Errno, Frame};
use tokio::io::AsyncWrite;
use tokio::sync::Notify;
use tracing::{debug, error, trace};

use crate::core::Core;
use crate::reply::{error_reply, Permit, Replies, Reply};

/// Most replies gathered into one `writev` by the writer task.
const BATCH: usize = 64;
/// The writer task stops gathering once this many payload bytes are queued.
const BATCH_BYTES: usize = 4 * 1024 * 1024;
/// Replies with more payload than this go to the writer task even when a
/// direct write would be possible: a large copy into the socket runs
/// there, in parallel with the reader (the bulk rows' shape), not on the
/// task that completed the request.
pub(crate) const DIRECT_MAX: usize = 16 * 1024;
/// Most iovecs handed to one `writev`.
const IOV_MAX: usize = 64;

/// A reply and the connection parameters to encode it with.
#[derive(Debug)]
struct Outgoing {
    reply: Reply,
    dialect: Dialect,
    msize: u32,
}

/// The socket's write half and what is being written on it. Held by at
/// most one writer at a time (a direct writer or the writer task); while
/// nobody holds it, it rests in [`State::sink`].
pub(crate) struct Sink {
    w: Pin<Box<dyn AsyncWrite + Send>>,
    /// Encoded reply heads (frames are cut from it).
    head: BytesMut,
    /// Encoded, not yet written (heads and payloads, in order).
    chunks: VecDeque<Bytes>,
    /// The permits of the replies in `chunks`.
    permits: Vec<Permit>,
    /// A direct write stopped before everything was written and flushed:
    /// the writer task must finish it before anything else is written.
    pending: bool,
}

impl std::fmt::Debug for Sink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sink")
            .field("chunks", &self.chunks.len())
            .field("pending", &self.pending)
            .finish_non_exhaustive()
    }
}

impl Sink {
    /// Free for a direct write: nothing left over from the last one.
    fn idle(&self) -> bool {
        !self.pending
    }

    fn push(&mut self, o: Outgoing) {
        self.permits.push(o.reply.permit);
        encode(o.reply.tag, o.reply.message, o.dialect, o.msize, &mut self.head, &mut self.chunks);
    }

    /// Writes every chunk, then flushes; `Pending` (with `cx`'s waker
    /// registered for writability) when the socket is full. Written
    /// chunks leave `chunks` as they go, so a later call goes on where
    /// this one stopped.
    fn poll_out(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while !self.chunks.is_empty() {
            let mut slices = [IoSlice::new(&[]); IOV_MAX];
            let mut n = 0;
            for (slot, c) in slices.iter_mut().zip(self.chunks.iter()) {
                *slot = IoSlice::new(c);
                n += 1;
            }
            let written = match self.w.as_mut().poll_write_vectored(cx, &slices[..n]) {
                Poll::Ready(Ok(0)) => return Poll::Ready(Err(io::ErrorKind::WriteZero.into())),
                Poll::Ready(Ok(w)) => w,
                Poll::Ready(Err(e)) if e.kind() == io::ErrorKind::Interrupted => continue,
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending => return Poll::Pending,
            };
            self.advance(written);
        }
        match self.w.as_mut().poll_flush(cx) {
            Poll::Ready(Ok(())) => {
                // Every reply is on the wire: their permits go back.
                self.permits.clear();
                Poll::Ready(Ok(()))
            }
            other => other,
        }
    }

    fn advance(&mut self, mut n: usize) {
        while n > 0 {
            let Some(first) = self.chunks.front_mut() else { return };
            if n >= first.len() {
                n -= first.len();
                self.chunks.pop_front();
            } else {
                first.advance(n);
                return;
            }
        }
    }
}

/// What [`Out`] guards.
#[derive(Debug)]
struct State {
    /// The sink while nobody writes (`None`: a writer holds it, or the
    /// connection's writing failed).
    sink: Option<Sink>,
    /// Replies released while the sink was taken, or meant for the writer
    /// task, in release order.
    queue: VecDeque<Outgoing>,
    /// The reader has more whole frames buffered: what is released now
    /// joins the queue, so the batch goes out in one `writev`.
    batching: bool,
    /// No reply will be released any more (the connection is gone): the
    /// writer task writes what is left, shuts the socket's write side
    /// down and ends.
    closed: bool,
    /// Writing failed (the peer is gone): replies are dropped.
    failed: bool,
}

/// The outgoing side of one connection, shared by everyone who releases
/// replies and by the writer task.
#[derive(Debug)]
pub(crate) struct Out {
    state: Mutex<State>,
    /// Wakes the writer task.
    wake: Notify,
}

/// Replies to write at once, by the caller, after it dropped the core's
/// lock (see [`Out::release`]).
#[derive(Debug)]
#[must_use = "a direct write must be carried out (Out::write)"]
pub(crate) struct Direct {
    sink: Sink,
}

impl Out {
    /// The outgoing side of a connection writing to `w`.
    pub(crate) fn new<W: AsyncWrite + Send + 'static>(w: W) -> Out {
        // Everything starts small and grows with the connection's load, so
        // an idle connection costs little.
        let sink = Sink {
            w: Box::pin(w),
            head: BytesMut::new(),
            chunks: VecDeque::new(),
            permits: Vec::new(),
            pending: false,
        };
        Out {
            state: Mutex::new(State {
                sink: Some(sink),
                queue: VecDeque::new(),
                batching: false,
                closed: false,
                failed: false,
            }),
            wake: Notify::new(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Releases replies in the order the core computed them. Called with
    /// the core locked, so that order is the order written. Returns a
    /// [`Direct`] write when the caller should write them itself (nobody
    /// is writing, nothing is queued, the replies are small and the
    /// reader is not in the middle of a pipelined batch); otherwise they
    /// are queued for whoever writes.
    pub(crate) fn release(&self, core: &Core, replies: Replies) -> Option<Direct> {
        if replies.is_empty() {
            return None;
        }
        let facts = core.facts();
        let (dialect, msize) = (facts.dialect, facts.msize);
        let mut st = self.lock();
        if st.failed {
            // The peer is gone; the permits go back with the replies.
            return None;
        }
        let small = || {
            replies.iter().map(|r| r.message.payload().map_or(0, Bytes::len)).sum::<usize>()
                <= DIRECT_MAX
        };
        let direct = !st.batching
            && st.queue.is_empty()
            && st.sink.as_ref().is_some_and(Sink::idle)
            && small();
        if direct {
            if let Some(mut sink) = st.sink.take() {
                drop(st);
                for reply in replies {
                    sink.push(Outgoing { reply, dialect, msize });
                }
                return Some(Direct { sink });
            }
        }
        st.queue.extend(replies.into_iter().map(|reply| Outgoing { reply, dialect, msize }));
        // A sink at rest means nobody will hand the queue on: the writer
        // task must. (A sink held is given back with a look at the queue.)
        if st.sink.is_some() {
            self.wake.notify_one();
        }
        None
    }

    /// Carries out a direct write: one non-blocking attempt; what the
    /// socket does not take, and anything queued meanwhile, goes to the
    /// writer task.
    pub(crate) fn write(&self, direct: Direct) {
        let mut sink = direct.sink;
        let mut cx = Context::from_waker(Waker::noop());
        let result = match sink.poll_out(&mut cx) {
            Poll::Ready(r) => r,
            Poll::Pending => {
                sink.pending = true;
                Ok(())
            }
        };
        let mut st = self.lock();
        if let Err(e) = result {
            fail(&mut st, &e);
            return;
        }
        let hand_on = sink.pending || !st.queue.is_empty();
        st.sink = Some(sink);
        drop(st);
        if hand_on {
            self.wake.notify_one();
        }
    }

    /// Whether the reader has more whole frames buffered (see
    /// [`State::batching`]). When a batch ends, what it queued is written
    /// by the writer task (already woken).
    pub(crate) fn set_batching(&self, batching: bool) {
        self.lock().batching = batching;
    }

    /// No reply will be released any more: the writer task finishes what
    /// is queued and ends.
    pub(crate) fn close(&self) {
        self.lock().closed = true;
        self.wake.notify_one();
    }
}

fn fail(st: &mut State, e: &io::Error) {
    debug!(error = %e, "writing replies failed; dropping the rest");
    st.failed = true;
    st.sink = None;
    st.queue.clear();
}

/// What the writer task does next.
enum Job {
    Write(Sink),
    Wait,
    Shutdown(Sink),
}

/// The writer task: writes what is queued (and what a direct write left
/// over), waiting for the socket when it is full, until the connection is
/// closed or writing fails.
pub(crate) async fn run(out: std::sync::Arc<Out>) {
    loop {
        let job = {
            let mut st = out.lock();
            if st.failed {
                return;
            }
            let work = st.sink.as_ref().is_some_and(|s| !s.idle() || !st.queue.is_empty());
            if work {
                st.sink.take().map_or(Job::Wait, |mut sink| {
                    let mut bytes = 0;
                    let mut n = 0;
                    while n < BATCH && bytes < BATCH_BYTES {
                        let Some(o) = st.queue.pop_front() else { break };
                        bytes += o.reply.message.payload().map_or(0, Bytes::len);
                        sink.push(o);
                        n += 1;
                    }
                    Job::Write(sink)
                })
            } else if st.closed && st.sink.is_some() && st.queue.is_empty() {
                st.sink.take().map(Job::Shutdown).unwrap_or(Job::Wait)
            } else {
                Job::Wait
            }
        };
        let mut sink = match job {
            Job::Write(sink) => sink,
            Job::Wait => {
                out.wake.notified().await;
                continue;
            }
            Job::Shutdown(mut sink) => {
                let _ = std::future::poll_fn(|cx| sink.w.as_mut().poll_shutdown(cx)).await;
                return;
            }
        };
        let result = std::future::poll_fn(|cx| sink.poll_out(cx)).await;
        sink.pending = false;
        let mut st = out.lock();
        match result {
            Ok(()) => st.sink = Some(sink),
            Err(e) => {
                fail(&mut st, &e);
                return;
            }
        }
    }
}

/// Encodes one reply into `chunks`: its head as a slice of `head`, its
/// payload (if any) by reference. A reply that cannot be encoded or would
/// not fit msize is replaced by an error, so the tag is still answered.
fn encode(
    tag: u16,
    message: ninefold_proto::Message,
    dialect: Dialect,
    msize: u32,
    head: &mut BytesMut,
    chunks: &mut VecDeque<Bytes>,
) {
    let frame = Frame::new(tag, message);
    // The Linux dialects keep every reply strictly below msize (the
    // kernel's fd transport drops the connection at `size >= msize`); a
    // `9P2000.L.Z` reply may fill msize exactly, as ZeroFS's client expects.
    let fits = |len: usize| match dialect {
        Dialect::Z => len <= msize as usize,
        _ => len < msize as usize,
    };
    let fallback = match frame.encoded_len(dialect) {
        Ok(len) if fits(len) => None,
        Ok(len) => {
            error!(
                tag = tag,
                message = frame.message.name(),
                len,
                msize = msize,
                "reply would reach msize"
            );
            Some(Errno::EMSGSIZE)
        }
        Err(e) => {
            error!(tag = tag, message = frame.message.name(), error = %e, "reply cannot be encoded");
            Some(Errno::EIO)
        }
    };
    let frame = match fallback {
        None => frame,
        Some(errno) => Frame::new(tag, error_reply(dialect, errno)),
    };
    if head.capacity() - head.len() < 64 {
        head.reserve(1024);
    }
    match frame.encode_vectored(dialect, head) {
        Ok(payload) => {
            chunks.push_back(head.split().freeze());
            if let Some(p) = payload.filter(|p| !p.is_empty()) {
                chunks.push_back(p);
            }
            trace!(tag, message = frame.message.name(), "encoded");
        }
        Err(e) => error!(tag = tag, error = %e, "error reply cannot be encoded"),
    }
}
