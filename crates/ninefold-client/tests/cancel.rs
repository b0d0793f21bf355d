//! Cancel safety: public futures dropped at random points (by tiny
//! timeouts) leak no fid and no tag; the session keeps working. Plus the
//! fid-recycling soak: bounded fid numbers over many open/close cycles.

mod support;

use std::sync::Arc;
use std::time::Duration;

use ninefold_client::{Client, OpenOptions, Session};

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

async fn settled(s: &Session, fids: usize) -> bool {
    for _ in 0..1000 {
        let st = s.stats();
        if st.fids_live == fids && st.tags_in_use == 0 {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    eprintln!("not settled: {:?}, want {fids} fids", s.stats());
    false
}

async fn one_op(fs: &Client, file: &ninefold_client::File, op: u64, i: u64) {
    let name = format!("/w/f{}", i % 8);
    let _ = match op % 12 {
        0 => fs.read("/w/big").await.map(|_| ()),
        1 => fs.write(&name, vec![1u8; 200_000]).await,
        2 => fs.stat("/w/big").await.map(|_| ()),
        3 => fs.open(&name, OpenOptions::new().read(true)).await.map(|_| ()),
        4 => fs.create_dir(format!("/w/d{i}"), 0o755).await.map(|_| ()),
        5 => fs.read_dir("/w").await.map(|_| ()),
        6 => file.read_at(0, 300_000).await.map(|_| ()),
        7 => file.write_at(i % 1000, &[3u8; 150_000]).await,
        8 => fs.metadata("/w/link").await.map(|_| ()),
        9 => fs.remove_dir_all(format!("/w/d{}", i.wrapping_sub(3))).await,
        10 => fs.canonicalize("/w/link").await.map(|_| ()),
        _ => {
            async {
                let d = fs.open_dir("/w").await?;
                d.next_batch(Some(5)).await?;
                d.metadata_at("big").await.map(|_| ())
            }
            .await
        }
    };
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropped_futures_leak_nothing() {
    for_each_server!(srv => {
        let seed = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos() as u64 | 1;
        eprintln!("cancel seed {seed}");
        let mut rng = Rng(seed);
        let fs = srv.client().await;
        srv.host_mkdir_p("w").await;
        srv.host_write("w/big", vec![5u8; 1_000_000]).await;
        srv.host_symlink("big", "w/link").await;
        let file = fs.open("/w/rw", OpenOptions::new().read(true).write(true).create(true)).await.unwrap();
        let s = fs.session().clone();
        assert!(settled(&s, 2).await, "baseline: root + file");

        let mut cancelled = 0;
        for i in 0..600u64 {
            let op = rng.next();
            let budget = Duration::from_micros(rng.next() % 3000);
            if tokio::time::timeout(budget, one_op(&fs, &file, op, i)).await.is_err() {
                cancelled += 1;
            }
            if i % 50 == 49 {
                assert!(settled(&s, 2).await, "leak after {i} ops");
            }
        }
        // concurrent cancellations
        let fs2 = Arc::new(fs.clone());
        let file2 = Arc::new(file.clone());
        let mut tasks = Vec::new();
        for t in 0..32u64 {
            let (fs, file) = (fs2.clone(), file2.clone());
            let mut rng = Rng(seed.wrapping_add(t * 7919) | 1);
            tasks.push(tokio::spawn(async move {
                for i in 0..20u64 {
                    let budget = Duration::from_micros(rng.next() % 4000);
                    let _ = tokio::time::timeout(budget, one_op(&fs, &file, rng.next(), t * 100 + i)).await;
                }
            }));
        }
        for t in tasks { t.await.unwrap(); }
        assert!(settled(&s, 2).await, "leak after concurrent cancellations");
        let st = s.stats();
        eprintln!("cancelled {cancelled}/600 sequential ops; {st:?}");
        assert!(cancelled > 10, "the timeouts must actually cancel work ({cancelled})");
        assert!(st.flushes_sent > 0, "abandoned requests are flushed");
        assert!(!st.dead);
        // still fully usable
        fs.write("/w/after", b"ok").await.unwrap();
        assert_eq!(&fs.read("/w/after").await.unwrap()[..], b"ok");
        assert_eq!(srv.host_read("w/after").await, b"ok");
        drop((file, file2, fs2));
        assert!(settled(&s, 1).await);
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fid_numbers_stay_bounded_over_open_close_cycles() {
    let cycles: u64 = if std::env::var_os("NINEFOLD_SOAK").is_some() { 1_000_000 } else { 10_000 };
    for_each_server!(srv => {
        let fs = srv.client().await;
        srv.host_write("soak", b"x").await;
        let s = fs.session().clone();
        let start = std::time::Instant::now();
        let workers = 4;
        let mut tasks = Vec::new();
        for _ in 0..workers {
            let fs = fs.clone();
            tasks.push(tokio::spawn(async move {
                for _ in 0..cycles / workers {
                    let f = fs.open("/soak", OpenOptions::new().read(true)).await.unwrap();
                    f.close().await.unwrap();
                }
            }));
        }
        for t in tasks { t.await.unwrap(); }
        assert!(settled(&s, 1).await);
        let st = s.stats();
        let secs = start.elapsed().as_secs_f64();
        eprintln!("{cycles} open/close cycles in {secs:.1}s ({:.0}/s); {st:?}", cycles as f64 / secs);
        assert!(st.fid_high_water <= 256, "fid numbers must be recycled: {st:?}");
    });
}
