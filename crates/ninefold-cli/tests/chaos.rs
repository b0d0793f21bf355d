//! Chaos test: one client, 8 tasks, the server SIGKILLed and restarted.
//!
//! Eight tasks write, append, rename, create and delete through ONE
//! `ninefold_client::Client` while `ninefold serve` (a passthrough export,
//! with `--state-dir` when the binary has it) is killed with SIGKILL and
//! started again on the same port and export at random moments, at least
//! [`MIN_RESTARTS`] times. Every call is checked against a per-task model as
//! it returns, and at the end the export is read straight from the host:
//!
//! - every write that returned success and was followed by a successful
//!   `sync_all` is on disk with the right bytes;
//! - every append that returned success is in its log exactly once, at the
//!   offset the call returned; on a `9P2000.L.Z` session no record is in a
//!   log twice (exactly-once; on plain 9P2000.L duplicates are the documented
//!   at-least-once caveat and only reported);
//! - no call returned a wrong result (a definite error or a value the model
//!   says is impossible). Calls that failed with an outcome-unknown error
//!   (lost connection, ESTALE, EIO, a timeout) allow either outcome and are
//!   counted and printed.
//!
//! The server binary is `NINEFOLD_BIN` (scripts/test-zerofs.sh passes the
//! release build) or the one Cargo built for this test. `NINEFOLD_CHAOS_SEED`
//! replays a run; `NINEFOLD_CHAOS_RESTARTS` raises the restart count;
//! `NINEFOLD_CHAOS_NO_STATE_DIR=1` runs the server without its journal.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use ninefold_client::{Client, ConnectOptions, Errno, Error, OpenOptions};

/// At least this many SIGKILL + restart cycles.
const MIN_RESTARTS: u32 = 20;
/// Tasks sharing the one client.
const TASKS: usize = 8;
/// Fixed size of one append record.
const REC: usize = 32;
/// Bound on one call (a longer one is a hang, and a finding).
const CALL_TIMEOUT: Duration = Duration::from_secs(45);
/// Bound on the whole run, restarts included.
const RUN_BOUND: Duration = Duration::from_secs(150);

fn server_bin() -> PathBuf {
    std::env::var_os("NINEFOLD_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_ninefold")))
}

/// xorshift64*: deterministic per seed, no dependency.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// `ninefold serve` over one export, restartable on the same port.
struct Server {
    bin: PathBuf,
    export: PathBuf,
    state_dir: Option<PathBuf>,
    port: u16,
    child: Option<Child>,
}

impl Server {
    fn spawn(&mut self) {
        let mut cmd = Command::new(&self.bin);
        cmd.arg("serve")
            .arg("--listen")
            .arg(format!("tcp://127.0.0.1:{}", self.port))
            .arg("--log")
            .arg("error")
            .stdin(Stdio::null())
            .stdout(Stdio::null());
        if let Some(s) = &self.state_dir {
            cmd.arg("--state-dir").arg(s);
        }
        cmd.arg(&self.export);
        let mut child = cmd.spawn().expect("spawn ninefold serve");
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                break;
            }
            if let Ok(Some(st)) = child.try_wait() {
                panic!("ninefold serve exited at start: {st}");
            }
            assert!(Instant::now() < deadline, "ninefold serve did not listen");
            std::thread::sleep(Duration::from_millis(10));
        }
        self.child = Some(child);
    }

    fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill(); // SIGKILL
            let _ = c.wait();
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Shared counters and findings.
#[derive(Default)]
struct Stats {
    ops: AtomicU64,
    ok: AtomicU64,
    errors: Mutex<BTreeMap<String, u64>>,
    /// Invariant violations: the test fails on any.
    findings: Mutex<Vec<String>>,
    /// Calls with an unknown outcome (allowed; printed).
    ambiguous: Mutex<Vec<String>>,
    /// Re-executions a plain (non-.Z) session is allowed (printed).
    at_least_once: Mutex<Vec<String>>,
}

impl Stats {
    fn finding(&self, s: String) {
        eprintln!("FINDING: {s}");
        self.findings.lock().unwrap().push(s);
    }
    fn error(&self, kind: String) {
        *self.errors.lock().unwrap().entry(kind).or_default() += 1;
    }
}

