//! Round trips per API call, counted by a proxy between the client and our
//! server (memfs), per dialect. Background Tclunks are not counted (no
//! call waits for them). The table printed here is the one in
//! `docs/CLIENT.md`; the expected numbers are asserted so that a plan that
//! grows a round trip fails.

mod support;

use ninefold_client::{Client, ConnectOptions, Dialect, NodeKind, OpenOptions, SetAttrs};
use ninefold_fs::memfs::MemFs;
use ninefold_server::Exports;
use support::proxy::Proxy;
use support::{serve_dialects, MEMFS_ANAME};

/// (call, round trips)
type Table = Vec<(&'static str, u64)>;

async fn count<F: std::future::Future>(
    p: &Proxy,
    t: &mut Table,
    name: &'static str,
    f: F,
) -> F::Output {
    p.reset();
    let out = f.await;
    t.push((name, p.round_trips()));
    out
}

async fn measure(server: &[Dialect], want: Dialect) -> Table {
    let fs = MemFs::new();
    let served = serve_dialects(Exports::new().export(MEMFS_ANAME, fs.root()), server);
    let p = Proxy::start(&served.target).await;
    let opts = ConnectOptions::new().aname(MEMFS_ANAME).uid(0).gid(0).uname("root");
    let c = Client::connect_with(&p.target, opts).await.unwrap();
    assert_eq!(c.capabilities().dialect, want);
    c.create_dir_all("/a/b", 0o755).await.unwrap();
    c.write("/a/b/small", vec![5u8; 4096]).await.unwrap();
    for i in 0..10 {
        c.write(format!("/a/list{i}"), b"x").await.unwrap();
    }
    let t = &mut Table::new();
    let p = &p;
    count(p, t, "metadata(\"/a/b/small\")", c.metadata("/a/b/small")).await.unwrap();
    count(p, t, "stat", c.stat("/a/b/small")).await.unwrap();
    count(p, t, "exists", c.exists("/a/b/small")).await.unwrap();
    let data = count(p, t, "read (4 KiB file)", c.read("/a/b/small")).await.unwrap();
    assert_eq!(data.len(), 4096);
    count(p, t, "read_range(0, 100)", c.read_range("/a/b/small", 0, 100)).await.unwrap();
    count(p, t, "write (new file, 3 B)", c.write("/a/new", b"new")).await.unwrap();
    count(p, t, "write (existing file, 3 B)", c.write("/a/new", b"old")).await.unwrap();
    let f = count(p, t, "create (new file)", c.create("/a/created")).await.unwrap();
    let ro = OpenOptions::new().read(true);
    let g = count(p, t, "open (existing, read)", c.open("/a/b/small", ro)).await.unwrap();
    count(p, t, "create_dir", c.create_dir("/a/dir", 0o755)).await.unwrap();
    count(p, t, "symlink", c.symlink("small", "/a/b/ln")).await.unwrap();
    count(p, t, "hard_link", c.hard_link("/a/b/small", "/a/b/hl")).await.unwrap();
    count(p, t, "mknod (fifo)", c.mknod("/a/fifo", NodeKind::Fifo, 0o644)).await.unwrap();
    let chmod = SetAttrs { mode: Some(0o600), ..Default::default() };
    count(p, t, "set_attr (chmod)", c.set_attr("/a/b/small", chmod)).await.unwrap();
    let entries = count(p, t, "read_dir (15 entries)", c.read_dir("/a")).await.unwrap();
    assert_eq!(entries.len(), 15);
    count(p, t, "rename", c.rename("/a/new", "/a/renamed")).await.unwrap();
    count(p, t, "remove_file", c.remove_file("/a/renamed")).await.unwrap();
    count(p, t, "statfs", c.statfs()).await.unwrap();
    count(p, t, "File::write_at (3 B)", f.write_at(0, b"abc")).await.unwrap();
    count(p, t, "File::read_at (100 B)", g.read_at(0, 100)).await.unwrap();
    count(p, t, "File::metadata", f.metadata()).await.unwrap();
    count(p, t, "File::set_len", f.set_len(1)).await.unwrap();
    count(p, t, "File::sync_all", f.sync_all()).await.unwrap();
    count(p, t, "sync", c.sync()).await.unwrap();
    let d = c.open_dir("/a").await.unwrap();
    count(p, t, "Dir::metadata_at", d.metadata_at("dir")).await.unwrap();
    count(p, t, "Dir::create_dir_at", d.create_dir_at("dir2", 0o755)).await.unwrap();
    count(
        p,
        t,
        "Dir::set_attr_at",
        d.set_attr_at("dir2", SetAttrs { mode: Some(0o700), ..Default::default() }),
    )
    .await
    .unwrap();
    t.clone()
}

fn print(rows: &[(&str, Table)]) {
    let mut s = String::from("| call |");
    for (name, _) in rows {
        s += &format!(" {name} |");
    }
    s += "\n|---|";
    s += &"---:|".repeat(rows.len());
    s += "\n";
    for i in 0..rows[0].1.len() {
        s += &format!("| {} |", rows[0].1[i].0);
        for (_, t) in rows {
            s += &format!(" {} |", t[i].1);
        }
        s += "\n";
    }
    println!("{s}");
}

fn get(t: &Table, name: &str) -> u64 {
    t.iter().find(|(n, _)| *n == name).map(|(_, v)| *v).expect(name)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn round_trips_per_call() {
    let l = measure(&[Dialect::L], Dialect::L).await;
    let z = measure(&[Dialect::Z, Dialect::L], Dialect::Z).await;
    print(&[("9P2000.L", l.clone()), ("9P2000.L.Z", z.clone())]);
    // No call costs more on .Z than on plain .L.
    for ((name, nl), (_, nz)) in l.iter().zip(&z) {
        assert!(nz <= nl, "{name}: {nz} round trips on .Z, {nl} on .L");
    }
    // The one-round-trip plans.
    for (call, want) in [
        ("metadata(\"/a/b/small\")", 1),
        ("stat", 1),
        ("read (4 KiB file)", 2),
        ("read_range(0, 100)", 2),
        ("create (new file)", 3),
        ("create_dir", 2),
        ("symlink", 2),
        ("hard_link", 3),
        ("mknod (fifo)", 2),
        ("set_attr (chmod)", 2),
        ("File::set_len", 1),
        ("sync", 1),
        ("Dir::metadata_at", 1),
        ("Dir::create_dir_at", 1),
        ("Dir::set_attr_at", 2),
    ] {
        assert_eq!(get(&z, call), want, "{call} on .Z");
    }
    // Plain 9P2000.L: walk + getattr for a stat ...
    assert_eq!(get(&l, "metadata(\"/a/b/small\")"), 2);
    assert_eq!(get(&l, "create_dir"), 4);
    assert_eq!(get(&l, "File::write_at (3 B)"), 1);
}
