//! Read buffers reused across requests.
//!
//! A large `Rread` payload is read into a buffer that goes to the socket
//! by reference and is freed once the reply is written. Freshly allocated
//! each time, a 1 MiB buffer comes from `mmap` (or a trimmed arena) and
//! costs 256 page faults, each zeroing a page, plus the `madvise` that
//! gives it back: a fifth of the server's time on 1 MiB reads. Buffers of
//! [`MIN`] bytes and more are therefore kept, by power-of-two size class,
//! up to [`KEEP_BYTES`] in all, and handed out again; smaller reads use
//! the allocator, which is cheap for them.

use std::sync::Mutex;

use bytes::Bytes;

/// Reads at least this large use pooled buffers.
pub(crate) const MIN: usize = 64 * 1024;
/// The largest pooled size class; larger buffers are not kept.
const MAX: usize = 4 * 1024 * 1024;
/// Most bytes the pool keeps while no reply holds them.
const KEEP_BYTES: usize = 16 * 1024 * 1024;
/// Size classes: MIN, 2 MIN, ... MAX.
const CLASSES: usize = (MAX / MIN).trailing_zeros() as usize + 1;

struct Pool {
    free: [Vec<Vec<u8>>; CLASSES],
    kept: usize,
}

static POOL: Mutex<Pool> = Mutex::new(Pool { free: [const { Vec::new() }; CLASSES], kept: 0 });

/// The size class of a buffer of at least `n` bytes, if pooled.
fn class(n: usize) -> Option<usize> {
    if !(MIN..=MAX).contains(&n) {
        return None;
    }
    let size = n.next_power_of_two();
    Some((size / MIN).trailing_zeros() as usize)
}

fn pool() -> std::sync::MutexGuard<'static, Pool> {
    POOL.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// An empty buffer with room for at least `n` bytes (possibly more: read
/// into it with a limit).
pub(crate) fn take(n: usize) -> Vec<u8> {
    let Some(c) = class(n) else {
        return Vec::with_capacity(n);
    };
    if let Some(buf) = {
        let mut p = pool();
        let buf = p.free[c].pop();
        if let Some(b) = &buf {
            p.kept -= b.capacity();
        }
        buf
    } {
        return buf;
    }
    Vec::with_capacity(MIN << c)
}

/// `buf` as a payload; a pooled buffer goes back to the pool when the
/// last reference to the payload is dropped.
pub(crate) fn freeze(buf: Vec<u8>) -> Bytes {
    if class(buf.capacity()).is_some_and(|c| MIN << c == buf.capacity()) && !buf.is_empty() {
        Bytes::from_owner(Pooled(buf))
    } else {
        Bytes::from(buf)
    }
}

/// Gives `buf` back to the pool (or to the allocator when the pool is
/// full or the buffer is not of a size class).
fn give_back(mut buf: Vec<u8>) {
    let cap = buf.capacity();
    let Some(c) = class(cap).filter(|&c| MIN << c == cap) else {
        return;
    };
    buf.clear();
    let mut p = pool();
    if p.kept + cap <= KEEP_BYTES {
        p.kept += cap;
        p.free[c].push(buf);
    }
}

/// A pooled buffer owned by a [`Bytes`].
struct Pooled(Vec<u8>);

impl AsRef<[u8]> for Pooled {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

impl Drop for Pooled {
    fn drop(&mut self) {
        give_back(std::mem::take(&mut self.0));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes() {
        assert_eq!(class(MIN - 1), None);
        assert_eq!(class(MIN), Some(0));
        assert_eq!(class(MIN + 1), Some(1));
        assert_eq!(class(1 << 20), Some(4));
        assert_eq!(class(MAX), Some(CLASSES - 1));
        assert_eq!(class(MAX + 1), None);
    }

    #[test]
    fn a_buffer_comes_back_after_its_payload_is_dropped() {
        // A size no other test uses, so a parallel test cannot take it.
        let n = 3 * 1024 * 1024 + 1;
        let mut buf = take(n);
        assert!(buf.capacity() >= n);
        buf.extend_from_slice(b"hello");
        let ptr = buf.as_ptr();
        let payload = freeze(buf);
        assert_eq!(&payload[..], b"hello");
        let tail = payload.slice(1..);
        drop(payload);
        assert_eq!(&tail[..], b"ello");
        drop(tail);
        let again = take(n);
        assert_eq!(again.as_ptr(), ptr);
        assert!(again.is_empty());
    }

    #[test]
    fn small_and_huge_buffers_are_not_pooled() {
        assert!(take(100).capacity() >= 100);
        let huge = take(MAX + 1);
        assert!(huge.capacity() > MAX);
        let b = freeze(vec![1u8; 10]);
        assert_eq!(b.len(), 10);
    }
}
