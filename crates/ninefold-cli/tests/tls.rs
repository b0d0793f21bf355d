//! `ninefold serve --listen tls://` end to end: the `[tls]` config table,
//! required client certificates, the client commands' TLS flags and
//! `?ca=` parameters with their error messages and exit codes, SIGHUP
//! reload with a connection up, a failed reload, and the handshake-failure
//! metric.

#[path = "../../ninefold-server/tests/tls_support/mod.rs"]
mod tls_support;

use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use ninefold_client::{Client, ConnectOptions, TlsOptions};
use tls_support::{Ca, Names, Validity};

const BIN: &str = env!("CARGO_BIN_EXE_ninefold");

struct Serve {
    child: Child,
    port: u16,
    metrics: String,
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(config: &Path) -> Serve {
    let mut child = Command::new(BIN)
        .args(["serve", "--memory", "--config"])
        .arg(config)
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let out = BufReader::new(child.stdout.take().unwrap());
    let (mut port, mut metrics) = (None, None);
    for line in out.lines() {
        let line = line.unwrap();
        if let Some(a) = line.strip_prefix("listening on tls://") {
            port = a.rsplit_once(':').map(|(_, p)| p.parse::<u16>().unwrap());
        }
        if let Some(a) = line.strip_prefix("metrics on http://") {
            metrics = a.strip_suffix("/metrics").map(str::to_owned);
        }
        if line.starts_with("Stop with") {
            break;
        }
    }
    Serve { child, port: port.expect("a tls listener"), metrics: metrics.expect("metrics") }
}

fn cli(args: &[&str]) -> Output {
    Command::new(BIN).args(args).env_remove("NINEFOLD_TLS_CA").output().unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn scrape(addr: &str) -> String {
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    s.write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").unwrap();
    let mut text = String::new();
    s.read_to_string(&mut text).unwrap();
    text
}

fn hup(child: &Child) {
    let st = Command::new("kill").args(["-HUP", &child.id().to_string()]).status().unwrap();
    assert!(st.success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_tls_with_client_certificates_and_sighup_reload() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let ca = Ca::new(d, "a");
    let (cert, key) = ca.server("server", Validity::Now);
    let (cc, ck) = ca.leaf("ci", Names { cn: Some("ci"), ..Names::default() }, Validity::Now);
    let config = d.join("serve.toml");
    std::fs::write(
        &config,
        format!(
            "listen = [\"tls://127.0.0.1:0\"]\nmetrics = \"127.0.0.1:0\"\n[tls]\ncert = {:?}\nkey = {:?}\nclient_ca = {:?}\nrequire_client_cert = true\nhandshake_timeout = \"3s\"\n",
            cert, key, ca.cert_path()
        ),
    )
    .unwrap();
    let serve = start(&config);
    let port = serve.port;
    let (ca_s, cc_s, ck_s) =
        (ca.cert_path().display().to_string(), cc.display().to_string(), ck.display().to_string());

    // put with ?ca=&cert=&key=, cat with the flags.
    let local = d.join("local.txt");
    std::fs::write(&local, "hello tls\n").unwrap();
    let url = format!("tls://localhost:{port}/f.txt?ca={ca_s}&cert={cc_s}&key={ck_s}");
    let o = cli(&["put", local.to_str().unwrap(), &url]);
    assert!(o.status.success(), "{}", stderr(&o));
    let loc = format!("tls://localhost:{port}/f.txt");
    let flags = ["--tls-ca", &ca_s, "--tls-cert", &cc_s, "--tls-key", &ck_s];
    let o = cli(&[&["cat"][..], &flags, &[&loc]].concat());
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(o.stdout, b"hello tls\n");

    // Readable failures, exit status 1.
    let o = cli(&["cat", "--tls-ca", &ca_s, &loc]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("requires a client certificate"), "{}", stderr(&o));
    let other = Ca::new(d, "b");
    let (oc, ok) = other.leaf("m", Names { cn: Some("m"), ..Names::default() }, Validity::Now);
    let bad =
        ["--tls-ca", &ca_s, "--tls-cert", oc.to_str().unwrap(), "--tls-key", ok.to_str().unwrap()];
    let o = cli(&[&["cat"][..], &bad, &[&loc]].concat());
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("refused the client certificate"), "{}", stderr(&o));
    let o = cli(&["cat", "--tls-ca", other.cert_path().to_str().unwrap(), &loc]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("not signed by a trusted CA"), "{}", stderr(&o));
    let o = cli(&["cat", &format!("tls://localhost:{port}/f.txt?bogus=1")]);
    assert_ne!(o.status.code(), Some(0));
    assert!(stderr(&o).contains("unknown TLS parameter"), "{}", stderr(&o));

    // A library client stays connected through the reload.
    let tls = TlsOptions::new().ca(ca.cert_path()).cert(&cc).key(&ck);
    let target = format!("tls://localhost:{port}");
    let old = Client::connect_with(&target, ConnectOptions::new().tls(tls)).await.unwrap();
    assert_eq!(old.read("/f.txt").await.unwrap(), &b"hello tls\n"[..]);

    // New server certificate from CA b, same files; clients of CA b certs
    // stay accepted (client CA unchanged).
    let (c2, k2) = other.server("server2", Validity::Now);
    std::fs::copy(&c2, &cert).unwrap();
    std::fs::copy(&k2, &key).unwrap();
    hup(&serve.child);
    let new_ca = other.cert_path().display().to_string();
    let with_b = ["--tls-ca", &new_ca, "--tls-cert", &cc_s, "--tls-key", &ck_s];
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let o = cli(&[&["cat"][..], &with_b, &[&loc]].concat());
        if o.status.success() {
            assert_eq!(o.stdout, b"hello tls\n");
            break;
        }
        assert!(Instant::now() < deadline, "reload not seen: {}", stderr(&o));
        std::thread::sleep(Duration::from_millis(50));
    }
    let o = cli(&[&["cat"][..], &flags, &[&loc]].concat());
    assert!(stderr(&o).contains("not signed by a trusted CA"), "{}", stderr(&o));
    old.write("/g.txt", b"old connection").await.unwrap();
    assert_eq!(old.read("/g.txt").await.unwrap(), &b"old connection"[..]);

    // A broken key: the reload fails, the server keeps the material in use.
    std::fs::write(&key, "garbage").unwrap();
    hup(&serve.child);
    std::thread::sleep(Duration::from_millis(300));
    let o = cli(&[&["cat"][..], &with_b, &[&format!("tls://localhost:{port}/g.txt")]].concat());
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(o.stdout, b"old connection");

    let text = scrape(&serve.metrics);
    for reason in ["no_client_certificate", "bad_client_certificate", "alert"] {
        let line = format!("ninefold_server_tls_handshake_failures_total{{reason=\"{reason}\"}}");
        assert!(text.contains(&line), "{line} missing:\n{text}");
    }
}

#[test]
fn tls_settings_are_checked_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        let o = Command::new(BIN).arg("serve").args(args).output().unwrap();
        assert_eq!(o.status.code(), Some(1), "{args:?}");
        stderr(&o)
    };
    assert!(run(&["--listen", "tls://127.0.0.1:0"]).contains("--tls-cert"));
    let missing = dir.path().join("missing.pem");
    let m = missing.to_str().unwrap();
    let e = run(&["--listen", "tls://127.0.0.1:0", "--tls-cert", m, "--tls-key", m]);
    assert!(e.contains("missing.pem"), "{e}");
    let e = run(&["--listen", "tcp://127.0.0.1:0", "--tls-cert", m, "--tls-key", m]);
    assert!(e.contains("no tls://"), "{e}");
}
