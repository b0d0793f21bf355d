//! Escape suite: requests that try to reach outside a passthrough export.
//!
//! Every test runs twice, with `openat2(RESOLVE_BENEATH)` lookups and
//! with the single-component `openat(O_NOFOLLOW)` fallback. After every
//! attempt a canary file next to the export (`outside/canary`) must be
//! unchanged: same inode, content, mode, owner and mtime, and the outside
//! directory must have gained nothing.
//!
//! Two things are *not* escapes a request can cause, and are documented
//! here rather than prevented:
//! - a hard link the host made from inside the export to an outside file
//!   is the same inode, so it is served like any file of the export
//!   (`pre_existing_hard_link_is_the_same_inode`);
//! - a directory the host moves out of the export while a client holds a
//!   fid on it stays reachable through that fid, and only its own subtree
//!   with it: `RESOLVE_BENEATH` keeps every lookup below the directory
//!   the fid names, `..` never reaches a node and names are single
//!   components, so nothing beside or above the moved directory is
//!   reachable (`directory_moved_out_under_an_open_fid`).

#![cfg(all(feature = "passthrough", target_os = "linux"))]

mod passthrough_support;

use std::os::unix::fs::MetadataExt;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use bytes::Bytes;
use ninefold_proto::l::SetAttr;
use ninefold_proto::{
    Errno, GetattrMask, OpenFlags, Qid, SetattrMask, UnlinkatFlags, XattrFlags, S_IFBLK, S_IFCHR,
};
use ninefold_server::Node;
use passthrough_support::*;

/// One export, its canary, and a count of attempts made.
struct Escape {
    fx: Fixture,
    canary: Canary,
    root: Arc<dyn Node>,
    attempts: AtomicUsize,
    mode: &'static str,
}

impl Escape {
    fn new(openat2: bool) -> Escape {
        let fx = Fixture::new();
        let canary = Canary::new(&fx.outside);
        std::fs::create_dir_all(fx.path("d1/d2/d3")).unwrap();
        std::fs::write(fx.path("inside"), b"inside").unwrap();
        // Planted by the host: links pointing out of the export.
        std::os::unix::fs::symlink(&canary.path, fx.path("abs_link")).unwrap();
        std::os::unix::fs::symlink("../outside/canary", fx.path("rel_link")).unwrap();
        std::os::unix::fs::symlink("../../../../outside/canary", fx.path("d1/d2/d3/deep_link"))
            .unwrap();
        std::os::unix::fs::symlink(&fx.outside, fx.path("abs_dir_link")).unwrap();
        std::os::unix::fs::symlink("../outside", fx.path("rel_dir_link")).unwrap();
        std::os::unix::fs::symlink("/proc/self/root", fx.path("proc_root")).unwrap();
        std::os::unix::fs::symlink("/", fx.path("slash")).unwrap();
        let fs = fx.builder().openat2(Some(openat2)).build().unwrap();
        assert_eq!(fs.uses_openat2(), openat2);
        let root = fs.root();
        Escape {
            fx,
            canary,
            root,
            attempts: AtomicUsize::new(0),
            mode: if openat2 { "openat2" } else { "openat" },
        }
    }

    /// Records one attempt and checks the canary.
    fn check(&self, what: &str) {
        self.attempts.fetch_add(1, Ordering::Relaxed);
        self.canary.check(&format!("[{}] {what}", self.mode));
    }

    /// An attempt that must fail with `errno`.
    fn refused<T: std::fmt::Debug>(&self, what: &str, result: Result<T, Errno>, errno: Errno) {
        match result {
            Err(e) => assert_eq!(e, errno, "[{}] {what}", self.mode),
            Ok(v) => panic!("[{}] {what}: expected {errno:?}, got Ok({v:?})", self.mode),
        }
        self.check(what);
    }

    async fn node(&self, path: &str) -> Arc<dyn Node> {
        walk(&self.root, path).await.unwrap()
    }
}

/// Runs `body` for both lookup modes, and checks it made attempts.
macro_rules! both_modes {
    ($name:ident, $min:expr, |$e:ident| $body:block) => {
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $name() {
            for openat2 in [true, false] {
                let $e = Escape::new(openat2);
                $body
                let made = $e.attempts.load(Ordering::Relaxed);
                assert!(made >= $min, "{} made {made} attempts", stringify!($name));
            }
        }
    };
}

