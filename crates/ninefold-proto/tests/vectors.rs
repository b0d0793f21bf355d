//! Golden byte vectors: frames packed by `tests/vectors/gen.py` straight from
//! the wire layouts in the reference documents (never from this crate's
//! encoder), each decoded into a `Frame` written out field by field here and
//! re-encoded byte for byte.
//!
//! The values below are the second, independent statement of each vector:
//! keep them in step with `gen.py`, and when a vector fails re-check it
//! against the spec before touching either side.

use std::path::PathBuf;

use bytes::{Bytes, BytesMut};
use ninefold_proto::dir::DirPacker;
use ninefold_proto::z::{self, Credentials, Envelope};
use ninefold_proto::{
    base, l, DecodeErrorKind, Dialect, DirMode, DirentType, EnvelopeFlags, Errno, Frame,
    GetattrMask, Message, OpenFlags, P9String, Qid, QidType, RebindFlags, SetattrMask, NOFID,
    NONUNAME, NOTAG, S_IFDIR, S_IFREG,
};

// ------------------------------------------------------------------ harness

/// Every vector `gen.py` writes; each has a test below.
const VECTORS: &[&str] = &[
    "base/rerror.bin",
    "base/rstat.bin",
    "base/tattach.bin",
    "l/rgetattr.bin",
    "l/rlerror.bin",
    "l/rreaddir.bin",
    "l/tattach.bin",
    "l/twrite.bin",
    "u/rerror.bin",
    "u/rstat.bin",
    "z/rgetlineage.bin",
    "z/rlcreateattr.bin",
    "z/rlopenatread.bin",
    "z/rwalkgetattr.bin",
    "z/tgetlineage.bin",
    "z/tlcreateattr.bin",
    "z/trebind.bin",
    "z/tsetattrattr.bin",
    "z/tversion.bin",
    "z/twalkgetattr.bin",
    "z/twrite.bin",
];

fn vectors_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests").join("vectors")
}

fn read_vector(name: &str) -> Bytes {
    let path = vectors_dir().join(name);
    let raw = std::fs::read(&path).unwrap_or_else(|e| {
        panic!("cannot read {}: {e} (regenerate with tests/vectors/gen.py)", path.display())
    });
    Bytes::from(raw)
}

/// Describes the first difference between two byte strings, or `None`.
fn byte_diff(expected: &[u8], actual: &[u8]) -> Option<String> {
    if expected == actual {
        return None;
    }
    let at = expected
        .iter()
        .zip(actual)
        .position(|(e, a)| e != a)
        .unwrap_or(expected.len().min(actual.len()));
    let window = |b: &[u8]| {
        let end = (at + 8).min(b.len());
        b.get(at..end).map_or_else(String::new, |w| format!("{w:02x?}"))
    };
    Some(format!(
        "first difference at offset {at}: expected {} actual {} (lengths: expected {}, actual {})",
        window(expected),
        window(actual),
        expected.len(),
        actual.len()
    ))
}

/// Checks one vector in both directions and returns its bytes:
/// - the file decodes in `dialect` to exactly `expected`;
/// - `expected.encoded_len` is the file length;
/// - `expected` and the decoded frame both encode to exactly the file.
///
/// Every failure is collected before panicking, so one run reports whether
/// the decoder, the encoder or both disagree with the vector.
fn check(name: &str, dialect: Dialect, expected: &Frame) -> Bytes {
    let wire = read_vector(name);
    let mut failures = Vec::new();

    match Frame::decode(wire.clone(), dialect) {
        Ok(decoded) => {
            if &decoded != expected {
                failures.push(format!("decode: got\n    {decoded:?}\nexpected\n    {expected:?}"));
            }
            let mut out = BytesMut::new();
            match decoded.encode(dialect, &mut out) {
                Ok(_) => {
                    if let Some(d) = byte_diff(&wire, &out) {
                        failures.push(format!("re-encoding the decoded frame: {d}"));
                    }
                }
                Err(e) => failures.push(format!("re-encoding the decoded frame failed: {e}")),
            }
        }
        Err(e) => failures.push(format!("decode failed: {e} ({e:?})")),
    }

    match expected.encoded_len(dialect) {
        Ok(len) if len == wire.len() => {}
        Ok(len) => failures.push(format!("encoded_len is {len}, the vector has {}", wire.len())),
        Err(e) => failures.push(format!("encoded_len failed: {e}")),
    }

    let mut out = BytesMut::new();
    match expected.encode(dialect, &mut out) {
        Ok(n) => {
            if n != out.len() {
                failures.push(format!("encode returned {n} but wrote {}", out.len()));
            }
            if let Some(d) = byte_diff(&wire, &out) {
                failures.push(format!("encoding the expected frame: {d}"));
            }
        }
        Err(e) => failures.push(format!("encoding the expected frame failed: {e}")),
    }

    assert!(failures.is_empty(), "{name} ({dialect}):\n  {}", failures.join("\n  "));
    wire
}

