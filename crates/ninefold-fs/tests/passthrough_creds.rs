//! Passthrough per-request credentials: a request runs with its user's
//! fsuid, fsgid and groups, so the host kernel checks permissions; root
//! requests are unaffected and the server's ids come back every time.
//!
//! These tests need a server running as root (CI does). Without root they
//! fail, unless `NINEFOLD_SKIP_ROOT_TESTS=1` says to leave them out (then
//! each one says so and returns; `scripts/test.sh` lists that skip).

#![cfg(all(feature = "passthrough", target_os = "linux"))]

mod passthrough_support;

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::sync::Arc;

use bytes::Bytes;
use ninefold_fs::passthrough::Passthrough;
use ninefold_proto::l::SetAttr;
use ninefold_proto::{Errno, GetattrMask, OpenFlags, SetattrMask, UnlinkatFlags, XattrFlags};
use ninefold_server::{Handle, Node, Request};
use passthrough_support::*;

const NOBODY: u32 = 65534;

fn is_root() -> bool {
    rustix::process::geteuid().is_root()
}

/// Whether the tests that need root may be left out when not root.
fn root_tests_skipped() -> bool {
    std::env::var_os("NINEFOLD_SKIP_ROOT_TESTS").is_some_and(|v| v == "1")
}

macro_rules! need_root {
    () => {
        if !is_root() {
            assert!(
                root_tests_skipped(),
                "credential switching needs root; run as root or set NINEFOLD_SKIP_ROOT_TESTS=1 to skip"
            );
            eprintln!("not root and NINEFOLD_SKIP_ROOT_TESTS=1: credential test skipped");
            return;
        }
    };
}

fn chmod(path: &std::path::Path, mode: u32) {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

async fn walk_as(root: &Arc<dyn Node>, r: &Request, path: &str) -> Result<Arc<dyn Node>, Errno> {
    let mut node = root.clone();
    for name in path.split('/') {
        node = node.lookup(r, name.as_bytes()).await?;
    }
    Ok(node)
}

async fn open_as(
    node: &Arc<dyn Node>,
    r: &Request,
    flags: OpenFlags,
) -> Result<Arc<dyn Handle>, Errno> {
    Ok(node.open(r, flags).await?.handle.expect("passthrough opens return a handle"))
}

/// `Uid:`, `Gid:` (real, effective, saved, filesystem) and `Groups:` of
/// the calling thread.
fn thread_ids() -> (String, String, String) {
    let status = std::fs::read_to_string("/proc/thread-self/status").unwrap();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .map(|v| v.split_whitespace().collect::<Vec<_>>().join(" "))
            .unwrap_or_default()
    };
    (field("Uid:"), field("Gid:"), field("Groups:"))
}

#[tokio::test]
async fn credentials_default_on_for_root_and_refused_without_it() {
    let fx = Fixture::new();
    if is_root() {
        assert!(fx.builder().credentials(true).build().is_ok());
    } else {
        assert!(fx.builder().credentials(true).build().is_err(), "cannot switch without root");
        assert!(fx.builder().build().is_ok(), "default: off without root");
    }
}

