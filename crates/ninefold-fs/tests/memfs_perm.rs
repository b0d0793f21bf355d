//! memfs: permission checks from the caller's uid.

mod memfs_util;

use std::sync::Arc;

use bytes::Bytes;
use memfs_util::*;
use ninefold_fs::memfs::MemFs;
use ninefold_proto::l::SetAttr;
use ninefold_proto::{Errno, OpenFlags, SetattrMask, UnlinkatFlags};
use ninefold_server::{Identity, Node, Request};

const ALICE: u32 = 1000;
const BOB: u32 = 2000;

fn alice() -> Request {
    user(ALICE)
}

fn bob() -> Request {
    user(BOB)
}

async fn chown(node: &Arc<dyn Node>, uid: u32, mode: u32) {
    let s = SetAttr {
        uid,
        gid: uid,
        mode,
        ..setattr(SetattrMask::UID | SetattrMask::GID | SetattrMask::MODE)
    };
    node.setattr(&su(), &s).await.unwrap();
}

#[tokio::test]
async fn open_checks_mode_bits() {
    let root = fs().root();
    let (f, _) = create(&root, "f").await;
    chown(&f, ALICE, 0o640).await;
    f.open(&alice(), OpenFlags::RDWR).await.unwrap();
    assert_eq!(f.open(&bob(), OpenFlags::RDWR).await.unwrap_err(), Errno::EACCES);
    // Not the owner: group and other bits count (groups are unknown).
    f.open(&bob(), OpenFlags::RDONLY).await.unwrap();
    chown(&f, ALICE, 0o600).await;
    assert_eq!(f.open(&bob(), OpenFlags::RDONLY).await.unwrap_err(), Errno::EACCES);
    assert_eq!(
        f.open(&bob(), OpenFlags::WRONLY | OpenFlags::TRUNC).await.unwrap_err(),
        Errno::EACCES
    );
    // The owner is held to the owner bits even when others have more.
    chown(&f, ALICE, 0o066).await;
    assert_eq!(f.open(&alice(), OpenFlags::RDONLY).await.unwrap_err(), Errno::EACCES);
    // Root and "no uid" bypass; so does a filesystem without checks.
    f.open(&su(), OpenFlags::RDWR).await.unwrap();
    f.open(&Request::new(Identity::from_attach("x", ninefold_proto::NONUNAME)), OpenFlags::RDWR)
        .await
        .unwrap();
    let open = MemFs::builder().permissions(false).build().unwrap();
    let (g, _) = create(&open.root(), "g").await;
    chown(&g, ALICE, 0).await;
    g.open(&bob(), OpenFlags::RDWR).await.unwrap();
}

#[tokio::test]
async fn directory_write_and_search_permissions() {
    let root = fs().root();
    let d = mkdir(&root, "d").await;
    chown(&d, ALICE, 0o755).await;
    d.create(&alice(), b"a", OpenFlags::RDWR, 0o644, ALICE).await.unwrap();
    assert_eq!(
        d.create(&bob(), b"b", OpenFlags::RDWR, 0o644, BOB).await.unwrap_err(),
        Errno::EACCES
    );
    assert_eq!(d.mkdir(&bob(), b"b", 0o755, BOB).await.unwrap_err(), Errno::EACCES);
    assert_eq!(d.unlink(&bob(), b"a", UnlinkatFlags::empty()).await.unwrap_err(), Errno::EACCES);
    d.lookup(&bob(), b"a").await.unwrap();
    chown(&d, ALICE, 0o700).await;
    assert_eq!(d.lookup(&bob(), b"a").await.unwrap_err(), Errno::EACCES);
    assert_eq!(d.open(&bob(), OpenFlags::RDONLY).await.unwrap_err(), Errno::EACCES);
    // Created objects belong to the caller.
    let n = d.create(&alice(), b"mine", OpenFlags::RDWR, 0o600, 77).await.unwrap().node;
    let a = attr(&n).await;
    assert_eq!((a.uid, a.gid), (ALICE, 77));
    // A file created read-only is still writable through the creating fid.
    let c = d.create(&alice(), b"ro", OpenFlags::RDWR, 0o444, ALICE).await.unwrap();
    let h = c.opened.handle.unwrap();
    h.write(&alice(), &*c.node, 0, Bytes::from_static(b"ok")).await.unwrap();
    let trunc = SetAttr { size: 0, ..setattr(SetattrMask::SIZE) };
    h.setattr(&alice(), &*c.node, &trunc).await.unwrap();
    assert_eq!(c.node.setattr(&alice(), &trunc).await.unwrap_err(), Errno::EACCES);
}

