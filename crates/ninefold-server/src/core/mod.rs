//! The connection core: everything one 9P connection decides, with no
//! sockets, tasks or awaits. Frames go in ([`Core::receive`]), completed
//! requests go in ([`Core::complete`]); replies come out in the order they
//! must hit the wire, and admitted requests come out for the shell to run.
//!
//! It owns the negotiated dialect and msize, the [`Tags`] in flight with
//! their flush ordering, the [`FidTable`] with its reservations and busy
//! marks, and the admission rules, which read proto's
//! [`MessageFacts`](ninefold_proto::MessageFacts): which fields are fids
//! and in which role, whether the request ends its fid, whether it
//! carries a `.Z` envelope for the [`Ledger`].
//!
//! The shell ([`crate::shell`]) holds the core behind a mutex for a few
//! instructions at a time, never across a filesystem call.

mod fids;
mod tags;

use std::sync::Arc;

use bytes::Bytes;
use ninefold_proto::{base, Dialect, Errno, FidRole, Frame, Message, NOFID};
use tracing::debug;

use crate::error::ServeError;
use crate::fid::Fid;
use crate::fs::{ConnFacts, Identity, Request};
use crate::ledger::{Ledger, Verdict};
use crate::reply::{error_reply, Permit, Replies, Reply};
pub(crate) use fids::{FidTable, Marks};
pub(crate) use tags::{Tags, Violation};

/// The limits and choices the core applies.
#[derive(Debug, Clone)]
pub(crate) struct Limits {
    pub(crate) max_msize: u32,
    pub(crate) max_fids: usize,
    pub(crate) dialects: Vec<Dialect>,
}

/// What a received frame asks of the shell.
#[derive(Debug)]
pub(crate) enum Received {
    /// Write these replies now, in order (errors, an immediate Rflush);
    /// possibly none (a Tflush waiting for its target).
    Replies(Replies),
    /// A Tversion: cancel and drain what runs ([`Core::cancel_all`]),
    /// release the fids ([`Core::take_all_fids`]), then
    /// [`Core::negotiate`].
    Version { tag: u16, version: base::Tversion, permit: Permit },
    /// An admitted request to run.
    Run(Box<Admitted>),
}

/// A request that passed admission: its tag is in flight, its fids are
/// resolved and marked busy, its new fid (if any) is reserved.
#[derive(Debug)]
pub(crate) struct Admitted {
    pub(crate) message: Message,
    /// The context its filesystem calls get (identity, fid, tag,
    /// cancellation, envelope).
    pub(crate) request: Request,
    pub(crate) fid: Option<Arc<Fid>>,
    pub(crate) fid2: Option<Arc<Fid>>,
    /// The reserved new fid number, and whether it is the request's own
    /// fid (Twalk with newfid == fid replaces it).
    pub(crate) newfid: Option<(u32, bool)>,
    /// Busy marks on `fid` and `fid2`, dropped when the request ends.
    pub(crate) marks: Marks,
    /// Whether the request ended its fid on arrival (Tclunk, Tremove).
    pub(crate) ended_fid: bool,
    /// A `.Z` duplicate: answer from the ledger instead of running.
    pub(crate) replay: Option<Replay>,
}

/// How a `.Z` duplicate gets its outcome.
#[derive(Debug)]
pub(crate) enum Replay {
    /// Stored: a create that must still bind its fid.
    Stored(Arc<Message>),
    /// Still running elsewhere: wait for it (single-flight).
    Wait(tokio::sync::watch::Receiver<crate::ledger::Outcome>),
}

/// Whether replaying `reply` to `message` still has fid work to do: a
/// create whose new (or own) fid must name and open the created file.
fn binds_on_replay(message: &Message, reply: Option<&Message>) -> bool {
    let create = matches!(message, Message::Tlcreate(_) | Message::Tlcreateattr(_));
    create && reply.is_none_or(|r| matches!(r, Message::Rlcreate(_) | Message::Rlcreateattr(_)))
}

