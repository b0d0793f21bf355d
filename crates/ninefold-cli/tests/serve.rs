//! `ninefold serve` end to end: the built binary, driven by raw 9P2000.L
//! frames (ninefold-proto) over TCP and unix sockets, plus its metrics
//! endpoint, signals and error messages.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use ninefold_proto::{base, l, Dialect, Errno, Frame, Message, OpenFlags, P9String, NOFID, NOTAG};

const BIN: &str = env!("CARGO_BIN_EXE_ninefold");
const TIMEOUT: Duration = Duration::from_secs(10);

/// A running `ninefold serve` and what it printed at start.
struct Serve {
    child: Child,
    lines: Vec<String>,
}

impl Serve {
    /// Starts `ninefold serve ARGS` and waits for its banner.
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
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let deadline = Instant::now() + TIMEOUT;
        let mut lines = Vec::new();
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match rx.recv_timeout(left) {
                Ok(line) => {
                    let done = line.starts_with("Stop with");
                    lines.push(line);
                    if done {
                        break;
                    }
                }
                Err(_) => {
                    let _ = child.kill();
                    panic!("no banner from ninefold serve {args:?}; got {lines:?}");
                }
            }
        }
        Serve { child, lines }
    }

    /// The first `listening on tcp://` address.
    fn tcp(&self) -> SocketAddr {
        self.lines
            .iter()
            .find_map(|l| l.strip_prefix("listening on tcp://"))
            .expect("a tcp listener")
            .parse()
            .unwrap()
    }

    /// The `metrics on http://ADDR/metrics` address.
    fn metrics(&self) -> SocketAddr {
        self.lines
            .iter()
            .find_map(|l| l.strip_prefix("metrics on http://")?.strip_suffix("/metrics"))
            .expect("a metrics line")
            .parse()
            .unwrap()
    }

    fn signal(&self, sig: rustix::process::Signal) {
        let pid = rustix::process::Pid::from_child(&self.child);
        rustix::process::kill_process(pid, sig).unwrap();
    }

    /// Waits for exit, at most `TIMEOUT`.
    fn wait(&mut self) -> ExitStatus {
        let deadline = Instant::now() + TIMEOUT;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(Instant::now() < deadline, "ninefold serve did not exit");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

trait Stream: Read + Write {}
impl<T: Read + Write> Stream for T {}

/// A raw 9P2000.L connection.
struct Conn {
    io: Box<dyn Stream>,
}

impl Conn {
    fn tcp(addr: SocketAddr) -> Conn {
        let s = TcpStream::connect(addr).unwrap();
        s.set_read_timeout(Some(TIMEOUT)).unwrap();
        Conn::new(Box::new(s))
    }

    fn unix(path: &Path) -> Conn {
        let s = UnixStream::connect(path).unwrap();
        s.set_read_timeout(Some(TIMEOUT)).unwrap();
        Conn::new(Box::new(s))
    }

    /// Connects and negotiates 9P2000.L.
    fn new(io: Box<dyn Stream>) -> Conn {
        let mut c = Conn { io };
        let tversion = base::Tversion { msize: 65536, version: P9String::from("9P2000.L") };
        match c.rpc_tag(NOTAG, tversion.into()) {
            Message::Rversion(r) => {
                assert_eq!(r.version, P9String::from("9P2000.L"));
                assert_eq!(r.msize, 65536);
            }
            other => panic!("Tversion: {other:?}"),
        }
        c
    }

    fn rpc_tag(&mut self, tag: u16, msg: Message) -> Message {
        let mut buf = BytesMut::new();
        Frame::new(tag, msg).encode(Dialect::L, &mut buf).unwrap();
        self.io.write_all(&buf).unwrap();
        let mut size = [0u8; 4];
        self.io.read_exact(&mut size).unwrap();
        let n = u32::from_le_bytes(size) as usize;
        let mut frame = vec![0u8; n];
        frame[..4].copy_from_slice(&size);
        self.io.read_exact(&mut frame[4..]).unwrap();
        let frame = Frame::decode(Bytes::from(frame), Dialect::L).unwrap();
        assert_eq!(frame.tag, tag);
        frame.message
    }

    fn rpc(&mut self, msg: impl Into<Message>) -> Result<Message, u32> {
        match self.rpc_tag(1, msg.into()) {
            Message::Rlerror(e) => Err(e.ecode.get()),
            m => Ok(m),
        }
    }

    fn attach(&mut self, fid: u32, aname: &str) -> Result<(), u32> {
        let t = base::Tattach {
            fid,
            afid: NOFID,
            uname: P9String::from("test"),
            aname: P9String::from(aname),
            n_uname: 0,
        };
        self.rpc(t).map(|_| ())
    }

    fn walk(&mut self, fid: u32, newfid: u32, path: &[&str]) -> Result<(), u32> {
        let wnames = path.iter().map(|n| P9String::from(*n)).collect();
        match self.rpc(base::Twalk { fid, newfid, wnames })? {
            Message::Rwalk(r) if r.wqids.len() == path.len() => Ok(()),
            other => panic!("partial walk: {other:?}"),
        }
    }

    fn open(&mut self, fid: u32, flags: OpenFlags) -> Result<(), u32> {
        self.rpc(l::Tlopen { fid, flags }).map(|_| ())
    }

    fn read_all(&mut self, fid: u32) -> Vec<u8> {
        let mut out = Vec::new();
        loop {
            let t = base::Tread { fid, offset: out.len() as u64, count: 8192 };
            match self.rpc(t).unwrap() {
                Message::Rread(r) if r.data.is_empty() => return out,
                Message::Rread(r) => out.extend_from_slice(&r.data),
                other => panic!("Tread: {other:?}"),
            }
        }
    }

    /// Reads a whole file from the tree attached at `root`.
    fn cat(&mut self, root: u32, fid: u32, path: &[&str]) -> Result<Vec<u8>, u32> {
        self.walk(root, fid, path)?;
        self.open(fid, OpenFlags::RDONLY)?;
        let data = self.read_all(fid);
        self.rpc(base::Tclunk { fid }).unwrap();
        Ok(data)
    }

    fn create(&mut self, dir: u32, fid: u32, name: &str) -> Result<(), u32> {
        self.walk(dir, fid, &[])?;
        let t = l::Tlcreate {
            fid,
            name: P9String::from(name),
            flags: OpenFlags::RDWR,
            mode: 0o644,
            gid: 0,
        };
        self.rpc(t).map(|_| ())
    }
}

fn text(b: Vec<u8>) -> String {
    String::from_utf8(b).unwrap()
}

/// `ninefold serve ARGS` that must fail: its stderr.
fn fails(args: &[&str]) -> String {
    let out = Command::new(BIN).arg("serve").args(args).stdin(Stdio::null()).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!out.status.success(), "{args:?} succeeded");
    assert!(!stderr.contains("panicked"), "{stderr}");
    stderr
}