/// Whether `inner` lies within `outer`'s memory (a zero-copy slice of it).
fn is_slice_of(inner: &[u8], outer: &[u8]) -> bool {
    let outer = outer.as_ptr_range();
    let inner = inner.as_ptr_range();
    outer.start <= inner.start && inner.end <= outer.end
}

fn s(b: &'static [u8]) -> P9String {
    P9String::from(Bytes::from_static(b))
}

#[test]
fn every_vector_file_is_listed() {
    let mut found = Vec::new();
    for dialect in ["base", "u", "l", "z"] {
        let dir = vectors_dir().join(dialect);
        for entry in std::fs::read_dir(&dir).unwrap() {
            let name = entry.unwrap().file_name().into_string().unwrap();
            if name.ends_with(".bin") {
                found.push(format!("{dialect}/{name}"));
            }
        }
    }
    found.sort();
    let mut listed: Vec<String> = VECTORS.iter().map(|v| v.to_string()).collect();
    listed.sort();
    assert_eq!(found, listed, "tests/vectors and VECTORS disagree");
}

// ------------------------------------------------- shared expected values

/// Attribute block A, a regular file (`ATTR_A` in gen.py).
fn attr_a() -> l::Attr {
    l::Attr {
        qid: Qid { ty: QidType::FILE, version: 0x65A1_B2C3, path: 0x0000_00AB_CDEF_0123 },
        mode: S_IFREG | 0o644,
        uid: 1000,
        gid: 100,
        nlink: 2,
        rdev: 0x803,
        size: 0x0000_0001_0000_1234,
        blksize: 4096,
        blocks: 0x0000_0000_0080_000A,
        atime_sec: 1_700_000_001,
        atime_nsec: 101_000_001,
        mtime_sec: 1_700_000_002,
        mtime_nsec: 202_000_002,
        ctime_sec: 1_700_000_003,
        ctime_nsec: 303_000_003,
        btime_sec: 1_600_000_004,
        btime_nsec: 404_000_004,
        gen: 0x5EED_0005,
        data_version: 0x0000_0DA7_A000_0006,
    }
}

/// Attribute block B, a newly created file (`ATTR_B` in gen.py).
fn attr_b() -> l::Attr {
    l::Attr {
        qid: Qid { ty: QidType::FILE, version: 0x17, path: 0x00BE_EF01 },
        mode: S_IFREG | 0o640,
        uid: 1001,
        gid: 1002,
        nlink: 1,
        rdev: 4,
        size: 3,
        blksize: 8192,
        blocks: 5,
        atime_sec: 1_710_000_011,
        atime_nsec: 11,
        mtime_sec: 1_710_000_012,
        mtime_nsec: 12,
        ctime_sec: 1_710_000_013,
        ctime_nsec: 13,
        btime_sec: 1_710_000_014,
        btime_nsec: 14,
        gen: 0x15,
        data_version: 0x16,
    }
}

/// Attribute block C, a directory (`ATTR_C` in gen.py).
fn attr_c() -> l::Attr {
    l::Attr {
        qid: Qid { ty: QidType::DIR, version: 0x00C0_FFEE, path: 0x333 },
        mode: S_IFDIR | 0o755,
        uid: 2001,
        gid: 2002,
        nlink: 7,
        rdev: 9,
        size: 0x1000,
        blksize: 65536,
        blocks: 8,
        atime_sec: 1_720_000_021,
        atime_nsec: 210_000_021,
        mtime_sec: 1_720_000_022,
        mtime_nsec: 220_000_022,
        ctime_sec: 1_720_000_023,
        ctime_nsec: 230_000_023,
        btime_sec: 1_720_000_024,
        btime_nsec: 240_000_024,
        gen: 0x25,
        data_version: 0x26,
    }
}

