//! Passthrough: every operation on a temp dir, called through the
//! `Node`/`Handle` API as the server would.

#![cfg(all(feature = "passthrough", target_os = "linux"))]

mod passthrough_support;

use std::os::unix::fs::MetadataExt;
use std::sync::Arc;

use bytes::Bytes;
use ninefold_fs::passthrough::{IdMap, Passthrough, PassthroughNode};
use ninefold_proto::l::SetAttr;
use ninefold_proto::{
    DirentType, Errno, GetattrMask, OpenFlags, QidType, SetattrMask, UnlinkatFlags, XattrFlags,
    S_IFCHR, S_IFDIR, S_IFIFO, S_IFMT, S_IFREG, S_IFSOCK,
};
use ninefold_server::Attacher;
use passthrough_support::*;

fn setattr(valid: SetattrMask) -> SetAttr {
    SetAttr { valid, ..SetAttr::default() }
}

#[tokio::test]
async fn root_getattr_uses_host_identity() {
    let fx = Fixture::new();
    let fs = fx.fs();
    let root = fs.root();
    assert!(root.qid().is_dir());
    let attr = root.getattr(&req(), GetattrMask::ALL).await.unwrap();
    let meta = std::fs::metadata(&fx.export).unwrap();
    assert_eq!(attr.mode & S_IFMT, S_IFDIR);
    assert_eq!(attr.qid.path, meta.ino(), "root device: qid.path is the inode number");
    assert_eq!(attr.qid, root.qid());
    assert_eq!(attr.nlink, meta.nlink());
    assert_eq!(attr.mtime_sec, meta.mtime() as u64);
    assert!(attr.blksize > 0);
    assert!(fs.uses_openat2(), "kernel 5.6+ expected in CI");
}

#[tokio::test]
async fn lookup_types_and_errors() {
    let fx = Fixture::new();
    std::fs::write(fx.path("file"), b"hello").unwrap();
    std::fs::create_dir(fx.path("dir")).unwrap();
    std::os::unix::fs::symlink("file", fx.path("link")).unwrap();
    let root = fx.root();

    let file = walk(&root, "file").await.unwrap();
    assert_eq!(file.qid().ty, QidType::FILE);
    assert_eq!(file.qid().path, std::fs::metadata(fx.path("file")).unwrap().ino());
    let dir = walk(&root, "dir").await.unwrap();
    assert_eq!(dir.qid().ty, QidType::DIR);
    let link = walk(&root, "link").await.unwrap();
    assert_eq!(link.qid().ty, QidType::SYMLINK, "never followed");
    assert_eq!(link.readlink(&req()).await.unwrap(), Bytes::from_static(b"file"));
    assert_eq!(file.readlink(&req()).await.unwrap_err(), Errno::EINVAL);

    assert_eq!(walk(&root, "missing").await.unwrap_err(), Errno::ENOENT);
    assert_eq!(file.lookup(&req(), b"x").await.unwrap_err(), Errno::ENOTDIR);
    assert_eq!(link.lookup(&req(), b"x").await.unwrap_err(), Errno::ENOTDIR);
    for bad in [&b""[..], b".", b"..", b"a/b", b"/etc", b"a\0b"] {
        assert_eq!(root.lookup(&req(), bad).await.unwrap_err(), Errno::EINVAL, "{bad:?}");
    }
    assert_eq!(root.lookup(&req(), &[b'n'; 300]).await.unwrap_err(), Errno::ENAMETOOLONG);
    // Two lookups of one object: one qid.
    assert_eq!(walk(&root, "file").await.unwrap().qid(), file.qid());
}

