//! Reconnect-and-replay of the path-level `Client` across a restart of
//! our own server (in process, memfs, restarted on the same port with the
//! same tree unless a test says otherwise).

mod support;

use std::time::{Duration, Instant};

use ninefold_client::{Client, ConnectOptions, OpenOptions};
use ninefold_fs::memfs::MemFs;
use ninefold_server::Exports;
use support::{serve_in_process, serve_on_port, Served, MEMFS_ANAME};

/// Bound on every wait for a reconnect.
const GUARD: Duration = Duration::from_secs(5);

fn serve(fs: &MemFs, port: Option<u16>) -> Served {
    let exports = Exports::new().export(MEMFS_ANAME, fs.root());
    match port {
        Some(p) => serve_on_port(exports, p),
        None => serve_in_process(exports),
    }
}

fn port_of(s: &Served) -> u16 {
    s.target.rsplit(':').next().and_then(|p| p.parse().ok()).expect("port")
}

fn options() -> ConnectOptions {
    ConnectOptions::new()
        .aname(MEMFS_ANAME)
        .msize(64 * 1024)
        .uid(0)
        .gid(0)
        .uname("root")
        .connect_timeout_ms(Some(2000))
}

/// Stops the server: its runtime goes, with the listener and every
/// connection (the client sees EOF).
fn stop(s: Served) {
    drop(s);
}

