//! The tags in flight on one connection and the flush ordering between
//! them: Rflush never goes out before the reply of the request it flushed
//! (or that reply's suppression), and flushes of flushes unwind in order.

use std::collections::HashMap;
use std::hash::{BuildHasher, Hasher};

use ninefold_proto::z::Envelope;
use ninefold_proto::{base, Message};
use std::sync::Arc;

use crate::fs::Flush;

use crate::reply::{Permit, Replies, Reply};

/// A protocol violation that ends the connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub(crate) enum Violation {
    /// A request reused a tag that is still in flight.
    #[error("tag {0} reused while in flight")]
    TagInUse(u16),
}

#[derive(Debug)]
struct Inflight {
    cancel: Arc<Flush>,
    /// Tflush tags waiting for this request, in arrival order.
    waiters: Vec<u16>,
    permit: Permit,
    /// The `.Z` envelope, for the ledger at completion.
    envelope: Option<Envelope>,
}

/// A request whose tag has just completed, and its envelope.
#[derive(Debug)]
pub(crate) struct Completed {
    pub(crate) replies: Replies,
    pub(crate) envelope: Option<Envelope>,
}

/// The tags of one connection.
#[derive(Debug, Default)]
pub(crate) struct Tags {
    inflight: HashMap<u16, Inflight, TagHash>,
}

/// Tags are hashed with one multiplication instead of SipHash (two of
/// three table operations per request): the table is bounded by the
/// connection's reply budget, so a client that picks colliding tags only
/// slows its own lookups, by a bounded amount.
#[derive(Debug, Default, Clone, Copy)]
struct TagHash;

impl BuildHasher for TagHash {
    type Hasher = TagHasher;

    fn build_hasher(&self) -> TagHasher {
        TagHasher(0)
    }
}

/// The hasher of [`TagHash`].
#[derive(Debug)]
struct TagHasher(u64);

impl Hasher for TagHasher {
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(b);
        }
    }

    fn write_u16(&mut self, n: u16) {
        self.0 = u64::from(n);
    }

    fn finish(&self) -> u64 {
        // Fibonacci hashing; the fold brings the well-mixed high bits down
        // to the low ones the table indexes with.
        let h = self.0.wrapping_mul(0x9E37_79B9_7F4A_7C15);
        h ^ (h >> 29)
    }
}

impl Tags {
    /// Registers a request; its tag must not be in flight.
    pub(crate) fn admit(
        &mut self,
        tag: u16,
        permit: Permit,
        envelope: Option<Envelope>,
    ) -> Result<Arc<Flush>, Violation> {
        if self.inflight.contains_key(&tag) {
            return Err(Violation::TagInUse(tag));
        }
        let cancel = Arc::new(Flush::default());
        let entry = Inflight { cancel: cancel.clone(), waiters: Vec::new(), permit, envelope };
        self.inflight.insert(tag, entry);
        Ok(cancel)
    }

    /// Whether `tag` is in flight.
    pub(crate) fn in_flight(&self, tag: u16) -> bool {
        self.inflight.contains_key(&tag)
    }

    /// Requests in flight (Tflush included).
    pub(crate) fn len(&self) -> usize {
        self.inflight.len()
    }

    /// Tflush(`oldtag`) sent with tag `tag`. Answers Rflush at once when
    /// `oldtag` is not in flight; otherwise cancels it and answers when it
    /// completes (see [`complete`](Self::complete)).
    pub(crate) fn flush(
        &mut self,
        tag: u16,
        oldtag: u16,
        permit: Permit,
    ) -> Result<Replies, Violation> {
        if self.inflight.contains_key(&tag) {
            return Err(Violation::TagInUse(tag));
        }
        match self.inflight.get_mut(&oldtag) {
            Some(target) if oldtag != tag => {
                target.cancel.cancel();
                target.waiters.push(tag);
                let entry = Inflight {
                    cancel: Arc::default(),
                    waiters: Vec::new(),
                    permit,
                    envelope: None,
                };
                self.inflight.insert(tag, entry);
                Ok(Replies::None)
            }
            _ => Ok(Replies::one(Reply::new(tag, base::Rflush.into(), permit))),
        }
    }

