//! Receiving frames: the connection's buffer (read-ahead behind bulk
//! frames, shrunk back after a burst, kept free for reuse while requests
//! hold frames: [`Pending::held`]), large frames received into pooled
//! buffers of their own ([`FRAMES`]), frame deadlines, and the memory each
//! frame is charged before it is read whole.

use std::future::Future;
use std::io;
use std::sync::Arc;
use std::task::Poll;

use bytes::{Buf, BufMut, Bytes, BytesMut};
use ninefold_proto::framing::{self, FrameStatus};
use tokio::io::{AsyncRead, AsyncReadExt};
use tracing::debug;

use super::{Conn, TFLUSH};
use crate::bufpool::{PoolBuf, FRAMES};
use crate::fid::lock;
use crate::limits::Charge;
use crate::ServeError;

/// What the reader knows of the frame it is reading, kept across calls of
/// [`read_frame`] (which a finished inline request interrupts).
pub(super) struct Pending {
    /// When the partial frame in the buffer must be complete.
    pub(super) deadline: Option<tokio::time::Instant>,
    /// When the first frame must be complete; cleared once it is.
    pub(super) handshake: Option<tokio::time::Instant>,
    /// The memory charged for the frame so far, and whether it includes
    /// the reply's share.
    pub(super) charge: Option<(Charge, bool)>,
    /// The length of the last whole frame read (see `RECV_SHRINK_ABOVE`).
    pub(super) last_frame: usize,
    /// How many more read-ahead frames are moved out of the connection's
    /// buffer (see [`Pending::held`]).
    pub(super) move_out: u32,
}

/// How many read-ahead frames are moved out of the connection's buffer
/// after one was held past the reader (see [`Pending::held`]); then one is
/// left in place again, to see whether requests are still held.
const MOVE_OUT_FRAMES: u32 = 64;

impl Pending {
    /// A frame of `len` bytes was held past the reader: its request went
    /// to a task of its own, or waits (a write as another user, on the
    /// blocking pool). A read-ahead frame so held keeps the connection's
    /// buffer from being reused, and the next read ahead gets a fresh
    /// block of 256 KiB and more, which `malloc` maps anew: 14 page faults
    /// per 64 KiB Twrite written as another user, and a third of the
    /// throughput. So the next [`MOVE_OUT_FRAMES`] read-ahead frames are
    /// copied into pooled buffers of their own ([`FRAMES`]) and leave the
    /// connection's buffer free for reuse; requests that complete on the
    /// reader's task (the common case) keep theirs in place, uncopied.
    pub(super) fn held(&mut self, len: usize) {
        if read_ahead(len) {
            self.move_out = MOVE_OUT_FRAMES;
        }
    }

    /// The whole frame of `len` bytes at the head of `buf`, moved into a
    /// pooled buffer of its own while [`held`](Pending::held) frames are
    /// being seen, else split off in place.
    fn take_frame(&mut self, buf: &mut BytesMut, len: usize) -> Bytes {
        if self.move_out == 0 || !read_ahead(len) {
            return buf.split_to(len).freeze();
        }
        self.move_out -= 1;
        let mut own = FRAMES.take(len, data_lead(buf));
        own.extend_from_slice(&buf[..len]);
        buf.advance(len);
        own.freeze()
    }
}

/// The largest reply a frame can produce beyond a small fixed size: the
/// data of a read (Tread, Treaddir and `.Z`'s Treaddirattr share the
/// layout fid[4] offset[8] count[4]), at most `msize`.
fn reply_estimate(frame: &[u8], msize: u32) -> usize {
    const TREAD: u8 = 116;
    const TREADDIR: u8 = 40;
    const SMALL: usize = 256;
    match frame.get(4) {
        Some(&TREAD | &TREADDIR) => match frame.get(19..23) {
            Some(c) => {
                let count = u32::from_le_bytes([c[0], c[1], c[2], c[3]]);
                count.min(msize) as usize + SMALL
            }
            None => SMALL,
        },
        _ => SMALL,
    }
}

