//! Limits: msize, fids, in-flight, connections, idle time.

mod support;

use std::sync::atomic::Ordering;
use std::time::Duration;

use bytes::Bytes;
use ninefold_proto::{base, Dialect, Errno, Message, OpenFlags, NOTAG};
use support::{errno, Raw};

#[tokio::test]
async fn fid_limit_answers_emfile() {
    let s = support::start_with(|b| b.max_fids(4)).await;
    let mut c = Raw::attached(s.addr, Dialect::L).await;
    for fid in 1..4 {
        assert!(matches!(c.walk(0, fid, &[]).await, Message::Rwalk(_)));
    }
    assert_eq!(errno(&c.walk(0, 4, &[]).await), Errno::EMFILE);
    c.rpc(base::Tclunk { fid: 3 }).await;
    assert!(matches!(c.walk(0, 4, &[]).await, Message::Rwalk(_)), "a clunk frees a slot");
}

#[tokio::test]
async fn reads_are_clamped_below_msize() {
    let s = support::start().await;
    let mut c = Raw::connect(s.addr).await;
    c.rpc_tag(NOTAG, base::Tversion { msize: 4096, version: "9P2000.L".into() }).await;
    c.rpc(base::Tattach {
        fid: 0,
        afid: ninefold_proto::NOFID,
        uname: "".into(),
        aname: "".into(),
        n_uname: 0,
    })
    .await;
    c.walk(0, 1, &["hello"]).await;
    c.lopen(1, OpenFlags::RDWR).await;
    let big = Bytes::from(vec![b'x'; 4096 - 23]);
    let r = c.rpc(base::Twrite { fid: 1, offset: 0, data: big }).await;
    assert!(matches!(r, Message::Rwrite(_)), "{r:?}");
    c.send(1, base::Tread { fid: 1, offset: 0, count: u32::MAX }).await;
    let f = c.recv().await;
    let Message::Rread(d) = f.message else { panic!() };
    assert!(11 + d.data.len() < 4096, "reply frame {} stays below msize", 11 + d.data.len());
    // A frame over msize ends the connection.
    let big = Bytes::from(vec![b'x'; 5000]);
    c.send(2, base::Twrite { fid: 1, offset: 0, data: big }).await;
    assert!(c.try_recv().await.is_none());
}

#[tokio::test]
async fn connection_limit_closes_extra_connections() {
    let s = support::start_with(|b| b.max_connections(1)).await;
    let mut first = Raw::attached(s.addr, Dialect::L).await;
    let mut second = Raw::connect(s.addr).await;
    second.send(NOTAG, base::Tversion { msize: 8192, version: "9P2000.L".into() }).await;
    assert!(second.try_recv().await.is_none(), "the second connection is closed");
    assert!(matches!(first.walk(0, 1, &[]).await, Message::Rwalk(_)), "the first is served");
}

#[tokio::test]
async fn idle_connections_are_closed() {
    let s = support::start_with(|b| b.idle_timeout(Duration::from_millis(200))).await;
    let mut c = Raw::attached(s.addr, Dialect::L).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(c.try_recv().await.is_none());
}

/// A connection whose receive buffer a large frame grew (it shrinks after
/// a quiet second) is still closed when the idle timeout says, counted
/// from the last frame.
#[tokio::test]
async fn idle_timeout_is_exact_after_a_large_frame() {
    let s = support::start_with(|b| b.idle_timeout(Duration::from_millis(500))).await;
    let mut c = Raw::attached(s.addr, Dialect::L).await;
    // msize 64 KiB: the largest Twrite that fits.
    let data = Bytes::from(vec![1u8; (64 << 10) - 23]);
    let r = c.rpc(base::Twrite { fid: 0, offset: 0, data }).await;
    assert!(matches!(r, Message::Rlerror(_)), "{r:?}");
    let quiet = std::time::Instant::now();
    assert!(c.try_recv().await.is_none(), "closed");
    let after = quiet.elapsed();
    assert!(
        after >= Duration::from_millis(450) && after < Duration::from_millis(900),
        "closed {after:?} after the last reply (idle timeout 500 ms)"
    );
}

#[tokio::test]
async fn inflight_bound_is_back_pressure_not_failure() {
    let s = support::start_with(|b| b.max_inflight(2).max_queued(2)).await;
    let mut c = Raw::attached(s.addr, Dialect::L).await;
    c.walk(0, 1, &["slow"]).await;
    c.lopen(1, OpenFlags::RDONLY).await;
    for tag in 0..8 {
        c.send(tag, base::Tread { fid: 1, offset: 0, count: 4 }).await;
    }
    let mut tags = Vec::new();
    for _ in 0..8 {
        let f = c.recv().await;
        assert!(matches!(f.message, Message::Rread(_)), "{:?}", f.message);
        tags.push(f.tag);
    }
    tags.sort();
    assert_eq!(tags, (0..8).collect::<Vec<u16>>(), "every read is answered");
    let slow = &s.tree.slow;
    assert_eq!(slow.finished.load(Ordering::SeqCst), 8);
    // Eight 300 ms reads, two slots: the limit is reached and never
    // exceeded.
    assert_eq!(slow.peak.load(Ordering::SeqCst), 2, "reads running at once");
    assert_eq!(slow.running.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn graceful_shutdown_finishes_in_flight_requests() {
    let s = support::start().await;
    let mut c = Raw::attached(s.addr, Dialect::L).await;
    c.walk(0, 1, &["slow"]).await;
    c.lopen(1, OpenFlags::RDONLY).await;
    c.send(5, base::Tread { fid: 1, offset: 0, count: 4 }).await;
    tokio::time::sleep(Duration::from_millis(30)).await;
    let server = s.server.clone();
    let shut = tokio::spawn(async move { server.shutdown().await });
    let f = c.recv().await;
    assert_eq!((f.tag, f.message.name()), (5, "Rread"), "the read in flight completes");
    assert!(c.try_recv().await.is_none(), "then the connection closes");
    shut.await.unwrap();
    assert!(tokio::net::TcpStream::connect(s.addr).await.is_err() || s.server.connections() == 0);
}
