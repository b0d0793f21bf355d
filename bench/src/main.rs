//! `ninefold-bench`: load generator for 9P2000.L servers (see the library
//! docs of `ninefold_bench` and docs/BENCHMARKS.md).

#![forbid(unsafe_code)]

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use ninefold_bench::responder::{self, ResponderConfig};
use ninefold_bench::run::{run, RunConfig};
use ninefold_bench::session::Attach;
use ninefold_bench::{parse_duration, parse_size, report, Report, Row, Target};

/// Drive a 9P2000.L server with pipelined raw requests and report ops/s,
/// MB/s and latency per row.
#[derive(Debug, Parser)]
#[command(name = "ninefold-bench", version, args_conflicts_with_subcommands = true)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    run: RunArgs,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve canned replies with no filesystem (the raw-socket limit).
    Responder(ResponderArgs),
    /// Print several --json reports side by side; ratios are first/other.
    Compare {
        /// JSON reports written by `--json FILE`.
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Fold many --json reports into one Markdown table per transport
    /// (a line per row and load shape, a column per label), with ratios.
    Markdown {
        /// A ratio column of throughputs, LABEL/LABEL (repeatable).
        #[arg(long = "ratio")]
        ratios: Vec<ninefold_bench::matrix::Ratio>,
        /// JSON reports written by `--json FILE`.
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
}

#[derive(Debug, Args)]
struct RunArgs {
    /// Server address: tcp://HOST:PORT or unix:/path.
    #[arg(long)]
    target: Option<String>,
    /// Tattach aname (the export; diod wants the exported directory's path).
    #[arg(long, default_value = "")]
    aname: String,
    /// Tattach uname [default: $USER, else root].
    #[arg(long)]
    uname: Option<String>,
    /// Tattach n_uname [default: this process's uid].
    #[arg(long)]
    uid: Option<u32>,
    /// gid for Tmkdir/Tlcreate [default: this process's gid].
    #[arg(long)]
    gid: Option<u32>,
    /// Connections.
    #[arg(long, default_value_t = 2)]
    conns: usize,
    /// Outstanding requests per connection.
    #[arg(long, default_value_t = 8)]
    depth: u16,
    /// Measured time per row (3s, 500ms, ...).
    #[arg(long, default_value = "3s")]
    duration: String,
    /// Unrecorded time before each row.
    #[arg(long, default_value = "1s")]
    warmup: String,
    /// Rows, comma separated: getattr, walk-clunk, read-4k, read-1m,
    /// write-4k, write-1m, or all.
    #[arg(long, default_value = "all")]
    rows: String,
    /// msize asked for in Tversion (the server may grant less).
    #[arg(long, default_value_t = (1 << 20) + 24)]
    msize: u32,
    /// Size of the scratch file read and overwritten by the I/O rows.
    #[arg(long, default_value = "8M")]
    file_size: String,
    /// Name of the server in the output.
    #[arg(long, default_value = "server")]
    label: String,
    /// Write the report as JSON to FILE (table still printed), or to
    /// stdout instead of the table when given without FILE.
    #[arg(long, num_args = 0..=1, default_missing_value = "-", value_name = "FILE")]
    json: Option<PathBuf>,
    /// Runtime worker threads for the generator.
    #[arg(long, default_value_t = 1)]
    threads: usize,
}

#[derive(Debug, Args)]
struct ResponderArgs {
    /// Address to listen on: tcp://HOST:PORT or unix:/path.
    #[arg(long)]
    listen: String,
    /// Largest msize granted.
    #[arg(long, default_value_t = (1 << 20) + 24)]
    max_msize: u32,
    /// Test aid: answer every Nth Tgetattr/Tread/Twrite with Rlerror EIO.
    #[arg(long)]
    fail_every: Option<u64>,
    /// Test aid: answer each batch of requests in reverse order.
    #[arg(long)]
    reorder: bool,
    /// Test aid: before every Nth Tgetattr/Tread/Twrite reply, send a reply
    /// for a tag not in flight.
    #[arg(long)]
    stray_every: Option<u64>,
    /// Runtime worker threads.
    #[arg(long, default_value_t = 1)]
    threads: usize,
}

fn runtime(threads: usize) -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads.max(1))
        .enable_all()
        .build()
        .context("starting the tokio runtime")
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let result = match cli.command {
        Some(Command::Responder(a)) => serve_responder(a),
        Some(Command::Compare { files }) => compare(&files),
        Some(Command::Markdown { ratios, files }) => markdown(&files, &ratios),
        None => measure(cli.run),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("ninefold-bench: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn serve_responder(a: ResponderArgs) -> anyhow::Result<ExitCode> {
    let target: Target = a.listen.parse()?;
    let cfg = ResponderConfig {
        max_msize: a.max_msize,
        fail_every: a.fail_every,
        reorder: a.reorder,
        stray_every: a.stray_every,
    };
    runtime(a.threads)?.block_on(async {
        let listener = target.listen().await?;
        eprintln!("ninefold-bench responder listening on {}", listener.local_target()?);
        responder::serve(listener, cfg).await
    })?;
    Ok(ExitCode::SUCCESS)
}

fn read_reports(files: &[PathBuf]) -> anyhow::Result<Vec<Report>> {
    let mut reports = Vec::new();
    for f in files {
        let text =
            std::fs::read_to_string(f).with_context(|| format!("reading {}", f.display()))?;
        let r: Report =
            serde_json::from_str(&text).with_context(|| format!("parsing {}", f.display()))?;
        reports.push(r);
    }
    Ok(reports)
}

fn markdown(
    files: &[PathBuf],
    ratios: &[ninefold_bench::matrix::Ratio],
) -> anyhow::Result<ExitCode> {
    print!("{}", ninefold_bench::matrix::markdown(&read_reports(files)?, ratios));
    Ok(ExitCode::SUCCESS)
}

fn compare(files: &[PathBuf]) -> anyhow::Result<ExitCode> {
    print!("{}", report::compare(&read_reports(files)?));
    Ok(ExitCode::SUCCESS)
}

fn measure(a: RunArgs) -> anyhow::Result<ExitCode> {
    let target: Target = a
        .target
        .as_deref()
        .context("--target tcp://HOST:PORT or unix:/path is required (see --help)")?
        .parse()?;
    let uid = a.uid.unwrap_or_else(|| rustix::process::getuid().as_raw());
    let uname = a.uname.unwrap_or_else(|| {
        std::env::var("USER").ok().filter(|u| !u.is_empty()).unwrap_or_else(|| "root".into())
    });
    let cfg = RunConfig {
        target,
        attach: Attach { uname, aname: a.aname, n_uname: uid },
        gid: a.gid.unwrap_or_else(|| rustix::process::getgid().as_raw()),
        conns: a.conns,
        depth: a.depth,
        duration: parse_duration(&a.duration)?,
        warmup: parse_duration(&a.warmup)?,
        rows: Row::parse_list(&a.rows)?,
        msize: a.msize,
        file_size: parse_size(&a.file_size)?,
        label: a.label,
    };
    let report = runtime(a.threads)?.block_on(run(&cfg))?;
    let json = serde_json::to_string_pretty(&report)?;
    match a.json.as_deref() {
        Some(p) if p.as_os_str() == "-" => println!("{json}"),
        Some(p) => {
            std::fs::write(p, json + "\n").with_context(|| format!("writing {}", p.display()))?;
            print!("{}", report.table());
        }
        None => print!("{}", report.table()),
    }
    let failed = report.error.is_some() || report.rows.iter().any(|r| r.errors > 0);
    Ok(if failed { ExitCode::FAILURE } else { ExitCode::SUCCESS })
}
