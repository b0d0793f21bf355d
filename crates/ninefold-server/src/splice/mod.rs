//! Zero-copy Rread payloads: file data that goes from the page cache to
//! the socket through a pipe (`splice(2)`), never through user memory.
//!
//! A filesystem that can ([`Handle::read_to_pipe`](crate::Handle::read_to_pipe))
//! fills a pipe the connection lends it ([`PipeSink`]) with the data of a
//! Tread; the kernel moves page references, not bytes, and the number of
//! bytes in the pipe is exact (a short read at end of file, or a file
//! truncated meanwhile, gives exactly what the pipe holds). The reply then
//! goes through the connection's ordered writer like any other: its header
//! (`size[4] Rread[1] tag[2] count[4]`) is written, then the pipe is
//! spliced into the socket right behind it, waiting for writability when
//! the socket is full. On Linux ≥ 6.5 tcp and unix stream sockets take the
//! pages by reference too, so the server copies nothing; the one copy left
//! is the receiver's.
//!
//! Only plain tcp and unix sockets are spliced into ([`split`]):
//! any other stream (TLS, a test's duplex) has no pipes, and its reads are
//! copied as before. Pipes are per connection (at most
//! [`PIPES_PER_CONN`], and [`PIPES_MAX`] in the process), made on first
//! use and closed with the connection; when none can be had (the limits,
//! `EMFILE`, a pipe size the host refuses) the read is copied.
//!
//! Whether a read is spliced or copied is measured, per transport and
//! size, on the host itself ([`choice`]); [`SpliceReads`] can fix it.
//!
//! What a peer sees of a file changed while its read is on the way: the
//! pipe holds references to the page-cache pages, so a write or a
//! truncation that lands between the fill and the send shows in the data
//! sent (the count is that of the fill). Reads and writes of one file
//! racing each other are not atomic on Linux either; reads ordered after
//! a write (the client's order) see it.

use std::any::Any;
use std::io;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use rustix::pipe::{PipeFlags, SpliceFlags};
use tokio::io::{AsyncRead, AsyncWrite, Interest};

mod choice;

pub use choice::SpliceReads;
pub(crate) use choice::{Choice, Way, SETTLE_BYTES};

/// Reads of at least this many bytes go through a pipe when they can.
/// Measured on passthrough at depth 4, tcp and unix alike (server CPU
/// per read against copying, docs/BENCHMARKS.md, "Issue 16, spliced
/// reads"): 64 KiB costs 0.45–0.5× on unix and 0.45–1.0× on tcp with
/// steadier throughput; at 32 KiB and 16 KiB the copy is as cheap or
/// cheaper (two splices, a `FIONREAD` and a header written on its own
/// outweigh copying so little), so the break-even lies between 32 and
/// 64 KiB on both transports.
pub(crate) const SPLICE_MIN: usize = 64 * 1024;
/// Most pipes one connection holds.
pub(crate) const PIPES_PER_CONN: usize = 4;
/// Most pipes in the process (two descriptors each).
pub(crate) const PIPES_MAX: usize = 512;
/// The largest pipe asked for.
const PIPE_MAX_BYTES: usize = 4 << 20;
const PAGE: usize = 4096;

/// Pipes open in the process.
static OPEN: AtomicUsize = AtomicUsize::new(0);

/// The write end of a pipe the server lends a filesystem to fill with the
/// data of one read (see [`Handle::read_to_pipe`](crate::Handle::read_to_pipe)).
/// It is empty when lent, and holds at most [`room`](PipeSink::room) bytes.
#[derive(Debug)]
pub struct PipeSink {
    w: Arc<OwnedFd>,
    room: usize,
}

impl PipeSink {
    /// The pipe's write end, to `splice(2)` into (it is non-blocking: a
    /// full pipe answers `EAGAIN`).
    pub fn fd(&self) -> BorrowedFd<'_> {
        self.w.as_fd()
    }

    /// The write end, shared: for a fill that runs on another thread (the
    /// blocking pool).
    pub fn shared(&self) -> Arc<OwnedFd> {
        self.w.clone()
    }

    /// The pipe's capacity in bytes. A read of `count` bytes at `offset`
    /// takes one pipe slot (a page) for every page it touches, so it fits
    /// when `pages_touched(offset, count) * 4096 <= room`; the server lends
    /// a pipe only to reads that fit.
    pub fn room(&self) -> usize {
        self.room
    }
}

