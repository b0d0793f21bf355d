//! The client does not trust the server blindly: replies that break the
//! protocol's promises (a read longer than asked, a write count above what
//! was sent, a directory cookie that never advances or comes back) end in
//! a clear `Protocol` error, never in a hang or in bytes nobody asked for. The server is a scripted fake
//! (`support/fake.rs`) whose every reply the test controls.

mod support;

use std::time::Duration;

use ninefold_client::{Client, ConnectOptions, Error, Session};
use support::fake::{FakeServer, Script, CONTENT};

/// Far above what any of these calls needs when the client is right; a
/// client that loops forever fails here instead of hanging the suite.
const GUARD: Duration = Duration::from_secs(20);

async fn client(fake: &FakeServer) -> Client {
    let opts = ConnectOptions::new().aname("/").msize(8192).connect_timeout_ms(Some(5000));
    Client::connect_with(&fake.target, opts).await.expect("connect to the fake server")
}

fn assert_protocol<T: std::fmt::Debug>(
    what: &str,
    r: Result<ninefold_client::Result<T>, tokio::time::error::Elapsed>,
) {
    match r {
        Err(_) => panic!("{what}: still running after {GUARD:?} (a loop the server controls)"),
        Ok(Err(Error::Protocol(msg))) => eprintln!("{what}: Protocol({msg})"),
        Ok(other) => panic!("{what}: expected a Protocol error, got {other:?}"),
    }
}

#[tokio::test]
async fn the_plain_script_works() {
    // The fake itself is sound when it does not misbehave.
    let fake = FakeServer::start(Script::HugeSize).await;
    let fs = client(&fake).await;
    let names: Vec<_> = fs.read_dir("/").await.unwrap().into_iter().map(|e| e.name).collect();
    assert_eq!(names, ["f"]);
    assert_eq!(&fs.read_range("/f", 0, 100).await.unwrap()[..], CONTENT);
}

#[tokio::test]
async fn a_read_reply_longer_than_asked_is_a_protocol_error() {
    let fake = FakeServer::start(Script::ReadTooLong).await;

    let s = Session::connect(&fake.target, 8192).await.unwrap();
    let (root, _) = s.attach("u", "/", 0).await.unwrap();
    let (f, _) = s.walk(&root, &["f"]).await.unwrap();
    s.lopen(&f, ninefold_client::OpenFlags::RDONLY).await.unwrap();
    let r = tokio::time::timeout(GUARD, s.read(&f, 0, 5)).await;
    assert_protocol("Session::read", r);

    let fs = client(&fake).await;
    assert_protocol("read_range", tokio::time::timeout(GUARD, fs.read_range("/f", 0, 5)).await);
    assert_protocol("read", tokio::time::timeout(GUARD, fs.read("/f")).await);
    let file = fs.open("/f", ninefold_client::OpenOptions::new().read(true)).await.unwrap();
    // one chunk, and a pipelined multi-chunk read
    assert_protocol("read_at", tokio::time::timeout(GUARD, file.read_at(0, 3)).await);
    assert_protocol("read_at big", tokio::time::timeout(GUARD, file.read_at(0, 100_000)).await);
}

#[tokio::test]
async fn a_write_count_above_what_was_sent_is_a_protocol_error() {
    let fake = FakeServer::start(Script::WriteTooLong).await;
    let fs = client(&fake).await;
    let file = fs.open("/f", ninefold_client::OpenOptions::new().write(true)).await.unwrap();
    assert_protocol("write_at", tokio::time::timeout(GUARD, file.write_at(0, b"abc")).await);
}

#[tokio::test]
async fn a_readdir_cookie_that_does_not_advance_is_a_protocol_error() {
    let fake = FakeServer::start(Script::StuckCookie).await;
    let fs = client(&fake).await;
    assert_protocol("read_dir", tokio::time::timeout(GUARD, fs.read_dir("/")).await);
    let dir = fs.open_dir("/").await.unwrap();
    assert_protocol(
        "next_batch",
        tokio::time::timeout(GUARD, async {
            loop {
                if dir.next_batch(None).await?.is_empty() {
                    return Ok(());
                }
            }
        })
        .await,
    );
}

#[tokio::test]
async fn a_listing_of_only_dots_that_never_advances_is_a_protocol_error() {
    // `.` and `..` are filtered out, so one next_batch call would spin.
    let fake = FakeServer::start(Script::StuckDots).await;
    let fs = client(&fake).await;
    let dir = fs.open_dir("/").await.unwrap();
    assert_protocol("next_batch", tokio::time::timeout(GUARD, dir.next_batch(None)).await);
}

#[tokio::test]
async fn a_readdir_cookie_that_comes_back_is_a_protocol_error() {
    let fake = FakeServer::start(Script::CookieCycle).await;
    let fs = client(&fake).await;
    assert_protocol("read_dir", tokio::time::timeout(GUARD, fs.read_dir("/")).await);
}
