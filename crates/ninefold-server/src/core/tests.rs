//! The core driven with frames in and replies out: no sockets, no tasks.

use std::sync::Mutex;

use async_trait::async_trait;
use bytes::BytesMut;
use ninefold_proto::z::Envelope;
use ninefold_proto::{l, EnvelopeFlags, Qid, NOTAG};

use super::*;
use crate::fid::Location;

#[derive(Debug)]
struct Leaf;

#[async_trait]
impl crate::Node for Leaf {
    fn qid(&self) -> Qid {
        Qid::default()
    }
}

/// Records what the core asks of its ledger; answers `answer` once.
#[derive(Debug, Default)]
struct Recorder {
    admitted: Mutex<Vec<[u8; 16]>>,
    completed: Mutex<Vec<([u8; 16], Option<&'static str>)>>,
    answer: Mutex<Option<Message>>,
}

impl Ledger for Recorder {
    fn admit(&self, envelope: &Envelope) -> Verdict {
        self.admitted.lock().unwrap().push(envelope.op_id);
        match self.answer.lock().unwrap().take() {
            Some(m) => Verdict::Answer(Arc::new(m)),
            None => Verdict::Execute,
        }
    }
    fn complete(&self, envelope: &Envelope, reply: Option<&Message>) {
        self.completed.lock().unwrap().push((envelope.op_id, reply.map(Message::name)));
    }
}

fn core_with(ledger: Arc<dyn Ledger>) -> Core {
    let limits = Limits { max_msize: 65536, max_fids: 3, dialects: Dialect::ALL.to_vec() };
    Core::new(1, Arc::default(), limits, ledger)
}

fn core() -> Core {
    core_with(Arc::new(crate::ledger::NoLedger))
}

fn frame_in(core: &Core, frame: Frame) -> Bytes {
    let mut out = BytesMut::new();
    frame.encode(core.facts().dialect, &mut out).unwrap();
    out.freeze()
}

/// Feeds one frame; returns what came out.
fn feed(core: &mut Core, tag: u16, msg: impl Into<Message>) -> Received {
    let raw = frame_in(core, Frame::new(tag, msg));
    core.receive(raw, None).unwrap()
}

fn replies(r: Received) -> Vec<(u16, Message)> {
    match r {
        Received::Replies(out) => out.into_iter().map(|r| (r.tag, r.message)).collect(),
        other => panic!("expected replies, got {other:?}"),
    }
}

fn admitted(r: Received) -> Admitted {
    match r {
        Received::Run(a) => *a,
        other => panic!("expected an admitted request, got {other:?}"),
    }
}

fn negotiate(core: &mut Core, version: &str) -> Message {
    let v = base::Tversion { msize: 8192, version: version.into() };
    match feed(core, NOTAG, v) {
        Received::Version { tag, version, permit } => {
            core.cancel_all();
            drop(core.take_all_fids());
            core.negotiate(tag, &version, permit).message
        }
        other => panic!("expected Tversion, got {other:?}"),
    }
}

/// Attaches fid `fid` as the shell and the attach operation would.
fn attach(core: &mut Core, fid: u32) {
    let a = base::Tattach { fid, afid: NOFID, uname: "u".into(), aname: "".into(), n_uname: 7 };
    let a = admitted(feed(core, 1, a));
    assert_eq!(a.newfid, Some((fid, false)));
    assert_eq!(a.request.uid(), Some(7));
    let f = Fid::new(Location::root(Arc::new(Leaf)), a.request.identity.clone(), Bytes::new());
    assert!(core.bind(fid, f).is_none());
    assert!(core.complete(1, Some(base::Rattach { qid: Qid::default() }.into())).len() == 1);
}

#[test]
fn requests_before_tversion_are_refused_and_tversion_negotiates() {
    let mut c = core();
    let out = replies(feed(&mut c, 3, base::Tclunk { fid: 0 }));
    assert!(matches!(&out[..], [(3, Message::Rerror(_))]), "{out:?}");
    match negotiate(&mut c, "9P2000.L.Google") {
        Message::Rversion(v) => {
            assert_eq!(v.version.as_bytes(), b"9P2000.L");
            assert_eq!(v.msize, 8192);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(c.facts().dialect, Dialect::L);
    match negotiate(&mut c, "9P3000") {
        Message::Rversion(v) => assert_eq!(v.version.as_bytes(), b"unknown"),
        other => panic!("{other:?}"),
    }
    // Back to unnegotiated.
    let out = replies(feed(&mut c, 3, base::Tclunk { fid: 0 }));
    assert!(matches!(&out[..], [(3, Message::Rerror(_))]));
}

#[test]
fn admission_resolves_fids_by_their_declared_roles() {
    let mut c = core();
    negotiate(&mut c, "9P2000.L");
    attach(&mut c, 0);
    // Twalk: fid used (busy), newfid reserved.
    let walk = base::Twalk { fid: 0, newfid: 1, wnames: vec![] };
    let a = admitted(feed(&mut c, 2, walk));
    assert!(a.fid.is_some() && a.fid2.is_none());
    assert_eq!(a.newfid, Some((1, false)));
    assert_eq!(a.marks.len(), 1);
    assert_eq!(a.request.fid(), 0);
    // The reserved number is taken until bound or released.
    let again = base::Twalk { fid: 0, newfid: 1, wnames: vec![] };
    let out = replies(feed(&mut c, 3, again));
    assert!(matches!(&out[..], [(3, Message::Rlerror(e))] if e.ecode == Errno::EINVAL));
    c.unreserve(1);
    c.complete(2, Some(base::Rwalk { wqids: vec![] }.into()));
    // Tlink: two existing fids; an unknown second fid is EBADF.
    let link = l::Tlink { dfid: 0, fid: 9, name: "n".into() };
    let out = replies(feed(&mut c, 4, link));
    assert!(matches!(&out[..], [(4, Message::Rlerror(e))] if e.ecode == Errno::EBADF));
}

#[test]
fn clunk_unbinds_on_arrival_and_a_clunked_fid_is_gone() {
    let mut c = core();
    negotiate(&mut c, "9P2000.L");
    attach(&mut c, 0);
    let a = admitted(feed(&mut c, 2, base::Tclunk { fid: 0 }));
    assert!(a.ended_fid && a.fid.is_some());
    let out = replies(feed(&mut c, 3, l::Tgetattr { fid: 0, request_mask: Default::default() }));
    assert!(matches!(&out[..], [(3, Message::Rlerror(e))] if e.ecode == Errno::EBADF));
}

#[test]
fn the_fid_limit_answers_emfile() {
    let mut c = core();
    negotiate(&mut c, "9P2000.L");
    for fid in 0..3 {
        attach(&mut c, fid);
    }
    let a = base::Tattach { fid: 3, afid: NOFID, uname: "".into(), aname: "".into(), n_uname: 0 };
    let out = replies(feed(&mut c, 1, a));
    assert!(matches!(&out[..], [(1, Message::Rlerror(e))] if e.ecode == Errno::EMFILE));
}

#[test]
fn a_tag_in_flight_reused_ends_the_connection() {
    let mut c = core();
    negotiate(&mut c, "9P2000.L");
    attach(&mut c, 0);
    admitted(feed(&mut c, 5, l::Tgetattr { fid: 0, request_mask: Default::default() }));
    let raw = frame_in(&c, Frame::new(5, l::Tgetattr { fid: 0, request_mask: Default::default() }));
    assert!(matches!(c.receive(raw, None), Err(ServeError::Protocol(_))));
}

#[test]
fn flush_ordering_through_frames() {
    let mut c = core();
    negotiate(&mut c, "9P2000.L");
    attach(&mut c, 0);
    let a = admitted(feed(&mut c, 10, l::Tgetattr { fid: 0, request_mask: Default::default() }));
    assert!(replies(feed(&mut c, 11, base::Tflush { oldtag: 10 })).is_empty());
    assert!(a.request.is_cancelled());
    // A flush of an unknown tag is answered at once.
    let out = replies(feed(&mut c, 12, base::Tflush { oldtag: 99 }));
    assert!(matches!(&out[..], [(12, Message::Rflush(_))]));
    let out = c.complete(10, None);
    let tags: Vec<(u16, &str)> = out.iter().map(|r| (r.tag, r.message.name())).collect();
    assert_eq!(tags, [(11, "Rflush")]);
    assert_eq!(c.inflight_len(), 0);
}

#[test]
fn undecodable_frames_and_replies_sent_as_requests_get_errors() {
    let mut c = core();
    negotiate(&mut c, "9P2000.L");
    let mut raw = frame_in(&c, Frame::new(4, base::Tread { fid: 0, offset: 0, count: 1 })).to_vec();
    raw.truncate(raw.len() - 2);
    let len = raw.len() as u32;
    raw[..4].copy_from_slice(&len.to_le_bytes());
    let out = replies(c.receive(Bytes::from(raw), None).unwrap());
    assert!(matches!(&out[..], [(4, Message::Rlerror(_))]));
    let out = replies(feed(&mut c, 6, base::Rclunk));
    assert!(matches!(&out[..], [(6, Message::Rlerror(e))] if e.ecode == Errno::EINVAL));
}

#[test]
fn the_ledger_sees_the_envelope_at_admission_and_completion() {
    let ledger = Arc::new(Recorder::default());
    let mut c = core_with(ledger.clone());
    negotiate(&mut c, "9P2000.L.Z");
    attach(&mut c, 0);
    let env = Envelope { op_id: [7; 16], flags: EnvelopeFlags::empty(), origin_writer_epoch: 0 };
    let mkdir = l::Tmkdir { dfid: 0, name: "d".into(), mode: 0o755, gid: 0 };
    let raw = frame_in(&c, Frame::new(2, mkdir.clone()).with_envelope(env));
    let a = admitted(c.receive(raw, None).unwrap());
    assert_eq!(a.request.envelope(), Some(&env), "operations and middleware see it");
    c.complete(2, Some(l::Rmkdir { qid: Qid::default() }.into()));
    assert_eq!(*ledger.admitted.lock().unwrap(), [[7; 16]]);
    assert_eq!(*ledger.completed.lock().unwrap(), [([7; 16], Some("Rmkdir"))]);

    // A verdict answers without admitting (nothing runs, no completion).
    *ledger.answer.lock().unwrap() = Some(l::Rmkdir { qid: Qid::default() }.into());
    let retry = Envelope { flags: EnvelopeFlags::RETRY, ..env };
    let raw = frame_in(&c, Frame::new(3, mkdir).with_envelope(retry));
    let out = replies(c.receive(raw, None).unwrap());
    assert!(matches!(&out[..], [(3, Message::Rmkdir(_))]));
    assert_eq!(c.inflight_len(), 0);
    assert_eq!(ledger.completed.lock().unwrap().len(), 1);

    // Requests without an envelope never reach the ledger.
    admitted(feed(&mut c, 4, l::Tgetattr { fid: 0, request_mask: Default::default() }));
    assert_eq!(ledger.admitted.lock().unwrap().len(), 2);
}

fn z_core() -> (Core, Arc<crate::ledger::MemLedger>) {
    let metrics = Arc::new(crate::metrics::Metrics::default());
    let ledger = Arc::new(crate::ledger::MemLedger::new(crate::LedgerConfig::default(), metrics));
    let mut c = core_with(ledger.clone());
    negotiate(&mut c, "9P2000.L.Z");
    attach(&mut c, 0);
    (c, ledger)
}

fn enveloped(c: &mut Core, tag: u16, env: Envelope, msg: impl Into<Message>) -> Received {
    let raw = frame_in(c, Frame::new(tag, msg).with_envelope(env));
    c.receive(raw, None).unwrap()
}

#[test]
fn a_duplicate_of_a_running_op_waits_then_replays() {
    let (mut c, ledger) = z_core();
    let env = Envelope { op_id: [1; 16], flags: EnvelopeFlags::empty(), origin_writer_epoch: 0 };
    let mkdir = l::Tmkdir { dfid: 0, name: "d".into(), mode: 0o755, gid: 0 };
    let first = admitted(enveloped(&mut c, 2, env, mkdir.clone()));
    assert!(first.replay.is_none());
    // The same op id again (a RETRY on another frame) while it runs.
    let retry = Envelope { flags: EnvelopeFlags::RETRY, ..env };
    let dup = admitted(enveloped(&mut c, 3, retry, mkdir.clone()));
    let Some(Replay::Wait(mut rx)) = dup.replay else { panic!("expected a wait") };
    assert!(rx.borrow().is_none());
    let qid = Qid { path: 42, ..Qid::default() };
    c.complete(2, Some(l::Rmkdir { qid }.into()));
    assert_eq!(rx.borrow_and_update().as_deref(), Some(&l::Rmkdir { qid }.into()));
    // Completing the waiting duplicate records nothing new.
    c.complete(3, Some(l::Rmkdir { qid }.into()));
    // Later duplicates are answered at once, errors and all.
    let out = replies(enveloped(&mut c, 4, retry, mkdir));
    assert!(matches!(&out[..], [(4, Message::Rmkdir(r))] if r.qid.path == 42));
    let s = ledger.stats();
    assert_eq!((s.entries, s.waits, s.replays), (1, 1, 1));
}

#[test]
fn unknown_retries_bad_flags_and_zero_ids_fail_closed() {
    let (mut c, ledger) = z_core();
    let mkdir = l::Tmkdir { dfid: 0, name: "d".into(), mode: 0o755, gid: 0 };
    let stale = |out: Vec<(u16, Message)>| matches!(&out[..], [(_, Message::Rlerror(e))] if e.ecode == ninefold_proto::z::EOPIDSTALE);
    let retry = Envelope { op_id: [9; 16], flags: EnvelopeFlags::RETRY, origin_writer_epoch: 0 };
    assert!(stale(replies(enveloped(&mut c, 2, retry, mkdir.clone()))));
    let bad = Envelope { flags: EnvelopeFlags::from_bits_retain(0x02), ..retry };
    assert!(stale(replies(enveloped(&mut c, 2, bad, mkdir.clone()))));
    let zero_retry = Envelope { op_id: [0; 16], ..retry };
    assert!(stale(replies(enveloped(&mut c, 2, zero_retry, mkdir.clone()))));
    // A zero op id without RETRY runs, untracked.
    let zero = Envelope::NONE;
    admitted(enveloped(&mut c, 2, zero, mkdir));
    c.complete(2, Some(l::Rmkdir { qid: Qid::default() }.into()));
    let s = ledger.stats();
    assert_eq!((s.entries, s.stale), (0, 3));
}

#[test]
fn an_admission_error_is_the_recorded_outcome() {
    let (mut c, _) = z_core();
    let env = Envelope { op_id: [5; 16], flags: EnvelopeFlags::empty(), origin_writer_epoch: 0 };
    // fid 9 is not bound: EBADF, recorded, and replayed to the retry.
    let mkdir = l::Tmkdir { dfid: 9, name: "d".into(), mode: 0o755, gid: 0 };
    let out = replies(enveloped(&mut c, 2, env, mkdir.clone()));
    assert!(matches!(&out[..], [(2, Message::Rlerror(e))] if e.ecode == Errno::EBADF));
    let retry = Envelope { flags: EnvelopeFlags::RETRY, ..env };
    let out = replies(enveloped(&mut c, 3, retry, mkdir));
    assert!(matches!(&out[..], [(3, Message::Rlerror(e))] if e.ecode == Errno::EBADF));
}

#[test]
fn a_suppressed_first_attempt_leaves_waiters_and_retries_stale() {
    let (mut c, _) = z_core();
    let env = Envelope { op_id: [6; 16], flags: EnvelopeFlags::empty(), origin_writer_epoch: 0 };
    let mkdir = l::Tmkdir { dfid: 0, name: "d".into(), mode: 0o755, gid: 0 };
    admitted(enveloped(&mut c, 2, env, mkdir.clone()));
    let retry = Envelope { flags: EnvelopeFlags::RETRY, ..env };
    let dup = admitted(enveloped(&mut c, 3, retry, mkdir.clone()));
    let Some(Replay::Wait(rx)) = dup.replay else { panic!() };
    c.complete(2, None);
    assert!(rx.has_changed().is_err(), "the waiter learns it will get no outcome");
    c.complete(3, None);
    let out = replies(enveloped(&mut c, 4, retry, mkdir));
    assert!(
        matches!(&out[..], [(4, Message::Rlerror(e))] if e.ecode == ninefold_proto::z::EOPIDSTALE)
    );
}

#[test]
fn a_replayed_create_still_binds_its_fid() {
    let (mut c, _) = z_core();
    let env = Envelope { op_id: [4; 16], flags: EnvelopeFlags::empty(), origin_writer_epoch: 0 };
    let create = ninefold_proto::z::Tlcreateattr {
        dfid: 0,
        newfid: 1,
        name: "f".into(),
        flags: ninefold_proto::OpenFlags::RDWR,
        mode: 0o644,
        gid: 0,
    };
    let first = admitted(enveloped(&mut c, 2, env, create.clone()));
    assert_eq!(first.newfid, Some((1, false)));
    let reply = ninefold_proto::z::Rlcreateattr { iounit: 0, attr: Default::default() };
    c.complete(2, Some(reply.into()));
    drop(first);
    c.unreserve(1);
    let retry = Envelope { flags: EnvelopeFlags::RETRY, ..env };
    let dup = admitted(enveloped(&mut c, 3, retry, create));
    assert!(matches!(dup.replay, Some(Replay::Stored(_))));
    assert_eq!(dup.newfid, Some((1, false)), "the new fid is reserved for the replay");
}