/// One pipe: its read end (the server's) and write end (lent out).
#[derive(Debug)]
struct Pipe {
    r: OwnedFd,
    sink: PipeSink,
}

impl Drop for Pipe {
    fn drop(&mut self) {
        OPEN.fetch_sub(1, Ordering::Relaxed);
    }
}

impl Pipe {
    fn new(bytes: usize) -> Option<Pipe> {
        if OPEN.fetch_add(1, Ordering::Relaxed) >= PIPES_MAX {
            OPEN.fetch_sub(1, Ordering::Relaxed);
            return None;
        }
        let made = rustix::pipe::pipe_with(PipeFlags::CLOEXEC | PipeFlags::NONBLOCK);
        let (r, w) = match made {
            Ok(p) => p,
            Err(e) => {
                OPEN.fetch_sub(1, Ordering::Relaxed);
                tracing::debug!(error = %e, "no pipe for a spliced read; copying");
                return None;
            }
        };
        // The host may refuse a size: above `fs.pipe-max-size` (1 MiB by
        // default) without CAP_SYS_RESOURCE, or once the user's pipes
        // hold `fs.pipe-user-pages-soft`. Then the pipe keeps the size it
        // has, and the reads that do not fit are copied.
        let room = match rustix::pipe::fcntl_getpipe_size(&w) {
            Ok(has) if has >= bytes => has,
            has => rustix::pipe::fcntl_setpipe_size(&w, bytes).or(has).unwrap_or(0),
        };
        Some(Pipe { r, sink: PipeSink { w: Arc::new(w), room } })
    }
}

/// The pipes of one connection.
#[derive(Debug)]
pub(crate) struct Pipes {
    free: Mutex<Vec<Pipe>>,
    /// Pipes of this connection in existence (free or lent).
    made: AtomicUsize,
    /// The largest read (in pipe bytes) a pipe may be made for: less once
    /// the host refused a size.
    largest: AtomicUsize,
    /// What splicing and copying cost on this connection's transport.
    choice: &'static Choice,
    /// Whether to splice always or as measured.
    policy: SpliceReads,
    /// A filesystem filled a pipe on this connection: its copied reads are
    /// then samples of copying (a filesystem that cannot splice, such as
    /// memfs, copies at another cost, and is not compared).
    spliced_once: std::sync::atomic::AtomicBool,
    /// Large reads of this connection that asked which way, by size class
    /// (the measured choice takes ways in runs per connection).
    asked: [std::sync::atomic::AtomicU32; choice::CLASSES],
}

impl Pipes {
    pub(crate) fn new(choice: &'static Choice, policy: SpliceReads) -> Arc<Pipes> {
        Arc::new(Pipes {
            free: Mutex::new(Vec::new()),
            made: AtomicUsize::new(0),
            largest: AtomicUsize::new(PIPE_MAX_BYTES),
            choice,
            policy,
            spliced_once: std::sync::atomic::AtomicBool::new(false),
            asked: Default::default(),
        })
    }

    /// Which way a read of `count` bytes (at least [`SPLICE_MIN`]) goes.
    pub(crate) fn way(&self, count: usize) -> Way {
        match self.policy {
            SpliceReads::Measured => {
                let n = self.asked[choice::class_of(count)].fetch_add(1, Ordering::Relaxed);
                self.choice.pick(count, n)
            }
            SpliceReads::Always => Way::Splice,
            SpliceReads::Never => Way::Copy,
        }
    }

