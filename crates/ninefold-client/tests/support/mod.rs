//! Test support: the server under test is a parameter. Today: diod (started
//! per test on a free port, killed on drop). Ninefold's own server joins
//! [`ServerKind`] once it exists.

#![allow(dead_code, unreachable_pub)]

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use ninefold_client::{Client, ConnectOptions};

/// Where the diod launcher lives.
const DIOD_SERVE: &str = "/work/shared/tools/diod/serve.sh";

/// Servers the suite runs against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServerKind {
    /// diod 1.0.24 (Debian), the reference C 9P2000.L server.
    Diod,
}

/// Every server kind available on this machine.
pub fn server_kinds() -> Vec<ServerKind> {
    vec![ServerKind::Diod]
}

/// A running server with an export directory on the host disk.
pub struct TestServer {
    pub kind: ServerKind,
    pub target: String,
    pub aname: String,
    export: tempfile::TempDir,
    export_real: PathBuf,
    child: Option<Child>,
}

impl TestServer {
    /// Starts `kind`, or `None` (after a loud message) when it cannot run here.
    pub fn start(kind: ServerKind) -> Option<TestServer> {
        match kind {
            ServerKind::Diod => start_diod(),
        }
    }

    /// The host path of `rel` inside the export.
    pub fn host(&self, rel: impl AsRef<Path>) -> PathBuf {
        let rel = rel.as_ref();
        let rel = rel.strip_prefix("/").unwrap_or(rel);
        self.export_real.join(rel)
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
        let _ = std::fs::remove_file(self.export_real.with_extension("diod.log"));
    }
}

fn free_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr").port()
}

fn start_diod() -> Option<TestServer> {
    if !Path::new(DIOD_SERVE).exists() {
        eprintln!("\n!!!!! SKIPPING: {DIOD_SERVE} missing; diod tests did not run !!!!!\n");
        return None;
    }
    let mut export = tempfile::Builder::new().prefix("nf-client-").tempdir().expect("tempdir");
    let export_real = std::fs::canonicalize(export.path()).expect("realpath");
    for _attempt in 0..3 {
        let port = free_port();
        let log = std::fs::File::create(export_real.with_extension("diod.log")).expect("log");
        let child = Command::new("bash")
            .arg(DIOD_SERVE)
            .arg(&export_real)
            .arg(port.to_string())
            .arg("900")
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log"))
            .stderr(log)
            .spawn()
            .expect("spawn diod");
        let mut server = TestServer {
            kind: ServerKind::Diod,
            target: format!("tcp://127.0.0.1:{port}"),
            aname: export_real.to_string_lossy().into_owned(),
            export,
            export_real: export_real.clone(),
            child: Some(child),
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
        export = std::mem::replace(&mut server.export, tempfile::tempdir().expect("tempdir"));
        server.child = None;
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