#[tokio::test]
async fn credentials_read_needs_permission() {
    need_root!();
    let fx = Fixture::new();
    std::fs::write(fx.path("secret"), b"root only").unwrap();
    chmod(&fx.path("secret"), 0o600);
    std::fs::write(fx.path("open"), b"everyone").unwrap();
    chmod(&fx.path("open"), 0o644);
    let root = fx.root();
    let nobody = req_as(NOBODY);

    let secret = walk_as(&root, &nobody, "secret").await.unwrap();
    assert_eq!(open_as(&secret, &nobody, OpenFlags::RDONLY).await.unwrap_err(), Errno::EACCES);
    assert_eq!(open_as(&secret, &nobody, OpenFlags::WRONLY).await.unwrap_err(), Errno::EACCES);
    let open = walk_as(&root, &nobody, "open").await.unwrap();
    let h = open_as(&open, &nobody, OpenFlags::RDONLY).await.unwrap();
    assert_eq!(&h.read(&nobody, open.as_ref(), 0, 64).await.unwrap()[..], b"everyone");
    assert_eq!(open_as(&open, &nobody, OpenFlags::RDWR).await.unwrap_err(), Errno::EACCES);
    // Truncation without an open handle needs write permission too.
    let mut sa = SetAttr { valid: SetattrMask::SIZE, ..SetAttr::default() };
    sa.size = 0;
    assert_eq!(open.setattr(&nobody, &sa).await.unwrap_err(), Errno::EACCES);

    // A directory without search permission cannot be walked through.
    std::fs::create_dir(fx.path("closed")).unwrap();
    std::fs::write(fx.path("closed/inner"), b"").unwrap();
    chmod(&fx.path("closed"), 0o700);
    assert_eq!(walk_as(&root, &nobody, "closed/inner").await.unwrap_err(), Errno::EACCES);

    // Root is unaffected by any of it.
    let h = open_as(&secret, &req(), OpenFlags::RDWR).await.unwrap();
    assert_eq!(&h.read(&req(), secret.as_ref(), 0, 64).await.unwrap()[..], b"root only");
    walk_as(&root, &req(), "closed/inner").await.unwrap();
    // An attach without a numeric uid runs as the server.
    let unnamed = Request::new(ninefold_server::Identity::from_attach("someone", u32::MAX));
    open_as(&secret, &unnamed, OpenFlags::RDONLY).await.unwrap();
}

#[tokio::test]
async fn credentials_create_needs_write_permission_and_gives_ownership() {
    need_root!();
    let fx = Fixture::new();
    chmod(&fx.export, 0o755);
    std::fs::create_dir(fx.path("pub")).unwrap();
    chmod(&fx.path("pub"), 0o777);
    let root = fx.root();
    let nobody = req_as(NOBODY);

    assert_eq!(
        root.create(&nobody, b"f", OpenFlags::RDWR, 0o644, NOBODY).await.unwrap_err(),
        Errno::EACCES
    );
    assert_eq!(root.mkdir(&nobody, b"d", 0o755, NOBODY).await.unwrap_err(), Errno::EACCES);
    assert_eq!(root.symlink(&nobody, b"l", b"x", NOBODY).await.unwrap_err(), Errno::EACCES);
    assert!(!fx.path("f").exists() && !fx.path("d").exists());

    let public = walk_as(&root, &nobody, "pub").await.unwrap();
    let created = public.create(&nobody, b"f", OpenFlags::RDWR, 0o640, NOBODY).await.unwrap();
    let meta = std::fs::metadata(fx.path("pub/f")).unwrap();
    assert_eq!((meta.uid(), meta.gid()), (NOBODY, NOBODY));
    assert_eq!(meta.mode() & 0o7777, 0o640);
    let h = created.opened.handle.unwrap();
    h.write(&nobody, created.node.as_ref(), 0, Bytes::from_static(b"mine")).await.unwrap();
    let attr = created.node.getattr(&nobody, GetattrMask::BASIC).await.unwrap();
    assert_eq!((attr.uid, attr.gid, attr.size), (NOBODY, NOBODY, 4));

    public.mkdir(&nobody, b"d", 0o700, NOBODY).await.unwrap();
    let meta = std::fs::metadata(fx.path("pub/d")).unwrap();
    assert_eq!((meta.uid(), meta.gid(), meta.mode() & 0o7777), (NOBODY, NOBODY, 0o700));
    public.symlink(&nobody, b"l", b"target", NOBODY).await.unwrap();
    let meta = std::fs::symlink_metadata(fx.path("pub/l")).unwrap();
    assert_eq!((meta.uid(), meta.gid()), (NOBODY, NOBODY));

    // A group the user is not a member of is not given: the host's stays.
    public.create(&nobody, b"g", OpenFlags::RDWR, 0o600, 0).await.unwrap();
    let meta = std::fs::metadata(fx.path("pub/g")).unwrap();
    assert_eq!((meta.uid(), meta.gid()), (NOBODY, NOBODY));

    // A uid the host does not know: gid 65534, no groups.
    let stranger = req_as(4_242_424);
    public.mknod(&stranger, b"fifo", ninefold_proto::S_IFIFO | 0o600, 0, 0, 7).await.unwrap();
    let meta = std::fs::metadata(fx.path("pub/fifo")).unwrap();
    assert_eq!((meta.uid(), meta.gid()), (4_242_424, NOBODY));
    // Device nodes need CAP_MKNOD, which a user's fsuid drops.
    assert_eq!(
        public.mknod(&nobody, b"null", ninefold_proto::S_IFCHR | 0o666, 1, 3, 0).await.unwrap_err(),
        Errno::EPERM
    );

    // Root still gives new objects the gid it sends.
    root.create(&req(), b"r", OpenFlags::RDWR, 0o600, 7).await.unwrap();
    let meta = std::fs::metadata(fx.path("r")).unwrap();
    assert_eq!((meta.uid(), meta.gid()), (0, 7));
}