both_modes!(dotdot_at_every_depth, 5, |e| {
    for path in ["", "d1", "d1/d2", "d1/d2/d3"] {
        let dir = e.node(path).await;
        e.refused(&format!("lookup .. at /{path}"), dir.lookup(&req(), b"..").await, Errno::EINVAL);
        e.refused(
            &format!("lookup ../outside at /{path}"),
            dir.lookup(&req(), b"../outside").await,
            Errno::EINVAL,
        );
        e.refused(
            &format!("lookup ../../.. at /{path}"),
            dir.lookup(&req(), b"../../..").await,
            Errno::EINVAL,
        );
    }
    // The root's ".." entry in readdir shows the root itself.
    let entries = list(&e.root, 4096).await;
    assert!(entries.iter().any(|(n, _)| n == b".."));
    e.check("readdir of the root");
});

both_modes!(absolute_and_odd_names, 8, |e| {
    let canary = e.canary.path.to_str().unwrap().as_bytes().to_vec();
    let r = &e.root;
    e.refused("lookup absolute canary path", r.lookup(&req(), &canary).await, Errno::EINVAL);
    e.refused("lookup /etc/passwd", r.lookup(&req(), b"/etc/passwd").await, Errno::EINVAL);
    e.refused("lookup /", r.lookup(&req(), b"/").await, Errno::EINVAL);
    e.refused("lookup .", r.lookup(&req(), b".").await, Errno::EINVAL);
    e.refused("lookup empty", r.lookup(&req(), b"").await, Errno::EINVAL);
    e.refused(
        "lookup with NUL",
        r.lookup(&req(), b"inside\0../../outside/canary").await,
        Errno::EINVAL,
    );
    e.refused("lookup NUL then ..", r.lookup(&req(), b"..\0").await, Errno::EINVAL);
    e.refused("lookup trailing slash", r.lookup(&req(), b"d1/").await, Errno::EINVAL);
    e.refused("lookup 300-byte name", r.lookup(&req(), &[b'a'; 300]).await, Errno::ENAMETOOLONG);
    e.refused(
        "create ../outside/new",
        r.create(&req(), b"../outside/new", OpenFlags::RDWR, 0o644, 0).await,
        Errno::EINVAL,
    );
    e.refused("mkdir ../x", r.mkdir(&req(), b"../x", 0o755, 0).await, Errno::EINVAL);
    e.refused("symlink name with /", r.symlink(&req(), b"a/b", b"x", 0).await, Errno::EINVAL);
    e.refused(
        "mknod name ..",
        r.mknod(&req(), b"..", S_IFCHR | 0o600, 1, 3, 0).await,
        Errno::EINVAL,
    );
    e.refused(
        "unlink ../outside/canary",
        r.unlink(&req(), b"../outside/canary", UnlinkatFlags::empty()).await,
        Errno::EINVAL,
    );
    let inside = e.node("inside").await;
    e.refused(
        "link as ../outside/x",
        r.link(&req(), &inside, b"../outside/x").await,
        Errno::EINVAL,
    );
    e.refused(
        "rename to ../outside/x",
        r.rename(&req(), b"inside", r, b"../outside/x").await,
        Errno::EINVAL,
    );
    e.refused(
        "rename from ../outside/canary",
        r.rename(&req(), b"../outside/canary", r, b"stolen").await,
        Errno::EINVAL,
    );
    assert!(!e.fx.path("stolen").exists());
});

