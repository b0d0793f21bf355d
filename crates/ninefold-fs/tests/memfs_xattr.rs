//! memfs: extended attributes.

mod memfs_util;

use bytes::Bytes;
use memfs_util::*;
use ninefold_proto::{Errno, SetattrMask, XattrFlags};

#[tokio::test]
async fn set_get_list_remove() {
    let root = fs().root();
    let (f, _) = create(&root, "f").await;
    assert_eq!(f.xattr_get(&su(), b"user.a").await.unwrap_err(), Errno::ENODATA);
    assert!(f.xattr_list(&su()).await.unwrap().is_empty());
    f.xattr_set(&su(), b"user.a", Bytes::from_static(b"1"), XattrFlags::empty()).await.unwrap();
    f.xattr_set(&su(), b"user.b", Bytes::new(), XattrFlags::empty()).await.unwrap();
    assert_eq!(f.xattr_get(&su(), b"user.a").await.unwrap(), Bytes::from_static(b"1"));
    assert_eq!(f.xattr_get(&su(), b"user.b").await.unwrap(), Bytes::new());
    let list = f.xattr_list(&su()).await.unwrap();
    assert_eq!(list, [Bytes::from_static(b"user.a"), Bytes::from_static(b"user.b")]);
    f.xattr_remove(&su(), b"user.a").await.unwrap();
    assert_eq!(f.xattr_get(&su(), b"user.a").await.unwrap_err(), Errno::ENODATA);
    assert_eq!(f.xattr_remove(&su(), b"user.a").await.unwrap_err(), Errno::ENODATA);
    // Directories carry them too.
    let d = mkdir(&root, "d").await;
    d.xattr_set(&su(), b"user.dir", Bytes::from_static(b"x"), XattrFlags::empty()).await.unwrap();
    assert_eq!(d.xattr_list(&su()).await.unwrap().len(), 1);
}

#[tokio::test]
async fn create_and_replace_flags() {
    let root = fs().root();
    let (f, _) = create(&root, "f").await;
    let v = |s: &'static [u8]| Bytes::from_static(s);
    assert_eq!(
        f.xattr_set(&su(), b"user.x", v(b"1"), XattrFlags::REPLACE).await.unwrap_err(),
        Errno::ENODATA
    );
    f.xattr_set(&su(), b"user.x", v(b"1"), XattrFlags::CREATE).await.unwrap();
    assert_eq!(
        f.xattr_set(&su(), b"user.x", v(b"2"), XattrFlags::CREATE).await.unwrap_err(),
        Errno::EEXIST
    );
    f.xattr_set(&su(), b"user.x", v(b"3"), XattrFlags::REPLACE).await.unwrap();
    assert_eq!(f.xattr_get(&su(), b"user.x").await.unwrap(), v(b"3"));
    let both = XattrFlags::CREATE | XattrFlags::REPLACE;
    assert_eq!(f.xattr_set(&su(), b"user.x", v(b"4"), both).await.unwrap_err(), Errno::EINVAL);
}

#[tokio::test]
async fn limits_and_accounting() {
    let fs = fs();
    let root = fs.root();
    let (f, _) = create(&root, "f").await;
    let big = Bytes::from(vec![0u8; 64 * 1024 + 1]);
    assert_eq!(
        f.xattr_set(&su(), b"user.big", big, XattrFlags::empty()).await.unwrap_err(),
        Errno::E2BIG
    );
    let ok = Bytes::from(vec![0u8; 64 * 1024]);
    f.xattr_set(&su(), b"user.big", ok, XattrFlags::empty()).await.unwrap();
    assert_eq!(fs.bytes_used(), 64 * 1024 + 8);
    let long = format!("user.{}", "n".repeat(251));
    let r = f.xattr_set(&su(), long.as_bytes(), Bytes::new(), XattrFlags::empty()).await;
    assert_eq!(r.unwrap_err(), Errno::ERANGE);
    assert_eq!(f.xattr_get(&su(), long.as_bytes()).await.unwrap_err(), Errno::ERANGE);
    assert_eq!(
        f.xattr_set(&su(), b"", Bytes::new(), XattrFlags::empty()).await.unwrap_err(),
        Errno::EINVAL
    );
    f.xattr_remove(&su(), b"user.big").await.unwrap();
    assert_eq!(fs.bytes_used(), 0);
}

#[tokio::test]
async fn namespaces_and_permissions() {
    let root = fs().root();
    let (f, _) = create(&root, "f").await;
    let chown = ninefold_proto::l::SetAttr {
        uid: 1000,
        gid: 1000,
        mode: 0o644,
        ..setattr(SetattrMask::UID | SetattrMask::GID | SetattrMask::MODE)
    };
    f.setattr(&su(), &chown).await.unwrap();
    let v = Bytes::from_static(b"v");
    // Owner may write user.*, others (no write bit) may not, but may read.
    f.xattr_set(&user(1000), b"user.a", v.clone(), XattrFlags::empty()).await.unwrap();
    assert_eq!(
        f.xattr_set(&user(2000), b"user.a", v.clone(), XattrFlags::empty()).await.unwrap_err(),
        Errno::EACCES
    );
    assert_eq!(f.xattr_get(&user(2000), b"user.a").await.unwrap(), v);
    // trusted.* is the superuser's, invisible to others.
    assert_eq!(
        f.xattr_set(&user(1000), b"trusted.t", v.clone(), XattrFlags::empty()).await.unwrap_err(),
        Errno::EPERM
    );
    f.xattr_set(&su(), b"trusted.t", v.clone(), XattrFlags::empty()).await.unwrap();
    assert_eq!(f.xattr_get(&user(1000), b"trusted.t").await.unwrap_err(), Errno::ENODATA);
    assert_eq!(f.xattr_list(&user(1000)).await.unwrap(), [Bytes::from_static(b"user.a")]);
    assert_eq!(f.xattr_list(&su()).await.unwrap().len(), 2);
    // security.* and others: the owner.
    f.xattr_set(&user(1000), b"security.x", v.clone(), XattrFlags::empty()).await.unwrap();
    assert_eq!(
        f.xattr_set(&user(2000), b"security.x", v.clone(), XattrFlags::empty()).await.unwrap_err(),
        Errno::EPERM
    );
    // user.* on a symlink: EPERM.
    let l = root.symlink(&su(), b"l", b"f", 0).await.unwrap();
    assert_eq!(
        l.xattr_set(&su(), b"user.a", v, XattrFlags::empty()).await.unwrap_err(),
        Errno::EPERM
    );
}

#[tokio::test]
async fn xattr_changes_update_ctime_only() {
    let root = fs().root();
    let (f, _) = create(&root, "f").await;
    let a0 = attr(&f).await;
    std::thread::sleep(std::time::Duration::from_millis(5));
    f.xattr_set(&su(), b"user.a", Bytes::from_static(b"1"), XattrFlags::empty()).await.unwrap();
    let a1 = attr(&f).await;
    assert_eq!((a0.mtime_sec, a0.mtime_nsec), (a1.mtime_sec, a1.mtime_nsec));
    assert!((a1.ctime_sec, a1.ctime_nsec) > (a0.ctime_sec, a0.ctime_nsec));
    assert_eq!(a0.qid.version, a1.qid.version);
}
