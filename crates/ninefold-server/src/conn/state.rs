//! Per-connection protocol state, without I/O: the fid table, the tags in
//! flight and the flush ordering between them.
//!
//! Inputs are calls (`admit`, `flush`, `complete`, fid operations);
//! outputs are the replies to write, returned in the order they must hit
//! the wire. The driver holds this behind a mutex for a few instructions
//! at a time and never across a filesystem call.

use std::collections::HashMap;
use std::sync::Arc;

use ninefold_proto::{base, Errno, Message};
use tokio::sync::OwnedSemaphorePermit;
use tokio_util::sync::CancellationToken;

use crate::fid::Fid;

/// A reply ready to be written, with the admission permit it releases
/// once written.
#[derive(Debug)]
pub(crate) struct Reply {
    pub(crate) tag: u16,
    pub(crate) message: Message,
    pub(crate) permit: Option<OwnedSemaphorePermit>,
}

/// A protocol violation that ends the connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub(crate) enum Violation {
    /// A request reused a tag that is still in flight.
    #[error("tag {0} reused while in flight")]
    TagInUse(u16),
}

#[derive(Debug)]
struct Inflight {
    cancel: CancellationToken,
    /// Tflush tags waiting for this request, in arrival order.
    waiters: Vec<u16>,
    permit: Option<OwnedSemaphorePermit>,
}

#[derive(Debug)]
enum Slot {
    Bound(Arc<Fid>),
    /// Taken by a request that will bind it on success (Twalk newfid,
    /// Tattach fid, Txattrwalk newfid).
    Reserved,
}

/// The state of one connection.
#[derive(Debug)]
pub(crate) struct ConnState {
    fids: HashMap<u32, Slot>,
    inflight: HashMap<u16, Inflight>,
    max_fids: usize,
}

impl ConnState {
    pub(crate) fn new(max_fids: usize) -> ConnState {
        ConnState { fids: HashMap::new(), inflight: HashMap::new(), max_fids }
    }

    // ---- tags --------------------------------------------------------

    /// Registers a request; its tag must not be in flight.
    pub(crate) fn admit(
        &mut self,
        tag: u16,
        permit: Option<OwnedSemaphorePermit>,
    ) -> Result<CancellationToken, Violation> {
        if self.inflight.contains_key(&tag) {
            return Err(Violation::TagInUse(tag));
        }
        let cancel = CancellationToken::new();
        self.inflight.insert(tag, Inflight { cancel: cancel.clone(), waiters: Vec::new(), permit });
        Ok(cancel)
    }

    /// Whether `tag` is in flight.
    pub(crate) fn in_flight(&self, tag: u16) -> bool {
        self.inflight.contains_key(&tag)
    }

    /// Requests in flight (Tflush included).
    pub(crate) fn inflight_len(&self) -> usize {
        self.inflight.len()
    }

    /// Handles Tflush(`oldtag`) sent with tag `tag`. Replies with Rflush
    /// at once when `oldtag` is not in flight; otherwise cancels it and
    /// answers when it completes (see [`complete`](Self::complete)).
    pub(crate) fn flush(
        &mut self,
        tag: u16,
        oldtag: u16,
        permit: Option<OwnedSemaphorePermit>,
    ) -> Result<Vec<Reply>, Violation> {
        if self.inflight.contains_key(&tag) {
            return Err(Violation::TagInUse(tag));
        }
        match self.inflight.get_mut(&oldtag) {
            Some(target) if oldtag != tag => {
                target.cancel.cancel();
                target.waiters.push(tag);
                let cancel = CancellationToken::new();
                self.inflight.insert(tag, Inflight { cancel, waiters: Vec::new(), permit });
                Ok(Vec::new())
            }
            _ => Ok(vec![Reply { tag, message: base::Rflush.into(), permit }]),
        }
    }

    /// A request finished: `reply` is its answer, or `None` when it was
    /// abandoned after a flush. Returns what to write, in order: the reply
    /// first, then the Rflush of every flush waiting on it (and on those).
    pub(crate) fn complete(&mut self, tag: u16, reply: Option<Message>) -> Vec<Reply> {
        let mut out = Vec::new();
        self.complete_into(tag, reply, &mut out);
        out
    }

    fn complete_into(&mut self, tag: u16, reply: Option<Message>, out: &mut Vec<Reply>) {
        let Some(entry) = self.inflight.remove(&tag) else {
            return;
        };
        if let Some(message) = reply {
            out.push(Reply { tag, message, permit: entry.permit });
        }
        for waiter in entry.waiters {
            self.complete_into(waiter, Some(base::Rflush.into()), out);
        }
    }

    /// Cancels every request in flight (Tversion, shutdown, disconnect).
    pub(crate) fn cancel_all(&self) {
        for entry in self.inflight.values() {
            entry.cancel.cancel();
        }
    }

    // ---- fids --------------------------------------------------------

    /// The fid bound to `fid`.
    pub(crate) fn fid(&self, fid: u32) -> Result<Arc<Fid>, Errno> {
        match self.fids.get(&fid) {
            Some(Slot::Bound(f)) => Ok(f.clone()),
            _ => Err(Errno::EBADF),
        }
    }

