//! The host descriptors each connection may hold through an export.
//!
//! Every node a client reaches (a walk, a create) holds an `O_PATH`
//! descriptor for as long as a fid names it or anything below it — the
//! server keeps each fid's ancestors for `..` — and every open fid holds
//! another. Without a bound, one connection walking a fid 20,000
//! directories deep pins 20,000 descriptors, until every client's opens
//! fail with EMFILE. So each connection (the server's connection id) gets
//! a budget: the node or handle past it answers EMFILE to that connection
//! alone, and each is given back when dropped. A node shared with another
//! fid still counts once for each connection that reached it: the
//! budget bounds what one connection can pin, a little conservatively.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError, Weak};

use ninefold_proto::Errno;
use ninefold_server::{Request, Result};

/// Refusals by every export of the process (for a metrics endpoint).
static REFUSED_TOTAL: AtomicU64 = AtomicU64::new(0);

/// Walks, creates and opens answered EMFILE at a connection's descriptor
/// budget, by every export of this process.
pub(crate) fn refused_total() -> u64 {
    REFUSED_TOTAL.load(Ordering::Relaxed)
}

/// Descriptors held by one connection.
#[derive(Debug, Default)]
struct ConnFds {
    held: AtomicUsize,
}

/// One descriptor charged to a connection, given back when dropped.
#[derive(Debug)]
pub(crate) struct FdCharge(Arc<ConnFds>);

impl Drop for FdCharge {
    fn drop(&mut self) {
        self.0.held.fetch_sub(1, Ordering::AcqRel);
    }
}

/// The budgets of every connection using an export.
#[derive(Debug)]
pub(crate) struct FdBudget {
    /// Descriptors per connection; `None`: unlimited.
    max: Option<usize>,
    conns: Mutex<Conns>,
    refused: AtomicU64,
}

#[derive(Debug, Default)]
struct Conns {
    map: HashMap<u64, Weak<ConnFds>>,
    /// Inserts until dead entries are swept.
    until_sweep: usize,
}

impl FdBudget {
    pub(crate) fn new(max: Option<usize>) -> FdBudget {
        FdBudget { max, conns: Mutex::default(), refused: AtomicU64::new(0) }
    }

    /// The budget per connection (`None`: unlimited).
    pub(crate) fn max(&self) -> Option<usize> {
        self.max
    }

    /// Requests refused (EMFILE) so far.
    pub(crate) fn refused(&self) -> u64 {
        self.refused.load(Ordering::Relaxed)
    }

    /// Charges one descriptor to `req`'s connection: EMFILE when it holds
    /// its budget already.
    pub(crate) fn charge(&self, req: &Request) -> Result<Option<FdCharge>> {
        let Some(max) = self.max else { return Ok(None) };
        let conn = {
            let mut conns = self.conns.lock().unwrap_or_else(PoisonError::into_inner);
            match conns.map.get(&req.conn_id()).and_then(Weak::upgrade) {
                Some(c) => c,
                None => {
                    let c = Arc::new(ConnFds::default());
                    conns.map.insert(req.conn_id(), Arc::downgrade(&c));
                    if conns.until_sweep == 0 {
                        conns.map.retain(|_, w| w.strong_count() > 0);
                        conns.until_sweep = conns.map.len().max(64);
                    } else {
                        conns.until_sweep -= 1;
                    }
                    c
                }
            }
        };
        if conn.held.fetch_add(1, Ordering::AcqRel) >= max {
            conn.held.fetch_sub(1, Ordering::AcqRel);
            REFUSED_TOTAL.fetch_add(1, Ordering::Relaxed);
            let n = self.refused.fetch_add(1, Ordering::Relaxed);
            if n.is_power_of_two() {
                tracing::warn!(
                    conn = req.conn_id(),
                    remote = req.remote_addr().unwrap_or("-"),
                    max,
                    refused = n + 1,
                    "passthrough: connection at its descriptor budget, answering EMFILE"
                );
            }
            return Err(Errno::EMFILE);
        }
        Ok(Some(FdCharge(conn)))
    }
}

/// The default budget: half the soft descriptor limit (after it was
/// raised), at least 256: one connection alone cannot run the server
/// out, and the kernel client's single connection keeps room for every
/// dentry it caches.
pub(crate) fn default_budget() -> usize {
    let limit = rustix::process::getrlimit(rustix::process::Resource::Nofile).current;
    let limit = limit.map_or(usize::MAX, |l| usize::try_from(l).unwrap_or(usize::MAX));
    (limit / 2).max(256)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ninefold_server::Identity;

    #[test]
    fn a_connection_past_its_budget_gets_emfile_others_do_not() {
        let b = FdBudget::new(Some(2));
        let one = Request::new(Identity::root()).with_conn_id(1);
        let two = Request::new(Identity::root()).with_conn_id(2);
        let a = b.charge(&one).unwrap();
        let _b = b.charge(&one).unwrap();
        assert_eq!(b.charge(&one).err(), Some(Errno::EMFILE));
        assert!(b.charge(&two).unwrap().is_some());
        drop(a);
        assert!(b.charge(&one).unwrap().is_some());
        assert_eq!(b.refused(), 1);
    }
}
