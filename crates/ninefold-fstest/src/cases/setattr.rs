//! Tsetattr: each field, "now" times, truncate/extend, unlinked files.

use std::time::Duration;

use ninefold_proto::l::{SetAttr, Tsetattr};
use ninefold_proto::{Errno, OpenFlags, SetattrMask, UnlinkatFlags, S_IFDIR, S_IFREG};

use crate::case::cases;
use crate::config::Caps;
use crate::ctx::Ctx;
use crate::expect::{ensure, ensure_eq, expect_err, R};

cases! {
    "setattr/mode", L, Caps::empty(), "MODE 0600 on a file: getattr mode S_IFREG|0600" => mode;
    "setattr/mode_dir", L, Caps::empty(), "MODE 0700 on a directory keeps S_IFDIR" => mode_dir;
    "setattr/mode_suid", L, Caps::empty(), "MODE 04755 keeps the set-uid bit" => mode_suid;
    "setattr/truncate", L, Caps::empty(), "SIZE 3 shrinks the file and keeps the first 3 bytes" => truncate;
    "setattr/extend", L, Caps::empty(), "SIZE 100 on a 3-byte file extends it with zeros" => extend;
    "setattr/truncate_zero", L, Caps::empty(), "SIZE 0 empties the file" => truncate_zero;
    "setattr/size_dir", L, Caps::empty(), "SIZE on a directory: Rlerror EISDIR(21)" => size_dir;
    "setattr/atime_set", L, Caps::empty(), "ATIME|ATIME_SET stores the given seconds and nanoseconds" => atime_set;
    "setattr/mtime_set", L, Caps::empty(), "MTIME|MTIME_SET stores the given seconds and nanoseconds" => mtime_set;
    "setattr/mtime_now", L, Caps::empty(), "MTIME without MTIME_SET sets mtime to the server's now" => mtime_now;
    "setattr/atime_now", L, Caps::empty(), "ATIME without ATIME_SET sets atime to the server's now" => atime_now;
    "setattr/ctime_only", L, Caps::empty(), "CTIME alone succeeds and does not move ctime backwards" => ctime_only;
    "setattr/chmod_moves_ctime", L, Caps::empty(), "a chmod advances ctime" => chmod_moves_ctime;
    "setattr/same_owner", L, Caps::empty(), "UID|GID set to the current owner succeeds" => same_owner;
    "setattr/chown", L, Caps::PRIVILEGED, "UID 1234 GID 1234 by root is reflected by getattr" => chown;
    "setattr/empty_valid", L, Caps::empty(), "valid 0 succeeds and changes nothing" => empty_valid;
    "setattr/bad_nsec", L, Caps::empty(), "MTIME_SET with nsec >= 10^9: Rlerror EINVAL(22)" => bad_nsec;
    "setattr/unlinked_open", L, Caps::empty(), "ftruncate through an open fid of an unlinked file works" => unlinked_open;
    "setattr/chmod_not_owner", L, Caps::PERMISSIONS, "another uid's MODE change: Rlerror EPERM(1)" => chmod_not_owner;
    "setattr/truncate_no_write_perm", L, Caps::PERMISSIONS, "another uid's SIZE on a 0644 file: Rlerror EACCES(13)" => truncate_no_write_perm;
}

fn sa(valid: SetattrMask) -> SetAttr {
    SetAttr { valid, ..SetAttr::default() }
}

async fn file(cx: &mut Ctx<'_>, data: &[u8]) -> R<u32> {
    let d = cx.dir;
    cx.mkfile(d, "f", data).await?;
    cx.walk(d, &["f"]).await
}

async fn mode(cx: &mut Ctx<'_>) -> R<()> {
    let f = file(cx, b"").await?;
    cx.setattr(f, SetAttr { mode: 0o600, ..sa(SetattrMask::MODE) }).await?;
    ensure_eq("mode", cx.getattr(f).await?.mode, S_IFREG | 0o600)
}

async fn mode_dir(cx: &mut Ctx<'_>) -> R<()> {
    let d = cx.dir;
    cx.mkdir(d, "sub", 0o755).await?;
    let s = cx.walk(d, &["sub"]).await?;
    cx.setattr(s, SetAttr { mode: 0o700, ..sa(SetattrMask::MODE) }).await?;
    ensure_eq("mode", cx.getattr(s).await?.mode, S_IFDIR | 0o700)
}