/// Charges the frame at the head of `buf` (`frame_len` bytes, of which
/// the buffer may hold only a part) to the connection's memory budgets,
/// waiting for room.
async fn charge_frame(
    conn: &Conn,
    p: &mut Pending,
    buf: &[u8],
    frame_len: usize,
    max: u32,
) -> Result<(), ServeError> {
    // Until its type is known a frame is not charged (nor its buffer
    // grown for it); Tflush never is: tiny and bounded by its own reply
    // budget, it must be read even with the memory spent, to cancel what
    // holds it.
    match buf.get(4) {
        None | Some(&TFLUSH) => return Ok(()),
        Some(_) => {}
    }
    let whole = buf.len() >= frame_len;
    let (have, has_reply) = match &p.charge {
        Some((c, r)) => (c.bytes(), *r),
        None => (0, false),
    };
    if have > 0 && (has_reply || !whole) {
        return Ok(());
    }
    let mut want = if have == 0 { frame_len } else { 0 };
    if whole {
        want += reply_estimate(buf, max);
    }
    let more = match conn.budgets.try_charge(want) {
        Some(more) => more,
        None => wait_charge(conn, want).await?,
    };
    match &mut p.charge {
        Some((c, r)) => {
            c.absorb(more);
            *r = whole;
        }
        None => p.charge = Some((more, whole)),
    }
    // The time spent waiting for memory is not the client's.
    p.deadline = None;
    Ok(())
}

/// Charges `want` bytes when a budget has no room now: waits for it
/// (back-pressure), or gives up when the connection's own replies stall.
async fn wait_charge(conn: &Conn, want: usize) -> Result<Charge, ServeError> {
    if conn.budgets.server.as_ref().is_some_and(|b| b.used() + want > b.limit())
        || conn.budgets.conn.as_ref().is_some_and(|b| b.used() + want > b.limit())
    {
        conn.server.metrics.limit("memory_wait");
    }
    let stalled = || lock(&conn.core).inflight_len() == 0;
    conn.budgets.charge(want, stalled).await.map_err(|_| {
        conn.server.metrics.limit("stalled");
        debug!(conn = conn.id, "replies stalled over the memory budget, closing");
        ServeError::Stalled
    })
}

/// Frames of at least this many bytes (Twrite data) are received into a
/// buffer of their own from [`FRAMES`] (shared by every connection of
/// the process; a filesystem may keep a frame's payload) instead of the connection's
/// buffer: that one cannot be reused while a request holds its last frame,
/// so every large frame used to be a fresh allocation (190–256 page
/// faults per 1 MiB Twrite, a third of the server's CPU on that row).
/// Smaller frames stay in the connection's buffer: a 64 KiB frame's
/// allocation comes from the heap without page faults, and moving the
/// part already read into a pooled buffer cost more (memfs 64 KiB
/// Twrite: 23–28 µs of server CPU against 20–22 µs).
const LARGE_FRAME_MIN: usize = 256 * 1024;

/// A frame of at least this many bytes (a bulk Twrite) makes the reader
/// receive up to [`RECV_AHEAD`] bytes at a time.
const RECV_AHEAD_MIN: usize = 16 * 1024;

/// How many bytes past the frame in hand the reader makes room for when
/// the frame is a bulk one: a client pipelining 64 KiB Twrites has the
/// next ones in the socket already, and reading them in one `recvfrom`
/// makes them a batch whose replies go out in one `writev` (a reply sent
/// alone costs a loopback TCP transmit, a fifth of the server's CPU per
/// 64 KiB Twrite when each frame was read by itself).
const RECV_AHEAD: usize = 256 * 1024;

/// The room to make in the connection's buffer, which holds `have` bytes
/// of a frame of `len`.
fn recv_room(len: usize, have: usize) -> usize {
    let need = len.saturating_sub(have);
    if len >= RECV_AHEAD_MIN {
        need.max(RECV_AHEAD)
    } else {
        need
    }
}

/// A connection's receive buffer while it is idle: enough for the
/// handshake and small requests (issue 16's budget for an idle
/// connection is 64 KiB in all).
pub(super) const RECV_IDLE_CAPACITY: usize = 8 * 1024;

/// A receive buffer grown past this, with nothing buffered, is replaced
/// by a [`RECV_IDLE_CAPACITY`] one: a burst leaves no lasting cost on a
/// connection that goes quiet. After a frame of at most this size
/// (pipelined small requests grew the buffer) that happens as soon as the
/// socket has nothing more; after a larger one (a 64 KiB Twrite, whose
/// successor needs the room again) once the peer has sent nothing for
/// [`RECV_SHRINK_AFTER`], a timer that small requests do not pay for
/// (about 900 instructions per request at depth 1).
const RECV_SHRINK_ABOVE: usize = 2 * RECV_IDLE_CAPACITY;

