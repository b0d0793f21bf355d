//! memfs: create family, read/write, unlink, open-unlinked, setattr,
//! timestamps, link counts, qids and statfs.

mod memfs_util;

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use memfs_util::*;
use ninefold_fs::memfs::{FileHandle, MemFs};
use ninefold_proto::{
    Errno, OpenFlags, QidType, SetattrMask, UnlinkatFlags, S_IFBLK, S_IFCHR, S_IFDIR, S_IFIFO,
    S_IFLNK, S_IFMT, S_IFREG, S_IFSOCK,
};
use ninefold_server::Node;

#[tokio::test]
async fn create_write_read_roundtrip() {
    let fs = fs();
    let root = fs.root();
    let (f, opened) = create(&root, "a").await;
    assert!(opened.handle.is_some());
    assert_eq!(write(&f, 0, b"hello").await, 5);
    assert_eq!(write(&f, 3, b"p, world").await, 8);
    assert_eq!(read_all(&f).await, b"help, world");
    // Past the end: zero fill.
    write(&f, 15, b"!").await;
    assert_eq!(read_all(&f).await, b"help, world\0\0\0\0!");
    assert_eq!(f.read(&su(), 100, 10).await.unwrap(), Bytes::new());
    let a = attr(&f).await;
    assert_eq!(a.size, 16);
    assert_eq!(a.mode, S_IFREG | 0o644);
    assert_eq!(a.nlink, 1);
    assert_eq!(a.qid.ty, QidType::FILE);
    assert_eq!(fs.bytes_used(), 16);
    assert!(Arc::ptr_eq(&lookup(&root, "a").await.unwrap(), &f));
}

#[tokio::test]
async fn create_existing_is_eexist_and_lookup_missing_is_enoent() {
    let root = fs().root();
    create(&root, "a").await;
    // EEXIST with or without EXCL: opening the existing file instead is the
    // server's part of Tlcreate.
    for flags in [OpenFlags::RDWR, OpenFlags::RDWR | OpenFlags::CREATE | OpenFlags::EXCL] {
        let err = root.create(&su(), b"a", flags, 0o644, 0).await.unwrap_err();
        assert_eq!(err, Errno::EEXIST);
    }
    assert_eq!(root.mkdir(&su(), b"a", 0o755, 0).await.unwrap_err(), Errno::EEXIST);
    assert_eq!(lookup(&root, "b").await.unwrap_err(), Errno::ENOENT);
    let long = "x".repeat(256);
    assert_eq!(
        root.mkdir(&su(), long.as_bytes(), 0o755, 0).await.unwrap_err(),
        Errno::ENAMETOOLONG
    );
}

#[tokio::test]
async fn directory_ops_on_files_are_enotdir() {
    let root = fs().root();
    let (f, _) = create(&root, "f").await;
    assert_eq!(f.lookup(&su(), b"x").await.unwrap_err(), Errno::ENOTDIR);
    assert_eq!(f.mkdir(&su(), b"x", 0o755, 0).await.unwrap_err(), Errno::ENOTDIR);
    let d = mkdir(&root, "d").await;
    assert_eq!(d.read(&su(), 0, 10).await.unwrap_err(), Errno::EISDIR);
    assert_eq!(d.write(&su(), 0, Bytes::from_static(b"x")).await.unwrap_err(), Errno::EISDIR);
}

#[tokio::test]
async fn mkdir_nlink_and_parent_times() {
    let root = fs().root();
    let before = attr(&root).await;
    assert_eq!(before.nlink, 2);
    tokio::time::sleep(Duration::from_millis(5)).await;
    let d = mkdir(&root, "d").await;
    let after = attr(&root).await;
    assert_eq!(after.nlink, 3);
    assert!((after.mtime_sec, after.mtime_nsec) > (before.mtime_sec, before.mtime_nsec));
    assert!((after.ctime_sec, after.ctime_nsec) > (before.ctime_sec, before.ctime_nsec));
    let da = attr(&d).await;
    assert_eq!(da.mode, S_IFDIR | 0o755);
    assert_eq!(da.nlink, 2);
    assert!(da.qid.ty.contains(QidType::DIR));
    mkdir(&d, "e").await;
    assert_eq!(attr(&d).await.nlink, 3);
    d.unlink(&su(), b"e", UnlinkatFlags::REMOVEDIR).await.unwrap();
    assert_eq!(attr(&d).await.nlink, 2);
}