async fn mode_suid(cx: &mut Ctx<'_>) -> R<()> {
    let f = file(cx, b"").await?;
    cx.setattr(f, SetAttr { mode: 0o4755, ..sa(SetattrMask::MODE) }).await?;
    ensure_eq("mode", cx.getattr(f).await?.mode, S_IFREG | 0o4755)
}

async fn truncate(cx: &mut Ctx<'_>) -> R<()> {
    let f = file(cx, b"0123456789").await?;
    cx.setattr(f, SetAttr { size: 3, ..sa(SetattrMask::SIZE) }).await?;
    let d = cx.dir;
    ensure_eq("content", cx.read_file(d, "f").await?, b"012".to_vec())
}

async fn extend(cx: &mut Ctx<'_>) -> R<()> {
    let f = file(cx, b"abc").await?;
    cx.setattr(f, SetAttr { size: 100, ..sa(SetattrMask::SIZE) }).await?;
    let d = cx.dir;
    let c = cx.read_file(d, "f").await?;
    ensure_eq("size", c.len(), 100)?;
    ensure(&c[..3] == b"abc" && c[3..].iter().all(|&b| b == 0), || {
        "extension not zero-filled".into()
    })
}

async fn truncate_zero(cx: &mut Ctx<'_>) -> R<()> {
    let f = file(cx, b"abc").await?;
    cx.setattr(f, sa(SetattrMask::SIZE)).await?;
    ensure_eq("size", cx.getattr(f).await?.size, 0)
}

async fn size_dir(cx: &mut Ctx<'_>) -> R<()> {
    let d = cx.dir;
    let r = cx.rpc(Tsetattr { fid: d, attr: SetAttr { size: 0, ..sa(SetattrMask::SIZE) } }).await?;
    expect_err(&r, &[Errno::EISDIR]).map(|_| ())
}

async fn atime_set(cx: &mut Ctx<'_>) -> R<()> {
    let f = file(cx, b"").await?;
    cx.setattr(
        f,
        SetAttr {
            atime_sec: 1_000_000_000,
            atime_nsec: 123_456_789,
            ..sa(SetattrMask::ATIME | SetattrMask::ATIME_SET)
        },
    )
    .await?;
    let a = cx.getattr(f).await?;
    ensure_eq("atime", (a.atime_sec, a.atime_nsec), (1_000_000_000, 123_456_789))
}

async fn mtime_set(cx: &mut Ctx<'_>) -> R<()> {
    let f = file(cx, b"").await?;
    cx.setattr(
        f,
        SetAttr {
            mtime_sec: 1_234_567_890,
            mtime_nsec: 5,
            ..sa(SetattrMask::MTIME | SetattrMask::MTIME_SET)
        },
    )
    .await?;
    let a = cx.getattr(f).await?;
    ensure_eq("mtime", (a.mtime_sec, a.mtime_nsec), (1_234_567_890, 5))
}

async fn mtime_now(cx: &mut Ctx<'_>) -> R<()> {
    let f = file(cx, b"").await?;
    cx.setattr(f, SetAttr { mtime_sec: 1000, ..sa(SetattrMask::MTIME | SetattrMask::MTIME_SET) })
        .await?;
    cx.setattr(f, sa(SetattrMask::MTIME)).await?;
    let a = cx.getattr(f).await?;
    ensure(a.mtime_sec > 1_600_000_000, || format!("mtime {} is not now", a.mtime_sec))
}

async fn atime_now(cx: &mut Ctx<'_>) -> R<()> {
    let f = file(cx, b"").await?;
    cx.setattr(f, SetAttr { atime_sec: 1000, ..sa(SetattrMask::ATIME | SetattrMask::ATIME_SET) })
        .await?;
    cx.setattr(f, sa(SetattrMask::ATIME)).await?;
    let a = cx.getattr(f).await?;
    ensure(a.atime_sec > 1_600_000_000, || format!("atime {} is not now", a.atime_sec))
}

fn ns(sec: u64, nsec: u64) -> u128 {
    u128::from(sec) * 1_000_000_000 + u128::from(nsec)
}

