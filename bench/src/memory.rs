//! Memory rows: what an idle negotiated connection costs a server
//! ([`idle`]), and whether its RSS stays flat under a long mixed load
//! ([`soak`]). Both read the server's resident set from
//! `/proc/PID/status`, so they need the server's process id and run on
//! the same host.

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use serde::{Deserialize, Serialize};

use crate::error::BenchError;
use crate::fixture::{self, Fixture, ROOT_FID};
use crate::load::{self, ConnStats, Phase, Plan};
use crate::rows::Row;
use crate::session::{Attach, Session};
use crate::target::Target;

/// The resident set of process `pid`, in KiB (`VmRSS` of
/// `/proc/PID/status`).
pub fn rss_kib(pid: u32) -> Result<u64, BenchError> {
    let path = format!("/proc/{pid}/status");
    let text = std::fs::read_to_string(&path)
        .map_err(|e| BenchError::Usage(format!("reading {path}: {e}")))?;
    text.lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .ok_or_else(|| BenchError::Usage(format!("no VmRSS line in {path}")))
}

/// What [`idle`] measured.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct IdleReport {
    /// Name of the server.
    pub label: String,
    /// Connections opened (each did Tversion and Tattach, then waited).
    pub conns: usize,
    /// The negotiated msize.
    pub msize: u32,
    /// Server RSS before the connections, KiB.
    pub rss_before_kib: u64,
    /// Server RSS with every connection open and idle, KiB.
    pub rss_after_kib: u64,
    /// `(after - before) / conns`, bytes.
    pub bytes_per_conn: f64,
}

/// Opens `conns` connections to the server (process `pid`), each doing
/// Tversion at `msize` and Tattach, lets the server settle for `settle`,
/// and divides the growth of its RSS by `conns`. The connections are
/// closed before returning.
pub async fn idle(
    target: &Target,
    attach: &Attach,
    msize: u32,
    conns: usize,
    pid: u32,
    settle: Duration,
    label: &str,
) -> Result<IdleReport, BenchError> {
    if conns == 0 {
        return Err(BenchError::Usage("--conns must be at least 1".into()));
    }
    // One connection first, so what the server allocates once (runtime,
    // first-use tables) is not charged to the measured ones.
    let mut warm = Session::connect(target, msize).await?;
    warm.attach(ROOT_FID, attach).await?;
    tokio::time::sleep(settle).await;
    let before = rss_kib(pid)?;
    let mut open = Vec::with_capacity(conns);
    let mut negotiated = warm.msize;
    for _ in 0..conns {
        let mut s = Session::connect(target, msize).await?;
        s.attach(ROOT_FID, attach).await?;
        negotiated = s.msize;
        // The client side keeps only the socket: its buffers are not the
        // server's, but they are ours and we do not need them.
        s.rbuf = bytes::BytesMut::new();
        open.push(s);
    }
    tokio::time::sleep(settle).await;
    let after = rss_kib(pid)?;
    drop(open);
    drop(warm);
    Ok(IdleReport {
        label: label.to_owned(),
        conns,
        msize: negotiated,
        rss_before_kib: before,
        rss_after_kib: after,
        bytes_per_conn: (after.saturating_sub(before) * 1024) as f64 / conns as f64,
    })
}

/// The parameters of a [`soak`].
#[derive(Debug, Clone)]
pub struct SoakConfig {
    /// Where the server listens.
    pub target: Target,
    /// Tattach parameters.
    pub attach: Attach,
    /// gid given to Tmkdir/Tlcreate.
    pub gid: u32,
    /// The server's process id (its RSS is sampled).
    pub pid: u32,
    /// Connections, all kept open for the whole soak.
    pub conns: usize,
    /// Outstanding requests per connection.
    pub depth: u16,
    /// The whole soak.
    pub duration: Duration,
    /// One segment: every connection runs one row, then the rows rotate.
    pub interval: Duration,
    /// Samples (from the start) not held to the flatness bound: the
    /// server's allocator and caches grow to their working size first.
    pub warmup_samples: usize,
    /// msize asked for.
    pub msize: u32,
    /// Name of the server.
    pub label: String,
}

/// One RSS sample of a soak.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Sample {
    /// Seconds since the soak started.
    pub t_s: f64,
    /// Server RSS, KiB.
    pub rss_kib: u64,
    /// Operations completed in the segment that ended here.
    pub ops: u64,
    /// Errors in that segment.
    pub errors: u64,
}

/// What [`soak`] measured.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SoakReport {
    /// Name of the server.
    pub label: String,
    /// Connections.
    pub conns: usize,
    /// Requests outstanding per connection.
    pub depth: u16,
    /// The rows mixed, in rotation order.
    pub rows: Vec<String>,
    /// RSS before the load, KiB.
    pub rss_start_kib: u64,
    /// One sample per segment.
    pub samples: Vec<Sample>,
    /// Samples not judged (see [`SoakConfig::warmup_samples`]).
    pub warmup_samples: usize,
    /// The first judged sample, KiB: the reference of the bound.
    pub baseline_kib: u64,
    /// Largest deviation of a judged sample from the baseline, percent.
    pub max_deviation_pct: f64,
}

