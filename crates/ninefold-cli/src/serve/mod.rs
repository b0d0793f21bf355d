//! `ninefold serve`: export a directory or an in-memory tree over 9P.
//!
//! - [`config`]: the TOML file, the flags and the merged settings;
//! - [`listen`]: listening addresses and the connect hints;
//! - [`exports`]: the trees, by aname;
//! - [`readonly`]: EROFS for read-only exports;
//! - [`access`]: `[access]`, `--auth-key`, `--trust`: Tauth keys, grants,
//!   trusted networks;
//! - [`metrics`]: the Prometheus endpoint;
//! - [`tls`]: tls:// listeners' certificate, reloaded on SIGHUP.

mod access;
mod config;
mod exports;
pub(crate) mod limits;
mod listen;
mod metrics;
mod readonly;
mod tls;

pub(crate) use tls::TlsArgs;

use std::io::Write as _;
use std::sync::Arc;

use anyhow::{Context, Result};
use ninefold_server::{Server, ServerConfig};
use tokio::signal::unix::{signal, SignalKind};
use tokio::task::JoinSet;
use tracing::{error, info, warn};
use tracing_subscriber::EnvFilter;

use crate::cli::ServeArgs;
use config::Settings;
use exports::{ExportTable, TableAttacher};
use listen::{Bound, SocketFile};

/// Runs the command until SIGINT or SIGTERM.
pub(crate) fn run(args: ServeArgs) -> Result<()> {
    // First, while the process has one thread: may execute it again.
    crate::alloc::fix_mmap_threshold();
    let settings = Settings::from_args(&args)?;
    init_logging(args.log.as_deref(), settings.log.as_deref())?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("ninefold")
        // Passthrough system calls that may wait run on the blocking pool;
        // tokio's default of 512 threads let 4 connections × 32 requests
        // run ~500 threads on a 2-core host, slower than a bounded pool.
        .max_blocking_threads(64)
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(serve(settings))
}

/// `--log` beats `RUST_LOG`, which beats the file's `log`; default info.
fn init_logging(flag: Option<&str>, file: Option<&str>) -> Result<()> {
    let env = std::env::var("RUST_LOG").ok().filter(|s| !s.trim().is_empty());
    let (directive, origin) = match (flag, env, file) {
        (Some(f), _, _) => (f.to_owned(), "--log"),
        (None, Some(e), _) => (e, "RUST_LOG"),
        (None, None, Some(f)) => (f.to_owned(), "`log` in the config file"),
        (None, None, None) => ("info".to_owned(), "default"),
    };
    let filter = EnvFilter::try_new(&directive)
        .with_context(|| format!("invalid log filter {directive:?} ({origin})"))?;
    // A second subscriber (never the case in the binary) is not an error.
    let _ =
        tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).try_init();
    Ok(())
}

/// The server's limits from the settings, checked.
fn server_config(s: &Settings) -> Result<ServerConfig> {
    let mut c = ServerConfig::default();
    c.max_msize = s.max_msize;
    c.max_inflight = s.max_inflight;
    c.max_connections = s.max_connections;
    c.max_fids = s.max_fids;
    c.idle_timeout = s.idle_timeout;
    c.shutdown_deadline = s.shutdown_deadline;
    c.dialects = s.dialects.clone();
    c.state_dir = s.state_dir.clone();
    c.splice_reads = s.splice_reads;
    c.limits = s.limits.abuse.clone();
    c.validate().context("invalid settings")?;
    Ok(c)
}