fn kind(e: &Error) -> String {
    match e {
        Error::Io(errno) => format!("Io({errno:?})"),
        Error::InvalidArgument(_) => "InvalidArgument".into(),
        Error::ConnectFailed(_) => "ConnectFailed".into(),
        Error::Protocol(m) => format!("Protocol({m})"),
        Error::Stale(_) => "Stale".into(),
        Error::Unsupported(_) => "Unsupported".into(),
        other => format!("{other:?}"),
    }
}

/// Outcome-unknown errors: the call may or may not have taken effect.
fn is_ambiguous(e: &Error) -> bool {
    matches!(
        e,
        Error::Protocol(_)
            | Error::ConnectFailed(_)
            | Error::Stale(_)
            | Error::Io(Errno::ESTALE)
            | Error::Io(Errno::EIO)
    )
}

enum Outcome<T> {
    Ok(T),
    /// Definite error.
    Err(Error),
    /// Unknown outcome (ambiguous error or timeout).
    Unknown,
}

/// What a task tracks about one name: the set of contents it may hold
/// (`None` = absent).
type Possible = HashSet<Option<Vec<u8>>>;

struct Task {
    id: usize,
    client: Client,
    stats: Arc<Stats>,
    zdialect: bool,
    rng: Rng,
    seq: u64,
    /// Acknowledged appends: record id -> offset returned.
    acked: HashMap<u64, u64>,
    /// Appends with an unknown outcome.
    maybe_appended: HashSet<u64>,
    /// Whole-file writes and synced handle writes: name -> possible contents.
    files: HashMap<String, Possible>,
    /// Names whose last change returned success, then a successful sync_all.
    durable: HashMap<String, Vec<u8>>,
    /// Where the rename ping-pong file is: "rA" / "rB" (both when unknown).
    rename_at: HashSet<&'static str>,
    /// create_new/remove_file toggles: name -> possibly exists.
    exists: HashMap<String, HashSet<bool>>,
}

impl Task {
    fn dir(&self) -> String {
        format!("/t{}", self.id)
    }
    fn path(&self, name: &str) -> String {
        format!("/t{}/{name}", self.id)
    }

    async fn call<T, F>(&self, what: &str, fut: F) -> Outcome<T>
    where
        F: std::future::Future<Output = Result<T, Error>>,
    {
        self.stats.ops.fetch_add(1, Ordering::Relaxed);
        match tokio::time::timeout(CALL_TIMEOUT, fut).await {
            Ok(Ok(v)) => {
                self.stats.ok.fetch_add(1, Ordering::Relaxed);
                Outcome::Ok(v)
            }
            Ok(Err(e)) => {
                self.stats.error(kind(&e));
                if is_ambiguous(&e) {
                    self.stats.ambiguous.lock().unwrap().push(format!("t{} {what}: {e}", self.id));
                    Outcome::Unknown
                } else {
                    Outcome::Err(e)
                }
            }
            Err(_) => {
                self.stats.error("timeout".into());
                self.stats
                    .finding(format!("t{} {what}: no answer in {CALL_TIMEOUT:?} (hang)", self.id));
                Outcome::Unknown
            }
        }
    }

    fn record(&self, rid: u64) -> Vec<u8> {
        let mut r = format!("T{:02}-{rid:010}-", self.id).into_bytes();
        r.resize(REC - 1, b'.');
        r.push(b'\n');
        r
    }

    fn content(&mut self, tag: &str) -> Vec<u8> {
        self.seq += 1;
        let mut c = format!("t{}-{tag}-{:08}-", self.id, self.seq).into_bytes();
        c.resize(64, b'#');
        c
    }

    /// A definite error where the model says the call must succeed.
    fn wrong(&self, what: &str, e: &Error) {
        self.stats.finding(format!("t{} {what}: wrong result: {e} ({})", self.id, kind(e)));
    }

    async fn setup(&mut self) {
        let d = self.dir();
        self.client.create_dir(&d, 0o755).await.expect("mkdir task dir");
        let rpath = self.path("rA");
        self.client.write(&rpath, b"ping-pong").await.expect("rename file");
        self.rename_at.insert("rA");
    }

    async fn step(&mut self) {
        match self.rng.below(100) {
            0..=29 => self.append().await,
            30..=44 => self.write_whole().await,
            45..=59 => self.write_synced().await,
            60..=74 => self.rename().await,
            75..=89 => self.create_delete().await,
            _ => self.check_log_size().await,
        }
    }

