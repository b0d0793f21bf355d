//! Hostile input: arbitrary bytes, well-framed garbage and mutated valid
//! frames fed to every dialect's decoder never panic, and whatever decodes
//! re-encodes to exactly the bytes it came from.

use bytes::{Bytes, BytesMut};
use ninefold_proto::dir::{read_stats, DirBlock};
use ninefold_proto::l::Dirent;
use ninefold_proto::z::DirentAttr;
use ninefold_proto::{arbitrary, framing, Codec, Dialect, Frame, Header};
use proptest::prelude::*;

fn cases(default: u32) -> u32 {
    std::env::var("NINEFOLD_PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn dialects() -> impl Strategy<Value = Dialect> {
    prop::sample::select(Dialect::ALL.to_vec())
}

/// Decodes `raw`; if that succeeds the frame must re-encode to `raw` exactly
/// (the encoding is canonical) and its length must agree.
fn check(raw: Vec<u8>, dialect: Dialect) -> Result<(), TestCaseError> {
    let input = Bytes::from(raw);
    match Frame::decode(input.clone(), dialect) {
        Ok(frame) => {
            let mut out = BytesMut::new();
            frame.encode(dialect, &mut out).map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert_eq!(&out[..], &input[..], "{:?}", frame);
        }
        Err(e) => {
            // Errors render, and a readable header is kept for the reply.
            let _ = e.to_string();
            if input.len() >= Header::LEN && !e.is_fatal() {
                prop_assert_eq!(e.tag(), Header::parse(&input).map(|h| h.tag));
            }
        }
    }
    Ok(())
}

/// A frame with a correct size field, a type of the dialect and a random
/// body: gets past the header into every body decoder.
fn framed_garbage(dialect: Dialect) -> impl Strategy<Value = Vec<u8>> {
    let types: Vec<u8> = dialect.message_types().collect();
    (prop::sample::select(types), any::<u16>(), prop::collection::vec(any::<u8>(), 0..300))
        .prop_map(|(ty, tag, body)| {
            let mut raw = Vec::with_capacity(7 + body.len());
            raw.extend_from_slice(&((7 + body.len()) as u32).to_le_bytes());
            raw.push(ty);
            raw.extend_from_slice(&tag.to_le_bytes());
            raw.extend_from_slice(&body);
            raw
        })
}

/// A valid frame with a few bytes overwritten, cut or appended, size fixed.
fn mutated(dialect: Dialect) -> impl Strategy<Value = Vec<u8>> {
    (
        arbitrary::frame(dialect),
        prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..4),
        any::<prop::sample::Index>(),
        prop::collection::vec(any::<u8>(), 0..3),
    )
        .prop_map(move |(frame, flips, cut, extra)| {
            let mut buf = BytesMut::new();
            frame.encode(dialect, &mut buf).unwrap_or_default();
            let mut raw = buf.to_vec();
            for (at, byte) in flips {
                let i = 4 + at.index(raw.len() - 4);
                raw[i] = byte;
            }
            let keep = 7 + cut.index(raw.len() - 6);
            raw.truncate(keep.max(7));
            raw.extend_from_slice(&extra);
            let size = raw.len() as u32;
            raw[..4].copy_from_slice(&size.to_le_bytes());
            raw
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases(20_000)))]

    #[test]
    fn arbitrary_bytes(raw in prop::collection::vec(any::<u8>(), 0..200), d in dialects()) {
        check(raw, d)?;
    }

    #[test]
    fn arbitrary_bytes_with_valid_size(mut raw in prop::collection::vec(any::<u8>(), 7..300), d in dialects()) {
        let size = raw.len() as u32;
        raw[..4].copy_from_slice(&size.to_le_bytes());
        check(raw, d)?;
    }

    #[test]
    fn framed_garbage_base(raw in framed_garbage(Dialect::Base)) { check(raw, Dialect::Base)?; }

    #[test]
    fn framed_garbage_u(raw in framed_garbage(Dialect::U)) { check(raw, Dialect::U)?; }

    #[test]
    fn framed_garbage_l(raw in framed_garbage(Dialect::L)) { check(raw, Dialect::L)?; }

    #[test]
    fn framed_garbage_z(raw in framed_garbage(Dialect::Z)) { check(raw, Dialect::Z)?; }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases(4_000)))]

    #[test]
    fn mutated_base(raw in mutated(Dialect::Base)) { check(raw, Dialect::Base)?; }

    #[test]
    fn mutated_u(raw in mutated(Dialect::U)) { check(raw, Dialect::U)?; }

    #[test]
    fn mutated_l(raw in mutated(Dialect::L)) { check(raw, Dialect::L)?; }

    #[test]
    fn mutated_z(raw in mutated(Dialect::Z)) { check(raw, Dialect::Z)?; }

    /// Directory data from a peer: parsing and iterating never panics, and
    /// a block that parses iterates to its end.
    #[test]
    fn directory_data(raw in prop::collection::vec(any::<u8>(), 0..400), d in dialects()) {
        let data = Bytes::from(raw);
        if let Ok(block) = DirBlock::<Dirent>::parse(data.clone()) {
            let total: usize = block.iter().map(|e| 24 + e.name.len()).sum();
            prop_assert_eq!(total, data.len());
        }
        if let Ok(block) = DirBlock::<DirentAttr>::parse(data.clone()) {
            let total: usize = block.iter().map(|e| 169 + e.name.len()).sum();
            prop_assert_eq!(total, data.len());
        }
        let _ = read_stats(&data, d).count();
    }

    /// A byte stream cut into arbitrary chunks: the codec never panics,
    /// never buffers more than the limit for a frame, and yields the same
    /// frames however the stream is cut.
    #[test]
    fn codec_over_a_chunked_stream(
        frames in prop::collection::vec(arbitrary::frame(Dialect::L), 1..6),
        cuts in prop::collection::vec(1usize..64, 1..40),
    ) {
        let mut codec = Codec::new(Dialect::L, 1 << 20);
        let mut wire = BytesMut::new();
        for f in &frames {
            codec.encode(f, &mut wire).unwrap();
        }
        let wire = wire.freeze();
        let mut rx = BytesMut::new();
        let mut out = Vec::new();
        let mut pos = 0;
        for cut in cuts.iter().cycle() {
            if pos >= wire.len() {
                break;
            }
            let end = (pos + cut).min(wire.len());
            rx.extend_from_slice(&wire[pos..end]);
            pos = end;
            while let Some(frame) = codec.decode(&mut rx).unwrap() {
                out.push(frame);
            }
            prop_assert!(rx.capacity() <= (1 << 20) + 64);
        }
        prop_assert_eq!(out, frames);
    }

    /// Any announced size is judged from the first four bytes alone.
    #[test]
    fn framing_judges_the_size_field(raw in prop::collection::vec(any::<u8>(), 0..16), max in 7u32..100_000) {
        match framing::check(&raw, max) {
            Ok(framing::FrameStatus::Complete { frame_len }) => prop_assert!(frame_len <= raw.len() && frame_len <= max as usize),
            Ok(framing::FrameStatus::Incomplete { frame_len: Some(n) }) => prop_assert!(n > raw.len() && n <= max as usize),
            Ok(framing::FrameStatus::Incomplete { frame_len: None }) => prop_assert!(raw.len() < 4),
            Err(e) => prop_assert!(e.is_fatal()),
        }
    }
}
