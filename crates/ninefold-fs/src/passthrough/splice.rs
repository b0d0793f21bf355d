//! Reads straight into the connection's pipe ([`Handle::read_to_pipe`]):
//! `splice(2)` from the open descriptor moves page-cache references into
//! the pipe, and the server splices them on into the socket, so the data
//! is never copied through the server's memory.
//!
//! A splice of cached data takes microseconds and runs on the request's
//! own task. One that has to wait for the device blocks the thread, so it
//! is watched the way writes are ([`WriteGate`]): once one has slept in
//! the kernel for longer than [`STALL`](super::inline::STALL), spliced
//! reads of every export run on the blocking pool for a while.
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

/// Whether a spliced read of `len` bytes may run on the calling task.
pub(crate) fn inline(len: usize) -> bool {
    GATE.inline(len)
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
