//! Test support: the server under test is a parameter ([`ServerKind`]):
//! diod (started per test on a free port, killed on drop), and Ninefold's
//! own server exporting memfs or a passthrough temp directory (in process,
//! on a runtime of its own, on a free loopback port).
//!
//! Tests set up and check state "on the host" through [`TestServer`]'s
//! `host_*` methods, which never go through the client under test: for
//! diod and passthrough they are `std::fs` calls on the export directory;
//! for memfs they call the filesystem's `Node` methods directly.
//!
//! `NINEFOLD_CLIENT_SERVERS=diod,memfs,passthrough` (any subset) chooses
//! the servers; the default is all three.

#![allow(dead_code, unreachable_pub)]

pub mod host;

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use ninefold_client::{Client, ConnectOptions};
use ninefold_fs::memfs::MemFs;
use ninefold_fs::passthrough::Passthrough;
use ninefold_server::{Attacher, Exports, Server};

#[allow(unused_imports)]
pub use host::HostMeta;

/// Where the diod launcher lives: `$NINEFOLD_DIOD`, else the workplace's
/// shared tools beside the checkout, else their usual absolute path.
fn diod_serve() -> std::path::PathBuf {
    if let Some(p) = std::env::var_os("NINEFOLD_DIOD") {
        return p.into();
    }
    let beside = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/tools/diod/serve.sh");
    if beside.exists() {
        return beside;
    }
    "/work/shared/tools/diod/serve.sh".into()
}

/// The aname our server exports memfs under (any other aname: ENOENT).
pub const MEMFS_ANAME: &str = "/memfs";

/// Servers the suite runs against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServerKind {
    /// diod 1.0.24 (Debian), the reference C 9P2000.L server.
    Diod,
    /// `ninefold_server::Server` over `ninefold_fs::memfs`.
    Memfs,
    /// `ninefold_server::Server` over `ninefold_fs::passthrough` on a temp dir.
    Passthrough,
}

impl ServerKind {
    /// The name used in `NINEFOLD_CLIENT_SERVERS` and messages.
    pub fn name(self) -> &'static str {
        match self {
            ServerKind::Diod => "diod",
            ServerKind::Memfs => "memfs",
            ServerKind::Passthrough => "passthrough",
        }
    }

    /// Whether this is Ninefold's own server.
    pub fn is_ninefold(self) -> bool {
        self != ServerKind::Diod
    }
}

/// Every server kind to run (all, or those named in
/// `NINEFOLD_CLIENT_SERVERS`).
pub fn server_kinds() -> Vec<ServerKind> {
    let all = [ServerKind::Diod, ServerKind::Memfs, ServerKind::Passthrough];
    match std::env::var("NINEFOLD_CLIENT_SERVERS") {
        Ok(list) if !list.trim().is_empty() => {
            all.into_iter().filter(|k| list.split(',').any(|n| n.trim() == k.name())).collect()
        }
        _ => all.to_vec(),
    }
}

/// Where the exported tree lives, for the `host_*` methods.
pub(crate) enum Backing {
    /// A directory on the host disk (diod, passthrough).
    Disk { export: tempfile::TempDir, real: PathBuf },
    /// An in-memory tree.
    Mem(MemFs),
}

/// A running server with an export the test can inspect.
pub struct TestServer {
    pub kind: ServerKind,
    pub target: String,
    pub aname: String,
    pub(crate) backing: Backing,
    child: Option<Child>,
    served: Option<Served>,
}

impl TestServer {
    /// Starts `kind`, or `None` (after a loud message) when it cannot run here.
    pub fn start(kind: ServerKind) -> Option<TestServer> {
        eprintln!("----- server: {} -----", kind.name());
        match kind {
            ServerKind::Diod => start_diod(),
            ServerKind::Memfs => Some(start_memfs()),
            ServerKind::Passthrough => Some(start_passthrough()),
        }
    }

    /// The host path of `rel` inside the export (disk-backed kinds only).
    pub fn host(&self, rel: impl AsRef<Path>) -> PathBuf {
        match &self.backing {
            Backing::Disk { real, .. } => {
                let rel = rel.as_ref();
                real.join(rel.strip_prefix("/").unwrap_or(rel))
            }
            Backing::Mem(_) => panic!("{:?} has no host directory", self.kind),
        }
    }

    /// Whether the export is a host directory.
    pub fn on_disk(&self) -> bool {
        matches!(self.backing, Backing::Disk { .. })
    }

    /// Default connect options for this server.
    pub fn options(&self) -> ConnectOptions {
        ConnectOptions::new().aname(self.aname.clone()).msize(64 * 1024).uid(0).gid(0).uname("root")
    }

    /// A connected client as root.
    pub async fn client(&self) -> Client {
        Client::connect_with(&self.target, self.options()).await.expect("connect")
    }

