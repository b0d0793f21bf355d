//! The 9P2000.L.Z exactly-once ledger on the wire: replays across
//! connections, fail-closed retries, single-flight, and a restart with a
//! state directory.

mod support;
mod zsupport;

use std::sync::atomic::Ordering;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use ninefold_proto::l::SetAttr;
use ninefold_proto::z::{Envelope, EOPIDSTALE};
use ninefold_proto::{
    base, l, z, Dialect, EnvelopeFlags, Frame, Message, OpenFlags, SetattrMask, S_IFDIR, S_IFREG,
};
use zsupport::{errno, op, retry, serve_memfs, Z};

fn names(w: &[&str]) -> Vec<ninefold_proto::P9String> {
    w.iter().map(|n| (*n).into()).collect()
}

async fn count_entries(c: &mut Z, fid: u32) -> usize {
    let r = c.rpc(z::Tlopenat { fid: 0, newfid: fid, flags: OpenFlags::RDONLY }).await;
    assert!(matches!(r, Message::Rlopenat(_)), "{r:?}");
    let mut n = 0;
    let mut offset = 0;
    loop {
        let Message::Rreaddir(d) = c.rpc(l::Treaddir { fid, offset, count: 8000 }).await else {
            panic!()
        };
        if d.data.is_empty() {
            break;
        }
        for e in d.data.iter() {
            offset = e.offset;
            n += 1;
        }
    }
    c.rpc(base::Tclunk { fid }).await;
    n
}

#[tokio::test]
async fn a_replayed_mkdirattr_answers_the_original_and_makes_nothing() {
    let s = serve_memfs(|b| b).await;
    let mut c1 = Z::attached(s.addr, Dialect::Z).await;
    let mk = z::Tmkdirattr { dfid: 0, name: "d".into(), mode: S_IFDIR | 0o755, gid: 0 };
    let Message::Rmkdirattr(first) = c1.rpc_env(op(1), mk.clone()).await else { panic!() };
    let before = count_entries(&mut c1, 9).await;
    drop(c1);
    // The client reconnects and re-sends with RETRY on a new connection.
    let mut c2 = Z::attached(s.addr, Dialect::Z).await;
    let Message::Rmkdirattr(again) = c2.rpc_env(retry(1), mk.clone()).await else { panic!() };
    assert_eq!(again, first, "the original qid and attributes");
    assert_eq!(count_entries(&mut c2, 9).await, before, "no second directory");
    // The same name as a new operation is a real EEXIST.
    assert_eq!(errno(&c2.rpc_env(op(2), mk.clone()).await), ninefold_proto::Errno::EEXIST);
    // ...and that error is what its retry replays.
    assert_eq!(errno(&c2.rpc_env(retry(2), mk).await), ninefold_proto::Errno::EEXIST);
}

#[tokio::test]
async fn unknown_retries_and_reserved_flags_are_116() {
    let s = serve_memfs(|b| b).await;
    let mut c = Z::attached(s.addr, Dialect::Z).await;
    let mk = l::Tmkdir { dfid: 0, name: "x".into(), mode: 0o755, gid: 0 };
    assert_eq!(errno(&c.rpc_env(retry(7), mk.clone()).await), EOPIDSTALE);
    let bad = Envelope { flags: EnvelopeFlags::from_bits_retain(0x02), ..op(8) };
    assert_eq!(errno(&c.rpc_env(bad, mk.clone()).await), EOPIDSTALE);
    let zero_retry = Envelope { op_id: [0; 16], ..retry(0) };
    assert_eq!(errno(&c.rpc_env(zero_retry, mk.clone()).await), EOPIDSTALE);
    // None of them ran.
    let r = c.rpc(z::Twalkgetattr { fid: 0, newfid: 1, wnames: names(&["x"]) }).await;
    assert_eq!(errno(&r), ninefold_proto::Errno::ENOENT);
}

#[tokio::test]
async fn a_replayed_lcreateattr_still_opens_newfid_on_the_same_file() {
    let s = serve_memfs(|b| b).await;
    let create = |newfid| z::Tlcreateattr {
        dfid: 0,
        newfid,
        name: "f".into(),
        flags: OpenFlags::RDWR | OpenFlags::CREATE,
        mode: S_IFREG | 0o644,
        gid: 0,
    };
    let mut c1 = Z::attached(s.addr, Dialect::Z).await;
    let Message::Rlcreateattr(first) = c1.rpc_env(op(3), create(1)).await else { panic!() };
    drop(c1);
    let mut c2 = Z::attached(s.addr, Dialect::Z).await;
    let Message::Rlcreateattr(again) = c2.rpc_env(retry(3), create(5)).await else { panic!() };
    assert_eq!(again, first);
    let r = c2.rpc(base::Twrite { fid: 5, offset: 0, data: Bytes::from_static(b"xyz") }).await;
    assert!(matches!(r, Message::Rwrite(base::Rwrite { count: 3 })), "{r:?}");
    let r = c2.rpc(z::Twalkgetattr { fid: 0, newfid: 6, wnames: names(&["f"]) }).await;
    let Message::Rwalkgetattr(w) = r else { panic!("{r:?}") };
    assert_eq!((w.attr.qid.path, w.attr.size), (first.attr.qid.path, 3));
}