const EROFS: u32 = Errno::EROFS.get();
const ENOENT: u32 = Errno::ENOENT.get();

#[test]
fn memory_tree_over_tcp_is_readable_and_writable() {
    let s = Serve::start(&["--memory", "--listen", "tcp://127.0.0.1:0"]);
    assert!(s.lines.iter().any(|l| l.contains("default export: in-memory tree")), "{:?}", s.lines);
    let port = s.tcp().port();
    let mount = format!(
        "mount -t 9p -o trans=tcp,port={port},version=9p2000.L,msize=1048576 127.0.0.1 /mnt"
    );
    assert!(s.lines.iter().any(|l| l.trim() == mount), "{:?}", s.lines);

    let mut c = Conn::tcp(s.tcp());
    c.attach(0, "").unwrap();
    let readme = text(c.cat(0, 1, &["README"]).unwrap());
    assert!(readme.contains("This is ninefold, a 9P server"), "{readme}");
    // The README tells how to mount this very server.
    assert!(readme.contains(&mount), "{readme}");

    // hello.txt is writable.
    c.walk(0, 2, &["hello.txt"]).unwrap();
    c.open(2, OpenFlags::RDWR).unwrap();
    let data = Bytes::from_static(b"HELLO");
    match c.rpc(base::Twrite { fid: 2, offset: 0, data }).unwrap() {
        Message::Rwrite(w) => assert_eq!(w.count, 5),
        other => panic!("{other:?}"),
    }
    c.rpc(base::Tclunk { fid: 2 }).unwrap();
    assert!(text(c.cat(0, 3, &["hello.txt"]).unwrap()).starts_with("HELLO from ninefold!"));

    // New files can be created, in the root and in tmp.
    c.create(0, 4, "new.txt").unwrap();
    c.walk(0, 5, &["tmp"]).unwrap();
    c.create(5, 6, "note").unwrap();
    assert_eq!(c.cat(0, 7, &["nope"]), Err(ENOENT));
}

