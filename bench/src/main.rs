//! `ninefold-bench`: load generator for 9P2000.L servers (see the library
//! docs of `ninefold_bench` and docs/BENCHMARKS.md).

#![forbid(unsafe_code)]

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use ninefold_bench::memory;
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
    /// What an idle negotiated connection costs the server: RSS growth of
    /// process --pid over --conns connections that did Tversion+Tattach.
    Idle(IdleArgs),
    /// RSS of process --pid, sampled while --conns connections run a
    /// rotating mix of every row for --duration.
    Soak(SoakArgs),
    /// How fast `pread` copies cached file data into a buffer, by the
    /// buffer's offset within a 4 KiB page (why the server places its
    /// buffers; see `ninefold_server::bufpool`).
    Placement(PlacementArgs),
    /// A TCP proxy in front of a 9P server that counts the requests
    /// passing through by type and times each (for clients that cannot be
    /// instrumented, such as the kernel's v9fs). Runs until SIGINT or
    /// SIGTERM, rewriting --out every second and printing the table at exit.
    Tap(TapArgs),
    /// What the passthrough server's own system calls for the small rows
    /// (statx, openat + close, a 4 KiB preadv2) cost by themselves, in a
    /// loop on one cached file: the host filesystem's share of a depth-1
    /// request.
    Syscalls(SyscallsArgs),
    /// What moving a Twrite payload from a socket into a file costs the
    /// receiving thread: `read` + `pwrite` (two copies) against `splice`
    /// socket → pipe → file (one copy), over unix or tcp loopback.
    SpliceWrite(SpliceWriteArgs),
}

/// Options of `splice-write`.
#[derive(Debug, Args)]
struct SpliceWriteArgs {
    /// Directory for the scratch file (on the filesystem to measure).
    #[arg(long, default_value = "/tmp")]
    dir: PathBuf,
    /// The socket: unix or tcp.
    #[arg(long, default_value = "unix")]
    transport: String,
    /// Bytes per payload.
    #[arg(long, default_value = "64K", value_parser = parse_size)]
    size: u64,
    /// Time per way and round.
    #[arg(long, default_value = "1s", value_parser = parse_duration)]
    duration: std::time::Duration,
    /// Rounds (ways interleaved); the table shows each way's best.
    #[arg(long, default_value_t = 3)]
    rounds: u32,
}

/// Options of `tap`.
#[derive(Debug, Args)]
struct TapArgs {
    /// Address to listen on (HOST:PORT).
    #[arg(long)]
    listen: String,
    /// The server's address (HOST:PORT).
    #[arg(long)]
    target: String,
    /// Rewrite this file with the table every second.
    #[arg(long)]
    out: Option<PathBuf>,
}

/// Options of `syscalls`.
#[derive(Debug, Args)]
struct SyscallsArgs {
    /// Directory for the scratch file (on the filesystem to measure).
    #[arg(long, default_value = "/tmp")]
    dir: PathBuf,
    /// Time per call.
    #[arg(long, default_value = "500ms", value_parser = parse_duration)]
    duration: std::time::Duration,
}

/// Options of `placement`.
#[derive(Debug, Args)]
struct PlacementArgs {
    /// Directory for the scratch file (on the filesystem to measure).
    #[arg(long, default_value = "/tmp")]
    dir: PathBuf,
    /// Size of the scratch file (read from the page cache).
    #[arg(long, default_value = "8M", value_parser = parse_size)]
    file_size: u64,
    /// Bytes per pread.
    #[arg(long, default_value = "64K", value_parser = parse_size)]
    read_size: u64,
    /// Page offsets of the destination, comma separated.
    #[arg(long, value_delimiter = ',', default_value = "0,8,16,24,32,48,64,128,2048,4032,4088")]
    offsets: Vec<usize>,
    /// Time per offset.
    #[arg(long, default_value = "500ms", value_parser = parse_duration)]
    duration: std::time::Duration,
}

/// Where and as whom the memory rows connect.
#[derive(Debug, Args)]
struct ConnectArgs {
    /// Server address: tcp://HOST:PORT or unix:/path.
    #[arg(long)]
    target: String,
    /// The server's process id (its /proc/PID/status is read).
    #[arg(long)]
    pid: u32,
    /// Tattach aname.
    #[arg(long, default_value = "")]
    aname: String,
    /// msize asked for in Tversion.
    #[arg(long, default_value_t = (1 << 20) + 24)]
    msize: u32,
    /// Name of the server in the output.
    #[arg(long, default_value = "server")]
    label: String,
    /// Write the report as JSON to FILE.
    #[arg(long)]
    json: Option<PathBuf>,
}

