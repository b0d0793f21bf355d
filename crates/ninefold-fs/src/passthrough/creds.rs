//! Per-request host credentials: the system calls of a request run with
//! the requesting user's filesystem ids and groups, so the host kernel
//! makes the permission checks.
//!
//! Linux credentials are per thread. On the thread that makes a
//! request's system calls, [`Credentials::enter`] switches to the user
//! (supplementary groups, then `setfsgid`, then `setfsuid`: the groups
//! need `CAP_SETGID`, which a non-zero fsuid does not drop, while a
//! non-zero fsuid drops the filesystem capabilities) and returns a guard
//! that switches back to the server's own ids when dropped: on return, on
//! early return and during a panic's unwinding. Nothing is awaited in
//! between, so no other request can run on the thread while it wears a
//! user's ids. A thread that cannot be switched back aborts the process
//! rather than serve another request with the wrong ids.
//!
//! That thread is a blocking-pool thread, or the request's own runtime
//! thread for a call that is quick and whose user's ids are known without
//! a lookup ([`Credentials::enter_known`]): a metadata call, a write into
//! the page cache. A lookup in the user database may wait (NSS can reach
//! the network), so a user seen for the first time, or after
//! [`CACHE_TTL`], goes to the pool.
//!
//! The supplementary groups are set with the raw `setgroups` system call
//! (`rustix::thread::set_thread_groups`): glibc's `setgroups()` changes
//! every thread of the process.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use ninefold_proto::Errno;
use ninefold_server::{Request, Result};
use rustix::process::Gid;

use super::idmap::{IdMap, OVERFLOW_ID};
use super::sys;

/// How many users' groups are remembered at most.
const CACHE_CAP: usize = 1024;
/// How long a user's groups are trusted before being looked up again.
const CACHE_TTL: Duration = Duration::from_secs(60);

/// Whom a request's system calls run as, decided on the async side
/// (cheap: no lookup).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Who {
    /// The server's own credentials.
    Server,
    /// A host uid; the gid and groups come from the user database, or
    /// are fixed (`Squash`).
    User { uid: u32, fixed_gid: Option<u32> },
}

/// A user's host ids, as looked up.
#[derive(Debug)]
struct UserIds {
    gid: u32,
    groups: Vec<Gid>,
    at: Instant,
}

/// The switch: the server's own ids and a bounded cache of users' ids.
#[derive(Debug)]
pub(crate) struct Credentials {
    /// Whether requests switch at all.
    pub(crate) enabled: bool,
    server_uid: u32,
    server_gid: u32,
    server_groups: Vec<Gid>,
    cache: Mutex<HashMap<u32, Arc<UserIds>>>,
}

impl Credentials {
    /// Captures the server's ids (to restore after each request).
    pub(crate) fn new(enabled: bool) -> std::io::Result<Credentials> {
        let server_groups = if enabled {
            rustix::process::getgroups().map_err(std::io::Error::from)?
        } else {
            Vec::new()
        };
        Ok(Credentials {
            enabled,
            server_uid: rustix::process::geteuid().as_raw(),
            server_gid: rustix::process::getegid().as_raw(),
            server_groups,
            cache: Mutex::new(HashMap::new()),
        })
    }

    /// Whom `req` runs as: the server for uid 0 (after mapping), for a
    /// request without a numeric uid, or when switching is off.
    pub(crate) fn who(&self, map: &IdMap, req: &Request) -> Who {
        if !self.enabled {
            return Who::Server;
        }
        let Some(uid) = req.uid() else {
            return Who::Server;
        };
        match map {
            IdMap::Squash { uid, gid } if *uid != 0 => {
                Who::User { uid: *uid, fixed_gid: Some(*gid) }
            }
            IdMap::Squash { .. } => Who::Server,
            _ => match map.uid_to_host(uid) {
                0 => Who::Server,
                uid => Who::User { uid, fixed_gid: None },
            },
        }
    }

    /// A user's gid and groups if known without a lookup: fixed, or
    /// cached and fresh.
    fn known_ids(&self, uid: u32, fixed_gid: Option<u32>) -> Option<Arc<UserIds>> {
        if let Some(gid) = fixed_gid {
            return Some(Arc::new(UserIds { gid, groups: Vec::new(), at: Instant::now() }));
        }
        let cache = self.cache.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        cache.get(&uid).filter(|ids| ids.at.elapsed() < CACHE_TTL).cloned()
    }

