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
//! the servers; the default is all three. diod is required: without it
//! the tests fail, unless `NINEFOLD_SKIP_DIOD=1` opts out (see
//! [`diod::require`]). Either way of leaving a server out is announced on
//! the terminal, never silently.

#![allow(dead_code, unreachable_pub)]

pub mod diod;
pub mod fake;
pub mod host;
pub mod proxy;

use std::io::Write;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::sync::Once;
use std::time::{Duration, Instant};

use ninefold_client::{Client, ConnectOptions};
use ninefold_fs::memfs::MemFs;
use ninefold_fs::passthrough::Passthrough;
use ninefold_server::{Attacher, Exports, Server};

#[allow(unused_imports)]
pub use host::HostMeta;

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
            let chosen: Vec<ServerKind> =
                all.into_iter().filter(|k| list.split(',').any(|n| n.trim() == k.name())).collect();
            static NOTICE: Once = Once::new();
            let left: Vec<&str> =
                all.iter().filter(|k| !chosen.contains(k)).map(|k| k.name()).collect();
            if !left.is_empty() {
                NOTICE.call_once(|| {
                    // To the terminal directly: libtest captures eprintln!.
                    let _ = writeln!(
                        std::io::stderr(),
                        "\n!!!!! NINEFOLD_CLIENT_SERVERS={list}: runs against {} SKIPPED !!!!!\n",
                        left.join(", ")
                    );
                });
            }
            chosen
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
    diod: Option<diod::Diod>,
    served: Option<Served>,
}

impl TestServer {
    /// Starts `kind`; `None` only for diod under `NINEFOLD_SKIP_DIOD=1`
    /// (announced loudly). A server that cannot start fails the test.
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
        // Servers first, then the export directory they serve.
        self.diod = None;
        self.served = None;
    }
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

/// Serves `attacher` on a free loopback port, offering only `dialects`.
pub fn serve_dialects(attacher: impl Attacher, dialects: &[ninefold_proto::Dialect]) -> Served {
    serve_custom(attacher, |b| b.dialects(dialects))
}

/// Serves `attacher` on a free loopback port with a tuned server.
pub fn serve_custom(
    attacher: impl Attacher,
    tune: impl FnOnce(ninefold_server::ServerBuilder) -> ninefold_server::ServerBuilder,
) -> Served {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    serve_listener_with(attacher, listener, tune)
}

fn serve_listener(attacher: impl Attacher, listener: TcpListener) -> Served {
    serve_listener_with(attacher, listener, |b| b)
}

fn serve_listener_with(
    attacher: impl Attacher,
    listener: TcpListener,
    tune: impl FnOnce(ninefold_server::ServerBuilder) -> ninefold_server::ServerBuilder,
) -> Served {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("nf-test-server")
        .enable_all()
        .build()
        .expect("server runtime");
    listener.set_nonblocking(true).expect("nonblocking");
    let port = listener.local_addr().expect("addr").port();
    let server = tune(Server::builder(attacher)).build().expect("server config");
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
        diod: None,
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
        diod: None,
        served: Some(served),
    }
}

fn start_diod() -> Option<TestServer> {
    let bin = diod::require()?;
    let (export, real) = export_dir();
    let d = diod::Diod::start(&bin, &real).unwrap_or_else(|e| panic!("diod did not start: {e}"));
    Some(TestServer {
        kind: ServerKind::Diod,
        target: d.target.clone(),
        aname: d.aname.clone(),
        backing: Backing::Disk { export, real },
        diod: Some(d),
        served: None,
    })
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