#[test]
fn unix_listener_replaces_a_stale_socket_and_removes_it_on_exit() {
    let dir = tempfile::tempdir().unwrap();
    let sock = dir.path().join("ninefold.sock");
    drop(std::os::unix::net::UnixListener::bind(&sock).unwrap()); // stale
    let listen = format!("unix:{}", sock.display());
    let mut s = Serve::start(&["--listen", &listen]);
    assert!(s.lines.iter().any(|l| l == &format!("listening on {listen}")), "{:?}", s.lines);
    assert!(
        s.lines.iter().any(|l| l.contains(&format!(
            "trans=unix,version=9p2000.L,msize=1048576 {} /mnt",
            sock.display()
        ))),
        "{:?}",
        s.lines
    );
    let mut c = Conn::unix(&sock);
    c.attach(0, "").unwrap();
    assert!(text(c.cat(0, 1, &["README"]).unwrap()).contains("in-memory tree"));
    drop(c);
    s.signal(rustix::process::Signal::INT);
    assert!(s.wait().success());
    assert!(!sock.exists(), "socket file left behind");
}

#[test]
fn read_only_refuses_changes_with_erofs() {
    let s = Serve::start(&["--read-only", "--listen", "127.0.0.1:0"]);
    let mut c = Conn::tcp(s.tcp());
    c.attach(0, "").unwrap();
    assert_eq!(c.create(0, 1, "x"), Err(EROFS));
    assert!(text(c.cat(0, 2, &["README"]).unwrap()).contains("ninefold"));
    c.walk(0, 3, &["hello.txt"]).unwrap();
    assert_eq!(c.open(3, OpenFlags::RDWR), Err(EROFS));
    let mkdir = l::Tmkdir { dfid: 0, name: P9String::from("d"), mode: 0o755, gid: 0 };
    assert_eq!(c.rpc(mkdir).err(), Some(EROFS));
}

#[test]
fn anames_reach_their_own_trees() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("only-in-disk"), "from the host\n").unwrap();
    let disk = format!("disk={}", dir.path().display());
    let s = Serve::start(&[
        "--listen",
        "tcp://127.0.0.1:0",
        "--aname",
        "scratch=memory",
        "--aname",
        &disk,
    ]);
    assert!(s.lines.iter().any(|l| l.contains("no default export")), "{:?}", s.lines);
    assert!(s.lines.iter().any(|l| l.contains(",aname=scratch 127.0.0.1 /mnt")), "{:?}", s.lines);
    let mut c = Conn::tcp(s.tcp());

    c.attach(0, "disk").unwrap();
    assert_eq!(text(c.cat(0, 1, &["only-in-disk"]).unwrap()), "from the host\n");

    c.attach(10, "scratch").unwrap();
    assert_eq!(c.cat(10, 11, &["only-in-disk"]), Err(ENOENT));
    c.create(10, 12, "made-in-scratch").unwrap();
    assert_eq!(c.cat(0, 13, &["made-in-scratch"]), Err(ENOENT));
    assert!(!dir.path().join("made-in-scratch").exists());

    assert_eq!(c.attach(20, "unknown"), Err(ENOENT));
    // No DIR and no --memory: the empty aname reaches nothing.
    assert_eq!(c.attach(21, ""), Err(ENOENT));
}

