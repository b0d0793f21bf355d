//! Reads straight into the connection's pipe ([`Handle::read_to_pipe`]):
//! `splice(2)` from the open descriptor moves page-cache references into
//! the pipe, and the server splices them on into the socket, so the data
//! is never copied through the server's memory.
//!
//! A splice of cached data takes microseconds and runs on the request's
//! own task; one that has to wait for the device would block the thread,
//! so it runs on the blocking pool. Which one it is, `cachestat(2)` says
//! (one look at the page cache, no copy): every page of the range cached
//! means inline. A range past the end of the file is never all cached, so
//! such reads (rare: the last of a file) take the pool too. On a kernel
//! without `cachestat` (before 6.5) inline splices are watched the way
//! writes are ([`WriteGate`]): once one has slept in the kernel for longer
//! than [`STALL`], spliced reads run on the pool for a while.
//!
//! [`Handle::read_to_pipe`]: ninefold_server::Handle::read_to_pipe

use std::os::fd::{AsFd, BorrowedFd};
use std::sync::LazyLock;

use ninefold_proto::Errno;
use ninefold_server::Result;
use rustix::pipe::SpliceFlags;

use super::inline::WriteGate;
pub(crate) use super::inline::STALL;

/// The record of slow spliced reads (process-wide).
static GATE: LazyLock<WriteGate> = LazyLock::new(WriteGate::default);

/// Whether a spliced read of `count` bytes at `offset` of `file` may run
/// on the calling task: its pages are all cached (or, on a kernel that
/// cannot tell, inline splices have not been stalling).
pub(crate) fn inline(file: BorrowedFd<'_>, offset: u64, count: u32) -> Inline {
    let lead = offset % 4096;
    let pages = (lead + u64::from(count)).div_ceil(4096);
    match super::sys::cached_pages(file, offset - lead, pages * 4096) {
        Ok(cached) if cached >= pages => Inline::Cached,
        Ok(_) => Inline::No,
        Err(_) if GATE.inline(count as usize) => Inline::Watched,
        Err(_) => Inline::No,
    }
}

/// Where a spliced read runs (see [`inline`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Inline {
    /// On the calling task: its data is cached.
    Cached,
    /// On the calling task, timed (the kernel cannot tell what is cached).
    Watched,
    /// On the blocking pool.
    No,
}

/// Records how long an inline spliced read took and whether its thread
/// slept meanwhile.
pub(crate) fn took(elapsed: std::time::Duration, slept: bool) {
    GATE.took(elapsed, slept);
}

/// Splices up to `count` bytes of `file` at `offset` into `pipe` (empty,
/// non-blocking). Returns the bytes now in the pipe (fewer than `count`
/// only at end of file, or when the pipe filled), or `None` when nothing
/// could be spliced for a reason a plain read may not share (the file
/// cannot be spliced from, or its data is not at hand without waiting):
/// the server then reads it the ordinary way.
pub(crate) fn fill(
    file: BorrowedFd<'_>,
    offset: u64,
    count: u32,
    pipe: BorrowedFd<'_>,
) -> Result<Option<u32>> {
    let want = count as usize;
    let mut at = offset;
    let mut got = 0usize;
    while got < want {
        match rustix::pipe::splice(
            file,
            Some(&mut at),
            pipe,
            None,
            want - got,
            SpliceFlags::NONBLOCK,
        ) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(rustix::io::Errno::INTR) => {}
            Err(
                rustix::io::Errno::AGAIN
                | rustix::io::Errno::INVAL
                | rustix::io::Errno::NOSYS
                | rustix::io::Errno::OPNOTSUPP,
            ) if got == 0 => return Ok(None),
            Err(e) if got == 0 => return Err(Errno::from_host(e.raw_os_error())),
            // An error after some data (or a full pipe): the data is the
            // answer, as for a short read.
            Err(_) => break,
        }
    }
    u32::try_from(got).map(Some).map_err(|_| Errno::EIO)
}

/// [`fill`] with owned descriptors, for the blocking pool.
pub(crate) fn fill_owned(
    file: &std::os::fd::OwnedFd,
    offset: u64,
    count: u32,
    pipe: &std::os::fd::OwnedFd,
) -> Result<Option<u32>> {
    fill(file.as_fd(), offset, count, pipe.as_fd())
}

#[cfg(test)]
mod tests {
    use std::io::Write;
    use std::os::fd::AsFd;

    use super::*;

    #[test]
    fn cached_data_is_spliced_inline_and_exactly() {
        let mut f = tempfile::tempfile().expect("tempfile");
        let data: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
        f.write_all(&data).expect("write");
        // Just written: every page is cached (on a kernel with cachestat).
        let at = inline(f.as_fd(), 4097, 200_000);
        if super::super::sys::cached_pages(f.as_fd(), 0, 4096).is_ok() {
            assert_eq!(at, Inline::Cached);
            // Past the end: not all cached, so not inline.
            assert_eq!(inline(f.as_fd(), 290_000, 200_000), Inline::No);
        }
        let (r, w) = rustix::pipe::pipe_with(rustix::pipe::PipeFlags::NONBLOCK).expect("pipe");
        rustix::pipe::fcntl_setpipe_size(&w, 1 << 20).expect("pipe size");
        let n = fill(f.as_fd(), 4097, 200_000, w.as_fd()).expect("fill").expect("spliced");
        assert_eq!(n, 200_000);
        let mut got = vec![0u8; n as usize];
        let mut at = 0;
        while at < got.len() {
            at += rustix::io::read(&r, &mut got[at..]).expect("read");
        }
        assert!(got == data[4097..204_097]);
        // At the end of the file: exactly what is left.
        let n = fill(f.as_fd(), 299_000, 200_000, w.as_fd()).expect("fill").expect("spliced");
        assert_eq!(n, 1000);
    }
}
