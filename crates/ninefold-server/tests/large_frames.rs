//! Large frames (256 KiB and more) are received into pooled buffers of
//! their own (`shell::read_frame`, `bufpool`): they must arrive whole in
//! any split, each answered once beside the frames around them, never
//! carry bytes of an earlier frame that used the same buffer, and a
//! connection that ends or stalls inside one is closed like any other.

mod support;

use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use ninefold_proto::{base, Dialect, Frame, GetattrMask, Message, OpenFlags};
use ninefold_server::AbuseLimits;
use support::Raw;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// The server's largest msize (its default `max_msize`).
const MSIZE: u32 = 1_048_600;

/// A connection at msize [`MSIZE`] with fid 1 open read-write on "hello".
async fn open_hello(addr: std::net::SocketAddr) -> Raw {
    let mut c = Raw::connect(addr).await.negotiate_attach_at(Dialect::L, MSIZE).await;
    assert!(matches!(c.walk(0, 1, &["hello"]).await, Message::Rwalk(_)));
    assert!(matches!(c.lopen(1, OpenFlags::RDWR).await, Message::Rlopen(_)));
    c
}

fn encode(tag: u16, msg: impl Into<Message>) -> BytesMut {
    let mut out = BytesMut::new();
    Frame::new(tag, msg).encode(Dialect::L, &mut out).unwrap();
    out
}

fn pattern(len: usize, seed: u8) -> Bytes {
    (0..len).map(|i| (i as u8).wrapping_mul(seed).wrapping_add(seed)).collect::<Vec<u8>>().into()
}

async fn read_back(c: &mut Raw, offset: u64, len: usize) -> Vec<u8> {
    let mut got = Vec::with_capacity(len);
    while got.len() < len {
        let count = ((len - got.len()) as u32).min(MSIZE - 11);
        let r = c.rpc(base::Tread { fid: 1, offset: offset + got.len() as u64, count }).await;
        let Message::Rread(d) = r else { panic!("read: {r:?}") };
        assert!(!d.data.is_empty(), "short file at {}", offset + got.len() as u64);
        got.extend_from_slice(&d.data);
    }
    got
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn large_writes_arrive_whole_in_any_split() {
    let s = support::start().await;
    let mut c = open_hello(s.addr).await;
    // Sizes around the pooled threshold and well above it, each with its
    // own pattern, with small requests between them; several rounds so
    // later frames reuse the buffers of earlier ones.
    let sizes = [65_536 - 23, 65_536, 300_001, 1 << 20, 70_000, 1_000_003];
    for round in 0..3u8 {
        let mut stream = BytesMut::new();
        let mut expect = Vec::new();
        let mut at = 0u64;
        for (i, &n) in sizes.iter().enumerate() {
            let data = pattern(n, round * 16 + i as u8 + 1);
            let tag = 10 + 2 * i as u16;
            stream.extend_from_slice(&encode(
                tag,
                base::Twrite { fid: 1, offset: at, data: data.clone() },
            ));
            stream.extend_from_slice(&encode(
                tag + 1,
                ninefold_proto::l::Tgetattr { fid: 1, request_mask: GetattrMask::BASIC },
            ));
            expect.push((tag, at, data));
            at += n as u64 + 4096;
        }
        // Odd pieces, a pause now and then, so frames split everywhere.
        let piece = [997, 4093, 65_521][round as usize];
        for (k, chunk) in stream.chunks(piece).enumerate() {
            c.send_raw(chunk).await;
            if k % 5 == 0 {
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
        }
        // Replies may come in any order (9P matches them by tag).
        let mut replies = std::collections::HashMap::new();
        for _ in 0..2 * expect.len() {
            let f = c.recv().await;
            assert!(replies.insert(f.tag, f.message).is_none(), "one reply per tag");
        }
        for (tag, _, data) in &expect {
            match replies.remove(tag) {
                Some(Message::Rwrite(w)) => assert_eq!(w.count as usize, data.len()),
                other => panic!("write {tag}: {other:?}"),
            }
            let r = replies.remove(&(tag + 1));
            assert!(matches!(r, Some(Message::Rgetattr(_))), "{r:?}");
        }
        for (_, at, data) in &expect {
            let got = read_back(&mut c, *at, data.len()).await;
            assert!(got == data[..], "round {round}: {} bytes at {at} differ", data.len());
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stream_ending_inside_a_large_frame_closes_only_that_connection() {
    let s = support::start().await;
    let mut c = open_hello(s.addr).await;
    let frame = encode(5, base::Twrite { fid: 1, offset: 0, data: pattern(1 << 20, 3) });
    c.send_raw(&frame[..200_000]).await;
    c.stream.shutdown().await.unwrap();
    assert!(c.try_recv().await.is_none(), "closed at the truncated frame");
    // Nothing of it was written, and the server serves the next client.
    let mut d = open_hello(s.addr).await;
    let r = d.rpc(base::Tread { fid: 1, offset: 0, count: 64 }).await;
    let Message::Rread(r) = r else { panic!("{r:?}") };
    assert_eq!(&r.data[..], b"hello world");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_large_frame_that_stalls_is_closed_at_the_frame_deadline() {
    let mut limits = AbuseLimits::default();
    limits.frame_timeout = Some(Duration::from_secs(1));
    let s = support::start_with(|b| b.limits(limits)).await;
    let mut c = open_hello(s.addr).await;
    let frame = encode(5, base::Twrite { fid: 1, offset: 0, data: pattern(1 << 20, 5) });
    let start = Instant::now();
    c.send_raw(&frame[..300_000]).await;
    let mut sink = [0u8; 64];
    let n = tokio::time::timeout(Duration::from_secs(10), c.stream.read(&mut sink))
        .await
        .expect("not closed within 10 s");
    assert!(matches!(n, Ok(0) | Err(_)), "closed, not answered: {n:?}");
    let took = start.elapsed();
    assert!(took >= Duration::from_millis(800) && took < Duration::from_secs(8), "{took:?}");
}