    /// Where a read filled the `way` way is counted: `None` when it is not
    /// a sample (the policy is fixed, or a copy on a connection whose
    /// filesystem has not spliced).
    pub(crate) fn samples(&self, way: Way) -> Option<&'static Choice> {
        let counted = self.policy == SpliceReads::Measured
            && self.choice.measured()
            && (way == Way::Splice || self.spliced_once.load(Ordering::Relaxed));
        counted.then_some(self.choice)
    }

    /// A filesystem filled a pipe of this connection.
    pub(crate) fn note_spliced(&self) {
        self.spliced_once.store(true, Ordering::Relaxed);
    }

    /// An empty pipe that holds a read of `count` bytes at `offset`, or
    /// `None` (no pipe to be had: the read is copied).
    pub(crate) fn lease(self: &Arc<Pipes>, offset: u64, count: usize) -> Option<Lease> {
        let need = pages_touched(offset, count) * PAGE;
        if need > self.largest.load(Ordering::Relaxed) {
            return None;
        }
        let mut free = self.free.lock().unwrap_or_else(PoisonError::into_inner);
        // The smallest free pipe that holds the read.
        let fits = free.iter().enumerate().filter(|(_, p)| p.sink.room >= need);
        let pipe = match fits.min_by_key(|(_, p)| p.sink.room).map(|(i, _)| i) {
            Some(i) => free.swap_remove(i),
            None => {
                // All made: a free one too small makes room for a larger.
                if self.made.load(Ordering::Relaxed) >= PIPES_PER_CONN && free.pop().is_some() {
                    self.made.fetch_sub(1, Ordering::Relaxed);
                }
                drop(free);
                if self.made.fetch_add(1, Ordering::Relaxed) >= PIPES_PER_CONN {
                    self.made.fetch_sub(1, Ordering::Relaxed);
                    return None;
                }
                // Sized for the read (pipes are charged to the user by
                // their size): 64 KiB, the default, or a power of two.
                match Pipe::new(need.next_power_of_two().max(64 * 1024)) {
                    Some(p) if p.sink.room >= need => p,
                    other => {
                        // The host would not make it that large: reads
                        // this large are copied from now on; the pipe is
                        // kept for smaller ones.
                        self.largest.fetch_min(need - 1, Ordering::Relaxed);
                        self.give_back(other);
                        return None;
                    }
                }
            }
        };
        Some(Lease { pipe: Some(pipe), pipes: self.clone(), empty: true })
    }

    fn give_back(&self, pipe: Option<Pipe>) {
        match pipe {
            Some(p) => self.free.lock().unwrap_or_else(PoisonError::into_inner).push(p),
            None => {
                self.made.fetch_sub(1, Ordering::Relaxed);
            }
        }
    }
}

/// The pages of a 4 KiB-paged file that a read of `count` bytes at
/// `offset` touches.
pub(crate) fn pages_touched(offset: u64, count: usize) -> usize {
    let lead = (offset % PAGE as u64) as usize;
    (lead + count).div_ceil(PAGE)
}

/// A pipe lent out for one read. Given back when dropped: to the
/// connection's free list when it is known to be empty, else closed (its
/// unsent data with it).
#[derive(Debug)]
pub(crate) struct Lease {
    pipe: Option<Pipe>,
    pipes: Arc<Pipes>,
    /// Nothing was put in the pipe, or all of it was taken out.
    empty: bool,
}

impl Lease {
    /// The write end, for the filesystem.
    pub(crate) fn sink(&self) -> Option<&PipeSink> {
        self.pipe.as_ref().map(|p| &p.sink)
    }

    /// Bytes in the pipe now. Marks the lease as possibly holding data.
    pub(crate) fn filled(&mut self) -> io::Result<usize> {
        self.empty = false;
        let p = self.pipe.as_ref().ok_or(io::ErrorKind::NotConnected)?;
        let n = rustix::io::ioctl_fionread(&p.r)?;
        usize::try_from(n).map_err(|_| io::ErrorKind::InvalidData.into())
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        let pipe = self.pipe.take();
        // A fill still running elsewhere (on the blocking pool, its request
        // gone) holds the write end: that pipe may yet receive data, so it
        // is not reused.
        let alone = pipe.as_ref().is_some_and(|p| Arc::strong_count(&p.sink.w) == 1);
        let empty = alone
            && (self.empty
                || pipe
                    .as_ref()
                    .is_some_and(|p| rustix::io::ioctl_fionread(&p.r).is_ok_and(|n| n == 0)));
        if empty {
            self.pipes.give_back(pipe);
        } else {
            drop(pipe);
            self.pipes.give_back(None);
        }
    }
}

/// The payload of an Rread that waits in a pipe: `len` bytes, of which
/// `left` are still to be sent.
#[derive(Debug)]
pub(crate) struct Body {
    lease: Lease,
    len: usize,
    left: usize,
    /// When its first byte went into the socket.
    started: Option<Instant>,
}

impl Body {
    /// A filled lease holding exactly `len` bytes.
    pub(crate) fn new(mut lease: Lease, len: usize) -> Body {
        lease.empty = false;
        Body { lease, len, left: len, started: None }
    }

