//! Client-side benchmark rows against Ninefold's server (memfs, started
//! in process on a loopback port) and diod in the same run, with ratios.
//!
//! ```text
//! cargo run --release -p ninefold-client --example client_bench -- \
//!     [--mib 256] [--entries 10000] [--secs 3] [--msize 65536] \
//!     [--diod tcp://127.0.0.1:PORT --diod-aname /export/dir]
//! ```
//!
//! Without `--diod`, diod (Debian package `diod`) is started on a
//! temporary directory and a free loopback port by the same launcher the
//! tests use (`tests/support/diod.rs`); without diod installed the run
//! fails, unless `NINEFOLD_SKIP_DIOD=1` asks for the Ninefold column only. diod caps msize at 64 KiB, so the default msize is 64 KiB for
//! both servers; `--msize` asks for more (our server grants up to 1 MiB).
//!
//! Rows: `read` and `write` of a whole file (MiB/s), `metadata` (stat
//! calls/s) from 1 and from 64 concurrent tasks, `read_dir` of a
//! directory of N entries (listings/s and entries/s). The ratio column is
//! ninefold / diod (> 1: ours is faster).

#[path = "../tests/support/diod.rs"]
mod diod;

use std::net::TcpListener as StdListener;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use ninefold_client::{Client, ConnectOptions};
use ninefold_fs::memfs::MemFs;
use ninefold_server::{Exports, Server};

struct Args {
    mib: usize,
    entries: usize,
    secs: f64,
    msize: u32,
    diod: Option<(String, String)>,
}

fn parse_args() -> anyhow::Result<Args> {
    let mut a = Args { mib: 256, entries: 10_000, secs: 3.0, msize: 65536, diod: None };
    let mut it = std::env::args().skip(1);
    let mut diod_target = None;
    let mut diod_aname = None;
    while let Some(flag) = it.next() {
        let mut val = || it.next().with_context(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--mib" => a.mib = val()?.parse()?,
            "--entries" => a.entries = val()?.parse()?,
            "--secs" => a.secs = val()?.parse()?,
            "--msize" => a.msize = val()?.parse()?,
            "--diod" => diod_target = Some(val()?),
            "--diod-aname" => diod_aname = Some(val()?),
            other => bail!("unknown argument {other}; see the example's docs"),
        }
    }
    if let Some(t) = diod_target {
        a.diod = Some((t, diod_aname.context("--diod needs --diod-aname")?));
    }
    Ok(a)
}

/// One measured row for one server.
#[derive(Clone, Copy)]
struct Figure {
    value: f64,
}

async fn row_write(fs: &Client, data: &[u8]) -> anyhow::Result<Figure> {
    let t = Instant::now();
    fs.write("/bench.bin", data).await?;
    Ok(Figure { value: data.len() as f64 / (1 << 20) as f64 / t.elapsed().as_secs_f64() })
}

async fn row_read(fs: &Client, len: usize) -> anyhow::Result<Figure> {
    let t = Instant::now();
    let back = fs.read("/bench.bin").await?;
    let secs = t.elapsed().as_secs_f64();
    anyhow::ensure!(back.len() == len, "short read: {} of {len}", back.len());
    Ok(Figure { value: len as f64 / (1 << 20) as f64 / secs })
}

async fn row_metadata(fs: &Client, tasks: usize, secs: f64) -> anyhow::Result<Figure> {
    let deadline = Instant::now() + Duration::from_secs_f64(secs);
    let start = Instant::now();
    let mut handles = Vec::new();
    for _ in 0..tasks {
        let fs = fs.clone();
        handles.push(tokio::spawn(async move {
            let mut n = 0u64;
            while Instant::now() < deadline {
                fs.metadata("/meta/target").await?;
                n += 1;
            }
            anyhow::Ok(n)
        }));
    }
    let mut total = 0;
    for h in handles {
        total += h.await??;
    }
    Ok(Figure { value: total as f64 / start.elapsed().as_secs_f64() })
}

async fn row_read_dir(fs: &Client, entries: usize, secs: f64) -> anyhow::Result<Figure> {
    let start = Instant::now();
    let mut listings = 0u32;
    while listings < 3 || start.elapsed().as_secs_f64() < secs {
        let list = fs.read_dir("/many").await?;
        anyhow::ensure!(list.len() == entries, "listed {} of {entries}", list.len());
        listings += 1;
    }
    Ok(Figure { value: f64::from(listings) / start.elapsed().as_secs_f64() })
}

