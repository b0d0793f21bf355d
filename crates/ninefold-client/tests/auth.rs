//! The client's Tauth exchange against our server with keys and an access
//! policy that trusts no network: a good key attaches (typed options, the
//! `?auth=&key-file=` and `?auth=&key-env=` target forms), a wrong or
//! unknown key and an unauthenticated attach are `Error::AuthFailed`, a
//! server without auth is refused when a key was asked for, and a
//! reconnect redoes the exchange (the server trusts nobody, so a
//! reconnect without it could not attach).

mod support;

use std::time::{Duration, Instant};

use ninefold_client::{AuthKey, Client, ConnectOptions, Error};
use ninefold_fs::memfs::MemFs;
use ninefold_server::{AccessPolicy, Exports, Grant, Keyring, Secret};
use support::proxy::Proxy;
use support::{serve_custom, serve_in_process, Served, MEMFS_ANAME};

const SECRET: &[u8] = b"client-test-secret-0123456789";

fn secured(fs: &MemFs) -> Served {
    let exports = Exports::new().export(MEMFS_ANAME, fs.root());
    serve_custom(exports, |b| {
        b.auth_keys(
            Keyring::new().with_key("backup", Secret::new(SECRET.to_vec()).unwrap()).unwrap(),
        )
        .access(AccessPolicy::new().trust_none().grant(Grant::new("backup").uid(1000).squash()))
    })
}

/// A tree uid 1000 may write to (the grant squashes to it).
fn world_writable() -> MemFs {
    MemFs::builder().root_mode(0o1777).build().unwrap()
}

fn options() -> ConnectOptions {
    ConnectOptions::new()
        .aname(MEMFS_ANAME)
        .msize(64 * 1024)
        .uid(0)
        .gid(0)
        .uname("root")
        .connect_timeout_ms(Some(3000))
}

fn key() -> AuthKey {
    AuthKey::new("backup", SECRET.to_vec()).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_good_key_attaches_and_is_squashed() {
    let fs = world_writable();
    let srv = secured(&fs);
    let c = Client::connect_with(&srv.target, options().auth(key())).await.unwrap();
    c.write("/owned", b"x").await.unwrap();
    // uid 0 asserted, squashed to the grant's uid.
    assert_eq!(c.metadata("/owned").await.unwrap().uid, 1000);
    assert_eq!(srv.server.access_denials().attach, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_unknown_and_missing_keys_are_auth_failures() {
    let fs = world_writable();
    let srv = secured(&fs);
    let wrong = AuthKey::new("backup", b"not-the-secret-at-all".to_vec()).unwrap();
    let e = Client::connect_with(&srv.target, options().auth(wrong)).await.unwrap_err();
    assert!(matches!(&e, Error::AuthFailed(m) if m.contains("refused")), "{e}");
    assert_eq!(e.errno(), ninefold_client::Errno::EACCES);
    let unknown = AuthKey::new("nobody", SECRET.to_vec()).unwrap();
    let e = Client::connect_with(&srv.target, options().auth(unknown)).await.unwrap_err();
    assert!(matches!(e, Error::AuthFailed(_)), "{e}");
    // No key at all: the server trusts no network.
    let e = Client::connect_with(&srv.target, options()).await.unwrap_err();
    assert!(matches!(&e, Error::AuthFailed(m) if m.contains("unauthenticated")), "{e}");
    assert_eq!(srv.server.access_denials().auth, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn target_queries_name_a_key_file_or_variable() {
    let fs = world_writable();
    let srv = secured(&fs);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("backup.key");
    std::fs::write(&file, [SECRET, b"\n"].concat()).unwrap();
    let t = format!("{}?auth=backup&key-file={}", srv.target, file.display());
    let c = Client::connect_with(&t, options()).await.unwrap();
    c.write("/f", b"1").await.unwrap();
    // A variable only this test uses.
    std::env::set_var("NINEFOLD_AUTH_TEST_KEY", std::str::from_utf8(SECRET).unwrap());
    let t = format!("{}?auth=backup&key-env=NINEFOLD_AUTH_TEST_KEY", srv.target);
    let c = Client::connect_with(&t, options()).await.unwrap();
    assert_eq!(&c.read("/f").await.unwrap()[..], b"1");
    let e = Client::connect_with(&format!("{}?auth=backup&secret=abc", srv.target), options())
        .await
        .unwrap_err();
    assert!(e.to_string().contains("never goes in a target"), "{e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_against_a_server_without_auth_is_refused() {
    let fs = MemFs::new();
    let srv = serve_in_process(Exports::new().export(MEMFS_ANAME, fs.root()));
    let e = Client::connect_with(&srv.target, options().auth(key())).await.unwrap_err();
    assert!(matches!(&e, Error::AuthFailed(m) if m.contains("does not offer")), "{e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reconnect_redoes_the_exchange() {
    let fs = world_writable();
    let srv = secured(&fs);
    let proxy = Proxy::start(&srv.target).await;
    let c = Client::connect_with(&proxy.target, options().auth(key())).await.unwrap();
    c.write("/before", b"1").await.unwrap();
    let tauths = proxy.count(102);
    assert_eq!(tauths, 1);
    proxy.cut();
    let deadline = Instant::now() + Duration::from_secs(5);
    while c.generation() < 1 {
        assert!(Instant::now() < deadline, "no reconnect");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    c.write("/after", b"2").await.unwrap();
    assert_eq!(c.metadata("/after").await.unwrap().uid, 1000);
    assert_eq!(proxy.count(102), 2, "a second Tauth on the new connection");
    assert_eq!(srv.server.access_denials().attach, 0);
}