    /// The payload's length.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    fn read_end(&self) -> io::Result<BorrowedFd<'_>> {
        self.lease.pipe.as_ref().map(|p| p.r.as_fd()).ok_or(io::ErrorKind::NotConnected.into())
    }

    fn took(&mut self, n: usize) {
        self.left -= n.min(self.left);
        if self.left == 0 {
            self.lease.empty = true;
        }
    }

    /// Whether everything was sent.
    pub(crate) fn done(&self) -> bool {
        self.left == 0
    }

    /// Time since its first byte went into the socket.
    pub(crate) fn sending_for(&self) -> Duration {
        self.started.map_or(Duration::ZERO, |t| t.elapsed())
    }

    /// The rest of the payload, copied out of the pipe: for a stream that
    /// cannot be spliced into.
    pub(crate) fn copy_out(&mut self) -> io::Result<bytes::Bytes> {
        let mut buf = vec![0u8; self.left];
        let mut at = 0;
        while at < buf.len() {
            let fd = self.read_end()?;
            match rustix::io::read(fd, &mut buf[at..]) {
                Ok(0) => return Err(io::ErrorKind::UnexpectedEof.into()),
                Ok(n) => at += n,
                Err(rustix::io::Errno::INTR) => {}
                Err(e) => return Err(e.into()),
            }
        }
        self.took(at);
        Ok(buf.into())
    }
}

/// What the connection's replies are written to: any stream, and for a
/// plain tcp or unix socket also the means to splice a pipe into it.
pub(crate) trait Transport: AsyncWrite + Send {
    /// Splices what is left of `body` into the stream; `Pending` (with
    /// `cx` registered for writability) when it is full; `None` when the
    /// stream cannot be spliced into (the payload is then copied).
    fn poll_splice(&self, cx: &mut Context<'_>, body: &mut Body) -> Option<Poll<io::Result<()>>> {
        let _ = (cx, body);
        None
    }
}

/// Any stream, written as is.
pub(crate) struct Plain<W>(pub(crate) W);

impl<W: AsyncWrite + Send + Unpin> Transport for Plain<W> {}

impl<W: AsyncWrite + Unpin> AsyncWrite for Plain<W> {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, b: &[u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().0).poll_write(cx, b)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        b: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().0).poll_write_vectored(cx, b)
    }

    fn is_write_vectored(&self) -> bool {
        self.0.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().0).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().0).poll_shutdown(cx)
    }
}

impl Transport for tokio::net::tcp::OwnedWriteHalf {
    fn poll_splice(&self, cx: &mut Context<'_>, body: &mut Body) -> Option<Poll<io::Result<()>>> {
        let s: &tokio::net::TcpStream = self.as_ref();
        Some(splice_loop(
            body,
            |cx| s.poll_write_ready(cx),
            |f| s.try_io(Interest::WRITABLE, f),
            s,
            cx,
        ))
    }
}

impl Transport for tokio::net::unix::OwnedWriteHalf {
    fn poll_splice(&self, cx: &mut Context<'_>, body: &mut Body) -> Option<Poll<io::Result<()>>> {
        let s: &tokio::net::UnixStream = self.as_ref();
        Some(splice_loop(
            body,
            |cx| s.poll_write_ready(cx),
            |f| s.try_io(Interest::WRITABLE, f),
            s,
            cx,
        ))
    }
}

/// Splices `body` into `sock` until it is all sent or the socket is full
/// (then waits for writability through `ready`; `try_io` clears the
/// readiness the reactor reported when the socket answers `EAGAIN`).
fn splice_loop<S: AsFd>(
    body: &mut Body,
    ready: impl Fn(&mut Context<'_>) -> Poll<io::Result<()>>,
    try_io: impl Fn(&mut dyn FnMut() -> io::Result<usize>) -> io::Result<usize>,
    sock: &S,
    cx: &mut Context<'_>,
) -> Poll<io::Result<()>> {
    while !body.done() {
        match ready(cx) {
            Poll::Ready(Ok(())) => {}
            Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
            Poll::Pending => return Poll::Pending,
        }
        let left = body.left;
        // Like a copied payload's, a spliced one's send time starts with
        // the call that moves its first byte, not with a wait before it.
        let began = Instant::now();
        let r = {
            let read_end = match body.read_end() {
                Ok(fd) => fd,
                Err(e) => return Poll::Ready(Err(e)),
            };
            try_io(&mut || {
                rustix::pipe::splice(
                    read_end,
                    None,
                    sock,
                    None,
                    left,
                    SpliceFlags::NONBLOCK | SpliceFlags::MOVE,
                )
                .map_err(io::Error::from)
            })
        };
        match r {
            Ok(0) => return Poll::Ready(Err(io::ErrorKind::WriteZero.into())),
            Ok(n) => {
                body.started.get_or_insert(began);
                body.took(n);
            }
            Err(e)
                if matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted) => {}
            Err(e) => return Poll::Ready(Err(e)),
        }
    }
    Poll::Ready(Ok(()))
}

