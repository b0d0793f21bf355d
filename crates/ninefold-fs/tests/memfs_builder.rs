//! memfs: the builder.

mod memfs_util;

use std::sync::Arc;

use memfs_util::*;
use ninefold_fs::memfs::{BuildError, MemFs};
use ninefold_fs::synthetic::{GeneratedFile, ZeroFile};
use ninefold_proto::{DirentType, Errno, S_IFCHR, S_IFDIR, S_IFIFO, S_IFLNK, S_IFMT, S_IFREG};

#[tokio::test]
async fn builds_nested_heterogeneous_tree() {
    let fs = MemFs::builder()
        .root_mode(0o700)
        .file("etc/motd", "hi\n")
        .file_mode("bin/tool", "#!/bin/sh\n", 0o755)
        .static_file("etc/static", "fixed")
        .dir_mode("tmp", 0o1777)
        .dir_with("home", |b| b.owner(1000, 100).dir("alice").file("alice/notes", "n"))
        .symlink("motd", "etc/motd")
        .fifo("run/fifo", 0o600)
        .special("dev/null", S_IFCHR | 0o666, 1, 3)
        .node_with("dev/zero", |qids| Arc::new(ZeroFile::new(qids.next(Default::default()))))
        .node_with("proc/gen", |qids| Arc::new(GeneratedFile::new(qids, || "g".into())))
        .build()
        .unwrap();
    let root = fs.root();
    assert_eq!(attr(&root).await.mode, S_IFDIR | 0o700);
    let etc = lookup(&root, "etc").await.unwrap();
    assert_eq!(read_all(&lookup(&etc, "motd").await.unwrap()).await, b"hi\n");
    assert_eq!(read_all(&lookup(&etc, "static").await.unwrap()).await, b"fixed");
    let tool = lookup(&lookup(&root, "bin").await.unwrap(), "tool").await.unwrap();
    assert_eq!(attr(&tool).await.mode, S_IFREG | 0o755);
    assert_eq!(attr(&lookup(&root, "tmp").await.unwrap()).await.mode, S_IFDIR | 0o1777);
    let home = lookup(&root, "home").await.unwrap();
    let alice = lookup(&home, "alice").await.unwrap();
    let a = attr(&alice).await;
    assert_eq!((a.uid, a.gid), (1000, 100));
    let notes = lookup(&alice, "notes").await.unwrap();
    assert_eq!(attr(&notes).await.uid, 1000);
    assert_eq!(attr(&root).await.nlink, 2 + 7);
    let motd = lookup(&root, "motd").await.unwrap();
    assert_eq!(attr(&motd).await.mode & S_IFMT, S_IFLNK);
    let run = lookup(&root, "run").await.unwrap();
    assert_eq!(attr(&lookup(&run, "fifo").await.unwrap()).await.mode, S_IFIFO | 0o600);
    let dev = lookup(&root, "dev").await.unwrap();
    assert_eq!(attr(&lookup(&dev, "null").await.unwrap()).await.rdev, 0x103);
    // Foreign nodes are listed with a type from their qid.
    let mut types = Vec::new();
    mem(&dev)
        .list_from(2, |_, _, ty, name| {
            types.push((String::from_utf8_lossy(name).into_owned(), ty));
            true
        })
        .unwrap();
    assert_eq!(types, [("null".into(), DirentType::CHR), ("zero".into(), DirentType::REG)]);
    // The root was built with permissions on: others may not list it.
    assert_eq!(root.lookup(&user(5), b"etc").await.unwrap_err(), Errno::EACCES);
    // Every qid path is distinct.
    let zero = lookup(&dev, "zero").await.unwrap();
    assert_ne!(zero.qid().path, root.qid().path);
    assert_ne!(zero.qid().path, dev.qid().path);
}

#[test]
fn build_errors() {
    let e = MemFs::builder().file("a", "").file("a", "").build().unwrap_err();
    assert_eq!(e, BuildError::Exists("a".into()));
    let e = MemFs::builder().file("a", "").file("a/b", "").build().unwrap_err();
    assert_eq!(e, BuildError::NotADirectory("a/b".into()));
    let e = MemFs::builder().dir("../x").build().unwrap_err();
    assert_eq!(e, BuildError::InvalidPath("../x".into()));
    let e = MemFs::builder().file("", "").build().unwrap_err();
    assert_eq!(e, BuildError::InvalidPath("".into()));
    let e = MemFs::builder().special("x", 0o644, 0, 0).build().unwrap_err();
    assert!(matches!(e, BuildError::BadMode { .. }));
    let e = MemFs::builder().max_file_size(2).file("x", "abc").build().unwrap_err();
    assert_eq!(e, BuildError::Limit { path: "x".into(), errno: Errno::EFBIG });
    // A directory declared after being implied by a deeper path.
    let fs = MemFs::builder().file("d/f", "").dir_mode("d", 0o700).build().unwrap();
    assert_eq!(fs.inodes_used(), 3);
}