#[tokio::test]
async fn symlink_and_readlink() {
    let root = fs().root();
    let l = root.symlink(&su(), b"l", b"target/path", 0).await.unwrap();
    assert_eq!(l.readlink(&su()).await.unwrap(), Bytes::from_static(b"target/path"));
    let a = attr(&l).await;
    assert_eq!(a.mode, S_IFLNK | 0o777);
    assert_eq!(a.size, 11);
    assert!(a.qid.ty.contains(QidType::SYMLINK));
    assert_eq!(root.symlink(&su(), b"e", b"", 0).await.unwrap_err(), Errno::ENOENT);
    let (f, _) = create(&root, "f").await;
    assert_eq!(f.readlink(&su()).await.unwrap_err(), Errno::EINVAL);
}

#[tokio::test]
async fn mknod_every_type() {
    let root = fs().root();
    for (name, ty) in [
        ("fifo", S_IFIFO),
        ("sock", S_IFSOCK),
        ("chr", S_IFCHR),
        ("blk", S_IFBLK),
        ("reg", S_IFREG),
    ] {
        let n = root.mknod(&su(), name.as_bytes(), ty | 0o640, 4, 300, 7).await.unwrap();
        let a = attr(&n).await;
        assert_eq!(a.mode, ty | 0o640, "{name}");
        assert_eq!(a.gid, 7);
        if ty == S_IFCHR || ty == S_IFBLK {
            // new_encode_dev(4, 300)
            assert_eq!(a.rdev, (300 & 0xff) | (4 << 8) | ((300 & !0xff) << 12));
        } else {
            assert_eq!(a.rdev, 0);
        }
    }
    assert_eq!(root.mknod(&su(), b"d", S_IFDIR | 0o755, 0, 0, 0).await.unwrap_err(), Errno::EPERM);
    assert_eq!(root.mknod(&su(), b"x", 0o170000, 0, 0, 0).await.unwrap_err(), Errno::EINVAL);
    // Devices need the superuser.
    assert_eq!(
        root.mknod(&user(1000), b"c2", S_IFCHR | 0o600, 1, 3, 0).await.unwrap_err(),
        Errno::EPERM
    );
    root.mknod(&user(1000), b"p2", S_IFIFO | 0o600, 0, 0, 0).await.unwrap();
}

#[tokio::test]
async fn hard_links_count_and_share_content() {
    let fs = fs();
    let root = fs.root();
    let d = mkdir(&root, "d").await;
    let (f, _) = create(&root, "f").await;
    write(&f, 0, b"shared").await;
    tokio::time::sleep(Duration::from_millis(5)).await;
    let ctime0 = attr(&f).await.ctime_nsec + attr(&f).await.ctime_sec * 1_000_000_000;
    d.link(&su(), &f, b"g").await.unwrap();
    let a = attr(&f).await;
    assert_eq!(a.nlink, 2);
    assert!(a.ctime_sec * 1_000_000_000 + a.ctime_nsec > ctime0);
    let g = lookup(&d, "g").await.unwrap();
    assert_eq!(g.qid().path, f.qid().path);
    assert_eq!(read_all(&g).await, b"shared");
    assert_eq!(d.link(&su(), &f, b"g").await.unwrap_err(), Errno::EEXIST);
    assert_eq!(root.link(&su(), &d, b"dl").await.unwrap_err(), Errno::EPERM);
    root.unlink(&su(), b"f", UnlinkatFlags::empty()).await.unwrap();
    assert_eq!(attr(&g).await.nlink, 1);
    // Another filesystem's node, or a foreign node: EXDEV.
    let other = MemFs::new();
    let (o, _) = create(&other.root(), "o").await;
    assert_eq!(root.link(&su(), &o, b"o").await.unwrap_err(), Errno::EXDEV);
    let foreign: Arc<dyn Node> =
        Arc::new(ninefold_fs::synthetic::NullFile::new(fs.qids().next(QidType::FILE)));
    assert_eq!(root.link(&su(), &foreign, b"n").await.unwrap_err(), Errno::EXDEV);
}

