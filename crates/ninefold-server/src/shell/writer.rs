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
//!
//! An Rread whose payload waits in a pipe ([`crate::splice`]) is written as
//! its header, then the pipe spliced into the socket right behind it, by
//! the writer task (such replies are large). The connection lends the
//! pipes ([`Out::lease_pipe`]) only when its socket can be spliced into.

use std::collections::VecDeque;
use std::io::{self, IoSlice};
use std::pin::Pin;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use bytes::{Buf, Bytes, BytesMut};
use ninefold_proto::Dialect;
#[cfg(test)]
use tokio::io::AsyncWrite;
use tokio::sync::Notify;
use tracing::debug;

use super::encode::{encode, encode_spliced};
use crate::reply::{Permit, Replies, Reply};
#[cfg(test)]
use crate::splice::Plain;
use crate::splice::{
    Body, Choice, Lease, Pipes, SpliceReads, Transport, Way, SETTLE_BYTES, SPLICE_MIN,
};

/// A piece of encoded output: bytes, or a payload waiting in a pipe.
#[derive(Debug)]
pub(super) enum Chunk {
    /// Bytes, written as they are.
    Data(Bytes),
    /// A payload in a pipe, spliced into the socket.
    Pipe(Body),
}

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
    /// The reply's payload, when it waits in a pipe.
    body: Option<Body>,
    dialect: Dialect,
    msize: u32,
}

/// The socket's write half and what is being written on it. Held by at
/// most one writer at a time (a direct writer or the writer task); while
/// nobody holds it, it rests in [`State::sink`].
pub(crate) struct Sink {
    w: Pin<Box<dyn Transport>>,
    /// Encoded reply heads (frames are cut from it).
    head: BytesMut,
    /// Encoded, not yet written (heads and payloads, in order).
    chunks: VecDeque<Chunk>,
    /// The permits of the replies in `chunks`.
    permits: Vec<Permit>,
    /// A direct write stopped before everything was written and flushed:
    /// the writer task must finish it before anything else is written.
    pending: bool,
    /// Where the send times of large payloads are counted (see
    /// [`crate::splice`]'s `choice`), when the connection measures.
    measure: Option<&'static Choice>,
    /// The large copied payload at the front of `chunks`, partly written:
    /// when its first byte went, its length, the bytes left.
    copying: Option<(Instant, usize, usize)>,
    /// The way this connection's last large payloads went, and how many
    /// bytes of them in a row.
    last_way: Option<(Way, usize)>,
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

    /// Encodes `reply` where it is (a 288-byte `Reply` moved by value
    /// was a `memcpy` per layer) and keeps its permit until written.
    fn push(&mut self, reply: &mut Reply, body: Option<Body>, dialect: Dialect, msize: u32) {
        self.permits.push(reply.permit.take());
        let tag = reply.tag;
        match body {
            Some(body) => {
                encode_spliced(tag, body, dialect, msize, &mut self.head, &mut self.chunks)
            }
            None => encode(tag, &reply.message, dialect, msize, &mut self.head, &mut self.chunks),
        }
    }

