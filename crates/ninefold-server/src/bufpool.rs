//! Large buffers reused across requests, with their data at an aligned
//! address: the server receives large frames (Twrite) into them, and a
//! filesystem may read file data into them ([`BufPool`]).
//!
//! **Why reuse.** A freshly allocated 1 MiB buffer comes from `mmap` (or
//! a trimmed arena): 256 page faults, each zeroing a page, and a `madvise`
//! or `munmap` to give it back, per request. Receiving every 1 MiB Twrite
//! into a fresh buffer cost 190–256 page faults per request, a third of
//! the server's CPU on that row.
//!
//! **Why place.** The kernel's copies between user memory and pages
//! (`rep movsb` in `copy_to_iter`/`copy_from_iter`: a `pread` out of the
//! page cache, a socket send into its page fragments) run several times
//! slower when the destination is 1–31 bytes past the source modulo 4 KiB
//! (on the benchmark host, AMD EPYC, kernel 6.18: 64 KiB `pread`s of
//! cached data ran at ~2 GB/s into a buffer 8–24 bytes past a page start,
//! ~18 GB/s at 0 or 32 and beyond; `malloc` promises 16-byte alignment
//! and an `mmap`-backed 1 MiB block puts its data 16 bytes past a page).
//! A 1 MiB TCP send of memfs content cost 290–380 µs of server CPU from
//! chunks starting 0 or 16 bytes into a page and 170–180 µs from 64 or
//! 2,048. Where a buffer landed used to depend on the allocator's state:
//! that is why reusing receive buffers once made later passthrough reads
//! run at half speed (docs/BENCHMARKS.md). So large buffers put their
//! chosen byte [`PAGE_OFFSET`] bytes into a page, small ones at a
//! multiple of [`ALIGN`].

use std::sync::Mutex;

use bytes::Bytes;

/// Buffers of at least this many bytes are pooled.
pub const POOL_MIN: usize = 64 * 1024;
/// The largest pooled size class; larger buffers are not kept.
pub const POOL_MAX: usize = 4 * 1024 * 1024;
/// Size classes: POOL_MIN, 2 POOL_MIN, ... POOL_MAX.
const CLASSES: usize = (POOL_MAX / POOL_MIN).trailing_zeros() as usize + 1;
/// Buffers smaller than [`POOL_MIN`] place their chosen byte at a
/// multiple of this many bytes (see the module documentation).
pub const ALIGN: usize = 64;
/// Buffers of [`POOL_MIN`] bytes and more place their chosen byte this
/// many bytes past the start of a 4 KiB page (see the module
/// documentation).
pub const PAGE_OFFSET: usize = 64;
/// The page size the placement works in.
const PAGE: usize = 4096;

/// A process-wide pool of buffers by power-of-two size class, from
/// [`POOL_MIN`] to [`POOL_MAX`] bytes, keeping at most a set number of
/// bytes while no one holds them. Smaller and larger buffers come from
/// the allocator (still aligned) and go back to it.
///
/// ```
/// use ninefold_server::bufpool::{BufPool, PAGE_OFFSET};
/// static POOL: BufPool = BufPool::new(8 << 20);
/// let mut buf = POOL.take(100_000, 0);
/// buf.extend_from_slice(b"data");
/// let payload = buf.freeze();
/// assert_eq!(payload.as_ptr() as usize % 4096, PAGE_OFFSET);
/// drop(payload); // the buffer is back in POOL
/// ```
#[derive(Debug)]
pub struct BufPool {
    free: Mutex<Free>,
    keep: usize,
    /// Whether the pool records which of its buffers are lent frozen
    /// (see [`lends`](BufPool::lends)).
    track: bool,
}

#[derive(Debug)]
struct Free {
    lists: [Vec<Vec<u8>>; CLASSES],
    kept: usize,
    /// Tracked pools: the address ranges of the buffers lent frozen.
    lent: Vec<(usize, usize)>,
}

/// The pool the server receives large frames into (Twrite data of
/// 256 KiB and more, see `shell`): frozen once the whole frame is in,
/// never written again. A filesystem may keep such a payload instead of
/// copying it ([`BufPool::lends`] tells): memfs adopts one that covers a
/// whole chunk of a file as that chunk. A buffer kept so returns to the
/// pool when its last reference is dropped, like any other.
pub static FRAMES: BufPool = BufPool::tracked(16 * 1024 * 1024);

