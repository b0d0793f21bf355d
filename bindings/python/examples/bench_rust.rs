//! The Rust side of `bench/bench.py`: the same workloads with the Rust
//! client against the same server, printed as one JSON object.
//!
//! ```text
//! cargo run --release -p ninefold-python --example bench_rust -- TARGET [MIB] [SECS] [READS]
//! ```
//!
//! Each read row is the median of `READS` (default 1) whole-file reads,
//! each into a fresh buffer (as each Python `read` returns a fresh `bytes`).
//!
//! Rows: `Client::write` and `Client::read` of a whole file; `read_into`,
//! the whole file read the way the Python binding's `read` does it (open,
//! fstat, a fresh buffer of that size, `File::read_into`: pipelined Treads,
//! each reply copied once into the buffer); `reused`, `File::read_into`
//! into one buffer kept across reads (what Python's `File.read_into` into
//! a reused `bytearray` is compared with); and `Client::metadata` calls
//! per second from 1 and 32 tasks.

use std::time::{Duration, Instant};

use ninefold_client::{Client, ConnectOptions, OpenOptions};

type Res<T> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

/// Stat calls per second from `tasks` concurrent tasks for `secs`.
async fn metadata_rate(fs: &Client, tasks: usize, secs: f64) -> Res<f64> {
    let deadline = Instant::now() + Duration::from_secs_f64(secs);
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..tasks {
        let fs = fs.clone();
        set.spawn(async move {
            let mut n = 0u64;
            while Instant::now() < deadline {
                fs.metadata("/bench.bin").await?;
                n += 1;
            }
            Ok::<u64, ninefold_client::Error>(n)
        });
    }
    let t = Instant::now();
    let mut total = 0;
    while let Some(r) = set.join_next().await {
        total += r??;
    }
    Ok(total as f64 / t.elapsed().as_secs_f64())
}

/// The median of `v` (the mean of the middle two for an even count).
fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n == 0 {
        return 0.0;
    }
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

fn main() -> Res<()> {
    let mut args = std::env::args().skip(1);
    let target = args.next().ok_or("usage: bench_rust TARGET [MIB] [SECS] [READS]")?;
    let mib: usize = args.next().map_or(Ok(256), |s| s.parse())?;
    let secs: f64 = args.next().map_or(Ok(3.0), |s| s.parse())?;
    let reads: usize = args.next().map_or(Ok(1), |s| s.parse())?;
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    rt.block_on(async {
        let fs = Client::connect_with(&target, ConnectOptions::new()).await?;
        let data = vec![7u8; mib << 20];
        let t = Instant::now();
        fs.write("/bench.bin", &data).await?;
        let write = mib as f64 / t.elapsed().as_secs_f64();
        let mut read = Vec::new();
        let mut read_into = Vec::new();
        for _ in 0..reads.max(1) {
            let t = Instant::now();
            let back = fs.read("/bench.bin").await?;
            read.push(mib as f64 / t.elapsed().as_secs_f64());
            if back != data {
                return Err(format!("read: {} of {} or wrong bytes", back.len(), data.len()).into());
            }
            drop(back);
            let t = Instant::now();
            let f = fs.open("/bench.bin", OpenOptions::new().read(true)).await?;
            let size = usize::try_from(f.metadata().await?.size)?;
            let mut buf = vec![0u8; size];
            let got = f.read_into(0, &mut buf).await?;
            f.close().await?;
            read_into.push(mib as f64 / t.elapsed().as_secs_f64());
            if got != data.len() || buf != data {
                return Err(format!("read_into: {got} of {} or wrong bytes", data.len()).into());
            }
        }
        // Into one buffer kept across reads, touched before the clock
        // starts (as `File.read_into` into a reused `bytearray`).
        let mut reused = vec![1u8; data.len()];
        let mut read_reused = Vec::new();
        for _ in 0..reads.max(1) {
            reused.fill(0);
            let t = Instant::now();
            let f = fs.open("/bench.bin", OpenOptions::new().read(true)).await?;
            let got = f.read_into(0, &mut reused).await?;
            f.close().await?;
            read_reused.push(mib as f64 / t.elapsed().as_secs_f64());
            if got != data.len() || reused != data {
                return Err(format!("read_into (reused): {got} of {} or wrong bytes", data.len()).into());
            }
        }
        drop(reused);
        let (read, read_into) = (median(&mut read), median(&mut read_into));
        let read_reused = median(&mut read_reused);
        let meta1 = metadata_rate(&fs, 1, secs).await?;
        let meta32 = metadata_rate(&fs, 32, secs).await?;
        fs.remove_file("/bench.bin").await?;
        println!(
            "{{\"write_mib_s\": {write:.1}, \"read_mib_s\": {read:.1}, \"read_into_mib_s\": {read_into:.1}, \"reused_mib_s\": {read_reused:.1}, \"metadata_1\": {meta1:.0}, \"metadata_32\": {meta32:.0}}}"
        );
        Ok(())
    })
}
