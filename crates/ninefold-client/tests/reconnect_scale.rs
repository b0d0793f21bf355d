//! Reconnect at scale (the failure of ZeroFS issue #572, where replaying
//! ~144,000 fids one by one under a fixed deadline livelocked a mount): a
//! client holding 150,000 open handles has its connection cut by a proxy
//! and must serve its first call after the cut in under a second, restore
//! handles lazily on their own first use, and refuse (Stale) a handle whose
//! path now names another file.
//!
//! The server is memfs in process (these machines cap a process at 20,000
//! descriptors; memfs holds no descriptor per open file), behind a small
//! proxy that cuts the connection.

mod support;

use std::time::{Duration, Instant};

use futures_util::stream::{self, StreamExt};
use ninefold_client::{Client, ConnectOptions, Dialect, File, OpenOptions};
use ninefold_fs::memfs::MemFs;
use ninefold_server::Exports;
use support::proxy::Proxy;
use support::{serve_custom, MEMFS_ANAME};

const HANDLES: usize = 150_000;
const FILES: usize = 100;

fn options(offer: &[Dialect]) -> ConnectOptions {
    ConnectOptions::new()
        .aname(MEMFS_ANAME)
        .uid(0)
        .gid(0)
        .uname("root")
        .max_in_flight(512)
        .dialects(offer.to_vec())
}

async fn scale(server_dialects: &[Dialect], want: Dialect) {
    let fs = MemFs::new();
    let served = serve_custom(Exports::new().export(MEMFS_ANAME, fs.root()), |b| {
        b.dialects(server_dialects).max_fids(HANDLES + 10_000)
    });
    let proxy = Proxy::start(&served.target).await;
    let c = Client::connect_with(&proxy.target, options(&ninefold_client::DEFAULT_DIALECTS))
        .await
        .unwrap();
    assert_eq!(c.capabilities().dialect, want);
    for i in 0..FILES {
        c.write(format!("/f{i}"), format!("file {i}")).await.unwrap();
    }
    c.write("/victim", b"old").await.unwrap();
    let victim = c.open("/victim", OpenOptions::new().read(true)).await.unwrap();

    let t = Instant::now();
    let ro = OpenOptions::new().read(true);
    let handles: Vec<File> = stream::iter(0..HANDLES)
        .map(|i| {
            let c = c.clone();
            async move { c.open(format!("/f{}", i % FILES), ro).await.unwrap() }
        })
        .buffered(256)
        .collect()
        .await;
    println!("{}: opened {HANDLES} handles in {:?}", want.version(), t.elapsed());
    assert_eq!(c.session().stats().fids_live, HANDLES + 2, "root + victim + handles");

    // The victim's path is given to another file (a second client, not
    // through the proxy).
    let other = Client::connect_with(&served.target, options(&[Dialect::L])).await.unwrap();
    other.remove_file("/victim").await.unwrap();
    other.write("/victim", b"another file").await.unwrap();

    let gen = c.generation();
    proxy.reset();
    proxy.cut();
    let t = Instant::now();
    let h = &handles[HANDLES / 2 + 3];
    let got = h.read_at(0, 64).await.unwrap();
    let first = t.elapsed();
    println!(
        "{}: first call after cutting a client holding {HANDLES} handles: {first:?} \
         ({} requests, generation {})",
        want.version(),
        proxy.round_trips(),
        c.generation()
    );
    assert_eq!(&got[..], format!("file {}", (HANDLES / 2 + 3) % FILES).as_bytes());
    assert!(c.generation() > gen, "reconnected");
    assert!(first < Duration::from_secs(1), "first call after the cut took {first:?}");
    // Lazy: one handshake and one restore, not a replay of every fid.
    assert!(proxy.round_trips() < 20, "{} requests", proxy.round_trips());

    // Restores on first use, many at once (bounded inside the client).
    let t = Instant::now();
    let sample: Vec<usize> = (0..HANDLES).step_by(HANDLES / 3000).collect();
    let ok = stream::iter(sample.iter().copied())
        .map(|i| {
            let h = handles[i].clone();
            async move {
                let b = h.read_at(0, 64).await.unwrap();
                assert_eq!(&b[..], format!("file {}", i % FILES).as_bytes());
            }
        })
        .buffer_unordered(1024)
        .count()
        .await;
    println!("{}: {ok} handles restored on first use in {:?}", want.version(), t.elapsed());

    // The replaced file: never silently the new one.
    let e = victim.read_at(0, 64).await.unwrap_err();
    assert!(e.is_stale(), "{e:?}");
    assert_eq!(&c.read("/victim").await.unwrap()[..], b"another file");
    drop(handles);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plain_l_150k_handles_first_call_under_a_second() {
    scale(&[Dialect::L], Dialect::L).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn z_150k_handles_first_call_under_a_second() {
    scale(&[Dialect::Z, Dialect::L], Dialect::Z).await;
}