    async fn append(&mut self) {
        self.seq += 1;
        let rid = self.seq;
        let rec = self.record(rid);
        let log = self.path("log");
        let c = self.client.clone();
        match self.call("append", c.append(&log, &rec)).await {
            Outcome::Ok(off) => {
                if off % REC as u64 != 0 {
                    self.stats.finding(format!(
                        "t{} append {rid}: offset {off} not record-aligned",
                        self.id
                    ));
                }
                self.acked.insert(rid, off);
            }
            Outcome::Unknown => {
                self.maybe_appended.insert(rid);
            }
            Outcome::Err(e) => self.wrong("append", &e),
        }
    }

    fn possible(&mut self, name: &str) -> &mut Possible {
        self.files.entry(name.to_string()).or_insert_with(|| {
            let mut s = HashSet::new();
            s.insert(None);
            s
        })
    }

    async fn write_whole(&mut self) {
        let name = format!("w{}", self.rng.below(3));
        let data = self.content("w");
        let p = self.path(&name);
        let c = self.client.clone();
        let out = self.call("write", c.write(&p, &data)).await;
        match out {
            Outcome::Ok(()) => {
                let s = self.possible(&name);
                s.clear();
                s.insert(Some(data.clone()));
            }
            // `write` is create-or-truncate, then write: an unfinished one
            // may leave the file empty
            Outcome::Unknown => {
                let s = self.possible(&name);
                s.insert(Some(data.clone()));
                s.insert(Some(Vec::new()));
            }
            Outcome::Err(e) => {
                self.wrong("write", &e);
                let s = self.possible(&name);
                s.insert(Some(data.clone()));
                s.insert(Some(Vec::new()));
            }
        }
        self.durable.remove(&name);
        // read back: must be one of the possible contents
        let c = self.client.clone();
        let got = match self.call("read", c.read(&p)).await {
            Outcome::Ok(got) => got,
            Outcome::Unknown => return,
            Outcome::Err(e) => {
                if e != Error::NotFound || !self.possible(&name).contains(&None) {
                    self.wrong(&format!("read {name}"), &e);
                }
                return;
            }
        };
        {
            let got = got.to_vec();
            let s = self.possible(&name);
            if !s.contains(&Some(got.clone())) {
                let msg = format!(
                    "read {name} returned {:?}, not a possible content",
                    String::from_utf8_lossy(&got)
                );
                self.stats.finding(format!("t{} {msg}", self.id));
            } else {
                // a successful read pins the content
                s.clear();
                s.insert(Some(got));
            }
        }
    }

    async fn write_synced(&mut self) {
        let name = format!("s{}", self.rng.below(2));
        let data = self.content("s");
        let p = self.path(&name);
        self.durable.remove(&name);
        // a created file whose write did not happen is empty
        let s = self.possible(&name);
        s.insert(Some(data.clone()));
        s.insert(Some(Vec::new()));
        let c = self.client.clone();
        let f = match self
            .call("open(create)", c.open(&p, OpenOptions::new().write(true).create(true)))
            .await
        {
            Outcome::Ok(f) => f,
            Outcome::Unknown => return,
            Outcome::Err(e) => return self.wrong("open(create)", &e),
        };
        // every content of this name is 64 bytes: write_at(0) replaces it whole
        let w = self.call("write_at", f.write_at(0, &data)).await;
        let s = match w {
            Outcome::Ok(()) => self.call("sync_all", f.sync_all()).await,
            Outcome::Unknown => Outcome::Unknown,
            Outcome::Err(e) => Outcome::Err(e),
        };
        match s {
            Outcome::Ok(()) => {
                let set = self.possible(&name);
                set.clear();
                set.insert(Some(data.clone()));
                self.durable.insert(name, data);
            }
            Outcome::Unknown => {}
            Outcome::Err(e) => self.wrong("write_at/sync_all", &e),
        }
        let _ = f.close().await;
    }

