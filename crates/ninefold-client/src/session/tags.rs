//! The tag table: which tags are in flight, who waits for each reply, and
//! which abandoned requests still hold their tag.

use std::collections::HashMap;

use ninefold_proto::{Frame, NOTAG};
use tokio::sync::{oneshot, OwnedSemaphorePermit};

use super::fid::Fid;
use crate::error::Error;

/// What a caller receives: the reply frame, or why there is none.
pub(crate) type Reply = Result<Frame, Error>;

/// Work left to do when an abandoned request settles.
#[derive(Debug)]
pub(crate) enum Settle {
    /// Nothing to clean up.
    Nothing,
    /// The request may bind `fid` (Twalk newfid, Tattach fid). Once its
    /// outcome is known the fid is clunked (if it may be bound) or simply
    /// released (if the reply proves it unbound).
    Bind {
        /// The fid the request binds.
        fid: Fid,
        /// Names walked (a shorter Rwalk leaves the fid unbound).
        wnames: usize,
    },
    /// The request (Tclunk, Tremove) releases `fid` once answered; if the
    /// outcome is unknown the fid is clunked again in the background.
    Clunked {
        /// The fid being clunked.
        fid: Fid,
    },
}

impl Settle {
    /// Finishes the clean-up with the reply, or `None` when the request was
    /// flushed or the connection died.
    pub(crate) fn run(self, reply: Option<&Frame>) {
        use ninefold_proto::Message;
        match self {
            Settle::Nothing => {}
            Settle::Bind { mut fid, wnames } => {
                let unbound = match reply.map(|f| &f.message) {
                    Some(Message::Rlerror(_)) | Some(Message::Rerror(_)) => true,
                    Some(Message::Rwalk(w)) => w.wqids.len() < wnames,
                    _ => false,
                };
                fid.set_bound(!unbound);
            }
            Settle::Clunked { mut fid } => fid.set_bound(reply.is_none()),
        }
    }
}

/// The state of one tag.
#[derive(Debug)]
pub(crate) enum Slot {
    /// A caller waits for the reply.
    Waiting { tx: oneshot::Sender<Reply>, _permit: Option<OwnedSemaphorePermit> },
    /// The caller gave up; a Tflush (with `flush_tag`, when one could be
    /// allocated) is on its way. The tag stays reserved.
    Abandoned { flush_tag: Option<u16>, settle: Settle, _permit: Option<OwnedSemaphorePermit> },
    /// The reply to an abandoned request arrived; the tag stays reserved
    /// until the Rflush of `flush_tag` does.
    Settled { flush_tag: u16, _permit: Option<OwnedSemaphorePermit> },
    /// This tag carries a Tflush of `oldtag`.
    Flush { oldtag: u16 },
}

/// Tags in use, and the next one to try.
#[derive(Debug, Default)]
pub(crate) struct TagTable {
    slots: HashMap<u16, Slot>,
    next: u16,
    /// The connection is gone: no new tags.
    pub(crate) dead: bool,
}

impl TagTable {
    /// Reserves a free tag for `slot`, or `None` when all 65535 are in use.
    pub(crate) fn insert(&mut self, slot: Slot) -> Option<u16> {
        if self.slots.len() >= usize::from(NOTAG) {
            return None;
        }
        loop {
            let tag = self.next;
            self.next = if self.next >= NOTAG - 1 { 0 } else { self.next + 1 };
            if tag != NOTAG && !self.slots.contains_key(&tag) {
                self.slots.insert(tag, slot);
                return Some(tag);
            }
        }
    }

    /// Removes and returns a tag's slot.
    pub(crate) fn remove(&mut self, tag: u16) -> Option<Slot> {
        self.slots.remove(&tag)
    }

    /// Puts a slot back under `tag`.
    pub(crate) fn put(&mut self, tag: u16, slot: Slot) {
        self.slots.insert(tag, slot);
    }

    /// Tags in use (waiting, abandoned, settling or flushing).
    pub(crate) fn len(&self) -> usize {
        self.slots.len()
    }

    /// Empties the table (the connection died).
    pub(crate) fn drain(&mut self) -> Vec<Slot> {
        self.slots.drain().map(|(_, s)| s).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_skip_notag_and_busy_and_run_out() {
        let mut t = TagTable::default();
        let flush = || Slot::Flush { oldtag: 0 };
        t.next = NOTAG - 2;
        assert_eq!(t.insert(flush()), Some(NOTAG - 2));
        assert_eq!(t.insert(flush()), Some(NOTAG - 1));
        assert_eq!(t.insert(flush()), Some(0), "wraps without handing out NOTAG");
        t.next = NOTAG - 1;
        assert_eq!(t.insert(flush()), Some(1), "skips tags in use");
        for _ in 4..usize::from(NOTAG) {
            assert!(t.insert(flush()).is_some());
        }
        assert_eq!(t.len(), usize::from(NOTAG));
        assert_eq!(t.insert(flush()), None, "all 65535 tags busy");
        assert!(t.remove(77).is_some());
        assert_eq!(t.insert(flush()), Some(77));
    }
}
