//! TLS listeners (`ninefold_server::tls`) against our client's `tls://`
//! targets: wrong, expired and untrusted certificates on both sides, a
//! required client certificate, name mismatch, a handshake that never
//! completes, reload with connections up, and the principal a client
//! certificate proves reaching `Request::peer()`.

mod tls_support;

use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use ninefold_client::{Client, ConnectOptions, Error, TlsErrorKind, TlsOptions};
use ninefold_fs::memfs::MemFs;
use ninefold_proto::Message;
use ninefold_server::tls::{HandshakeFailure, TlsAcceptor, TlsFiles};
use ninefold_server::{AuthMethod, Middleware, Next, Request, Server};
use tls_support::{Ca, Names, Validity};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// The principal of one Tattach, if any.
type Attached = Option<(String, AuthMethod)>;

/// Records the principal of every Tattach.
#[derive(Debug, Default, Clone)]
struct Seen(Arc<Mutex<Vec<Attached>>>);

#[async_trait]
impl Middleware for Seen {
    async fn call(&self, req: &Request, msg: &Message, next: Next<'_>) -> Message {
        if matches!(msg, Message::Tattach(_)) {
            let p = req.peer().principal().map(|p| (p.name().to_owned(), p.method()));
            self.0.lock().unwrap().push(p);
        }
        next.run(req, msg).await
    }
}

struct Running {
    addr: SocketAddr,
    tls: Arc<TlsAcceptor>,
    seen: Seen,
    server: Server,
}

async fn serve(files: TlsFiles, handshake_timeout: Duration) -> Running {
    let seen = Seen::default();
    let server = Server::builder(MemFs::new().root()).middleware(seen.clone()).build().unwrap();
    let tls =
        Arc::new(TlsAcceptor::from_files(files).unwrap().handshake_timeout(handshake_timeout));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (s, t) = (server.clone(), tls.clone());
    tokio::spawn(async move { s.serve_tls(listener, t).await });
    Running { addr, tls, seen, server }
}

fn opts() -> ConnectOptions {
    ConnectOptions::new().connect_timeout_ms(Some(10_000))
}

async fn connect(r: &Running, host: &str, tls: TlsOptions) -> Result<Client, Error> {
    let target = format!("tls://{host}:{}", r.addr.port());
    Client::connect_with(&target, opts().tls(tls)).await
}

fn tls_kind(r: Result<Client, Error>) -> TlsErrorKind {
    match r {
        Err(Error::Tls(t)) => t.kind(),
        Err(e) => panic!("not a TLS error: {e:?}"),
        Ok(_) => panic!("connected"),
    }
}

fn failures(r: &Running, why: HandshakeFailure) -> u64 {
    r.tls.handshake_failures_by_reason().into_iter().find(|(w, _)| *w == why).unwrap().1
}