#[tokio::test]
async fn read_write_append_and_direct() {
    let fx = Fixture::new();
    std::fs::write(fx.path("f"), b"0123456789").unwrap();
    let root = fx.root();
    let f = walk(&root, "f").await.unwrap();

    let h = open(&f, OpenFlags::RDWR).await.unwrap();
    assert_eq!(&h.read(&req(), f.as_ref(), 2, 3).await.unwrap()[..], b"234");
    assert_eq!(h.read(&req(), f.as_ref(), 100, 3).await.unwrap().len(), 0, "past EOF");
    assert_eq!(h.write(&req(), f.as_ref(), 8, Bytes::from_static(b"ABCD")).await.unwrap(), 4);
    assert_eq!(std::fs::read(fx.path("f")).unwrap(), b"01234567ABCD");
    assert_eq!(h.read(&req(), f.as_ref(), u64::MAX, 1).await.unwrap_err(), Errno::EINVAL);
    h.fsync(&req(), f.as_ref(), false).await.unwrap();
    h.fsync(&req(), f.as_ref(), true).await.unwrap();
    h.release(&req(), f.as_ref()).await.unwrap();

    let ro = open(&f, OpenFlags::RDONLY).await.unwrap();
    assert_eq!(
        ro.write(&req(), f.as_ref(), 0, Bytes::from_static(b"x")).await.unwrap_err(),
        Errno::EBADF
    );
    let wo = open(&f, OpenFlags::WRONLY).await.unwrap();
    assert_eq!(wo.read(&req(), f.as_ref(), 0, 1).await.unwrap_err(), Errno::EBADF);

    let app = open(&f, OpenFlags::WRONLY | OpenFlags::APPEND).await.unwrap();
    app.write(&req(), f.as_ref(), 0, Bytes::from_static(b"!")).await.unwrap();
    assert_eq!(std::fs::read(fx.path("f")).unwrap(), b"01234567ABCD!", "APPEND writes at the end");

    let tr = open(&f, OpenFlags::WRONLY | OpenFlags::TRUNC).await.unwrap();
    drop(tr);
    assert_eq!(std::fs::metadata(fx.path("f")).unwrap().len(), 0, "TRUNC honoured");

    // DIRECT is stripped: unaligned I/O works (and tmpfs/ext4 opens fine).
    std::fs::write(fx.path("f"), b"unaligned").unwrap();
    let d = open(&f, OpenFlags::RDONLY | OpenFlags::DIRECT).await.unwrap();
    assert_eq!(&d.read(&req(), f.as_ref(), 3, 5).await.unwrap()[..], b"ligne");

    // NOACCESS: no handle, no data.
    let opened = f.open(&req(), OpenFlags::NOACCESS).await.unwrap();
    assert!(opened.handle.is_none());
    assert_eq!(f.read(&req(), 0, 1).await.unwrap_err(), Errno::EBADF);
    // Node-level fsync reopens.
    f.fsync(&req(), false).await.unwrap();
    root.fsync(&req(), true).await.unwrap();
}

#[tokio::test]
async fn open_refusals() {
    let fx = Fixture::new();
    std::os::unix::fs::symlink("/etc/passwd", fx.path("link")).unwrap();
    std::fs::create_dir(fx.path("d")).unwrap();
    let root = fx.root();
    let link = walk(&root, "link").await.unwrap();
    assert_eq!(link.open(&req(), OpenFlags::RDONLY).await.unwrap_err(), Errno::ELOOP);
    let d = walk(&root, "d").await.unwrap();
    assert_eq!(d.open(&req(), OpenFlags::WRONLY).await.unwrap_err(), Errno::EISDIR);
    let dh = open(&d, OpenFlags::RDONLY).await.unwrap();
    assert_eq!(dh.read(&req(), d.as_ref(), 0, 10).await.unwrap_err(), Errno::EISDIR);
}

#[tokio::test]
async fn create_is_exclusive_exact_mode_and_owned_by_the_client() {
    let fx = Fixture::new();
    // Without per-request credentials, a root server gives new objects
    // the ids as sent (see `credentials_*` for the switching path).
    let root = fx.builder().credentials(false).build().unwrap().root();
    let created = root.create(&req_as(1234), b"new", OpenFlags::RDWR, 0o640, 99).await.unwrap();
    let meta = std::fs::metadata(fx.path("new")).unwrap();
    assert_eq!(meta.mode() & 0o7777, 0o640);
    assert_eq!((meta.uid(), meta.gid()), (1234, 99));
    let h = created.opened.handle.unwrap();
    h.write(&req(), created.node.as_ref(), 0, Bytes::from_static(b"data")).await.unwrap();
    assert_eq!(std::fs::read(fx.path("new")).unwrap(), b"data");
    assert_eq!(created.node.qid().path, meta.ino());

    // A mode the server's umask would narrow.
    root.create(&req(), b"wide", OpenFlags::WRONLY, 0o666, 0).await.unwrap();
    assert_eq!(std::fs::metadata(fx.path("wide")).unwrap().mode() & 0o777, 0o666);

    assert_eq!(
        root.create(&req(), b"new", OpenFlags::RDWR, 0o600, 0).await.unwrap_err(),
        Errno::EEXIST
    );
    std::os::unix::fs::symlink("/tmp/whatever", fx.path("dangling")).unwrap();
    assert_eq!(
        root.create(&req(), b"dangling", OpenFlags::RDWR, 0o600, 0).await.unwrap_err(),
        Errno::EEXIST
    );
    assert!(!std::path::Path::new("/tmp/whatever").exists());
    assert!(!std::path::Path::new("/tmp/whatever").exists());
    assert_eq!(
        root.create(&req(), b"a/b", OpenFlags::RDWR, 0o600, 0).await.unwrap_err(),
        Errno::EINVAL
    );
    let f = walk(&root, "new").await.unwrap();
    assert_eq!(
        f.create(&req(), b"x", OpenFlags::RDWR, 0o600, 0).await.unwrap_err(),
        Errno::ENOTDIR
    );

    // NOACCESS create: the file exists, no handle.
    let c = root.create(&req(), b"noacc", OpenFlags::NOACCESS, 0o600, 0).await.unwrap();
    assert!(c.opened.handle.is_none());
    assert!(fx.path("noacc").exists());
}

