//! QID helpers: a generator of unique paths and a path-derived qid.

use std::sync::atomic::{AtomicU64, Ordering};

use ninefold_proto::{Qid, QidType};

/// Hands out qids with unique, increasing `path` values. Safe to share
/// between threads.
///
/// ```
/// use ninefold_server::QidGen;
/// use ninefold_proto::QidType;
///
/// let gen = QidGen::new();
/// let a = gen.next(QidType::DIR);
/// let b = gen.next(QidType::FILE);
/// assert_ne!(a.path, b.path);
/// assert!(a.is_dir());
/// ```
#[derive(Debug)]
pub struct QidGen {
    next: AtomicU64,
}

impl QidGen {
    /// A generator whose first path is 1.
    pub const fn new() -> QidGen {
        QidGen { next: AtomicU64::new(1) }
    }

    /// A generator whose first path is `first`.
    pub const fn starting_at(first: u64) -> QidGen {
        QidGen { next: AtomicU64::new(first) }
    }

    /// A fresh qid of type `ty`, version 0.
    pub fn next(&self, ty: QidType) -> Qid {
        Qid { ty, version: 0, path: self.next_path() }
    }

    /// A fresh path number.
    pub fn next_path(&self) -> u64 {
        self.next.fetch_add(1, Ordering::Relaxed)
    }
}

impl Default for QidGen {
    fn default() -> QidGen {
        QidGen::new()
    }
}

/// A qid whose path is derived from `path` (64-bit FNV-1a): stable across
/// restarts for nodes with fixed names. Not collision-proof against
/// adversarial names; use [`QidGen`] for client-created objects.
///
/// ```
/// use ninefold_server::path_qid;
/// use ninefold_proto::QidType;
///
/// assert_eq!(path_qid(QidType::FILE, b"/etc/motd"), path_qid(QidType::FILE, b"/etc/motd"));
/// assert_ne!(path_qid(QidType::FILE, b"/a").path, path_qid(QidType::FILE, b"/b").path);
/// ```
pub fn path_qid(ty: QidType, path: &[u8]) -> Qid {
    const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    let hash = path.iter().fold(OFFSET, |h, &b| (h ^ u64::from(b)).wrapping_mul(PRIME));
    Qid { ty, version: 0, path: hash }
}
