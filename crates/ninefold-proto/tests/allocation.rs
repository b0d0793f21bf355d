//! Decoding allocates in proportion to the frame, never in proportion to a
//! length field a peer wrote.
//!
//! Every heap byte allocated while decoding is counted (dhat's allocator, so
//! this binary holds a single test). A decode may allocate at most the frame
//! length plus the fixed cost of a 16-element walk vector and one shared
//! buffer header; payloads, names and directory blocks are slices.

use bytes::{Bytes, BytesMut};
use ninefold_proto::{arbitrary, Codec, Dialect, Frame, P9String};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

#[global_allocator]
static ALLOC: dhat::Alloc = dhat::Alloc;

/// Bytes allocated by `f`.
fn allocated_by(f: impl FnOnce()) -> u64 {
    let before = dhat::HeapStats::get().total_bytes;
    f();
    dhat::HeapStats::get().total_bytes - before
}

fn bound(frame_len: usize) -> u64 {
    (frame_len + 16 * std::mem::size_of::<P9String>() + 64) as u64
}

#[test]
fn decoding_allocates_at_most_the_frame() {
    let _profiler = dhat::Profiler::builder().testing().build();
    let mut runner = TestRunner::new(Config { cases: 2000, ..Config::default() });

    // Valid frames of every dialect, big payloads included.
    for dialect in Dialect::ALL {
        runner
            .run(&arbitrary::frame(dialect), |frame| {
                let mut buf = BytesMut::new();
                frame.encode(dialect, &mut buf).unwrap();
                let wire = Bytes::from(buf.to_vec());
                let len = wire.len();
                let used = allocated_by(|| drop(Frame::decode(wire, dialect)));
                prop_assert!(
                    used <= bound(len),
                    "{} bytes for a {len}-byte {}",
                    used,
                    frame.message.name()
                );
                Ok(())
            })
            .unwrap();
    }

    // Hostile frames: a walk announcing 16 names, a read announcing 4 GiB,
    // a string announcing 64 KiB, with next to nothing behind them.
    let hostile: [&[u8]; 3] = [
        &[17, 0, 0, 0, 110, 1, 0, 1, 0, 0, 0, 2, 0, 0, 0, 16, 0],
        &[11, 0, 0, 0, 117, 1, 0, 0xff, 0xff, 0xff, 0xff],
        &[13, 0, 0, 0, 100, 0xff, 0xff, 0, 32, 0, 0, 0xff, 0xff],
    ];
    for raw in hostile {
        let wire = Bytes::from(raw.to_vec());
        let used = allocated_by(|| {
            let r = Frame::decode(wire, Dialect::L);
            assert!(r.is_err());
        });
        assert!(used <= bound(raw.len()), "{used} bytes for a hostile {}-byte frame", raw.len());
    }

    // The counter works: a one-name walk allocates its vector.
    let walk = Bytes::from(vec![20, 0, 0, 0, 110, 1, 0, 1, 0, 0, 0, 2, 0, 0, 0, 1, 0, 1, 0, b'a']);
    let used = allocated_by(|| assert!(Frame::decode(walk, Dialect::L).is_ok()));
    assert!(used >= std::mem::size_of::<P9String>() as u64, "{used}");

    // The codec reserves for an announced frame only up to the limit, and
    // nothing for a frame announced above it.
    let mut codec = Codec::new(Dialect::L, 8192);
    let mut rx = BytesMut::from(&[0xff, 0xff, 0xff, 0x7f, 117, 0, 0][..]);
    let used = allocated_by(|| assert!(codec.decode(&mut rx).is_err()));
    assert_eq!(used, 0);
    let mut rx = BytesMut::from(&[0x00, 0x20, 0, 0, 117, 0, 0][..]);
    let used = allocated_by(|| assert!(codec.decode(&mut rx).unwrap().is_none()));
    assert!(used <= 8192 + 64, "{used}");
}
