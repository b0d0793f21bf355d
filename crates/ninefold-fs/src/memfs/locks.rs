//! Byte-range POSIX locks per [`LockOwner`]: conflicts between owners,
//! splitting and merging, Tgetlock as "any conflicting lock", release at
//! clunk, and a bounded, cancellable wait for blocking requests.

use std::future::Future;
use std::pin::pin;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::task::Poll;
use std::time::Duration;

use bytes::Bytes;
use ninefold_proto::{Errno, LockFlags, LockStatus, LockType};
use ninefold_server::{LockInfo, LockOwner, LockRequest, Request, Result};
use tokio::sync::Notify;

/// One held lock; `end` is inclusive (`u64::MAX` = to end of file).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Held {
    pub(crate) owner: LockOwner,
    pub(crate) ty: LockType,
    pub(crate) start: u64,
    pub(crate) end: u64,
    pub(crate) proc_id: u32,
    pub(crate) client_id: Bytes,
}

impl Held {
    fn overlaps(&self, start: u64, end: u64) -> bool {
        self.start <= end && start <= self.end
    }

    fn info(&self) -> LockInfo {
        let length = if self.end == u64::MAX { 0 } else { self.end - self.start + 1 };
        LockInfo {
            ty: self.ty,
            start: self.start,
            length,
            proc_id: self.proc_id,
            client_id: self.client_id.clone(),
        }
    }
}

/// The locks of one object.
#[derive(Debug, Default)]
pub(crate) struct LockState {
    held: Mutex<Vec<Held>>,
    changed: Notify,
}

/// The inclusive range of a request: `length` 0 means to end of file.
fn range(start: u64, length: u64) -> Result<(u64, u64)> {
    if length == 0 {
        return Ok((start, u64::MAX));
    }
    start.checked_add(length - 1).map(|end| (start, end)).ok_or(Errno::EINVAL)
}

/// The first lock of another owner that conflicts with `ty` over the
/// range; UNLCK (Tgetlock from Linux) conflicts with any lock, and a
/// write lock is preferred in the answer.
fn conflict(held: &[Held], owner: LockOwner, ty: LockType, start: u64, end: u64) -> Option<&Held> {
    let mut others = held.iter().filter(|h| h.owner != owner && h.overlaps(start, end));
    match ty {
        LockType::RDLCK => others.find(|h| h.ty == LockType::WRLCK),
        LockType::WRLCK => others.next(),
        _ => {
            let all: Vec<&Held> = others.collect();
            all.iter().find(|h| h.ty == LockType::WRLCK).or(all.first()).copied()
        }
    }
}

/// Removes `owner`'s coverage of `[start, end]`, splitting locks that
/// extend beyond it.
fn punch(held: &mut Vec<Held>, owner: LockOwner, start: u64, end: u64) {
    let mut pieces = Vec::new();
    held.retain(|h| {
        if h.owner != owner || !h.overlaps(start, end) {
            return true;
        }
        if h.start < start {
            pieces.push(Held { end: start - 1, ..h.clone() });
        }
        if h.end > end {
            pieces.push(Held { start: end + 1, ..h.clone() });
        }
        false
    });
    held.extend(pieces);
}

/// Adds `new` after punching its range, merging it with the owner's
/// adjacent or overlapping locks of the same type.
fn insert(held: &mut Vec<Held>, mut new: Held) {
    punch(held, new.owner, new.start, new.end);
    held.retain(|h| {
        let touches = h.start <= new.end.saturating_add(1) && new.start <= h.end.saturating_add(1);
        if h.owner == new.owner && h.ty == new.ty && touches {
            new.start = new.start.min(h.start);
            new.end = new.end.max(h.end);
            false
        } else {
            true
        }
    });
    held.push(new);
}

impl LockState {
    fn held(&self) -> MutexGuard<'_, Vec<Held>> {
        self.held.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A snapshot of the locks held (for tests and diagnostics).
    pub(crate) fn snapshot(&self) -> Vec<Held> {
        let mut v = self.held().clone();
        v.sort_by_key(|h| (h.owner, h.start));
        v
    }

    /// Tries once: `true` when granted.
    fn try_set(&self, owner: LockOwner, lock: &LockRequest, start: u64, end: u64) -> bool {
        let mut held = self.held();
        if conflict(&held, owner, lock.ty, start, end).is_some() {
            return false;
        }
        let downgrade = held
            .iter()
            .any(|h| h.owner == owner && h.overlaps(start, end) && h.ty == LockType::WRLCK);
        insert(
            &mut held,
            Held {
                owner,
                ty: lock.ty,
                start,
                end,
                proc_id: lock.proc_id,
                client_id: lock.client_id.clone(),
            },
        );
        drop(held);
        if downgrade {
            self.changed.notify_waiters();
        }
        true
    }