const OP_ID_WRITE: [u8; 16] = [
    0x3f, 0x2a, 0x9c, 0x4e, 0x7b, 0x1d, 0x4e, 0x8a, 0x9c, 0x5f, 0x0d, 0x6e, 0x1b, 0x2a, 0x3c, 0x4d,
];
const OP_ID_CREATE: [u8; 16] = [
    0xa1, 0xb2, 0xc3, 0xd4, 0xe5, 0xf6, 0x47, 0x08, 0x9a, 0x1b, 0x2c, 0x3d, 0x4e, 0x5f, 0x60, 0x71,
];
const OP_ID_SETATTR: [u8; 16] = [
    0x0b, 0xad, 0xca, 0xfe, 0x12, 0x34, 0x43, 0x21, 0xa5, 0xa5, 0x5a, 0x5a, 0xc3, 0xc3, 0x3c, 0x3c,
];

const WRITE_DATA: &[u8] = b"hello, ninefold";

fn twrite() -> base::Twrite {
    base::Twrite { fid: 0x11, offset: 0x0000_0001_0000_0200, data: Bytes::from_static(WRITE_DATA) }
}

fn tversion() -> Frame {
    Frame {
        tag: NOTAG,
        envelope: None,
        message: Message::Tversion(base::Tversion { msize: 1_048_576, version: s(b"9P2000.L.Z") }),
    }
}

// --------------------------------------------------------------- 9P2000.L.Z

#[test]
fn z_tversion() {
    let wire = check("z/tversion.bin", Dialect::Z, &tversion());
    assert_eq!(wire.len(), 23);
}

#[test]
fn tversion_is_dialect_independent() {
    let wire = read_vector("z/tversion.bin");
    for dialect in Dialect::ALL {
        let frame = Frame::decode(wire.clone(), dialect).unwrap();
        assert_eq!(frame, tversion(), "{dialect}");
        let mut out = BytesMut::new();
        frame.encode(dialect, &mut out).unwrap();
        assert_eq!(&out[..], &wire[..], "{dialect}");
    }
}

#[test]
fn z_tgetlineage() {
    let frame = Frame { tag: 0, envelope: None, message: Message::Tgetlineage(z::Tgetlineage) };
    let wire = check("z/tgetlineage.bin", Dialect::Z, &frame);
    assert_eq!(wire.len(), 7);
}

#[test]
fn z_rgetlineage() {
    let frame = Frame {
        tag: 0,
        envelope: None,
        message: Message::Rgetlineage(z::Rgetlineage {
            token: 0x1122_3344_5566_7788,
            writer_epoch: 0x0000_0005_0000_0003,
        }),
    };
    let wire = check("z/rgetlineage.bin", Dialect::Z, &frame);
    assert_eq!(wire.len(), 23);
}

#[test]
fn z_twrite() {
    let frame = Frame {
        tag: 0x2007,
        envelope: Some(Envelope {
            op_id: OP_ID_WRITE,
            flags: EnvelopeFlags::RETRY,
            origin_writer_epoch: 0x0000_0005_0000_0003,
        }),
        message: Message::Twrite(twrite()),
    };
    let wire = check("z/twrite.bin", Dialect::Z, &frame);
    assert_eq!(wire.len() - WRITE_DATA.len(), 48, "fixed overhead of a .Z Twrite");

    let decoded = Frame::decode(wire.clone(), Dialect::Z).unwrap();
    let Message::Twrite(w) = decoded.message else { panic!("not a Twrite") };
    assert_eq!(&w.data[..], WRITE_DATA);
    assert!(is_slice_of(&w.data, &wire), "Twrite data is not a zero-copy slice of the frame");
}

#[test]
fn l_twrite() {
    let frame = Frame { tag: 0x2007, envelope: None, message: Message::Twrite(twrite()) };
    let wire = check("l/twrite.bin", Dialect::L, &frame);
    assert_eq!(wire.len() - WRITE_DATA.len(), 23, "fixed overhead of a plain .L Twrite");

    let decoded = Frame::decode(wire.clone(), Dialect::L).unwrap();
    let Message::Twrite(w) = decoded.message else { panic!("not a Twrite") };
    assert!(is_slice_of(&w.data, &wire), "Twrite data is not a zero-copy slice of the frame");
}