#[tokio::test]
async fn credentials_setgid_directory_group_is_inherited() {
    need_root!();
    let fx = Fixture::new();
    std::fs::create_dir(fx.path("sg")).unwrap();
    std::os::unix::fs::chown(fx.path("sg"), None, Some(4321)).unwrap();
    chmod(&fx.path("sg"), 0o2777);
    let root = fx.root();
    let nobody = req_as(NOBODY);
    let sg = walk_as(&root, &nobody, "sg").await.unwrap();
    // Linux sends the setgid parent's group; the host gives it anyway.
    sg.mkdir(&nobody, b"sub", 0o755, 4321).await.unwrap();
    let meta = std::fs::metadata(fx.path("sg/sub")).unwrap();
    assert_eq!((meta.uid(), meta.gid()), (NOBODY, 4321));
    assert_eq!(meta.mode() & 0o7777, 0o2755, "the setgid bit is inherited");
    sg.create(&nobody, b"f", OpenFlags::RDWR, 0o644, 4321).await.unwrap();
    assert_eq!(std::fs::metadata(fx.path("sg/f")).unwrap().gid(), 4321);
}

#[tokio::test]
async fn credentials_chmod_chown_by_non_owner() {
    need_root!();
    let fx = Fixture::new();
    std::fs::write(fx.path("roots"), b"").unwrap();
    chmod(&fx.path("roots"), 0o666);
    std::fs::write(fx.path("theirs"), b"").unwrap();
    std::os::unix::fs::chown(fx.path("theirs"), Some(NOBODY), Some(NOBODY)).unwrap();
    let root = fx.root();
    let nobody = req_as(NOBODY);
    let mut mode = SetAttr { valid: SetattrMask::MODE, ..SetAttr::default() };
    mode.mode = 0o600;

    let roots = walk_as(&root, &nobody, "roots").await.unwrap();
    assert_eq!(roots.setattr(&nobody, &mode).await.unwrap_err(), Errno::EPERM);
    assert_eq!(std::fs::metadata(fx.path("roots")).unwrap().mode() & 0o777, 0o666);
    let theirs = walk_as(&root, &nobody, "theirs").await.unwrap();
    theirs.setattr(&nobody, &mode).await.unwrap();
    assert_eq!(std::fs::metadata(fx.path("theirs")).unwrap().mode() & 0o777, 0o600);

    // Giving a file away needs CAP_CHOWN.
    let mut own = SetAttr { valid: SetattrMask::UID, ..SetAttr::default() };
    own.uid = 0;
    assert_eq!(theirs.setattr(&nobody, &own).await.unwrap_err(), Errno::EPERM);
    // Explicit times on someone else's file: EPERM; "now" needs write
    // permission (0666 gives it).
    let mut times =
        SetAttr { valid: SetattrMask::MTIME | SetattrMask::MTIME_SET, ..SetAttr::default() };
    times.mtime_sec = 1;
    assert_eq!(roots.setattr(&nobody, &times).await.unwrap_err(), Errno::EPERM);
    let now = SetAttr { valid: SetattrMask::ATIME | SetattrMask::MTIME, ..SetAttr::default() };
    roots.setattr(&nobody, &now).await.unwrap();

    // Root may do all of it.
    walk_as(&root, &req(), "roots").await.unwrap().setattr(&req(), &mode).await.unwrap();
    theirs.setattr(&req(), &own).await.unwrap();
    assert_eq!(std::fs::metadata(fx.path("theirs")).unwrap().uid(), 0);
}

