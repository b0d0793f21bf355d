//! A whole run: fixture, worker connections, each row in turn, cleanup.

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;

use crate::error::BenchError;
use crate::fixture::{self, Fixture};
use crate::load::{self, ConnStats, Phase, Plan};
use crate::report::{Report, RowResult};
use crate::rows::Row;
use crate::session::{Attach, Session};
use crate::target::Target;

/// The parameters of a run.
#[derive(Debug, Clone)]
pub struct RunConfig {
    /// Where the server listens.
    pub target: Target,
    /// Tattach parameters.
    pub attach: Attach,
    /// gid given to Tmkdir/Tlcreate.
    pub gid: u32,
    /// Connections.
    pub conns: usize,
    /// Outstanding requests per connection.
    pub depth: u16,
    /// Measured time per row.
    pub duration: Duration,
    /// Unrecorded time before each row's measurement.
    pub warmup: Duration,
    /// Rows, in order.
    pub rows: Vec<Row>,
    /// msize asked for in Tversion.
    pub msize: u32,
    /// Size of the scratch file (raised to the largest I/O size).
    pub file_size: u64,
    /// Name printed for the server.
    pub label: String,
}

/// Runs every row. Setup failures are errors; a failure during a row ends
/// the run early but still returns the rows done so far (with
/// [`Report::error`] set) after cleaning up.
pub async fn run(cfg: &RunConfig) -> Result<Report, BenchError> {
    if cfg.conns == 0 || cfg.depth == 0 || cfg.depth > 4096 {
        return Err(BenchError::Usage(
            "--conns must be at least 1 and --depth within 1..=4096".into(),
        ));
    }
    let cap = ninefold_proto::sizes::client_io_size(0, cfg.msize);
    let biggest = cfg.rows.iter().map(|r| r.io_size(cfg.msize)).max().unwrap_or(0);
    let file_size = cfg.file_size.max(u64::from(biggest.min(cap)));
    let fx = Fixture::create(&cfg.target, cfg.msize, &cfg.attach, cfg.gid, file_size).await?;
    let msize = fx.msize();
    tracing::info!(dir = %fx.dir, msize, "fixture ready");
    let mut report = Report {
        label: cfg.label.clone(),
        target: cfg.target.to_string(),
        msize_requested: cfg.msize,
        msize,
        conns: cfg.conns,
        depth: cfg.depth,
        duration_s: cfg.duration.as_secs_f64(),
        warmup_s: cfg.warmup.as_secs_f64(),
        rows: Vec::new(),
        error: None,
    };
    let outcome = tokio::select! {
        r = run_rows(cfg, &fx, msize, &mut report.rows) => r,
        _ = tokio::signal::ctrl_c() => Err(BenchError::Usage("interrupted".into())),
    };
    if let Err(e) = outcome {
        report.error = Some(e.to_string());
    }
    if let Err(e) = fx.cleanup().await {
        tracing::warn!("cleanup of the scratch directory failed: {e}");
        report.error.get_or_insert(format!("cleanup failed: {e}"));
    }
    Ok(report)
}

async fn run_rows(
    cfg: &RunConfig,
    fx: &Fixture,
    msize: u32,
    out: &mut Vec<RowResult>,
) -> Result<(), BenchError> {
    let mut sessions = Vec::with_capacity(cfg.conns);
    for _ in 0..cfg.conns {
        let s = fixture::worker(&cfg.target, cfg.msize, &cfg.attach, &fx.dir).await?;
        if s.msize != msize {
            return Err(BenchError::Version(format!(
                "msize {} on one connection, {msize} on another",
                s.msize
            )));
        }
        sessions.push(s);
    }
    for &row in &cfg.rows {
        let (back, result) = run_row(cfg, fx, msize, row, sessions).await?;
        sessions = back;
        if sessions.len() != cfg.conns {
            return Err(BenchError::Protocol(format!("row {row}: a connection was lost")));
        }
        eprintln!(
            "{:<11} {:>12} ops/s{}",
            row.name(),
            crate::report::group(result.ops_per_sec),
            result
                .mb_per_sec
                .map_or(String::new(), |m| format!("  {} MB/s", crate::report::group(m)))
        );
        out.push(result);
    }
    for s in sessions {
        fixture::release(s).await;
    }
    Ok(())
}

async fn run_row(
    cfg: &RunConfig,
    fx: &Fixture,
    msize: u32,
    row: Row,
    sessions: Vec<Session>,
) -> Result<(Vec<Session>, RowResult), BenchError> {
    let io_size = row.io_size(msize);
    let payload: Bytes = if row.is_write() {
        (0..io_size).map(|i| (i % 253) as u8).collect::<Vec<u8>>().into()
    } else {
        Bytes::new()
    };
    let phase = Arc::new(Phase::new());
    // If this future is dropped (Ctrl-C), the spawned loads still stop.
    let _stop = StopOnDrop(Arc::clone(&phase));
    let mut tasks = Vec::with_capacity(sessions.len());
    for (i, s) in sessions.into_iter().enumerate() {
        let plan = Plan {
            row,
            depth: cfg.depth,
            io_size,
            file_size: fx.file_size,
            start_offset: (i as u64).wrapping_mul(fx.file_size / cfg.conns as u64),
            payload: payload.clone(),
        };
        let phase = Arc::clone(&phase);
        tasks.push(tokio::spawn(async move { load::run(s, &plan, &phase).await }));
    }
    tokio::time::sleep(cfg.warmup).await;
    phase.set(Phase::MEASURE);
    let t0 = Instant::now();
    tokio::time::sleep(cfg.duration).await;
    phase.set(Phase::STOP);
    let seconds = t0.elapsed().as_secs_f64();
    let mut total = ConnStats::default();
    let mut back = Vec::with_capacity(tasks.len());
    let mut failure = None;
    for t in tasks {
        match t.await {
            Ok(Ok((s, stats))) => {
                total.merge(&stats);
                back.push(s);
            }
            Ok(Err(e)) => failure = failure.or(Some(e)),
            Err(e) => failure = failure.or(Some(BenchError::Protocol(format!("task: {e}")))),
        }
    }
    if let Some(e) = failure {
        return Err(BenchError::Protocol(format!("row {row}: {e}")));
    }
    let us = |ns: u64| ns as f64 / 1000.0;
    let result = RowResult {
        row: row.name().to_owned(),
        msize,
        requested_io: row.requested_io(),
        io_size,
        ops: total.ops,
        seconds,
        ops_per_sec: total.ops as f64 / seconds,
        mb_per_sec: row.is_io().then(|| total.bytes as f64 / seconds / 1e6),
        p50_us: us(total.hist.percentile(0.50)),
        p99_us: us(total.hist.percentile(0.99)),
        max_us: us(total.hist.max()),
        errors: total.error_count(),
        error_kinds: total.errors.clone(),
    };
    Ok((back, result))
}

/// Sets [`Phase::STOP`] when dropped.
struct StopOnDrop(Arc<Phase>);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        self.0.set(Phase::STOP);
    }
}