    async fn rename(&mut self) {
        if self.rename_at.len() != 1 {
            // unknown after an ambiguous rename: look (stat is read-only)
            let mut found = HashSet::new();
            for n in ["rA", "rB"] {
                let p = self.path(n);
                let c = self.client.clone();
                match self.call("exists", c.exists(&p)).await {
                    Outcome::Ok(true) => {
                        found.insert(n);
                    }
                    Outcome::Ok(false) => {}
                    _ => return,
                }
            }
            if found.len() != 1 {
                self.stats.finding(format!(
                    "t{}: the rename file is at {found:?} (exactly one of rA, rB expected)",
                    self.id
                ));
                return;
            }
            self.rename_at = found;
        }
        let from = *self.rename_at.iter().next().unwrap_or(&"rA");
        let to = if from == "rA" { "rB" } else { "rA" };
        let (pf, pt) = (self.path(from), self.path(to));
        let c = self.client.clone();
        match self.call("rename", c.rename(&pf, &pt)).await {
            Outcome::Ok(()) => {
                self.rename_at.clear();
                self.rename_at.insert(to);
            }
            Outcome::Unknown => {
                self.rename_at.insert(to);
            }
            Outcome::Err(e) => {
                if !self.zdialect && e == Error::NotFound {
                    // plain 9P2000.L: a resent rename that had applied
                    self.stats.at_least_once.lock().unwrap().push(format!(
                        "t{} rename {from}->{to}: NotFound (re-executed after a reconnect)",
                        self.id
                    ));
                    self.rename_at.insert(to);
                } else {
                    self.wrong(&format!("rename {from}->{to}"), &e);
                    self.rename_at.insert(to);
                }
            }
        }
    }

    async fn create_delete(&mut self) {
        let name = format!("c{}", self.rng.below(3));
        let p = self.path(&name);
        let state = self
            .exists
            .entry(name.clone())
            .or_insert_with(|| [false].into_iter().collect())
            .clone();
        let c = self.client.clone();
        if state.len() != 1 {
            match self.call("exists", c.exists(&p)).await {
                Outcome::Ok(b) => {
                    self.exists.insert(name.clone(), [b].into_iter().collect());
                }
                _ => return,
            }
            return;
        }
        let present = state.contains(&true);
        if present {
            match self.call("remove_file", c.remove_file(&p)).await {
                Outcome::Ok(()) => {
                    self.exists.insert(name, [false].into_iter().collect());
                }
                Outcome::Unknown => {
                    self.exists.insert(name, [true, false].into_iter().collect());
                }
                Outcome::Err(e) => {
                    if !self.zdialect && e == Error::NotFound {
                        self.stats.at_least_once.lock().unwrap().push(format!(
                            "t{} remove {name}: NotFound (re-executed after a reconnect)",
                            self.id
                        ));
                    } else {
                        self.wrong(&format!("remove_file {name}"), &e);
                    }
                    self.exists.insert(name, [true, false].into_iter().collect());
                }
            }
        } else {
            let opts = OpenOptions::new().write(true).create_new(true);
            match self.call("open(create_new)", c.open(&p, opts)).await {
                Outcome::Ok(f) => {
                    let _ = f.close().await;
                    self.exists.insert(name, [true].into_iter().collect());
                }
                Outcome::Unknown => {
                    self.exists.insert(name, [true, false].into_iter().collect());
                }
                Outcome::Err(e) => {
                    if !self.zdialect && e == Error::AlreadyExists {
                        self.stats.at_least_once.lock().unwrap().push(format!(
                            "t{} create_new {name}: AlreadyExists (re-executed after a reconnect)",
                            self.id
                        ));
                    } else {
                        self.wrong(&format!("create_new {name}"), &e);
                    }
                    self.exists.insert(name, [true, false].into_iter().collect());
                }
            }
        }
    }

    async fn check_log_size(&mut self) {
        let log = self.path("log");
        let c = self.client.clone();
        let m = match self.call("stat", c.stat(&log)).await {
            Outcome::Ok(m) => m,
            Outcome::Unknown => return,
            Outcome::Err(e) => {
                if e != Error::NotFound || !self.acked.is_empty() {
                    self.wrong("stat log", &e);
                }
                return;
            }
        };
        {
            let need = self.acked.values().map(|o| o + REC as u64).max().unwrap_or(0);
            if m.size % REC as u64 != 0 || m.size < need {
                self.stats.finding(format!(
                    "t{} log size {} (records of {REC}, acknowledged up to {need})",
                    self.id, m.size
                ));
            }
        }
    }

