//! What an idle negotiated connection costs the server in heap: issue 16's
//! budget is 64 KiB per connection (RSS). Every heap byte of this process
//! is counted (dhat's allocator), so this binary holds a single test, and
//! the clients are plain blocking sockets that keep nothing on the heap
//! while the count is taken. No timing is measured.

mod support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use bytes::BytesMut;
use ninefold_proto::{base, framing, Dialect, Frame, NOFID, NOTAG};

#[global_allocator]
static ALLOC: dhat::Alloc = dhat::Alloc;

/// Issue 16's budget for an idle negotiated connection.
const BUDGET: u64 = 64 << 10;
/// Connections measured.
const CONNS: usize = 200;

/// Tversion (msize 1 MiB + 24, the largest the bench asks for) and
/// Tattach, as bytes.
fn handshake() -> Vec<u8> {
    let mut out = BytesMut::new();
    let v = base::Tversion { msize: (1 << 20) + 24, version: Dialect::L.version().into() };
    Frame::new(NOTAG, v).encode(Dialect::L, &mut out).unwrap();
    let a =
        base::Tattach { fid: 0, afid: NOFID, uname: "root".into(), aname: "".into(), n_uname: 0 };
    Frame::new(1, a).encode(Dialect::L, &mut out).unwrap();
    out.to_vec()
}

/// Reads the two replies into a stack buffer; true when the second is
/// Rattach.
fn negotiated(s: &mut TcpStream) -> bool {
    let mut buf = [0u8; 512];
    let mut have = 0;
    let mut frames = 0;
    while frames < 2 {
        let n = s.read(&mut buf[have..]).unwrap();
        assert!(n > 0, "the server closed the connection");
        have += n;
        while let Ok(framing::FrameStatus::Complete { frame_len }) =
            framing::check(&buf[..have], 512)
        {
            frames += 1;
            if frames == 2 {
                return buf[4] == 105; // Rattach
            }
            buf.copy_within(frame_len..have, 0);
            have -= frame_len;
        }
    }
    false
}

fn curr() -> u64 {
    dhat::HeapStats::get().curr_bytes as u64
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_negotiated_connection_costs_less_than_64_kib() {
    let _profiler = dhat::Profiler::builder().testing().build();
    let s = support::start().await;
    let addr = s.addr;
    let hello = handshake();
    let (per_conn, after_close) = tokio::task::spawn_blocking(move || {
        let mut open: Vec<TcpStream> = Vec::with_capacity(CONNS + 1);
        // One connection first: what the server sets up once is not
        // charged to the measured ones.
        let mut warm = TcpStream::connect(addr).unwrap();
        warm.write_all(&hello).unwrap();
        assert!(negotiated(&mut warm));
        std::thread::sleep(Duration::from_millis(200));
        let before = curr();
        for _ in 0..CONNS {
            let mut c = TcpStream::connect(addr).unwrap();
            c.set_nodelay(true).unwrap();
            c.write_all(&hello).unwrap();
            assert!(negotiated(&mut c), "Tattach answered");
            open.push(c);
        }
        // The replies are in; let the writer tasks go back to waiting.
        std::thread::sleep(Duration::from_millis(300));
        let during = curr();
        let per_conn = during.saturating_sub(before) / CONNS as u64;
        drop(open);
        // Closed connections give their memory back (a leak check, not a
        // timing: up to 10 s for the server to notice every close).
        let mut after = curr();
        for _ in 0..100 {
            if after <= before + (BUDGET / 4) {
                break;
            }
            std::thread::sleep(Duration::from_millis(100));
            after = curr();
        }
        drop(warm);
        (per_conn, after.saturating_sub(before))
    })
    .await
    .unwrap();
    eprintln!(
        "an idle negotiated connection (msize 1 MiB) holds {per_conn} heap bytes in the server; \
         {after_close} bytes remain after {CONNS} closed"
    );
    assert!(per_conn < BUDGET, "an idle connection holds {per_conn} bytes (budget {BUDGET})");
    assert!(
        after_close <= BUDGET / 4,
        "{after_close} bytes still held after every measured connection closed"
    );
}