/// Waits until the client has reconnected at least `gen` times.
async fn wait_generation(c: &Client, gen: u64) {
    let deadline = Instant::now() + GUARD;
    while c.generation() < gen {
        assert!(Instant::now() < deadline, "no reconnect within {GUARD:?}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_survives_server_restart() {
    let fs = MemFs::new();
    let srv = serve(&fs, None);
    let port = port_of(&srv);
    let c = Client::connect_with(&srv.target, options()).await.unwrap();
    c.write("/a.txt", b"before").await.unwrap();
    assert_eq!(c.generation(), 0);

    stop(srv);
    let _srv = serve(&fs, Some(port));

    // Calls work again (they wait for the reconnect if it is not done yet).
    let m = tokio::time::timeout(GUARD, c.metadata("/a.txt")).await.unwrap().unwrap();
    assert_eq!(m.size, 6);
    assert!(c.generation() >= 1, "the client reconnected");
    assert_eq!(&c.read("/a.txt").await.unwrap()[..], b"before");
    c.write("/b.txt", b"after").await.unwrap();
    assert_eq!(&c.read("/b.txt").await.unwrap()[..], b"after");
    let mut names: Vec<String> =
        c.read_dir("/").await.unwrap().into_iter().map(|e| e.name).collect();
    names.sort();
    assert_eq!(names, ["a.txt", "b.txt"]);
    assert_eq!(c.capabilities().msize, 64 * 1024);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn open_handles_are_replayed() {
    let fs = MemFs::new();
    let srv = serve(&fs, None);
    let port = port_of(&srv);
    let c = Client::connect_with(&srv.target, options()).await.unwrap();
    c.create_dir("/d", 0o755).await.unwrap();
    let f =
        c.open("/d/f.bin", OpenOptions::new().read(true).write(true).create(true)).await.unwrap();
    f.write_at(0, b"0123456789").await.unwrap();
    let dir = c.open_dir("/d").await.unwrap();
    let old_session = c.session();

    stop(srv);
    let _srv = serve(&fs, Some(port));
    wait_generation(&c, 1).await;
    assert!(old_session.is_dead());

    // Positioned I/O through the same handle, after the reconnect.
    f.write_at(4, b"ab").await.unwrap();
    assert_eq!(&f.read_at(2, 6).await.unwrap()[..], b"23ab67");
    assert_eq!(f.metadata().await.unwrap().size, 10);
    assert!(c.session().owns(&f.fid().unwrap()), "the file reopened on the new connection");
    // The open flags were replayed without TRUNC/CREATE: data kept.
    assert_eq!(&c.read("/d/f.bin").await.unwrap()[..], b"0123ab6789");
    // The directory handle re-walked its path too.
    assert_eq!(dir.metadata_at("f.bin").await.unwrap().size, 10);
    let listed: Vec<String> =
        dir.next_batch(None).await.unwrap().into_iter().map(|e| e.name).collect();
    assert_eq!(listed, ["f.bin"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_block_while_the_server_is_down() {
    let fs = MemFs::new();
    let srv = serve(&fs, None);
    let port = port_of(&srv);
    let c = Client::connect_with(&srv.target, options()).await.unwrap();
    c.write("/x", b"xyz").await.unwrap();
    let f = c.open("/x", OpenOptions::new().read(true)).await.unwrap();

    stop(srv);
    let c2 = c.clone();
    let meta = tokio::spawn(async move { c2.metadata("/x").await });
    let f2 = f.clone();
    let read = tokio::spawn(async move { f2.read_at(0, 3).await });
    let created = {
        let c3 = c.clone();
        tokio::spawn(async move { c3.write("/y", b"new").await })
    };
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert!(!meta.is_finished(), "a call blocks while the server is unreachable");
    assert!(!read.is_finished(), "handle I/O blocks too");
    assert!(!created.is_finished());
    assert_eq!(c.generation(), 0);

    let _srv = serve(&fs, Some(port));
    let m = tokio::time::timeout(GUARD, meta).await.expect("completes after restart").unwrap();
    assert_eq!(m.unwrap().size, 3);
    let b = tokio::time::timeout(GUARD, read).await.unwrap().unwrap().unwrap();
    assert_eq!(&b[..], b"xyz");
    tokio::time::timeout(GUARD, created).await.unwrap().unwrap().unwrap();
    assert_eq!(&c.read("/y").await.unwrap()[..], b"new");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_vanished_path_is_a_clear_error() {
    let fs = MemFs::new();
    let srv = serve(&fs, None);
    let port = port_of(&srv);
    let c = Client::connect_with(&srv.target, options()).await.unwrap();
    let f = c.create("/gone").await.unwrap();
    f.write_at(0, b"data").await.unwrap();

    stop(srv);
    // A new, empty tree behind the same address.
    let _srv = serve(&MemFs::new(), Some(port));
    wait_generation(&c, 1).await;
    let e = tokio::time::timeout(GUARD, f.read_at(0, 4)).await.unwrap().unwrap_err();
    assert!(e.is_stale(), "a handle whose path vanished is stale: {e:?}");
    assert_eq!(e.errno(), ninefold_client::Errno::ESTALE);
    assert!(!c.exists("/gone").await.unwrap());
    // The client itself is fine.
    c.write("/new", b"ok").await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropping_the_client_stops_reconnecting() {
    let fs = MemFs::new();
    let srv = serve(&fs, None);
    let c = Client::connect_with(&srv.target, options()).await.unwrap();
    let task = c.reconnect_task();
    assert!(task.upgrade().is_some(), "the reconnect task runs");

    // Server gone for good: the task is now in its backoff loop.
    stop(srv);
    let blocked = {
        let c2 = c.clone();
        tokio::spawn(async move { c2.metadata("/").await })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(task.upgrade().is_some());
    assert!(!blocked.is_finished());

    // A blocked caller holds the client; abandoning it and dropping the
    // client must end the task.
    blocked.abort();
    let _ = blocked.await;
    drop(c);
    let deadline = Instant::now() + GUARD;
    while task.upgrade().is_some() {
        assert!(Instant::now() < deadline, "the reconnect task outlived its client");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }

    // A client over a raw session never reconnects: its calls fail.
    let fs = MemFs::new();
    let srv = serve(&fs, None);
    let session = ninefold_client::Session::connect(&srv.target, 64 * 1024).await.unwrap();
    let (root, _) = session.attach("root", MEMFS_ANAME, 0).await.unwrap();
    let raw = Client::from_parts(session, root, options());
    assert!(raw.reconnect_task().upgrade().is_none());
    raw.write("/r", b"1").await.unwrap();
    stop(srv);
    let e = tokio::time::timeout(GUARD, raw.metadata("/r")).await.unwrap().unwrap_err();
    assert!(e.is_disconnected(), "{e:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sync_after_a_lineage_change_is_stale() {
    let fs = MemFs::new();
    let srv = serve(&fs, None);
    let port = port_of(&srv);
    let c = Client::connect_with(&srv.target, options()).await.unwrap();
    assert_eq!(c.capabilities().dialect, ninefold_client::Dialect::Z);
    let before = c.session().lineage().expect("Rgetlineage on .Z");
    let f = c.create("/w").await.unwrap();
    f.write_at(0, b"acknowledged").await.unwrap();

    // A new memory-backed server: durable history is gone, and its
    // lineage token says so.
    stop(srv);
    let _srv = serve(&MemFs::new(), Some(port));
    wait_generation(&c, 1).await;
    assert_ne!(c.session().lineage().unwrap().token, before.token);
    let e = tokio::time::timeout(GUARD, c.sync()).await.unwrap().unwrap_err();
    assert!(e.is_stale(), "{e:?}");
    // Nothing unsynced after a fresh write on the new server: sync passes.
    drop(f);
    let g = c.create("/w2").await.unwrap();
    g.write_at(0, b"x").await.unwrap();
    g.sync_all().await.unwrap();
}
