//! memfs: readdir cookies, paging and concurrent changes.

mod memfs_util;

use std::collections::HashSet;

use memfs_util::*;
use ninefold_proto::{DirentType, UnlinkatFlags};
use ninefold_server::DirSink;

#[tokio::test]
async fn empty_directory_lists_dot_and_dotdot_then_ends() {
    let root = fs().root();
    let got = page(&root, 0, usize::MAX);
    assert_eq!(got, [(".".to_string(), 1), ("..".to_string(), 2)]);
    assert!(page(&root, 2, usize::MAX).is_empty());
    // Through a real sink.
    let mut sink = DirSink::new(4096);
    root.readdir(&su(), 0, &mut sink).await.unwrap();
    assert_eq!(sink.entries(), 2);
    let mut sink = DirSink::new(4096);
    root.readdir(&su(), 2, &mut sink).await.unwrap();
    assert!(sink.is_empty());
}

#[tokio::test]
async fn cookies_never_zero_and_strictly_increase() {
    let root = fs().root();
    for i in 0..20 {
        create(&root, &format!("f{i}")).await;
    }
    mkdir(&root, "sub").await;
    let all = page(&root, 0, usize::MAX);
    assert_eq!(all.len(), 23);
    assert!(all.iter().all(|(_, c)| *c != 0));
    assert!(all.windows(2).all(|w| w[0].1 < w[1].1));
    let mut types = Vec::new();
    mem(&root)
        .list_from(0, |_, _, ty, name| {
            types.push((String::from_utf8_lossy(name).into_owned(), ty));
            true
        })
        .unwrap();
    assert!(types.contains(&("sub".into(), DirentType::DIR)));
    assert!(types.contains(&("f3".into(), DirentType::REG)));
}

#[tokio::test]
async fn paging_with_small_sinks_returns_every_entry_once() {
    let root = fs().root();
    for i in 0..100 {
        create(&root, &format!("file-{i:03}")).await;
    }
    // Real DirSinks of a size holding a few entries each.
    let mut offset = 0;
    let mut pages = 0;
    let mut count = 0;
    loop {
        let mut sink = DirSink::new(120);
        root.readdir(&su(), offset, &mut sink).await.unwrap();
        if sink.is_empty() {
            break;
        }
        count += sink.entries();
        pages += 1;
        // The cookie of the last entry taken: find it through list_from.
        let p = page(&root, offset, sink.entries());
        offset = p.last().unwrap().1;
    }
    assert_eq!(count, 102);
    assert!(pages > 20);
}

#[tokio::test]
async fn concurrent_inserts_and_deletes_between_pages() {
    let root = fs().root();
    for i in 0..60 {
        create(&root, &format!("stable-{i}")).await;
        create(&root, &format!("doomed-{i}")).await;
    }
    let mut seen = Vec::new();
    let mut offset = 0;
    let mut round = 0;
    loop {
        let p = page(&root, offset, 7);
        if p.is_empty() {
            break;
        }
        offset = p.last().unwrap().1;
        seen.extend(p.into_iter().map(|(n, _)| n));
        // Between pages: delete some doomed entries, add new ones.
        for k in 0..3 {
            if round >= 20 {
                break;
            }
            let name = format!("doomed-{}", round * 3 + k);
            let _ = root.unlink(&su(), name.as_bytes(), UnlinkatFlags::empty()).await;
            create(&root, &format!("new-{round}-{k}")).await;
        }
        round += 1;
        assert!(round < 200, "listing does not end: {offset} {:?}", page(&root, offset, 7));
    }
    let unique: HashSet<&String> = seen.iter().collect();
    assert_eq!(unique.len(), seen.len(), "an entry repeated");
    for i in 0..60 {
        assert!(unique.contains(&format!("stable-{i}")), "stable-{i} lost");
    }
    assert!(unique.contains(&".".to_string()) && unique.contains(&"..".to_string()));
}

#[tokio::test]
async fn resuming_from_a_deleted_entrys_cookie_continues_after_it() {
    let root = fs().root();
    for n in ["a", "b", "c", "d"] {
        create(&root, n).await;
    }
    let first = page(&root, 0, 4); // ., .., a, b
    assert_eq!(first[3].0, "b");
    root.unlink(&su(), b"b", UnlinkatFlags::empty()).await.unwrap();
    root.unlink(&su(), b"c", UnlinkatFlags::empty()).await.unwrap();
    let rest = page(&root, first[3].1, usize::MAX);
    assert_eq!(rest.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>(), ["d"]);
}

#[tokio::test]
async fn readdir_racing_with_writers_on_threads() {
    let root = fs().root();
    for i in 0..200 {
        create(&root, &format!("keep{i}")).await;
    }
    let writer = {
        let root = root.clone();
        tokio::spawn(async move {
            for i in 0..300 {
                let n = format!("tmp{i}");
                create(&root, &n).await;
                if i % 2 == 0 {
                    root.unlink(&su(), n.as_bytes(), UnlinkatFlags::empty()).await.unwrap();
                }
                tokio::task::yield_now().await;
            }
        })
    };
    for _ in 0..5 {
        let mut seen = HashSet::new();
        let mut offset = 0;
        loop {
            let p = page(&root, offset, 16);
            if p.is_empty() {
                break;
            }
            offset = p.last().unwrap().1;
            for (n, _) in p {
                assert!(seen.insert(n), "repeat");
            }
            tokio::task::yield_now().await;
        }
        assert!((0..200).all(|i| seen.contains(&format!("keep{i}"))));
    }
    writer.await.unwrap();
}