#[tokio::test]
async fn unlink_rules() {
    let root = fs().root();
    let d = mkdir(&root, "d").await;
    create(&d, "f").await;
    create(&root, "f").await;
    assert_eq!(root.unlink(&su(), b"d", UnlinkatFlags::empty()).await.unwrap_err(), Errno::EISDIR);
    assert_eq!(
        root.unlink(&su(), b"f", UnlinkatFlags::REMOVEDIR).await.unwrap_err(),
        Errno::ENOTDIR
    );
    assert_eq!(
        root.unlink(&su(), b"d", UnlinkatFlags::REMOVEDIR).await.unwrap_err(),
        Errno::ENOTEMPTY
    );
    assert_eq!(
        root.unlink(&su(), b"nope", UnlinkatFlags::empty()).await.unwrap_err(),
        Errno::ENOENT
    );
    d.unlink(&su(), b"f", UnlinkatFlags::empty()).await.unwrap();
    root.unlink(&su(), b"d", UnlinkatFlags::REMOVEDIR).await.unwrap();
    assert_eq!(attr(&root).await.nlink, 2);
    // The removed directory: nlink 0, no lookups or creations.
    assert_eq!(attr(&d).await.nlink, 0);
    assert_eq!(lookup(&d, "f").await.unwrap_err(), Errno::ENOENT);
    assert_eq!(d.mkdir(&su(), b"x", 0o755, 0).await.unwrap_err(), Errno::ENOENT);
    assert!(names(&d).is_empty());
}

#[tokio::test]
async fn open_unlinked_file_stays_usable_until_last_reference() {
    let fs = fs();
    let root = fs.root();
    let (f, _) = create(&root, "f").await;
    write(&f, 0, &[7u8; 1000]).await;
    let inodes = fs.inodes_used();
    root.unlink(&su(), b"f", UnlinkatFlags::empty()).await.unwrap();
    assert_eq!(lookup(&root, "f").await.unwrap_err(), Errno::ENOENT);
    // The fid still reads, writes, truncates and stats.
    assert_eq!(read_all(&f).await, vec![7u8; 1000]);
    write(&f, 1000, b"more").await;
    f.setattr(&su(), &ninefold_proto::l::SetAttr { size: 10, ..setattr(SetattrMask::SIZE) })
        .await
        .unwrap();
    let a = attr(&f).await;
    assert_eq!((a.size, a.nlink), (10, 0));
    assert_eq!(fs.bytes_used(), 10);
    // Linking an unlinked file back is refused.
    assert_eq!(root.link(&su(), &f, b"back").await.unwrap_err(), Errno::ENOENT);
    drop(f);
    assert_eq!(fs.bytes_used(), 0);
    assert_eq!(fs.inodes_used(), inodes - 1);
}

#[tokio::test]
async fn open_trunc_and_append() {
    let root = fs().root();
    let (f, _) = create(&root, "f").await;
    write(&f, 0, b"0123456789").await;
    let v0 = f.qid().version;
    // O_TRUNC on open.
    let opened = f.open(&su(), OpenFlags::WRONLY | OpenFlags::TRUNC).await.unwrap();
    assert_eq!(attr(&f).await.size, 0);
    assert_ne!(f.qid().version, v0);
    let h = opened.handle.unwrap();
    h.write(&su(), &*f, 0, Bytes::from_static(b"abc")).await.unwrap();
    // O_APPEND: the offset is ignored.
    let opened = f.open(&su(), OpenFlags::WRONLY | OpenFlags::APPEND).await.unwrap();
    let h = opened.handle.unwrap();
    assert!(h.downcast_ref::<FileHandle>().unwrap().append());
    h.write(&su(), &*f, 0, Bytes::from_static(b"def")).await.unwrap();
    h.write(&su(), &*f, 1, Bytes::from_static(b"g")).await.unwrap();
    assert_eq!(read_all(&f).await, b"abcdefg");
    // O_TRUNC with read-only access leaves the file alone.
    f.open(&su(), OpenFlags::RDONLY).await.unwrap();
    assert_eq!(attr(&f).await.size, 7);
}

