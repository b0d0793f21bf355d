//! [`Content`]: a regular file's bytes, kept in shareable chunks so that a
//! read hands out a slice of the file instead of a copy.
//!
//! Every chunk but the last holds exactly [`CHUNK`] bytes; the last holds
//! 1..=`CHUNK`. A read that lies within one chunk is a reference-counted
//! slice of it (the server writes it to the socket from there: one copy,
//! user memory to the kernel, as for any socket write). A read that
//! crosses a chunk boundary is copied into a buffer of its own. A write to
//! a chunk that a reply still holds copies that one chunk first
//! (copy-on-write), so a reply on its way out never sees later writes.
//!
//! A write that replaces a whole chunk (or the file's last chunk and
//! beyond) with the payload of a frame the server received into a buffer
//! of its own ([`FRAMES`]) keeps that payload as the chunk instead of
//! copying it ([`Content::write_shared`]): a 1 MiB Twrite so costs no
//! copy here. Such a chunk is read-only like any shared one: a later
//! partial write copies it first.

use bytes::{Bytes, BytesMut};
use ninefold_server::bufpool::{BufPool, FRAMES};

/// Bytes per chunk: the Linux client's and our own large reads (msize
/// 512 KiB or 1 MiB, minus the header) at aligned offsets fall in one.
pub(crate) const CHUNK: usize = 1 << 20;

/// A regular file's content.
#[derive(Debug, Default)]
pub(crate) struct Content {
    chunks: Vec<Bytes>,
    len: usize,
}

impl Content {
    /// Content holding `data`.
    pub(crate) fn from_slice(data: &[u8]) -> Content {
        let mut c = Content::default();
        c.write(0, data);
        c
    }

    /// The length in bytes.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// The bytes in `start..end` (both within the content, `start <= end`).
    pub(crate) fn read(&self, start: usize, end: usize) -> Bytes {
        debug_assert!(start <= end && end <= self.len);
        if start == end {
            return Bytes::new();
        }
        let first = start / CHUNK;
        let last = (end - 1) / CHUNK;
        if first == last {
            let base = first * CHUNK;
            return self.chunks[first].slice(start - base..end - base);
        }
        let mut out = BytesMut::with_capacity(end - start);
        for i in first..=last {
            let base = i * CHUNK;
            let chunk = &self.chunks[i];
            let from = start.saturating_sub(base);
            let to = (end - base).min(chunk.len());
            out.extend_from_slice(&chunk[from..to]);
        }
        out.freeze()
    }

    /// Writes `data` at `offset`, zero-filling any gap past the end.
    pub(crate) fn write(&mut self, offset: usize, data: &[u8]) {
        self.write_from(offset, data, None);
    }

    /// [`write`](Self::write), keeping pieces of `data` as chunks instead
    /// of copying them where `data` is a received frame's payload
    /// ([`FRAMES`]) and a piece replaces a whole chunk: all of one, or
    /// the file's last chunk and beyond.
    pub(crate) fn write_shared(&mut self, offset: usize, data: &Bytes) {
        let keep = (data.len() >= KEEP_MIN && FRAMES.lends(data)).then_some(data);
        self.write_from(offset, data, keep);
    }

    fn write_from(&mut self, offset: usize, data: &[u8], keep: Option<&Bytes>) {
        if offset > self.len {
            self.resize(offset);
        }
        let mut at = offset;
        let mut rest = data;
        while !rest.is_empty() {
            let i = at / CHUNK;
            let within = at - i * CHUNK;
            let n = rest.len().min(CHUNK - within);
            let replaces = within == 0 && self.chunks.get(i).is_none_or(|c| c.len() <= n);
            if let (Some(whole), true) = (keep, replaces && n >= KEEP_MIN) {
                // Every byte of chunk `i` is replaced (or it is new): the
                // payload becomes the chunk, placed as the pool places it.
                let from = data.len() - rest.len();
                let piece = whole.slice(from..from + n);
                if i == self.chunks.len() {
                    self.chunks.push(piece);
                } else {
                    self.chunks[i] = piece;
                }
            } else if i == self.chunks.len() {
                // Appending a chunk (`at` is the end, on a chunk boundary).
                self.chunks.push(placed_copy(&rest[..n], n).freeze());
            } else {
                let mut chunk = self.chunk_mut(i, within + n);
                grow(&mut chunk, within + n);
                let overlap = chunk.len().saturating_sub(within).min(n);
                chunk[within..within + overlap].copy_from_slice(&rest[..overlap]);
                chunk.extend_from_slice(&rest[overlap..n]);
                self.put_back(i, chunk);
            }
            at += n;
            rest = &rest[n..];
        }
        self.len = self.len.max(at);
    }