/// The state of one connection.
#[derive(Debug)]
pub(crate) struct Core {
    facts: Arc<ConnFacts>,
    negotiated: bool,
    limits: Limits,
    tags: Tags,
    fids: FidTable,
    ledger: Arc<dyn Ledger>,
}

impl Core {
    /// A connection that has not negotiated yet (it speaks 9P2000 until
    /// a Tversion agrees on a dialect).
    pub(crate) fn new(
        id: u64,
        peer: Arc<crate::Peer>,
        limits: Limits,
        ledger: Arc<dyn Ledger>,
    ) -> Core {
        let facts =
            Arc::new(ConnFacts { id, dialect: Dialect::Base, msize: limits.max_msize, peer });
        let fids = FidTable::new(limits.max_fids);
        Core { facts, negotiated: false, limits, tags: Tags::default(), fids, ledger }
    }

    /// The connection's dialect, msize, id and peer.
    pub(crate) fn facts(&self) -> &Arc<ConnFacts> {
        &self.facts
    }

    /// Requests in flight (Tflush included).
    pub(crate) fn inflight_len(&self) -> usize {
        self.tags.len()
    }

    // ---- frames in ---------------------------------------------------

    /// Takes one whole frame (already checked against msize by the
    /// framer). `permit` is the frame's share of the reply budget: it
    /// travels with the reply.
    pub(crate) fn receive(&mut self, raw: Bytes, permit: Permit) -> Result<Received, ServeError> {
        let dialect = self.facts.dialect;
        let frame = match Frame::decode(raw, dialect) {
            Ok(f) => f,
            Err(e) if e.is_fatal() => return Err(ServeError::Decode(e)),
            Err(e) => {
                let Some(tag) = e.tag() else { return Err(ServeError::Decode(e)) };
                debug!(conn = self.facts.id, tag, error = %e, "undecodable request");
                return self.answer(tag, error_reply(dialect, e.errno()), permit);
            }
        };
        let Frame { tag, envelope, message } = frame;
        if !message.is_request() {
            return self.answer(tag, error_reply(dialect, Errno::EINVAL), permit);
        }
        match message {
            Message::Tversion(version) => Ok(Received::Version { tag, version, permit }),
            _ if !self.negotiated => {
                let e = base::Rerror {
                    ename: "version not negotiated: send Tversion first".into(),
                    errno: Errno::EPROTO,
                };
                self.answer(tag, e.into(), permit)
            }
            Message::Tflush(f) => Ok(Received::Replies(self.tags.flush(tag, f.oldtag, permit)?)),
            message => self.admit(tag, envelope, message, permit),
        }
    }

    /// Answers a request that is not admitted: its tag must not be in
    /// flight.
    fn answer(&self, tag: u16, message: Message, permit: Permit) -> Result<Received, ServeError> {
        if self.tags.in_flight(tag) {
            return Err(Violation::TagInUse(tag).into());
        }
        Ok(Received::Replies(Replies::one(Reply::new(tag, message, permit))))
    }

    /// Admission, in arrival order: the tag, the ledger, the fids (by the
    /// roles proto declares for the message), then the tag goes in flight.
    fn admit(
        &mut self,
        tag: u16,
        envelope: Option<ninefold_proto::z::Envelope>,
        message: Message,
        permit: Permit,
    ) -> Result<Received, ServeError> {
        if self.tags.in_flight(tag) {
            return Err(Violation::TagInUse(tag).into());
        }
        // The ledger first: a duplicate is answered (or waits) instead of
        // running again; only the first attempt records an outcome.
        let mut replay = None;
        if let Some(env) = &envelope {
            match self.ledger.admit(env) {
                Verdict::Execute => {}
                Verdict::Answer(reply) if !binds_on_replay(&message, Some(&reply)) => {
                    return self.answer(tag, (*reply).clone(), permit);
                }
                Verdict::Answer(reply) => replay = Some(Replay::Stored(reply)),
                Verdict::Wait(rx) => replay = Some(Replay::Wait(rx)),
            }
        }
        let record = if replay.is_some() { None } else { envelope };
        let admitted = if replay.is_none() || binds_on_replay(&message, None) {
            match self.resolve(&message) {
                Ok(a) => a,
                Err(errno) => {
                    let reply = error_reply(self.facts.dialect, errno);
                    if let Some(env) = &record {
                        self.ledger.complete(env, Some(&reply));
                    }
                    return self.answer(tag, reply, permit);
                }
            }
        } else {
            Resolved::default()
        };
        let cancel = match self.tags.admit(tag, permit, record) {
            Ok(c) => c,
            Err(v) => {
                if let Some(env) = &record {
                    self.ledger.complete(env, None);
                }
                return Err(v.into());
            }
        };
        let mut run = self.admitted(tag, envelope, message, admitted, cancel);
        run.replay = replay;
        Ok(Received::Run(run))
    }