#[test]
fn enveloped_twrite_is_malformed_as_plain_dotl() {
    // Read as .L, the op_id's bytes 12..16 become a count far past the end.
    let z = read_vector("z/twrite.bin");
    let err = Frame::decode(z, Dialect::L).unwrap_err();
    assert!(matches!(err.kind(), DecodeErrorKind::Truncated { .. }), "{err:?}");
    assert_eq!(err.tag(), Some(0x2007), "the header survives a body error");
    // And a plain .L Twrite is too short to carry an envelope.
    let l = read_vector("l/twrite.bin");
    let err = Frame::decode(l, Dialect::Z).unwrap_err();
    assert!(matches!(err.kind(), DecodeErrorKind::Truncated { .. }), "{err:?}");
}

#[test]
fn z_tlcreateattr() {
    let frame = Frame {
        tag: 0x2008,
        envelope: Some(Envelope {
            op_id: OP_ID_CREATE,
            flags: EnvelopeFlags::empty(),
            origin_writer_epoch: 6,
        }),
        message: Message::Tlcreateattr(z::Tlcreateattr {
            dfid: 3,
            newfid: 4,
            name: s(b"report.txt"),
            flags: OpenFlags::RDWR | OpenFlags::CREATE,
            mode: S_IFREG | 0o640,
            gid: 1002,
        }),
    };
    check("z/tlcreateattr.bin", Dialect::Z, &frame);
}

#[test]
fn z_rlcreateattr() {
    let frame = Frame {
        tag: 0x2008,
        envelope: None,
        message: Message::Rlcreateattr(z::Rlcreateattr { iounit: 0x2000, attr: attr_b() }),
    };
    let wire = check("z/rlcreateattr.bin", Dialect::Z, &frame);
    assert_eq!(wire.len(), 7 + 4 + 145);
}

#[test]
fn z_twalkgetattr() {
    let frame = Frame {
        tag: 0x2009,
        envelope: None,
        message: Message::Twalkgetattr(z::Twalkgetattr {
            fid: 1,
            newfid: 2,
            wnames: vec![s(b"home"), s(b"alice"), s(b"docs")],
        }),
    };
    check("z/twalkgetattr.bin", Dialect::Z, &frame);
}

#[test]
fn z_rwalkgetattr() {
    let frame = Frame {
        tag: 0x2009,
        envelope: None,
        message: Message::Rwalkgetattr(z::Rwalkgetattr {
            wqids: vec![
                Qid { ty: QidType::DIR, version: 0x101, path: 0x111 },
                Qid { ty: QidType::DIR, version: 0x202, path: 0x222 },
                Qid { ty: QidType::DIR, version: 0x00C0_FFEE, path: 0x333 },
            ],
            attr: attr_c(),
        }),
    };
    let wire = check("z/rwalkgetattr.bin", Dialect::Z, &frame);
    assert_eq!(wire.len(), 7 + 2 + 3 * 13 + 145);
}

#[test]
fn z_tsetattrattr() {
    let valid = SetattrMask::MODE
        | SetattrMask::UID
        | SetattrMask::GID
        | SetattrMask::SIZE
        | SetattrMask::ATIME
        | SetattrMask::MTIME
        | SetattrMask::ATIME_SET
        | SetattrMask::MTIME_SET;
    assert_eq!(valid.bits(), 0x1BF);
    let frame = Frame {
        tag: 0x200A,
        envelope: Some(Envelope {
            op_id: OP_ID_SETATTR,
            flags: EnvelopeFlags::empty(),
            origin_writer_epoch: 7,
        }),
        message: Message::Tsetattrattr(z::Tsetattrattr {
            fid: 0x21,
            attr: l::SetAttr {
                valid,
                mode: 0o600,
                uid: 1003,
                gid: 1004,
                size: 0x0000_0002_0000_1000,
                atime_sec: 1_650_000_001,
                atime_nsec: 123_456_789,
                mtime_sec: 1_650_000_002,
                mtime_nsec: 987_654_321,
            },
        }),
    };
    let wire = check("z/tsetattrattr.bin", Dialect::Z, &frame);
    assert_eq!(wire.len(), 7 + 25 + 4 + 56);
}