#[tokio::test]
async fn qid_version_changes_with_content_only() {
    let root = fs().root();
    let (f, _) = create(&root, "f").await;
    let v0 = f.qid().version;
    write(&f, 0, b"x").await;
    let v1 = f.qid().version;
    assert_ne!(v0, v1);
    f.read(&su(), 0, 10).await.unwrap();
    attr(&f).await;
    f.setattr(&su(), &ninefold_proto::l::SetAttr { mode: 0o600, ..setattr(SetattrMask::MODE) })
        .await
        .unwrap();
    assert_eq!(f.qid().version, v1);
    f.setattr(&su(), &ninefold_proto::l::SetAttr { size: 0, ..setattr(SetattrMask::SIZE) })
        .await
        .unwrap();
    assert_ne!(f.qid().version, v1);
    // Unique paths.
    let (g, _) = create(&root, "g").await;
    let d = mkdir(&root, "d").await;
    let mut paths = vec![root.qid().path, f.qid().path, g.qid().path, d.qid().path];
    paths.sort_unstable();
    paths.dedup();
    assert_eq!(paths.len(), 4);
}

#[tokio::test]
async fn setattr_chmod_chown_truncate_and_times() {
    let root = fs().root();
    let (f, _) = create(&root, "f").await;
    write(&f, 0, b"abcdef").await;
    let set = |s: ninefold_proto::l::SetAttr| s;
    f.setattr(
        &su(),
        &set(ninefold_proto::l::SetAttr { mode: 0o4755, ..setattr(SetattrMask::MODE) }),
    )
    .await
    .unwrap();
    assert_eq!(attr(&f).await.mode, S_IFREG | 0o4755);
    f.setattr(
        &su(),
        &ninefold_proto::l::SetAttr {
            uid: 1000,
            gid: 100,
            ..setattr(SetattrMask::UID | SetattrMask::GID)
        },
    )
    .await
    .unwrap();
    let a = attr(&f).await;
    assert_eq!((a.uid, a.gid), (1000, 100));
    // chown dropped set-user-ID (and group-exec set-group-ID).
    assert_eq!(a.mode & 0o7777, 0o755);
    // Extend then shrink.
    f.setattr(&su(), &ninefold_proto::l::SetAttr { size: 8, ..setattr(SetattrMask::SIZE) })
        .await
        .unwrap();
    assert_eq!(read_all(&f).await, b"abcdef\0\0");
    f.setattr(&su(), &ninefold_proto::l::SetAttr { size: 2, ..setattr(SetattrMask::SIZE) })
        .await
        .unwrap();
    assert_eq!(read_all(&f).await, b"ab");
    // Explicit times.
    let t = ninefold_proto::l::SetAttr {
        atime_sec: 1000,
        atime_nsec: 5,
        mtime_sec: 2000,
        mtime_nsec: 6,
        ..setattr(
            SetattrMask::ATIME
                | SetattrMask::ATIME_SET
                | SetattrMask::MTIME
                | SetattrMask::MTIME_SET,
        )
    };
    f.setattr(&su(), &t).await.unwrap();
    let a = attr(&f).await;
    assert_eq!((a.atime_sec, a.atime_nsec, a.mtime_sec, a.mtime_nsec), (1000, 5, 2000, 6));
    assert!(a.ctime_sec > 2000);
    // "Now".
    f.setattr(&su(), &setattr(SetattrMask::ATIME | SetattrMask::MTIME)).await.unwrap();
    let a = attr(&f).await;
    assert!(a.atime_sec > 1000 && a.mtime_sec > 2000);
    // Size on a directory.
    let d = mkdir(&root, "d").await;
    let err = d
        .setattr(&su(), &ninefold_proto::l::SetAttr { size: 0, ..setattr(SetattrMask::SIZE) })
        .await;
    assert_eq!(err.unwrap_err(), Errno::EISDIR);
}

#[tokio::test]
async fn write_drops_setuid_for_non_root() {
    let root = fs().root();
    let (f, _) = create(&root, "f").await;
    let chmod = ninefold_proto::l::SetAttr { mode: 0o6777, ..setattr(SetattrMask::MODE) };
    f.setattr(&su(), &chmod).await.unwrap();
    write(&f, 0, b"root write keeps").await;
    assert_eq!(attr(&f).await.mode & 0o7777, 0o6777);
    f.write(&user(1000), 0, Bytes::from_static(b"x")).await.unwrap();
    assert_eq!(attr(&f).await.mode & 0o7777, 0o0777);
}