async fn populate(fs: &Client, entries: usize) -> anyhow::Result<()> {
    fs.create_dir_all("/meta", 0o755).await?;
    fs.write("/meta/target", b"x").await?;
    fs.create_dir_all("/many", 0o755).await?;
    let mut tasks = Vec::new();
    for t in 0..16 {
        let fs = fs.clone();
        tasks.push(tokio::spawn(async move {
            for i in (t..entries).step_by(16) {
                fs.write(format!("/many/entry-{i:06}"), b"").await?;
            }
            anyhow::Ok(())
        }));
    }
    for t in tasks {
        t.await??;
    }
    Ok(())
}

const ROWS: [&str; 5] = ["write", "read", "metadata x1", "metadata x64", "read_dir"];

async fn measure(name: &str, target: &str, aname: &str, a: &Args) -> anyhow::Result<Vec<Figure>> {
    let opts = ConnectOptions::new().aname(aname).msize(a.msize).uid(0).gid(0).uname("root");
    let fs = Client::connect_with(target, opts).await.with_context(|| format!("connect {name}"))?;
    eprintln!("{name}: msize {}", fs.capabilities().msize);
    let data: Vec<u8> = (0..a.mib << 20).map(|i| (i % 251) as u8).collect();
    populate(&fs, a.entries).await?;
    let figures = vec![
        row_write(&fs, &data).await?,
        row_read(&fs, data.len()).await?,
        row_metadata(&fs, 1, a.secs).await?,
        row_metadata(&fs, 64, a.secs).await?,
        row_read_dir(&fs, a.entries, a.secs).await?,
    ];
    fs.remove_file("/bench.bin").await?;
    Ok(figures)
}

/// diod started by this program, with its export; stopped on drop.
struct OwnDiod {
    diod: diod::Diod,
    _dir: tempfile::TempDir,
}

fn start_diod() -> anyhow::Result<Option<OwnDiod>> {
    let Some(bin) = diod::require() else { return Ok(None) };
    let dir = tempfile::Builder::new().prefix("nf-client-bench-").tempdir()?;
    let diod = diod::Diod::start(&bin, dir.path()).map_err(anyhow::Error::msg)?;
    Ok(Some(OwnDiod { diod, _dir: dir }))
}

fn main() -> anyhow::Result<()> {
    let a = parse_args()?;
    // Our server gets a runtime of its own, as it would in its own process.
    let server_rt =
        tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    let listener = StdListener::bind("127.0.0.1:0")?;
    listener.set_nonblocking(true)?;
    let ours = format!("tcp://{}", listener.local_addr()?);
    let fs = MemFs::new();
    let server = Server::builder(Exports::new().export("/memfs", fs.root())).build()?;
    server_rt.spawn(async move {
        let listener = tokio::net::TcpListener::from_std(listener)?;
        server.serve_tcp(listener).await
    });

    let mut diod_guard = None;
    let diod = match a.diod.clone() {
        Some(d) => Some(d),
        None => start_diod()?.map(|g| {
            let d = (g.diod.target.clone(), g.diod.aname.clone());
            diod_guard = Some(g);
            d
        }),
    };

    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    let mine = rt.block_on(measure("ninefold+memfs", &ours, "/memfs", &a))?;
    let theirs = match &diod {
        Some((t, an)) => Some(rt.block_on(measure("diod", t, an, &a))?),
        None => {
            eprintln!("diod not available: ninefold column only");
            None
        }
    };
    drop(diod_guard);

    let units = ["MiB/s", "MiB/s", "stat/s", "stat/s", "listings/s"];
    println!("client rows: {} MiB file, {} entries, msize asked {}", a.mib, a.entries, a.msize);
    println!("{:<14} {:>10} {:>16} {:>16} {:>8}", "row", "unit", "ninefold+memfs", "diod", "ratio");
    for (i, row) in ROWS.iter().enumerate() {
        let ours = mine[i].value;
        let (d, ratio) = match &theirs {
            Some(t) => (format!("{:.1}", t[i].value), format!("{:.2}", ours / t[i].value)),
            None => ("-".into(), "-".into()),
        };
        println!("{row:<14} {:>10} {ours:>16.1} {d:>16} {ratio:>8}", units[i]);
    }
    println!(
        "read_dir entries/s: ninefold {:.0}{}",
        mine[4].value * a.entries as f64,
        theirs
            .as_ref()
            .map(|t| format!(", diod {:.0}", t[4].value * a.entries as f64))
            .unwrap_or_default()
    );
    server_rt.shutdown_background();
    Ok(())
}