    /// Zeroes the bytes in `start..end` (both within the content).
    pub(crate) fn zero(&mut self, start: usize, end: usize) {
        let mut at = start;
        while at < end {
            let i = at / CHUNK;
            let within = at - i * CHUNK;
            let n = (end - at).min(CHUNK - within);
            let mut chunk = self.chunk_mut(i, 0);
            chunk[within..within + n].fill(0);
            self.put_back(i, chunk);
            at += n;
        }
    }

    /// Grows (with zeros) or shrinks the content to `size` bytes.
    pub(crate) fn resize(&mut self, size: usize) {
        if size < self.len {
            let keep = size.div_ceil(CHUNK);
            self.chunks.truncate(keep);
            if let Some(last) = self.chunks.last_mut() {
                let tail = size - (keep - 1) * CHUNK;
                if last.len() > tail {
                    last.truncate(tail);
                    // Cut far below its memory: memory of its own size
                    // (the old goes once no reply holds it).
                    if tail < CHUNK / 2 {
                        *last = Bytes::copy_from_slice(last);
                    }
                }
            }
            self.len = size;
            return;
        }
        while self.len < size {
            let i = self.len / CHUNK;
            let within = self.len - i * CHUNK;
            let n = (size - self.len).min(CHUNK - within);
            if within == 0 {
                self.chunks.push(Bytes::from(vec![0u8; n]));
            } else {
                let mut chunk = self.chunk_mut(i, within + n);
                grow(&mut chunk, within + n);
                chunk.resize(within + n, 0);
                self.put_back(i, chunk);
            }
            self.len += n;
        }
    }

    /// Chunk `i` taken out for writing (to grow to `len` bytes, if more
    /// than it holds): its own memory if nothing else holds it, a copy
    /// otherwise (a reply holds it, or it is a kept frame payload). Give
    /// it back with [`put_back`](Self::put_back).
    fn chunk_mut(&mut self, i: usize, len: usize) -> BytesMut {
        let chunk = std::mem::take(&mut self.chunks[i]);
        match chunk.try_into_mut() {
            Ok(m) => m,
            Err(shared) => {
                // Room as `grow` would make it, so it does not copy again.
                let room = if len > shared.len() {
                    len.max(shared.len() * 2).min(CHUNK).max(len)
                } else {
                    shared.len()
                };
                placed_copy(&shared, room.max(64))
            }
        }
    }

    fn put_back(&mut self, i: usize, chunk: BytesMut) {
        self.chunks[i] = chunk.freeze();
    }
}

/// The smallest piece of a frame payload kept as a chunk: half a chunk,
/// so a kept buffer (its size class is the next power of two above the
/// frame) spans at most about twice its bytes of address space; the
/// pages it uses are the bytes it holds.
const KEEP_MIN: usize = CHUNK / 2;

/// A buffer holding a copy of `data` with room for `capacity` bytes,
/// placed in memory where the socket's copy out of it runs at full speed
/// (see [`ninefold_server::bufpool`]: from a chunk starting 0–16 bytes
/// into a page, a 1 MiB TCP send cost the server 1.7–2× the CPU).
fn placed_copy(data: &[u8], capacity: usize) -> BytesMut {
    let mut buf = BufPool::placed(capacity.max(data.len()), 0);
    buf.extend_from_slice(data);
    // Unique: the conversion keeps the buffer (and its placement).
    buf.freeze().try_into_mut().unwrap_or_else(|shared| BytesMut::from(&shared[..]))
}

