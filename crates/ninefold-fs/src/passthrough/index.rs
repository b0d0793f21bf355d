//! The export's inode index: one `O_PATH` descriptor per live host
//! object, shared by every node (fid) naming it, and a bounded record of
//! where each object was last seen (parent and name), so that an object
//! can be found again by its `qid.path` (9P2000.L.Z Trebind) after every
//! fid on it is gone and after renames made through the server.
//!
//! Finding an object from the record opens one component at a time from
//! the export root or a live ancestor (never following a symlink) and
//! checks every step's identity: a name now holding another object gives
//! ESTALE, never that object. Renames made on the host behind the
//! server's back, and objects never seen since the server started (a
//! restart empties the index), are not found: ESTALE.

use std::collections::{HashMap, VecDeque};
use std::ffi::{OsStr, OsString};
use std::os::fd::{AsFd, OwnedFd};
use std::sync::{Arc, Mutex, PoisonError, Weak};

use ninefold_proto::Errno;
use ninefold_server::Result;

use super::node::{errno, PassthroughNode, Shared};
use super::walk::open_child;

/// Most (parent, name) records kept; the oldest go first.
const MAX_HINTS: usize = 1 << 18;

/// Deepest chain of records followed to find an object.
const MAX_DEPTH: usize = 4096;

#[derive(Debug, Default)]
struct Live {
    map: HashMap<u64, Weak<OwnedFd>>,
    /// Inserts until the next sweep of dead entries.
    until_sweep: usize,
}

/// Where an object was seen: parent, name, and its birth time.
type Seen = (u64, OsString, Option<(i64, u32)>);

#[derive(Debug, Default)]
struct Hints {
    map: HashMap<u64, Seen>,
    order: VecDeque<u64>,
}

/// Slots of the name cache ([`Index::guess`]).
const NAME_SLOTS: usize = 4096;

/// A direct-mapped cache from (parent, name) to the object last found
/// there: a *guess* only, which a lookup verifies with one `statx` of the
/// name before it reuses the object's live descriptor. Stale entries are
/// harmless (the check fails, the lookup opens the name), so nothing is
/// ever removed; a collision overwrites.
#[derive(Debug)]
struct Names(Vec<(u64, u64)>);

impl Default for Names {
    fn default() -> Names {
        Names(vec![(0, 0); NAME_SLOTS])
    }
}

/// An FNV-1a hash of (parent, name), never 0 (the empty slot).
fn name_key(parent: u64, name: &OsStr) -> u64 {
    use std::os::unix::ffi::OsStrExt;
    let mut x: u64 = 0xcbf2_9ce4_8422_2325 ^ parent.wrapping_mul(0x9e37_79b9_7f4a_7c15);
    for &b in name.as_bytes() {
        x ^= u64::from(b);
        x = x.wrapping_mul(0x0100_0000_01b3);
    }
    x | 1
}

/// See the module documentation.
#[derive(Debug, Default)]
pub(crate) struct Index {
    live: Mutex<Live>,
    hints: Mutex<Hints>,
    names: Mutex<Names>,
}

impl Index {
    /// The descriptor to hold for object `path`: the one already held
    /// for it if any (then `fd` is closed), else `fd`, now shared.
    pub(crate) fn share(&self, path: u64, fd: OwnedFd) -> Arc<OwnedFd> {
        let mut live = self.live.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(existing) = live.map.get(&path).and_then(Weak::upgrade) {
            // Held open, so the inode number cannot have been reused:
            // the same object.
            return existing;
        }
        let fd = Arc::new(fd);
        live.map.insert(path, Arc::downgrade(&fd));
        if live.until_sweep == 0 {
            live.map.retain(|_, w| w.strong_count() > 0);
            live.until_sweep = live.map.len().max(1024);
        } else {
            live.until_sweep -= 1;
        }
        fd
    }

    /// The live descriptor of the object last seen as `name` in
    /// `parent`, with that object's `qid.path`: a guess the caller must
    /// verify (see [`Names`]).
    pub(crate) fn guess(&self, parent: u64, name: &OsStr) -> Option<(u64, Arc<OwnedFd>)> {
        let key = name_key(parent, name);
        let (k, path) = {
            let names = self.names.lock().unwrap_or_else(PoisonError::into_inner);
            names.0[(key as usize) % NAME_SLOTS]
        };
        if k != key {
            return None;
        }
        Some((path, self.live(path)?))
    }

    /// The descriptor held for `path`, if the object is live.
    fn live(&self, path: u64) -> Option<Arc<OwnedFd>> {
        self.live.lock().unwrap_or_else(PoisonError::into_inner).map.get(&path)?.upgrade()
    }

    /// Records that `path` (born at `born`; `None` keeps what is known)
    /// was seen as `name` in directory `parent`.
    pub(crate) fn hint(&self, path: u64, parent: u64, name: &OsStr, born: Option<(i64, u32)>) {
        if path == parent {
            return;
        }
        {
            let key = name_key(parent, name);
            let mut names = self.names.lock().unwrap_or_else(PoisonError::into_inner);
            names.0[(key as usize) % NAME_SLOTS] = (key, path);
        }
        let mut h = self.hints.lock().unwrap_or_else(PoisonError::into_inner);
        let born = born.or_else(|| h.map.get(&path).and_then(|s| s.2));
        if h.map.insert(path, (parent, name.to_owned(), born)).is_none() {
            h.order.push_back(path);
            while h.order.len() > MAX_HINTS {
                if let Some(old) = h.order.pop_front() {
                    h.map.remove(&old);
                }
            }
        }
    }

    fn hint_of(&self, path: u64) -> Option<Seen> {
        self.hints.lock().unwrap_or_else(PoisonError::into_inner).map.get(&path).cloned()
    }
}

/// Finds object `path` of the export whose root is `root`. Blocking.
pub(crate) fn resolve(
    fs: &Arc<Shared>,
    root: &PassthroughNode,
    path: u64,
) -> Result<PassthroughNode> {
    if let Some(fd) = fs.index.live(path) {
        return PassthroughNode::from_shared(fs, fd).map_err(errno);
    }
    // Up the records to the root or a live ancestor...
    let mut chain: Vec<(u64, Seen)> = Vec::new();
    let mut cur = path;
    let mut base = loop {
        if cur == root.qid.path {
            break root.fd.clone();
        }
        if cur != path {
            if let Some(fd) = fs.index.live(cur) {
                break fd;
            }
        }
        if chain.len() >= MAX_DEPTH {
            return Err(Errno::ESTALE);
        }
        let seen = fs.index.hint_of(cur).ok_or(Errno::ESTALE)?;
        let parent = seen.0;
        chain.push((cur, seen));
        cur = parent;
    };
    // ...then down, one checked component at a time.
    let mut node = None;
    for (expected, (_, name, born)) in chain.into_iter().rev() {
        let fd = open_child(fs, base.as_fd(), &name).map_err(|_| Errno::ESTALE)?;
        let n = PassthroughNode::from_fd(fs, fd).map_err(|_| Errno::ESTALE)?;
        // The inode number may have been reused by a newer object.
        let reborn = matches!((born, n.born), (Some(a), Some(b)) if a != b);
        if n.qid.path != expected || reborn {
            return Err(Errno::ESTALE);
        }
        base = n.fd.clone();
        node = Some(n);
    }
    node.ok_or(Errno::ESTALE)
}