#[tokio::test]
async fn mkdir_symlink_mknod() {
    let fx = Fixture::new();
    let root = fx.builder().credentials(false).build().unwrap().root();
    let d = root.mkdir(&req_as(7), b"d", S_IFDIR | 0o2750, 8).await.unwrap();
    assert!(d.qid().is_dir());
    let meta = std::fs::metadata(fx.path("d")).unwrap();
    assert_eq!(meta.mode() & 0o7777, 0o2750);
    assert_eq!((meta.uid(), meta.gid()), (7, 8));
    assert_eq!(root.mkdir(&req(), b"d", 0o755, 0).await.unwrap_err(), Errno::EEXIST);

    let l = d.symlink(&req_as(7), b"l", b"../../outside", 8).await.unwrap();
    assert!(l.qid().is_symlink());
    assert_eq!(l.readlink(&req()).await.unwrap(), Bytes::from_static(b"../../outside"));
    let lmeta = std::fs::symlink_metadata(fx.path("d/l")).unwrap();
    assert_eq!((lmeta.uid(), lmeta.gid()), (7, 8));
    assert_eq!(d.symlink(&req(), b"e", b"", 0).await.unwrap_err(), Errno::ENOENT);
    assert_eq!(d.symlink(&req(), b"e", b"a\0b", 0).await.unwrap_err(), Errno::EINVAL);

    let fifo = root.mknod(&req(), b"fifo", S_IFIFO | 0o600, 0, 0, 0).await.unwrap();
    let attr = fifo.getattr(&req(), GetattrMask::BASIC).await.unwrap();
    assert_eq!(attr.mode & S_IFMT, S_IFIFO);
    root.mknod(&req(), b"sock", S_IFSOCK | 0o600, 0, 0, 0).await.unwrap();
    root.mknod(&req(), b"reg", 0o600, 0, 0, 0).await.unwrap();
    assert_eq!(std::fs::metadata(fx.path("reg")).unwrap().mode() & S_IFMT, S_IFREG);
    assert_eq!(
        root.mknod(&req(), b"dir", S_IFDIR | 0o700, 0, 0, 0).await.unwrap_err(),
        Errno::EPERM
    );

    // Device nodes: created (as root), attributes right, not openable.
    let null = root.mknod(&req(), b"null", S_IFCHR | 0o666, 1, 3, 0).await.unwrap();
    let attr = null.getattr(&req(), GetattrMask::BASIC).await.unwrap();
    assert_eq!(attr.mode & S_IFMT, S_IFCHR);
    assert_eq!(attr.rdev, std::fs::metadata("/dev/null").unwrap().rdev());
    assert_eq!(null.open(&req(), OpenFlags::RDWR).await.unwrap_err(), Errno::EACCES);
    let sock = walk(&root, "sock").await.unwrap();
    assert_eq!(sock.open(&req(), OpenFlags::RDONLY).await.unwrap_err(), Errno::ENXIO);

    // ... unless the export allows devices.
    let dev_root = fx.builder().devices(true).build().unwrap().root();
    let null = walk(&dev_root, "null").await.unwrap();
    let h = open(&null, OpenFlags::RDWR).await.unwrap();
    assert_eq!(h.write(&req(), null.as_ref(), 0, Bytes::from_static(b"gone")).await.unwrap(), 4);
}

#[tokio::test]
async fn hard_links() {
    let fx = Fixture::new();
    std::fs::write(fx.path("f"), b"x").unwrap();
    std::fs::create_dir(fx.path("d")).unwrap();
    let fs = fx.fs();
    let root = fs.root();
    let f = walk(&root, "f").await.unwrap();
    root.link(&req(), &f, b"g").await.unwrap();
    assert_eq!(
        std::fs::metadata(fx.path("g")).unwrap().ino(),
        std::fs::metadata(fx.path("f")).unwrap().ino()
    );
    assert_eq!(f.getattr(&req(), GetattrMask::BASIC).await.unwrap().nlink, 2);
    assert_eq!(root.link(&req(), &f, b"g").await.unwrap_err(), Errno::EEXIST);
    let d = walk(&root, "d").await.unwrap();
    assert_eq!(root.link(&req(), &d, b"d2").await.unwrap_err(), Errno::EPERM);
    assert_eq!(root.link(&req(), &f, b"..").await.unwrap_err(), Errno::EINVAL);
    // A node of another export (even of the same directory) is EXDEV.
    let other = fx.fs().root();
    let f2 = walk(&other, "f").await.unwrap();
    assert_eq!(root.link(&req(), &f2, b"h").await.unwrap_err(), Errno::EXDEV);
    // A symlink links as itself.
    std::os::unix::fs::symlink("f", fx.path("l")).unwrap();
    let l = walk(&root, "l").await.unwrap();
    root.link(&req(), &l, b"l2").await.unwrap();
    assert!(std::fs::symlink_metadata(fx.path("l2")).unwrap().file_type().is_symlink());
}