    /// A connected client with custom options.
    pub async fn client_with(&self, opts: ConnectOptions) -> ninefold_client::Result<Client> {
        Client::connect_with(&self.target, opts).await
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            // `timeout` forwards SIGTERM to diod.
            let _ = Command::new("kill").arg(child.id().to_string()).status();
            let deadline = Instant::now() + Duration::from_secs(5);
            loop {
                if let Ok(Some(_)) = child.try_wait() {
                    break;
                }
                if Instant::now() > deadline {
                    let _ = child.kill();
                    let _ = child.wait();
                    break;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        self.served = None;
        if let Backing::Disk { real, .. } = &self.backing {
            let _ = std::fs::remove_file(real.with_extension("diod.log"));
        }
    }
}

fn free_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr").port()
}

fn export_dir() -> (tempfile::TempDir, PathBuf) {
    let export = tempfile::Builder::new().prefix("nf-client-").tempdir().expect("tempdir");
    let real = std::fs::canonicalize(export.path()).expect("realpath");
    (export, real)
}

/// Ninefold's server on a loopback port, on a runtime of its own (so it
/// never competes with, or dies with, the test's runtime). Stopped on drop.
pub struct Served {
    pub target: String,
    pub server: Server,
    rt: Option<tokio::runtime::Runtime>,
}

impl Drop for Served {
    fn drop(&mut self) {
        if let Some(rt) = self.rt.take() {
            // Allowed inside the test's own runtime, unlike a plain drop.
            rt.shutdown_background();
        }
    }
}

/// Serves `attacher` on a free loopback port.
pub fn serve_in_process(attacher: impl Attacher) -> Served {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    serve_listener(attacher, listener)
}

/// Serves `attacher` on loopback port `port` (to restart a server where a
/// client expects it). Retries the bind briefly.
pub fn serve_on_port(attacher: impl Attacher, port: u16) -> Served {
    let deadline = Instant::now() + Duration::from_secs(5);
    let listener = loop {
        match TcpListener::bind(("127.0.0.1", port)) {
            Ok(l) => break l,
            Err(e) if Instant::now() < deadline => {
                eprintln!("rebind {port}: {e}; retrying");
                std::thread::sleep(Duration::from_millis(20));
            }
            Err(e) => panic!("rebind {port}: {e}"),
        }
    };
    serve_listener(attacher, listener)
}

fn serve_listener(attacher: impl Attacher, listener: TcpListener) -> Served {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("nf-test-server")
        .enable_all()
        .build()
        .expect("server runtime");
    listener.set_nonblocking(true).expect("nonblocking");
    let port = listener.local_addr().expect("addr").port();
    let server = Server::builder(attacher).build().expect("server config");
    let s = server.clone();
    rt.spawn(async move {
        let listener = tokio::net::TcpListener::from_std(listener).expect("listener");
        if let Err(e) = s.serve_tcp(listener).await {
            eprintln!("test server stopped: {e}");
        }
    });
    Served { target: format!("tcp://127.0.0.1:{port}"), server, rt: Some(rt) }
}

fn start_memfs() -> TestServer {
    let fs = MemFs::new();
    let exports = Exports::new().export(MEMFS_ANAME, fs.root());
    let served = serve_in_process(exports);
    TestServer {
        kind: ServerKind::Memfs,
        target: served.target.clone(),
        aname: MEMFS_ANAME.to_string(),
        backing: Backing::Mem(fs),
        child: None,
        served: Some(served),
    }
}

fn start_passthrough() -> TestServer {
    let (export, real) = export_dir();
    let pt = Passthrough::new(&real).expect("passthrough export");
    let served = serve_in_process(pt.attacher());
    TestServer {
        kind: ServerKind::Passthrough,
        target: served.target.clone(),
        aname: real.to_string_lossy().into_owned(),
        backing: Backing::Disk { export, real },
        child: None,
        served: Some(served),
    }
}

fn start_diod() -> Option<TestServer> {
    let serve = diod_serve();
    if !serve.exists() {
        eprintln!("\n!!!!! SKIPPING: {} missing; diod tests did not run !!!!!\n", serve.display());
        return None;
    }
    let (mut export, export_real) = export_dir();
    for _attempt in 0..3 {
        let port = free_port();
        let log = std::fs::File::create(export_real.with_extension("diod.log")).expect("log");
        let child = Command::new("bash")
            .arg(&serve)
            .arg(&export_real)
            .arg(port.to_string())
            .arg("900")
            // diod dumps core on some errors; not into the crate directory
            .current_dir(std::env::temp_dir())
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log"))
            .stderr(log)
            .spawn()
            .expect("spawn diod");
        let mut server = TestServer {
            kind: ServerKind::Diod,
            target: format!("tcp://127.0.0.1:{port}"),
            aname: export_real.to_string_lossy().into_owned(),
            backing: Backing::Disk { export, real: export_real.clone() },
            child: Some(child),
            served: None,
        };
        // apt-get install on first use can take a while.
        let deadline = Instant::now() + Duration::from_secs(240);
        loop {
            if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return Some(server);
            }
            if let Some(child) = server.child.as_mut() {
                if let Ok(Some(status)) = child.try_wait() {
                    let log = std::fs::read_to_string(export_real.with_extension("diod.log"))
                        .unwrap_or_default();
                    if log.contains("Unable to locate package") || log.contains("E: ") {
                        eprintln!("\n!!!!! SKIPPING: diod cannot be installed ({status}):\n{log}\n!!!!!\n");
                        return None;
                    }
                    break; // port race: try another
                }
            }
            if Instant::now() > deadline {
                panic!("diod did not start listening on {port}");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        server.child = None;
        let Backing::Disk { export: e, .. } =
            std::mem::replace(&mut server.backing, Backing::Mem(MemFs::new()))
        else {
            unreachable!()
        };
        export = e;
    }
    panic!("diod failed to start three times");
}

/// Runs `body` once per available server kind.
#[macro_export]
macro_rules! for_each_server {
    ($srv:ident => $body:block) => {{
        for kind in $crate::support::server_kinds() {
            let Some($srv) = $crate::support::TestServer::start(kind) else { continue };
            let $srv = &$srv;
            $body
        }
    }};
}