#[tokio::test]
async fn a_replayed_append_is_applied_once() {
    let s = serve_memfs(|b| b).await;
    let mut c = Z::attached(s.addr, Dialect::Z).await;
    c.rpc(base::Twalk { fid: 0, newfid: 1, wnames: names(&["hello"]) }).await;
    c.rpc(l::Tlopen { fid: 1, flags: OpenFlags::RDWR | OpenFlags::APPEND }).await;
    let w = base::Twrite { fid: 1, offset: 0, data: Bytes::from_static(b"+1") };
    assert!(matches!(c.rpc_env(op(4), w.clone()).await, Message::Rwrite(_)));
    for _ in 0..3 {
        assert!(matches!(c.rpc_env(retry(4), w.clone()).await, Message::Rwrite(_)));
    }
    let r = c.rpc(base::Tread { fid: 1, offset: 0, count: 100 }).await;
    let Message::Rread(d) = r else { panic!("{r:?}") };
    assert_eq!(&d.data[..], b"hello world+1");
}

fn enveloped(tag: u16, env: Envelope, msg: impl Into<Message>) -> Vec<u8> {
    let mut out = BytesMut::new();
    Frame::new(tag, msg).with_envelope(env).encode(Dialect::Z, &mut out).unwrap();
    out.to_vec()
}

#[tokio::test]
async fn a_duplicate_waits_for_the_running_first_attempt() {
    let s = support::start().await;
    let mut c1 = support::Raw::attached(s.addr, Dialect::Z).await;
    let mut c2 = support::Raw::attached(s.addr, Dialect::Z).await;
    c1.walk(0, 1, &["slow"]).await;
    c2.walk(0, 1, &["slow"]).await;
    let set = l::Tsetattr {
        fid: 1,
        attr: SetAttr { valid: SetattrMask::MODE, mode: 0o600, ..SetAttr::default() },
    };
    // The first attempt takes 300 ms; its duplicate arrives meanwhile on
    // another connection and must not run a second time.
    c1.send_raw(&enveloped(5, op(9), set.clone())).await;
    tokio::time::sleep(Duration::from_millis(50)).await;
    c2.send_raw(&enveloped(6, retry(9), set)).await;
    let f2 = c2.recv().await;
    let f1 = c1.recv().await;
    assert!(matches!(f1.message, Message::Rsetattr(_)), "{:?}", f1.message);
    assert!(matches!(f2.message, Message::Rsetattr(_)), "{:?}", f2.message);
    assert_eq!(s.tree.slow.finished.load(Ordering::SeqCst), 1, "ran once");
}

#[tokio::test]
async fn with_a_state_dir_a_retry_after_a_restart_replays() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    let mk = z::Tmkdirattr { dfid: 0, name: "d".into(), mode: S_IFDIR | 0o755, gid: 0 };
    let first = {
        let s = serve_memfs(|b| b.state_dir(&state)).await;
        let mut c = Z::attached(s.addr, Dialect::Z).await;
        let r = c.rpc_env(op(1), mk.clone()).await;
        s.server.shutdown().await;
        r
    };
    assert!(matches!(first, Message::Rmkdirattr(_)));
    // A new server process on the same state: the outcome is still there.
    let s = serve_memfs(|b| b.state_dir(&state)).await;
    let mut c = Z::attached(s.addr, Dialect::Z).await;
    assert_eq!(c.rpc_env(retry(1), mk).await, first);
    // Without the state dir it would be unknown: 116, never a rerun.
    let fresh = serve_memfs(|b| b).await;
    let mut c = Z::attached(fresh.addr, Dialect::Z).await;
    let mk2 = z::Tmkdirattr { dfid: 0, name: "e".into(), mode: S_IFDIR | 0o755, gid: 0 };
    assert_eq!(errno(&c.rpc_env(retry(1), mk2).await), EOPIDSTALE);
}

#[tokio::test]
async fn a_replayed_standard_lcreate_turns_its_fid_into_the_file() {
    let s = serve_memfs(|b| b).await;
    let create = |fid| l::Tlcreate {
        fid,
        name: "std".into(),
        flags: OpenFlags::RDWR | OpenFlags::CREATE,
        mode: 0o644,
        gid: 0,
    };
    let mut c1 = Z::attached(s.addr, Dialect::Z).await;
    c1.rpc(base::Twalk { fid: 0, newfid: 1, wnames: vec![] }).await;
    let Message::Rlcreate(first) = c1.rpc_env(op(12), create(1)).await else { panic!() };
    drop(c1);
    let mut c2 = Z::attached(s.addr, Dialect::Z).await;
    c2.rpc(base::Twalk { fid: 0, newfid: 7, wnames: vec![] }).await;
    let Message::Rlcreate(again) = c2.rpc_env(retry(12), create(7)).await else { panic!() };
    assert_eq!(again, first);
    let r = c2.rpc(base::Twrite { fid: 7, offset: 0, data: Bytes::from_static(b"ok") }).await;
    assert!(matches!(r, Message::Rwrite(base::Rwrite { count: 2 })), "{r:?}");
}