/// Everything a client can try on a symlink node that points at the
/// canary.
async fn abuse_file_link(e: &Escape, path: &str) {
    let link = e.node(path).await;
    assert!(link.qid().is_symlink(), "{path} is a symlink node, never its target");
    for flags in [
        OpenFlags::RDONLY,
        OpenFlags::RDWR,
        OpenFlags::WRONLY | OpenFlags::TRUNC,
        OpenFlags::RDONLY | OpenFlags::NOFOLLOW,
    ] {
        e.refused(
            &format!("open {path} {flags:?}"),
            link.open(&req(), flags).await.map(|_| ()),
            Errno::ELOOP,
        );
    }
    e.refused(&format!("walk through {path}"), link.lookup(&req(), b"x").await, Errno::ENOTDIR);
    let attr = link.getattr(&req(), GetattrMask::ALL).await.unwrap();
    assert_ne!(attr.size, CANARY.len() as u64, "getattr describes the link, not the canary");
    e.check(&format!("getattr {path}"));
    let mut sa = SetAttr { valid: SetattrMask::SIZE, ..SetAttr::default() };
    e.refused(&format!("truncate {path}"), link.setattr(&req(), &sa).await, Errno::EINVAL);
    sa.valid = SetattrMask::MODE;
    sa.mode = 0o777;
    e.refused(&format!("chmod {path}"), link.setattr(&req(), &sa).await, Errno::EOPNOTSUPP);
    // chown and utimes apply to the link itself: the canary stays.
    sa.valid = SetattrMask::UID | SetattrMask::GID | SetattrMask::MTIME | SetattrMask::MTIME_SET;
    sa.uid = 4321;
    sa.gid = 4321;
    sa.mtime_sec = 1;
    link.setattr(&req(), &sa).await.unwrap();
    assert_eq!(std::fs::symlink_metadata(e.fx.path(path)).unwrap().uid(), 4321);
    e.check(&format!("chown+utimes {path}"));
    e.refused(
        &format!("xattr set on {path}"),
        link.xattr_set(&req(), b"user.escape", Bytes::from_static(b"1"), XattrFlags::empty()).await,
        Errno::EPERM,
    );
    e.refused(
        &format!("trusted xattr set on {path}"),
        link.xattr_set(&req(), b"trusted.escape", Bytes::from_static(b"1"), XattrFlags::empty())
            .await,
        Errno::EOPNOTSUPP,
    );
    e.refused(
        &format!("xattr get on {path}"),
        link.xattr_get(&req(), b"user.x").await,
        Errno::ENODATA,
    );
    assert!(rustix::fs::getxattr(&e.canary.path, "user.escape", &mut [0u8; 16]).is_err());
    // Linking the symlink links the symlink.
    let dir = e.node("d1").await;
    let alias = format!("alias_{}", path.replace('/', "_"));
    dir.link(&req(), &link, alias.as_bytes()).await.unwrap();
    assert!(std::fs::symlink_metadata(e.fx.path(&format!("d1/{alias}")))
        .unwrap()
        .file_type()
        .is_symlink());
    assert_eq!(std::fs::metadata(&e.canary.path).unwrap().nlink(), 1, "no hard link to the canary");
    e.check(&format!("link {path}"));
}

both_modes!(symlinks_to_the_canary, 30, |e| {
    abuse_file_link(&e, "abs_link").await;
    abuse_file_link(&e, "rel_link").await;
    abuse_file_link(&e, "d1/d2/d3/deep_link").await;
    // Creating over such a link never writes through it.
    e.refused(
        "create over abs_link",
        e.root
            .create(&req(), b"abs_link", OpenFlags::RDWR | OpenFlags::TRUNC, 0o644, 0)
            .await
            .map(|_| ()),
        Errno::EEXIST,
    );
    // Removing the link removes the link.
    e.root.unlink(&req(), b"rel_link", UnlinkatFlags::empty()).await.unwrap();
    e.check("unlink rel_link");
});