/// Makes room in `chunk` for `len` bytes (at most [`CHUNK`]): doubling, so
/// appends stay linear, but never past `CHUNK`, so a full chunk never
/// holds more memory than its bytes (the allocator's own doubling would
/// give a chunk filled by 1 MiB − 24 byte writes 2 MiB).
fn grow(chunk: &mut BytesMut, len: usize) {
    if len <= chunk.capacity() {
        return;
    }
    let target = len.max(chunk.len() * 2).min(CHUNK).max(len);
    *chunk = placed_copy(chunk, target);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pattern(n: usize, seed: u8) -> Vec<u8> {
        (0..n).map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed)).collect()
    }

    /// The content against a plain vector through writes, holes,
    /// truncation, zeroing and reads at chunk boundaries.
    #[test]
    fn behaves_like_a_vector() {
        let mut c = Content::default();
        let mut v: Vec<u8> = Vec::new();
        let ops: &[(usize, usize)] = &[
            (0, 10),
            (CHUNK - 5, 20),
            (3 * CHUNK + 7, CHUNK + 3),
            (100, 2 * CHUNK),
            (5 * CHUNK, 1),
        ];
        for (k, &(off, n)) in ops.iter().enumerate() {
            let data = pattern(n, k as u8);
            c.write(off, &data);
            if v.len() < off + n {
                v.resize(off + n, 0);
            }
            v[off..off + n].copy_from_slice(&data);
            assert_eq!(c.len(), v.len());
        }
        let held = c.read(CHUNK, 2 * CHUNK);
        let held_copy = held.to_vec();
        c.zero(CHUNK + 10, 3 * CHUNK + 1);
        v[CHUNK + 10..3 * CHUNK + 1].fill(0);
        // The reply holding the old chunk keeps the old bytes.
        assert_eq!(held, held_copy);
        for &(s, e) in &[
            (0, 0),
            (0, 1),
            (CHUNK - 1, CHUNK + 1),
            (CHUNK, 2 * CHUNK),
            (7, 4 * CHUNK + 9),
            (v.len() - 3, v.len()),
        ] {
            assert_eq!(&c.read(s, e)[..], &v[s..e], "read {s}..{e}");
        }
        for &size in &[4 * CHUNK + 1, 2 * CHUNK, CHUNK + 17, 3, 0, CHUNK + 5] {
            c.resize(size);
            v.resize(size, 0);
            assert_eq!(c.len(), size);
            assert_eq!(&c.read(0, size)[..], &v[..]);
        }
    }

    /// A chunk filled by odd-sized appends holds no more than a chunk.
    #[test]
    fn appends_do_not_overallocate() {
        let mut c = Content::default();
        let piece = vec![7u8; CHUNK - 24];
        c.write(0, &piece);
        c.write(CHUNK - 24, &[1u8; 48]);
        assert_eq!(c.len(), CHUNK + 24);
        let mut first = c.chunk_mut(0, 0);
        // At most a chunk, plus the page its placement may skip
        // (`placed_copy`).
        assert!(first.capacity() <= CHUNK + 4096, "capacity {}", first.capacity());
        assert_eq!(first.len(), CHUNK);
        first.truncate(CHUNK);
        c.put_back(0, first);
        assert_eq!(&c.read(CHUNK - 30, CHUNK + 24)[..6], &[7u8; 6]);
    }

    /// A read within one chunk is a slice of it, not a copy.
    #[test]
    fn a_read_within_a_chunk_shares_memory() {
        let c = Content::from_slice(&pattern(2 * CHUNK, 1));
        let a = c.read(CHUNK, 2 * CHUNK);
        let b = c.read(CHUNK, 2 * CHUNK);
        assert_eq!(a.as_ptr(), b.as_ptr());
    }

    /// Truncating while a reply holds the last chunk keeps the reply's
    /// bytes and the new length.
    #[test]
    fn truncate_under_a_held_chunk() {
        let mut c = Content::from_slice(&pattern(CHUNK, 2));
        let held = c.read(0, CHUNK);
        c.resize(10);
        assert_eq!(held.len(), CHUNK);
        assert_eq!(&c.read(0, 10)[..], &pattern(CHUNK, 2)[..10]);
        c.write(20, b"x");
        assert_eq!(
            &c.read(10, 21)[..],
            &[0u8; 10].iter().chain(b"x").copied().collect::<Vec<_>>()[..]
        );
    }
}
