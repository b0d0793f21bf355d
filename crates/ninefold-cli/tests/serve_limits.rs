//! `ninefold serve`'s abuse-limit flags reach the server: a per-peer
//! connection cap and the handshake deadline close what they should, the
//! metrics endpoint counts them, and a budget below two frames is a
//! readable error.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_ninefold");

/// `ninefold serve ARGS`, killed when dropped, and its banner lines.
struct Serve(Child, Vec<String>);

impl Serve {
    fn start(args: &[&str]) -> Serve {
        let mut child = Command::new(BIN)
            .arg("serve")
            .args(args)
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn ninefold");
        let mut lines = Vec::new();
        let mut out = BufReader::new(child.stdout.take().unwrap());
        loop {
            let mut line = String::new();
            assert!(out.read_line(&mut line).unwrap() > 0, "no banner: {lines:?}");
            let done = line.starts_with("Stop with");
            lines.push(line.trim_end().to_owned());
            if done {
                break;
            }
        }
        // Keep draining stdout so the server never blocks on it.
        std::thread::spawn(move || std::io::copy(&mut out, &mut std::io::sink()));
        Serve(child, lines)
    }

    fn addr(&self, prefix: &str, suffix: &str) -> SocketAddr {
        self.1
            .iter()
            .find_map(|l| l.strip_prefix(prefix)?.strip_suffix(suffix))
            .unwrap_or_else(|| panic!("no {prefix:?} line in {:?}", self.1))
            .parse()
            .unwrap()
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Whether the server closes `s` within `within`.
fn closed_within(s: &mut TcpStream, within: Duration) -> bool {
    s.set_read_timeout(Some(within)).unwrap();
    let mut b = [0u8; 64];
    matches!(s.read(&mut b), Ok(0) | Err(_))
        && {
            // A timeout is an error too: tell it apart.
            s.set_read_timeout(Some(Duration::from_millis(1))).unwrap();
            !matches!(s.read(&mut b), Err(e) if e.kind() == std::io::ErrorKind::WouldBlock || e.kind() == std::io::ErrorKind::TimedOut)
        }
}

#[test]
fn peer_cap_and_handshake_deadline_from_flags_with_metrics() {
    let s = Serve::start(&[
        "--memory",
        "--listen",
        "tcp://127.0.0.1:0",
        "--metrics",
        "127.0.0.1:0",
        "--connections-per-peer",
        "2",
        "--handshake-timeout",
        "1s",
    ]);
    let addr = s.addr("listening on tcp://", "");
    let mut a = TcpStream::connect(addr).unwrap();
    let mut b = TcpStream::connect(addr).unwrap();
    let mut c = TcpStream::connect(addr).unwrap();
    let start = Instant::now();
    assert!(closed_within(&mut c, Duration::from_millis(800)), "the third connection stays");
    // The first two never send Tversion: the handshake deadline.
    assert!(closed_within(&mut a, Duration::from_secs(5)));
    assert!(closed_within(&mut b, Duration::from_secs(5)));
    let took = start.elapsed();
    assert!(took >= Duration::from_millis(800), "closed before the deadline: {took:?}");

    let mut h = TcpStream::connect(s.addr("metrics on http://", "/metrics")).unwrap();
    write!(h, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    let mut resp = String::new();
    h.read_to_string(&mut resp).unwrap();
    assert!(
        resp.contains(r#"ninefold_server_limit_events_total{limit="peer_connections"} 1"#),
        "{resp}"
    );
    assert!(
        resp.contains(r#"ninefold_server_limit_events_total{limit="handshake_timeout"} 2"#),
        "{resp}"
    );
    assert!(resp.contains("ninefold_server_memory_used_bytes "), "{resp}");
    assert!(resp.contains("ninefold_server_descriptor_refusals_total "), "{resp}");
}

#[test]
fn bad_limits_are_readable_errors() {
    let fails = |args: &[&str]| {
        let out = Command::new(BIN).arg("serve").args(args).stdin(Stdio::null()).output().unwrap();
        assert!(!out.status.success(), "{args:?} succeeded");
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    let e = fails(&["--listen", "127.0.0.1:0", "--connection-memory", "1KiB"]);
    assert!(e.contains("limits.connection_memory of 1024 bytes is below"), "{e}");
    let e = fails(&["--listen", "127.0.0.1:0", "--server-memory", "lots"]);
    assert!(e.contains("invalid server memory \"lots\""), "{e}");
    let e = fails(&["--listen", "127.0.0.1:0", "--frame-timeout", "soon"]);
    assert!(e.contains("invalid frame timeout \"soon\""), "{e}");
}
