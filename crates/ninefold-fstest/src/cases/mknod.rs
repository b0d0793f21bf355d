//! Tmknod.

use ninefold_proto::l::Tmknod;
use ninefold_proto::{Errno, Message, S_IFCHR, S_IFDIR, S_IFIFO, S_IFMT, S_IFREG, S_IFSOCK};

use crate::case::cases;
use crate::config::Caps;
use crate::ctx::Ctx;
use crate::expect::{ensure_eq, expect_err, expect_msg, R};

cases! {
    "mknod/fifo", L, Caps::MKNOD, "Tmknod S_IFIFO|0644: getattr mode S_IFIFO|0644" => fifo;
    "mknod/socket", L, Caps::MKNOD, "Tmknod S_IFSOCK|0644: getattr mode S_IFSOCK|0644" => socket;
    "mknod/regular", L, Caps::MKNOD, "Tmknod S_IFREG makes an empty regular file (mknod(2) allows it)" => regular;
    "mknod/exists", L, Caps::MKNOD, "Tmknod onto an existing name: Rlerror EEXIST(17)" => exists;
    "mknod/dir_type", L, Caps::MKNOD, "Tmknod S_IFDIR: Rlerror EPERM(1) (mknod(2) refuses directories)" => dir_type;
    "mknod/char_device", L, Caps::MKNOD | Caps::PRIVILEGED, "Tmknod S_IFCHR 1,3: getattr S_IFCHR and rdev 0x103" => char_device;
}

async fn mknod(cx: &mut Ctx<'_>, name: &str, mode: u32, major: u32, minor: u32) -> R<Message> {
    let d = cx.dir;
    let gid = cx.gid;
    cx.rpc(Tmknod { dfid: d, name: name.into(), mode, major, minor, gid }).await
}

async fn made(cx: &mut Ctx<'_>, mode: u32) -> R<()> {
    expect_msg!(mknod(cx, "n", mode, 0, 0).await?, Rmknod)?;
    let d = cx.dir;
    ensure_eq("mode", cx.stat_at(d, "n").await?.mode, mode)
}

async fn fifo(cx: &mut Ctx<'_>) -> R<()> {
    made(cx, S_IFIFO | 0o644).await
}

async fn socket(cx: &mut Ctx<'_>) -> R<()> {
    made(cx, S_IFSOCK | 0o644).await
}

async fn regular(cx: &mut Ctx<'_>) -> R<()> {
    made(cx, S_IFREG | 0o644).await?;
    let d = cx.dir;
    ensure_eq("size", cx.stat_at(d, "n").await?.size, 0)
}

async fn exists(cx: &mut Ctx<'_>) -> R<()> {
    let d = cx.dir;
    cx.mkfile(d, "n", b"").await?;
    expect_err(&mknod(cx, "n", S_IFIFO | 0o644, 0, 0).await?, &[Errno::EEXIST]).map(|_| ())
}

async fn dir_type(cx: &mut Ctx<'_>) -> R<()> {
    expect_err(&mknod(cx, "n", S_IFDIR | 0o755, 0, 0).await?, &[Errno::EPERM]).map(|_| ())
}

async fn char_device(cx: &mut Ctx<'_>) -> R<()> {
    expect_msg!(mknod(cx, "n", S_IFCHR | 0o600, 1, 3).await?, Rmknod)?;
    let d = cx.dir;
    let a = cx.stat_at(d, "n").await?;
    ensure_eq("type", a.mode & S_IFMT, S_IFCHR)?;
    ensure_eq("rdev", a.rdev, 0x103)
}
