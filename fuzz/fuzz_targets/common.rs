//! The property every decode target checks, for one dialect.
//!
//! Decoding arbitrary bytes never panics; whatever decodes re-encodes to the
//! same bytes (the encoding is canonical); directory data parses or fails
//! cleanly; and the stream codec agrees with the one-frame decoder.

use bytes::{Bytes, BytesMut};
use ninefold_proto::dir::{read_stats, DirBlock};
use ninefold_proto::{l, z, Codec, Dialect, Frame};

pub fn check(data: &[u8], dialect: Dialect) {
    let input = Bytes::copy_from_slice(data);
    if let Ok(frame) = Frame::decode(input.clone(), dialect) {
        let mut out = BytesMut::new();
        frame.encode(dialect, &mut out).expect("a decoded frame encodes");
        assert_eq!(&out[..], data, "re-encoding changed the bytes of {frame:?}");
    }

    let mut codec = Codec::new(dialect, 1 << 16);
    let mut rx = BytesMut::from(data);
    while let Ok(Some(_)) = codec.decode(&mut rx) {}

    let _ = DirBlock::<l::Dirent>::parse(input.clone()).map(|b| b.iter().count());
    let _ = DirBlock::<z::DirentAttr>::parse(input.clone()).map(|b| b.iter().count());
    let _ = read_stats(&input, dialect).count();
}