#[derive(Debug, Args)]
struct IdleArgs {
    #[command(flatten)]
    at: ConnectArgs,
    /// Connections opened.
    #[arg(long, default_value_t = 1000)]
    conns: usize,
    /// Pause before each RSS reading.
    #[arg(long, default_value = "1s")]
    settle: String,
    /// Exit 1 when a connection costs more than this many bytes.
    #[arg(long)]
    budget: Option<u64>,
}

#[derive(Debug, Args)]
struct SoakArgs {
    #[command(flatten)]
    at: ConnectArgs,
    /// Connections.
    #[arg(long, default_value_t = 64)]
    conns: usize,
    /// Outstanding requests per connection.
    #[arg(long, default_value_t = 4)]
    depth: u16,
    /// The whole soak.
    #[arg(long, default_value = "10m")]
    duration: String,
    /// One segment (one RSS sample).
    #[arg(long, default_value = "10s")]
    interval: String,
    /// Samples not held to the bound (allocator warm-up).
    #[arg(long, default_value_t = 3)]
    warmup_samples: usize,
    /// Exit 1 when a judged sample is further than this from the first
    /// judged one, percent.
    #[arg(long, default_value_t = 10.0)]
    bound_pct: f64,
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
        Some(Command::Idle(a)) => idle(a),
        Some(Command::Soak(a)) => soak(a),
        Some(Command::Placement(a)) => placement(a),
        Some(Command::Tap(a)) => tap(a),
        Some(Command::Syscalls(a)) => syscalls(a),
        Some(Command::SpliceWrite(a)) => splice_write(a),
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

fn tap(a: TapArgs) -> anyhow::Result<ExitCode> {
    use ninefold_bench::tap::{self, TapStats};
    use std::sync::{Arc, Mutex};
    let stats = Arc::new(Mutex::new(TapStats::default()));
    let table = |stats: &Mutex<TapStats>| stats.lock().map(|s| s.table()).unwrap_or_default();
    runtime(1)?.block_on(async {
        let listener = tokio::net::TcpListener::bind(&a.listen)
            .await
            .with_context(|| format!("listening on {}", a.listen))?;
        eprintln!("ninefold-bench tap: {} -> {}", listener.local_addr()?, a.target);
        let proxy = tokio::spawn(tap::serve(listener, a.target.clone(), stats.clone()));
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(1));
        loop {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => break,
                _ = term.recv() => break,
                _ = tick.tick() => {
                    if let Some(out) = &a.out {
                        std::fs::write(out, table(&stats))
                            .with_context(|| format!("writing {}", out.display()))?;
                    }
                }
            }
        }
        proxy.abort();
        anyhow::Ok(())
    })?;
    let t = table(&stats);
    if let Some(out) = &a.out {
        std::fs::write(out, &t).with_context(|| format!("writing {}", out.display()))?;
    }
    print!("{t}");
    Ok(ExitCode::SUCCESS)
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

fn attach_of(aname: &str) -> Attach {
    let uname =
        std::env::var("USER").ok().filter(|u| !u.is_empty()).unwrap_or_else(|| "root".into());
    Attach { uname, aname: aname.to_owned(), n_uname: rustix::process::getuid().as_raw() }
}

fn write_json<T: serde::Serialize>(path: Option<&std::path::Path>, v: &T) -> anyhow::Result<()> {
    if let Some(p) = path {
        let json = serde_json::to_string_pretty(v)?;
        std::fs::write(p, json + "\n").with_context(|| format!("writing {}", p.display()))?;
    }
    Ok(())
}

fn idle(a: IdleArgs) -> anyhow::Result<ExitCode> {
    let target: Target = a.at.target.parse()?;
    let settle = parse_duration(&a.settle)?;
    let r = runtime(1)?.block_on(memory::idle(
        &target,
        &attach_of(&a.at.aname),
        a.at.msize,
        a.conns,
        a.at.pid,
        settle,
        &a.at.label,
    ))?;
    println!(
        "{}: {} idle connections (msize {}): RSS {} -> {} KiB, {:.1} KiB per connection",
        r.label,
        r.conns,
        r.msize,
        r.rss_before_kib,
        r.rss_after_kib,
        r.bytes_per_conn / 1024.0
    );
    write_json(a.at.json.as_deref(), &r)?;
    let over = a.budget.is_some_and(|b| r.bytes_per_conn > b as f64);
    Ok(if over { ExitCode::FAILURE } else { ExitCode::SUCCESS })
}

