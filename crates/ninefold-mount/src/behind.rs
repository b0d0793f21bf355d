//! Write-behind: a FUSE write is answered as soon as its data is queued,
//! and the Twrite goes out while the kernel sends the next one, so a
//! sequential writer keeps several round trips in flight instead of one.
//!
//! Without it every `write(2)` costs a FUSE round trip plus a 9P round
//! trip back to back (the kernel, without its own writeback cache, sends
//! one write at a time per file). With it the mount pipelines like
//! `ninefold put` does.
//!
//! What keeps this correct:
//! - Every queued write registers its byte range with a sequence number
//!   before the kernel is answered. A write starts only when no earlier
//!   registered write overlaps it, so overlapping writes reach the server
//!   in the order the kernel sent them.
//! - Anything that must see the data waits for the node's writes first:
//!   reads of an overlapping range, every attribute fetch (the kernel
//!   would otherwise take a stale size and cut its page cache), truncate,
//!   locks, `copy_file_range`, flush and fsync.
//! - The queue is bounded by a byte budget shared by all files
//!   ([`MountOptions::write_behind`](crate::MountOptions)); a writer past
//!   it waits before its write is answered.
//! - A failed write is remembered on the node and returned by the next
//!   write, flush (that is, `close`) or fsync of that file, as NFS does.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use ninefold_client::Errno;
use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore};

use crate::core::lock;

/// Budget unit: permits count KiB.
const UNIT: u64 = 1024;

/// Queued writes of all nodes.
#[derive(Debug)]
pub(crate) struct Behind {
    /// None: write-behind is off (every write waits for its Rwrite).
    budget: Option<Arc<Semaphore>>,
    limit_units: u32,
    nodes: Mutex<HashMap<u64, Arc<NodeWrites>>>,
    seq: AtomicU64,
}

/// The queued writes of one node.
#[derive(Debug, Default)]
pub(crate) struct NodeWrites {
    state: Mutex<State>,
    changed: Notify,
}

#[derive(Debug, Default)]
struct State {
    /// (sequence, start, end) of each write queued or in flight.
    ranges: Vec<(u64, u64, u64)>,
    /// The first error of a write nobody has been told about yet.
    err: Option<Errno>,
}

/// One queued write: finish it with [`Behind::finish`].
#[derive(Debug)]
pub(crate) struct Ticket {
    node: Arc<NodeWrites>,
    seq: u64,
    start: u64,
    end: u64,
    _permit: Option<OwnedSemaphorePermit>,
}

fn overlaps(a: (u64, u64), b: (u64, u64)) -> bool {
    a.0 < b.1 && b.0 < a.1
}

impl Behind {
    /// A queue of at most `limit` bytes (0: off).
    pub(crate) fn new(limit: u64) -> Behind {
        let units = (limit / UNIT).min(u64::from(u32::MAX >> 4)) as u32;
        Behind {
            budget: (units > 0).then(|| Arc::new(Semaphore::new(units as usize))),
            limit_units: units,
            nodes: Mutex::new(HashMap::new()),
            seq: AtomicU64::new(1),
        }
    }

    /// Whether writes are answered before they reach the server.
    pub(crate) fn enabled(&self) -> bool {
        self.budget.is_some()
    }

    fn node(&self, id: u64) -> Arc<NodeWrites> {
        lock(&self.nodes).entry(id).or_default().clone()
    }

    fn existing(&self, id: u64) -> Option<Arc<NodeWrites>> {
        lock(&self.nodes).get(&id).cloned()
    }

    /// Registers a write of `len` bytes at `offset` of node `id`, waiting
    /// for budget. Once this returns the write may be acknowledged.
    pub(crate) async fn register(&self, id: u64, offset: u64, len: usize) -> Ticket {
        let permit = match &self.budget {
            Some(b) => {
                let units = (len as u64).div_ceil(UNIT).clamp(1, u64::from(self.limit_units));
                b.clone().acquire_many_owned(units as u32).await.ok()
            }
            None => None,
        };
        self.ticket(id, offset, len, permit)
    }

    /// [`register`](Behind::register) without waiting: `None` when the
    /// budget is spent (or write-behind is off), and the caller takes
    /// the waiting path.
    pub(crate) fn try_register(&self, id: u64, offset: u64, len: usize) -> Option<Ticket> {
        let b = self.budget.as_ref()?;
        let units = (len as u64).div_ceil(UNIT).clamp(1, u64::from(self.limit_units));
        let permit = b.clone().try_acquire_many_owned(units as u32).ok()?;
        Some(self.ticket(id, offset, len, Some(permit)))
    }