    /// Resolves the message's fids by role: existing fids are looked up
    /// and marked busy, a fid the message ends is unbound, a new fid is
    /// reserved.
    fn resolve(&mut self, message: &Message) -> Result<Resolved, Errno> {
        let facts = message.facts();
        let fids = message.fids();
        let mut r = Resolved::default();
        if let Some(n) = fids.fid {
            let f = if facts.ends_fid() {
                r.ended_fid = true;
                self.fids.remove(n)?
            } else {
                let (f, mark) = self.fids.use_busy(n)?;
                r.marks.push(mark);
                f
            };
            r.fid = Some(f);
        }
        if let Some(n) = fids.fid2 {
            let (f, mark) = match self.fids.use_busy(n) {
                Ok(x) => x,
                Err(e) => {
                    self.undo(&r, fids.fid);
                    return Err(e);
                }
            };
            r.marks.push(mark);
            r.fid2 = Some(f);
        }
        if let Some(n) = fids.newfid {
            let replaces = fids.fid == Some(n);
            if !replaces {
                if let Err(e) = self.fids.reserve(n) {
                    self.undo(&r, fids.fid);
                    return Err(e);
                }
            }
            r.newfid = Some((n, replaces));
        }
        debug_assert!(facts.fid_fields().iter().all(|(role, _)| match role {
            FidRole::Fid => fids.fid.is_some(),
            FidRole::Fid2 => fids.fid2.is_some(),
            FidRole::Newfid => fids.newfid.is_some(),
            _ => true,
        }));
        Ok(r)
    }

    /// Puts back a fid that a failed admission unbound.
    fn undo(&mut self, r: &Resolved, fid: Option<u32>) {
        if let (true, Some(f), Some(n)) = (r.ended_fid, &r.fid, fid) {
            self.fids.bind(n, f.clone());
        }
    }

    fn admitted(
        &self,
        tag: u16,
        envelope: Option<ninefold_proto::z::Envelope>,
        message: Message,
        r: Resolved,
        cancel: Arc<crate::fs::Flush>,
    ) -> Box<Admitted> {
        let (identity, aname) = match (&message, &r.fid) {
            (Message::Tattach(a), _) => (
                Arc::new(Identity::from_attach(a.uname.clone(), a.n_uname)),
                a.aname.clone().into_bytes(),
            ),
            (_, Some(f)) => (f.identity.clone(), f.aname.clone()),
            (_, None) => (Arc::new(Identity::default()), Bytes::new()),
        };
        let request = Request {
            conn: self.facts.clone(),
            identity,
            aname,
            fid: message.fids().primary().unwrap_or(NOFID),
            tag,
            cancel,
            envelope,
        };
        // Built in its box: an `Admitted` moved into one is a 424-byte copy.
        Box::new(Admitted {
            message,
            request,
            fid: r.fid,
            fid2: r.fid2,
            newfid: r.newfid,
            marks: r.marks,
            ended_fid: r.ended_fid,
            replay: None,
        })
    }

    // ---- completions in ----------------------------------------------