async fn serve(settings: Settings) -> Result<()> {
    let config = server_config(&settings)?;

    let mut bound = Vec::with_capacity(settings.listen.len());
    for addr in &settings.listen {
        bound.push(addr.bind().await?);
    }
    let hint = bound.first().map(|b| b.mount_line(settings.max_msize, None)).unwrap_or_default();
    let table = Arc::new(ExportTable::build(&settings, &hint)?);

    let metrics = match &settings.metrics {
        Some(addr) => Some((metrics::bind(addr).await?, Arc::new(metrics::Metrics::new()))),
        None => None,
    };

    let keys = settings.access.keyring()?;
    let policy = settings.access.policy(&table.export_names(), table.default_aliases())?;
    let mut builder =
        Server::builder(TableAttacher(table.clone())).config(config).auth_keys(keys).access(policy);
    if table.any_read_only() {
        builder = builder.middleware(readonly::ReadOnly(table.clone()));
    }
    if let Some((_, m)) = &metrics {
        builder = builder.meter(&m.meter());
    }
    // Kept alive for the life of the server: read at each scrape.
    let _descriptor_refusals = metrics.as_ref().map(|(_, m)| {
        m.meter()
            .u64_observable_counter("ninefold.server.descriptor_refusals")
            .with_description(
                "Walks, creates and opens answered EMFILE at a connection's descriptor budget",
            )
            .with_callback(|o| {
                o.observe(ninefold_fs::passthrough::descriptor_refusals_total(), &[]);
            })
            .build()
    });
    if let Some(token) = lineage_token(&settings)? {
        builder = builder.lineage_token(token);
    }
    let server = builder.build().context("invalid settings")?;
    let tls_acceptor = match &settings.tls {
        Some(t) => {
            let mut a = t.acceptor()?;
            if let Some((_, m)) = &metrics {
                a = a.meter(&m.meter());
            }
            Some(Arc::new(a))
        }
        None => None,
    };

    // Handled before the banner says the server listens: a SIGTERM sent
    // once a client is served must never find the default action (the
    // process killed) still in place.
    let mut term = signal(SignalKind::terminate()).context("cannot handle SIGTERM")?;
    let mut int = signal(SignalKind::interrupt()).context("cannot handle SIGINT")?;
    let mut hup = signal(SignalKind::hangup()).context("cannot handle SIGHUP")?;

    print_banner(&settings, &table, &bound, metrics.as_ref().map(|(l, _)| l));

    let mut tasks = JoinSet::new();
    let mut socket_files: Vec<SocketFile> = Vec::new();
    for b in bound {
        let s = server.clone();
        match b {
            Bound::Tcp(l, addr) => {
                tasks.spawn(async move {
                    s.serve_tcp(l).await.with_context(|| format!("accepting on tcp://{addr}"))
                });
            }
            Bound::Tls(l, addr) => {
                let Some(acceptor) = tls_acceptor.clone() else {
                    anyhow::bail!("tls://{addr} has no TLS settings");
                };
                tasks.spawn(async move {
                    s.serve_tls(l, acceptor)
                        .await
                        .with_context(|| format!("accepting on tls://{addr}"))
                });
            }
            Bound::Unix(l, file) => {
                let name = file.path().display().to_string();
                socket_files.push(file);
                tasks.spawn(async move {
                    s.serve_unix(l).await.with_context(|| format!("accepting on unix:{name}"))
                });
            }
        }
    }
    let metrics_task = metrics.as_ref().map(|(_, m)| m.clone());
    let metrics_handle = metrics.map(|(l, m)| tokio::spawn(metrics::serve(l, m)));

    let mut outcome = Ok(());
    loop {
        tokio::select! {
            _ = term.recv() => info!("SIGTERM received, shutting down"),
            _ = int.recv() => info!("SIGINT received, shutting down"),
            _ = hup.recv() => {
                tls::reload(tls_acceptor.as_ref());
                continue;
            }
            Some(done) = tasks.join_next() => {
                let e = match done {
                    Ok(Ok(())) => anyhow::anyhow!("a listener stopped unexpectedly"),
                    Ok(Err(e)) => e,
                    Err(e) => anyhow::anyhow!("a listener task failed: {e}"),
                };
                error!(error = %format!("{e:#}"), "shutting down");
                outcome = Err(e);
            }
        }
        break;
    }

    tokio::select! {
        () = server.shutdown() => info!("all connections closed"),
        _ = term.recv() => { warn!("second signal: exiting without waiting for connections"); }
        _ = int.recv() => { warn!("second signal: exiting without waiting for connections"); }
    }
    tasks.abort_all();
    if let Some(h) = metrics_handle {
        h.abort();
    }
    if let Some(m) = metrics_task {
        m.shutdown();
    }
    drop(socket_files);
    outcome
}

