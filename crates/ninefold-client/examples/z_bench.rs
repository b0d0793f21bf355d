//! Round trips and wall time per API call, `9P2000.L.Z` against plain
//! `9P2000.L`: our client against `ninefold serve`, side by side in one run.
//!
//! ```text
//! NINEFOLD_BIN=target/release/ninefold \
//!   cargo run --release -p ninefold-client --example z_bench -- [--dir DIR] [--entries 10000] [--files 1000]
//! ```
//!
//! Starts `ninefold serve` (memfs, or a passthrough export with `--dir`) on
//! a free loopback port. Round trips are counted by a frame-counting TCP
//! relay between client and server (every 9P T-message the client sends is
//! one request; the calls here are sequential, so requests = round trips),
//! over one run of each call after a short settle (background clunks
//! included). Wall time is measured on a direct connection (no relay), as
//! the median over repeated runs. Rows:
//!
//! - `metadata(path)` of a file two levels down;
//! - `read(path)` of a 4 KiB file;
//! - `read_dir` of a directory of N entries, with `DirEntry.metadata`;
//! - create + write 100 bytes + close of M small files (`create`,
//!   `write_at`, `close`), per file.

use std::net::TcpListener as StdListener;
use std::process::Stdio;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use ninefold_client::{Client, ConnectOptions};
use ninefold_proto::Dialect;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// Requests seen by the relay, by 9P message type.
struct Counts([AtomicU64; 256]);

impl Counts {
    fn new() -> Arc<Counts> {
        Arc::new(Counts(std::array::from_fn(|_| AtomicU64::new(0))))
    }
    fn snapshot(&self) -> [u64; 256] {
        std::array::from_fn(|i| self.0[i].load(Ordering::SeqCst))
    }
}

/// A relay that forwards both directions and counts client frames by type.
async fn relay(listener: TcpListener, server: String, counts: Arc<Counts>) {
    while let Ok((client, _)) = listener.accept().await {
        let server = server.clone();
        let counts = Arc::clone(&counts);
        tokio::spawn(async move {
            let Ok(upstream) = TcpStream::connect(&server).await else {
                return;
            };
            let _ = client.set_nodelay(true);
            let _ = upstream.set_nodelay(true);
            let (mut cr, mut cw) = client.into_split();
            let (mut ur, mut uw) = upstream.into_split();
            let up = async move {
                let mut buf = Vec::new();
                loop {
                    let mut size = [0u8; 4];
                    if cr.read_exact(&mut size).await.is_err() {
                        break;
                    }
                    let n = u32::from_le_bytes(size) as usize;
                    if !(7..=16 << 20).contains(&n) {
                        break;
                    }
                    buf.resize(n - 4, 0);
                    if cr.read_exact(&mut buf).await.is_err() {
                        break;
                    }
                    counts.0[buf[0] as usize].fetch_add(1, Ordering::SeqCst);
                    if uw.write_all(&size).await.is_err() || uw.write_all(&buf).await.is_err() {
                        break;
                    }
                }
                let _ = uw.shutdown().await;
            };
            let down = async move {
                let _ = tokio::io::copy(&mut ur, &mut cw).await;
                let _ = cw.shutdown().await;
            };
            tokio::join!(up, down);
        });
    }
}

fn type_name(t: usize) -> String {
    let name = match t {
        8 => "statfs",
        12 => "lopen",
        14 => "lcreate",
        24 => "getattr",
        26 => "setattr",
        40 => "readdir",
        50 => "fsync",
        100 => "version",
        104 => "attach",
        110 => "walk",
        116 => "read",
        118 => "write",
        120 => "clunk",
        232 => "fsyncdur",
        233 => "getlineage",
        230 => "lopenatread",
        236 => "lopenat",
        238 => "lcreateattr",
        248 => "setattrattr",
        250 => "rebind",
        252 => "walkgetattr",
        254 => "readdirattr",
        _ => return format!("T{t}"),
    };
    name.to_string()
}

struct Row {
    name: String,
    per: String,
    requests: f64,
    breakdown: String,
    micros: f64,
}

async fn connect(target: &str, dialect: Dialect) -> anyhow::Result<Client> {
    let mut opts = ConnectOptions::new().dialects(vec![dialect]);
    opts.uid = 0;
    opts.gid = 0;
    opts.uname = "root".into();
    let c = Client::connect_with(target, opts)
        .await
        .with_context(|| format!("connect {target} offering only {}", dialect.version()))?;
    if c.capabilities().dialect != dialect {
        bail!("asked for {} and got {}", dialect.version(), c.capabilities().dialect.version());
    }
    Ok(c)
}

