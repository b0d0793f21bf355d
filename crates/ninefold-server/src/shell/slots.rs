//! [`Slots`]: the counting semaphore of a connection's budgets (reply
//! budget, running slots).
//!
//! Every request takes a slot of each and gives it back, so the common
//! case must be cheap: with slots free, taking one is a compare-and-swap
//! and giving one back an atomic add (tokio's `Semaphore` takes a lock on
//! every release, two per request). Only a taker that finds none free
//! waits, on a [`Notify`]; a release wakes one waiter only when there is
//! one.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use tokio::sync::Notify;

/// A number of interchangeable slots; see the [module documentation](self).
#[derive(Debug)]
pub(crate) struct Slots {
    free: AtomicUsize,
    /// Takers that found no slot and wait (or are about to).
    waiting: AtomicUsize,
    notify: Notify,
}

/// A slot taken from [`Slots`]; given back when dropped.
#[derive(Debug)]
pub(crate) struct Slot(Arc<Slots>);

impl Drop for Slot {
    fn drop(&mut self) {
        self.0.free.fetch_add(1, Ordering::SeqCst);
        // Pairs with the taker's `waiting` increment before it looks at
        // `free` again: either it sees this slot, or this sees it wait.
        if self.0.waiting.load(Ordering::SeqCst) > 0 {
            self.0.notify.notify_one();
        }
    }
}

impl Slots {
    /// `n` free slots.
    pub(crate) fn new(n: usize) -> Slots {
        Slots { free: AtomicUsize::new(n), waiting: AtomicUsize::new(0), notify: Notify::new() }
    }

    /// A slot if one is free.
    pub(crate) fn try_take(self: &Arc<Self>) -> Option<Slot> {
        let mut free = self.free.load(Ordering::SeqCst);
        while free > 0 {
            match self.free.compare_exchange_weak(
                free,
                free - 1,
                Ordering::SeqCst,
                Ordering::SeqCst,
            ) {
                Ok(_) => return Some(Slot(self.clone())),
                Err(now) => free = now,
            }
        }
        None
    }

    /// A slot, waiting for one to be given back if none is free.
    /// Cancel-safe: dropped while waiting, it passes a wake-up it got on
    /// to the next waiter (tokio's `Notified` does).
    pub(crate) async fn take(self: &Arc<Self>) -> Slot {
        if let Some(s) = self.try_take() {
            return s;
        }
        let _waiting = Waiting::new(&self.waiting);
        loop {
            let notified = self.notify.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if let Some(s) = self.try_take() {
                // A wake-up this waiter may have been handed goes on to
                // the next (there may be more free slots than takers).
                if self.free.load(Ordering::SeqCst) > 0 {
                    self.notify.notify_one();
                }
                return s;
            }
            notified.await;
        }
    }

    /// Slots free now.
    #[cfg(test)]
    pub(crate) fn free(&self) -> usize {
        self.free.load(Ordering::SeqCst)
    }
}

/// Counts a waiting taker for as long as it waits.
struct Waiting<'a>(&'a AtomicUsize);

impl<'a> Waiting<'a> {
    fn new(n: &'a AtomicUsize) -> Waiting<'a> {
        n.fetch_add(1, Ordering::SeqCst);
        Waiting(n)
    }
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn slots_are_taken_and_given_back() {
        let s = Arc::new(Slots::new(2));
        let a = s.try_take().expect("first");
        let b = s.try_take().expect("second");
        assert!(s.try_take().is_none());
        drop(a);
        assert_eq!(s.free(), 1);
        let c = s.try_take().expect("given back");
        drop((b, c));
        assert_eq!(s.free(), 2);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_waiter_gets_the_slot_given_back() {
        let s = Arc::new(Slots::new(1));
        let held = s.try_take().expect("free");
        let s2 = s.clone();
        let waiter = tokio::spawn(async move { s2.take().await });
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert!(!waiter.is_finished());
        drop(held);
        let got = tokio::time::timeout(Duration::from_secs(5), waiter).await.expect("woken");
        drop(got.expect("task"));
        assert_eq!(s.free(), 1);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_cancelled_waiter_does_not_swallow_the_wake_up() {
        let s = Arc::new(Slots::new(1));
        let held = s.try_take().expect("free");
        let (s1, s2) = (s.clone(), s.clone());
        let first = tokio::spawn(async move {
            tokio::time::timeout(Duration::from_millis(50), s1.take()).await.is_ok()
        });
        let second = tokio::spawn(async move { s2.take().await });
        tokio::time::sleep(Duration::from_millis(10)).await;
        drop(held);
        let _ = first.await;
        let got = tokio::time::timeout(Duration::from_secs(5), second).await.expect("woken");
        drop(got.expect("task"));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn many_takers_share_few_slots_without_losing_any() {
        let s = Arc::new(Slots::new(3));
        let inside = Arc::new(AtomicUsize::new(0));
        let mut tasks = Vec::new();
        for _ in 0..16 {
            let (s, inside) = (s.clone(), inside.clone());
            tasks.push(tokio::spawn(async move {
                for _ in 0..500 {
                    let slot = s.take().await;
                    let now = inside.fetch_add(1, Ordering::SeqCst) + 1;
                    assert!(now <= 3, "{now} inside");
                    tokio::task::yield_now().await;
                    inside.fetch_sub(1, Ordering::SeqCst);
                    drop(slot);
                }
            }));
        }
        for t in tasks {
            tokio::time::timeout(Duration::from_secs(30), t)
                .await
                .expect("no lost wake-up")
                .expect("task");
        }
        assert_eq!(s.free(), 3);
    }
}
