//! Directory prefetch for tree walkers.
//!
//! `find`, `du`, `cp -r` and `rm -r` list a directory and then open its
//! subdirectories one after another, in listing order. Each OPENDIR
//! would cost a walk and an open in series and its first READDIRPLUS
//! the server's listing (on `.Z` a Treaddirattr, which stats every
//! entry): three round trips the walker waits for per directory. Once
//! the first subdirectory of a listing, or two in listing order, have
//! been opened, the next [`WINDOW`] are opened and their first block read in the
//! background, so the walker's OPENDIR and READDIRPLUS find them ready
//! (the sequential-access detection of file read-ahead, applied to a
//! directory's subdirectories). `ls -l`, which opens no subdirectory,
//! and a single `cd`, which opens one, never trigger it.
//!
//! What keeps it correct and bounded:
//! - A prefetched directory is used only by the same uid (it was opened
//!   with that uid's attach), on the same connection, and within
//!   [`max_age`] (at most one second, never in `strict` mode or with a
//!   zero attribute timeout).
//! - Any change made through the mount (a create, unlink, rename, write,
//!   setattr, ...) drops every prefetched directory, and one taken while
//!   such a change completed is not used ([`Prefetch::touched`]), so the
//!   mount's own changes are always seen.
//! - At most [`MAX_EARLY`] directories are held open ahead, and the
//!   subdirectory lists of at most [`MAX_LISTS`] parents of at most
//!   [`MAX_SIBS`] entries each are remembered.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use ninefold_client::{Fid, Result};

use crate::core::lock;
use crate::ops_dir::{Ahead, Listed};
use crate::remote::Conn;

/// Subdirectories opened ahead of the walker.
pub(crate) const WINDOW: usize = 4;
/// Directories held open ahead at once (all parents together).
pub(crate) const MAX_EARLY: usize = 16;
/// Parents whose subdirectory lists are remembered.
pub(crate) const MAX_LISTS: usize = 16;
/// Subdirectories remembered per parent (later ones are not prefetched).
pub(crate) const MAX_SIBS: usize = 4096;

/// The oldest a prefetched listing may be when it is used.
pub(crate) fn max_age(ttl: Duration) -> Duration {
    ttl.min(Duration::from_secs(1))
}

/// A directory opened and read ahead.
#[derive(Debug)]
pub(crate) struct Opened {
    pub(crate) conn: Arc<Conn>,
    pub(crate) fid: Arc<Fid>,
    /// Its first listing block (cookie 0).
    pub(crate) first: Vec<Listed>,
    /// The block after it, already requested.
    pub(crate) next: Option<Ahead>,
}

/// One prefetch in flight or done.
#[derive(Debug)]
struct Early {
    id: u64,
    uid: u32,
    born: Instant,
    /// [`Prefetch::gen`] when it started.
    gen: u64,
    task: tokio::task::JoinHandle<Result<Opened>>,
}

impl Drop for Early {
    fn drop(&mut self) {
        // Its fids are clunked when the task's future (or result) drops.
        self.task.abort();
    }
}

/// The subdirectories of one listed parent, in listing order.
#[derive(Debug)]
struct Sibs {
    parent: u64,
    uid: u32,
    dirs: Vec<u64>,
    /// Index of the one opened last.
    last: Option<usize>,
    /// Indexes below this were prefetched already.
    issued: usize,
}

#[derive(Debug, Default)]
struct Inner {
    /// Most recently listed last.
    lists: VecDeque<Sibs>,
    early: VecDeque<Early>,
}

/// Prefetch state of a mount.
#[derive(Debug, Default)]
pub(crate) struct Prefetch {
    inner: Mutex<Inner>,
    /// Bumped by every change made through the mount.
    gen: AtomicU64,
}

impl Prefetch {
    /// Records the subdirectories `dirs` of a listing block of `parent`
    /// read for `uid`; `fresh`: the block at cookie 0 (a new listing).
    pub(crate) fn listed(
        &self,
        parent: u64,
        uid: u32,
        fresh: bool,
        dirs: impl Iterator<Item = u64>,
    ) {
        let mut g = lock(&self.inner);
        let at = g.lists.iter().position(|s| s.parent == parent && s.uid == uid);
        let mut s = match at.and_then(|i| g.lists.remove(i)) {
            Some(s) if !fresh => s,
            _ => Sibs { parent, uid, dirs: Vec::new(), last: None, issued: 0 },
        };
        let room = MAX_SIBS.saturating_sub(s.dirs.len());
        s.dirs.extend(dirs.take(room));
        if s.dirs.is_empty() {
            // Nothing to prefetch below it (a leaf): it does not push out
            // the lists of the parents a walker is still going through.
            return;
        }
        g.lists.push_back(s);
        while g.lists.len() > MAX_LISTS {
            g.lists.pop_front();
        }
    }