async fn ctime_only(cx: &mut Ctx<'_>) -> R<()> {
    let f = file(cx, b"").await?;
    let a = cx.getattr(f).await?;
    cx.setattr(f, sa(SetattrMask::CTIME)).await?;
    let b = cx.getattr(f).await?;
    ensure(ns(b.ctime_sec, b.ctime_nsec) >= ns(a.ctime_sec, a.ctime_nsec), || {
        "ctime went backwards".into()
    })
}

async fn chmod_moves_ctime(cx: &mut Ctx<'_>) -> R<()> {
    let f = file(cx, b"").await?;
    let a = cx.getattr(f).await?;
    tokio::time::sleep(Duration::from_millis(30)).await;
    cx.setattr(f, SetAttr { mode: 0o600, ..sa(SetattrMask::MODE) }).await?;
    let b = cx.getattr(f).await?;
    ensure(ns(b.ctime_sec, b.ctime_nsec) > ns(a.ctime_sec, a.ctime_nsec), || {
        "ctime did not advance".into()
    })
}

async fn same_owner(cx: &mut Ctx<'_>) -> R<()> {
    let f = file(cx, b"").await?;
    let a = cx.getattr(f).await?;
    cx.setattr(f, SetAttr { uid: a.uid, gid: a.gid, ..sa(SetattrMask::UID | SetattrMask::GID) })
        .await?;
    let b = cx.getattr(f).await?;
    ensure_eq("owner", (b.uid, b.gid), (a.uid, a.gid))
}

async fn chown(cx: &mut Ctx<'_>) -> R<()> {
    let f = file(cx, b"").await?;
    cx.setattr(f, SetAttr { uid: 1234, gid: 1234, ..sa(SetattrMask::UID | SetattrMask::GID) })
        .await?;
    let b = cx.getattr(f).await?;
    ensure_eq("owner", (b.uid, b.gid), (1234, 1234))
}

async fn empty_valid(cx: &mut Ctx<'_>) -> R<()> {
    let f = file(cx, b"abc").await?;
    let a = cx.getattr(f).await?;
    cx.setattr(f, SetAttr { mode: 0o777, size: 0, ..sa(SetattrMask::empty()) }).await?;
    let b = cx.getattr(f).await?;
    ensure_eq("mode and size", (b.mode, b.size), (a.mode, a.size))
}

async fn bad_nsec(cx: &mut Ctx<'_>) -> R<()> {
    let f = file(cx, b"").await?;
    let attr = SetAttr {
        mtime_sec: 5,
        mtime_nsec: 1_000_000_000,
        ..sa(SetattrMask::MTIME | SetattrMask::MTIME_SET)
    };
    let r = cx.rpc(Tsetattr { fid: f, attr }).await?;
    expect_err(&r, &[Errno::EINVAL]).map(|_| ())
}

async fn unlinked_open(cx: &mut Ctx<'_>) -> R<()> {
    let d = cx.dir;
    let (f, _) = cx.create(d, "f", OpenFlags::RDWR, 0o644).await?;
    cx.write(f, 0, b"0123456789").await?;
    cx.unlink(d, "f", UnlinkatFlags::empty()).await?;
    cx.setattr(f, SetAttr { size: 4, ..sa(SetattrMask::SIZE) }).await?;
    ensure_eq("size", cx.getattr(f).await?.size, 4)?;
    ensure_eq("data", &cx.read(f, 0, 100).await?[..], &b"0123"[..])
}

async fn other_setattr(cx: &mut Ctx<'_>, attr: SetAttr) -> R<ninefold_proto::Message> {
    file(cx, b"abc").await?;
    let uid = cx.cfg.other_uid;
    let mut o = cx.session_as(uid).await?;
    let od = cx.scratch_in(&mut o).await?;
    let of = o.walk(od, &["f"]).await?;
    o.rpc(Tsetattr { fid: of, attr }).await
}

async fn chmod_not_owner(cx: &mut Ctx<'_>) -> R<()> {
    let r = other_setattr(cx, SetAttr { mode: 0o777, ..sa(SetattrMask::MODE) }).await?;
    expect_err(&r, &[Errno::EPERM]).map(|_| ())
}

async fn truncate_no_write_perm(cx: &mut Ctx<'_>) -> R<()> {
    let r = other_setattr(cx, SetAttr { size: 0, ..sa(SetattrMask::SIZE) }).await?;
    expect_err(&r, &[Errno::EACCES]).map(|_| ())
}