#[tokio::test]
async fn size_limits() {
    let fs = MemFs::builder().max_file_size(100).capacity(150).build().unwrap();
    let root = fs.root();
    let (f, _) = create(&root, "f").await;
    // A write crossing the limit is cut short; one starting past it fails.
    assert_eq!(write(&f, 90, &[1u8; 20]).await, 10);
    assert_eq!(f.write(&su(), 100, Bytes::from_static(b"x")).await.unwrap_err(), Errno::EFBIG);
    let big = ninefold_proto::l::SetAttr { size: 101, ..setattr(SetattrMask::SIZE) };
    assert_eq!(f.setattr(&su(), &big).await.unwrap_err(), Errno::EFBIG);
    // Capacity: 100 used, 50 left.
    let (g, _) = create(&root, "g").await;
    assert_eq!(g.write(&su(), 0, Bytes::from(vec![0u8; 60])).await.unwrap_err(), Errno::ENOSPC);
    assert_eq!(write(&g, 0, &[0u8; 50]).await, 50);
    let st = root.statfs(&su()).await.unwrap();
    assert_eq!(st.bfree, 0);
    assert_eq!(st.namelen, 255);
}

#[tokio::test]
async fn large_sequential_writes_are_linear() {
    let root = fs().root();
    let (f, _) = create(&root, "big").await;
    let chunk = vec![0xabu8; 128 * 1024];
    let start = std::time::Instant::now();
    for i in 0..512u64 {
        write(&f, i * chunk.len() as u64, &chunk).await;
    }
    assert_eq!(attr(&f).await.size, 64 << 20);
    assert!(start.elapsed() < Duration::from_secs(10), "{:?}", start.elapsed());
}

#[tokio::test]
async fn statfs_is_sensible_and_stable() {
    let fs = MemFs::builder().capacity(1 << 30).build().unwrap();
    let root = fs.root();
    let a = root.statfs(&su()).await.unwrap();
    assert_eq!(a.bsize, 4096);
    assert_eq!(a.blocks, (1 << 30) / 4096);
    assert!(a.ffree < a.files);
    let (f, _) = create(&root, "f").await;
    write(&f, 0, &[0u8; 8192]).await;
    let b = f.statfs(&su()).await.unwrap();
    assert_eq!(a.fsid, b.fsid);
    assert_eq!(b.bfree, a.bfree - 2);
    assert_eq!(b.ffree, a.ffree - 1);
    let fixed = MemFs::builder().fsid(42).build().unwrap();
    assert_eq!(fixed.root().statfs(&su()).await.unwrap().fsid, 42);
}

#[tokio::test]
async fn every_getattr_fills_basic_fields() {
    let root = fs().root();
    let (f, _) = create(&root, "f").await;
    write(&f, 0, &[1u8; 5000]).await;
    let a = attr(&f).await;
    assert_eq!(a.blksize, 4096);
    assert_eq!(a.blocks, 16);
    assert!(a.mtime_sec > 0 && a.ctime_sec > 0 && a.atime_sec > 0 && a.btime_sec > 0);
    assert_eq!(a.mode & S_IFMT, S_IFREG);
}

#[tokio::test]
async fn handle_enforces_the_access_mode() {
    let root = fs().root();
    let (f, _) = create(&root, "f").await;
    write(&f, 0, b"abc").await;
    let ro = f.open(&su(), OpenFlags::RDONLY).await.unwrap().handle.unwrap();
    assert_eq!(ro.write(&su(), &*f, 0, Bytes::from_static(b"x")).await.unwrap_err(), Errno::EBADF);
    assert_eq!(ro.read(&su(), &*f, 0, 10).await.unwrap(), "abc");
    let wo = f.open(&su(), OpenFlags::WRONLY).await.unwrap().handle.unwrap();
    assert_eq!(wo.read(&su(), &*f, 0, 10).await.unwrap_err(), Errno::EBADF);
    assert_eq!(wo.write(&su(), &*f, 3, Bytes::from_static(b"d")).await.unwrap(), 1);
    let created = root.create(&su(), b"g", OpenFlags::WRONLY, 0o644, 0).await.unwrap();
    let h = created.opened.handle.unwrap();
    assert_eq!(h.read(&su(), &*created.node, 0, 1).await.unwrap_err(), Errno::EBADF);
}
