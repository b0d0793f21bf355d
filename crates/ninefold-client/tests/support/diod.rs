//! Starts diod (Debian package `diod`, the reference C 9P2000.L server)
//! directly with its command-line flags: foreground, no authentication,
//! one export, logs on stderr, no config file. Shared by the tests and the
//! `client_bench` example (which includes this file by path); nothing
//! outside the checkout is needed but the `diod` binary itself.
//!
//! diod is a peer the client tests must have: when it is missing the tests
//! fail, unless `NINEFOLD_SKIP_DIOD=1` opts out (then every test binary
//! says so on the terminal, uncaptured).

#![allow(dead_code, unreachable_pub)]

use std::io::Write;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Once;
use std::time::{Duration, Instant};

/// The opt-out variable: `NINEFOLD_SKIP_DIOD=1` runs the suites without diod.
pub const SKIP_VAR: &str = "NINEFOLD_SKIP_DIOD";

/// Seconds after which diod exits by itself (through `timeout`), so an
/// instance outlives a killed test process by at most this long.
const LIFETIME_SECS: u32 = 1800;

/// The diod binary: on `PATH`, or in `/usr/sbin` (Debian installs it
/// there, which is not on a non-root `PATH`).
pub fn binary() -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain([PathBuf::from("/usr/sbin"), PathBuf::from("/sbin")])
        .map(|dir| dir.join("diod"))
        .find(|p| p.is_file())
}

/// Whether the user opted out of diod with `NINEFOLD_SKIP_DIOD=1`.
pub fn skipped() -> bool {
    std::env::var(SKIP_VAR).is_ok_and(|v| !v.is_empty() && v != "0")
}

/// The diod binary, or what to do without it: `None` after a loud,
/// uncaptured notice when the user opted out; a panic (a failing test)
/// when diod is missing and no opt-out is set.
pub fn require() -> Option<PathBuf> {
    if skipped() {
        static NOTICE: Once = Once::new();
        NOTICE.call_once(|| {
            // Written to the terminal directly: libtest captures eprintln!.
            let _ = writeln!(
                std::io::stderr(),
                "\n!!!!! {SKIP_VAR} is set: the diod runs of this test binary were SKIPPED !!!!!\n"
            );
        });
        return None;
    }
    match binary() {
        Some(p) => Some(p),
        None => panic!(
            "diod is not installed, and the client tests need it as a peer: install it \
             (`apt-get install -y diod`, as scripts/test.sh does) or set {SKIP_VAR}=1 to \
             skip the diod runs explicitly"
        ),
    }
}

/// A diod process serving one directory on a loopback port; killed on drop.
#[derive(Debug)]
pub struct Diod {
    child: Child,
    /// `tcp://127.0.0.1:PORT`.
    pub target: String,
    /// The aname to attach with: the export's canonical path.
    pub aname: String,
    log: PathBuf,
}

impl Diod {
    /// Starts diod (binary `bin`) exporting `export` (an existing
    /// directory) on a free loopback port, and waits until it listens.
    /// Retries on another port when the chosen one was taken meanwhile.
    pub fn start(bin: &Path, export: &Path) -> Result<Diod, String> {
        let export = std::fs::canonicalize(export)
            .map_err(|e| format!("export {}: {e}", export.display()))?;
        let log = export.with_extension("diod.log");
        let mut last = String::new();
        for _attempt in 0..3 {
            let port = free_port();
            let logf = std::fs::File::create(&log).map_err(|e| format!("diod log: {e}"))?;
            let errf = logf.try_clone().map_err(|e| format!("diod log: {e}"))?;
            let child = Command::new("timeout")
                .arg(LIFETIME_SECS.to_string())
                .arg(bin)
                .arg("-f") // foreground
                .arg("-n") // no authentication (no munge)
                .args(["-l", &format!("127.0.0.1:{port}")])
                .arg("-e")
                .arg(&export)
                .args(["-L", "stderr", "-c", "/dev/null"])
                // diod dumps core on some errors: not into the checkout
                .current_dir(std::env::temp_dir())
                .stdin(Stdio::null())
                .stdout(logf)
                .stderr(errf)
                .spawn()
                .map_err(|e| format!("spawn {}: {e}", bin.display()))?;
            let mut diod = Diod {
                child,
                target: format!("tcp://127.0.0.1:{port}"),
                aname: export.to_string_lossy().into_owned(),
                log: log.clone(),
            };
            let deadline = Instant::now() + Duration::from_secs(30);
            loop {
                if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                    return Ok(diod);
                }
                if let Ok(Some(status)) = diod.child.try_wait() {
                    last = format!("diod exited ({status}): {}", diod.log_text());
                    break; // most likely a port race: try another
                }
                if Instant::now() > deadline {
                    return Err(format!("diod did not listen on {port}: {}", diod.log_text()));
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        Err(last)
    }

    /// What diod logged so far.
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Diod {
    fn drop(&mut self) {
        // SIGTERM to `timeout`, which forwards it to diod.
        let _ = Command::new("kill").arg(self.child.id().to_string()).status();
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            if let Ok(Some(_)) = self.child.try_wait() {
                break;
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                let _ = self.child.wait();
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = std::fs::remove_file(&self.log);
    }
}

fn free_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
    l.local_addr().expect("local addr").port()
}
