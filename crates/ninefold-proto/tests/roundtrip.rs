//! Property tests: every message of every dialect survives encode → decode
//! unchanged, and the vectored encoding is the plain one split in two.

use std::collections::BTreeSet;
use std::sync::Mutex;

use bytes::{BufMut, BytesMut};
use ninefold_proto::{arbitrary, Dialect, Frame};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

/// Cases per dialect; `NINEFOLD_PROPTEST_CASES` raises it for a soak.
fn cases(default: u32) -> u32 {
    std::env::var("NINEFOLD_PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn round_trip(dialect: Dialect, frame: &Frame) -> Result<(), TestCaseError> {
    let mut buf = BytesMut::new();
    let n = frame.encode(dialect, &mut buf).map_err(|e| TestCaseError::fail(e.to_string()))?;
    prop_assert_eq!(n, buf.len());
    prop_assert_eq!(frame.encoded_len(dialect).ok(), Some(buf.len()));
    let wire = buf.freeze();

    // Vectored: head + payload is the same byte sequence.
    let mut head = BytesMut::new();
    let payload = frame
        .encode_vectored(dialect, &mut head)
        .map_err(|e| TestCaseError::fail(e.to_string()))?;
    if let Some(p) = payload {
        head.put_slice(&p);
    }
    prop_assert_eq!(&head[..], &wire[..]);

    match Frame::decode(wire, dialect) {
        Ok(back) => prop_assert_eq!(&back, frame),
        Err(e) => return Err(TestCaseError::fail(format!("{frame:?}: {e}"))),
    }
    Ok(())
}

/// Runs `cases` random frames of `dialect` through a round trip and checks
/// that every message type of the dialect was exercised.
fn dialect_round_trip(dialect: Dialect) {
    let mut runner = TestRunner::new(Config { cases: cases(4096), ..Config::default() });
    let seen = Mutex::new(BTreeSet::new());
    runner
        .run(&arbitrary::frame(dialect), |frame| {
            seen.lock().unwrap().insert(frame.message.msg_type());
            round_trip(dialect, &frame)
        })
        .unwrap();
    let all: BTreeSet<u8> = dialect.message_types().collect();
    assert_eq!(*seen.lock().unwrap(), all, "message types of {dialect} never generated");
}

#[test]
fn base_round_trip() {
    dialect_round_trip(Dialect::Base);
}

#[test]
fn u_round_trip() {
    dialect_round_trip(Dialect::U);
}

#[test]
fn l_round_trip() {
    dialect_round_trip(Dialect::L);
}

#[test]
fn z_round_trip() {
    dialect_round_trip(Dialect::Z);
}

#[test]
fn dialect_tables_have_the_expected_sizes() {
    // 27 messages in 9P2000 and .u (Terror 106 does not exist); .L drops
    // Rerror and Topen/Tcreate (5) and adds 39; .L.Z adds 27 private ones.
    assert_eq!(Dialect::Base.message_types().count(), 27);
    assert_eq!(Dialect::U.message_types().count(), 27);
    assert_eq!(Dialect::L.message_types().count(), 27 - 5 + 39);
    assert_eq!(Dialect::Z.message_types().count(), 27 - 5 + 39 + 27);
}

proptest! {
    /// A message encoded in one dialect and decoded in another never
    /// panics (it may fail or decode as something else).
    #[test]
    fn cross_dialect_decoding_never_panics(
        frame in arbitrary::frame(Dialect::Z),
        other in prop::sample::select(Dialect::ALL.to_vec()),
    ) {
        let mut buf = BytesMut::new();
        frame.encode(Dialect::Z, &mut buf).unwrap();
        let _ = Frame::decode(buf.freeze(), other);
    }
}