fn soak(a: SoakArgs) -> anyhow::Result<ExitCode> {
    let cfg = memory::SoakConfig {
        target: a.at.target.parse()?,
        attach: attach_of(&a.at.aname),
        gid: rustix::process::getgid().as_raw(),
        pid: a.at.pid,
        conns: a.conns,
        depth: a.depth,
        duration: parse_duration(&a.duration)?,
        interval: parse_duration(&a.interval)?,
        warmup_samples: a.warmup_samples,
        msize: a.at.msize,
        label: a.at.label,
    };
    let r = runtime(1)?.block_on(memory::soak(&cfg))?;
    let first = r.samples.first().map_or(0, |s| s.rss_kib);
    let last = r.samples.last().map_or(0, |s| s.rss_kib);
    let (lo, hi) = r
        .samples
        .iter()
        .skip(r.warmup_samples)
        .fold((u64::MAX, 0), |(lo, hi), s| (lo.min(s.rss_kib), hi.max(s.rss_kib)));
    let ops: u64 = r.samples.iter().map(|s| s.ops).sum();
    let errors: u64 = r.samples.iter().map(|s| s.errors).sum();
    println!(
        "{}: soak of {} connections x depth {}, {} samples: RSS {} KiB before, {} first, {} last; \
         judged from sample {}: baseline {} KiB, min {} max {}, max deviation {:.1}%; {} ops, {} errors",
        r.label,
        r.conns,
        r.depth,
        r.samples.len(),
        r.rss_start_kib,
        first,
        last,
        r.warmup_samples + 1,
        r.baseline_kib,
        lo,
        hi,
        r.max_deviation_pct,
        ops,
        errors
    );
    write_json(a.at.json.as_deref(), &r)?;
    Ok(if r.flat_within(a.bound_pct) { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

fn syscalls(a: SyscallsArgs) -> anyhow::Result<ExitCode> {
    let got = ninefold_bench::syscalls::measure(&a.dir, a.duration)?;
    println!("| call (as the passthrough server makes it) | calls | mean µs |");
    println!("|---|---|---|");
    for c in &got {
        println!("| {} | {} | {:.2} |", c.name, c.calls, c.mean_ns / 1000.0);
    }
    Ok(ExitCode::SUCCESS)
}

fn splice_write(a: SpliceWriteArgs) -> anyhow::Result<ExitCode> {
    use ninefold_bench::splicewrite::{self, Transport};
    let transport = match a.transport.as_str() {
        "unix" => Transport::Unix,
        "tcp" => Transport::Tcp,
        other => anyhow::bail!("--transport is unix or tcp, not {other}"),
    };
    let size = usize::try_from(a.size).context("size out of range")?;
    let got = splicewrite::measure(&a.dir, transport, size, a.duration, a.rounds)?;
    println!(
        "{} payloads of {size} bytes into a file ({} rounds, best of each way):",
        a.transport, a.rounds
    );
    println!("| way | payloads | receiver CPU µs/payload | MB/s |");
    println!("|---|---|---|---|");
    let mut ways: Vec<&'static str> = Vec::new();
    for c in &got {
        if !ways.contains(&c.mode) {
            ways.push(c.mode);
        }
    }
    for w in ways {
        let best = got.iter().filter(|c| c.mode == w).min_by(|x, y| x.cpu_us.total_cmp(&y.cpu_us));
        if let Some(c) = best {
            println!("| {} | {} | {:.1} | {:.0} |", c.mode, c.payloads, c.cpu_us, c.mb_per_s);
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn placement(a: PlacementArgs) -> anyhow::Result<ExitCode> {
    let sizes = usize::try_from(a.file_size).ok().zip(usize::try_from(a.read_size).ok());
    let (file_size, read_size) = sizes.context("sizes out of range")?;
    let got =
        ninefold_bench::placement::measure(&a.dir, file_size, read_size, &a.offsets, a.duration)?;
    println!("pread of {read_size} cached bytes into a buffer at page offset N:");
    let best = got.iter().map(|p| p.mb_per_s).fold(0.0, f64::max);
    for p in &got {
        println!("{:>6}  {:>9.0} MB/s  {:.2} of the best", p.offset, p.mb_per_s, p.mb_per_s / best);
    }
    Ok(ExitCode::SUCCESS)
}