    /// Request `tag` finished with `reply` (`None`: suppressed after a
    /// flush). Writes the ledger for an enveloped request; returns the
    /// replies to write, in order (the reply, then the Rflushes waiting
    /// on it).
    #[inline]
    pub(crate) fn complete(&mut self, tag: u16, reply: Option<Message>) -> Replies {
        let done = self.tags.complete(tag, reply);
        if let Some(env) = &done.envelope {
            let reply = done.replies.first().filter(|r| r.tag == tag).map(|r| &r.message);
            self.ledger.complete(env, reply);
        }
        done.replies
    }

    // ---- fids --------------------------------------------------------

    /// The fid bound to `fid` (9P2000.u hard links name one in a string).
    pub(crate) fn fid(&self, fid: u32) -> Result<Arc<Fid>, Errno> {
        self.fids.get(fid)
    }

    /// Binds a reserved (or the request's own) fid number to `f`,
    /// returning the fid it replaced.
    pub(crate) fn bind(&mut self, fid: u32, f: Arc<Fid>) -> Option<Arc<Fid>> {
        self.fids.bind(fid, f)
    }

    /// Reserves an unused fid number (Tauth's afid, which admission does
    /// not resolve): EINVAL when in use, EMFILE at the fid limit.
    pub(crate) fn reserve(&mut self, fid: u32) -> Result<(), Errno> {
        self.fids.reserve(fid)
    }

    /// Drops a reservation that was not bound (the request failed).
    pub(crate) fn unreserve(&mut self, fid: u32) {
        self.fids.unreserve(fid);
    }

    // ---- reset -------------------------------------------------------

    /// Cancels every request in flight (Tversion, shutdown, disconnect).
    pub(crate) fn cancel_all(&self) {
        self.tags.cancel_all();
    }

    /// Unbinds every fid, for the shell to release.
    pub(crate) fn take_all_fids(&mut self) -> Vec<(u32, Arc<Fid>)> {
        self.fids.take_all()
    }

    /// Tversion, once the connection is drained and its fids released:
    /// negotiates msize and dialect and answers. Until a dialect is agreed
    /// the connection is back to unnegotiated 9P2000.
    pub(crate) fn negotiate(&mut self, tag: u16, v: &base::Tversion, permit: Permit) -> Reply {
        let (id, peer) = (self.facts.id, self.facts.peer.clone());
        let base_facts = |dialect, msize| ConnFacts { id, dialect, msize, peer: peer.clone() };
        self.facts = Arc::new(base_facts(Dialect::Base, self.limits.max_msize));
        self.negotiated = false;
        if tag != ninefold_proto::NOTAG {
            debug!(conn = self.facts.id, tag, "Tversion with a tag other than NOTAG");
        }
        let Some(msize) = ninefold_proto::sizes::negotiate_msize(v.msize, self.limits.max_msize)
        else {
            let ename = format!(
                "msize {} is below the minimum of {}",
                v.msize,
                ninefold_proto::sizes::MIN_MSIZE
            );
            let e = base::Rerror { ename: ename.into(), errno: Errno::EINVAL };
            return Reply::new(tag, e.into(), permit);
        };
        let message = match Dialect::negotiate(&v.version, &self.limits.dialects) {
            Some(dialect) => {
                self.facts = Arc::new(base_facts(dialect, msize));
                self.negotiated = true;
                debug!(conn = self.facts.id, %dialect, msize, "negotiated");
                base::Rversion { msize, version: dialect.version().into() }.into()
            }
            None => base::Rversion { msize, version: "unknown".into() }.into(),
        };
        Reply::new(tag, message, permit)
    }
}

/// The fids a request resolved at admission.
#[derive(Debug, Default)]
struct Resolved {
    fid: Option<Arc<Fid>>,
    fid2: Option<Arc<Fid>>,
    newfid: Option<(u32, bool)>,
    marks: Marks,
    ended_fid: bool,
}

impl From<Violation> for ServeError {
    fn from(v: Violation) -> ServeError {
        tracing::warn!(error = %v, "protocol violation, closing the connection");
        ServeError::Protocol(v.to_string())
    }
}

#[cfg(test)]
mod tests;