/// Runs `op` once through the relay to count its requests, then `reps` times
/// directly for the median wall time. `per` divides both (e.g. per file).
#[allow(clippy::too_many_arguments)]
async fn measure<F, Fut>(
    name: &str,
    per_label: &str,
    per: f64,
    reps: usize,
    counted: &Client,
    direct: &Client,
    counts: &Counts,
    op: F,
) -> anyhow::Result<Row>
where
    F: Fn(Client, usize) -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<()>>,
{
    // warm both connections
    op(counted.clone(), 0).await?;
    op(direct.clone(), 1).await?;
    tokio::time::sleep(Duration::from_millis(100)).await;
    let before = counts.snapshot();
    op(counted.clone(), 2).await?;
    tokio::time::sleep(Duration::from_millis(150)).await; // background clunks
    let after = counts.snapshot();
    let mut total = 0u64;
    let mut parts = Vec::new();
    for t in 0..256 {
        let d = after[t] - before[t];
        if d > 0 {
            total += d;
            let v = d as f64 / per;
            parts.push(if v.fract() == 0.0 {
                format!("{} {}", v as u64, type_name(t))
            } else {
                format!("{v:.2} {}", type_name(t))
            });
        }
    }
    let mut times = Vec::with_capacity(reps);
    for i in 0..reps {
        let t0 = Instant::now();
        op(direct.clone(), 3 + i).await?;
        times.push(t0.elapsed().as_secs_f64() * 1e6 / per);
    }
    times.sort_by(f64::total_cmp);
    Ok(Row {
        name: name.to_string(),
        per: per_label.to_string(),
        requests: total as f64 / per,
        breakdown: parts.join(", "),
        micros: times[times.len() / 2],
    })
}