#[tokio::test]
async fn sticky_directory() {
    let root = fs().root();
    let tmp = mkdir(&root, "tmp").await;
    chown(&tmp, 0, 0o1777).await;
    tmp.create(&alice(), b"a", OpenFlags::RDWR, 0o644, ALICE).await.unwrap();
    tmp.create(&bob(), b"b", OpenFlags::RDWR, 0o644, BOB).await.unwrap();
    assert_eq!(tmp.unlink(&bob(), b"a", UnlinkatFlags::empty()).await.unwrap_err(), Errno::EPERM);
    assert_eq!(tmp.rename(&bob(), b"a", &tmp, b"c").await.unwrap_err(), Errno::EPERM);
    // Renaming onto someone else's file is refused too.
    assert_eq!(tmp.rename(&bob(), b"b", &tmp, b"a").await.unwrap_err(), Errno::EPERM);
    tmp.unlink(&bob(), b"b", UnlinkatFlags::empty()).await.unwrap();
    tmp.unlink(&su(), b"a", UnlinkatFlags::empty()).await.unwrap();
}

#[tokio::test]
async fn setattr_permissions() {
    let root = fs().root();
    let (f, _) = create(&root, "f").await;
    chown(&f, ALICE, 0o644).await;
    let chmod = SetAttr { mode: 0o600, ..setattr(SetattrMask::MODE) };
    assert_eq!(f.setattr(&bob(), &chmod).await.unwrap_err(), Errno::EPERM);
    f.setattr(&alice(), &chmod).await.unwrap();
    // chown: root only (a no-op uid is fine for the owner); chgrp: owner.
    let to_bob = SetAttr { uid: BOB, ..setattr(SetattrMask::UID) };
    assert_eq!(f.setattr(&alice(), &to_bob).await.unwrap_err(), Errno::EPERM);
    let same = SetAttr { uid: ALICE, ..setattr(SetattrMask::UID) };
    f.setattr(&alice(), &same).await.unwrap();
    let grp = SetAttr { gid: 5, ..setattr(SetattrMask::GID) };
    assert_eq!(f.setattr(&bob(), &grp).await.unwrap_err(), Errno::EPERM);
    f.setattr(&alice(), &grp).await.unwrap();
    // utimes: explicit times need ownership; "now" needs write access.
    let explicit = SetAttr { mtime_sec: 5, ..setattr(SetattrMask::MTIME | SetattrMask::MTIME_SET) };
    let now = setattr(SetattrMask::ATIME | SetattrMask::MTIME);
    chown(&f, ALICE, 0o666).await;
    assert_eq!(f.setattr(&bob(), &explicit).await.unwrap_err(), Errno::EPERM);
    f.setattr(&bob(), &now).await.unwrap();
    chown(&f, ALICE, 0o644).await;
    assert_eq!(f.setattr(&bob(), &now).await.unwrap_err(), Errno::EACCES);
    f.setattr(&alice(), &explicit).await.unwrap();
    // truncate by path needs write permission.
    let trunc = SetAttr { size: 0, ..setattr(SetattrMask::SIZE) };
    assert_eq!(f.setattr(&bob(), &trunc).await.unwrap_err(), Errno::EACCES);
    // A refused request changes nothing.
    assert_eq!(attr(&f).await.mtime_sec, 5);
}

#[tokio::test]
async fn moving_a_directory_needs_write_on_it() {
    let root = fs().root();
    let a = mkdir(&root, "a").await;
    let b = mkdir(&root, "b").await;
    chown(&a, BOB, 0o777).await;
    chown(&b, BOB, 0o777).await;
    let d = a.mkdir(&su(), b"d", 0o755, 0).await.unwrap();
    chown(&d, ALICE, 0o755).await;
    assert_eq!(a.rename(&bob(), b"d", &b, b"d").await.unwrap_err(), Errno::EACCES);
    // Within one directory ".." does not change.
    a.rename(&bob(), b"d", &a, b"e").await.unwrap();
    a.rename(&alice(), b"e", &b, b"d").await.unwrap();
}