#[test]
fn z_rlopenatread() {
    let data: &[u8] = b"#!/bin/sh\necho hi\n";
    let frame = Frame {
        tag: 0x200B,
        envelope: None,
        message: Message::Rlopenatread(z::Rlopenatread {
            qid: Qid { ty: QidType::FILE, version: 0x0C, path: 0x77 },
            iounit: 0x1000,
            eof: true,
            data: Bytes::from_static(data),
        }),
    };
    let wire = check("z/rlopenatread.bin", Dialect::Z, &frame);
    assert_eq!(wire.len() - data.len(), 29, "fixed overhead of Rlopenatread");

    let decoded = Frame::decode(wire.clone(), Dialect::Z).unwrap();
    let Message::Rlopenatread(r) = decoded.message else { panic!("not an Rlopenatread") };
    assert!(is_slice_of(&r.data, &wire), "Rlopenatread data is not a zero-copy slice");
}

#[test]
fn z_trebind() {
    // Binary credentials: 0xFF, version 1, gid 100, count 2, gids 10 and 20.
    let uname: &[u8] = &[0xff, 0x01, 100, 0, 0, 0, 2, 10, 0, 0, 0, 20, 0, 0, 0];
    let frame = Frame {
        tag: 0x200C,
        envelope: None,
        message: Message::Trebind(z::Trebind {
            fid: 0x31,
            inode_id: 0x0000_0001_0000_0077,
            root_inode: 2,
            flags: RebindFlags::REPLAY | RebindFlags::OPENED,
            uname: P9String::from(uname),
            n_uname: 1000,
        }),
    };
    check("z/trebind.bin", Dialect::Z, &frame);

    let Message::Trebind(t) = frame.message else { unreachable!() };
    assert_eq!(
        Credentials::parse(&t.uname, t.n_uname).unwrap(),
        Credentials::Groups { uid: 1000, gid: 100, groups: vec![10, 20], incomplete: false }
    );
}

// ----------------------------------------------------------------- 9P2000.L

#[test]
fn l_rgetattr() {
    let valid = GetattrMask::BASIC | GetattrMask::GEN;
    assert_eq!(valid.bits(), 0x17ff);
    let frame = Frame {
        tag: 0x3001,
        envelope: None,
        message: Message::Rgetattr(l::Rgetattr { valid, attr: attr_a() }),
    };
    let wire = check("l/rgetattr.bin", Dialect::L, &frame);
    assert_eq!(wire.len(), 7 + 8 + 145);
}

#[test]
fn l_rreaddir() {
    let entries = vec![
        l::Dirent {
            qid: Qid { ty: QidType::DIR, version: 5, path: 0x2A },
            offset: 1,
            ty: DirentType::DIR,
            name: s(b"."),
        },
        l::Dirent {
            qid: Qid { ty: QidType::DIR, version: 6, path: 1 },
            offset: 2,
            ty: DirentType::DIR,
            name: s(b".."),
        },
        l::Dirent {
            qid: Qid { ty: QidType::FILE, version: 7, path: 0x0001_0003 },
            offset: 3,
            ty: DirentType::REG,
            name: s(b"caf\xe9"),
        },
    ];
    let mut packer = DirPacker::<l::Dirent>::new(usize::MAX, Dialect::L);
    for e in &entries {
        assert!(packer.push(e).unwrap());
    }
    let frame = Frame {
        tag: 0x3002,
        envelope: None,
        message: Message::Rreaddir(l::Rreaddir { data: packer.finish_block() }),
    };
    let wire = check("l/rreaddir.bin", Dialect::L, &frame);

    // The entries read back from the file itself, not from the packer.
    let decoded = Frame::decode(wire.clone(), Dialect::L).unwrap();
    let Message::Rreaddir(r) = decoded.message else { panic!("not an Rreaddir") };
    assert_eq!(r.data.iter().collect::<Vec<_>>(), entries);
    assert!(r.data.iter().last().unwrap().name.to_str().is_err(), "name should be non-UTF-8");
    assert!(is_slice_of(r.data.as_bytes(), &wire), "Rreaddir data is not a zero-copy slice");
}

