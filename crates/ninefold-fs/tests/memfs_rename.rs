//! memfs: rename in all its forms.

mod memfs_util;

use std::sync::Arc;
use std::time::Duration;

use memfs_util::*;
use ninefold_fs::memfs::MemFs;
use ninefold_proto::{Errno, QidType, UnlinkatFlags};
use ninefold_server::Node;

#[tokio::test]
async fn rename_within_and_across_directories() {
    let root = fs().root();
    let (f, _) = create(&root, "a").await;
    write(&f, 0, b"data").await;
    root.rename(&su(), b"a", &root, b"b").await.unwrap();
    assert_eq!(lookup(&root, "a").await.unwrap_err(), Errno::ENOENT);
    assert!(Arc::ptr_eq(&lookup(&root, "b").await.unwrap(), &f));
    let d = mkdir(&root, "d").await;
    let before = attr(&d).await;
    tokio::time::sleep(Duration::from_millis(5)).await;
    root.rename(&su(), b"b", &d, b"c").await.unwrap();
    assert_eq!(read_all(&lookup(&d, "c").await.unwrap()).await, b"data");
    let after = attr(&d).await;
    assert!((after.mtime_sec, after.mtime_nsec) > (before.mtime_sec, before.mtime_nsec));
    // Renaming onto itself is a no-op.
    d.rename(&su(), b"c", &d, b"c").await.unwrap();
    assert!(lookup(&d, "c").await.is_ok());
    assert_eq!(root.rename(&su(), b"missing", &d, b"x").await.unwrap_err(), Errno::ENOENT);
}

#[tokio::test]
async fn rename_replaces_file_atomically() {
    let root = fs().root();
    let (a, _) = create(&root, "a").await;
    let (b, _) = create(&root, "b").await;
    write(&a, 0, b"new").await;
    write(&b, 0, b"old").await;
    root.rename(&su(), b"a", &root, b"b").await.unwrap();
    assert!(Arc::ptr_eq(&lookup(&root, "b").await.unwrap(), &a));
    // The replaced file lives on through its reference, unlinked.
    assert_eq!(attr(&b).await.nlink, 0);
    assert_eq!(read_all(&b).await, b"old");
    assert_eq!(names(&root), [".", "..", "b"]);
}

#[tokio::test]
async fn rename_hard_links_of_one_object_is_a_no_op() {
    let root = fs().root();
    let (a, _) = create(&root, "a").await;
    root.link(&su(), &a, b"b").await.unwrap();
    root.rename(&su(), b"a", &root, b"b").await.unwrap();
    assert_eq!(names(&root).len(), 4);
    assert_eq!(attr(&a).await.nlink, 2);
}

#[tokio::test]
async fn rename_type_mismatches_and_nonempty_targets() {
    let root = fs().root();
    let d = mkdir(&root, "d").await;
    let e = mkdir(&root, "e").await;
    create(&root, "f").await;
    assert_eq!(root.rename(&su(), b"f", &root, b"d").await.unwrap_err(), Errno::EISDIR);
    assert_eq!(root.rename(&su(), b"d", &root, b"f").await.unwrap_err(), Errno::ENOTDIR);
    create(&e, "x").await;
    assert_eq!(root.rename(&su(), b"d", &root, b"e").await.unwrap_err(), Errno::ENOTEMPTY);
    // Onto an empty directory: replaced, which is then removed.
    e.unlink(&su(), b"x", UnlinkatFlags::empty()).await.unwrap();
    root.rename(&su(), b"d", &root, b"e").await.unwrap();
    assert!(Arc::ptr_eq(&lookup(&root, "e").await.unwrap(), &d));
    assert_eq!(attr(&e).await.nlink, 0);
    assert_eq!(attr(&root).await.nlink, 3);
}

#[tokio::test]
async fn rename_directory_into_its_own_subtree_is_einval() {
    let root = fs().root();
    let a = mkdir(&root, "a").await;
    let b = mkdir(&a, "b").await;
    let c = mkdir(&b, "c").await;
    assert_eq!(root.rename(&su(), b"a", &c, b"a").await.unwrap_err(), Errno::EINVAL);
    assert_eq!(root.rename(&su(), b"a", &a, b"x").await.unwrap_err(), Errno::EINVAL);
    // Moving the old directory's parent onto the old directory itself.
    create(&b, "f").await;
    assert_eq!(b.rename(&su(), b"c", &a, b"b").await.unwrap_err(), Errno::ENOTEMPTY);
    // Moving upwards is fine, and ".." follows.
    b.rename(&su(), b"c", &root, b"c").await.unwrap();
    let listing = page(&c, 0, 2);
    assert_eq!(listing[1].0, "..");
    let mut parent_qid = None;
    mem(&c)
        .list_from(1, |qid, _, _, _| {
            parent_qid = Some(qid);
            false
        })
        .unwrap();
    assert_eq!(parent_qid.unwrap().path, root.qid().path);
    assert_eq!(attr(&b).await.nlink, 2);
    assert_eq!(attr(&root).await.nlink, 4);
}

#[tokio::test]
async fn rename_to_foreign_or_other_fs_is_exdev() {
    let fs = fs();
    let root = fs.root();
    create(&root, "f").await;
    let other = MemFs::new().root();
    assert_eq!(root.rename(&su(), b"f", &other, b"f").await.unwrap_err(), Errno::EXDEV);
    let foreign: Arc<dyn Node> =
        Arc::new(ninefold_fs::synthetic::NullFile::new(fs.qids().next(QidType::FILE)));
    assert_eq!(root.rename(&su(), b"f", &foreign, b"f").await.unwrap_err(), Errno::EXDEV);
    let (g, _) = create(&root, "g").await;
    assert_eq!(root.rename(&su(), b"f", &g, b"x").await.unwrap_err(), Errno::ENOTDIR);
}

#[tokio::test]
async fn rename_foreign_children() {
    let fs = MemFs::builder().static_file("s", "static").dir("d").build().unwrap();
    let root = fs.root();
    let d = lookup(&root, "d").await.unwrap();
    root.rename(&su(), b"s", &d, b"s2").await.unwrap();
    let s = lookup(&d, "s2").await.unwrap();
    assert_eq!(read_all(&s).await, b"static");
    d.unlink(&su(), b"s2", UnlinkatFlags::empty()).await.unwrap();
    assert_eq!(names(&d), [".", ".."]);
}

#[tokio::test]
async fn concurrent_renames_do_not_deadlock_or_lose_entries() {
    let root = fs().root();
    let a = mkdir(&root, "a").await;
    let b = mkdir(&root, "b").await;
    for i in 0..50 {
        create(&a, &format!("f{i}")).await;
    }
    let mut tasks = Vec::new();
    for t in 0..4 {
        let (a, b) = (a.clone(), b.clone());
        tasks.push(tokio::spawn(async move {
            for i in 0..50 {
                let name = format!("f{i}");
                let (from, to) = if t % 2 == 0 { (&a, &b) } else { (&b, &a) };
                let _ = from.rename(&su(), name.as_bytes(), to, name.as_bytes()).await;
                let _ = from.rename(&su(), b"nope", to, b"x").await;
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    assert_eq!(names(&a).len() + names(&b).len() - 4, 50);
}
