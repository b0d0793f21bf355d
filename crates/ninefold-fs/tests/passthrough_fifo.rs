//! Passthrough FIFOs: opening one never pins a thread, reads and writes
//! wait without a thread and stop when their future is dropped (what a
//! Tflush or a disconnect does), and hundreds of waiting FIFOs leave the
//! blocking pool free for everyone else.

#![cfg(all(feature = "passthrough", target_os = "linux"))]

mod passthrough_support;

use std::io::{Read, Write};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use ninefold_proto::{Errno, GetattrMask, OpenFlags, S_IFIFO};
use ninefold_server::{Handle, Node};
use passthrough_support::*;
use tokio::time::timeout;

/// A runtime whose blocking pool is tiny, so that a thread pinned by a
/// FIFO shows up at once as a stalled getattr.
/// Runs `body` on it, then shuts the runtime down without waiting for
/// a pinned thread (so a regression fails instead of hanging).
fn on_small_pool(body: impl std::future::Future<Output = ()>) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .max_blocking_threads(4)
        .enable_all()
        .build()
        .unwrap();
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| rt.block_on(body)));
    rt.shutdown_timeout(Duration::from_secs(1));
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
}

async fn fifo(root: &Arc<dyn Node>, name: &str) -> Arc<dyn Node> {
    root.mknod(&req(), name.as_bytes(), S_IFIFO | 0o666, 0, 0, 0).await.unwrap();
    walk(root, name).await.unwrap()
}

const SOON: Duration = Duration::from_secs(5);

#[test]
fn read_only_open_without_writer_returns_and_pins_nothing() {
    on_small_pool(async {
        let fx = Fixture::new();
        std::fs::write(fx.path("plain"), b"x").unwrap();
        let root = fx.root();
        let plain = walk(&root, "plain").await.unwrap();
        let mut pending = Vec::new();
        for i in 0..200 {
            let node = fifo(&root, &format!("p{i}")).await;
            let h = timeout(SOON, open(&node, OpenFlags::RDONLY))
                .await
                .expect("a read-only FIFO open with no writer must not block")
                .unwrap();
            // A read with no data waits: it must wait without a thread.
            let task = tokio::spawn(async move { h.read(&req(), node.as_ref(), 0, 4096).await });
            pending.push(task);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        // The blocking pool (4 threads) still serves everyone else.
        for _ in 0..20 {
            timeout(SOON, plain.getattr(&req(), GetattrMask::ALL))
                .await
                .expect("getattr stalled behind waiting FIFO reads")
                .unwrap();
        }
        assert!(pending.iter().all(|t| !t.is_finished()), "reads with no writer keep waiting");
        // Dropping the futures (a Tflush, a disconnect) ends the waits.
        for t in &pending {
            t.abort();
        }
        for t in pending {
            assert!(t.await.unwrap_err().is_cancelled());
        }
    });
}

#[test]
fn read_returns_data_and_eof_from_a_host_writer() {
    on_small_pool(async {
        let fx = Fixture::new();
        let root = fx.root();
        let node = fifo(&root, "pipe").await;
        let h = open(&node, OpenFlags::RDONLY).await.unwrap();
        let path = fx.path("pipe");
        let writer = std::thread::spawn(move || {
            let mut w = std::fs::OpenOptions::new().write(true).open(path).unwrap();
            w.write_all(b"through the pipe").unwrap();
        });
        let mut got = Vec::new();
        loop {
            let chunk = timeout(SOON, h.read(&req(), node.as_ref(), 0, 4096))
                .await
                .expect("data or EOF must arrive")
                .unwrap();
            if chunk.is_empty() {
                break;
            }
            got.extend_from_slice(&chunk);
        }
        writer.join().unwrap();
        assert_eq!(got, b"through the pipe");
        h.release(&req(), node.as_ref()).await.unwrap();
    });
}

#[test]
fn write_open_waits_for_a_reader_and_is_cancellable() {
    on_small_pool(async {
        let fx = Fixture::new();
        std::fs::write(fx.path("plain"), b"x").unwrap();
        let root = fx.root();
        let plain = walk(&root, "plain").await.unwrap();

        // No reader: the open waits (as open(2) would), without a thread,
        // and stops when its future is dropped.
        let node = fifo(&root, "w").await;
        let mut waits = Vec::new();
        for _ in 0..50 {
            let node = node.clone();
            waits.push(tokio::spawn(async move { open(&node, OpenFlags::WRONLY).await.map(drop) }));
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert!(waits.iter().all(|t| !t.is_finished()), "no reader yet");
        timeout(SOON, plain.getattr(&req(), GetattrMask::ALL))
            .await
            .expect("getattr stalled behind waiting FIFO opens")
            .unwrap();
        for t in &waits {
            t.abort();
        }

        // The same open completes once a reader shows up, and the data
        // reaches it.
        let path = fx.path("w");
        let reader = std::thread::spawn(move || {
            let mut r = std::fs::File::open(path).unwrap();
            let mut s = Vec::new();
            r.read_to_end(&mut s).unwrap();
            s
        });
        let h: Arc<dyn Handle> = timeout(SOON, open(&node, OpenFlags::WRONLY))
            .await
            .expect("the open completes once a reader is there")
            .unwrap();
        let n = h.write(&req(), node.as_ref(), 0, Bytes::from_static(b"hello")).await.unwrap();
        assert_eq!(n, 5);
        h.release(&req(), node.as_ref()).await.unwrap();
        drop(h);
        assert_eq!(reader.join().unwrap(), b"hello");
    });
}

#[test]
fn flushed_write_open_answers_eintr() {
    on_small_pool(async {
        let fx = Fixture::new();
        let root = fx.root();
        let node = fifo(&root, "w").await;
        let token = tokio_util::sync::CancellationToken::new();
        let r = req().with_cancellation(token.clone());
        let waiting = tokio::spawn({
            let node = node.clone();
            async move { node.open(&r, OpenFlags::WRONLY).await.map(drop) }
        });
        tokio::time::sleep(Duration::from_millis(100)).await;
        token.cancel();
        let got = timeout(SOON, waiting).await.expect("a flush ends the wait").unwrap();
        assert_eq!(got.unwrap_err(), Errno::EINTR);
    });
}