/// Splits a connection's stream into its reading half and the
/// [`Transport`] its replies are written to: plain tcp and unix sockets
/// into their owned halves (which can be spliced into), anything else
/// with [`tokio::io::split`]. Returns, when pipes can be used, the
/// measured choice of the socket's transport.
#[allow(clippy::type_complexity)]
pub(crate) fn split<IO>(
    io: IO,
) -> (Pin<Box<dyn AsyncRead + Send>>, Pin<Box<dyn Transport>>, Option<&'static Choice>)
where
    IO: AsyncRead + AsyncWrite + Send + 'static,
{
    let any: Box<dyn Any + Send> = Box::new(io);
    let any = match any.downcast::<tokio::net::TcpStream>() {
        Ok(s) => {
            let (r, w) = s.into_split();
            return (Box::pin(r), Box::pin(w), Some(&choice::TCP));
        }
        Err(any) => any,
    };
    let any = match any.downcast::<tokio::net::UnixStream>() {
        Ok(s) => {
            let (r, w) = s.into_split();
            return (Box::pin(r), Box::pin(w), Some(&choice::UNIX));
        }
        Err(any) => any,
    };
    match any.downcast::<IO>() {
        Ok(io) => {
            let (r, w) = tokio::io::split(*io);
            (Box::pin(r), Box::pin(Plain(w)), None)
        }
        // `any` was made from an IO a line above.
        Err(_) => unreachable!("a boxed stream downcasts to its own type"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_touched_counts_partial_pages() {
        assert_eq!(pages_touched(0, 0), 0);
        assert_eq!(pages_touched(0, 1), 1);
        assert_eq!(pages_touched(0, 4096), 1);
        assert_eq!(pages_touched(1, 4096), 2);
        assert_eq!(pages_touched(4095, 2), 2);
        assert_eq!(pages_touched(8192, 1 << 20), 256);
        assert_eq!(pages_touched(8193, 1 << 20), 257);
    }

    #[test]
    fn a_lease_comes_back_empty_or_not_at_all() {
        let pipes = Pipes::new(&choice::TCP, SpliceReads::Always);
        let mut lease = pipes.lease(0, 1 << 20).expect("a pipe");
        let room = lease.sink().expect("sink").room();
        assert!(room >= 1 << 20, "room {room}");
        rustix::io::write(lease.sink().expect("sink").fd(), b"hello").expect("write");
        assert_eq!(lease.filled().expect("fionread"), 5);
        drop(lease);
        // It held data: closed, not reused.
        assert!(pipes.free.lock().expect("lock").is_empty());
        assert_eq!(pipes.made.load(Ordering::Relaxed), 0);
        let lease = pipes.lease(0, 100).expect("a pipe");
        drop(lease);
        assert_eq!(pipes.free.lock().expect("lock").len(), 1);
        // A write end still shared (a fill running elsewhere): not reused.
        let lease = pipes.lease(0, 100).expect("a pipe");
        let elsewhere = lease.sink().expect("sink").shared();
        drop(lease);
        assert!(pipes.free.lock().expect("lock").is_empty());
        drop(elsewhere);
        // At most PIPES_PER_CONN at once.
        let held: Vec<_> = (0..PIPES_PER_CONN).filter_map(|_| pipes.lease(0, 100)).collect();
        assert_eq!(held.len(), PIPES_PER_CONN);
        assert!(pipes.lease(0, 100).is_none());
    }

    #[test]
    fn a_body_is_copied_out_exactly() {
        let pipes = Pipes::new(&choice::TCP, SpliceReads::Always);
        let mut lease = pipes.lease(0, 1000).expect("a pipe");
        let data: Vec<u8> = (0..1000u32).map(|i| i as u8).collect();
        rustix::io::write(lease.sink().expect("sink").fd(), &data).expect("write");
        let n = lease.filled().expect("fionread");
        let mut body = Body::new(lease, n);
        assert_eq!(body.len(), 1000);
        assert_eq!(&body.copy_out().expect("copy")[..], &data[..]);
        assert!(body.done());
        drop(body);
        assert_eq!(pipes.free.lock().expect("lock").len(), 1, "emptied: reused");
    }
}