    /// Tlock for the request's owner.
    pub(crate) async fn lock(
        &self,
        req: &Request,
        lock: &LockRequest,
        wait: Duration,
    ) -> Result<LockStatus> {
        let (start, end) = range(lock.start, lock.length)?;
        let owner = req.lock_owner();
        match lock.ty {
            LockType::UNLCK => {
                punch(&mut self.held(), owner, start, end);
                self.changed.notify_waiters();
                return Ok(LockStatus::SUCCESS);
            }
            LockType::RDLCK | LockType::WRLCK => {}
            _ => return Err(Errno::EINVAL),
        }
        let blocking = lock.flags.contains(LockFlags::BLOCK) && !wait.is_zero();
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let mut notified = pin!(self.changed.notified());
            notified.as_mut().enable();
            if self.try_set(owner, lock, start, end) {
                return Ok(LockStatus::SUCCESS);
            }
            if !blocking || tokio::time::Instant::now() >= deadline {
                return Ok(LockStatus::BLOCKED);
            }
            let mut sleep = pin!(tokio::time::sleep_until(deadline));
            let mut cancelled = pin!(req.cancelled());
            let flushed = std::future::poll_fn(|cx| {
                if cancelled.as_mut().poll(cx).is_ready() {
                    return Poll::Ready(true);
                }
                if notified.as_mut().poll(cx).is_ready() || sleep.as_mut().poll(cx).is_ready() {
                    return Poll::Ready(false);
                }
                Poll::Pending
            })
            .await;
            if flushed {
                return Err(Errno::EINTR);
            }
        }
    }

    /// Tgetlock: a lock of another owner overlapping the probe.
    pub(crate) fn getlock(&self, req: &Request, probe: &LockRequest) -> Result<LockInfo> {
        let (start, end) = range(probe.start, probe.length)?;
        let held = self.held();
        Ok(match conflict(&held, req.lock_owner(), probe.ty, start, end) {
            Some(h) => h.info(),
            None => LockInfo::unlocked(probe),
        })
    }

    /// Drops every lock of `owner` (at clunk).
    pub(crate) fn release(&self, owner: LockOwner) {
        let mut held = self.held();
        let before = held.len();
        held.retain(|h| h.owner != owner);
        let removed = held.len() != before;
        drop(held);
        if removed {
            self.changed.notify_waiters();
        }
    }
}

impl super::MemNode {
    /// The byte-range locks currently held on this object, as `(owner,
    /// type, first byte, last byte)` sorted by owner and start (for
    /// diagnostics and tests; `u64::MAX` as last byte = to end of file).
    pub fn held_locks(&self) -> Vec<(LockOwner, LockType, u64, u64)> {
        self.locks.snapshot().into_iter().map(|h| (h.owner, h.ty, h.start, h.end)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn owner(fid: u32) -> LockOwner {
        LockOwner { conn: 0, fid }
    }

    fn held(o: u32, ty: LockType, start: u64, end: u64) -> Held {
        Held { owner: owner(o), ty, start, end, proc_id: 0, client_id: Bytes::new() }
    }

    #[test]
    fn punch_splits_and_insert_merges() {
        let mut v = vec![held(1, LockType::WRLCK, 0, 99)];
        punch(&mut v, owner(1), 10, 19);
        v.sort_by_key(|h| h.start);
        assert_eq!(v, vec![held(1, LockType::WRLCK, 0, 9), held(1, LockType::WRLCK, 20, 99)]);
        insert(&mut v, held(1, LockType::WRLCK, 10, 19));
        assert_eq!(v, vec![held(1, LockType::WRLCK, 0, 99)]);
        insert(&mut v, held(1, LockType::RDLCK, 50, 59));
        v.sort_by_key(|h| h.start);
        assert_eq!(v.len(), 3);
        assert_eq!(v[1], held(1, LockType::RDLCK, 50, 59));
    }

    #[test]
    fn ranges() {
        assert_eq!(range(5, 0).unwrap(), (5, u64::MAX));
        assert_eq!(range(5, 1).unwrap(), (5, 5));
        assert_eq!(range(u64::MAX, 2), Err(Errno::EINVAL));
    }
}
