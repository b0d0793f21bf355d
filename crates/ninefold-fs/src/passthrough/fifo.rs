//! FIFOs: opened non-blocking and served through the runtime's reactor,
//! so that no request ever pins a thread waiting on a pipe.
//!
//! A blocking `open(2)` of a FIFO waits for the other end, and a read
//! waits for data; on the blocking pool either would hold a thread until
//! a peer shows up, out of reach of Tflush and disconnect, and a few
//! hundred of them would starve every other client. Instead:
//!
//! - a read-only or read-write open returns at once (`O_NONBLOCK`);
//! - a write-only open with no reader (`ENXIO`) is retried with a short
//!   backoff until a reader appears, or until the request is flushed
//!   (`EINTR`) or its future dropped;
//! - reads and writes wait for readiness with [`AsyncFd`], so dropping
//!   the request's future (what a flush or a disconnect does) ends the
//!   wait. Offsets are ignored, as for any pipe.
//!
//! A read-only FIFO that no writer has opened yet reports no readiness
//! (Linux reports hang-up only after a writer has come and gone), so a
//! read waits for the first writer's data exactly as after a blocking
//! open; once every writer has closed, reads return end of file.

use std::os::fd::OwnedFd;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use ninefold_proto::Errno;
use ninefold_server::{Request, Result};
use rustix::fs::OFlags;
use tokio::io::unix::AsyncFd;

use super::node::{blocking_as, errno, PassthroughNode};
use super::sys::{self, SharedFd};

/// The shortest and the longest pause between two attempts to open a
/// FIFO for writing while it has no reader.
const RETRY_MIN: Duration = Duration::from_millis(1);
const RETRY_MAX: Duration = Duration::from_millis(100);

/// A FIFO's non-blocking descriptor, registered with the reactor.
#[derive(Debug)]
pub(crate) struct Pipe {
    fd: AsyncFd<SharedFd>,
}

/// Opens `node`'s FIFO with `host` flags (plus `O_NONBLOCK`), waiting
/// without a thread for a reader when opening for writing only.
pub(crate) async fn open(node: &PassthroughNode, req: &Request, host: OFlags) -> Result<OwnedFd> {
    let host = host | OFlags::NONBLOCK;
    let write_only = host & (OFlags::RDONLY | OFlags::WRONLY | OFlags::RDWR) == OFlags::WRONLY;
    let mut pause = RETRY_MIN;
    loop {
        let fs = node.fs.clone();
        let fd = node.fd.clone();
        match blocking_as(&node.fs, req, move || fs.reopen(&fd, host).map_err(errno)).await {
            Err(Errno::ENXIO) if write_only => {
                tokio::select! {
                    () = tokio::time::sleep(pause) => {}
                    () = req.cancelled() => return Err(Errno::EINTR),
                }
                pause = (pause * 2).min(RETRY_MAX);
            }
            other => return other,
        }
    }
}

impl Pipe {
    /// Registers `fd` (opened non-blocking) with the runtime's reactor.
    pub(crate) fn new(fd: Arc<OwnedFd>) -> Result<Pipe> {
        match sys::register(SharedFd(fd)) {
            Ok(fd) => Ok(Pipe { fd }),
            Err(e) => {
                tracing::error!(error = %e, "passthrough: cannot register a FIFO with the reactor");
                Err(Errno::EIO)
            }
        }
    }

    /// Reads up to `count` bytes once some are there (or at end of file).
    pub(crate) async fn read(&self, count: u32) -> Result<Bytes> {
        if count == 0 {
            return Ok(Bytes::new());
        }
        let mut buf = Vec::with_capacity(count as usize);
        loop {
            let mut ready = self.fd.readable().await.map_err(io_errno)?;
            let attempt = ready.try_io(|fd| {
                rustix::io::read(fd.get_ref().0.as_ref(), rustix::buffer::spare_capacity(&mut buf))
                    .map_err(std::io::Error::from)
            });
            match attempt {
                Ok(Ok(_)) => return Ok(Bytes::from(buf)),
                Ok(Err(e)) => return Err(io_errno(e)),
                Err(_would_block) => continue,
            }
        }
    }

    /// Writes what fits of `data` once there is room.
    pub(crate) async fn write(&self, data: &[u8]) -> Result<u32> {
        loop {
            let mut ready = self.fd.writable().await.map_err(io_errno)?;
            let attempt = ready.try_io(|fd| {
                rustix::io::write(fd.get_ref().0.as_ref(), data).map_err(std::io::Error::from)
            });
            match attempt {
                Ok(Ok(n)) => return u32::try_from(n).map_err(|_| Errno::EIO),
                Ok(Err(e)) => return Err(io_errno(e)),
                Err(_would_block) => continue,
            }
        }
    }
}

fn io_errno(e: std::io::Error) -> Errno {
    e.raw_os_error().map_or(Errno::EIO, Errno::from_host)
}
