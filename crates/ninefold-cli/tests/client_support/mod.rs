//! Support for the client-command tests: servers to run against
//! (`ninefold serve` over memfs or a passthrough temp directory, and diod)
//! and a runner for the built `ninefold` binary.
//!
//! diod is installed with apt-get when missing; if it still cannot be
//! found the tests fail, unless `NINEFOLD_SKIP_DIOD=1`, in which case they
//! print that the diod runs were skipped.

#![allow(dead_code, unreachable_pub)]

use std::io::{BufRead, BufReader};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

pub const BIN: &str = env!("CARGO_BIN_EXE_ninefold");

/// The kinds of server the suite runs against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `ninefold serve --memory`.
    Memfs,
    /// `ninefold serve DIR`.
    Passthrough,
    /// diod (Debian), exporting a temp directory.
    Diod,
}

/// A running server, killed on drop.
pub struct Server {
    pub kind: Kind,
    child: Child,
    /// `tcp://127.0.0.1:PORT` (or `unix:SOCK`).
    pub target: String,
    /// `--aname` to pass (diod: the export directory).
    pub aname: Option<String>,
    /// The exported directory on the host (passthrough, diod).
    pub export: Option<tempfile::TempDir>,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    /// Starts a server of `kind`; `None` only for diod when it is missing
    /// and `NINEFOLD_SKIP_DIOD=1`.
    pub fn start(kind: Kind) -> Option<Server> {
        match kind {
            Kind::Memfs => Some(serve(&["--memory"], None)),
            Kind::Passthrough => {
                let dir = tempfile::tempdir().expect("tempdir");
                std::fs::set_permissions(
                    dir.path(),
                    std::os::unix::fs::PermissionsExt::from_mode(0o755),
                )
                .expect("chmod export");
                let path = dir.path().to_str().expect("utf-8 temp path").to_string();
                Some(serve(&[&path], Some(dir)))
            }
            Kind::Diod => start_diod(),
        }
    }

    /// A location on this server: `target` + `path`.
    pub fn loc(&self, path: &str) -> String {
        match self.target.strip_prefix("unix:") {
            Some(_) => format!("{}:{path}", self.target),
            None => format!("{}{path}", self.target),
        }
    }

    /// The host path of `rel` in the export (passthrough, diod).
    pub fn host(&self, rel: &str) -> PathBuf {
        self.export.as_ref().expect("a directory export").path().join(rel.trim_start_matches('/'))
    }

    /// Runs `ninefold ARGS` with this server's aname.
    pub fn run(&self, args: &[&str]) -> Run {
        let mut all: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        if let Some(a) = &self.aname {
            all.push(format!("--aname={a}"));
        }
        run(&all)
    }
}

/// The outcome of one run of the binary.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stdout_bytes: Vec<u8>,
    pub stderr: String,
    pub elapsed: Duration,
}

impl Run {
    /// Asserts success and returns stdout.
    #[track_caller]
    pub fn ok(&self) -> &str {
        assert_eq!(
            self.code, 0,
            "expected success; stderr: {}\nstdout: {}",
            self.stderr, self.stdout
        );
        &self.stdout
    }

    /// Asserts failure with `code` and a stderr line containing each of `parts`.
    #[track_caller]
    pub fn fails(&self, code: i32, parts: &[&str]) {
        assert_eq!(self.code, code, "exit code; stderr: {}\nstdout: {}", self.stderr, self.stdout);
        for p in parts {
            assert!(self.stderr.contains(p), "stderr lacks {p:?}: {}", self.stderr);
        }
    }
}

/// Runs the binary with these arguments (stdin closed, outputs piped).
pub fn run<S: AsRef<std::ffi::OsStr>>(args: &[S]) -> Run {
    let start = Instant::now();
    let out: Output = Command::new(BIN)
        .args(args)
        .env_remove("NINEFOLD_ANAME")
        .env_remove("NINEFOLD_UID")
        .env_remove("NINEFOLD_GID")
        .stdin(Stdio::null())
        .output()
        .expect("run ninefold");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stdout_bytes: out.stdout,
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        elapsed: start.elapsed(),
    }
}

/// Starts `ninefold serve ARGS` on a free loopback port and reads its
/// banner for the address.
pub fn serve(args: &[&str], export: Option<tempfile::TempDir>) -> Server {
    serve_on(args, "tcp://127.0.0.1:0", export)
}