impl SoakReport {
    /// Whether every judged sample is within `pct` percent of the
    /// baseline, and no request failed.
    pub fn flat_within(&self, pct: f64) -> bool {
        self.max_deviation_pct <= pct && self.samples.iter().all(|s| s.errors == 0)
    }
}

/// The mix: each connection runs one of these per segment, connection `i`
/// in segment `k` the row `(i + k) % len`, so every segment runs the same
/// mix and every connection does all of it over time.
pub const SOAK_ROWS: [Row; 8] = [
    Row::Getattr,
    Row::WalkClunk,
    Row::Read4k,
    Row::Write4k,
    Row::Read64k,
    Row::Write64k,
    Row::Read1m,
    Row::Write1m,
];

/// Runs the mixed load on `conns` connections for `duration`, sampling the
/// server's RSS at the end of every segment; prints each sample to stderr
/// as it is taken.
pub async fn soak(cfg: &SoakConfig) -> Result<SoakReport, BenchError> {
    if cfg.conns == 0 || cfg.depth == 0 || cfg.interval.is_zero() {
        return Err(BenchError::Usage("--conns, --depth and --interval must be positive".into()));
    }
    let file_size = 8 << 20;
    let fx = Fixture::create(&cfg.target, cfg.msize, &cfg.attach, cfg.gid, file_size).await?;
    let outcome = soak_on(cfg, &fx).await;
    let cleanup = fx.cleanup().await;
    let report = outcome?;
    cleanup?;
    Ok(report)
}

async fn soak_on(cfg: &SoakConfig, fx: &Fixture) -> Result<SoakReport, BenchError> {
    let msize = fx.msize();
    let mut sessions = Vec::with_capacity(cfg.conns);
    for _ in 0..cfg.conns {
        sessions.push(fixture::worker(&cfg.target, cfg.msize, &cfg.attach, &fx.dir).await?);
    }
    let rss_start = rss_kib(cfg.pid)?;
    let payloads: Vec<Bytes> = SOAK_ROWS
        .iter()
        .map(|r| {
            if r.is_write() {
                (0..r.io_size(msize)).map(|i| (i % 251) as u8).collect::<Vec<u8>>().into()
            } else {
                Bytes::new()
            }
        })
        .collect();
    let t0 = Instant::now();
    let mut samples = Vec::new();
    let mut segment = 0usize;
    while t0.elapsed() < cfg.duration {
        let phase = Arc::new(Phase::new());
        phase.set(Phase::MEASURE);
        let mut tasks = Vec::with_capacity(sessions.len());
        for (i, s) in sessions.drain(..).enumerate() {
            let k = (i + segment) % SOAK_ROWS.len();
            let row = SOAK_ROWS[k];
            let plan = Plan {
                row,
                depth: cfg.depth,
                io_size: row.io_size(msize),
                file_size: fx.file_size,
                start_offset: (i as u64).wrapping_mul(fx.file_size / cfg.conns as u64),
                payload: payloads[k].clone(),
            };
            let phase = Arc::clone(&phase);
            tasks.push(tokio::spawn(async move { load::run(s, &plan, &phase).await }));
        }
        tokio::time::sleep(cfg.interval).await;
        phase.set(Phase::STOP);
        let mut total = ConnStats::default();
        let mut failure = None;
        for t in tasks {
            match t.await {
                Ok(Ok((s, stats))) => {
                    total.merge(&stats);
                    sessions.push(s);
                }
                Ok(Err(e)) => failure = failure.or(Some(e)),
                Err(e) => {
                    failure = failure.or(Some(BenchError::Protocol(format!("task: {e}"))));
                }
            }
        }
        if let Some(e) = failure {
            return Err(BenchError::Protocol(format!("soak segment {segment}: {e}")));
        }
        let sample = Sample {
            t_s: t0.elapsed().as_secs_f64(),
            rss_kib: rss_kib(cfg.pid)?,
            ops: total.ops,
            errors: total.error_count(),
        };
        eprintln!(
            "soak t={:>6.0}s rss={:>8} KiB ops={:>9} errors={}",
            sample.t_s, sample.rss_kib, sample.ops, sample.errors
        );
        if smaps_wanted() {
            match MemoryMap::of(cfg.pid) {
                Ok(m) => eprintln!("soak t={:>6.0}s smaps {m}", sample.t_s),
                Err(e) => eprintln!("soak smaps: {e}"),
            }
        }
        samples.push(sample);
        segment += 1;
    }
    for s in sessions {
        fixture::release(s).await;
    }
    let judged = samples.iter().skip(cfg.warmup_samples);
    let baseline = samples.get(cfg.warmup_samples).map_or(0, |s| s.rss_kib);
    let max_dev = judged
        .map(|s| (s.rss_kib as f64 - baseline as f64).abs() * 100.0 / baseline.max(1) as f64)
        .fold(0.0, f64::max);
    Ok(SoakReport {
        label: cfg.label.clone(),
        conns: cfg.conns,
        depth: cfg.depth,
        rows: SOAK_ROWS.iter().map(|r| r.name().to_owned()).collect(),
        rss_start_kib: rss_start,
        samples,
        warmup_samples: cfg.warmup_samples,
        baseline_kib: baseline,
        max_deviation_pct: max_dev,
    })
}