#[test]
fn l_rlerror() {
    let frame = Frame {
        tag: 0x3003,
        envelope: None,
        message: Message::Rlerror(l::Rlerror { ecode: Errno::ENOENT }),
    };
    let wire = check("l/rlerror.bin", Dialect::L, &frame);
    assert_eq!(wire.len(), 11);
}

#[test]
fn l_tattach() {
    let frame = Frame {
        tag: 0x3004,
        envelope: None,
        message: Message::Tattach(base::Tattach {
            fid: 0x10,
            afid: NOFID,
            uname: s(b"alice"),
            aname: s(b"/export"),
            n_uname: 1000,
        }),
    };
    check("l/tattach.bin", Dialect::L, &frame);
}

// ----------------------------------------------------------------- 9P2000.u

#[test]
fn u_rstat() {
    let frame = Frame {
        tag: 0x4001,
        envelope: None,
        message: Message::Rstat(base::Rstat {
            stat: base::Stat {
                ty: 9,
                dev: 0x803,
                qid: Qid { ty: QidType::SYMLINK, version: 0x0B, path: 0x99 },
                mode: DirMode::SYMLINK | DirMode::PERM,
                atime: 1_600_000_011,
                mtime: 1_600_000_012,
                length: 14,
                name: s(b"link"),
                uid: s(b"alice"),
                gid: s(b"staff"),
                muid: s(b"bob"),
                extension: s(b"../target/file"),
                n_uid: 1000,
                n_gid: 50,
                n_muid: 1001,
            },
        }),
    };
    let wire = check("u/rstat.bin", Dialect::U, &frame);
    // n[2] = size[2] + 2; both precede the record.
    let n = u16::from_le_bytes([wire[7], wire[8]]) as usize;
    let size = u16::from_le_bytes([wire[9], wire[10]]) as usize;
    assert_eq!((n, size + 2, 7 + 2 + n), (size + 2, n, wire.len()));
}

#[test]
fn u_rerror() {
    let frame = Frame {
        tag: 0x4002,
        envelope: None,
        message: Message::Rerror(base::Rerror {
            ename: s(b"Permission denied"),
            errno: Errno::EACCES,
        }),
    };
    check("u/rerror.bin", Dialect::U, &frame);
}

// ------------------------------------------------------------------- 9P2000

#[test]
fn base_rstat() {
    let frame = Frame {
        tag: 0x5001,
        envelope: None,
        message: Message::Rstat(base::Rstat {
            stat: base::Stat {
                ty: 7,
                dev: 0x301,
                qid: Qid { ty: QidType::FILE, version: 4, path: 0x88 },
                mode: DirMode::from_bits_retain(0o644),
                atime: 1_600_000_001,
                mtime: 1_600_000_002,
                length: 0x0000_0001_0000_0005,
                name: s(b"notes.txt"),
                uid: s(b"glenda"),
                gid: s(b"sys"),
                muid: s(b"bootes"),
                // Not on the wire in 9P2000: decoded as empty / NONUNAME.
                extension: P9String::new(),
                n_uid: NONUNAME,
                n_gid: NONUNAME,
                n_muid: NONUNAME,
            },
        }),
    };
    let wire = check("base/rstat.bin", Dialect::Base, &frame);
    let n = u16::from_le_bytes([wire[7], wire[8]]) as usize;
    let size = u16::from_le_bytes([wire[9], wire[10]]) as usize;
    assert_eq!((n, 7 + 2 + n), (size + 2, wire.len()));
}

#[test]
fn base_rerror() {
    let frame = Frame {
        tag: 0x5002,
        envelope: None,
        message: Message::Rerror(base::Rerror {
            ename: s(b"file does not exist"),
            // Not on the wire in 9P2000: decoded as 0.
            errno: Errno::new(0),
        }),
    };
    check("base/rerror.bin", Dialect::Base, &frame);
}

#[test]
fn base_tattach() {
    let frame = Frame {
        tag: 0x5003,
        envelope: None,
        message: Message::Tattach(base::Tattach {
            fid: 0x10,
            afid: NOFID,
            uname: s(b"glenda"),
            aname: P9String::new(),
            // Not on the wire in 9P2000: decoded as NONUNAME.
            n_uname: NONUNAME,
        }),
    };
    check("base/tattach.bin", Dialect::Base, &frame);
}
