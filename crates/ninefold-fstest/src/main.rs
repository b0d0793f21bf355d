//! `ninefold-fstest`: run the conformance suite against a running 9P server.
//!
//! ```text
//! ninefold-fstest --target tcp://127.0.0.1:5640 --aname /srv/export \
//!     --skip-caps dotu,base9p2000 [--filter walk/] [--json]
//! ```
//!
//! Exit status: 0 when no case failed, 1 when some failed, 2 on bad usage.

#![forbid(unsafe_code)]

use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use ninefold_fstest::{parse_target, registry, Caps, Config, SlowFile};
use ninefold_proto::Dialect;

/// Protocol-level conformance suite for 9P servers.
#[derive(Debug, Parser)]
#[command(name = "ninefold-fstest", version)]
struct Args {
    /// Server address: tcp://HOST:PORT, HOST:PORT or unix:/PATH.
    #[arg(long)]
    target: Option<String>,
    /// Attach name (the export).
    #[arg(long, default_value = "")]
    aname: String,
    /// User name sent in Tattach.
    #[arg(long, default_value = "root")]
    uname: String,
    /// Numeric uid sent in Tattach.
    #[arg(long, default_value_t = 0)]
    uid: u32,
    /// gid used for created objects.
    #[arg(long, default_value_t = 0)]
    gid: u32,
    /// Unprivileged uid for permission cases.
    #[arg(long, default_value_t = 65534)]
    other_uid: u32,
    /// Only run cases of one dialect: 9P2000.L, 9P2000.u or 9P2000; or
    /// 9P2000.L.Z: the .Z cases, and the .L cases over a .Z session.
    #[arg(long)]
    dialect: Option<String>,
    /// Only run cases whose name contains this substring (repeatable).
    #[arg(long)]
    filter: Vec<String>,
    /// Leave out cases whose name contains this substring (repeatable).
    #[arg(long)]
    exclude: Vec<String>,
    /// The complete capability list of the target (default: all).
    #[arg(long, conflicts_with = "skip_caps")]
    caps: Option<String>,
    /// Capabilities the target lacks.
    #[arg(long)]
    skip_caps: Option<String>,
    /// msize to request.
    #[arg(long, default_value_t = 131_096)]
    msize: u32,
    /// Path of a slow file (reads block ~1 s or until flushed) for flush cases.
    #[arg(long)]
    slow: Option<String>,
    /// Export holding the slow file, if not the main aname.
    #[arg(long)]
    slow_aname: Option<String>,
    /// Seconds allowed for one reply.
    #[arg(long, default_value_t = 5)]
    reply_timeout: u64,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
    /// List the cases and exit.
    #[arg(long)]
    list: bool,
}

fn main() -> ExitCode {
    let args = Args::parse();
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_writer(std::io::stderr)
        .init();
    if args.list {
        for c in registry() {
            let needs = c.needs.names().join(",");
            println!("{:40} {:9} {:12} {}", c.name, c.dialect.version(), needs, c.expects);
        }
        return ExitCode::SUCCESS;
    }
    let (target, cfg) = match build(args.clone_parts()) {
        Ok(x) => x,
        Err(e) => {
            eprintln!("ninefold-fstest: {e}");
            return ExitCode::from(2);
        }
    };
    let rt =
        match tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build() {
            Ok(rt) => rt,
            Err(e) => {
                eprintln!("ninefold-fstest: cannot start runtime: {e}");
                return ExitCode::from(2);
            }
        };
    let report = rt.block_on(ninefold_fstest::run(&target, &cfg));
    if args.json {
        print!("{}", report.to_json());
    } else {
        print!("{}", report.to_text());
    }
    if report.ok() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

impl Args {
    fn clone_parts(&self) -> &Args {
        self
    }
}

fn build(a: &Args) -> Result<(Box<dyn ninefold_fstest::Target>, Config), String> {
    let target = a.target.as_deref().ok_or("--target is required")?;
    let target = parse_target(target).map_err(|e| e.to_string())?;
    let dialect = match a.dialect.as_deref() {
        None => None,
        Some(v) => Some(
            Dialect::from_version(v.as_bytes()).ok_or_else(|| format!("unknown dialect {v:?}"))?,
        ),
    };
    let caps = match (&a.caps, &a.skip_caps) {
        (Some(list), _) => Caps::parse_list(list)?,
        (None, Some(skip)) => Caps::all() - Caps::parse_list(skip)?,
        (None, None) => Caps::all(),
    };
    let slow = a.slow.as_ref().map(|p| SlowFile { aname: a.slow_aname.clone(), path: p.clone() });
    let cfg = Config {
        aname: a.aname.clone(),
        uname: a.uname.clone(),
        uid: a.uid,
        gid: a.gid,
        other_uid: a.other_uid,
        msize: a.msize,
        dialect,
        filter: a.filter.clone(),
        exclude: a.exclude.clone(),
        caps,
        slow,
        reply_timeout: Duration::from_secs(a.reply_timeout.max(1)),
        ..Config::default()
    };
    Ok((target, cfg))
}