    /// A user's gid and groups: known, else looked up (blocking). A uid
    /// the host does not know gets gid 65534 and no supplementary group.
    fn ids(&self, uid: u32, fixed_gid: Option<u32>) -> Arc<UserIds> {
        if let Some(ids) = self.known_ids(uid, fixed_gid) {
            return ids;
        }
        let ids = match sys::user_groups(uid) {
            Ok(Some((gid, groups))) => UserIds {
                gid,
                groups: groups.into_iter().map(Gid::from_raw).collect(),
                at: Instant::now(),
            },
            Ok(None) => UserIds { gid: OVERFLOW_ID, groups: Vec::new(), at: Instant::now() },
            Err(e) => {
                tracing::warn!(uid, error = %e, "passthrough: user database lookup failed; no groups");
                // Not cached: the next request looks up again.
                return Arc::new(UserIds {
                    gid: OVERFLOW_ID,
                    groups: Vec::new(),
                    at: Instant::now(),
                });
            }
        };
        let ids = Arc::new(ids);
        let mut cache = self.cache.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if cache.len() >= CACHE_CAP {
            cache.retain(|_, v| v.at.elapsed() < CACHE_TTL);
            if cache.len() >= CACHE_CAP {
                cache.clear();
            }
        }
        cache.insert(uid, ids.clone());
        ids
    }

    /// Switches the calling thread to `who` until the guard is dropped.
    /// Blocking (may look the user up). Must be called on the thread
    /// that runs the request's system calls, and the guard dropped there.
    pub(crate) fn enter(&self, who: Who) -> Result<Guard<'_>> {
        let Who::User { uid, fixed_gid } = who else {
            return Ok(Guard { creds: self, switched: false });
        };
        self.switch(uid, &self.ids(uid, fixed_gid))
    }

    /// Like [`enter`](Credentials::enter), without blocking: `None` when
    /// the user's ids would need a lookup in the user database (which may
    /// wait on the network), so the caller goes to the blocking pool. The
    /// switch itself is six system calls, switch and restore, against two
    /// thread wake-ups for a hand-off to the pool; it may run on a runtime
    /// thread as long as nothing is awaited until the guard is dropped.
    pub(crate) fn enter_known(&self, who: Who) -> Option<Result<Guard<'_>>> {
        let Who::User { uid, fixed_gid } = who else {
            return Some(Ok(Guard { creds: self, switched: false }));
        };
        let ids = self.known_ids(uid, fixed_gid)?;
        Some(self.switch(uid, &ids))
    }

    /// Switches the calling thread to `uid` with `ids`.
    fn switch(&self, uid: u32, ids: &UserIds) -> Result<Guard<'_>> {
        // From here on, whatever succeeded is undone by the guard.
        let guard = Guard { creds: self, switched: true };
        let fail = |what: &str, e: std::io::Error| {
            tracing::error!(uid, error = %e, "passthrough: cannot switch {what}");
            Errno::EPERM
        };
        rustix::thread::set_thread_groups(&ids.groups)
            .map_err(|e| fail("supplementary groups", e.into()))?;
        sys::set_fsgid(ids.gid).map_err(|e| fail("fsgid", e))?;
        sys::set_fsuid(uid).map_err(|e| fail("fsuid", e))?;
        Ok(guard)
    }

    /// The thread back to the server's ids (fsuid first: it restores the
    /// filesystem capabilities).
    fn restore(&self) -> std::io::Result<()> {
        sys::set_fsuid(self.server_uid)?;
        sys::set_fsgid(self.server_gid)?;
        rustix::thread::set_thread_groups(&self.server_groups)?;
        Ok(())
    }
}

/// Wears a user's credentials on this thread until dropped.
#[derive(Debug)]
pub(crate) struct Guard<'c> {
    creds: &'c Credentials,
    switched: bool,
}

impl Drop for Guard<'_> {
    fn drop(&mut self) {
        if self.switched {
            if let Err(e) = self.creds.restore() {
                // Serving another request with a user's ids would be
                // worse than stopping.
                tracing::error!(error = %e, "passthrough: cannot restore server credentials; aborting");
                std::process::abort();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_known_without_a_lookup_only_when_fixed_or_cached() {
        let creds = Credentials::new(false).expect("the server's own ids");
        // Squashed users have a fixed gid and no groups: nothing to look up.
        let fixed = creds.known_ids(4321, Some(99)).expect("a fixed gid is known");
        assert_eq!((fixed.gid, fixed.groups.len()), (99, 0));
        // Anyone else needs the user database once...
        assert!(creds.known_ids(4321, None).is_none());
        let looked_up = creds.ids(4321, None);
        // ...and is known after that, until the entry is stale.
        let known = creds.known_ids(4321, None).expect("cached after the lookup");
        assert_eq!(known.gid, looked_up.gid);
        creds
            .cache
            .lock()
            .unwrap()
            .insert(4321, Arc::new(UserIds { gid: 1, groups: Vec::new(), at: stale() }));
        assert!(creds.known_ids(4321, None).is_none(), "a stale entry is looked up again");
        // The server's own requests never switch, so never wait.
        let guard = creds.enter_known(Who::Server).expect("no lookup").expect("no switch");
        assert!(!guard.switched);
    }

    /// An instant older than the cache's time to live (or the oldest the
    /// clock has, on a host up for less than that).
    fn stale() -> Instant {
        let now = Instant::now();
        now.checked_sub(CACHE_TTL + Duration::from_secs(1))
            .unwrap_or_else(|| now.checked_sub(CACHE_TTL).unwrap_or(now))
    }
}