/// How long a connection with a grown, empty receive buffer waits for
/// the peer before the buffer shrinks (see [`RECV_SHRINK_ABOVE`]).
const RECV_SHRINK_AFTER: std::time::Duration = std::time::Duration::from_secs(1);

/// Where a Twrite's data starts in its frame: size[4] type[1] tag[2]
/// fid[4] offset[8] count[4]. The large frame's buffer aligns that byte
/// for the filesystem's copy or `pwrite`.
const TWRITE_DATA_AT: usize = 23;

/// The type number of Twrite, the same in every dialect.
const TWRITE: u8 = 118;

/// Where the data of the frame starting `frame` begins, for a pooled
/// buffer to place it: a Twrite's payload, else the frame's first byte.
fn data_lead(frame: &[u8]) -> usize {
    if frame.get(4) == Some(&TWRITE) {
        TWRITE_DATA_AT
    } else {
        0
    }
}

/// Whether a frame of `len` bytes is received into the connection's
/// read-ahead buffer (bulk, but below the size that gets a pooled buffer
/// of its own).
fn read_ahead(len: usize) -> bool {
    (RECV_AHEAD_MIN..LARGE_FRAME_MIN).contains(&len)
}

/// A large frame being received into a pooled buffer of its own: the
/// bytes so far and the frame's length.
pub(super) struct LargeFrame {
    buf: PoolBuf,
    len: usize,
}

/// Reads one whole frame and its memory charge, or `None` at a clean end
/// of stream. `large` holds a large frame's bytes across calls (a call can
/// be cancelled between two reads without losing any).
pub(super) async fn read_frame<R: AsyncRead + Unpin>(
    conn: &Arc<Conn>,
    rd: &mut R,
    buf: &mut BytesMut,
    large: &mut Option<LargeFrame>,
    max: u32,
    p: &mut Pending,
) -> Result<Option<(Bytes, Charge)>, ServeError> {
    let idle = conn.server.config.idle_timeout;
    let budgets = conn.budgets.enabled();
    loop {
        if let Some(big) = large {
            if big.buf.len() == big.len {
                if budgets {
                    charge_frame(conn, p, big.buf.data(), big.len, max).await?;
                }
                let charge = p.charge.take().map(|(c, _)| c).unwrap_or_default();
                p.deadline = None;
                p.handshake = None;
                p.last_frame = big.len;
                let frame = large.take().map(|b| b.buf.freeze()).unwrap_or_default();
                return Ok(Some((frame, charge)));
            }
        } else {
            match framing::check(buf, max) {
                Ok(FrameStatus::Complete { frame_len }) => {
                    if budgets {
                        charge_frame(conn, p, buf, frame_len, max).await?;
                    }
                    let charge = p.charge.take().map(|(c, _)| c).unwrap_or_default();
                    p.deadline = None;
                    p.handshake = None;
                    p.last_frame = frame_len;
                    return Ok(Some((p.take_frame(buf, frame_len), charge)));
                }
                Ok(FrameStatus::Incomplete { frame_len }) => {
                    if let (Some(len), true) = (frame_len, buf.len() > 4 || !budgets) {
                        if budgets {
                            charge_frame(conn, p, buf, len, max).await?;
                        }
                        if len >= LARGE_FRAME_MIN && buf.len() > 4 {
                            // The frame is all the buffer holds (it is
                            // incomplete): move it to a buffer of its own.
                            let mut own = FRAMES.take(len, data_lead(buf));
                            own.extend_from_slice(buf);
                            buf.clear();
                            *large = Some(LargeFrame { buf: own, len });
                        } else {
                            buf.reserve(recv_room(len, buf.len()));
                        }
                    } else if buf.capacity() - buf.len() < 4096 {
                        buf.reserve(64 * 1024);
                    }
                }
                Err(e) => return Err(ServeError::Decode(e)),
            }
        }
        if (!buf.is_empty() || large.is_some()) && p.deadline.is_none() {
            p.deadline =
                conn.server.config.limits.frame_timeout.map(|d| tokio::time::Instant::now() + d);
        }
        let deadline = match (p.deadline, p.handshake) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        if let Some(at) = deadline {
            let n = match tokio::time::timeout_at(at, read_some(rd, buf, large)).await {
                Ok(r) => r?,
                Err(_) => {
                    let which = if p.handshake == Some(at) { "handshake" } else { "frame" };
                    conn.server.metrics.limit(if which == "handshake" {
                        "handshake_timeout"
                    } else {
                        "frame_timeout"
                    });
                    debug!(conn = conn.id, which, "deadline expired, closing");
                    return Err(ServeError::Deadline(which));
                }
            };
            if n == 0 {
                return if buf.is_empty() && large.is_none() {
                    Ok(None)
                } else {
                    Err(ServeError::Io(io::Error::from(io::ErrorKind::UnexpectedEof)))
                };
            }
            continue;
        }
        // Nothing buffered: a buffer a burst grew is given back once the
        // peer stays quiet (the idle timeout still counts from here).
        let mut quiet = std::time::Duration::ZERO;
        if large.is_none()
            && buf.is_empty()
            && buf.capacity() > RECV_SHRINK_ABOVE
            && p.last_frame <= RECV_SHRINK_ABOVE
        {
            // Small frames grew it: given back as soon as the peer has
            // nothing more to send (no timer on the small requests' path).
            let first = {
                let mut read = std::pin::pin!(read_some(rd, buf, large));
                std::future::poll_fn(|cx| Poll::Ready(read.as_mut().poll(cx))).await
            };
            match first {
                Poll::Ready(r) => {
                    if r? == 0 {
                        return Ok(None);
                    }
                    continue;
                }
                Poll::Pending => *buf = BytesMut::with_capacity(RECV_IDLE_CAPACITY),
            }
        } else if large.is_none() && buf.is_empty() && buf.capacity() > RECV_SHRINK_ABOVE {
            // After a bulk frame the next is likely as large: kept for a
            // quiet `RECV_SHRINK_AFTER`.
            let wait = idle.map_or(RECV_SHRINK_AFTER, |i| i.min(RECV_SHRINK_AFTER));
            match tokio::time::timeout(wait, read_some(rd, buf, large)).await {
                Ok(r) => {
                    if r? == 0 {
                        return Ok(None);
                    }
                    continue;
                }
                Err(_) => {
                    *buf = BytesMut::with_capacity(RECV_IDLE_CAPACITY);
                    quiet = wait;
                }
            }
        }
        let n = match idle {
            Some(idle) => loop {
                let left = idle.saturating_sub(std::mem::take(&mut quiet));
                match tokio::time::timeout(left, read_some(rd, buf, large)).await {
                    Ok(r) => break r?,
                    Err(_) if lock(&conn.core).inflight_len() == 0 => {
                        debug!(conn = conn.id, "idle timeout");
                        return Err(ServeError::IdleTimeout);
                    }
                    Err(_) => continue,
                }
            },
            None => read_some(rd, buf, large).await?,
        };
        if n == 0 {
            return if buf.is_empty() && large.is_none() {
                Ok(None)
            } else {
                Err(ServeError::Io(io::Error::from(io::ErrorKind::UnexpectedEof)))
            };
        }
    }
}