#[tokio::test]
async fn unlink_and_rename() {
    let fx = Fixture::new();
    std::fs::write(fx.path("f"), b"x").unwrap();
    std::fs::create_dir_all(fx.path("d/sub")).unwrap();
    std::fs::create_dir(fx.path("e")).unwrap();
    let root = fx.root();
    let d = walk(&root, "d").await.unwrap();
    let e = walk(&root, "e").await.unwrap();

    assert_eq!(root.unlink(&req(), b"d", UnlinkatFlags::empty()).await.unwrap_err(), Errno::EISDIR);
    assert_eq!(
        root.unlink(&req(), b"f", UnlinkatFlags::REMOVEDIR).await.unwrap_err(),
        Errno::ENOTDIR
    );
    assert_eq!(
        root.unlink(&req(), b"d", UnlinkatFlags::REMOVEDIR).await.unwrap_err(),
        Errno::ENOTEMPTY
    );
    assert_eq!(
        root.unlink(&req(), b"nope", UnlinkatFlags::empty()).await.unwrap_err(),
        Errno::ENOENT
    );
    assert_eq!(
        root.unlink(&req(), b"..", UnlinkatFlags::REMOVEDIR).await.unwrap_err(),
        Errno::EINVAL
    );

    root.rename(&req(), b"f", &e, b"g").await.unwrap();
    assert!(fx.path("e/g").exists() && !fx.path("f").exists());
    assert_eq!(
        root.rename(&req(), b"d", &walk(&root, "d/sub").await.unwrap(), b"x").await.unwrap_err(),
        Errno::EINVAL
    );
    std::fs::write(fx.path("e/h"), b"y").unwrap();
    e.rename(&req(), b"h", &e, b"g").await.unwrap();
    assert_eq!(std::fs::read(fx.path("e/g")).unwrap(), b"y", "replaces atomically");
    assert_eq!(root.rename(&req(), b"e", &root, b"d").await.unwrap_err(), Errno::ENOTEMPTY);
    let other = fx.fs().root();
    assert_eq!(root.rename(&req(), b"e", &other, b"x").await.unwrap_err(), Errno::EXDEV);
    let g = walk(&root, "e/g").await.unwrap();
    assert_eq!(root.rename(&req(), b"e", &g, b"x").await.unwrap_err(), Errno::ENOTDIR);

    d.unlink(&req(), b"sub", UnlinkatFlags::REMOVEDIR).await.unwrap();
    e.unlink(&req(), b"g", UnlinkatFlags::empty()).await.unwrap();
    assert!(!fx.path("d/sub").exists() && !fx.path("e/g").exists());
}

#[tokio::test]
async fn open_unlinked_file_keeps_working() {
    let fx = Fixture::new();
    std::fs::write(fx.path("f"), b"before").unwrap();
    let root = fx.root();
    let f = walk(&root, "f").await.unwrap();
    let h = open(&f, OpenFlags::RDWR).await.unwrap();
    root.unlink(&req(), b"f", UnlinkatFlags::empty()).await.unwrap();
    assert!(!fx.path("f").exists());

    h.write(&req(), f.as_ref(), 0, Bytes::from_static(b"AFTER!")).await.unwrap();
    assert_eq!(read_all(&f, &h).await.unwrap(), b"AFTER!");
    let attr = h.getattr(&req(), f.as_ref(), GetattrMask::BASIC).await.unwrap();
    assert_eq!((attr.nlink, attr.size), (0, 6));
    // ftruncate and fchmod through the fid.
    let mut sa = setattr(SetattrMask::SIZE | SetattrMask::MODE);
    sa.size = 2;
    sa.mode = 0o600;
    h.setattr(&req(), f.as_ref(), &sa).await.unwrap();
    let attr = f.getattr(&req(), GetattrMask::BASIC).await.unwrap();
    assert_eq!((attr.size, attr.mode & 0o777), (2, 0o600));
    // Even a fresh open of the unlinked node works (reopen via /proc).
    let h2 = open(&f, OpenFlags::RDONLY).await.unwrap();
    assert_eq!(read_all(&f, &h2).await.unwrap(), b"AF");
    // A node-level truncate (no handle) too.
    let mut sa = setattr(SetattrMask::SIZE);
    sa.size = 0;
    f.setattr(&req(), &sa).await.unwrap();
    assert_eq!(f.getattr(&req(), GetattrMask::BASIC).await.unwrap().size, 0);
}