/// The `.Z` lineage token to keep across restarts: with a state directory
/// and only directory exports (whose data outlives the process), a token
/// stored in the state directory; otherwise `None` (random per start, so
/// a client's Tfsyncdur after a restart honestly gets ESTALE).
fn lineage_token(s: &Settings) -> Result<Option<u64>> {
    let Some(dir) = &s.state_dir else { return Ok(None) };
    let persistent =
        s.root.iter().chain(s.exports.values()).all(|e| matches!(e.source, config::Source::Dir(_)));
    if !persistent {
        return Ok(None);
    }
    std::fs::create_dir_all(dir)
        .with_context(|| format!("cannot create state directory {}", dir.display()))?;
    let path = dir.join("lineage");
    match std::fs::read(&path) {
        Ok(b) if b.len() == 8 => {
            let mut a = [0; 8];
            a.copy_from_slice(&b);
            return Ok(Some(u64::from_le_bytes(a)));
        }
        Ok(_) => warn!(path = %path.display(), "unreadable lineage token, making a new one"),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
    }
    let token = random_token();
    let tmp = dir.join("lineage.tmp");
    std::fs::write(&tmp, token.to_le_bytes())
        .and_then(|()| std::fs::rename(&tmp, &path))
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(Some(token))
}

/// A random, non-zero token.
fn random_token() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default()
            .as_nanos(),
    );
    h.write_u32(std::process::id());
    h.finish().max(1)
}

/// Where we listen and how to connect, on stdout.
fn print_banner(
    settings: &Settings,
    table: &ExportTable,
    bound: &[Bound],
    metrics: Option<&tokio::net::TcpListener>,
) {
    let mut out = String::new();
    let mut line = |s: String| {
        out.push_str(&s);
        out.push('\n');
    };
    let dialects: Vec<&str> = settings.dialects.iter().map(|d| d.version()).collect();
    line(format!("ninefold {} ({})", env!("CARGO_PKG_VERSION"), dialects.join(", ")));
    match table.default_export() {
        Some(e) => line(format!("  default export: {}", e.label)),
        None => line("  no default export: attach with one of the anames below".into()),
    }
    for (name, e) in table.named() {
        line(format!("  aname {name:?}: {}", e.label));
    }
    for b in bound {
        line(format!("listening on {}", b.url()));
    }
    line(settings.access.summary());
    if !settings.access.trusts_remote_peers() && bound.iter().any(Bound::reaches_other_hosts) {
        line(
            "  unauthenticated peers from other hosts are refused (EACCES): authenticate them \
             (--auth-key, [[access.grant]]) or trust their network (--trust; docs/SECURITY.md)"
                .into(),
        );
    }
    if let Some(addr) = metrics.and_then(|l| l.local_addr().ok()) {
        line(format!("metrics on http://{addr}/metrics"));
    }
    line(String::new());
    line("Mount with the Linux kernel client (as root):".into());
    for b in bound {
        if matches!(b, Bound::Tls(..)) {
            line(format!("  {}", b.mount_line(settings.max_msize, None)));
            continue;
        }
        if table.default_export().is_some() {
            line(format!("  {}", b.mount_line(settings.max_msize, None)));
        }
        for (name, _) in table.named() {
            line(format!("  {}", b.mount_line(settings.max_msize, Some(name))));
        }
    }
    let first = bound.first().map(Bound::url).unwrap_or_default();
    let anames: Vec<String> = table
        .default_export()
        .map(|_| "\"\"".to_owned())
        .into_iter()
        .chain(table.named().map(|(n, _)| format!("{n:?}")))
        .collect();
    line(format!(
        "Or any 9P client: connect to {first}, Tversion 9P2000.L, Tattach with aname {}.",
        anames.join(" or ")
    ));
    line("Stop with Ctrl-C (SIGINT) or SIGTERM.".into());
    let mut stdout = std::io::stdout().lock();
    // A closed stdout (daemonised) must not stop the server.
    let _ = stdout.write_all(out.as_bytes()).and_then(|()| stdout.flush());
}
