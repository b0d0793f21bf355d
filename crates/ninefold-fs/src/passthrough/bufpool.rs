//! Read buffers: aligned for the kernel's copy, large ones reused across
//! requests ([`ninefold_server::bufpool`] says why both matter).
//!
//! A large `Rread` payload is read straight into a buffer that goes to the
//! socket by reference and returns to the pool once the reply is written:
//! no page faults, zeroing or `madvise` per 1 MiB read (these were a fifth
//! of the server's time on that row). Every read lands at a 64-byte
//! aligned address: into a buffer only 16-byte aligned, the page-cache
//! copy of a 1 MiB `pread` ran ~8× slower on the benchmark host.

use std::io;
use std::os::fd::BorrowedFd;

use bytes::Bytes;
use ninefold_server::bufpool::{BufPool, PoolBuf};

use super::sys;

/// Most bytes of free read buffers the process keeps.
const KEEP_BYTES: usize = 16 * 1024 * 1024;

/// The passthrough read buffers (apart from the server's receive pool, so
/// neither starves the other).
static POOL: BufPool = BufPool::new(KEEP_BYTES);

/// A buffer being read into (see the module documentation).
pub(crate) struct ReadBuf(PoolBuf);

impl ReadBuf {
    /// An empty buffer with room for `n` bytes of data.
    pub(crate) fn take(n: usize) -> ReadBuf {
        ReadBuf(POOL.take(n, 0))
    }

    /// Bytes of data read so far.
    pub(crate) fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether nothing was read yet.
    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// `preadv2` of up to `want - len()` bytes at `offset + len()` (the
    /// file offset of the buffer's first byte is `offset`), appended to
    /// the data; returns the bytes read (0 at end of file or with `want`
    /// reached). `nowait` as in [`sys::pread_into`].
    pub(crate) fn pread(
        &mut self,
        fd: BorrowedFd<'_>,
        want: usize,
        offset: u64,
        nowait: bool,
    ) -> io::Result<usize> {
        let at = offset + self.len() as u64;
        let limit = self.0.pad() + want;
        sys::pread_into(fd, self.0.vec_mut(), limit, at, nowait)
    }

    /// The data as a payload (a pooled buffer returns to the pool when
    /// the last reference is dropped).
    pub(crate) fn freeze(self) -> Bytes {
        self.0.freeze()
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;
    use std::os::fd::AsFd;

    use ninefold_server::bufpool::{ALIGN, POOL_MAX, POOL_MIN};

    use super::*;

    fn file(data: &[u8]) -> std::fs::File {
        let mut f = tempfile::tempfile().expect("tempfile");
        f.write_all(data).expect("write");
        f
    }

    #[test]
    fn every_size_reads_at_an_aligned_address_within_its_limit() {
        let data: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
        let f = file(&data);
        for n in [1, 100, 4096, 65_535, POOL_MIN, POOL_MIN + 1, POOL_MAX + 1] {
            let mut buf = ReadBuf::take(n);
            while buf.len() < n.min(data.len() - 7) {
                assert!(buf.pread(f.as_fd(), n, 7, false).expect("pread") > 0);
            }
            assert_eq!(buf.pread(f.as_fd(), n, 7, false).expect("pread at the limit"), 0);
            let b = buf.freeze();
            let end = (7 + n).min(data.len());
            assert_eq!(&b[..], &data[7..end], "size {n}");
            assert_eq!(b.as_ptr() as usize % ALIGN, 0, "size {n}");
        }
    }

    #[test]
    fn nothing_read_is_empty() {
        let f = file(b"");
        let mut buf = ReadBuf::take(POOL_MIN);
        assert_eq!(buf.pread(f.as_fd(), POOL_MIN, 0, false).expect("pread"), 0);
        assert_eq!(buf.len(), 0);
        assert!(buf.freeze().is_empty());
    }
}