    /// Directory `id`, a child of `parent`, was opened by `uid`: the
    /// siblings to open ahead now (none unless the previous subdirectory
    /// of `parent` opened came just before it in the listing).
    pub(crate) fn opened(&self, parent: u64, id: u64, uid: u32) -> Vec<u64> {
        let mut g = lock(&self.inner);
        let Some(at) = g.lists.iter().position(|s| s.parent == parent && s.uid == uid) else {
            return Vec::new();
        };
        // The parent being walked stays among the most recent.
        let Some(s) = g.lists.remove(at) else { return Vec::new() };
        g.lists.push_back(s);
        let Some(s) = g.lists.back_mut() else { return Vec::new() };
        let from = s.last.map_or(0, |j| j + 1);
        let found = s.dirs[from.min(s.dirs.len())..]
            .iter()
            .position(|&d| d == id)
            .map(|i| i + from)
            .or_else(|| s.dirs.iter().position(|&d| d == id));
        let Some(i) = found else { return Vec::new() };
        // In order: right after the one opened last, or the first of the
        // listing (a walker starts there; anyone else opens it by chance).
        let sequential = match s.last {
            Some(j) => j < i && i - j <= 2,
            None => i == 0,
        };
        s.last = Some(i);
        if !sequential {
            return Vec::new();
        }
        let start = s.issued.max(i + 1);
        let end = (i + 1 + WINDOW).min(s.dirs.len());
        if start >= end {
            return Vec::new();
        }
        s.issued = end;
        let ids = s.dirs[start..end].to_vec();
        ids.into_iter().filter(|d| !g.early.iter().any(|e| e.id == *d && e.uid == uid)).collect()
    }

    /// The current change generation (taken when a prefetch starts).
    pub(crate) fn gen(&self) -> u64 {
        self.gen.load(Ordering::Acquire)
    }

    /// Registers a prefetch of `id` for `uid` started at generation `gen`.
    pub(crate) fn start(
        &self,
        id: u64,
        uid: u32,
        gen: u64,
        task: tokio::task::JoinHandle<Result<Opened>>,
    ) {
        let e = Early { id, uid, born: Instant::now(), gen, task };
        let evicted = {
            let mut g = lock(&self.inner);
            if self.gen() != gen {
                // A change landed meanwhile: not worth keeping.
                return;
            }
            // Ones a walker never came for keep no fid open for long.
            g.early.retain(|e| e.born.elapsed() <= Duration::from_secs(1));
            g.early.push_back(e);
            (g.early.len() > MAX_EARLY).then(|| g.early.pop_front())
        };
        drop(evicted);
    }

    /// The prefetch of `id` for `uid`, when one was started within
    /// `max_age` and no change was made through the mount since; the
    /// generation to check again once its result is in.
    pub(crate) fn take(&self, id: u64, uid: u32, max_age: Duration) -> Option<(Taken, u64)> {
        let e = {
            let mut g = lock(&self.inner);
            let i = g.early.iter().position(|e| e.id == id && e.uid == uid)?;
            g.early.remove(i)?
        };
        if e.born.elapsed() > max_age || e.gen != self.gen() {
            return None;
        }
        let gen = e.gen;
        Some((Taken(e), gen))
    }

    /// A change was made through the mount (call it once the change is on
    /// the server, before the kernel is answered): every prefetched
    /// directory is dropped.
    pub(crate) fn touched(&self) {
        self.gen.fetch_add(1, Ordering::AcqRel);
        let gone = std::mem::take(&mut lock(&self.inner).early);
        drop(gone);
    }

    /// Whether a change was made since generation `gen`.
    pub(crate) fn changed_since(&self, gen: u64) -> bool {
        self.gen() != gen
    }

    /// Prefetches held (for tests).
    #[cfg(test)]
    fn held(&self) -> usize {
        lock(&self.inner).early.len()
    }
}

/// A prefetch taken for use.
#[derive(Debug)]
pub(crate) struct Taken(Early);

