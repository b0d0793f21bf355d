//! Passthrough node identity: one `O_PATH` descriptor per host inode
//! however many fids name it, and `resolve` by `qid.path` (Trebind) that
//! survives renames and the fids being gone.

#![cfg(all(feature = "passthrough", target_os = "linux"))]

mod passthrough_support;

use std::sync::Arc;

use ninefold_proto::{Errno, OpenFlags};
use ninefold_server::{Node, Opened};
use passthrough_support::*;

/// What one open handle holds: its directory, its file and the open.
type Held = (Arc<dyn Node>, Arc<dyn Node>, Opened);

fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").unwrap().count()
}

/// What a client opening `N` files under `d/` costs: per handle, a walk
/// (`d`, then the file, as the server's location chain holds them) and
/// an open.
#[tokio::test(flavor = "current_thread")]
async fn descriptors_per_open_handle() {
    const N: usize = 500;
    let fx = Fixture::new();
    std::fs::create_dir(fx.path("d")).unwrap();
    for i in 0..N {
        std::fs::write(fx.path(&format!("d/f{i}")), b"x").unwrap();
    }
    let root = fx.root();
    let before = open_fds();
    let mut held: Vec<Held> = Vec::new();
    for i in 0..N {
        let d = root.lookup(&req(), b"d").await.unwrap();
        let f = d.lookup(&req(), format!("f{i}").as_bytes()).await.unwrap();
        let opened = f.open(&req(), OpenFlags::RDONLY).await.unwrap();
        held.push((d, f, opened));
    }
    let used = open_fds() - before;
    let per = used as f64 / N as f64;
    println!("descriptors for {N} open handles: {used} ({per:.2} per handle)");
    // One O_PATH per inode (the shared `d` once) plus the open file.
    assert!(used <= 2 * N + 8, "{used} descriptors for {N} handles");
    // Walking the same file again shares its descriptor.
    let again = open_fds();
    let extra: Vec<_> = {
        let mut v = Vec::new();
        for _ in 0..50 {
            v.push(walk(&root, "d/f0").await.unwrap());
        }
        v
    };
    assert!(open_fds() - again <= 2, "walks of one file share one descriptor");
    drop((extra, held));
}

#[tokio::test]
async fn resolve_finds_renamed_objects_after_their_fids_are_gone() {
    let fx = Fixture::new();
    std::fs::create_dir_all(fx.path("a/b")).unwrap();
    std::fs::write(fx.path("a/b/file"), b"data").unwrap();
    let fs = fx.fs();
    let root = fs.root();
    let (file, dir_b) = {
        let b = walk(&root, "a/b").await.unwrap();
        let f = b.lookup(&req(), b"file").await.unwrap();
        (f.qid().path, b.qid().path)
    };
    // Every node is dropped (a reconnect's fids are gone); a rename
    // through the server moves the file meanwhile.
    let a = walk(&root, "a").await.unwrap();
    let b = a.lookup(&req(), b"b").await.unwrap();
    b.rename(&req(), b"file", &a, b"moved").await.unwrap();
    drop((a, b));
    let found = root.resolve(&req(), file).await.unwrap();
    assert_eq!(found.qid().path, file);
    let opened = found.open(&req(), OpenFlags::RDONLY).await.unwrap();
    let data = opened.handle.unwrap().read(&req(), &*found, 0, 10).await.unwrap();
    assert_eq!(&data[..], b"data");
    assert!(root.resolve(&req(), dir_b).await.unwrap().qid().is_dir());
    // Replaced behind the server's back: never another object.
    drop(found);
    std::fs::remove_file(fx.path("a/moved")).unwrap();
    std::fs::write(fx.path("a/moved"), b"impostor").unwrap();
    assert_eq!(root.resolve(&req(), file).await.unwrap_err(), Errno::ESTALE);
    assert_eq!(root.resolve(&req(), 1 << 40).await.unwrap_err(), Errno::ESTALE);
}

/// A walk to a name whose object another fid holds open reuses that
/// object's descriptor only while the name still holds it: replaced,
/// removed or renamed on the host behind the server's back, the walk
/// finds what is there now.
#[tokio::test]
async fn walks_to_held_objects_follow_the_name_not_the_guess() {
    let fx = Fixture::new();
    std::fs::write(fx.path("f"), b"first").unwrap();
    let root = fx.root();
    let held = root.lookup(&req(), b"f").await.unwrap();
    let again = root.lookup(&req(), b"f").await.unwrap();
    assert_eq!(again.qid().path, held.qid().path, "the same object while the name holds it");
    drop(again);

    // Replaced on the host: another inode at the same name.
    std::fs::write(fx.path("g"), b"second").unwrap();
    std::fs::rename(fx.path("g"), fx.path("f")).unwrap();
    let now = root.lookup(&req(), b"f").await.unwrap();
    assert_ne!(now.qid().path, held.qid().path, "the replacement, not the held object");
    let opened = now.open(&req(), OpenFlags::RDONLY).await.unwrap();
    let data = match &opened.handle {
        Some(h) => h.read(&req(), &*now, 0, 64).await.unwrap(),
        None => now.read(&req(), 0, 64).await.unwrap(),
    };
    assert_eq!(&data[..], b"second");
    drop((now, opened));

    // Removed on the host while `held` still names the old object.
    std::fs::remove_file(fx.path("f")).unwrap();
    let gone = root.lookup(&req(), b"f").await.err();
    assert_eq!(gone, Some(Errno::ENOENT));
    drop(held);
}
