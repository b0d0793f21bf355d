//! Tlock and Tgetlock: open file description locks on the handle's own
//! descriptor, so every open fid is its own owner and two fids (on one
//! connection or two) conflict. A worker never blocks: a conflicting
//! BLOCK request polls asynchronously for at most the export's
//! `lock_wait`, stops when flushed, then answers BLOCKED (the client
//! asks again).

use std::os::fd::AsFd;
use std::time::{Duration, Instant};

use bytes::Bytes;
use ninefold_proto::{Errno, LockFlags, LockStatus, LockType};
use ninefold_server::{LockInfo, LockRequest, Request, Result};

use super::handle::PassthroughHandle;
use super::node::blocking;
use super::sys::{ofd_getlk, ofd_setlk, LockKind};

const FIRST_POLL: Duration = Duration::from_millis(5);
const MAX_POLL: Duration = Duration::from_millis(100);

/// The host range for a wire range: start must fit `off_t`; a length
/// running past the largest offset means "to the end" (0).
fn range(start: u64, length: u64) -> Result<(i64, i64)> {
    let start = i64::try_from(start).map_err(|_| Errno::EINVAL)?;
    let len = match i64::try_from(length) {
        Ok(len) if start.checked_add(len).is_some() => len,
        _ => 0,
    };
    Ok((start, len))
}

/// Whether a host error means "another owner holds a conflicting lock".
fn is_conflict(e: &std::io::Error) -> bool {
    matches!(e.raw_os_error(), Some(libc::EAGAIN) | Some(libc::EACCES))
}

impl PassthroughHandle {
    /// One non-blocking attempt: `Ok(true)` taken, `Ok(false)` conflict.
    async fn try_lock(&self, kind: LockKind, start: i64, len: i64) -> Result<bool> {
        let fd = self.fd.clone();
        blocking(move || match ofd_setlk(fd.as_fd(), kind, start, len) {
            Ok(()) => Ok(true),
            Err(e) if is_conflict(&e) => Ok(false),
            Err(e) => Err(Errno::from_io_error(&e)),
        })
        .await
    }

    pub(crate) async fn lock_impl(&self, req: &Request, lock: &LockRequest) -> Result<LockStatus> {
        let kind = match lock.ty {
            LockType::RDLCK => LockKind::Read,
            LockType::WRLCK => LockKind::Write,
            LockType::UNLCK => LockKind::Unlock,
            _ => return Err(Errno::EINVAL),
        };
        let (start, len) = range(lock.start, lock.length)?;
        if self.try_lock(kind, start, len).await? {
            return Ok(LockStatus::SUCCESS);
        }
        let wait = self.fs.opts.lock_wait;
        if !lock.flags.contains(LockFlags::BLOCK) || wait.is_zero() {
            return Ok(LockStatus::BLOCKED);
        }
        let deadline = Instant::now() + wait;
        let mut delay = FIRST_POLL;
        loop {
            let now = Instant::now();
            if now >= deadline {
                return Ok(LockStatus::BLOCKED);
            }
            let nap = delay.min(deadline - now);
            if tokio::time::timeout(nap, req.cancelled()).await.is_ok() {
                // Flushed: the reply is discarded; take nothing.
                return Ok(LockStatus::BLOCKED);
            }
            if self.try_lock(kind, start, len).await? {
                return Ok(LockStatus::SUCCESS);
            }
            delay = (delay * 2).min(MAX_POLL);
        }
    }

    pub(crate) async fn getlock_impl(&self, probe: &LockRequest) -> Result<LockInfo> {
        // Linux always probes with UNLCK ("any conflicting lock?"): a
        // write probe conflicts with every lock of another owner.
        let kind = match probe.ty {
            LockType::RDLCK => LockKind::Read,
            LockType::WRLCK | LockType::UNLCK => LockKind::Write,
            _ => return Err(Errno::EINVAL),
        };
        let (start, len) = range(probe.start, probe.length)?;
        let fd = self.fd.clone();
        let found = blocking(move || {
            ofd_getlk(fd.as_fd(), kind, start, len).map_err(|e| Errno::from_io_error(&e))
        })
        .await?;
        Ok(match found {
            None => LockInfo::unlocked(probe),
            Some(c) => LockInfo {
                ty: if c.kind == LockKind::Read { LockType::RDLCK } else { LockType::WRLCK },
                start: c.start as u64,
                length: c.len as u64,
                // OFD locks have no owning process (the host says -1);
                // the holder's client pid is not known here.
                proc_id: 0,
                client_id: Bytes::new(),
            },
        })
    }

    /// Drops every lock this open holds (at clunk).
    pub(crate) async fn release_locks(&self) -> Result<()> {
        // An unlock never waits (F_OFD_SETLK, not SETLKW): no hand-off to
        // the blocking pool, which every clunk of an open file paid.
        if let Err(e) = ofd_setlk(self.fd.as_fd(), LockKind::Unlock, 0, 0) {
            tracing::debug!(error = %e, "passthrough: unlock at release failed");
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges() {
        assert_eq!(range(0, 0).unwrap(), (0, 0));
        assert_eq!(range(10, 5).unwrap(), (10, 5));
        assert_eq!(range(10, u64::MAX).unwrap(), (10, 0));
        assert_eq!(range(i64::MAX as u64, 1).unwrap(), (i64::MAX, 0));
        assert_eq!(range(u64::MAX, 1).unwrap_err(), Errno::EINVAL);
    }
}
