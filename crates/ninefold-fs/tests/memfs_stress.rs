//! memfs: many tasks on several threads mixing every namespace
//! operation; nothing may deadlock and the counts must add up.

mod memfs_util;

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use memfs_util::*;
use ninefold_proto::{OpenFlags, UnlinkatFlags};
use ninefold_server::Node;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn mixed_operations_do_not_deadlock() {
    let fs = fs();
    let root = fs.root();
    let dirs: Vec<Arc<dyn Node>> = {
        let mut v = Vec::new();
        for i in 0..4 {
            v.push(mkdir(&root, &format!("d{i}")).await);
        }
        v
    };
    let mut tasks = Vec::new();
    for t in 0..8u64 {
        let root = root.clone();
        let dirs = dirs.clone();
        tasks.push(tokio::spawn(async move {
            let mut x = t.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
            for _ in 0..2000 {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                let a = &dirs[(x % 4) as usize];
                let b = &dirs[((x >> 8) % 4) as usize];
                let name = format!("n{}", (x >> 16) % 16);
                let other = format!("n{}", (x >> 24) % 16);
                let _ = match (x >> 32) % 9 {
                    0 => a
                        .create(&su(), name.as_bytes(), OpenFlags::RDWR, 0o644, 0)
                        .await
                        .map(|_| ()),
                    1 => a.mkdir(&su(), name.as_bytes(), 0o755, 0).await.map(|_| ()),
                    2 => a.unlink(&su(), name.as_bytes(), UnlinkatFlags::empty()).await,
                    3 => a.unlink(&su(), name.as_bytes(), UnlinkatFlags::REMOVEDIR).await,
                    4 => a.rename(&su(), name.as_bytes(), b, other.as_bytes()).await,
                    5 => match a.lookup(&su(), name.as_bytes()).await {
                        Ok(n) if !n.qid().is_dir() => b.link(&su(), &n, other.as_bytes()).await,
                        Ok(n) => n.mkdir(&su(), b"sub", 0o755, 0).await.map(|_| ()),
                        Err(e) => Err(e),
                    },
                    6 => match a.lookup(&su(), name.as_bytes()).await {
                        Ok(n) if !n.qid().is_dir() => {
                            n.write(&su(), 0, Bytes::from_static(b"data")).await.map(|_| ())
                        }
                        Ok(n) => n.rename(&su(), b"sub", &root, other.as_bytes()).await,
                        Err(e) => Err(e),
                    },
                    7 => {
                        let _ = page(a, 0, usize::MAX);
                        Ok(())
                    }
                    _ => root.rename(&su(), name.as_bytes(), a, other.as_bytes()).await,
                };
            }
        }));
    }
    let all = async {
        for t in tasks {
            t.await.unwrap();
        }
    };
    tokio::time::timeout(Duration::from_secs(30), all).await.expect("deadlock");
    // Link counts of every directory agree with its listing.
    for d in &dirs {
        let subdirs = {
            let mut n = 0;
            mem(d)
                .list_from(2, |q, _, _, _| {
                    n += u64::from(q.is_dir());
                    true
                })
                .unwrap();
            n
        };
        assert_eq!(attr(d).await.nlink, 2 + subdirs);
    }
}