#[test]
fn directory_export_with_config_file() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("data.txt"), "payload").unwrap();
    let config = dir.path().join("ninefold.toml");
    std::fs::write(
        &config,
        format!(
            "listen = [\"tcp://127.0.0.1:0\"]\nroot = \"{}\"\nmax_fids = 8\n[exports]\nro = {{ path = \"memory\", read_only = true }}\n",
            dir.path().display()
        ),
    )
    .unwrap();
    let s = Serve::start(&["--config", config.to_str().unwrap()]);
    let mut c = Conn::tcp(s.tcp());
    c.attach(0, "").unwrap();
    assert_eq!(text(c.cat(0, 1, &["data.txt"]).unwrap()), "payload");
    c.create(0, 2, "written").unwrap();
    assert!(dir.path().join("written").exists());
    // The directory's path is an aname too (diod style).
    c.attach(3, dir.path().to_str().unwrap()).unwrap();
    // The file's export is read-only, the default is not.
    c.attach(4, "ro").unwrap();
    assert_eq!(c.create(4, 5, "x"), Err(EROFS));
    // max_fids = 8: fids 0..=4 are in use (2 is open); three more fit.
    for fid in 6..9 {
        c.walk(0, fid, &[]).unwrap();
    }
    assert_eq!(c.walk(0, 9, &[]), Err(Errno::EMFILE.get()));
}

#[test]
fn sigterm_shuts_down_cleanly_with_a_client_connected() {
    let mut s = Serve::start(&["--listen", "tcp://127.0.0.1:0"]);
    let mut c = Conn::tcp(s.tcp());
    c.attach(0, "").unwrap();
    let start = Instant::now();
    s.signal(rustix::process::Signal::TERM);
    let status = s.wait();
    assert!(status.success(), "{status:?}");
    assert!(start.elapsed() < Duration::from_secs(5), "{:?}", start.elapsed());
    // The connection was closed by the server.
    let mut buf = [0u8; 1];
    assert!(matches!(c.io.read(&mut buf), Ok(0) | Err(_)));
}

#[test]
fn metrics_endpoint_serves_prometheus_text() {
    let s = Serve::start(&["--listen", "tcp://127.0.0.1:0", "--metrics", "127.0.0.1:0"]);
    let mut c = Conn::tcp(s.tcp());
    c.attach(0, "").unwrap();
    c.cat(0, 1, &["README"]).unwrap();

    let get = |path: &str| {
        let mut h = TcpStream::connect(s.metrics()).unwrap();
        h.set_read_timeout(Some(TIMEOUT)).unwrap();
        write!(h, "GET {path} HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
        let mut resp = String::new();
        h.read_to_string(&mut resp).unwrap();
        resp
    };
    let resp = get("/metrics");
    assert!(resp.starts_with("HTTP/1.1 200 OK\r\n"), "{resp}");
    assert!(resp.contains("Content-Type: text/plain; version=0.0.4"), "{resp}");
    assert!(resp.contains("# TYPE ninefold_server_duration_seconds histogram"), "{resp}");
    assert!(resp.contains(r#"rpc_method="Tread""#), "{resp}");
    assert!(resp.contains("ninefold_server_request_size_bytes_total "), "{resp}");
    assert!(resp.contains("ninefold_server_connections 1"), "{resp}");
    assert!(get("/other").starts_with("HTTP/1.1 404"));
}

#[test]
fn errors_are_readable() {
    let e = fails(&["/nonexistent/ninefold-dir", "--listen", "127.0.0.1:0"]);
    assert!(e.contains("directory /nonexistent/ninefold-dir does not exist"), "{e}");
    let e = fails(&["--listen", "udp://1.2.3.4:5"]);
    assert!(e.contains("invalid listen address \"udp://1.2.3.4:5\""), "{e}");
    let busy = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = format!("tcp://{}", busy.local_addr().unwrap());
    let e = fails(&["--listen", &addr]);
    assert!(e.contains(&format!("cannot listen on {addr}")) && e.contains("in use"), "{e}");
    let e = fails(&["--listen", "127.0.0.1:0", "--config", "/nonexistent/ninefold.toml"]);
    assert!(e.contains("cannot read config file /nonexistent/ninefold.toml"), "{e}");
    let e = fails(&["--listen", "127.0.0.1:0", "--max-msize", "100"]);
    assert!(e.contains("max msize 100"), "{e}");
    let e = fails(&["--listen", "127.0.0.1:0", "--aname", "x"]);
    assert!(e.contains("NAME=DIR"), "{e}");
}