/// Reads what the stream has into the large frame being received, up to
/// its end, or else into the connection's buffer.
async fn read_some<R: AsyncRead + Unpin>(
    rd: &mut R,
    buf: &mut BytesMut,
    large: &mut Option<LargeFrame>,
) -> io::Result<usize> {
    match large {
        Some(big) => {
            let left = big.len - big.buf.len();
            rd.read_buf(&mut big.buf.vec_mut().limit(left)).await
        }
        None => rd.read_buf(buf).await,
    }
}

#[cfg(test)]
mod tests {
    use super::{
        recv_room, Pending, LARGE_FRAME_MIN, MOVE_OUT_FRAMES, RECV_AHEAD, RECV_AHEAD_MIN, TWRITE,
        TWRITE_DATA_AT,
    };
    use crate::bufpool::FRAMES;
    use bytes::BytesMut;

    fn pending() -> Pending {
        Pending { deadline: None, handshake: None, charge: None, last_frame: 0, move_out: 0 }
    }

    /// A read-ahead buffer holding `n` whole Twrite frames of `len` bytes
    /// each, the way the reader fills it (room reserved ahead).
    fn batch(n: usize, len: usize) -> BytesMut {
        let mut buf = BytesMut::with_capacity(n * len + RECV_AHEAD);
        for i in 0..n {
            let mut frame = vec![i as u8; len];
            frame[..4].copy_from_slice(&(len as u32).to_le_bytes());
            frame[4] = TWRITE;
            buf.extend_from_slice(&frame);
        }
        buf
    }

