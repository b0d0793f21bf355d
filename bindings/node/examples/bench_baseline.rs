//! The Rust side of the Node-vs-Rust client benchmark: the same rows as
//! `bench/bench.mjs`, through `ninefold-client` directly (what the addon
//! wraps). `bench/run.sh` runs both against one `ninefold serve`.
//!
//! ```text
//! cargo run --release -p ninefold-node --example bench_baseline -- TARGET [--mib 256] [--secs 3]
//! ```
//! Prints one JSON object: write/read MiB/s, metadata x1/x32 stat/s.

use std::time::{Duration, Instant};

use anyhow::Context;
use ninefold_client::Client;

async fn metadata(fs: &Client, tasks: usize, secs: f64) -> anyhow::Result<f64> {
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
    Ok(total as f64 / start.elapsed().as_secs_f64())
}

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let target = args.first().context("usage: bench_baseline TARGET [--mib N] [--secs S]")?.clone();
    let opt = |name: &str, d: f64| -> anyhow::Result<f64> {
        match args.iter().position(|a| a == name) {
            Some(i) => Ok(args.get(i + 1).context("missing value")?.parse()?),
            None => Ok(d),
        }
    };
    let mib = opt("--mib", 256.0)? as usize;
    let secs = opt("--secs", 3.0)?;
    // The same runtime shape as the addon's: a multi-threaded tokio runtime.
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    rt.block_on(async {
        let fs = Client::connect(&target).await?;
        let data: Vec<u8> = (0..mib << 20).map(|i| (i % 251) as u8).collect();
        fs.create_dir_all("/meta", 0o755).await?;
        fs.write("/meta/target", b"x").await?;
        let t = Instant::now();
        fs.write("/bench.bin", &data).await?;
        let write = mib as f64 / t.elapsed().as_secs_f64();
        let t = Instant::now();
        let back = fs.read("/bench.bin").await?;
        let read = mib as f64 / t.elapsed().as_secs_f64();
        anyhow::ensure!(back.len() == data.len(), "short read");
        drop(back);
        let meta1 = metadata(&fs, 1, secs).await?;
        let meta32 = metadata(&fs, 32, secs).await?;
        fs.remove_file("/bench.bin").await?;
        println!("{{\"write\":{write},\"read\":{read},\"meta1\":{meta1},\"meta32\":{meta32}}}");
        anyhow::Ok(())
    })
}
