//! Fids: what a fid refers to and what state it is in.
//!
//! ```text
//!            Tattach / Twalk (full success)
//!                        │
//!                        ▼
//!   ┌────────────────  Walked  ──────────────┐
//!   │ Tlopen/Topen       │ Txattrwalk        │ Txattrcreate
//!   ▼                    ▼ (newfid)          ▼
//! Open{handle}     XattrRead{value}     XattrWrite{name,size,buf}
//!   │                    │                   │
//!   └──── Tclunk / Tremove / Tversion / disconnect ─→ released
//! ```
//!
//! A fid holds the node it names (never a path), so renames and unlinks
//! elsewhere do not change what it refers to.

use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex, MutexGuard};

use bytes::{Bytes, BytesMut};
use ninefold_proto::{OpenFlags, XattrFlags};
use tokio::sync::RwLock;

use crate::fs::{Handle, Identity, Node};

/// Where a fid was reached from: its node, its name in the parent and the
/// parent's location. Shared between fids walked from one another.
#[derive(Debug)]
pub(crate) struct Location {
    pub(crate) node: Arc<dyn Node>,
    /// The name this node was reached by (`/` for an attach root).
    pub(crate) name: Bytes,
    /// The parent location; `None` at the attach root.
    pub(crate) parent: Option<Arc<Location>>,
}

impl Location {
    /// The root of an attach.
    pub(crate) fn root(node: Arc<dyn Node>) -> Arc<Location> {
        Arc::new(Location { node, name: Bytes::from_static(b"/"), parent: None })
    }

    /// The location of `name` under `parent`.
    pub(crate) fn child(parent: &Arc<Location>, name: Bytes, node: Arc<dyn Node>) -> Arc<Location> {
        Arc::new(Location { node, name, parent: Some(parent.clone()) })
    }

    /// The path from the attach root, for logs and spans.
    pub(crate) fn path(&self) -> String {
        let mut parts = Vec::new();
        let mut cur = Some(self);
        while let Some(loc) = cur {
            if loc.parent.is_some() {
                parts.push(String::from_utf8_lossy(&loc.name).into_owned());
            }
            cur = loc.parent.as_deref();
        }
        parts.reverse();
        format!("/{}", parts.join("/"))
    }
}

impl Drop for Location {
    /// Unlinks the parent chain one location at a time: a fid walked
    /// 60,000 directories deep must not drop 60,000 nested `Arc`s
    /// recursively.
    fn drop(&mut self) {
        let mut next = self.parent.take();
        while let Some(parent) = next {
            match Arc::try_unwrap(parent) {
                Ok(mut loc) => next = loc.parent.take(),
                // Still shared: whoever holds it drops the rest.
                Err(_) => break,
            }
        }
    }
}

/// What can be done with a fid now.
#[derive(Debug, Default)]
pub(crate) enum FidMode {
    /// Walked or attached, not opened.
    #[default]
    Walked,
    /// Opened (Tlopen, Tlcreate, Topen, Tcreate).
    Open(OpenState),
    /// A Txattrwalk result: the value captured at walk time.
    XattrRead(Bytes),
    /// A Txattrcreate in progress, committed at clunk.
    XattrWrite(XattrWrite),
}

/// An opened fid.
#[derive(Debug)]
pub(crate) struct OpenState {
    pub(crate) handle: Option<Arc<dyn Handle>>,
    pub(crate) flags: OpenFlags,
    /// 9P2000 ORCLOSE: remove the file at clunk.
    pub(crate) remove_on_clunk: bool,
    /// 9P2000/.u directory reads: stat records captured at offset 0.
    pub(crate) dir_stats: Option<Arc<crate::ops::stat::DirStats>>,
}

/// A pending xattr value (Txattrcreate, then Twrites).
#[derive(Debug)]
pub(crate) struct XattrWrite {
    pub(crate) name: Bytes,
    pub(crate) size: u64,
    pub(crate) flags: XattrFlags,
    pub(crate) buf: BytesMut,
}