    /// Number of fids bound or reserved.
    #[cfg(test)]
    pub(crate) fn fid_count(&self) -> usize {
        self.fids.len()
    }

    /// Reserves `fid` for a request that will bind it: EINVAL when in use,
    /// EMFILE at the fid limit.
    pub(crate) fn reserve(&mut self, fid: u32) -> Result<(), Errno> {
        if fid == ninefold_proto::NOFID || self.fids.contains_key(&fid) {
            return Err(Errno::EINVAL);
        }
        if self.fids.len() >= self.max_fids {
            return Err(Errno::EMFILE);
        }
        self.fids.insert(fid, Slot::Reserved);
        Ok(())
    }

    /// Binds a reserved (or existing) fid number to `f`, returning what
    /// it replaced.
    pub(crate) fn bind(&mut self, fid: u32, f: Arc<Fid>) -> Option<Arc<Fid>> {
        match self.fids.insert(fid, Slot::Bound(f)) {
            Some(Slot::Bound(old)) => Some(old),
            _ => None,
        }
    }

    /// Drops a reservation that was not bound.
    pub(crate) fn unreserve(&mut self, fid: u32) {
        if let Some(Slot::Reserved) = self.fids.get(&fid) {
            self.fids.remove(&fid);
        }
    }

    /// Unbinds `fid` (Tclunk, Tremove).
    pub(crate) fn remove(&mut self, fid: u32) -> Result<Arc<Fid>, Errno> {
        match self.fids.get(&fid) {
            Some(Slot::Bound(_)) => match self.fids.remove(&fid) {
                Some(Slot::Bound(f)) => Ok(f),
                _ => Err(Errno::EBADF),
            },
            _ => Err(Errno::EBADF),
        }
    }

    /// Unbinds every fid (Tversion, disconnect).
    pub(crate) fn take_all_fids(&mut self) -> Vec<(u32, Arc<Fid>)> {
        self.fids
            .drain()
            .filter_map(|(n, slot)| match slot {
                Slot::Bound(f) => Some((n, f)),
                Slot::Reserved => None,
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fid::Location;
    use crate::fs::Identity;
    use async_trait::async_trait;
    use bytes::Bytes;
    use ninefold_proto::{l, Qid};

    #[derive(Debug)]
    struct N;
    #[async_trait]
    impl crate::Node for N {
        fn qid(&self) -> Qid {
            Qid::default()
        }
    }

    fn fid() -> Arc<Fid> {
        Fid::new(Location::root(Arc::new(N)), Arc::new(Identity::root()), Bytes::new())
    }

    fn tags(replies: &[Reply]) -> Vec<(u16, &'static str)> {
        replies.iter().map(|r| (r.tag, r.message.name())).collect()
    }

    #[test]
    fn a_tag_in_flight_cannot_be_reused() {
        let mut s = ConnState::new(10);
        s.admit(1, None).unwrap();
        assert_eq!(s.admit(1, None).unwrap_err(), Violation::TagInUse(1));
        s.complete(1, Some(l::Rlerror { ecode: Errno::EIO }.into()));
        assert!(s.admit(1, None).is_ok());
    }

    #[test]
    fn flush_of_an_unknown_tag_answers_at_once() {
        let mut s = ConnState::new(10);
        let out = s.flush(5, 99, None).unwrap();
        assert_eq!(tags(&out), vec![(5, "Rflush")]);
        assert!(!s.in_flight(5));
    }

    #[test]
    fn rflush_follows_the_original_reply() {
        let mut s = ConnState::new(10);
        let token = s.admit(1, None).unwrap();
        assert!(s.flush(2, 1, None).unwrap().is_empty());
        assert!(token.is_cancelled());
        let out = s.complete(1, Some(base::Rclunk.into()));
        assert_eq!(tags(&out), vec![(1, "Rclunk"), (2, "Rflush")]);
        assert_eq!(s.inflight_len(), 0);
    }

    #[test]
    fn suppressed_reply_still_releases_flushes_in_order() {
        let mut s = ConnState::new(10);
        s.admit(1, None).unwrap();
        s.flush(2, 1, None).unwrap();
        s.flush(3, 1, None).unwrap();
        // A flush of the flush.
        s.flush(4, 2, None).unwrap();
        let out = s.complete(1, None);
        assert_eq!(tags(&out), vec![(2, "Rflush"), (4, "Rflush"), (3, "Rflush")]);
    }

    #[test]
    fn fids_are_reserved_bound_and_limited() {
        let mut s = ConnState::new(2);
        s.reserve(1).unwrap();
        assert_eq!(s.reserve(1), Err(Errno::EINVAL));
        assert_eq!(s.fid(1).unwrap_err(), Errno::EBADF);
        s.bind(1, fid());
        assert!(s.fid(1).is_ok());
        s.reserve(2).unwrap();
        assert_eq!(s.reserve(3), Err(Errno::EMFILE));
        s.unreserve(2);
        s.reserve(3).unwrap();
        assert!(s.remove(1).is_ok());
        assert_eq!(s.remove(1).unwrap_err(), Errno::EBADF);
        assert_eq!(s.fid_count(), 1);
    }
}