/// Whether each soak sample also prints where the server's resident
/// memory lies ([`MemoryMap`]): `NINEFOLD_SOAK_SMAPS=1`. A diagnostic
/// only: the judge reads `VmRSS` alone.
fn smaps_wanted() -> bool {
    std::env::var_os("NINEFOLD_SOAK_SMAPS").is_some_and(|v| v == "1")
}

/// The glibc arena heap size (`HEAP_MAX_SIZE` on 64-bit): a thread
/// arena's heap is a mapping aligned to it.
const ARENA_HEAP: u64 = 64 << 20;

/// Where a process's resident memory lies, from `/proc/PID/smaps`
/// (KiB of `Rss`): the main heap, thread-arena heaps, other anonymous
/// mappings (large `mmap`ed blocks, stacks), files; and its threads.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct MemoryMap {
    /// `[heap]` (glibc's main arena).
    pub heap_kib: u64,
    /// Thread-arena heaps: anonymous mappings starting at a multiple of
    /// 64 MiB.
    pub arenas_kib: u64,
    /// How many such heaps.
    pub arenas: usize,
    /// Other anonymous mappings of 1 MiB or more (large blocks, stacks).
    pub big_anon_kib: u64,
    /// How many such mappings.
    pub big_anon: usize,
    /// Smaller anonymous mappings.
    pub small_anon_kib: u64,
    /// File-backed mappings (the binary, libraries).
    pub file_kib: u64,
    /// `Threads:` of `/proc/PID/status`.
    pub threads: u64,
}

impl MemoryMap {
    /// Reads the map of process `pid`.
    pub fn of(pid: u32) -> Result<MemoryMap, BenchError> {
        let path = format!("/proc/{pid}/smaps");
        let text = std::fs::read_to_string(&path)
            .map_err(|e| BenchError::Usage(format!("reading {path}: {e}")))?;
        let mut m = MemoryMap::default();
        // (start, end, kind) of the mapping whose fields follow.
        let mut cur: Option<(u64, u64, Kind)> = None;
        for line in text.lines() {
            if let Some(rss) = line.strip_prefix("Rss:") {
                let kib: u64 = rss.trim().trim_end_matches("kB").trim().parse().unwrap_or(0);
                let Some((start, end, kind)) = cur else { continue };
                match kind {
                    Kind::Heap => m.heap_kib += kib,
                    Kind::File => m.file_kib += kib,
                    Kind::Anon if start % ARENA_HEAP == 0 => {
                        m.arenas_kib += kib;
                        m.arenas += 1;
                    }
                    Kind::Anon if end - start >= 1 << 20 => {
                        m.big_anon_kib += kib;
                        m.big_anon += 1;
                    }
                    Kind::Anon => m.small_anon_kib += kib,
                    Kind::Other => {}
                }
                continue;
            }
            let mut f = line.split_whitespace();
            let (Some(range), Some(perms)) = (f.next(), f.next()) else { continue };
            let Some((a, b)) = range.split_once('-') else { continue };
            let (Ok(start), Ok(end)) = (u64::from_str_radix(a, 16), u64::from_str_radix(b, 16))
            else {
                continue;
            };
            if perms.len() != 4 {
                continue;
            }
            let name = f.nth(3).unwrap_or("");
            let kind = match name {
                _ if perms.starts_with("---") => Kind::Other,
                "[heap]" => Kind::Heap,
                "" => Kind::Anon,
                n if n.starts_with('/') => Kind::File,
                _ => Kind::Other,
            };
            cur = Some((start, end, kind));
        }
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
        m.threads = status
            .lines()
            .find_map(|l| l.strip_prefix("Threads:"))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(0);
        Ok(m)
    }
}

#[derive(Debug, Clone, Copy)]
enum Kind {
    Heap,
    Anon,
    File,
    Other,
}

impl std::fmt::Display for MemoryMap {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "heap={} arenas={}x{} big-anon={}x{} small-anon={} file={} KiB threads={}",
            self.heap_kib,
            self.arenas,
            self.arenas_kib,
            self.big_anon,
            self.big_anon_kib,
            self.small_anon_kib,
            self.file_kib,
            self.threads
        )
    }
}