async fn bench_dialect(
    dialect: Dialect,
    relay_target: &str,
    direct_target: &str,
    counts: &Counts,
    entries: usize,
    files: usize,
) -> anyhow::Result<Vec<Row>> {
    let counted = connect(relay_target, dialect).await?;
    let direct = connect(direct_target, dialect).await?;
    let tag = match dialect {
        Dialect::Z => "z",
        _ => "l",
    };
    let base = format!("/zbench-{tag}");
    let _ = direct.remove_dir_all(&base).await;
    direct.create_dir_all(format!("{base}/a/b"), 0o755).await?;
    direct.write(format!("{base}/a/b/meta"), b"m").await?;
    direct.write(format!("{base}/a/b/4k"), vec![7u8; 4096]).await?;
    direct.create_dir(format!("{base}/big"), 0o755).await?;
    for i in 0..entries {
        direct.write(format!("{base}/big/e{i:05}"), b"").await?;
    }
    let mut rows = Vec::new();

    let p = format!("{base}/a/b/meta");
    rows.push(
        measure("metadata(path)", "call", 1.0, 2000, &counted, &direct, counts, |c, _| {
            let p = p.clone();
            async move {
                let m = c.metadata(&p).await?;
                anyhow::ensure!(m.size == 1);
                Ok(())
            }
        })
        .await?,
    );
    let p = format!("{base}/a/b/4k");
    rows.push(
        measure("read 4 KiB file", "call", 1.0, 2000, &counted, &direct, counts, |c, _| {
            let p = p.clone();
            async move {
                let d = c.read(&p).await?;
                anyhow::ensure!(d.len() == 4096);
                Ok(())
            }
        })
        .await?,
    );
    let p = format!("{base}/big");
    let label = format!("read_dir {entries} + metadata");
    rows.push(
        measure(&label, "call", 1.0, 7, &counted, &direct, counts, |c, _| {
            let p = p.clone();
            async move {
                let list = c.read_dir(&p).await?;
                anyhow::ensure!(list.len() == entries);
                for e in &list {
                    // metadata filled (readdirplus), or fetched when the dialect has none
                    if e.metadata.is_none() {
                        c.stat(format!("{p}/{}", e.name)).await?;
                    }
                }
                Ok(())
            }
        })
        .await?,
    );
    let label = format!("create+write+close x{files}");
    let base2 = base.clone();
    rows.push(
        measure(&label, "file", files as f64, 3, &counted, &direct, counts, |c, run| {
            let d = format!("{base2}/small{run}");
            async move {
                c.create_dir(&d, 0o755).await?;
                for i in 0..files {
                    let f = c.create(format!("{d}/f{i:04}")).await?;
                    f.write_at(0, &[b'x'; 100]).await?;
                    f.close().await?;
                }
                Ok(())
            }
        })
        .await?,
    );
    let _ = direct.remove_dir_all(&base).await;
    let _ = counted.close().await;
    let _ = direct.close().await;
    Ok(rows)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut dir: Option<String> = None;
    let mut entries = 10_000usize;
    let mut files = 1_000usize;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--dir" => dir = args.next(),
            "--entries" => entries = args.next().context("--entries N")?.parse()?,
            "--files" => files = args.next().context("--files N")?.parse()?,
            _ => bail!("usage: z_bench [--dir DIR] [--entries N] [--files N]"),
        }
    }
    let bin = std::env::var("NINEFOLD_BIN").unwrap_or_else(|_| "target/release/ninefold".into());
    let port = StdListener::bind("127.0.0.1:0")?.local_addr()?.port();
    let mut cmd = tokio::process::Command::new(&bin);
    cmd.arg("serve")
        .arg("--listen")
        .arg(format!("tcp://127.0.0.1:{port}"))
        .arg("--log")
        .arg("error")
        .stdout(Stdio::null())
        .kill_on_drop(true);
    match &dir {
        Some(d) => cmd.arg(d),
        None => cmd.arg("--memory"),
    };
    let mut server = cmd.spawn().with_context(|| format!("spawn {bin}"))?;
    let direct_target = format!("tcp://127.0.0.1:{port}");
    let t0 = Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).await.is_err() {
        if t0.elapsed() > Duration::from_secs(20) {
            bail!("{bin} serve did not listen");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let counts = Counts::new();
    let rl = TcpListener::bind("127.0.0.1:0").await?;
    let relay_target = format!("tcp://{}", rl.local_addr()?);
    tokio::spawn(relay(rl, format!("127.0.0.1:{port}"), Arc::clone(&counts)));

    let export = dir.as_deref().unwrap_or("memfs");
    println!("z_bench: ninefold serve ({export}) {bin}; our client; requests counted by a relay, time = median on a direct connection");
    let mut results = Vec::new();
    for dialect in [Dialect::Z, Dialect::L] {
        match bench_dialect(dialect, &relay_target, &direct_target, &counts, entries, files).await {
            Ok(rows) => results.push((dialect, Some(rows))),
            Err(e) => {
                println!("{}: not measured: {e:#}", dialect.version());
                results.push((dialect, None));
            }
        }
    }
    server.kill().await.ok();

    println!();
    println!(
        "| API call | per | .Z requests | .L requests | .Z time | .L time | .L/.Z time | .Z requests by type | .L requests by type |"
    );
    println!("|---|---|---|---|---|---|---|---|---|");
    let z = results.iter().find(|r| r.0 == Dialect::Z).and_then(|r| r.1.as_ref());
    let l = results.iter().find(|r| r.0 == Dialect::L).and_then(|r| r.1.as_ref());
    let n = z.or(l).map(|r| r.len()).unwrap_or(0);
    let fmt_t = |us: f64| {
        if us >= 10_000.0 {
            format!("{:.1} ms", us / 1000.0)
        } else {
            format!("{us:.1} µs")
        }
    };
    for i in 0..n {
        let zr = z.map(|r| &r[i]);
        let lr = l.map(|r| &r[i]);
        let any = zr.or(lr).expect("one side measured");
        let req = |r: Option<&Row>| r.map(|r| format!("{:.2}", r.requests)).unwrap_or("n/a".into());
        let tim = |r: Option<&Row>| r.map(|r| fmt_t(r.micros)).unwrap_or("n/a".into());
        let ratio = match (zr, lr) {
            (Some(z), Some(l)) => format!("{:.2}x", l.micros / z.micros),
            _ => "n/a".into(),
        };
        println!(
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            any.name,
            any.per,
            req(zr),
            req(lr),
            tim(zr),
            tim(lr),
            ratio,
            zr.map(|r| r.breakdown.as_str()).unwrap_or("n/a"),
            lr.map(|r| r.breakdown.as_str()).unwrap_or("n/a"),
        );
    }
    if z.is_none() || l.is_none() {
        eprintln!("z_bench: a dialect could not be measured");
        std::process::exit(1);
    }
    Ok(())
}
