//! Measures whole-file write and read throughput and small-op latency
//! against one 9P server, with the CPU time this process spent on each
//! bulk phase (all threads, from `/proc/self/stat`).
//!
//! `cargo run --release -p ninefold-client --example throughput -- TARGET ANAME [MIB] [MSIZE]`
//!
//! The write is `Client::write` of a `MIB` MiB buffer into a new file, the
//! read `Client::read` of it back (compared byte for byte outside the
//! timing). `scripts/bench.sh` runs it against each server for the client
//! rows, and runs an older build of it beside this one for before/after
//! ratios (the first three arguments are what every build accepts).

use std::time::Instant;

use ninefold_client::{Client, ConnectOptions};

/// User + system CPU time of this process so far, in milliseconds (0 where
/// `/proc` is missing).
fn cpu_ms() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else { return 0.0 };
    // Fields after the command name (which may hold spaces): utime and
    // stime are the 12th and 13th after the closing parenthesis.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    // USER_HZ is 100 on every Linux target.
    (ticks(11) + ticks(12)) * 10.0
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let (Some(target), Some(aname)) = (args.next(), args.next()) else {
        anyhow::bail!("usage: throughput TARGET ANAME [MIB] [MSIZE]");
    };
    let mib: usize = args.next().map(|s| s.parse()).transpose()?.unwrap_or(256);
    let mut opts = ConnectOptions::new().aname(aname).uid(0).gid(0);
    if let Some(msize) = args.next() {
        opts = opts.msize(msize.parse()?);
    }
    let fs = Client::connect_with(&target, opts).await?;
    let caps = fs.capabilities();
    let data: Vec<u8> = (0..mib << 20).map(|i| (i % 251) as u8).collect();

    let (t, c) = (Instant::now(), cpu_ms());
    fs.write("/nf-throughput.bin", &data).await?;
    let (w, wc) = (t.elapsed().as_secs_f64(), cpu_ms() - c);
    let (t, c) = (Instant::now(), cpu_ms());
    let back = fs.read("/nf-throughput.bin").await?;
    let (r, rc) = (t.elapsed().as_secs_f64(), cpu_ms() - c);
    anyhow::ensure!(back.len() == data.len(), "short read: {} of {}", back.len(), data.len());
    anyhow::ensure!(back[..] == data[..], "read back other bytes than were written");
    drop(back);

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

    println!("msize {} (chunk {} B) {}", caps.msize, caps.max_read_chunk, caps.dialect.version());
    println!("write {mib} MiB: {:.0} MiB/s ({wc:.0} ms CPU)", mib as f64 / w);
    println!("read  {mib} MiB: {:.0} MiB/s ({rc:.0} ms CPU)", mib as f64 / r);
    println!("stat: {stat_us:.0} us sequential; {par:.0} stat/s with 8 tasks");
    Ok(())
}