#[tokio::test]
async fn renamed_open_file_keeps_working() {
    let fx = Fixture::new();
    std::fs::create_dir(fx.path("a")).unwrap();
    std::fs::create_dir(fx.path("b")).unwrap();
    std::fs::write(fx.path("a/f"), b"one").unwrap();
    let root = fx.root();
    let f = walk(&root, "a/f").await.unwrap();
    let a = walk(&root, "a").await.unwrap();
    let h = open(&f, OpenFlags::RDWR).await.unwrap();
    // Renamed on the host, and through the API.
    std::fs::rename(fx.path("a/f"), fx.path("b/g")).unwrap();
    h.write(&req(), f.as_ref(), 3, Bytes::from_static(b"two")).await.unwrap();
    assert_eq!(std::fs::read(fx.path("b/g")).unwrap(), b"onetwo");
    let b = walk(&root, "b").await.unwrap();
    b.rename(&req(), b"g", &a, b"h").await.unwrap();
    assert_eq!(read_all(&f, &h).await.unwrap(), b"onetwo");
    assert_eq!(walk(&root, "a/h").await.unwrap().qid(), f.qid());
    // A replacement at the old name is a different object.
    std::fs::write(fx.path("a/f"), b"impostor").unwrap();
    assert_eq!(read_all(&f, &open(&f, OpenFlags::RDONLY).await.unwrap()).await.unwrap(), b"onetwo");
    // A directory fid follows its directory too.
    std::fs::rename(fx.path("a"), fx.path("b/a2")).unwrap();
    assert_eq!(a.lookup(&req(), b"h").await.unwrap().qid(), f.qid());
}

#[tokio::test]
async fn readdir_pages_with_cookies() {
    let fx = Fixture::new();
    let mut expect = vec![b".".to_vec(), b"..".to_vec()];
    for i in 0..150 {
        let name = format!("file-with-a-longish-name-{i:03}");
        std::fs::write(fx.path(&name), b"").unwrap();
        expect.push(name.into_bytes());
    }
    std::fs::create_dir(fx.path("sub")).unwrap();
    std::os::unix::fs::symlink("x", fx.path("lnk")).unwrap();
    nix_mkfifo(&fx.path("pipe"));
    expect.extend([b"sub".to_vec(), b"lnk".to_vec(), b"pipe".to_vec()]);
    expect.sort();
    let root = fx.root();

    for budget in [60, 100, 333, 4096, 1 << 20] {
        let entries = list(&root, budget).await;
        let mut names: Vec<_> = entries.iter().map(|e| e.0.clone()).collect();
        names.sort();
        assert_eq!(names, expect, "budget {budget}");
        let ty = |n: &[u8]| entries.iter().find(|e| e.0 == n).unwrap().1;
        assert_eq!(ty(b"sub"), DirentType::DIR);
        assert_eq!(ty(b"lnk"), DirentType::LNK);
        assert_eq!(ty(b"pipe"), DirentType::FIFO);
        assert_eq!(ty(b"file-with-a-longish-name-007"), DirentType::REG);
        assert_eq!(ty(b"."), DirentType::DIR);
    }

    // Resuming from a cookie in the middle gives exactly the rest.
    let h = open(&root, OpenFlags::RDONLY).await.unwrap();
    let ph = h.downcast_ref::<ninefold_fs::passthrough::PassthroughHandle>().unwrap();
    let all = ph.entries(0, 1 << 20).await.unwrap();
    let mid = &all[40];
    let rest = ph.entries(mid.offset, 1 << 20).await.unwrap();
    assert_eq!(rest.len(), all.len() - 41);
    assert_eq!(rest[0].name, all[41].name);
    // Too small for one entry: nothing (never half an entry).
    assert!(ph.entries(0, 10).await.unwrap().is_empty());
    // The root's ".." shows the root, not what lies above the export.
    let dotdot = all.iter().find(|e| e.name.as_ref() == b"..").unwrap();
    assert_eq!(dotdot.qid.path, root.qid().path);
    // An empty directory lists "." and ".." and ends.
    let sub = walk(&root, "sub").await.unwrap();
    assert_eq!(list(&sub, 4096).await.len(), 2);
}

fn nix_mkfifo(path: &std::path::Path) {
    rustix::fs::mknodat(
        rustix::fs::CWD,
        path,
        rustix::fs::FileType::Fifo,
        rustix::fs::Mode::from_raw_mode(0o600),
        0,
    )
    .unwrap();
}

#[tokio::test]
async fn readdir_survives_concurrent_changes() {
    let fx = Fixture::new();
    for i in 0..60 {
        std::fs::write(fx.path(&format!("f{i}")), b"").unwrap();
    }
    let root = fx.root();
    let h = open(&root, OpenFlags::RDONLY).await.unwrap();
    let ph = h.downcast_ref::<ninefold_fs::passthrough::PassthroughHandle>().unwrap();
    let first = ph.entries(0, 300).await.unwrap();
    for i in 0..30 {
        std::fs::remove_file(fx.path(&format!("f{i}"))).unwrap();
        std::fs::write(fx.path(&format!("g{i}")), b"").unwrap();
    }
    let mut offset = first.last().unwrap().offset;
    let mut names: Vec<_> = first.iter().map(|e| e.name.as_ref().to_vec()).collect();
    for _ in 0..1000 {
        let page = ph.entries(offset, 300).await.unwrap();
        if page.is_empty() {
            break;
        }
        offset = page.last().unwrap().offset;
        names.extend(page.iter().map(|e| e.name.as_ref().to_vec()));
    }
    let unique: std::collections::HashSet<_> = names.iter().collect();
    assert_eq!(unique.len(), names.len(), "no entry repeats");
    for i in 30..60 {
        assert!(unique.contains(&format!("f{i}").into_bytes()), "untouched f{i} listed");
    }
}