/// The size class of a buffer for `n` bytes of data, if pooled.
fn class(n: usize) -> Option<usize> {
    if !(POOL_MIN..=POOL_MAX).contains(&n) {
        return None;
    }
    Some((n.next_power_of_two() / POOL_MIN).trailing_zeros() as usize)
}

impl BufPool {
    /// An empty pool that keeps at most `keep` bytes of free buffers.
    pub const fn new(keep: usize) -> BufPool {
        BufPool {
            free: Mutex::new(Free {
                lists: [const { Vec::new() }; CLASSES],
                kept: 0,
                lent: Vec::new(),
            }),
            keep,
            track: false,
        }
    }

    /// Like [`new`](BufPool::new), and the pool records the buffers it
    /// lends frozen, so [`lends`](BufPool::lends) can tell a payload of
    /// its own (one more lock per freeze).
    pub const fn tracked(keep: usize) -> BufPool {
        let mut pool = BufPool::new(keep);
        pool.track = true;
        pool
    }

    /// Whether `data` lies within a buffer of this pool that is lent
    /// frozen (read-only until the last reference is dropped): a
    /// [`tracked`](BufPool::tracked) pool's pooled buffers only; always
    /// false for any other pool and for empty `data`.
    pub fn lends(&self, data: &[u8]) -> bool {
        if !self.track || data.is_empty() {
            return false;
        }
        let (start, end) = (data.as_ptr() as usize, data.as_ptr() as usize + data.len());
        self.free().lent.iter().any(|&(a, b)| a <= start && end <= b)
    }

    fn free(&self) -> std::sync::MutexGuard<'_, Free> {
        self.free.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// An empty buffer with room for `n` bytes of data, laid out so that
    /// data byte number `lead` lands [`PAGE_OFFSET`] bytes into a page
    /// (`n` ≥ [`POOL_MIN`]) or at a multiple of [`ALIGN`] (0: the data
    /// starts there; a frame whose payload follows a header of `h` bytes
    /// asks for `h`).
    pub fn take(&'static self, n: usize, lead: usize) -> PoolBuf {
        let class = class(n);
        let reused = class.and_then(|c| {
            let mut f = self.free();
            let buf = f.lists[c].pop();
            if let Some(b) = &buf {
                f.kept -= b.capacity();
            }
            buf
        });
        let buf = match (reused, class) {
            (Some(buf), _) => buf,
            (None, Some(c)) => Vec::with_capacity((POOL_MIN << c) + PAGE),
            (None, None) => Vec::with_capacity(n + slack(n)),
        };
        PoolBuf::place(buf, n, lead, class.map(|c| (self, c)))
    }

    /// An unpooled buffer for `n` bytes, placed as [`take`](BufPool::take)
    /// places them; frozen, it is a plain [`Bytes`] (unique, so
    /// `Bytes::try_into_mut` succeeds), freed when dropped.
    pub fn placed(n: usize, lead: usize) -> PoolBuf {
        PoolBuf::place(Vec::with_capacity(n + slack(n)), n, lead, None)
    }

    fn give_back(&self, mut buf: Vec<u8>, class: usize, frozen: bool) {
        buf.clear();
        let cap = buf.capacity();
        let mut f = self.free();
        if frozen && self.track {
            let at = buf.as_ptr() as usize;
            if let Some(i) = f.lent.iter().position(|&(a, _)| a == at) {
                f.lent.swap_remove(i);
            }
        }
        if f.kept + cap <= self.keep {
            f.kept += cap;
            f.lists[class].push(buf);
        }
    }

    /// Bytes of free buffers the pool holds now.
    pub fn kept(&self) -> usize {
        self.free().kept
    }
}