    /// Writes every chunk, then flushes; `Pending` (with `cx`'s waker
    /// registered for writability) when the socket is full. Written
    /// chunks leave `chunks` as they go, so a later call goes on where
    /// this one stopped.
    fn poll_out(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while let Some(front) = self.chunks.front_mut() {
            if let Chunk::Pipe(body) = front {
                let polled = match self.w.as_ref().get_ref().poll_splice(cx, body) {
                    Some(polled) => polled,
                    None => {
                        // Not expected (pipes are lent only to spliceable
                        // sockets), but correct: the payload is copied.
                        let data = match body.copy_out() {
                            Ok(d) => d,
                            Err(e) => return Poll::Ready(Err(e)),
                        };
                        *front = Chunk::Data(data);
                        continue;
                    }
                };
                match polled {
                    Poll::Ready(Ok(())) => {
                        let (len, took) = (body.len(), body.sending_for());
                        self.chunks.pop_front();
                        finished(self.measure, &mut self.last_way, Way::Splice, len, took);
                    }
                    Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                    Poll::Pending => return Poll::Pending,
                }
                continue;
            }
            // A lone reply is one or two chunks: no need to set up 64.
            let iovs = if self.chunks.len() <= 4 { 4 } else { IOV_MAX };
            // Only a write with a large payload in it is timed.
            let start = self
                .measure
                .filter(|_| self.copying.is_some() || has_large(&self.chunks, iovs))
                .map(|_| Instant::now());
            let polled = if iovs == 4 {
                poll_writev::<4>(self.w.as_mut(), &self.chunks, cx)
            } else {
                poll_writev::<IOV_MAX>(self.w.as_mut(), &self.chunks, cx)
            };
            let written = match polled {
                Poll::Ready(Ok(0)) => return Poll::Ready(Err(io::ErrorKind::WriteZero.into())),
                Poll::Ready(Ok(w)) => {
                    if let Some(start) = start {
                        self.note_copied(w, start);
                    }
                    w
                }
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

    /// A `writev` begun at `start` wrote `w` bytes (not yet advanced
    /// over): the large payloads it began or finished are followed. The
    /// kernel copies one payload after another, so each is taken to have
    /// gone in its share of the call's time, in order (a batch of four
    /// 1 MiB replies is four sends, not four sends each as long as the
    /// batch).
    fn note_copied(&mut self, w: usize, start: Instant) {
        let Sink { chunks, measure, copying, last_way, .. } = self;
        let took = start.elapsed();
        let at = |pos: usize| start + took.mul_f64(pos as f64 / w.max(1) as f64);
        let mut pos = 0;
        for (i, c) in chunks.iter().enumerate() {
            let Chunk::Data(d) = c else { break };
            if pos == w {
                break;
            }
            let n = d.len().min(w - pos);
            let (from, to) = (at(pos), at(pos + n));
            pos += n;
            match copying {
                Some((began, len, left)) if i == 0 => {
                    *left -= n.min(*left);
                    if *left == 0 {
                        let (len, took) = (*len, to - *began);
                        *copying = None;
                        finished(*measure, last_way, Way::Copy, len, took);
                    }
                }
                _ if d.len() >= SPLICE_MIN => {
                    if n == d.len() {
                        finished(*measure, last_way, Way::Copy, n, to - from);
                    } else {
                        *copying = Some((from, d.len(), d.len() - n));
                    }
                }
                _ => {}
            }
        }
    }

    fn advance(&mut self, mut n: usize) {
        while n > 0 {
            let Some(Chunk::Data(first)) = self.chunks.front_mut() else { return };
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

/// Whether one of the first `iovs` chunks (up to the first pipe) is a
/// payload of at least [`SPLICE_MIN`] bytes.
fn has_large(chunks: &VecDeque<Chunk>, iovs: usize) -> bool {
    chunks
        .iter()
        .take(iovs)
        .map_while(|c| match c {
            Chunk::Data(d) => Some(d.len()),
            Chunk::Pipe(_) => None,
        })
        .any(|len| len >= SPLICE_MIN)
}

/// A large payload went out the `way` way in `took`: a sample of that
/// way once [`SETTLE_BYTES`] before it on the connection went the same
/// way (its send time then does not include draining the other way's
/// bytes).
fn finished(
    measure: Option<&'static Choice>,
    last_way: &mut Option<(Way, usize)>,
    way: Way,
    len: usize,
    took: Duration,
) {
    let Some(choice) = measure else { return };
    match last_way {
        Some((w, bytes)) if *w == way => {
            if *bytes >= SETTLE_BYTES {
                choice.sent(way, len, took);
            }
            *bytes = bytes.saturating_add(len);
        }
        _ => *last_way = Some((way, len)),
    }
}

/// One `writev` of the first `N` chunks (at most), up to the first pipe.
fn poll_writev<const N: usize>(
    w: Pin<&mut dyn Transport>,
    chunks: &VecDeque<Chunk>,
    cx: &mut Context<'_>,
) -> Poll<io::Result<usize>> {
    let mut slices = [IoSlice::new(&[]); N];
    let mut n = 0;
    let data = chunks.iter().map_while(|c| match c {
        Chunk::Data(d) => Some(d),
        Chunk::Pipe(_) => None,
    });
    for (slot, c) in slices.iter_mut().zip(data) {
        *slot = IoSlice::new(c);
        n += 1;
    }
    w.poll_write_vectored(cx, &slices[..n])
}

/// What [`Out`] guards.
#[derive(Debug)]
struct State {
    /// The sink while nobody writes (`None`: a writer holds it, or the
    /// connection's writing failed). Boxed: it changes hands twice per
    /// direct write, and a pointer is cheaper to move than the sink.
    sink: Option<Box<Sink>>,
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
    /// The pipes spliced reads are lent, when the socket can be spliced
    /// into.
    pipes: Option<std::sync::Arc<Pipes>>,
}

/// Replies to write at once, by the caller, after it dropped the core's
/// lock (see [`Out::release`]).
#[derive(Debug)]
#[must_use = "a direct write must be carried out (Out::write)"]
pub(crate) struct Direct {
    sink: Box<Sink>,
}

impl Out {
    /// The outgoing side of a connection writing to `w`.
    #[cfg(test)]
    pub(crate) fn new<W: AsyncWrite + Send + Unpin + 'static>(w: W) -> Out {
        Out::with_transport(Box::pin(Plain(w)), None, SpliceReads::Never)
    }

    /// The outgoing side of a connection writing to `w`; `choice` (the
    /// transport's, when it can be spliced into): reads may be answered
    /// from pipes spliced into it, as `policy` says (see
    /// [`crate::splice`]).
    pub(crate) fn with_transport(
        w: Pin<Box<dyn Transport>>,
        choice: Option<&'static Choice>,
        policy: SpliceReads,
    ) -> Out {
        let choice = choice.filter(|_| policy != SpliceReads::Never);
        let pipes = choice.map(|c| Pipes::new(c, policy));
        let measure = choice.filter(|c| c.measured() && policy == SpliceReads::Measured);
        // Everything starts small and grows with the connection's load, so
        // an idle connection costs little.
        let sink = Sink {
            w,
            head: BytesMut::new(),
            chunks: VecDeque::new(),
            permits: Vec::new(),
            pending: false,
            measure,
            copying: None,
            last_way: None,
        };
        Out {
            state: Mutex::new(State {
                sink: Some(Box::new(sink)),
                queue: VecDeque::new(),
                batching: false,
                closed: false,
                failed: false,
            }),
            wake: Notify::new(),
            pipes,
        }
    }

    /// An empty pipe for a read of `count` bytes at `offset`, to be
    /// spliced into this connection's socket; `None` when the socket
    /// cannot be spliced into or no pipe is to be had (the read is copied).
    pub(crate) fn lease_pipe(&self, offset: u64, count: usize) -> Option<Lease> {
        self.pipes.as_ref()?.lease(offset, count)
    }

    /// The connection's pipes, when its reads may be spliced.
    pub(crate) fn pipes(&self) -> Option<&Pipes> {
        self.pipes.as_deref()
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Releases replies in the order the core computed them, encoded for
    /// `dialect` within `msize`. Called with the core locked, so that
    /// order is the order written. Returns a
    /// [`Direct`] write when the caller should write them itself (nobody
    /// is writing, nothing is queued, the replies are small and the
    /// reader is not in the middle of a pipelined batch); otherwise they
    /// are queued for whoever writes.
    pub(crate) fn release(
        &self,
        dialect: Dialect,
        msize: u32,
        mut replies: Replies,
    ) -> Option<Direct> {
        if replies.is_empty() {
            return None;
        }
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
            && st.sink.as_ref().is_some_and(|s| s.idle())
            && small();
        if direct {
            if let Some(mut sink) = st.sink.take() {
                drop(st);
                for reply in replies.as_mut_slice() {
                    sink.push(reply, None, dialect, msize);
                }
                return Some(Direct { sink });
            }
        }
        st.queue.extend(replies.into_iter().map(|reply| Outgoing {
            reply,
            body: None,
            dialect,
            msize,
        }));
        // A sink at rest means nobody will hand the queue on: the writer
        // task must. (A sink held is given back with a look at the queue.)
        if st.sink.is_some() {
            self.wake.notify_one();
        }
        None
    }

    /// [`release`](Out::release) of replies one of which, the reply to
    /// `tag`, has its payload waiting in `body` (see [`crate::splice`]).
    /// They go to the writer task (a large reply is never written
    /// directly). If the reply to `tag` is not a bare Rread (a panic's
    /// EIO replaced it), the pipe is dropped with its data.
    pub(crate) fn release_spliced(
        &self,
        dialect: Dialect,
        msize: u32,
        replies: Replies,
        tag: u16,
        body: Body,
    ) {
        let mut st = self.lock();
        if st.failed {
            return;
        }
        let mut body = Some(body);
        for reply in replies {
            let body = if reply.tag == tag && reply.is_bare_rread() { body.take() } else { None };
            st.queue.push_back(Outgoing { reply, body, dialect, msize });
        }
        if st.sink.is_some() {
            self.wake.notify_one();
        }
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
            drop(st);
            // The writer task may be waiting already: it ends on seeing
            // the failure, not only at close.
            self.wake.notify_one();
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
    Write(Box<Sink>),
    Wait,
    Shutdown(Box<Sink>),
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
                        let Some(mut o) = st.queue.pop_front() else { break };
                        bytes += o.reply.message.payload().map_or(0, Bytes::len)
                            + o.body.as_ref().map_or(0, Body::len);
                        sink.push(&mut o.reply, o.body, o.dialect, o.msize);
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

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::Duration;

    use bytes::BytesMut;
    use ninefold_proto::{base, Codec, Dialect, Message};
    use tokio::io::AsyncReadExt;

    use super::{Out, DIRECT_MAX};
    use crate::reply::{Replies, Reply};

    const MSIZE: u32 = 1 << 20;

    fn rread(tag: u16, len: usize) -> Replies {
        let data = bytes::Bytes::from(vec![tag as u8; len]);
        Replies::one(Reply::new(tag, base::Rread { data }.into(), None))
    }

    /// Reads `n` frames from `rd`, returning (tag, payload length).
    async fn frames(rd: &mut tokio::io::DuplexStream, n: usize) -> Vec<(u16, usize)> {
        let mut codec = Codec::new(Dialect::L, MSIZE);
        let mut buf = BytesMut::new();
        let mut out = Vec::new();
        while out.len() < n {
            while let Some(f) = codec.decode(&mut buf).expect("decodes") {
                let len = match &f.message {
                    Message::Rread(r) => r.data.len(),
                    _ => 0,
                };
                out.push((f.tag, len));
            }
            if out.len() < n {
                let got = tokio::time::timeout(Duration::from_secs(5), rd.read_buf(&mut buf))
                    .await
                    .expect("replies arrive")
                    .expect("reads");
                assert!(got > 0, "stream ended after {out:?}");
            }
        }
        out
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_direct_write_that_fills_the_socket_is_finished_in_order_by_the_writer() {
        // A pipe that takes 64 bytes at a time: every direct write is
        // partial, so the writer task finishes it, and what is released
        // meanwhile waits its turn.
        let (w, mut r) = tokio::io::duplex(64);
        let out = Arc::new(Out::new(w));
        let writer = tokio::spawn(super::run(out.clone()));
        let d = out.release(Dialect::L, MSIZE, rread(1, 1000)).expect("idle: written at once");
        out.write(d);
        assert!(out.release(Dialect::L, MSIZE, rread(2, 10)).is_none(), "queued behind");
        assert!(out.release(Dialect::L, MSIZE, rread(3, 500)).is_none(), "queued behind");
        assert_eq!(frames(&mut r, 3).await, vec![(1, 1000), (2, 10), (3, 500)]);
        // Drained: the next lone reply is written at once again.
        tokio::time::sleep(Duration::from_millis(20)).await;
        let d = out.release(Dialect::L, MSIZE, rread(4, 8)).expect("idle again");
        out.write(d);
        assert_eq!(frames(&mut r, 1).await, vec![(4, 8)]);
        out.close();
        tokio::time::timeout(Duration::from_secs(5), writer).await.expect("ends").expect("task");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn batches_and_large_replies_go_through_the_writer_task() {
        let (w, mut r) = tokio::io::duplex(1 << 20);
        let out = Arc::new(Out::new(w));
        let writer = tokio::spawn(super::run(out.clone()));
        out.set_batching(true);
        assert!(out.release(Dialect::L, MSIZE, rread(1, 10)).is_none());
        assert!(out.release(Dialect::L, MSIZE, rread(2, 10)).is_none());
        out.set_batching(false);
        assert_eq!(frames(&mut r, 2).await, vec![(1, 10), (2, 10)]);
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert!(out.release(Dialect::L, MSIZE, rread(3, DIRECT_MAX + 1)).is_none());
        assert_eq!(frames(&mut r, 1).await, vec![(3, DIRECT_MAX + 1)]);
        out.close();
        tokio::time::timeout(Duration::from_secs(5), writer).await.expect("ends").expect("task");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_peer_that_is_gone_costs_the_replies_not_the_server() {
        let (w, r) = tokio::io::duplex(64);
        drop(r);
        let out = Arc::new(Out::new(w));
        let writer = tokio::spawn(super::run(out.clone()));
        if let Some(d) = out.release(Dialect::L, MSIZE, rread(1, 10)) {
            out.write(d);
        }
        // Writing failed: later replies are dropped, the writer ends.
        assert!(out.release(Dialect::L, MSIZE, rread(2, 10)).is_none());
        tokio::time::timeout(Duration::from_secs(5), writer).await.expect("ends").expect("task");
    }

    mod measuring {
        use std::collections::VecDeque;
        use std::time::{Duration, Instant};

        use bytes::{Bytes, BytesMut};

        use super::super::{finished, Chunk, Plain, Sink};
        use crate::splice::{Choice, Way, SETTLE_BYTES};

        const MIB: usize = 1 << 20;

        fn sink(choice: &'static Choice, last: Option<(Way, usize)>) -> Sink {
            let (a, _b) = tokio::io::duplex(64);
            Sink {
                w: Box::pin(Plain(a)),
                head: BytesMut::new(),
                chunks: VecDeque::new(),
                permits: Vec::new(),
                pending: false,
                measure: Some(choice),
                copying: None,
                last_way: last,
            }
        }

        fn reply(s: &mut Sink) {
            s.chunks.push_back(Chunk::Data(Bytes::from_static(&[0; 11])));
            s.chunks.push_back(Chunk::Data(Bytes::from(vec![0; MIB])));
        }

        #[test]
        fn a_batch_of_large_copies_counts_each_payload_its_share() {
            let choice: &'static Choice = Box::leak(Box::new(Choice::for_tests()));
            let mut s = sink(choice, Some((Way::Copy, SETTLE_BYTES)));
            for _ in 0..4 {
                reply(&mut s);
            }
            // One writev of all four took 40 ms: each payload 10 ms.
            let start = Instant::now() - Duration::from_millis(40);
            s.note_copied(4 * (11 + MIB), start);
            let (n, ps) = choice.send_figure(Way::Copy, MIB);
            assert_eq!(n, 4);
            let ten_ms = 10_000_000_000 / MIB as u64;
            assert!(ps >= ten_ms * 9 / 10 && ps <= ten_ms * 13 / 10, "{ps} against {ten_ms}");
            assert_eq!(choice.send_figure(Way::Splice, MIB).0, 0);
        }

        #[test]
        fn a_payload_written_in_two_calls_is_one_sample_from_first_byte_to_last() {
            let choice: &'static Choice = Box::leak(Box::new(Choice::for_tests()));
            let mut s = sink(choice, Some((Way::Copy, SETTLE_BYTES)));
            reply(&mut s);
            let first = Instant::now() - Duration::from_millis(30);
            s.note_copied(11 + MIB / 2, first);
            assert_eq!(choice.send_figure(Way::Copy, MIB).0, 0, "half a payload is no sample");
            s.advance(11 + MIB / 2);
            s.note_copied(MIB / 2, Instant::now());
            let (n, ps) = choice.send_figure(Way::Copy, MIB);
            assert_eq!(n, 1);
            // From (about) 30 ms ago, less the header's share, to now.
            let thirty_ms = 30_000_000_000 / MIB as u64;
            assert!(ps >= thirty_ms * 9 / 10 && ps <= thirty_ms * 13 / 10, "{ps}");
        }

        #[test]
        fn sends_count_only_after_8_mib_the_same_way() {
            let choice: &'static Choice = Box::leak(Box::new(Choice::for_tests()));
            let mut last = None;
            let took = Duration::from_millis(1);
            for _ in 0..8 {
                finished(Some(choice), &mut last, Way::Copy, MIB, took);
            }
            assert_eq!(choice.send_figure(Way::Copy, MIB).0, 0);
            finished(Some(choice), &mut last, Way::Copy, MIB, took);
            assert_eq!(choice.send_figure(Way::Copy, MIB).0, 1);
            // A splice starts the count again, for both ways.
            finished(Some(choice), &mut last, Way::Splice, MIB, took);
            finished(Some(choice), &mut last, Way::Copy, MIB, took);
            assert_eq!(choice.send_figure(Way::Copy, MIB).0, 1);
            assert_eq!(choice.send_figure(Way::Splice, MIB).0, 0);
        }
    }
}
