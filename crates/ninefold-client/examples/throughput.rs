//! Measures whole-file write and read throughput and small-op latency
//! against a 9P2000.L server.
//!
//! `cargo run --release -p ninefold-client --example throughput -- TARGET ANAME [MIB]`

use std::time::Instant;

use ninefold_client::{Client, ConnectOptions};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let (Some(target), Some(aname)) = (args.next(), args.next()) else {
        anyhow::bail!("usage: throughput TARGET ANAME [MIB]");
    };
    let mib: usize = args.next().map(|s| s.parse()).transpose()?.unwrap_or(256);
    let fs =
        Client::connect_with(&target, ConnectOptions::new().aname(aname).uid(0).gid(0)).await?;
    let caps = fs.capabilities();
    let data = vec![0x5au8; mib << 20];

    let t = Instant::now();
    fs.write("/nf-throughput.bin", &data).await?;
    let w = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let back = fs.read("/nf-throughput.bin").await?;
    let r = t.elapsed().as_secs_f64();
    anyhow::ensure!(back.len() == data.len(), "short read");

    let n = 2000;
    let t = Instant::now();
    for _ in 0..n {
        fs.stat("/nf-throughput.bin").await?;
    }
    let stat_us = t.elapsed().as_secs_f64() * 1e6 / f64::from(n);
    let t = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let fs = fs.clone();
        tasks.push(tokio::spawn(async move {
            for _ in 0..n / 8 {
                fs.stat("/nf-throughput.bin").await?;
            }
            Ok::<_, ninefold_client::Error>(())
        }));
    }
    for t in tasks {
        t.await??;
    }
    let par = f64::from(n) / t.elapsed().as_secs_f64();
    fs.remove_file("/nf-throughput.bin").await?;

    println!("msize {} (chunk {} B)", caps.msize, caps.max_read_chunk);
    println!("write {mib} MiB: {:.0} MiB/s", mib as f64 / w);
    println!("read  {mib} MiB: {:.0} MiB/s", mib as f64 / r);
    println!("stat: {stat_us:.0} us sequential; {par:.0} stat/s with 8 tasks");
    Ok(())
}