impl Taken {
    /// Its result (None when it failed or was cancelled).
    pub(crate) async fn result(mut self) -> Option<Opened> {
        match (&mut self.0.task).await {
            Ok(Ok(o)) => Some(o),
            Ok(Err(e)) => {
                tracing::debug!(error = %e, "directory prefetch failed");
                None
            }
            Err(_) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn listing(p: &Prefetch, n: u64) {
        p.listed(1, 0, true, 100..100 + n);
    }

    #[test]
    fn sequential_opens_trigger_a_window() {
        let p = Prefetch::default();
        listing(&p, 20);
        assert!(p.opened(1, 105, 0).is_empty(), "one open in the middle prefetches nothing");
        listing(&p, 20);
        assert_eq!(p.opened(1, 100, 0), vec![101, 102, 103, 104], "the first one does");
        assert_eq!(p.opened(1, 101, 0), vec![105], "the window slides by one");
        assert_eq!(p.opened(1, 102, 0), vec![106]);
        assert_eq!(p.opened(1, 103, 0), vec![107]);
        assert!(p.opened(1, 110, 0).is_empty(), "a jump is not sequential");
        assert_eq!(p.opened(1, 111, 0), vec![112, 113, 114, 115]);
        assert!(p.opened(1, 100, 7).is_empty(), "another uid has no listing");
        assert!(p.opened(2, 100, 0).is_empty(), "another parent has no listing");
    }

    #[test]
    fn a_single_open_or_a_short_listing_prefetches_little() {
        let p = Prefetch::default();
        listing(&p, 3);
        assert!(p.opened(1, 101, 0).is_empty());
        assert_eq!(p.opened(1, 102, 0), Vec::<u64>::new(), "nothing after the last");
        listing(&p, 3);
        assert!(p.opened(1, 102, 0).is_empty(), "a new listing forgets the old order");
        listing(&p, 3);
        assert_eq!(p.opened(1, 100, 0), vec![101, 102], "up to the end of the listing");
    }

    #[test]
    fn leaves_do_not_push_out_the_walked_parent() {
        let p = Prefetch::default();
        listing(&p, 40);
        for (i, id) in (100..130u64).enumerate() {
            let got = p.opened(1, id, 0);
            assert!(!got.is_empty(), "open {i}: {got:?}");
            p.listed(id, 0, true, std::iter::empty());
        }
        for parent in 1000..(1000 + MAX_LISTS as u64 - 1) {
            p.listed(parent, 0, true, std::iter::once(parent + 1));
        }
        assert!(!p.opened(1, 130, 0).is_empty(), "a parent used last is kept");
    }

    #[test]
    fn lists_are_bounded() {
        let p = Prefetch::default();
        for parent in 0..(MAX_LISTS as u64 + 5) {
            p.listed(parent, 0, true, 0..(MAX_SIBS as u64 + 10));
        }
        let g = lock(&p.inner);
        assert_eq!(g.lists.len(), MAX_LISTS);
        assert!(g.lists.iter().all(|s| s.dirs.len() == MAX_SIBS));
        assert_eq!(g.lists.front().map(|s| s.parent), Some(5), "oldest parents dropped");
    }

    #[tokio::test]
    async fn changes_and_age_invalidate() {
        let p = Prefetch::default();
        let gen = p.gen();
        let never = || tokio::spawn(std::future::pending::<Result<Opened>>());
        p.start(5, 0, gen, never());
        assert!(p.take(5, 1, Duration::from_secs(1)).is_none(), "other uid");
        assert!(p.take(5, 0, Duration::from_secs(1)).is_some());
        assert!(p.take(5, 0, Duration::from_secs(1)).is_none(), "taken once");
        p.start(6, 0, gen, never());
        p.touched();
        assert_eq!(p.held(), 0, "a change drops every prefetch");
        p.start(7, 0, gen, never());
        assert_eq!(p.held(), 0, "one started before the change is not kept");
        let gen = p.gen();
        p.start(8, 0, gen, never());
        assert!(p.take(8, 0, Duration::ZERO).is_none(), "too old");
        for id in 0..(MAX_EARLY as u64 + 3) {
            p.start(id + 100, 0, gen, never());
        }
        assert_eq!(p.held(), MAX_EARLY);
        let (_, g) = p.take(110, 0, Duration::from_secs(1)).unwrap();
        assert!(!p.changed_since(g));
        p.touched();
        assert!(p.changed_since(g));
    }
}