/// Like [`serve`], listening on `listen`.
pub fn serve_on(args: &[&str], listen: &str, export: Option<tempfile::TempDir>) -> Server {
    let mut child = Command::new(BIN)
        .arg("serve")
        .args(args)
        .args(["--listen", listen])
        .env("RUST_LOG", "error")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn ninefold serve");
    let stdout = child.stdout.take().expect("stdout");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut target = None;
    loop {
        match rx.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
            Ok(line) => {
                if let Some(a) = line.strip_prefix("listening on ") {
                    target.get_or_insert_with(|| a.trim().to_string());
                }
                if line.starts_with("Stop with") {
                    break;
                }
            }
            Err(_) => {
                let _ = child.kill();
                panic!("no banner from ninefold serve {args:?}");
            }
        }
    }
    let kind = if args.contains(&"--memory") { Kind::Memfs } else { Kind::Passthrough };
    Server { kind, child, target: target.expect("a listening line"), aname: None, export }
}

/// A loopback port nobody listens on (bound, then released).
pub fn free_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr").port()
}

fn diod_binary() -> Option<PathBuf> {
    for dir in ["/usr/sbin", "/usr/bin", "/sbin", "/bin", "/usr/local/sbin"] {
        let p = Path::new(dir).join("diod");
        if p.exists() {
            return Some(p);
        }
    }
    None
}

/// Whether the diod runs are skipped on purpose.
pub fn skip_diod() -> bool {
    std::env::var("NINEFOLD_SKIP_DIOD").is_ok_and(|v| v == "1")
}

fn start_diod() -> Option<Server> {
    let bin = match diod_binary() {
        Some(b) => b,
        None => {
            if skip_diod() {
                eprintln!("\n!!!!! SKIPPED: diod runs (NINEFOLD_SKIP_DIOD=1 and diod is not installed) !!!!!\n");
                return None;
            }
            let st = Command::new("apt-get")
                .args(["install", "-y", "diod"])
                .env("DEBIAN_FRONTEND", "noninteractive")
                .stdout(Stdio::null())
                .status();
            match diod_binary() {
                Some(b) => b,
                None => panic!(
                    "diod is not installed and `apt-get install -y diod` did not install it ({st:?}); \
                     set NINEFOLD_SKIP_DIOD=1 to skip the diod runs"
                ),
            }
        }
    };
    for _ in 0..3 {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::set_permissions(dir.path(), std::os::unix::fs::PermissionsExt::from_mode(0o755))
            .expect("chmod");
        let export = dir.path().canonicalize().expect("canonical export");
        let port = free_port();
        // diod may dump core on bad input: run it from the temp dir.
        let child = Command::new(&bin)
            .args(["-f", "-n", "-l", &format!("127.0.0.1:{port}"), "-e"])
            .arg(&export)
            .args(["-L", "stderr", "-c", "/dev/null"])
            .current_dir(&export)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn diod");
        let mut server = Server {
            kind: Kind::Diod,
            child,
            target: format!("tcp://127.0.0.1:{port}"),
            aname: Some(export.to_str().expect("utf-8").to_string()),
            export: Some(dir),
        };
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return Some(server);
            }
            if let Ok(Some(_)) = server.child.try_wait() {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        drop(server);
    }
    panic!("diod did not start listening (three tries)");
}

/// The servers every test runs against.
pub fn all_servers() -> Vec<Server> {
    [Kind::Memfs, Kind::Passthrough, Kind::Diod].into_iter().filter_map(Server::start).collect()
}

/// Deterministic pseudo-random bytes.
pub fn data(seed: u64, len: usize) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

/// Every file under `root` (relative path → kind and contents), for
/// byte-for-byte tree comparisons; permission bits included.
pub fn snapshot(root: &Path) -> Vec<(PathBuf, String, Vec<u8>)> {
    use std::os::unix::fs::PermissionsExt;
    let mut out = Vec::new();
    let mut stack = vec![PathBuf::new()];
    while let Some(rel) = stack.pop() {
        let p = root.join(&rel);
        let m = std::fs::symlink_metadata(&p).expect("lstat");
        let perm = m.permissions().mode() & 0o7777;
        if m.file_type().is_symlink() {
            let t = std::fs::read_link(&p).expect("readlink");
            out.push((rel, "link".into(), t.into_os_string().into_encoded_bytes()));
        } else if m.is_dir() {
            out.push((rel.clone(), format!("dir {perm:o}"), Vec::new()));
            for e in std::fs::read_dir(&p).expect("read_dir") {
                stack.push(rel.join(e.expect("entry").file_name()));
            }
        } else {
            out.push((rel, format!("file {perm:o}"), std::fs::read(&p).expect("read")));
        }
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}