    /// Final checks against the host directory.
    fn verify(&self, host: &Path) {
        let tdir = host.join(format!("t{}", self.id));
        let st = &self.stats;
        let id = self.id;
        // appends
        let log = std::fs::read(tdir.join("log")).unwrap_or_default();
        if log.len() % REC != 0 {
            st.finding(format!("t{id}: log length {} is not whole records", log.len()));
        }
        let mut seen: HashMap<u64, Vec<u64>> = HashMap::new();
        for (i, rec) in log.chunks(REC).enumerate() {
            let text = String::from_utf8_lossy(rec);
            let rid = text
                .strip_prefix(&format!("T{id:02}-"))
                .and_then(|r| r.get(..10))
                .and_then(|r| r.parse::<u64>().ok());
            match rid {
                Some(rid) if rec == self.record(rid).as_slice() => {
                    seen.entry(rid).or_default().push((i * REC) as u64)
                }
                _ => st.finding(format!("t{id}: torn or foreign record at {}: {text:?}", i * REC)),
            }
        }
        for (rid, offs) in &seen {
            if offs.len() > 1 {
                let msg =
                    format!("t{id}: append {rid} applied {} times (offsets {offs:?})", offs.len());
                if self.zdialect {
                    st.finding(format!("{msg}: exactly-once violated"));
                } else {
                    st.at_least_once.lock().unwrap().push(msg);
                }
            }
            if !self.acked.contains_key(rid) && !self.maybe_appended.contains(rid) {
                st.finding(format!("t{id}: record {rid} in the log was never appended"));
            }
        }
        for (rid, off) in &self.acked {
            match seen.get(rid) {
                None => {
                    st.finding(format!("t{id}: acknowledged append {rid} (offset {off}) is lost"))
                }
                Some(offs) if !offs.contains(off) => st.finding(format!(
                    "t{id}: append {rid} returned offset {off} but is at {offs:?}"
                )),
                _ => {}
            }
        }
        // whole-file and synced writes
        for (name, possible) in &self.files {
            let got = std::fs::read(tdir.join(name)).ok();
            if !possible.contains(&got) {
                st.finding(format!(
                    "t{id}: {name} holds {:?}, not one of the {} possible contents",
                    got.as_deref().map(String::from_utf8_lossy),
                    possible.len()
                ));
            }
        }
        for (name, data) in &self.durable {
            let got = std::fs::read(tdir.join(name)).ok();
            if got.as_deref() != Some(data.as_slice()) {
                st.finding(format!(
                    "t{id}: {name} was written and synced ({:?}) but holds {:?}",
                    String::from_utf8_lossy(data),
                    got.as_deref().map(String::from_utf8_lossy)
                ));
            }
        }
        // rename ping-pong
        let at: Vec<&str> = ["rA", "rB"].into_iter().filter(|n| tdir.join(n).exists()).collect();
        if at.len() != 1 || !self.rename_at.contains(at[0]) {
            st.finding(format!("t{id}: rename file at {at:?}, model says {:?}", self.rename_at));
        }
        // create/delete
        for (name, states) in &self.exists {
            let e = tdir.join(name).exists();
            if !states.contains(&e) {
                st.finding(format!("t{id}: {name} exists={e}, model says {states:?}"));
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chaos_sigkill_restarts_against_a_model() {
    let bin = server_bin();
    let help =
        Command::new(&bin).args(["serve", "--help"]).output().expect("ninefold serve --help");
    // NINEFOLD_CHAOS_NO_STATE_DIR=1: run without the journal, to see what a
    // restart does to exactly-once when the ledger lives only in memory
    let has_state_dir = String::from_utf8_lossy(&help.stdout).contains("--state-dir")
        && std::env::var_os("NINEFOLD_CHAOS_NO_STATE_DIR").is_none();
    let export = tempfile::tempdir().expect("tempdir");
    let state = tempfile::tempdir().expect("tempdir");
    let port =
        TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("free port").port();
    let mut server = Server {
        bin: bin.clone(),
        export: export.path().to_path_buf(),
        state_dir: has_state_dir.then(|| state.path().to_path_buf()),
        port,
        child: None,
    };
    server.spawn();

    let seed: u64 =
        std::env::var("NINEFOLD_CHAOS_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or_else(
            || {
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map(|d| d.as_nanos() as u64)
                    .unwrap_or(1)
            },
        ) | 1;
    let restarts_wanted: u32 = std::env::var("NINEFOLD_CHAOS_RESTARTS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(MIN_RESTARTS + 4)
        .max(MIN_RESTARTS);

    let mut opts = ConnectOptions::new();
    opts.uid = 0;
    opts.gid = 0;
    opts.uname = "root".into();
    opts.connect_timeout_ms = Some(10_000);
    let client =
        Client::connect_with(&format!("tcp://127.0.0.1:{port}"), opts).await.expect("connect");
    let caps = client.capabilities();
    let zdialect = caps.dialect == ninefold_proto::Dialect::Z;
    println!(
        "chaos: seed {seed}, server {} (--state-dir: {}), dialect {}",
        bin.display(),
        if has_state_dir { "yes" } else { "no" },
        caps.dialect.version()
    );

    let stats = Arc::new(Stats::default());
    let stop = Arc::new(AtomicBool::new(false));
    let mut tasks = Vec::new();
    for id in 0..TASKS {
        let mut t = Task {
            id,
            client: client.clone(),
            stats: Arc::clone(&stats),
            zdialect,
            rng: Rng(seed.wrapping_add((id as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15)) | 1),
            seq: 0,
            acked: HashMap::new(),
            maybe_appended: HashSet::new(),
            files: HashMap::new(),
            durable: HashMap::new(),
            rename_at: HashSet::new(),
            exists: HashMap::new(),
        };
        t.setup().await;
        let stop = Arc::clone(&stop);
        tasks.push(tokio::spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                t.step().await;
            }
            t
        }));
    }

    // the killer
    let t0 = Instant::now();
    let mut rng = Rng(seed ^ 0xDEAD_BEEF);
    let mut restarts = 0u32;
    while restarts < restarts_wanted && t0.elapsed() < RUN_BOUND - Duration::from_secs(40) {
        tokio::time::sleep(Duration::from_millis(300 + rng.below(1700))).await;
        server.kill();
        tokio::time::sleep(Duration::from_millis(rng.below(400))).await;
        server.spawn();
        restarts += 1;
    }
    // let the client settle on the last server, then stop the tasks
    tokio::time::sleep(Duration::from_secs(2)).await;
    stop.store(true, Ordering::Relaxed);
    let mut done = Vec::new();
    for h in tasks {
        match tokio::time::timeout(Duration::from_secs(60), h).await {
            Ok(Ok(t)) => done.push(t),
            Ok(Err(e)) => stats.finding(format!("a task panicked: {e}")),
            Err(_) => stats.finding("a task did not stop within 60 s".into()),
        }
    }
    for t in &done {
        t.verify(export.path());
    }
    let _ = client.close().await;
    server.kill();

    let errors = stats.errors.lock().unwrap().clone();
    let findings = stats.findings.lock().unwrap().clone();
    let ambiguous = stats.ambiguous.lock().unwrap().clone();
    let alo = stats.at_least_once.lock().unwrap().clone();
    let acked: usize = done.iter().map(|t| t.acked.len()).sum();
    let synced: usize = done.iter().map(|t| t.durable.len()).sum();
    println!("chaos: {restarts} SIGKILL restarts in {:.1}s", t0.elapsed().as_secs_f64());
    println!(
        "chaos: {} operations, {} succeeded, {} acknowledged appends checked, {} synced files checked",
        stats.ops.load(Ordering::Relaxed),
        stats.ok.load(Ordering::Relaxed),
        acked,
        synced
    );
    println!("chaos: errors by kind: {errors:?}");
    println!("chaos: {} calls with an unknown outcome (allowed):", ambiguous.len());
    for a in ambiguous.iter().take(20) {
        println!("  {a}");
    }
    if !alo.is_empty() {
        println!("chaos: {} re-executions (plain 9P2000.L at-least-once):", alo.len());
        for a in alo.iter().take(20) {
            println!("  {a}");
        }
    }
    println!("chaos: {} findings", findings.len());
    for f in &findings {
        println!("  FINDING {f}");
    }
    assert!(restarts >= MIN_RESTARTS, "only {restarts} restarts in the time bound");
    assert!(findings.is_empty(), "{} invariant violations (see above)", findings.len());
}