#[tokio::test]
async fn credentials_sticky_directory_unlink() {
    need_root!();
    let fx = Fixture::new();
    std::fs::create_dir(fx.path("tmp")).unwrap();
    chmod(&fx.path("tmp"), 0o1777);
    std::fs::create_dir(fx.path("open")).unwrap();
    chmod(&fx.path("open"), 0o777);
    for dir in ["tmp", "open"] {
        std::fs::write(fx.path(&format!("{dir}/roots")), b"").unwrap();
    }
    let root = fx.root();
    let nobody = req_as(NOBODY);
    let tmp = walk_as(&root, &nobody, "tmp").await.unwrap();
    tmp.create(&nobody, b"mine", OpenFlags::RDWR, 0o600, NOBODY).await.unwrap();

    assert_eq!(
        tmp.unlink(&nobody, b"roots", UnlinkatFlags::empty()).await.unwrap_err(),
        Errno::EPERM
    );
    let open = walk_as(&root, &nobody, "open").await.unwrap();
    assert_eq!(tmp.rename(&nobody, b"roots", &open, b"taken").await.unwrap_err(), Errno::EPERM);
    tmp.unlink(&nobody, b"mine", UnlinkatFlags::empty()).await.unwrap();
    assert!(fx.path("tmp/roots").exists() && !fx.path("tmp/mine").exists());
    // Without the sticky bit, write permission on the directory suffices.
    open.unlink(&nobody, b"roots", UnlinkatFlags::empty()).await.unwrap();
    // Root removes anything.
    tmp.unlink(&req(), b"roots", UnlinkatFlags::empty()).await.unwrap();
}

#[tokio::test]
async fn credentials_write_by_non_owner_clears_set_id_bits() {
    need_root!();
    let fx = Fixture::new();
    std::fs::write(fx.path("suid"), b"").unwrap();
    chmod(&fx.path("suid"), 0o6777);
    let root = fx.root();
    let nobody = req_as(NOBODY);
    let f = walk_as(&root, &nobody, "suid").await.unwrap();
    let h = open_as(&f, &nobody, OpenFlags::WRONLY).await.unwrap();
    h.write(&nobody, f.as_ref(), 0, Bytes::from_static(b"x")).await.unwrap();
    assert_eq!(std::fs::metadata(fx.path("suid")).unwrap().mode() & 0o7777, 0o777);
}

#[tokio::test]
async fn credentials_supplementary_groups_from_the_user_database() {
    need_root!();
    // A host user with a supplementary group, if the host has one.
    let Some((uid, group)) = user_with_supplementary_group() else {
        eprintln!("no host user with a supplementary group: skipped");
        return;
    };
    let fx = Fixture::new();
    std::fs::write(fx.path("grp"), b"group data").unwrap();
    std::os::unix::fs::chown(fx.path("grp"), Some(0), Some(group)).unwrap();
    chmod(&fx.path("grp"), 0o040);
    let root = fx.root();
    let user = req_as(uid);
    let f = walk_as(&root, &user, "grp").await.unwrap();
    let h = open_as(&f, &user, OpenFlags::RDONLY).await.unwrap();
    assert_eq!(&h.read(&user, f.as_ref(), 0, 64).await.unwrap()[..], b"group data");
    assert_eq!(open_as(&f, &req_as(NOBODY), OpenFlags::RDONLY).await.unwrap_err(), Errno::EACCES);
}