    fn ticket(
        &self,
        id: u64,
        offset: u64,
        len: usize,
        permit: Option<OwnedSemaphorePermit>,
    ) -> Ticket {
        let node = self.node(id);
        let seq = self.seq.fetch_add(1, Ordering::Relaxed);
        let end = offset.saturating_add(len as u64);
        lock(&node.state).ranges.push((seq, offset, end));
        Ticket { node, seq, start: offset, end, _permit: permit }
    }

    /// Waits until no write registered before `t` overlaps it.
    pub(crate) async fn ready(&self, t: &Ticket) {
        let node = &t.node;
        wait_until(node, |s| {
            !s.ranges.iter().any(|&(q, a, b)| q < t.seq && overlaps((a, b), (t.start, t.end)))
        })
        .await;
    }

    /// The write of `t` is done (`err`: it failed).
    pub(crate) fn finish(&self, t: Ticket, err: Option<Errno>) {
        {
            let mut s = lock(&t.node.state);
            s.ranges.retain(|r| r.0 != t.seq);
            if let Some(e) = err {
                s.err.get_or_insert(e);
            }
        }
        t.node.changed.notify_waiters();
        self.tidy(&t.node);
    }

    /// Drops the node's entry when it holds nothing.
    fn tidy(&self, node: &Arc<NodeWrites>) {
        let mut map = lock(&self.nodes);
        let idle = {
            let s = lock(&node.state);
            s.ranges.is_empty() && s.err.is_none()
        };
        if idle {
            map.retain(|_, n| !Arc::ptr_eq(n, node));
        }
    }

    /// Whether node `id` has writes queued or in flight.
    pub(crate) fn busy(&self, id: u64) -> bool {
        self.existing(id).is_some_and(|n| !lock(&n.state).ranges.is_empty())
    }

    /// Waits for the writes of node `id` registered so far (and, with
    /// `range`, only those overlapping it).
    pub(crate) async fn settle(&self, id: u64, range: Option<(u64, u64)>) {
        let Some(node) = self.existing(id) else { return };
        let upto = self.seq.load(Ordering::Relaxed);
        wait_until(&node, |s| {
            !s.ranges.iter().any(|&(q, a, b)| q < upto && range.is_none_or(|r| overlaps((a, b), r)))
        })
        .await;
    }

    /// Waits for all writes of node `id` and returns (and forgets) the
    /// error of any that failed.
    pub(crate) async fn drain(&self, id: u64) -> Option<Errno> {
        self.settle(id, None).await;
        self.take_error(id)
    }

    /// Waits until no node has writes queued (at unmount).
    pub(crate) async fn idle(&self) {
        loop {
            let nodes: Vec<Arc<NodeWrites>> = lock(&self.nodes).values().cloned().collect();
            if nodes.iter().all(|n| lock(&n.state).ranges.is_empty()) {
                return;
            }
            for n in nodes {
                wait_until(&n, |s| s.ranges.is_empty()).await;
            }
        }
    }

    /// The pending error of node `id`, if any (forgotten once returned).
    pub(crate) fn take_error(&self, id: u64) -> Option<Errno> {
        let node = self.existing(id)?;
        let e = lock(&node.state).err.take();
        self.tidy(&node);
        e
    }
}

async fn wait_until(node: &NodeWrites, ok: impl Fn(&State) -> bool) {
    loop {
        let notified = node.changed.notified();
        tokio::pin!(notified);
        notified.as_mut().enable();
        if ok(&lock(&node.state)) {
            return;
        }
        notified.await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test]
    async fn overlapping_writes_keep_their_order() {
        let b = Arc::new(Behind::new(1 << 20));
        let t1 = b.register(5, 0, 100).await;
        let t2 = b.register(5, 50, 100).await;
        let t3 = b.register(5, 1000, 10).await;
        b.ready(&t1).await;
        b.ready(&t3).await; // disjoint: never waits
        let b2 = b.clone();
        let waiter = tokio::spawn(async move {
            b2.ready(&t2).await;
            t2
        });
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert!(!waiter.is_finished(), "t2 overlaps t1 and must wait");
        b.finish(t1, None);
        let t2 = waiter.await.unwrap();
        assert!(b.busy(5));
        b.finish(t2, Some(Errno::ENOSPC));
        b.finish(t3, None);
        assert!(!b.busy(5));
        assert_eq!(b.drain(5).await, Some(Errno::ENOSPC));
        assert_eq!(b.drain(5).await, None);
        assert!(lock(&b.nodes).is_empty());
    }

    #[tokio::test]
    async fn budget_bounds_the_queue() {
        let b = Arc::new(Behind::new(4 * 1024));
        let t1 = b.register(1, 0, 4096).await;
        let b2 = b.clone();
        let next = tokio::spawn(async move { b2.register(1, 4096, 4096).await });
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert!(!next.is_finished(), "over budget must wait");
        b.finish(t1, None);
        let t2 = next.await.unwrap();
        b.finish(t2, None);
        assert!(!Behind::new(0).enabled());
    }
}
