//! When a write runs on the request's own task instead of the blocking
//! pool.
//!
//! A buffered `pwrite` into the page cache takes tens of microseconds,
//! while the hand-off to the blocking pool and back costs two thread
//! wake-ups and, with several writes in flight, a pool thread each:
//! profiled on 64 KiB Twrites at depth 4, the hand-off doubled the
//! server's CPU per request (105–122 µs against 49–61 µs inline). But a
//! write can also wait: for dirty-page throttling, for a block read of a
//! partial page, for the inode lock held by an `fsync`, or on a slow
//! filesystem under the export. Ext4 refuses `RWF_NOWAIT` for buffered
//! writes, so the server cannot ask first. It therefore runs writes
//! inline and watches them: once one has slept in the kernel (a voluntary
//! context switch of the thread, so not mere preemption on a busy host)
//! and taken longer than [`STALL`], every write of the export goes to the
//! blocking pool for a window: [`QUIET`] after an isolated stall (a journal
//! commit, one writeback), doubling up to [`QUIET_MAX`] while stalls
//! follow each other within a window's length of its end. A stalling
//! filesystem so holds a runtime thread at most once per window per
//! thread (dirty throttling pauses a writer at most 200 ms).

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// An inline write slower than this sends writes to the blocking pool.
pub(crate) const STALL: Duration = Duration::from_millis(2);
/// The first window writes go to the pool for.
pub(crate) const QUIET: Duration = Duration::from_secs(1);
/// The longest window.
pub(crate) const QUIET_MAX: Duration = Duration::from_secs(60);
/// Writes larger than this always go to the blocking pool.
pub(crate) const MAX_INLINE: usize = 4 * 1024 * 1024;

/// An export's record of slow writes.
#[derive(Debug)]
pub(crate) struct WriteGate {
    epoch: Instant,
    /// Until when (milliseconds since `epoch`) writes go to the pool.
    pool_until_ms: AtomicU64,
    /// The length of the last window (milliseconds).
    window_ms: AtomicU64,
}

impl Default for WriteGate {
    fn default() -> Self {
        WriteGate {
            epoch: Instant::now(),
            pool_until_ms: AtomicU64::new(0),
            window_ms: AtomicU64::new(0),
        }
    }
}

impl WriteGate {
    fn now_ms(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    /// Whether a write of `len` bytes may run inline now.
    pub(crate) fn inline(&self, len: usize) -> bool {
        len <= MAX_INLINE && self.now_ms() >= self.pool_until_ms.load(Ordering::Relaxed)
    }

    /// Records how long an inline write took and whether its thread slept
    /// in the kernel meanwhile.
    pub(crate) fn took(&self, elapsed: Duration, slept: bool) {
        if !(slept && elapsed > STALL) {
            return;
        }
        let now = self.now_ms();
        let last_end = self.pool_until_ms.load(Ordering::Relaxed);
        let last = self.window_ms.load(Ordering::Relaxed);
        let window = if last > 0 && now < last_end.saturating_add(last) {
            (last * 2).min(QUIET_MAX.as_millis() as u64)
        } else {
            QUIET.as_millis() as u64
        };
        self.window_ms.store(window, Ordering::Relaxed);
        self.pool_until_ms.fetch_max(now.saturating_add(window), Ordering::Relaxed);
        tracing::debug!(
            ?elapsed,
            window_ms = window,
            "passthrough: a write stalled; writes use the blocking pool"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stall_closes_the_gate_for_a_while() {
        let g = WriteGate::default();
        assert!(g.inline(64 * 1024));
        assert!(!g.inline(MAX_INLINE + 1));
        g.took(Duration::from_micros(100), true);
        assert!(g.inline(64 * 1024));
        // Preempted, not blocked: no stall.
        g.took(STALL + Duration::from_millis(1), false);
        assert!(g.inline(64 * 1024));
        g.took(STALL + Duration::from_millis(1), true);
        assert!(!g.inline(64 * 1024));
        assert_eq!(g.window_ms.load(Ordering::Relaxed), QUIET.as_millis() as u64);
        // The window ends; a stall right after it doubles the next one.
        g.pool_until_ms.store(g.now_ms(), Ordering::Relaxed);
        assert!(g.inline(1));
        g.took(STALL * 2, true);
        assert!(!g.inline(1));
        assert_eq!(g.window_ms.load(Ordering::Relaxed), 2 * QUIET.as_millis() as u64);
        // Long after the window: back to the first length.
        g.pool_until_ms.store(0, Ordering::Relaxed);
        g.window_ms.store(1, Ordering::Relaxed);
        std::thread::sleep(Duration::from_millis(5));
        g.took(STALL * 2, true);
        assert_eq!(g.window_ms.load(Ordering::Relaxed), QUIET.as_millis() as u64);
    }
}