/// Waits (briefly) for a failure counter to reach `n`: the server counts
/// after the client already saw the alert.
async fn wait_failures(r: &Running, why: HandshakeFailure, n: u64) {
    for _ in 0..200 {
        if failures(r, why) >= n {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("{why} failures: {} (wanted {n}): {:?}", failures(r, why), r.tls);
}

async fn write_read(c: &Client, path: &str, data: &[u8]) {
    c.write(path, data).await.unwrap();
    assert_eq!(c.read(path).await.unwrap(), data);
}

fn pki() -> (tempfile::TempDir, Ca) {
    let dir = tempfile::tempdir().unwrap();
    let ca = Ca::new(dir.path(), "main");
    (dir, ca)
}

fn ca_opts(ca: &Path) -> TlsOptions {
    TlsOptions::new().ca(ca)
}

#[tokio::test]
async fn server_certificate_checks_on_the_client() {
    let (dir, ca) = pki();
    let (cert, key) = ca.server("server", Validity::Now);
    let r = serve(TlsFiles::new(&cert, &key), Duration::from_secs(5)).await;

    // Trusted CA, by host name and by address; the target's ?ca= works too.
    let c = connect(&r, "localhost", ca_opts(&ca.cert_path())).await.unwrap();
    write_read(&c, "/a", b"over tls").await;
    let q = format!("tls://127.0.0.1:{}/?ca={}", r.addr.port(), ca.cert_path().display());
    let c2 = Client::connect_with(&q, opts()).await.unwrap();
    assert_eq!(c2.read("/a").await.unwrap(), &b"over tls"[..]);
    assert_eq!(r.seen.0.lock().unwrap().as_slice(), &[None, None], "no client certificates");

    // Another CA: unknown issuer.
    let other = Ca::new(dir.path(), "other");
    assert_eq!(
        tls_kind(connect(&r, "localhost", ca_opts(&other.cert_path())).await),
        TlsErrorKind::UnknownIssuer
    );
    // The system's roots do not know our test CA either.
    let sys = connect(&r, "localhost", TlsOptions::new()).await;
    assert!(
        matches!(
            sys.as_ref().map_err(|e| e.tls_error().map(|t| t.kind())),
            Err(Some(TlsErrorKind::UnknownIssuer | TlsErrorKind::Config))
        ),
        "{sys:?}"
    );
    // SNI / name mismatch: a name the certificate does not carry.
    let e = connect(&r, "localhost", ca_opts(&ca.cert_path()).server_name("elsewhere")).await;
    let msg = e.as_ref().map(|_| ()).unwrap_err().to_string();
    assert_eq!(tls_kind(e), TlsErrorKind::NameMismatch);
    assert!(msg.contains("elsewhere"), "{msg}");
    // The client's alert is counted on the server.
    wait_failures(&r, HandshakeFailure::Alert, 2).await;

    // Connecting with TLS to a plain 9P listener, and plain to a TLS one.
    let plain = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let plain_addr = plain.local_addr().unwrap();
    let ps = Server::new(MemFs::new().root());
    tokio::spawn(async move { ps.serve_tcp(plain).await });
    let t = format!("tls://127.0.0.1:{}?ca={}", plain_addr.port(), ca.cert_path().display());
    assert_eq!(tls_kind(Client::connect_with(&t, opts()).await), TlsErrorKind::Handshake);
    let e = Client::connect_with(&format!("tcp://127.0.0.1:{}", r.addr.port()), opts()).await;
    assert!(e.unwrap_err().is_connect_failed());
    wait_failures(&r, HandshakeFailure::Protocol, 1).await;
}

#[tokio::test]
async fn expired_and_future_server_certificates_are_refused() {
    let (_dir, ca) = pki();
    for (validity, kind) in
        [(Validity::Expired, TlsErrorKind::Expired), (Validity::Future, TlsErrorKind::NotYetValid)]
    {
        let (cert, key) = ca.server("server", validity);
        let r = serve(TlsFiles::new(&cert, &key), Duration::from_secs(5)).await;
        let e = connect(&r, "localhost", ca_opts(&ca.cert_path())).await;
        assert_eq!(tls_kind(e), kind);
    }
}

#[tokio::test]
async fn client_certificates_required_and_checked() {
    let (dir, ca) = pki();
    let (cert, key) = ca.server("server", Validity::Now);
    let files = TlsFiles::new(&cert, &key).client_ca(ca.cert_path()).require_client_cert(true);
    let r = serve(files, Duration::from_secs(5)).await;
    let base = ca_opts(&ca.cert_path());

    // None sent.
    let e = connect(&r, "localhost", base.clone()).await;
    assert_eq!(tls_kind(e), TlsErrorKind::ClientCertificateRequired);
    wait_failures(&r, HandshakeFailure::NoClientCertificate, 1).await;

    // From a CA the server does not trust, and expired.
    let other = Ca::new(dir.path(), "other");
    let names = || Names { cn: Some("mallory"), ..Names::default() };
    let (oc, ok) = other.leaf("mallory", names(), Validity::Now);
    let e = connect(&r, "localhost", base.clone().cert(&oc).key(&ok)).await;
    assert_eq!(tls_kind(e), TlsErrorKind::ClientCertificateRejected);
    let (xc, xk) = ca.leaf("expired", names(), Validity::Expired);
    let e = connect(&r, "localhost", base.clone().cert(&xc).key(&xk)).await;
    assert_eq!(tls_kind(e), TlsErrorKind::ClientCertificateRejected);
    wait_failures(&r, HandshakeFailure::BadClientCertificate, 2).await;

    // A key that is not the certificate's is refused locally.
    let (ac, _) = ca.leaf("alice", Names { cn: Some("alice"), ..Names::default() }, Validity::Now);
    let e = connect(&r, "localhost", base.clone().cert(&ac).key(&xk)).await;
    assert_eq!(tls_kind(e), TlsErrorKind::Config);
    // A missing CA file is a readable config error.
    let e = connect(&r, "localhost", TlsOptions::new().ca(dir.path().join("nope.pem"))).await;
    let msg = e.as_ref().map(|_| ()).unwrap_err().to_string();
    assert_eq!(tls_kind(e), TlsErrorKind::Config);
    assert!(msg.contains("nope.pem"), "{msg}");

    assert!(r.seen.0.lock().unwrap().is_empty(), "nobody got to attach");
    assert_eq!(r.server.connections(), 0);
}

#[tokio::test]
async fn the_client_certificate_is_the_principal() {
    let (_dir, ca) = pki();
    let (cert, key) = ca.server("server", Validity::Now);
    // Optional client certificates: with one, a principal; without, none.
    let r =
        serve(TlsFiles::new(&cert, &key).client_ca(ca.cert_path()), Duration::from_secs(5)).await;
    let base = ca_opts(&ca.cert_path());
    let cases = [
        ("cn-only", Names { cn: Some("alice"), ..Names::default() }, "alice"),
        (
            "dns-first",
            Names { hosts: vec!["backup.example"], uris: vec![], cn: Some("ignored") },
            "backup.example",
        ),
        (
            "uri",
            Names { uris: vec!["spiffe://example.org/ci"], cn: Some("x"), ..Names::default() },
            "spiffe://example.org/ci",
        ),
    ];
    for (stem, names, _) in &cases {
        let (c, k) = ca.leaf(stem, names.clone(), Validity::Now);
        let client = connect(&r, "localhost", base.clone().cert(&c).key(&k)).await.unwrap();
        write_read(&client, &format!("/{stem}"), stem.as_bytes()).await;
    }
    // Key and certificate in one file (key= left out).
    let (c, k) = ca.leaf("bundle", Names { cn: Some("bob"), ..Names::default() }, Validity::Now);
    let both =
        format!("{}{}", std::fs::read_to_string(&c).unwrap(), std::fs::read_to_string(&k).unwrap());
    std::fs::write(&c, both).unwrap();
    let client = connect(&r, "localhost", base.clone().cert(&c)).await.unwrap();
    client.metadata("/").await.unwrap();
    // No certificate: still served, no principal.
    let anon = connect(&r, "localhost", base.clone()).await.unwrap();
    anon.metadata("/").await.unwrap();

    let mut want: Vec<_> =
        cases.iter().map(|(_, _, n)| Some(((*n).to_owned(), AuthMethod::TlsCertificate))).collect();
    want.push(Some(("bob".to_owned(), AuthMethod::TlsCertificate)));
    want.push(None);
    assert_eq!(*r.seen.0.lock().unwrap(), want);
    assert_eq!(r.tls.handshake_failures(), 0);
}

#[tokio::test]
async fn a_stalled_handshake_is_closed_and_blocks_nobody() {
    let (_dir, ca) = pki();
    let (cert, key) = ca.server("server", Validity::Now);
    let r = serve(TlsFiles::new(&cert, &key), Duration::from_secs(4)).await;

    // Connects and says nothing; another sends half a ClientHello.
    let mut silent = tokio::net::TcpStream::connect(r.addr).await.unwrap();
    let mut partial = tokio::net::TcpStream::connect(r.addr).await.unwrap();
    partial.write_all(&[0x16, 0x03, 0x01, 0x02, 0x00, 0x01]).await.unwrap();

    // Others are served meanwhile: this client is done while both stalled
    // handshakes are still pending (not closed, not yet counted).
    let c = connect(&r, "localhost", ca_opts(&ca.cert_path())).await.unwrap();
    write_read(&c, "/x", b"not blocked").await;
    for s in [&silent, &partial] {
        let mut b = [0u8; 1];
        let r = s.try_read(&mut b);
        assert!(matches!(&r, Err(e) if e.kind() == std::io::ErrorKind::WouldBlock), "{r:?}");
    }
    assert_eq!(failures(&r, HandshakeFailure::Timeout), 0);

    // Both stalled connections are closed after the deadline.
    for s in [&mut silent, &mut partial] {
        let mut buf = [0u8; 64];
        let n = tokio::time::timeout(Duration::from_secs(15), s.read(&mut buf)).await;
        assert!(matches!(n, Ok(Ok(0)) | Ok(Err(_))), "{n:?}");
    }
    wait_failures(&r, HandshakeFailure::Timeout, 2).await;
    // The good connection is untouched.
    write_read(&c, "/x", b"still here").await;
}

#[tokio::test]
async fn reload_swaps_material_for_new_connections_only() {
    let (dir, ca) = pki();
    let (cert, key) = ca.server("server", Validity::Now);
    let r = serve(TlsFiles::new(&cert, &key), Duration::from_secs(5)).await;
    let old = connect(&r, "localhost", ca_opts(&ca.cert_path())).await.unwrap();
    write_read(&old, "/f", b"before").await;

    // Same paths, new material from another CA.
    let next = Ca::new(dir.path(), "next");
    let (c2, k2) = next.server("server2", Validity::Now);
    std::fs::copy(&c2, &cert).unwrap();
    std::fs::copy(&k2, &key).unwrap();
    r.tls.reload().unwrap();

    write_read(&old, "/f", b"old connection still up").await;
    let e = connect(&r, "localhost", ca_opts(&ca.cert_path())).await;
    assert_eq!(tls_kind(e), TlsErrorKind::UnknownIssuer, "new handshakes see the new cert");
    let new = connect(&r, "localhost", ca_opts(&next.cert_path())).await.unwrap();
    assert_eq!(new.read("/f").await.unwrap(), &b"old connection still up"[..]);

    // A reload of a broken file fails and keeps what is in use.
    std::fs::write(&key, "not a key").unwrap();
    let err = r.tls.reload().unwrap_err().to_string();
    assert!(err.contains(&key.display().to_string()), "{err}");
    connect(&r, "localhost", ca_opts(&next.cert_path())).await.unwrap();
    std::fs::copy(&k2, &key).unwrap();
    std::fs::write(&cert, "").unwrap();
    assert!(r.tls.reload().is_err());
    connect(&r, "localhost", ca_opts(&next.cert_path())).await.unwrap();
    write_read(&old, "/f", b"and still").await;
}

#[tokio::test]
async fn bad_server_material_is_reported() {
    let (dir, ca) = pki();
    let (cert, key) = ca.server("server", Validity::Now);
    let (_, other_key) = ca.server("other", Validity::Now);
    let e = |f: TlsFiles| TlsAcceptor::from_files(f).unwrap_err().to_string();
    assert!(e(TlsFiles::new(dir.path().join("missing.pem"), &key)).contains("missing.pem"));
    assert!(e(TlsFiles::new(&cert, &other_key)).contains("does not go with"));
    assert!(e(TlsFiles::new(&key, &key)).contains("no CERTIFICATE"));
    assert!(e(TlsFiles::new(&cert, &cert)).contains("private key"));
    assert!(e(TlsFiles::new(&cert, &key).require_client_cert(true)).contains("client CA"));
}
