//! Hostile clients: a client that never reads its replies, a filesystem
//! method that panics. Each must cost the server a bounded amount and
//! leave the connection usable.

mod support;

use std::sync::Arc;
use std::time::Duration;

use bytes::BytesMut;
use ninefold_proto::{base, l, Dialect, Errno, Frame, GetattrMask, Message, OpenFlags, NOTAG};
use ninefold_server::{Node, Server};
use support::{errno, Raw};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn encode(dialect: Dialect, tag: u16, msg: impl Into<Message>) -> Vec<u8> {
    let mut out = BytesMut::new();
    Frame::new(tag, msg).encode(dialect, &mut out).expect("encodable");
    out.to_vec()
}

/// Serves one connection over a 16 KiB in-memory pipe and writes the
/// requests `frame(i)` until the server stops taking them (a write stalls
/// for two seconds) or 200,000 were taken. Never reads a reply after the
/// optional negotiation. Returns the request bytes the server accepted.
async fn bytes_taken_from_a_client_that_never_reads(
    negotiate: bool,
    frame: impl Fn(usize) -> Vec<u8>,
) -> Option<usize> {
    let tree = support::tree();
    let root: Arc<dyn Node> = tree.root.clone();
    let server = Server::builder(root).max_inflight(4).max_queued(4).build().unwrap();
    let (client, server_side) = tokio::io::duplex(16 * 1024);
    tokio::spawn(async move { server.serve_connection(server_side).await });
    let (mut rd, mut wr) = tokio::io::split(client);
    if negotiate {
        let v = base::Tversion { msize: 8192, version: "9P2000.L".into() };
        wr.write_all(&encode(Dialect::Base, NOTAG, v)).await.unwrap();
        let mut head = [0u8; 4];
        rd.read_exact(&mut head).await.unwrap();
        let mut rest = vec![0u8; u32::from_le_bytes(head) as usize - 4];
        rd.read_exact(&mut rest).await.unwrap();
        assert_eq!(rest[0], 101, "Rversion");
    }
    let mut taken = 0;
    for i in 0..200_000 {
        let bytes = frame(i);
        match tokio::time::timeout(Duration::from_secs(2), wr.write_all(&bytes)).await {
            Ok(r) => r.unwrap(),
            Err(_) => return Some(taken),
        }
        taken += bytes.len();
    }
    // Keep the reader alive until here: the replies are unread, not lost.
    drop(rd);
    None
}

fn assert_back_pressure(taken: Option<usize>, what: &str) {
    match taken {
        Some(n) => assert!(n < 1 << 20, "{what}: the server took {n} bytes before pushing back"),
        None => panic!("{what}: the server took 200,000 requests whose replies nobody read"),
    }
}

#[tokio::test]
async fn error_replies_before_tversion_meet_back_pressure() {
    let taken = bytes_taken_from_a_client_that_never_reads(false, |i| {
        encode(Dialect::Base, i as u16, base::Tclunk { fid: 1 })
    })
    .await;
    assert_back_pressure(taken, "Rerror before Tversion");
}

#[tokio::test]
async fn error_replies_after_tversion_meet_back_pressure() {
    // Tclunk of a fid that does not exist: answered at admission.
    let taken = bytes_taken_from_a_client_that_never_reads(true, |i| {
        encode(Dialect::L, (i % 60_000) as u16, base::Tclunk { fid: 77 })
    })
    .await;
    assert_back_pressure(taken, "Rlerror at admission");
}

#[tokio::test]
async fn immediate_rflushes_meet_back_pressure() {
    let taken = bytes_taken_from_a_client_that_never_reads(true, |i| {
        encode(Dialect::L, (i % 60_000) as u16, base::Tflush { oldtag: 65_000 })
    })
    .await;
    assert_back_pressure(taken, "Rflush of an unknown tag");
}

#[tokio::test]
async fn undecodable_requests_meet_back_pressure() {
    // A Tread cut short: answered with an error, never admitted.
    let taken = bytes_taken_from_a_client_that_never_reads(true, |i| {
        let mut f =
            encode(Dialect::L, (i % 60_000) as u16, base::Tread { fid: 0, offset: 0, count: 1 });
        f.truncate(f.len() - 2);
        let len = f.len() as u32;
        f[0..4].copy_from_slice(&len.to_le_bytes());
        f
    })
    .await;
    assert_back_pressure(taken, "undecodable requests");
}

#[tokio::test]
async fn a_panicking_method_is_eio_and_releases_tag_permit_and_fid() {
    // One running slot and no queue: a leaked permit would stall the next
    // request for good.
    let tree = support::tree();
    tree.root.add("panic", support::Panics::new());
    let s = support::start_tree_with(tree, |b| b.max_inflight(1).max_queued(0)).await;
    let mut c = Raw::attached(s.addr, Dialect::L).await;
    assert!(matches!(c.walk(0, 1, &["panic"]).await, Message::Rwalk(_)));
    assert!(matches!(c.lopen(1, OpenFlags::RDONLY).await, Message::Rlopen(_)));
    for _ in 0..3 {
        let r = c.rpc_tag(5, base::Tread { fid: 1, offset: 0, count: 8 }).await;
        assert_eq!(errno(&r), Errno::EIO, "{r:?}");
    }
    // The tag and the permit are free: other requests run.
    let r = c.rpc_tag(5, l::Tgetattr { fid: 0, request_mask: GetattrMask::BASIC }).await;
    assert!(matches!(r, Message::Rgetattr(_)), "{r:?}");
    // The fid is not left busy: its clunk (which waits for every earlier
    // request on it) completes, and the number is free again.
    let r = c.rpc(base::Tclunk { fid: 1 }).await;
    assert!(matches!(r, Message::Rclunk(_)), "{r:?}");
    assert!(matches!(c.walk(0, 1, &["hello"]).await, Message::Rwalk(_)));
}