/// A buffer from a [`BufPool`]: data is appended after a few bytes of
/// padding that align it, and [`freeze`](PoolBuf::freeze) turns it into
/// a payload that returns the buffer to its pool when the last reference
/// is dropped.
#[derive(Debug)]
pub struct PoolBuf {
    buf: Vec<u8>,
    start: usize,
    home: Option<(&'static BufPool, usize)>,
}

/// The room beyond `n` a buffer needs for its placement.
fn slack(n: usize) -> usize {
    if n >= POOL_MIN {
        PAGE
    } else {
        ALIGN
    }
}

impl PoolBuf {
    /// Empties `buf` and pads it so that data byte `lead` lands where
    /// the module documentation says.
    fn place(
        mut buf: Vec<u8>,
        n: usize,
        lead: usize,
        home: Option<(&'static BufPool, usize)>,
    ) -> PoolBuf {
        buf.clear();
        let (unit, want) = if n >= POOL_MIN { (PAGE, PAGE_OFFSET) } else { (ALIGN, 0) };
        let at = (buf.as_ptr() as usize).wrapping_add(lead) % unit;
        let start = (unit + want - at) % unit;
        debug_assert!(start + n <= buf.capacity());
        buf.resize(start, 0);
        PoolBuf { buf, start, home }
    }

    /// Bytes of data in the buffer.
    pub fn len(&self) -> usize {
        self.buf.len() - self.start
    }

    /// Whether the buffer holds no data.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The data.
    pub fn data(&self) -> &[u8] {
        &self.buf[self.start..]
    }

    /// Bytes of data the buffer holds without growing.
    pub fn room(&self) -> usize {
        self.buf.capacity() - self.start
    }

    /// Appends `data`.
    pub fn extend_from_slice(&mut self, data: &[u8]) {
        self.buf.extend_from_slice(data);
    }

    /// The underlying vector, for appending into its spare capacity (a
    /// `read_buf`, a `preadv`): its first [`pad`](PoolBuf::pad) bytes are
    /// padding, not data; anything but appending breaks the layout.
    pub fn vec_mut(&mut self) -> &mut Vec<u8> {
        &mut self.buf
    }

    /// Bytes of padding before the data in [`vec_mut`](PoolBuf::vec_mut).
    pub fn pad(&self) -> usize {
        self.start
    }

    /// The data as a payload; a pooled buffer goes back to its pool when
    /// the last reference to the payload (or a slice of it) is dropped.
    pub fn freeze(self) -> Bytes {
        let PoolBuf { buf, start, home } = self;
        if buf.len() == start {
            if let Some((pool, class)) = home {
                pool.give_back(buf, class, false);
            }
            return Bytes::new();
        }
        let whole = match home {
            Some((pool, class)) => {
                if pool.track {
                    let at = buf.as_ptr() as usize;
                    pool.free().lent.push((at, at + buf.capacity()));
                }
                Bytes::from_owner(Pooled { buf, pool, class })
            }
            None => Bytes::from(buf),
        };
        whole.slice(start..)
    }
}

/// A pooled buffer owned by a [`Bytes`].
struct Pooled {
    buf: Vec<u8>,
    pool: &'static BufPool,
    class: usize,
}

impl AsRef<[u8]> for Pooled {
    fn as_ref(&self) -> &[u8] {
        &self.buf
    }
}

impl Drop for Pooled {
    fn drop(&mut self) {
        self.pool.give_back(std::mem::take(&mut self.buf), self.class, true);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes() {
        assert_eq!(class(POOL_MIN - 1), None);
        assert_eq!(class(POOL_MIN), Some(0));
        assert_eq!(class(POOL_MIN + 1), Some(1));
        assert_eq!(class(1 << 20), Some(4));
        assert_eq!(class(POOL_MAX), Some(CLASSES - 1));
        assert_eq!(class(POOL_MAX + 1), None);
    }

    #[test]
    fn a_buffer_comes_back_after_its_payload_and_slices_are_dropped() {
        static POOL: BufPool = BufPool::new(8 << 20);
        let mut buf = POOL.take(1 << 20, 0);
        assert!(buf.room() >= 1 << 20);
        buf.extend_from_slice(b"hello");
        let payload = buf.freeze();
        assert_eq!(&payload[..], b"hello");
        let ptr = payload.as_ptr();
        let tail = payload.slice(1..);
        drop(payload);
        assert_eq!(POOL.kept(), 0, "a slice still holds the buffer");
        assert_eq!(&tail[..], b"ello");
        drop(tail);
        assert!(POOL.kept() >= 1 << 20);
        let mut again = POOL.take(1 << 20, 0);
        assert!(again.is_empty());
        assert_eq!(POOL.kept(), 0);
        again.extend_from_slice(b"x");
        assert_eq!(again.freeze().as_ptr(), ptr, "the pooled buffer is reused");
    }

    #[test]
    fn the_chosen_byte_is_aligned_for_every_size() {
        static POOL: BufPool = BufPool::new(8 << 20);
        for n in [1, 100, 4096, POOL_MIN - 1, POOL_MIN, POOL_MIN + 1, 1 << 20, POOL_MAX + 1] {
            for lead in [0, 1, 23, 63, 64, 100] {
                let mut buf = POOL.take(n, lead);
                assert!(buf.room() >= n);
                let end = buf.pad() + n;
                buf.vec_mut().resize(end, 7);
                assert_eq!(buf.len(), n);
                assert_eq!(buf.data().len(), n);
                let b = buf.freeze();
                if lead < n {
                    let at = b[lead..].as_ptr() as usize;
                    if n >= POOL_MIN {
                        assert_eq!(at % PAGE, PAGE_OFFSET, "n {n} lead {lead}");
                    } else {
                        assert_eq!(at % ALIGN, 0, "n {n} lead {lead}");
                    }
                }
                assert!(b.iter().all(|&x| x == 7));
            }
        }
    }

    #[test]
    fn a_placed_buffer_is_unique_once_frozen() {
        let mut b = BufPool::placed(1 << 20, 0);
        b.extend_from_slice(&[5; 1 << 20]);
        let frozen = b.freeze();
        assert_eq!(frozen.as_ptr() as usize % PAGE, PAGE_OFFSET);
        let ptr = frozen.as_ptr();
        let mut m = frozen.try_into_mut().expect("unique");
        assert_eq!(m.as_ptr(), ptr, "no copy");
        m[0] = 6;
        assert_eq!(m.len(), 1 << 20);
    }

    #[test]
    fn a_tracked_pool_knows_what_it_lends_frozen() {
        static POOL: BufPool = BufPool::tracked(8 << 20);
        static OTHER: BufPool = BufPool::new(8 << 20);
        let mut b = POOL.take(1 << 20, 23);
        b.extend_from_slice(&[1; 1000]);
        assert!(!POOL.lends(b.data()), "not frozen yet");
        let frozen = b.freeze();
        assert!(POOL.lends(&frozen));
        assert!(POOL.lends(&frozen[23..]));
        assert!(!POOL.lends(&frozen[..0]), "empty");
        assert!(!POOL.lends(&[1u8; 1000]), "another buffer");
        let mut o = OTHER.take(1 << 20, 0);
        o.extend_from_slice(&[1; 10]);
        let o = o.freeze();
        assert!(!OTHER.lends(&o), "an untracked pool");
        let tail = frozen.slice(500..);
        drop(frozen);
        assert!(POOL.lends(&tail), "a slice still holds it");
        drop(tail);
        assert!(POOL.free().lent.is_empty(), "given back: no longer lent");
        // Small and unpooled buffers are never lent.
        let mut small = POOL.take(100, 0);
        small.extend_from_slice(b"abc");
        assert!(!POOL.lends(&small.freeze()));
        let mut huge = POOL.take(POOL_MAX + 1, 0);
        huge.extend_from_slice(b"abc");
        assert!(!POOL.lends(&huge.freeze()));
    }

    #[test]
    fn the_pool_keeps_no_more_than_its_limit() {
        static POOL: BufPool = BufPool::new(2 << 20);
        let held: Vec<Bytes> = (0..3)
            .map(|_| {
                let mut b = POOL.take(1 << 20, 0);
                b.extend_from_slice(b"x");
                b.freeze()
            })
            .collect();
        drop(held);
        // One 1 MiB buffer (and its alignment slack) fits, two do not.
        assert!(POOL.kept() > 1 << 20);
        assert!(POOL.kept() <= 2 << 20);
        let empty = POOL.take(1 << 20, 0).freeze();
        assert!(empty.is_empty());
    }
}