/// `(uid, gid)` of a host user listed as a member of a group other than
/// its primary one, from /etc/passwd and /etc/group.
fn user_with_supplementary_group() -> Option<(u32, u32)> {
    let passwd = std::fs::read_to_string("/etc/passwd").ok()?;
    let group = std::fs::read_to_string("/etc/group").ok()?;
    let users: Vec<(String, u32, u32)> = passwd
        .lines()
        .filter_map(|l| {
            let f: Vec<_> = l.split(':').collect();
            Some((f.first()?.to_string(), f.get(2)?.parse().ok()?, f.get(3)?.parse().ok()?))
        })
        .collect();
    for line in group.lines() {
        let f: Vec<_> = line.split(':').collect();
        let (Some(gid), Some(members)) = (f.get(2).and_then(|g| g.parse::<u32>().ok()), f.get(3))
        else {
            continue;
        };
        for member in members.split(',').filter(|m| !m.is_empty()) {
            if let Some((_, uid, primary)) = users.iter().find(|(n, ..)| n == member) {
                if *uid != 0 && *primary != gid {
                    return Some((*uid, gid));
                }
            }
        }
    }
    None
}

#[tokio::test]
async fn credentials_trusted_xattrs_refused_to_users() {
    need_root!();
    let fx = Fixture::new();
    std::fs::write(fx.path("f"), b"").unwrap();
    std::os::unix::fs::chown(fx.path("f"), Some(NOBODY), Some(NOBODY)).unwrap();
    let root = fx.root();
    let f = walk_as(&root, &req(), "f").await.unwrap();
    if f.xattr_set(&req(), b"trusted.k", Bytes::from_static(b"v"), XattrFlags::empty())
        .await
        .is_err()
    {
        eprintln!("temp fs has no trusted xattrs: skipped");
        return;
    }
    let nobody = req_as(NOBODY);
    assert_eq!(f.xattr_get(&nobody, b"trusted.k").await.unwrap_err(), Errno::ENODATA);
    assert!(!f.xattr_list(&nobody).await.unwrap().iter().any(|n| n.starts_with(b"trusted.")));
    assert_eq!(
        f.xattr_set(&nobody, b"trusted.k", Bytes::from_static(b"w"), XattrFlags::empty())
            .await
            .unwrap_err(),
        Errno::EPERM
    );
    assert_eq!(f.xattr_remove(&nobody, b"trusted.k").await.unwrap_err(), Errno::EPERM);
    assert_eq!(f.xattr_get(&req(), b"trusted.k").await.unwrap(), Bytes::from_static(b"v"));
    // The owner's user.* attributes work as the user.
    if f.xattr_set(&nobody, b"user.k", Bytes::from_static(b"u"), XattrFlags::empty()).await.is_ok()
    {
        assert_eq!(f.xattr_get(&nobody, b"user.k").await.unwrap(), Bytes::from_static(b"u"));
    }
}

/// An export holding `secret` (root's, mode 0600) and `pub` (a directory
/// anyone may write in).
fn secret_and_public() -> Fixture {
    let fx = Fixture::new();
    std::fs::write(fx.path("secret"), b"s").unwrap();
    chmod(&fx.path("secret"), 0o600);
    std::fs::create_dir(fx.path("pub")).unwrap();
    chmod(&fx.path("pub"), 0o777);
    fx
}