#[tokio::test]
async fn setattr_chmod_chown_truncate_utimes() {
    let fx = Fixture::new();
    std::fs::write(fx.path("f"), b"0123456789").unwrap();
    std::os::unix::fs::symlink("f", fx.path("l")).unwrap();
    std::fs::create_dir(fx.path("d")).unwrap();
    let root = fx.root();
    let f = walk(&root, "f").await.unwrap();

    let mut sa =
        setattr(SetattrMask::MODE | SetattrMask::UID | SetattrMask::GID | SetattrMask::SIZE);
    sa.mode = 0o4711;
    sa.uid = 500;
    sa.gid = 600;
    sa.size = 3;
    f.setattr(&req(), &sa).await.unwrap();
    let meta = std::fs::metadata(fx.path("f")).unwrap();
    assert_eq!(meta.mode() & 0o7777, 0o4711, "chmod after chown keeps set-id bits");
    assert_eq!((meta.uid(), meta.gid(), meta.len()), (500, 600, 3));

    let mut sa = setattr(
        SetattrMask::ATIME | SetattrMask::ATIME_SET | SetattrMask::MTIME | SetattrMask::MTIME_SET,
    );
    sa.atime_sec = 1_000_000;
    sa.atime_nsec = 5;
    sa.mtime_sec = 2_000_000;
    sa.mtime_nsec = 7;
    f.setattr(&req(), &sa).await.unwrap();
    let attr = f.getattr(&req(), GetattrMask::ALL).await.unwrap();
    assert_eq!(
        (attr.atime_sec, attr.atime_nsec, attr.mtime_sec, attr.mtime_nsec),
        (1_000_000, 5, 2_000_000, 7)
    );
    f.setattr(&req(), &setattr(SetattrMask::MTIME)).await.unwrap();
    let attr = f.getattr(&req(), GetattrMask::ALL).await.unwrap();
    assert!(attr.mtime_sec > 2_000_000, "MTIME without MTIME_SET is now");
    assert_eq!(attr.atime_sec, 1_000_000, "atime untouched");
    sa.mtime_nsec = 1_000_000_000;
    assert_eq!(f.setattr(&req(), &sa).await.unwrap_err(), Errno::EINVAL);
    // CTIME alone changes nothing and succeeds.
    f.setattr(&req(), &setattr(SetattrMask::CTIME)).await.unwrap();

    // Symlinks: chown and utimes apply to the link itself; chmod cannot.
    let l = walk(&root, "l").await.unwrap();
    let mut sa = setattr(SetattrMask::UID | SetattrMask::GID);
    sa.uid = 321;
    sa.gid = 322;
    l.setattr(&req(), &sa).await.unwrap();
    let lmeta = std::fs::symlink_metadata(fx.path("l")).unwrap();
    assert_eq!((lmeta.uid(), lmeta.gid()), (321, 322));
    assert_eq!(std::fs::metadata(fx.path("f")).unwrap().uid(), 500, "target untouched");
    let mut sa = setattr(SetattrMask::MODE);
    sa.mode = 0o777;
    assert_eq!(l.setattr(&req(), &sa).await.unwrap_err(), Errno::EOPNOTSUPP);
    let mut sa = setattr(SetattrMask::MTIME | SetattrMask::MTIME_SET);
    sa.mtime_sec = 1234;
    l.setattr(&req(), &sa).await.unwrap();
    assert_eq!(std::fs::symlink_metadata(fx.path("l")).unwrap().mtime(), 1234);
    assert_ne!(std::fs::metadata(fx.path("f")).unwrap().mtime(), 1234);

    // Truncating a directory or a symlink.
    let d = walk(&root, "d").await.unwrap();
    let mut sa = setattr(SetattrMask::SIZE);
    sa.size = 0;
    assert_eq!(d.setattr(&req(), &sa).await.unwrap_err(), Errno::EISDIR);
    assert_eq!(l.setattr(&req(), &sa).await.unwrap_err(), Errno::EINVAL);
    // Truncating through a read-only handle falls back to the node.
    let ro = open(&f, OpenFlags::RDONLY).await.unwrap();
    ro.setattr(&req(), f.as_ref(), &sa).await.unwrap();
    assert_eq!(std::fs::metadata(fx.path("f")).unwrap().len(), 0);
}

