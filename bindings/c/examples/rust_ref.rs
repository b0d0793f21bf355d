//! The Rust client doing what the Go benchmarks do, for side-by-side
//! numbers (bindings/go/bench_test.go runs it against the same server in
//! the same `go test -bench` run).
//!
//! ```text
//! rust_ref --target tcp://127.0.0.1:PORT [--aname A] --op write|read|stat \
//!          --path /bench.bin [--mib 256] [--iters 1]
//! ```
//! Prints `secs=<seconds for all iterations>`.

use std::time::Instant;

use ninefold_client::{Client, ConnectOptions};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (mut target, mut aname, mut op, mut path) =
        (String::new(), String::new(), String::new(), String::new());
    let (mut mib, mut iters) = (256usize, 1usize);
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let val = args.next().ok_or(format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--target" => target = val,
            "--aname" => aname = val,
            "--op" => op = val,
            "--path" => path = val,
            "--mib" => mib = val.parse()?,
            "--iters" => iters = val.parse()?,
            other => return Err(format!("unknown flag {other}").into()),
        }
    }
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    rt.block_on(async move {
        let fs = Client::connect_with(&target, ConnectOptions::new().aname(aname)).await?;
        let data = vec![0x5au8; mib << 20];
        if op == "read" || op == "stat" {
            fs.write(&path, &data).await?;
        }
        let t = Instant::now();
        for _ in 0..iters {
            match op.as_str() {
                "write" => fs.write(&path, &data).await?,
                "read" => {
                    let got = fs.read(&path).await?;
                    if got.len() != data.len() {
                        return Err(format!("short read: {}", got.len()).into());
                    }
                }
                "stat" => {
                    fs.stat(&path).await?;
                }
                other => return Err(format!("unknown op {other}").into()),
            }
        }
        println!("secs={}", t.elapsed().as_secs_f64());
        Ok::<(), Box<dyn std::error::Error>>(())
    })
}
