//! The conformance suite against Ninefold's own server, in process:
//! `ninefold_server::Server` over `tokio::io::duplex` pipes, serving a
//! memfs tree and a passthrough export of a temporary directory.
//!
//! Every case must pass or be skipped for a declared missing capability,
//! except the cases named in the known-failures lists below: each is a
//! server or filesystem bug written up in `docs/CONFORMANCE.md`, with a
//! one-line reason. A listed case that
//! starts passing fails the test too, so the lists shrink as bugs are
//! fixed and never hide a fixed bug.

use std::sync::Arc;
use std::time::{Duration, Instant};

use ninefold_fs::memfs::MemFs;
use ninefold_fs::passthrough::Passthrough;
use ninefold_fs::synthetic::Wrapped;
use ninefold_fstest::{run, Caps, Config, FnTarget, Outcome, Report, SlowFile, Stream};
use ninefold_proto::Dialect;
use ninefold_server::{Attacher, Node, Server};

/// Cases failing against memfs because of a server or memfs bug:
/// `(case, reason)`.
const MEMFS_KNOWN: &[(&str, &str)] = &[];

/// Cases failing against passthrough because of a server or passthrough
/// bug: `(case, reason)`.
const PASSTHROUGH_KNOWN: &[(&str, &str)] = &[];

/// How long the slow file's reads take (the suite asks for about a second).
const SLOW_DELAY: Duration = Duration::from_secs(1);

/// A memfs tree holding the slow file `slow` (reads wait [`SLOW_DELAY`]
/// or until flushed); the cases add everything else in scratch dirs.
fn slow_tree() -> MemFs {
    MemFs::builder()
        .node_with("slow", |qids| {
            Arc::new(Wrapped::slow_file(qids, vec![b's'; 4096], SLOW_DELAY)) as Arc<dyn Node>
        })
        .build()
        .unwrap()
}

/// Runs the whole suite against `attacher` served in process.
async fn run_suite(name: &str, attacher: impl Attacher, cfg: &Config) -> Report {
    let server = Server::builder(attacher).build().unwrap();
    let target = FnTarget::new(move || {
        let server = server.clone();
        async move {
            let (client, server_half) = tokio::io::duplex(1 << 20);
            tokio::spawn(async move {
                // A connection ending with a protocol error is what some
                // malformed cases provoke; the suite judges the reply.
                let _ = server.serve_connection(server_half).await;
            });
            Ok(Box::new(client) as Box<dyn Stream>)
        }
    })
    .named(name);
    run(&target, cfg).await
}

/// Prints the report and checks it against the known-failures list.
fn verdict(report: &Report, known: &[(&str, &str)]) {
    println!("{}", report.to_text());
    let mut problems = Vec::new();
    for c in &report.cases {
        let listed = known.iter().find(|(n, _)| *n == c.name);
        match (&c.outcome, listed) {
            (Outcome::Fail(m), None) => problems.push(format!("  {}: {m}", c.name)),
            (Outcome::Pass, Some((_, why))) => problems.push(format!(
                "  {}: passes now, remove it from the known failures ({why})",
                c.name
            )),
            (Outcome::Skip(m), Some(_)) => {
                problems.push(format!("  {}: listed as a known failure but skipped: {m}", c.name))
            }
            _ => {}
        }
        if let Some(e) = &c.cleanup_error {
            problems.push(format!("  {}: cleanup failed: {e}", c.name));
        }
    }
    for (n, _) in known {
        if !report.cases.iter().any(|c| c.name == *n) {
            problems.push(format!("  {n}: listed as a known failure but no such case ran"));
        }
    }
    assert!(
        problems.is_empty(),
        "{}:\n{}\n{}",
        report.target,
        problems.join("\n"),
        report.summary()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn memfs() {
    memfs_in(None).await;
}

/// The .Z mode: the 9P2000.L.Z cases, and every 9P2000.L case over a .Z
/// session (envelopes on the covered mutations).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn memfs_dotz() {
    memfs_in(Some(Dialect::Z)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn passthrough() {
    passthrough_in(None).await;
}

/// The .Z mode against passthrough.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn passthrough_dotz() {
    passthrough_in(Some(Dialect::Z)).await;
}

async fn memfs_in(dialect: Option<Dialect>) {
    let t0 = Instant::now();
    let fs = slow_tree();
    // memfs has xattrs, byte-range locks, mknod, symlinks, hard links,
    // permission checks from the attached uid, chown/devices for root; the
    // server speaks .L, .u and 9P2000. It stores files densely (a hole
    // takes memory), so it honestly lacks SPARSE; its FIFOs are nodes
    // without pipe I/O, so it lacks FIFO_IO.
    let cfg = Config {
        caps: Caps::all() - Caps::SPARSE - Caps::FIFO_IO,
        slow: Some(SlowFile { aname: None, path: "slow".into() }),
        dialect,
        ..Config::default()
    };
    let report = run_suite("ninefold-server + memfs", fs.root(), &cfg).await;
    println!("memfs: {} in {:?}", report.summary(), t0.elapsed());
    verdict(&report, MEMFS_KNOWN);
}

async fn passthrough_in(dialect: Option<Dialect>) {
    let t0 = Instant::now();
    let dir = tempfile::tempdir().unwrap();
    let export = Passthrough::new(dir.path()).unwrap();
    // The slow file lives in a second export (a memfs holding only it):
    // a host directory has no slow file, and flush is the server's job.
    let slow = slow_tree();
    let exports = export.exports().export("slow", slow.root());
    let mut caps = Caps::all();
    // Running as root, passthrough switches to the attached user's
    // credentials for every host call, so permissions are enforced by the
    // host kernel; unprivileged, it cannot, and neither can it create
    // device nodes or chown to any id.
    if !is_root() {
        // Without root the permission and privileged cases cannot run;
        // leaving them out needs the explicit opt-out, never silently.
        assert!(
            std::env::var_os("NINEFOLD_SKIP_ROOT_TESTS").is_some_and(|v| v == "1"),
            "passthrough conformance needs root for its permission cases; \
             run as root or set NINEFOLD_SKIP_ROOT_TESTS=1 to leave them out"
        );
        eprintln!(
            "not root and NINEFOLD_SKIP_ROOT_TESTS=1: permission and privileged cases left out"
        );
        caps.remove(Caps::PERMISSIONS);
        caps.remove(Caps::PRIVILEGED);
    }
    let cfg = Config {
        caps,
        slow: Some(SlowFile { aname: Some("slow".into()), path: "slow".into() }),
        dialect,
        ..Config::default()
    };
    let report = run_suite("ninefold-server + passthrough", exports, &cfg).await;
    println!("passthrough: {} in {:?}", report.summary(), t0.elapsed());
    verdict(&report, PASSTHROUGH_KNOWN);
}

/// Whether this process runs as root (owner of a file it just created).
fn is_root() -> bool {
    use std::os::unix::fs::MetadataExt;
    let f = tempfile::NamedTempFile::new().unwrap();
    f.as_file().metadata().unwrap().uid() == 0
}
