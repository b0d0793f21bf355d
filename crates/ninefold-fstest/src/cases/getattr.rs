//! Tgetattr: masks, fields, changes.

use std::time::Duration;

use ninefold_proto::l::Tgetattr;
use ninefold_proto::{GetattrMask, OpenFlags, S_IFDIR, S_IFMT, S_IFREG};

use crate::case::cases;
use crate::config::Caps;
use crate::ctx::Ctx;
use crate::expect::{ensure, ensure_eq, expect_err, R};

cases! {
    "getattr/file_basic", L, Caps::empty(), "mask BASIC on a file: valid covers BASIC; mode S_IFREG|0644, size, nlink 1" => file_basic;
    "getattr/dir_basic", L, Caps::empty(), "a directory: S_IFDIR, nlink >= 2, qid type QTDIR" => dir_basic;
    "getattr/all_mask", L, Caps::empty(), "mask ALL: Rgetattr whose valid includes BASIC" => all_mask;
    "getattr/zero_mask", L, Caps::empty(), "mask 0 still gives Rgetattr" => zero_mask;
    "getattr/qid_matches_walk", L, Caps::empty(), "Rgetattr qid equals the walk qid" => qid_matches_walk;
    "getattr/size_follows_writes", L, Caps::empty(), "size tracks writes and truncation" => size_follows_writes;
    "getattr/blocks_sparse", L, Caps::SPARSE, "a sparse 8 MiB file with 3 bytes written reports blocks well under size/512" => blocks_sparse;
    "getattr/blksize_sane", L, Caps::empty(), "blksize is a non-zero power of two" => blksize_sane;
    "getattr/mtime_advances", L, Caps::empty(), "a write moves mtime and ctime forward" => mtime_advances;
    "getattr/open_fid", L, Caps::empty(), "Tgetattr works on an open fid and an unopened one alike" => open_fid;
    "getattr/bad_fid", L, Caps::empty(), "Tgetattr on an unknown fid: an error reply (EBADF)" => bad_fid;
    "getattr/owner", L, Caps::PERMISSIONS, "a file created by the attached uid is owned by that uid" => owner;
}

async fn file_basic(cx: &mut Ctx<'_>) -> R<()> {
    let d = cx.dir;
    cx.mkfile(d, "f", b"12345").await?;
    let f = cx.walk(d, &["f"]).await?;
    let (valid, a) = cx.getattr_mask(f, GetattrMask::BASIC).await?;
    ensure(valid.contains(GetattrMask::BASIC), || format!("valid {valid:?} lacks BASIC"))?;
    ensure_eq("mode", a.mode, S_IFREG | 0o644)?;
    ensure_eq("size", a.size, 5)?;
    ensure_eq("nlink", a.nlink, 1)
}

async fn dir_basic(cx: &mut Ctx<'_>) -> R<()> {
    let d = cx.dir;
    let a = cx.getattr(d).await?;
    ensure_eq("type", a.mode & S_IFMT, S_IFDIR)?;
    ensure(a.nlink >= 2, || format!("nlink {}", a.nlink))?;
    ensure(a.qid.is_dir(), || "qid not QTDIR".into())
}

async fn all_mask(cx: &mut Ctx<'_>) -> R<()> {
    let d = cx.dir;
    let (valid, _) = cx.getattr_mask(d, GetattrMask::ALL).await?;
    ensure(valid.contains(GetattrMask::BASIC), || format!("valid {valid:?}"))
}

async fn zero_mask(cx: &mut Ctx<'_>) -> R<()> {
    let d = cx.dir;
    cx.getattr_mask(d, GetattrMask::empty()).await?;
    Ok(())
}

async fn qid_matches_walk(cx: &mut Ctx<'_>) -> R<()> {
    let d = cx.dir;
    cx.mkfile(d, "f", b"").await?;
    let (f, q) = cx.walk_qids(d, &["f"]).await?;
    let a = cx.getattr(f).await?;
    ensure_eq("qid.path", a.qid.path, q[0].path)?;
    ensure_eq("qid.type", a.qid.ty, q[0].ty)
}

async fn size_follows_writes(cx: &mut Ctx<'_>) -> R<()> {
    let d = cx.dir;
    let (f, _) = cx.create(d, "f", OpenFlags::RDWR, 0o644).await?;
    cx.write(f, 0, &[1; 100]).await?;
    ensure_eq("after 100", cx.getattr(f).await?.size, 100)?;
    cx.write(f, 1000, &[1; 10]).await?;
    ensure_eq("after write at 1000", cx.getattr(f).await?.size, 1010)
}

async fn blocks_sparse(cx: &mut Ctx<'_>) -> R<()> {
    let d = cx.dir;
    let (f, _) = cx.create(d, "f", OpenFlags::RDWR, 0o644).await?;
    cx.write(f, 8 << 20, b"end").await?;
    let a = cx.getattr(f).await?;
    ensure(a.blocks < (8 << 20) / 512 / 2, || {
        format!("blocks {} for a sparse file of size {}", a.blocks, a.size)
    })
}

async fn blksize_sane(cx: &mut Ctx<'_>) -> R<()> {
    let d = cx.dir;
    cx.mkfile(d, "f", b"x").await?;
    let f = cx.walk(d, &["f"]).await?;
    let a = cx.getattr(f).await?;
    ensure(a.blksize > 0 && a.blksize.is_power_of_two(), || format!("blksize {}", a.blksize))
}

fn ns(sec: u64, nsec: u64) -> u128 {
    u128::from(sec) * 1_000_000_000 + u128::from(nsec)
}

async fn mtime_advances(cx: &mut Ctx<'_>) -> R<()> {
    let d = cx.dir;
    let (f, _) = cx.create(d, "f", OpenFlags::RDWR, 0o644).await?;
    let a = cx.getattr(f).await?;
    tokio::time::sleep(Duration::from_millis(30)).await;
    cx.write(f, 0, b"x").await?;
    let b = cx.getattr(f).await?;
    ensure(ns(b.mtime_sec, b.mtime_nsec) > ns(a.mtime_sec, a.mtime_nsec), || {
        "mtime did not advance".into()
    })?;
    ensure(ns(b.ctime_sec, b.ctime_nsec) > ns(a.ctime_sec, a.ctime_nsec), || {
        "ctime did not advance".into()
    })
}

async fn open_fid(cx: &mut Ctx<'_>) -> R<()> {
    let d = cx.dir;
    cx.mkfile(d, "f", b"abc").await?;
    let a = cx.walk(d, &["f"]).await?;
    let b = cx.open_at(d, "f", OpenFlags::RDONLY).await?;
    ensure_eq("size", cx.getattr(a).await?.size, cx.getattr(b).await?.size)
}

async fn bad_fid(cx: &mut Ctx<'_>) -> R<()> {
    let r = cx.rpc(Tgetattr { fid: 0x00ab_cdef, request_mask: GetattrMask::BASIC }).await?;
    expect_err(&r, &[ninefold_proto::Errno::EBADF]).map(|_| ())
}

async fn owner(cx: &mut Ctx<'_>) -> R<()> {
    let d = cx.dir;
    cx.mkfile(d, "f", b"").await?;
    let f = cx.walk(d, &["f"]).await?;
    ensure_eq("uid", cx.getattr(f).await?.uid, cx.cfg.uid)
}