/// Everything a client can try through a symlink node that points at an
/// outside directory.
async fn abuse_dir_link(e: &Escape, path: &str) {
    let link = e.node(path).await;
    assert!(link.qid().is_symlink());
    e.refused(
        &format!("lookup canary via {path}"),
        link.lookup(&req(), b"canary").await,
        Errno::ENOTDIR,
    );
    e.refused(
        &format!("create via {path}"),
        link.create(&req(), b"planted", OpenFlags::RDWR, 0o644, 0).await.map(|_| ()),
        Errno::ENOTDIR,
    );
    e.refused(
        &format!("mkdir via {path}"),
        link.mkdir(&req(), b"planted", 0o755, 0).await,
        Errno::ENOTDIR,
    );
    e.refused(
        &format!("symlink via {path}"),
        link.symlink(&req(), b"planted", b"x", 0).await,
        Errno::ENOTDIR,
    );
    e.refused(
        &format!("mknod via {path}"),
        link.mknod(&req(), b"planted", S_IFCHR | 0o600, 1, 3, 0).await,
        Errno::ENOTDIR,
    );
    let inside = e.node("inside").await;
    e.refused(
        &format!("link via {path}"),
        link.link(&req(), &inside, b"planted").await,
        Errno::ENOTDIR,
    );
    e.refused(
        &format!("unlink canary via {path}"),
        link.unlink(&req(), b"canary", UnlinkatFlags::empty()).await,
        Errno::ENOTDIR,
    );
    e.refused(
        &format!("rename canary out via {path}"),
        link.rename(&req(), b"canary", &e.root, b"stolen").await,
        Errno::ENOTDIR,
    );
    e.refused(
        &format!("rename into {path}"),
        e.root.rename(&req(), b"inside", &link, b"planted").await,
        Errno::ENOTDIR,
    );
    e.refused(
        &format!("open dir {path}"),
        link.open(&req(), OpenFlags::RDONLY | OpenFlags::DIRECTORY).await.map(|_| ()),
        Errno::ELOOP,
    );
}

both_modes!(symlinks_to_outside_directories, 30, |e| {
    abuse_dir_link(&e, "abs_dir_link").await;
    abuse_dir_link(&e, "rel_dir_link").await;
    abuse_dir_link(&e, "proc_root").await;
    abuse_dir_link(&e, "slash").await;
});

both_modes!(symlinks_created_through_the_api, 8, |e| {
    let canary_in_proc = format!("/proc/self/root{}", e.canary.path.display());
    let targets = [
        canary_in_proc.as_str(),
        "/proc/self/root",
        "/proc/self/cwd",
        "/proc/self/fd/0",
        "../../outside/canary",
        "/",
    ];
    for (i, target) in targets.iter().enumerate() {
        let name = format!("made{i}");
        let link = e.root.symlink(&req(), name.as_bytes(), target.as_bytes(), 0).await.unwrap();
        assert_eq!(
            link.readlink(&req()).await.unwrap(),
            Bytes::from(target.as_bytes().to_vec()),
            "stored as data"
        );
        e.refused(
            &format!("open symlink to {target}"),
            link.open(&req(), OpenFlags::RDWR).await.map(|_| ()),
            Errno::ELOOP,
        );
        e.refused(
            &format!("walk symlink to {target}"),
            link.lookup(&req(), b"etc").await,
            Errno::ENOTDIR,
        );
        let again = e.node(&name).await;
        assert!(again.qid().is_symlink());
    }
    e.check("symlinks made");
});

both_modes!(links_and_renames_across_exports, 6, |e| {
    // The outside directory exported separately: its nodes are not ours.
    let outside = ninefold_fs::passthrough::Passthrough::new(&e.fx.outside).unwrap().root();
    let canary = walk(&outside, "canary").await.unwrap();
    e.refused(
        "link outside canary in",
        e.root.link(&req(), &canary, b"stolen").await,
        Errno::EXDEV,
    );
    e.refused(
        "rename inside file out",
        e.root.rename(&req(), b"inside", &outside, b"planted").await,
        Errno::EXDEV,
    );
    e.refused(
        "rename canary in",
        outside.rename(&req(), b"canary", &e.root, b"stolen").await,
        Errno::EXDEV,
    );
    // A node of another filesystem type.
    let alien: Arc<dyn Node> = Arc::new(Outsider);
    e.refused("link alien node", e.root.link(&req(), &alien, b"stolen").await, Errno::EXDEV);
    e.refused(
        "rename into alien dir",
        e.root.rename(&req(), b"inside", &alien, b"x").await,
        Errno::EXDEV,
    );
    // Same host directory, different export instance: still refused.
    let twin = e.fx.fs().root();
    let twin_inside = walk(&twin, "inside").await.unwrap();
    e.refused(
        "link from twin export",
        e.root.link(&req(), &twin_inside, b"twin").await,
        Errno::EXDEV,
    );
    assert!(!e.fx.path("stolen").exists());
});

/// A node that claims to be anything: not a passthrough node.
#[derive(Debug)]
struct Outsider;

#[async_trait]
impl Node for Outsider {
    fn qid(&self) -> Qid {
        Qid { ty: ninefold_proto::QidType::DIR, version: 0, path: 1 }
    }
}

