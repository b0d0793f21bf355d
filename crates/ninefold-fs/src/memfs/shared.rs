//! State shared by every node of one filesystem: qid generator, limits,
//! usage counters and the rename lock.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, Weak};
use std::time::Duration;

use ninefold_proto::Errno;
use ninefold_server::QidGen;

use super::node::MemNode;

/// Size and resource limits of a [`MemFs`](super::MemFs).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Largest regular file, in bytes (EFBIG beyond). Default 4 GiB.
    pub max_file_size: u64,
    /// Total bytes of file content (ENOSPC beyond; reported by statfs).
    /// Default 16 GiB.
    pub capacity: u64,
    /// Most objects alive at once (ENOSPC beyond). Default 4 Mi.
    pub max_inodes: u64,
    /// Longest name (ENAMETOOLONG beyond). Default 255.
    pub max_name: usize,
    /// Longest symlink target (ENAMETOOLONG beyond). Default 4095.
    pub max_symlink: usize,
    /// Largest extended-attribute value (E2BIG beyond). Default 64 KiB.
    pub max_xattr_value: usize,
    /// Longest extended-attribute name (ERANGE beyond). Default 255.
    pub max_xattr_name: usize,
    /// How long a blocking lock request waits for a conflicting lock to
    /// go before answering BLOCKED (the client then polls again). The
    /// wait ends early when the request is flushed. Zero answers BLOCKED
    /// at once. Default 5 s.
    pub lock_wait: Duration,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_file_size: 4 << 30,
            capacity: 16 << 30,
            max_inodes: 4 << 20,
            max_name: 255,
            max_symlink: 4095,
            max_xattr_value: 64 << 10,
            max_xattr_name: 255,
            lock_wait: Duration::from_secs(5),
        }
    }
}

/// Shared by every node of one filesystem.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) qids: QidGen,
    pub(crate) limits: Limits,
    pub(crate) permissions: bool,
    pub(crate) fsid: u64,
    bytes: AtomicU64,
    inodes: AtomicU64,
    rename: Mutex<()>,
    /// Every live object by `qid.path` (9P2000.L.Z Trebind).
    table: Mutex<HashMap<u64, Weak<MemNode>>>,
}

impl Shared {
    pub(crate) fn new(limits: Limits, permissions: bool, fsid: u64, qids: QidGen) -> Shared {
        Shared {
            qids,
            limits,
            permissions,
            fsid,
            bytes: AtomicU64::new(0),
            inodes: AtomicU64::new(0),
            rename: Mutex::new(()),
            table: Mutex::new(HashMap::new()),
        }
    }

    /// Records a new object in the inode table.
    pub(crate) fn register(&self, path: u64, node: Weak<MemNode>) {
        self.table.lock().unwrap_or_else(PoisonError::into_inner).insert(path, node);
    }

    /// Forgets an object (it is being dropped).
    pub(crate) fn unregister(&self, path: u64) {
        self.table.lock().unwrap_or_else(PoisonError::into_inner).remove(&path);
    }

    /// The live object whose qid path is `path`.
    pub(crate) fn find(&self, path: u64) -> Option<Arc<MemNode>> {
        self.table.lock().unwrap_or_else(PoisonError::into_inner).get(&path)?.upgrade()
    }

    /// The filesystem-wide lock taken by operations that lock two
    /// directories (rename, rmdir).
    pub(crate) fn rename_lock(&self) -> MutexGuard<'_, ()> {
        self.rename.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn bytes_used(&self) -> u64 {
        self.bytes.load(Ordering::Relaxed)
    }

    pub(crate) fn inodes_used(&self) -> u64 {
        self.inodes.load(Ordering::Relaxed)
    }

    /// Accounts `n` more bytes, or ENOSPC when that exceeds the capacity.
    pub(crate) fn charge_bytes(&self, n: u64) -> Result<(), Errno> {
        if n == 0 {
            return Ok(());
        }
        let cap = self.limits.capacity;
        self.bytes
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |used| {
                used.checked_add(n).filter(|&total| total <= cap)
            })
            .map(|_| ())
            .map_err(|_| Errno::ENOSPC)
    }

    pub(crate) fn release_bytes(&self, n: u64) {
        if n != 0 {
            let _ = self.bytes.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |used| {
                Some(used.saturating_sub(n))
            });
        }
    }

    /// Accounts one more object, or ENOSPC.
    pub(crate) fn charge_inode(&self) -> Result<(), Errno> {
        let max = self.limits.max_inodes;
        self.inodes
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |used| {
                (used < max).then_some(used + 1)
            })
            .map(|_| ())
            .map_err(|_| Errno::ENOSPC)
    }

    pub(crate) fn release_inode(&self) {
        let _ = self.inodes.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |used| {
            Some(used.saturating_sub(1))
        });
    }
}
