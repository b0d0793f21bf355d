//! Encode and decode cost of the messages that dominate 9P traffic.
//!
//! `cargo bench -p ninefold-proto --bench codec`. `encode/baseline memcpy
//! 1MiB` is the floor for a copying encoder, measured in the same run. The
//! `payload_size` group
//! decodes Rread and Twrite at 4 KiB, 64 KiB and 1 MiB: the time must not
//! grow with the payload, because decoding slices the frame instead of
//! copying it.

use std::hint::black_box;

use bytes::{Bytes, BytesMut};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use ninefold_proto::dir::DirPacker;
use ninefold_proto::l::{Attr, Dirent, Rgetattr, Rreaddir};
use ninefold_proto::z::Envelope;
use ninefold_proto::{
    base, Dialect, DirentType, EnvelopeFlags, Frame, GetattrMask, Qid, QidType, S_IFREG,
};

const MIB: usize = 1 << 20;

fn rread(len: usize) -> Frame {
    Frame::new(1, base::Rread { data: Bytes::from(vec![0xa5; len]) })
}

fn twrite(len: usize) -> Frame {
    Frame::new(1, base::Twrite { fid: 3, offset: 1 << 30, data: Bytes::from(vec![0x5a; len]) })
}

fn twrite_z(len: usize) -> Frame {
    let env = Envelope { op_id: [9; 16], flags: EnvelopeFlags::empty(), origin_writer_epoch: 0 };
    twrite(len).with_envelope(env)
}

fn attr(path: u64) -> Attr {
    Attr {
        qid: Qid { ty: QidType::FILE, version: 1, path },
        mode: S_IFREG | 0o644,
        uid: 1000,
        gid: 1000,
        nlink: 1,
        size: 123_456,
        blksize: 4096,
        blocks: 242,
        atime_sec: 1_700_000_000,
        mtime_sec: 1_700_000_001,
        ctime_sec: 1_700_000_002,
        ..Attr::default()
    }
}

fn rgetattr() -> Frame {
    Frame::new(1, Rgetattr { valid: GetattrMask::BASIC | GetattrMask::GEN, attr: attr(42) })
}

fn dirents(n: u64) -> Vec<Dirent> {
    (0..n)
        .map(|i| Dirent {
            qid: Qid { ty: QidType::FILE, version: 0, path: 100 + i },
            offset: i + 3,
            ty: DirentType::REG,
            name: format!("file-{i:04}.dat").into(),
        })
        .collect()
}

fn rreaddir(n: u64) -> Frame {
    let mut packer = DirPacker::<Dirent>::new(usize::MAX, Dialect::L);
    for e in dirents(n) {
        packer.push(&e).expect("short names encode");
    }
    Frame::new(1, Rreaddir { data: packer.finish_block() })
}

fn encoded(frame: &Frame, dialect: Dialect) -> Bytes {
    let mut buf = BytesMut::new();
    frame.encode(dialect, &mut buf).expect("valid frame");
    buf.freeze()
}

fn cases() -> Vec<(&'static str, Frame, Dialect)> {
    vec![
        ("Rread 1MiB", rread(MIB), Dialect::L),
        ("Twrite 1MiB", twrite(MIB), Dialect::L),
        ("Twrite 1MiB .Z", twrite_z(MIB), Dialect::Z),
        ("Rgetattr", rgetattr(), Dialect::L),
        ("Rreaddir 100", rreaddir(100), Dialect::L),
    ]
}

fn encode(c: &mut Criterion) {
    let mut g = c.benchmark_group("encode");
    // The floor for any encoder that copies a 1 MiB payload: copying it.
    let raw = vec![0xa5u8; MIB];
    let mut dst = BytesMut::with_capacity(MIB + 64);
    g.throughput(Throughput::Bytes(MIB as u64));
    g.bench_function("baseline memcpy 1MiB", |b| {
        b.iter(|| {
            dst.clear();
            dst.extend_from_slice(black_box(&raw));
            black_box(&dst);
        })
    });
    for (name, frame, dialect) in cases() {
        let len = frame.encoded_len(dialect).expect("valid frame");
        g.throughput(Throughput::Bytes(len as u64));
        let mut buf = BytesMut::with_capacity(len);
        g.bench_function(name, |b| {
            b.iter(|| {
                buf.clear();
                black_box(&frame).encode(dialect, &mut buf).expect("encodes");
                black_box(&buf);
            })
        });
        if frame.message.payload().is_some() {
            let mut head = BytesMut::with_capacity(64);
            g.bench_function(format!("{name} vectored"), |b| {
                b.iter(|| {
                    head.clear();
                    black_box(
                        black_box(&frame).encode_vectored(dialect, &mut head).expect("encodes"),
                    );
                })
            });
        }
    }
    // Packing a directory listing entry by entry, as a server does.
    let entries = dirents(100);
    g.throughput(Throughput::Elements(100));
    g.bench_function("pack 100 dirents", |b| {
        b.iter(|| {
            let mut packer = DirPacker::<Dirent>::new(8192, Dialect::L);
            for e in &entries {
                packer.push(black_box(e)).expect("encodes");
            }
            black_box(packer.finish_block())
        })
    });
    g.finish();
}

fn decode(c: &mut Criterion) {
    let mut g = c.benchmark_group("decode");
    for (name, frame, dialect) in cases() {
        let wire = encoded(&frame, dialect);
        g.throughput(Throughput::Bytes(wire.len() as u64));
        g.bench_function(name, |b| {
            b.iter(|| black_box(Frame::decode(black_box(wire.clone()), dialect).expect("decodes")))
        });
    }
    g.finish();
}

fn payload_size(c: &mut Criterion) {
    let mut g = c.benchmark_group("payload_size");
    for len in [4 << 10, 64 << 10, MIB] {
        for (name, frame) in [("decode Rread", rread(len)), ("decode Twrite", twrite(len))] {
            let wire = encoded(&frame, Dialect::L);
            g.throughput(Throughput::Bytes(wire.len() as u64));
            g.bench_with_input(BenchmarkId::new(name, len), &wire, |b, wire| {
                b.iter(|| {
                    black_box(Frame::decode(black_box(wire.clone()), Dialect::L).expect("ok"))
                })
            });
        }
    }
    g.finish();
}

criterion_group!(benches, encode, decode, payload_size);
criterion_main!(benches);
