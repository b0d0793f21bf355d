//! The Rust side of `bench/bench.py`: the same workloads with the Rust
//! client against the same server, printed as one JSON object.
//!
//! ```text
//! cargo run --release -p ninefold-python --example bench_rust -- TARGET [MIB] [SECS]
//! ```
//!
//! Rows: `Client::write` and `Client::read` of a whole file; `read_into`,
//! the whole file read the way the Python binding's `read` does it (open,
//! fstat, a buffer of that size, `File::read_into`: pipelined Treads, each
//! reply copied once into the buffer); and `Client::metadata` calls per
//! second from 1 and 32 tasks.

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

fn main() -> Res<()> {
    let mut args = std::env::args().skip(1);
    let target = args.next().ok_or("usage: bench_rust TARGET [MIB] [SECS]")?;
    let mib: usize = args.next().map_or(Ok(256), |s| s.parse())?;
    let secs: f64 = args.next().map_or(Ok(3.0), |s| s.parse())?;
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    rt.block_on(async {
        let fs = Client::connect_with(&target, ConnectOptions::new()).await?;
        let data = vec![7u8; mib << 20];
        let t = Instant::now();
        fs.write("/bench.bin", &data).await?;
        let write = mib as f64 / t.elapsed().as_secs_f64();
        let t = Instant::now();
        let back = fs.read("/bench.bin").await?;
        let read = mib as f64 / t.elapsed().as_secs_f64();
        if back.len() != data.len() {
            return Err(format!("short read: {} of {}", back.len(), data.len()).into());
        }
        drop(back);
        let t = Instant::now();
        let f = fs.open("/bench.bin", OpenOptions::new().read(true)).await?;
        let size = usize::try_from(f.metadata().await?.size)?;
        let mut buf = vec![0u8; size];
        let got = f.read_into(0, &mut buf).await?;
        f.close().await?;
        let read_into = mib as f64 / t.elapsed().as_secs_f64();
        if got != data.len() || buf != data {
            return Err(format!("read_into: {got} of {} or wrong bytes", data.len()).into());
        }
        drop(buf);
        let meta1 = metadata_rate(&fs, 1, secs).await?;
        let meta32 = metadata_rate(&fs, 32, secs).await?;
        fs.remove_file("/bench.bin").await?;
        println!(
            "{{\"write_mib_s\": {write:.1}, \"read_mib_s\": {read:.1}, \"read_into_mib_s\": {read_into:.1}, \"metadata_1\": {meta1:.0}, \"metadata_32\": {meta32:.0}}}"
        );
        Ok(())
    })
}