/// One blocking thread serves every request in turn: after each user
/// request (failing or not) the thread is root again, and a root request
/// right after it works.
#[test]
fn credentials_restored_on_the_same_blocking_thread() {
    need_root!();
    let rt = tokio::runtime::Builder::new_current_thread()
        .max_blocking_threads(1)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let fx = secret_and_public();
        let fs: Passthrough = fx.fs();
        let root = fs.root();
        let before = tokio::task::spawn_blocking(thread_ids).await.unwrap();
        assert!(before.0.starts_with("0 0 0 0"), "server runs as root: {before:?}");
        let secret = walk_as(&root, &req(), "secret").await.unwrap();
        let public = walk_as(&root, &req(), "pub").await.unwrap();
        for i in 0..50u32 {
            let user = req_as(if i % 2 == 0 { NOBODY } else { 1000 + i });
            // A failing user request (early return inside the closure)...
            assert_eq!(
                open_as(&secret, &user, OpenFlags::RDONLY).await.unwrap_err(),
                Errno::EACCES
            );
            // ...and a succeeding one...
            let name = format!("f{i}");
            public.create(&user, name.as_bytes(), OpenFlags::RDWR, 0o600, 0).await.unwrap();
            // ...leave the thread as it was: a root request works.
            open_as(&secret, &req(), OpenFlags::RDWR).await.unwrap();
            root.create(&req(), name.as_bytes(), OpenFlags::RDWR, 0o600, 0).await.unwrap();
            assert_eq!(std::fs::metadata(fx.path(&name)).unwrap().uid(), 0);
            let now = tokio::task::spawn_blocking(thread_ids).await.unwrap();
            assert_eq!(now, before, "iteration {i}: the thread's ids came back");
        }
    });
}

/// A user whose ids are known runs on the request's own thread (no
/// hand-off to the pool): the runtime's thread wears the user's ids only
/// for the call, whatever its outcome, and root requests right after it
/// are root's.
#[test]
fn credentials_restored_on_the_runtime_thread() {
    need_root!();
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async {
        let fx = secret_and_public();
        let fs: Passthrough = fx.fs();
        let root = fs.root();
        let before = thread_ids();
        assert!(before.0.starts_with("0 0 0 0"), "server runs as root: {before:?}");
        let secret = walk_as(&root, &req(), "secret").await.unwrap();
        let public = walk_as(&root, &req(), "pub").await.unwrap();
        let nobody = req_as(NOBODY);
        for i in 0..50u32 {
            // Refused as the user (the kernel checked nobody's ids)...
            assert_eq!(
                open_as(&secret, &nobody, OpenFlags::RDONLY).await.unwrap_err(),
                Errno::EACCES
            );
            assert_eq!(thread_ids(), before, "iteration {i}: after a refused call");
            // ...created as the user, and written as the user...
            let name = format!("n{i}");
            let made = public.create(&nobody, name.as_bytes(), OpenFlags::RDWR, 0o6777, 0).await;
            let made = made.unwrap();
            let handle = made.opened.handle.expect("an open handle");
            handle.write(&nobody, made.node.as_ref(), 0, Bytes::from_static(b"x")).await.unwrap();
            assert_eq!(thread_ids(), before, "iteration {i}: after a write");
            let meta = std::fs::metadata(fx.path(&format!("pub/{name}"))).unwrap();
            assert_eq!((meta.uid(), meta.gid()), (NOBODY, NOBODY), "iteration {i}: owner");
            // (a user cannot make a set-group-id file of a group it is not
            // in, and a write by a non-root user clears set-user-id)
            assert_eq!(meta.mode() & 0o6000, 0, "iteration {i}: set-id bits kept");
            // ...and root's requests are root's again.
            open_as(&secret, &req(), OpenFlags::RDWR).await.unwrap();
            root.create(&req(), name.as_bytes(), OpenFlags::RDWR, 0o600, 0).await.unwrap();
            assert_eq!(std::fs::metadata(fx.path(&name)).unwrap().uid(), 0);
        }
    });
}