#[tokio::test]
async fn read_only_export_refuses_every_mutation() {
    let fx = Fixture::new();
    std::fs::write(fx.path("f"), b"data").unwrap();
    std::fs::create_dir(fx.path("d")).unwrap();
    let before = snapshot(&fx.export);
    let root = fx.builder().read_only(true).build().unwrap().root();
    let f = walk(&root, "f").await.unwrap();
    let d = walk(&root, "d").await.unwrap();
    let r = req();
    let erofs = Errno::EROFS;
    assert_eq!(root.create(&r, b"n", OpenFlags::RDWR, 0o600, 0).await.unwrap_err(), erofs);
    assert_eq!(root.mkdir(&r, b"n", 0o700, 0).await.unwrap_err(), erofs);
    assert_eq!(root.symlink(&r, b"n", b"f", 0).await.unwrap_err(), erofs);
    assert_eq!(root.mknod(&r, b"n", S_IFIFO | 0o600, 0, 0, 0).await.unwrap_err(), erofs);
    assert_eq!(root.link(&r, &f, b"n").await.unwrap_err(), erofs);
    assert_eq!(root.unlink(&r, b"f", UnlinkatFlags::empty()).await.unwrap_err(), erofs);
    assert_eq!(root.unlink(&r, b"d", UnlinkatFlags::REMOVEDIR).await.unwrap_err(), erofs);
    assert_eq!(root.rename(&r, b"f", &d, b"g").await.unwrap_err(), erofs);
    for valid in [
        SetattrMask::MODE,
        SetattrMask::UID,
        SetattrMask::SIZE,
        SetattrMask::MTIME,
        SetattrMask::ATIME,
    ] {
        assert_eq!(f.setattr(&r, &setattr(valid)).await.unwrap_err(), erofs, "{valid:?}");
    }
    assert_eq!(
        f.xattr_set(&r, b"user.x", Bytes::from_static(b"1"), XattrFlags::empty())
            .await
            .unwrap_err(),
        erofs
    );
    assert_eq!(f.xattr_remove(&r, b"user.x").await.unwrap_err(), erofs);
    for flags in [
        OpenFlags::WRONLY,
        OpenFlags::RDWR,
        OpenFlags::RDONLY | OpenFlags::TRUNC,
        OpenFlags::WRONLY | OpenFlags::APPEND,
    ] {
        assert_eq!(f.open(&r, flags).await.unwrap_err(), erofs, "{flags:?}");
    }
    let h = open(&f, OpenFlags::RDONLY).await.unwrap();
    assert_eq!(read_all(&f, &h).await.unwrap(), b"data");
    assert_eq!(h.setattr(&r, f.as_ref(), &setattr(SetattrMask::SIZE)).await.unwrap_err(), erofs);
    assert_eq!(list(&root, 4096).await.len(), 4);
    assert_eq!(snapshot(&fx.export), before, "nothing changed on the host");
}

/// Names, sizes, modes and mtimes of a tree.
fn snapshot(dir: &std::path::Path) -> Vec<(std::path::PathBuf, u64, u32, i64)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let e = e.unwrap();
            let m = std::fs::symlink_metadata(e.path()).unwrap();
            out.push((e.path(), m.len(), m.mode(), m.mtime()));
            if m.is_dir() {
                stack.push(e.path());
            }
        }
    }
    out.sort();
    out
}

#[tokio::test]
async fn uid_gid_mapping() {
    let fx = Fixture::new();
    let map = IdMap::map([(1000, 2000), (0, 0)], [(100, 300), (0, 0)]);
    let root = fx.builder().id_map(map).credentials(false).build().unwrap().root();
    let c = root.create(&req_as(1000), b"mine", OpenFlags::RDWR, 0o600, 100).await.unwrap();
    let meta = std::fs::metadata(fx.path("mine")).unwrap();
    assert_eq!((meta.uid(), meta.gid()), (2000, 300), "created with mapped ownership");
    let attr = c.node.getattr(&req(), GetattrMask::BASIC).await.unwrap();
    assert_eq!((attr.uid, attr.gid), (1000, 100), "getattr maps back");
    // An unmapped host owner shows as the overflow id.
    std::fs::write(fx.path("foreign"), b"").unwrap();
    std::os::unix::fs::chown(fx.path("foreign"), Some(4444), Some(4444)).unwrap();
    let attr =
        walk(&root, "foreign").await.unwrap().getattr(&req(), GetattrMask::BASIC).await.unwrap();
    assert_eq!(
        (attr.uid, attr.gid),
        (ninefold_fs::passthrough::OVERFLOW_ID, ninefold_fs::passthrough::OVERFLOW_ID)
    );
    // chown maps client → host.
    let mut sa = setattr(SetattrMask::UID);
    sa.uid = 1000;
    walk(&root, "foreign").await.unwrap().setattr(&req(), &sa).await.unwrap();
    assert_eq!(std::fs::metadata(fx.path("foreign")).unwrap().uid(), 2000);

    // Squash: everything a client creates belongs to one host user.
    let squash = fx
        .builder()
        .id_map(IdMap::Squash { uid: 77, gid: 88 })
        .credentials(false)
        .build()
        .unwrap()
        .root();
    squash.mkdir(&req_as(1000), b"sq", 0o755, 100).await.unwrap();
    let meta = std::fs::metadata(fx.path("sq")).unwrap();
    assert_eq!((meta.uid(), meta.gid()), (77, 88));
    // Identity: the client's ids as sent.
    let ident = fx.builder().credentials(false).build().unwrap().root();
    ident.symlink(&req_as(31), b"sym", b"x", 32).await.unwrap();
    let meta = std::fs::symlink_metadata(fx.path("sym")).unwrap();
    assert_eq!((meta.uid(), meta.gid()), (31, 32));
    // An invertible map is required.
    assert!(fx.builder().id_map(IdMap::map([(1, 5), (2, 5)], [])).build().is_err());
}