both_modes!(device_nodes_cannot_be_read, 3, |e| {
    // A node for the disk holding the canary, made through the API.
    let dev = std::fs::metadata(&e.canary.path).unwrap().dev();
    let (major, minor) = (rustix::fs::major(dev), rustix::fs::minor(dev));
    let disk = e.root.mknod(&req(), b"disk", S_IFBLK | 0o666, major, minor, 0).await.unwrap();
    for flags in [OpenFlags::RDONLY, OpenFlags::RDWR] {
        e.refused(
            &format!("open block device {flags:?}"),
            disk.open(&req(), flags).await.map(|_| ()),
            Errno::EACCES,
        );
    }
    let mem = e.root.mknod(&req(), b"kmem", S_IFCHR | 0o666, 1, 1, 0).await.unwrap();
    e.refused(
        "open /dev/mem twin",
        mem.open(&req(), OpenFlags::RDONLY).await.map(|_| ()),
        Errno::EACCES,
    );
});

both_modes!(symlink_swapped_in_during_walk_and_open, 1, |e| {
    // A host thread flips "victim" between a regular file and a symlink
    // to the canary, atomically, as fast as it can; meanwhile the client
    // looks it up, opens, reads, writes, truncates and chmods it.
    let victim = e.fx.path("victim");
    let tmp_file = e.fx.path("victim.file");
    let tmp_link = e.fx.path("victim.link");
    std::fs::write(&victim, b"inside!").unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let flipped = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let flipper = {
        let (stop, victim, canary) = (stop.clone(), victim.clone(), e.canary.path.clone());
        let flipped = flipped.clone();
        std::thread::spawn(move || {
            let mut flips = 0u64;
            while !stop.load(Ordering::Relaxed) {
                let _ = std::fs::remove_file(&tmp_link);
                std::os::unix::fs::symlink(&canary, &tmp_link).unwrap();
                std::fs::rename(&tmp_link, &victim).unwrap();
                std::fs::write(&tmp_file, b"inside!").unwrap();
                std::fs::rename(&tmp_file, &victim).unwrap();
                flips += 1;
                flipped.store(flips, Ordering::Relaxed);
                std::thread::sleep(Duration::from_micros(100));
            }
            flips
        })
    };
    // At least 700 ms, and until both sides have run 20 rounds (a loaded
    // machine may need longer), with a cap that only a stall reaches.
    let t0 = Instant::now();
    let (mut links, mut files, mut tries) = (0, 0, 0);
    while t0.elapsed() < Duration::from_millis(700)
        || ((tries <= 20 || flipped.load(Ordering::Relaxed) <= 20)
            && t0.elapsed() < Duration::from_secs(60))
    {
        tries += 1;
        let node = match e.root.lookup(&req(), b"victim").await {
            Ok(n) => n,
            Err(Errno::ENOENT) => continue,
            Err(other) => panic!("lookup: {other:?}"),
        };
        match node.open(&req(), OpenFlags::RDWR).await {
            Ok(opened) => {
                files += 1;
                let h = opened.handle.unwrap();
                let data = h.read(&req(), node.as_ref(), 0, 100).await.unwrap();
                assert!(!e.canary.is_canary(&data), "read the canary through a swapped name");
                h.write(&req(), node.as_ref(), 0, Bytes::from_static(b"written")).await.unwrap();
            }
            Err(Errno::ELOOP) => links += 1,
            Err(other) => panic!("open: {other:?}"),
        }
        let sa = SetAttr {
            valid: SetattrMask::SIZE | SetattrMask::MODE,
            mode: 0o600,
            ..SetAttr::default()
        };
        let _ = node.setattr(&req(), &sa).await;
        let _ = node
            .xattr_set(&req(), b"user.swap", Bytes::from_static(b"1"), XattrFlags::empty())
            .await;
    }
    stop.store(true, Ordering::Relaxed);
    let flips = flipper.join().unwrap();
    e.check("swap race");
    assert!(tries > 20 && flips > 20, "the race ran ({tries} tries, {flips} flips)");
    eprintln!("[{}] swap race: {tries} tries, {files} files opened, {links} symlinks refused, {flips} flips", e.mode);
});

