//! Fid numbers: allocation, recycling, and the owned [`Fid`] handle whose
//! drop clunks in the background.

use std::fmt;
use std::sync::Arc;

use ninefold_proto::NOFID;

use super::Shared;
use crate::error::{Error, Result};

/// The fid number space of one connection: LIFO recycling, so a
/// long-running client keeps reusing the same few numbers.
#[derive(Debug)]
pub(crate) struct FidAlloc {
    next: u32,
    free: Vec<u32>,
    live: usize,
}

impl Default for FidAlloc {
    fn default() -> Self {
        FidAlloc { next: 1, free: Vec::new(), live: 0 }
    }
}

impl FidAlloc {
    /// A free number.
    pub(crate) fn alloc(&mut self) -> Result<u32> {
        let n = match self.free.pop() {
            Some(n) => n,
            None => {
                if self.next == NOFID {
                    return Err(Error::Io(ninefold_proto::Errno::EMFILE));
                }
                let n = self.next;
                self.next += 1;
                n
            }
        };
        self.live += 1;
        Ok(n)
    }

    /// Returns a number to the pool.
    pub(crate) fn release(&mut self, n: u32) {
        self.live = self.live.saturating_sub(1);
        self.free.push(n);
    }

    /// Numbers currently allocated (bound, being clunked, or about to be bound).
    pub(crate) fn live(&self) -> usize {
        self.live
    }

    /// One past the highest number ever handed out.
    pub(crate) fn high_water(&self) -> u32 {
        self.next
    }
}

/// An owned fid of a [`Session`](crate::Session).
///
/// The fid number is reserved while this value lives. Dropping it clunks the
/// fid in the background (if the server may have bound it) and only after
/// Rclunk returns the number to the pool for reuse; dropping an unbound fid
/// returns the number at once.
pub struct Fid {
    num: u32,
    bound: bool,
    shared: Arc<Shared>,
}

impl Fid {
    pub(crate) fn new_unbound(shared: Arc<Shared>) -> Result<Fid> {
        let num = shared.fids.lock().map_err(|_| Error::protocol("fid table poisoned"))?.alloc()?;
        Ok(Fid { num, bound: false, shared })
    }

    /// The fid number as sent on the wire.
    pub fn num(&self) -> u32 {
        self.num
    }

    /// Whether the server has (or may have) bound this fid.
    pub fn is_bound(&self) -> bool {
        self.bound
    }

    /// The connection this fid belongs to.
    pub(crate) fn shared(&self) -> &Arc<Shared> {
        &self.shared
    }

    /// The session (connection) this fid belongs to: the one every call
    /// naming it must go to.
    pub fn session(&self) -> crate::Session {
        crate::Session { shared: self.shared.clone() }
    }

    pub(crate) fn set_bound(&mut self, bound: bool) {
        self.bound = bound;
    }
}

impl fmt::Debug for Fid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Fid").field("num", &self.num).field("bound", &self.bound).finish()
    }
}

impl Drop for Fid {
    fn drop(&mut self) {
        let dead = self.shared.tags.lock().map(|t| t.dead).unwrap_or(true);
        if self.bound && !dead && self.shared.reap.send(self.num).is_ok() {
            return;
        }
        if let Ok(mut fids) = self.shared.fids.lock() {
            fids.release(self.num);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lifo_reuse() {
        let mut a = FidAlloc::default();
        let (x, y) = (a.alloc().unwrap(), a.alloc().unwrap());
        assert_eq!((x, y, a.live()), (1, 2, 2));
        a.release(x);
        assert_eq!(a.alloc().unwrap(), 1);
        assert_eq!(a.high_water(), 3);
    }
}
