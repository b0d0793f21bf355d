//! The Rust side of the Node-vs-Rust client benchmark: the same rows as
//! `bench/bench.mjs`, through `ninefold-client` directly (what the addon
//! wraps), doing the same work as the addon's calls. `bench/run.sh` runs
//! both against one `ninefold serve` and prints the median ratios.
//!
//! ```text
//! cargo run --release -p ninefold-node --example bench_baseline -- TARGET [--mib 256] [--secs 3] [--reps 3]
//! ```
//!
//! Like for like with the addon:
//! - `write`: open (write, create, truncate), then `File::write_at_bytes`
//!   of a buffer that already exists, so neither side copies the payload
//!   (the addon wraps the JavaScript buffer as `Bytes` without a copy).
//! - `read`: `Client::read`, then the `Bytes` turned into an owned `Vec`,
//!   as the addon does before handing the memory to Node.
//! - `read_into`: the whole file into one existing buffer through
//!   [`ninefold_client::File::read_into`], the very function the addon's
//!   `File.read_into` runs (pipelined `max_read_chunk` reads, each copied
//!   once from the received frame into the buffer).
//! - `metadata xN`: N tasks calling `Client::metadata` in a loop.
//! - `cpu/...`: the process CPU time (`/proc/self/stat`, user + system, all
//!   threads, on both sides) per MiB of each bulk row and per metadata call:
//!   steadier than wall time on a loaded machine.
//!
//! Every call runs as a task of its own on a two-worker multi-threaded
//! tokio runtime, awaited from outside it: what the addon does (napi-rs
//! spawns each call on such a runtime, two workers on this machine's two
//! cores, and JavaScript waits on its event loop). Prints one JSON
//! object: per row, the list of `--reps` results (MiB/s, calls/s or CPU
//! microseconds per call).

use std::future::Future;
use std::time::{Duration, Instant};

use anyhow::Context;
use bytes::Bytes;
use ninefold_client::{Client, OpenOptions};

/// CPU time of this process so far, in microseconds (utime + stime).
fn cpu_us() -> anyhow::Result<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat")?;
    // The fields after the command name, which is in parentheses.
    let rest = stat.rsplit_once(')').context("/proc/self/stat")?.1;
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks: f64 =
        f.get(11).context("utime")?.parse::<f64>()? + f.get(12).context("stime")?.parse::<f64>()?;
    // USER_HZ is 100 on Linux.
    Ok(ticks * 10_000.0)
}

/// Runs `fut` as a task of its own and waits for it from outside, as the
/// addon runs every call (each `#[napi] async fn` is spawned on the
/// runtime; JavaScript waits on the event loop).
async fn task<T: Send + 'static>(
    fut: impl Future<Output = ninefold_client::Result<T>> + Send + 'static,
) -> anyhow::Result<T> {
    Ok(tokio::spawn(fut).await??)
}

/// Calls/s and CPU microseconds per call of `tasks` concurrent loops.
async fn metadata(fs: &Client, tasks: usize, secs: f64) -> anyhow::Result<(f64, f64)> {
    let deadline = Instant::now() + Duration::from_secs_f64(secs);
    let start = Instant::now();
    let cpu0 = cpu_us()?;
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
    let cpu = (cpu_us()? - cpu0) / total.max(1) as f64;
    Ok((total as f64 / start.elapsed().as_secs_f64(), cpu))
}

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let target = args
        .first()
        .context("usage: bench_baseline TARGET [--mib N] [--secs S] [--reps R]")?
        .clone();
    let opt = |name: &str, d: f64| -> anyhow::Result<f64> {
        match args.iter().position(|a| a == name) {
            Some(i) => Ok(args.get(i + 1).context("missing value")?.parse()?),
            None => Ok(d),
        }
    };
    let mib = opt("--mib", 256.0)? as usize;
    let secs = opt("--secs", 3.0)?;
    let reps = (opt("--reps", 3.0)? as usize).max(1);
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    rt.block_on(async {
        let fs = Client::connect(&target).await?;
        let data = Bytes::from((0..mib << 20).map(|i| (i % 251) as u8).collect::<Vec<u8>>());
        let mut into = vec![0u8; data.len()];
        fs.create_dir_all("/meta", 0o755).await?;
        fs.write("/meta/target", b"x").await?;
        let mibps = |t: Instant| mib as f64 / t.elapsed().as_secs_f64();
        // CPU microseconds per MiB since `c0`.
        let cpu_mib = |c0: f64| -> anyhow::Result<f64> { Ok((cpu_us()? - c0) / mib as f64) };
        let (mut cpu_w, mut cpu_r, mut cpu_ri) = (Vec::new(), Vec::new(), Vec::new());
        let (mut write, mut read, mut read_into) = (Vec::new(), Vec::new(), Vec::new());
        let (mut meta1, mut meta32) = (Vec::new(), Vec::new());
        let (mut cpu1, mut cpu32) = (Vec::new(), Vec::new());
        for _ in 0..reps {
            let (t, c0) = (Instant::now(), cpu_us()?);
            let opts = OpenOptions::new().write(true).create(true).truncate(true);
            let f = task({
                let fs = fs.clone();
                async move { fs.open("/bench.bin", opts).await }
            })
            .await?;
            task({
                let (f, data) = (f.clone(), data.clone());
                async move { f.write_at_bytes(0, data).await }
            })
            .await?;
            write.push(mibps(t));
            cpu_w.push(cpu_mib(c0)?);
            f.close().await?;

            let (t, c0) = (Instant::now(), cpu_us()?);
            let back = task({
                let fs = fs.clone();
                async move { fs.read("/bench.bin").await.map(Vec::from) }
            })
            .await?;
            read.push(mibps(t));
            cpu_r.push(cpu_mib(c0)?);
            anyhow::ensure!(back.len() == data.len(), "short read");
            drop(back);

            let (t, c0) = (Instant::now(), cpu_us()?);
            let f = task({
                let fs = fs.clone();
                async move { fs.open("/bench.bin", OpenOptions::new().read(true)).await }
            })
            .await?;
            let (n, buf) = task({
                let (f, mut buf) = (f.clone(), std::mem::take(&mut into));
                async move {
                    let n = f.read_into(0, &mut buf).await?;
                    Ok((n, buf))
                }
            })
            .await?;
            into = buf;
            read_into.push(mibps(t));
            cpu_ri.push(cpu_mib(c0)?);
            anyhow::ensure!(n == into.len(), "short read_into");
            f.close().await?;
            anyhow::ensure!(into[..] == data[..], "read_into returned other bytes");

            let (ops, cpu) = metadata(&fs, 1, secs).await?;
            meta1.push(ops);
            cpu1.push(cpu);
            let (ops, cpu) = metadata(&fs, 32, secs).await?;
            meta32.push(ops);
            cpu32.push(cpu);
        }
        fs.remove_file("/bench.bin").await?;
        let list =
            |v: &[f64]| v.iter().map(|x| format!("{x:.1}")).collect::<Vec<_>>().join(",");
        println!(
            "{{\"write\":[{}],\"read\":[{}],\"read_into\":[{}],\"meta1\":[{}],\"meta32\":[{}],\"cpu1\":[{}],\"cpu32\":[{}],\"cpu_write\":[{}],\"cpu_read\":[{}],\"cpu_read_into\":[{}]}}",
            list(&write),
            list(&read),
            list(&read_into),
            list(&meta1),
            list(&meta32),
            list(&cpu1),
            list(&cpu32),
            list(&cpu_w),
            list(&cpu_r),
            list(&cpu_ri)
        );
        anyhow::Ok(())
    })
}
