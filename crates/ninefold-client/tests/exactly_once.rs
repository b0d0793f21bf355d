//! Op ids across reconnects: a proxy lets a mutation reach the server,
//! swallows its reply and cuts the connection, so the client cannot know
//! whether it applied. On `9P2000.L.Z` the client re-sends it with RETRY
//! and the same op id, and the server answers from its ledger: the call
//! succeeds and the mutation applied once. On plain 9P2000.L the re-send
//! executes again (the documented at-least-once caveat).

mod support;

use ninefold_client::{Client, ConnectOptions, Dialect, Error, OpenOptions};
use ninefold_fs::memfs::MemFs;
use ninefold_server::Exports;
use support::proxy::Proxy;
use support::{serve_dialects, MEMFS_ANAME};

/// Type numbers of the requests trapped below.
const TMKDIRATTR: u8 = 240;
const TLCREATEATTR: u8 = 238;
const TRENAMEAT: u8 = 74;
const TUNLINKAT: u8 = 76;
const TWRITE: u8 = 118;
const TSETATTRATTR: u8 = 248;

async fn setup(dialects: &[Dialect]) -> (support::Served, Proxy, Client) {
    let fs = MemFs::new();
    let served = serve_dialects(Exports::new().export(MEMFS_ANAME, fs.root()), dialects);
    let proxy = Proxy::start(&served.target).await;
    let opts = ConnectOptions::new().aname(MEMFS_ANAME).uid(0).gid(0).uname("root");
    let c = Client::connect_with(&proxy.target, opts).await.unwrap();
    (served, proxy, c)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn z_mutations_apply_once_across_a_cut() {
    let (_srv, p, c) = setup(&[Dialect::Z, Dialect::L]).await;
    assert_eq!(c.capabilities().dialect, Dialect::Z);

    p.drop_reply_of(TMKDIRATTR);
    let m = c.create_dir("/d", 0o755).await.expect("a replayed mkdir succeeds");
    assert_eq!(p.trapped(), 1);
    assert!(m.is_dir());
    assert_eq!(c.metadata("/d").await.unwrap().ino, m.ino, "the original directory");
    assert_eq!(c.generation(), 1);

    p.drop_reply_of(TLCREATEATTR);
    let f = c.open("/d/new", OpenOptions::new().write(true).create_new(true)).await;
    let f = f.expect("a replayed exclusive create succeeds");
    assert_eq!(p.trapped(), 2);

    p.drop_reply_of(TWRITE);
    f.write_at(0, b"once").await.unwrap();
    assert_eq!(p.trapped(), 3);
    assert_eq!(&c.read("/d/new").await.unwrap()[..], b"once");

    p.drop_reply_of(TSETATTRATTR);
    assert_eq!(c.chmod("/d/new", 0o600).await.unwrap().mode & 0o7777, 0o600);
    assert_eq!(p.trapped(), 4);

    p.drop_reply_of(TRENAMEAT);
    c.rename("/d/new", "/d/renamed").await.expect("a replayed rename succeeds");
    assert_eq!(p.trapped(), 5);
    assert!(c.exists("/d/renamed").await.unwrap() && !c.exists("/d/new").await.unwrap());

    p.drop_reply_of(TUNLINKAT);
    c.remove_file("/d/renamed").await.expect("a replayed unlink succeeds");
    assert_eq!(p.trapped(), 6);
    assert!(c.read_dir("/d").await.unwrap().is_empty());
    assert_eq!(c.generation(), 6, "one reconnect per trapped reply");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plain_l_resends_are_at_least_once() {
    let (_srv, p, c) = setup(&[Dialect::L]).await;
    assert_eq!(c.capabilities().dialect, Dialect::L);
    c.write("/a", b"x").await.unwrap();
    // Trenameat applied, reply lost: the re-send finds no source.
    p.drop_reply_of(TRENAMEAT);
    let e = c.rename("/a", "/b").await.unwrap_err();
    assert_eq!(p.trapped(), 1);
    assert_eq!(e, Error::NotFound, "applied twice: the documented caveat");
    assert!(c.exists("/b").await.unwrap());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retry_the_server_does_not_know_is_stale() {
    let (_a, p, c) = setup(&[Dialect::Z, Dialect::L]).await;
    // The reconnect lands on another server, whose ledger never saw the
    // operation (as after a restart without a journal).
    let b = MemFs::new();
    let other = serve_dialects(Exports::new().export(MEMFS_ANAME, b.root()), &[Dialect::Z]);
    p.set_backend(&other.target);
    p.drop_reply_of(TMKDIRATTR);
    let e = c.create_dir("/d", 0o755).await.unwrap_err();
    assert_eq!(p.trapped(), 1);
    assert!(e.is_stale(), "{e:?}");
    assert!(e.to_string().contains("outcome unknown"), "{e}");
    assert_eq!(e.errno(), ninefold_client::Errno::ESTALE);
    // A new logical operation is a first transmission again.
    c.create_dir("/d", 0o755).await.unwrap();
}
