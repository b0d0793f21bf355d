//! Large Twrite frames served by memfs, which keeps a received frame's
//! payload as a file chunk when it replaces a whole chunk
//! (`bufpool::FRAMES`, memfs `Content::write_shared`): through the real
//! reader, pipelined, the file must read back byte for byte after whole-chunk
//! writes, partial overwrites of kept chunks, appends and truncation, and a
//! pipelined read answered before a later write keeps the old bytes.

mod support;

use std::collections::HashMap;
use std::sync::Arc;

use bytes::{Bytes, BytesMut};
use ninefold_fs::memfs::MemFs;
use ninefold_proto::{base, l, Dialect, Frame, Message, OpenFlags, SetattrMask};
use ninefold_server::{Node, Server};
use support::Raw;
use tokio::net::TcpListener;

const MSIZE: u32 = 1_048_600;
const CHUNK: usize = 1 << 20;

fn pattern(len: usize, seed: u8) -> Bytes {
    (0..len)
        .map(|i| (i as u8).wrapping_mul(seed | 1).wrapping_add(seed ^ (i >> 10) as u8))
        .collect::<Vec<u8>>()
        .into()
}

fn encode(tag: u16, msg: impl Into<Message>) -> BytesMut {
    let mut out = BytesMut::new();
    Frame::new(tag, msg).encode(Dialect::L, &mut out).unwrap();
    out
}

/// A memfs server and a connection with fid 1 open read-write on a new
/// file "f".
async fn memfs_file() -> (Server, Raw) {
    let fs = MemFs::new();
    let root: Arc<dyn Node> = fs.root();
    let server = Server::builder(root).build().unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let s = server.clone();
    tokio::spawn(async move { s.serve_tcp(listener).await });
    let mut c = Raw::connect(addr).await.negotiate_attach_at(Dialect::L, MSIZE).await;
    assert!(matches!(c.walk(0, 1, &[]).await, Message::Rwalk(_)));
    let r = c
        .rpc(l::Tlcreate { fid: 1, name: "f".into(), flags: OpenFlags::RDWR, mode: 0o644, gid: 0 })
        .await;
    assert!(matches!(r, Message::Rlcreate(_)), "{r:?}");
    (server, c)
}

/// Sends every request at once, then collects one reply per tag.
async fn pipeline(c: &mut Raw, reqs: Vec<(u16, Message)>) -> HashMap<u16, Message> {
    let mut stream = BytesMut::new();
    for (tag, m) in &reqs {
        stream.extend_from_slice(&encode(*tag, m.clone()));
    }
    c.send_raw(&stream).await;
    let mut replies = HashMap::new();
    for _ in 0..reqs.len() {
        let f = c.recv().await;
        assert!(replies.insert(f.tag, f.message).is_none(), "one reply per tag");
    }
    replies
}

async fn read_back(c: &mut Raw, len: usize) -> Vec<u8> {
    let mut got = Vec::with_capacity(len);
    loop {
        let r = c.rpc(base::Tread { fid: 1, offset: got.len() as u64, count: MSIZE - 11 }).await;
        let Message::Rread(d) = r else { panic!("read: {r:?}") };
        if d.data.is_empty() {
            return got;
        }
        got.extend_from_slice(&d.data);
    }
}

fn write(offset: usize, data: &Bytes) -> Message {
    base::Twrite { fid: 1, offset: offset as u64, data: data.clone() }.into()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kept_chunks_read_back_byte_for_byte() {
    let (_server, mut c) = memfs_file().await;
    let mut expect = Vec::new();
    for round in 0..3u8 {
        // Four whole chunks pipelined (kept), then overwrites inside them.
        let chunks: Vec<Bytes> = (0..4).map(|i| pattern(CHUNK, round * 8 + i + 1)).collect();
        let reqs =
            chunks.iter().enumerate().map(|(i, d)| (i as u16, write(i * CHUNK, d))).collect();
        let replies = pipeline(&mut c, reqs).await;
        for i in 0..4u16 {
            assert!(matches!(replies[&i], Message::Rwrite(ref w) if w.count as usize == CHUNK));
        }
        expect.clear();
        for d in &chunks {
            expect.extend_from_slice(d);
        }
        // A read of chunk 1 beside a whole-chunk write to it: concurrent
        // requests run in any order, but the read sees the write whole or
        // not at all.
        let new1 = pattern(CHUNK, 100 + round);
        let reqs = vec![
            (10, base::Tread { fid: 1, offset: CHUNK as u64, count: CHUNK as u32 }.into()),
            (11, write(CHUNK, &new1)),
        ];
        let replies = pipeline(&mut c, reqs).await;
        let Message::Rread(r) = &replies[&10] else { panic!("{:?}", replies[&10]) };
        assert!(
            r.data[..] == chunks[1][..] || r.data[..] == new1[..],
            "round {round}: the read saw a torn chunk"
        );
        // Then partial overwrites of kept chunks (apart, so their order
        // does not matter).
        let small = pattern(5000, 200 + round);
        let reqs = vec![(12, write(CHUNK + 777, &small)), (13, write(3 * CHUNK - 2500, &small))];
        let replies = pipeline(&mut c, reqs).await;
        assert!(replies.values().all(|r| matches!(r, Message::Rwrite(w) if w.count == 5000)));
        expect[CHUNK..2 * CHUNK].copy_from_slice(&new1);
        expect[CHUNK + 777..CHUNK + 5777].copy_from_slice(&small);
        expect[3 * CHUNK - 2500..3 * CHUNK + 2500].copy_from_slice(&small);
        let got = read_back(&mut c, expect.len()).await;
        assert!(got == expect, "round {round}: the file differs");
    }
    // A last chunk replaced whole and beyond, then appended to, then cut.
    let tail = pattern(700 * 1024, 77);
    let r = c.rpc(write(3 * CHUNK, &tail)).await;
    assert!(matches!(r, Message::Rwrite(_)), "{r:?}");
    expect.truncate(3 * CHUNK);
    expect.extend_from_slice(&tail);
    let more = pattern(500 * 1024, 78);
    let r = c.rpc(write(expect.len(), &more)).await;
    assert!(matches!(r, Message::Rwrite(_)), "{r:?}");
    expect.extend_from_slice(&more);
    assert!(read_back(&mut c, expect.len()).await == expect, "after appends");
    let size = 2 * CHUNK + 12_345;
    let r = c
        .rpc(l::Tsetattr {
            fid: 1,
            attr: l::SetAttr { valid: SetattrMask::SIZE, size: size as u64, ..Default::default() },
        })
        .await;
    assert!(matches!(r, Message::Rsetattr(_)), "{r:?}");
    expect.truncate(size);
    assert!(read_back(&mut c, expect.len()).await == expect, "after truncation");
}