    /// Whether `frame` lies in the block of `block` bytes at `base`.
    fn in_place(frame: &[u8], base: usize, block: usize) -> bool {
        let at = frame.as_ptr() as usize;
        (base..base + block).contains(&at)
    }

    #[test]
    fn held_read_ahead_frames_leave_the_buffer_free_for_reuse() {
        let len = 65_536 + TWRITE_DATA_AT;
        let block = 2 * len + RECV_AHEAD;
        let mut p = pending();
        // Nothing held: frames are split off in place (no copy), and one
        // still held keeps the buffer from being reclaimed, so the next
        // read ahead would need a fresh block.
        let mut buf = batch(2, len);
        let base = buf.as_ptr() as usize;
        let first = p.take_frame(&mut buf, len);
        assert!(in_place(&first, base, block), "copied while nothing was held");
        let second = p.take_frame(&mut buf, len);
        assert_eq!(second[5], 1);
        drop(second);
        assert!(!buf.try_reclaim(block), "reclaimed while a frame holds the buffer");
        // That frame was held past the reader: the next frames move into
        // pooled buffers of their own, byte for byte.
        p.held(first.len());
        assert_eq!(p.move_out, MOVE_OUT_FRAMES);
        let block = 3 * len + RECV_AHEAD;
        let mut buf = batch(3, len);
        let base = buf.as_ptr() as usize;
        let moved: Vec<_> = (0..3).map(|_| p.take_frame(&mut buf, len)).collect();
        for (i, f) in moved.iter().enumerate() {
            assert!(!in_place(f, base, block), "frame {i} left in place");
            assert!(FRAMES.lends(f), "frame {i} not in a pooled buffer");
            assert_eq!(f.len(), len);
            assert_eq!(&f[..5], &batch(1, len)[..5]);
            assert!(f[5..].iter().all(|&b| b == i as u8), "frame {i} changed");
        }
        // The payload after the header sits where the pool places data.
        let payload = moved[0][TWRITE_DATA_AT..].as_ptr() as usize;
        assert_eq!(payload % 4096, crate::bufpool::PAGE_OFFSET);
        // With all of them still held, the whole buffer is free again.
        assert!(buf.is_empty());
        assert!(buf.try_reclaim(block), "the buffer is still shared");
        assert_eq!(p.move_out, MOVE_OUT_FRAMES - 3);
        drop(first);
    }

    #[test]
    fn only_read_ahead_frames_are_moved_and_only_for_a_while() {
        let mut p = pending();
        // Small frames and large ones (received into pooled buffers of
        // their own already) do not start the moving.
        p.held(RECV_AHEAD_MIN - 1);
        p.held(LARGE_FRAME_MIN);
        assert_eq!(p.move_out, 0);
        p.held(RECV_AHEAD_MIN);
        // A small frame is never moved, and does not use up the window.
        let mut small = batch(1, 100);
        let base = small.as_ptr() as usize;
        assert!(in_place(&p.take_frame(&mut small, 100), base, 100));
        assert_eq!(p.move_out, MOVE_OUT_FRAMES);
        // After the window, one frame is left in place again: a probe of
        // whether requests are still held.
        let len = RECV_AHEAD_MIN;
        let n = MOVE_OUT_FRAMES as usize + 1;
        let mut buf = batch(n, len);
        let base = buf.as_ptr() as usize;
        for i in 0..MOVE_OUT_FRAMES {
            let f = p.take_frame(&mut buf, len);
            assert!(!in_place(&f, base, n * len), "frame {i} left in place");
        }
        let last = p.take_frame(&mut buf, len);
        assert!(in_place(&last, base, n * len), "moved after the window");
    }

    #[test]
    fn the_reader_reads_ahead_only_for_bulk_frames() {
        // Small frames: room for the frame only (an idle connection
        // stays small).
        assert_eq!(recv_room(100, 4), 96);
        assert_eq!(recv_room(RECV_AHEAD_MIN - 1, 0), RECV_AHEAD_MIN - 1);
        // Bulk frames: room for the next ones too.
        assert_eq!(recv_room(RECV_AHEAD_MIN, 10), RECV_AHEAD);
        assert_eq!(recv_room(65_559, 7), RECV_AHEAD);
        assert_eq!(recv_room(3 * RECV_AHEAD, RECV_AHEAD), 2 * RECV_AHEAD);
        assert_eq!(recv_room(RECV_AHEAD_MIN, RECV_AHEAD_MIN + 5), RECV_AHEAD);
    }
}
