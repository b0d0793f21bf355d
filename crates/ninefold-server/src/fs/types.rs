//! Values passed to and returned from filesystem methods.

use std::sync::Arc;

use bytes::Bytes;
use ninefold_proto::{LockFlags, LockType};

use super::{Handle, Node};

/// Filesystem statistics, as Rstatfs carries them (`statfs(2)` fields).
pub type StatFs = ninefold_proto::l::Rstatfs;

/// The result of opening a node: optional per-open state and an iounit
/// hint.
///
/// ```
/// use ninefold_server::Opened;
///
/// let plain = Opened::node();
/// assert!(plain.handle.is_none());
/// assert_eq!(plain.iounit, 0);
/// ```
#[derive(Clone, Default)]
pub struct Opened {
    /// Per-open state. When present, its methods are called for I/O on
    /// this fid instead of the node's (see [`Handle`]).
    pub handle: Option<Arc<dyn Handle>>,
    /// The iounit advertised in Rlopen/Rlcreate/Ropen. 0 (the default,
    /// and what the Linux client performs best with) means "msize - 24";
    /// larger values are clamped to that.
    pub iounit: u32,
}

impl Opened {
    /// Opened without per-open state: I/O goes to the node's methods.
    pub fn node() -> Opened {
        Opened { handle: None, iounit: 0 }
    }

    /// Opened with a handle that serves this fid's I/O.
    pub fn with_handle(handle: impl Handle) -> Opened {
        Opened { handle: Some(Arc::new(handle)), iounit: 0 }
    }
}

impl std::fmt::Debug for Opened {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Opened")
            .field("handle", &self.handle.is_some())
            .field("iounit", &self.iounit)
            .finish()
    }
}

/// A node created and opened in one step (Tlcreate, 9P2000 Tcreate).
#[derive(Clone, Debug)]
pub struct Created {
    /// The new node.
    pub node: Arc<dyn Node>,
    /// How it was opened.
    pub opened: Opened,
}

/// A byte-range lock request (Tlock), or the range probed by Tgetlock.
///
/// `length` 0 means "to the end of the file". The owner is
/// [`Request::lock_owner`](crate::Request::lock_owner).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LockRequest {
    /// RDLCK, WRLCK or UNLCK. Tgetlock from Linux always says UNLCK:
    /// answer whether *any* lock of another owner overlaps the range.
    pub ty: LockType,
    /// BLOCK (the client will poll again on BLOCKED) and RECLAIM.
    pub flags: LockFlags,
    /// First byte.
    pub start: u64,
    /// Length in bytes, 0 = to end of file.
    pub length: u64,
    /// The client process id.
    pub proc_id: u32,
    /// The client's node name.
    pub client_id: Bytes,
}

/// The answer to Tgetlock: the conflicting lock, or type UNLCK for none.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LockInfo {
    /// The conflicting lock's type, or UNLCK when nothing conflicts.
    pub ty: LockType,
    /// Its first byte.
    pub start: u64,
    /// Its length (0 = to end of file).
    pub length: u64,
    /// The process holding it.
    pub proc_id: u32,
    /// The client holding it.
    pub client_id: Bytes,
}

impl LockInfo {
    /// "No conflicting lock" for the probed range.
    pub fn unlocked(probe: &LockRequest) -> LockInfo {
        LockInfo {
            ty: LockType::UNLCK,
            start: probe.start,
            length: probe.length,
            proc_id: probe.proc_id,
            client_id: probe.client_id.clone(),
        }
    }
}