#[tokio::test]
async fn attacher_serves_empty_aname_and_export_path() {
    let fx = Fixture::new();
    let fs = Passthrough::new(&fx.export).unwrap();
    let attacher = fs.attacher();
    let root = attacher.attach(&req()).await.unwrap();
    assert_eq!(root.qid(), fs.root().qid());
    let path = fx.export.to_str().unwrap().as_bytes().to_vec();
    assert!(attacher.anames().iter().any(|a| a.as_ref() == path.as_slice()));
    let with_slash = [path.as_slice(), b"/"].concat();
    assert!(attacher.anames().iter().any(|a| a.as_ref() == with_slash.as_slice()));
    let exports = fs.exports();
    assert!(exports.get(b"").is_some());
    assert!(exports.get(&path).is_some());
    assert!(exports.get(b"/somewhere/else").is_none());
    assert!(root.downcast_ref::<PassthroughNode>().is_some());
}

#[tokio::test]
async fn build_errors() {
    let fx = Fixture::new();
    std::fs::write(fx.path("file"), b"").unwrap();
    assert!(matches!(
        Passthrough::new(fx.path("file")).unwrap_err(),
        ninefold_fs::passthrough::PassthroughError::NotADirectory(_)
    ));
    assert!(matches!(
        Passthrough::new(fx.path("missing")).unwrap_err(),
        ninefold_fs::passthrough::PassthroughError::Root { .. }
    ));
}

#[tokio::test]
async fn fallback_lookups_without_openat2() {
    let fx = Fixture::new();
    std::fs::create_dir(fx.path("d")).unwrap();
    std::fs::write(fx.path("d/f"), b"in").unwrap();
    std::os::unix::fs::symlink("/etc", fx.path("etc")).unwrap();
    let fs = fx.builder().openat2(Some(false)).build().unwrap();
    assert!(!fs.uses_openat2());
    let root = fs.root();
    let f = walk(&root, "d/f").await.unwrap();
    assert_eq!(read_all(&f, &open(&f, OpenFlags::RDONLY).await.unwrap()).await.unwrap(), b"in");
    let etc = walk(&root, "etc").await.unwrap();
    assert!(etc.qid().is_symlink());
    assert_eq!(etc.lookup(&req(), b"passwd").await.unwrap_err(), Errno::ENOTDIR);
}

#[tokio::test]
async fn qid_version_option() {
    let fx = Fixture::new();
    std::fs::write(fx.path("f"), b"1").unwrap();
    let plain = walk(&fx.root(), "f").await.unwrap();
    assert_eq!(plain.qid().version, 0);
    let root = fx.builder().qid_version(true).build().unwrap().root();
    let f = walk(&root, "f").await.unwrap();
    let v1 = f.getattr(&req(), GetattrMask::BASIC).await.unwrap().qid.version;
    let h = open(&f, OpenFlags::WRONLY).await.unwrap();
    h.write(&req(), f.as_ref(), 1, Bytes::from_static(b"more")).await.unwrap();
    let v2 = f.getattr(&req(), GetattrMask::BASIC).await.unwrap().qid.version;
    assert_ne!(v1, v2, "content change bumps the version");
    assert_eq!(f.getattr(&req(), GetattrMask::BASIC).await.unwrap().qid.path, plain.qid().path);
}

#[tokio::test]
async fn concurrent_operations_on_one_node() {
    let fx = Fixture::new();
    std::fs::write(fx.path("f"), vec![0u8; 64 * 1024]).unwrap();
    let root = fx.root();
    let f = walk(&root, "f").await.unwrap();
    let h = open(&f, OpenFlags::RDWR).await.unwrap();
    let mut tasks = Vec::new();
    for i in 0..16u8 {
        let (h, f) = (h.clone(), f.clone());
        tasks.push(tokio::spawn(async move {
            let data = Bytes::from(vec![i; 4096]);
            h.write(&req(), f.as_ref(), u64::from(i) * 4096, data).await.unwrap();
            h.read(&req(), f.as_ref(), u64::from(i) * 4096, 4096).await.unwrap()
        }));
    }
    for (i, t) in tasks.into_iter().enumerate() {
        let got = t.await.unwrap();
        assert!(got.iter().all(|&b| b == i as u8));
    }
    let _ = Arc::clone(&root);
}