both_modes!(directory_swapped_in_during_walk, 1, |e| {
    // "dir" flips between a real directory holding "canary" (inside
    // content) and a symlink to the outside directory.
    std::fs::create_dir(e.fx.path("real")).unwrap();
    std::fs::write(e.fx.path("real/canary"), b"inside!").unwrap();
    let dir = e.fx.path("dir");
    std::fs::rename(e.fx.path("real"), &dir).unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let flipper = {
        let (stop, dir, outside) = (stop.clone(), dir.clone(), e.fx.outside.clone());
        let parked = e.fx.path("parked");
        let link = e.fx.path("dir.link");
        std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                // real dir -> parked, symlink -> dir, then back.
                std::fs::rename(&dir, &parked).unwrap();
                let _ = std::fs::remove_file(&link);
                std::os::unix::fs::symlink(&outside, &link).unwrap();
                std::fs::rename(&link, &dir).unwrap();
                std::fs::remove_file(&dir).unwrap();
                std::fs::rename(&parked, &dir).unwrap();
                // Let each state last a little, so both are seen.
                std::thread::sleep(Duration::from_micros(200));
            }
        })
    };
    // At least 500 ms, and until the real directory was reached once (a
    // loaded machine may need longer), with a cap that only a stall reaches.
    let t0 = Instant::now();
    let (mut found, mut tries) = (0, 0);
    while t0.elapsed() < Duration::from_millis(500)
        || (found == 0 && t0.elapsed() < Duration::from_secs(60))
    {
        tries += 1;
        let Ok(node) = e.root.lookup(&req(), b"dir").await else { continue };
        match node.lookup(&req(), b"canary").await {
            Ok(c) => {
                let h = open(&c, OpenFlags::RDONLY).await.unwrap();
                assert_eq!(read_all(&c, &h).await.unwrap(), b"inside!");
                found += 1;
            }
            Err(Errno::ENOTDIR) | Err(Errno::ENOENT) => {}
            Err(other) => panic!("lookup through swapped dir: {other:?}"),
        }
    }
    stop.store(true, Ordering::Relaxed);
    flipper.join().unwrap();
    e.check("directory swap race");
    assert!(found > 0, "the real directory was reached ({tries} tries)");
});

both_modes!(directory_moved_out_under_an_open_fid, 3, |e| {
    // Documented behaviour, not prevention: the host moves a directory
    // out of the export while a client holds a fid on it.
    std::fs::create_dir(e.fx.path("sub")).unwrap();
    std::fs::write(e.fx.path("sub/own"), b"subtree").unwrap();
    let sub = e.node("sub").await;
    std::fs::rename(e.fx.path("sub"), e.fx.outside.join("moved")).unwrap();
    // The fid names the moved directory: its own subtree is reachable...
    let own = sub.lookup(&req(), b"own").await.unwrap();
    assert_eq!(
        read_all(&own, &open(&own, OpenFlags::RDONLY).await.unwrap()).await.unwrap(),
        b"subtree"
    );
    // ...and nothing beside or above it.
    e.refused("sibling of moved dir", sub.lookup(&req(), b"canary").await, Errno::ENOENT);
    e.refused(".. from moved dir", sub.lookup(&req(), b"..").await, Errno::EINVAL);
    e.refused("../canary from moved dir", sub.lookup(&req(), b"../canary").await, Errno::EINVAL);
    e.refused(
        "rename into the moved dir's parent",
        sub.rename(&req(), b"own", &sub, b"../canary").await,
        Errno::EINVAL,
    );
});

#[tokio::test]
async fn pre_existing_hard_link_is_the_same_inode() {
    // Documented: a hard link the host made is the outside file's inode;
    // the export serves it. No request can create one (see
    // links_and_renames_across_exports).
    let e = Escape::new(true);
    let shared = e.fx.outside.join("shared");
    std::fs::write(&shared, b"shared").unwrap();
    std::fs::hard_link(&shared, e.fx.path("hardlink")).unwrap();
    let node = e.node("hardlink").await;
    assert_eq!(node.qid().path, std::fs::metadata(&shared).unwrap().ino());
    std::fs::remove_file(&shared).unwrap();
    e.check("hard link served");
}