/// One fid of a connection.
#[derive(Debug)]
pub(crate) struct Fid {
    pub(crate) loc: Mutex<Arc<Location>>,
    pub(crate) identity: Arc<Identity>,
    pub(crate) aname: Bytes,
    pub(crate) mode: Mutex<FidMode>,
    /// Held shared by every request using the fid and exclusively by the
    /// clunk, which therefore runs after all earlier requests.
    pub(crate) busy: Arc<RwLock<()>>,
    /// Bound by a 9P2000.L.Z Trebind with REPLAY | OPENED: the next
    /// in-place open answers ESTALE for EACCES and for an unlinked object.
    pub(crate) replay_opened: AtomicBool,
    /// Set on an auth fid (Tauth): its exchange. Such a fid only reads,
    /// writes and clunks (see `ops::attach::auth_fid_op`).
    pub(crate) auth: Option<Arc<crate::auth::AuthFid>>,
}

impl Fid {
    pub(crate) fn new(loc: Arc<Location>, identity: Arc<Identity>, aname: Bytes) -> Arc<Fid> {
        Arc::new(Fid {
            loc: Mutex::new(loc),
            identity,
            aname,
            mode: Mutex::new(FidMode::Walked),
            busy: Arc::new(RwLock::new(())),
            replay_opened: AtomicBool::new(false),
            auth: None,
        })
    }

    /// An auth fid: `loc` is a placeholder node, `auth` the exchange.
    pub(crate) fn new_auth(loc: Arc<Location>, auth: crate::auth::AuthFid) -> Arc<Fid> {
        Arc::new(Fid {
            loc: Mutex::new(loc),
            identity: Arc::new(Identity::default()),
            aname: Bytes::new(),
            mode: Mutex::new(FidMode::Walked),
            busy: Arc::new(RwLock::new(())),
            replay_opened: AtomicBool::new(false),
            auth: Some(Arc::new(auth)),
        })
    }

    /// A new fid at `loc` with this fid's identity.
    pub(crate) fn derive(&self, loc: Arc<Location>) -> Arc<Fid> {
        Fid::new(loc, self.identity.clone(), self.aname.clone())
    }

    pub(crate) fn location(&self) -> Arc<Location> {
        lock(&self.loc).clone()
    }

    pub(crate) fn node(&self) -> Arc<dyn Node> {
        lock(&self.loc).node.clone()
    }

    pub(crate) fn set_location(&self, loc: Arc<Location>) {
        *lock(&self.loc) = loc;
    }

    pub(crate) fn mode(&self) -> MutexGuard<'_, FidMode> {
        lock(&self.mode)
    }

    /// The handle, if the fid is open: `Ok(None)` when opened without one,
    /// `Err(())` when not open.
    pub(crate) fn open_handle(&self) -> Result<Option<Arc<dyn Handle>>, ()> {
        match &*self.mode() {
            FidMode::Open(open) => Ok(open.handle.clone()),
            _ => Err(()),
        }
    }

    pub(crate) fn is_open(&self) -> bool {
        matches!(*self.mode(), FidMode::Open(_))
    }
}

/// Locks a std mutex, recovering from poisoning (a panicking filesystem
/// method must not take the connection down with it).
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;
    use async_trait::async_trait;
    use ninefold_proto::Qid;

    #[derive(Debug)]
    struct N;
    #[async_trait]
    impl Node for N {
        fn qid(&self) -> Qid {
            Qid::default()
        }
    }

    #[test]
    fn paths_are_built_from_locations() {
        let root = Location::root(Arc::new(N));
        assert_eq!(root.path(), "/");
        let a = Location::child(&root, Bytes::from_static(b"a"), Arc::new(N));
        let b = Location::child(&a, Bytes::from_static(b"b"), Arc::new(N));
        assert_eq!(b.path(), "/a/b");
    }
}