    /// A request finished: `reply` is its answer, or `None` when it was
    /// abandoned after a flush. Returns what to write, in order: the reply
    /// first, then the Rflush of every flush waiting on it (and, depth
    /// first, on those). No recursion: a chain of flushes of flushes is as
    /// long as the client makes it.
    #[inline]
    pub(crate) fn complete(&mut self, tag: u16, reply: Option<Message>) -> Completed {
        let Some(entry) = self.inflight.remove(&tag) else {
            return Completed { replies: Replies::None, envelope: None };
        };
        let envelope = entry.envelope;
        let mut replies = match reply {
            Some(message) => Replies::One(Reply::new(tag, message, entry.permit)),
            None => Replies::None,
        };
        if entry.waiters.is_empty() {
            return Completed { replies, envelope };
        }
        // Flushes still to answer, the next one on top.
        let mut pending: Vec<u16> = entry.waiters.into_iter().rev().collect();
        while let Some(waiter) = pending.pop() {
            if let Some(entry) = self.inflight.remove(&waiter) {
                replies.push(Reply::new(waiter, base::Rflush.into(), entry.permit));
                pending.extend(entry.waiters.into_iter().rev());
            }
        }
        Completed { replies, envelope }
    }

    /// Cancels every request in flight (Tversion, shutdown, disconnect).
    pub(crate) fn cancel_all(&self) {
        for entry in self.inflight.values() {
            entry.cancel.cancel();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ninefold_proto::{l, Errno};

    fn tags(replies: &[Reply]) -> Vec<(u16, &'static str)> {
        replies.iter().map(|r| (r.tag, r.message.name())).collect()
    }

    #[test]
    fn a_tag_in_flight_cannot_be_reused() {
        let mut s = Tags::default();
        s.admit(1, None, None).unwrap();
        assert_eq!(s.admit(1, None, None).unwrap_err(), Violation::TagInUse(1));
        s.complete(1, Some(l::Rlerror { ecode: Errno::EIO }.into()));
        assert!(s.admit(1, None, None).is_ok());
    }

    #[test]
    fn flush_of_an_unknown_tag_answers_at_once() {
        let mut s = Tags::default();
        let out = s.flush(5, 99, None).unwrap();
        assert_eq!(tags(&out), vec![(5, "Rflush")]);
        assert!(!s.in_flight(5));
    }

    #[test]
    fn rflush_follows_the_original_reply() {
        let mut s = Tags::default();
        let token = s.admit(1, None, None).unwrap();
        assert!(s.flush(2, 1, None).unwrap().is_empty());
        assert!(token.is_cancelled());
        let out = s.complete(1, Some(base::Rclunk.into())).replies;
        assert_eq!(tags(&out), vec![(1, "Rclunk"), (2, "Rflush")]);
        assert_eq!(s.len(), 0);
    }

    #[test]
    fn suppressed_reply_still_releases_flushes_in_order() {
        let mut s = Tags::default();
        s.admit(1, None, None).unwrap();
        s.flush(2, 1, None).unwrap();
        s.flush(3, 1, None).unwrap();
        // A flush of the flush.
        s.flush(4, 2, None).unwrap();
        let out = s.complete(1, None).replies;
        assert_eq!(tags(&out), vec![(2, "Rflush"), (4, "Rflush"), (3, "Rflush")]);
    }

    #[test]
    fn tag_hashes_spread_over_low_and_high_bits() {
        let hash = |t: u16| {
            let mut h = TagHash.build_hasher();
            h.write_u16(t);
            h.finish()
        };
        let low: std::collections::HashSet<u64> = (0..256).map(|t| hash(t << 8) & 0xff).collect();
        let high: std::collections::HashSet<u64> = (0..256).map(|t| hash(t) >> 57).collect();
        assert!(low.len() > 128, "{}", low.len());
        assert!(high.len() > 64, "{}", high.len());
    }

    #[test]
    fn a_chain_of_60000_flushes_of_flushes_completes_on_a_small_stack() {
        std::thread::Builder::new()
            .stack_size(2 << 20)
            .spawn(|| {
                let mut s = Tags::default();
                s.admit(0, None, None).unwrap();
                for tag in 1..=60_000u16 {
                    assert!(s.flush(tag, tag - 1, None).unwrap().is_empty());
                }
                let out = s.complete(0, Some(base::Rclunk.into())).replies;
                assert_eq!(out.len(), 60_001);
                assert!(out.iter().enumerate().all(|(i, r)| r.tag == i as u16));
                assert_eq!(s.len(), 0);
            })
            .unwrap()
            .join()
            .unwrap();
    }
}
