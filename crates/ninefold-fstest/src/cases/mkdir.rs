//! Tmkdir.

use ninefold_proto::l::Tmkdir;
use ninefold_proto::{Errno, QidType, S_IFDIR};

use crate::case::cases;
use crate::config::Caps;
use crate::ctx::Ctx;
use crate::expect::{ensure_eq, expect_err, R};

cases! {
    "mkdir/basic", L, Caps::empty(), "Tmkdir gives a QTDIR qid; getattr mode S_IFDIR|0755" => basic;
    "mkdir/exists", L, Caps::empty(), "Tmkdir of an existing name: Rlerror EEXIST(17)" => exists;
    "mkdir/in_file", L, Caps::empty(), "Tmkdir with a file as dfid: Rlerror ENOTDIR(20)" => in_file;
    "mkdir/parent_nlink", L, Caps::empty(), "a new subdirectory raises the parent's nlink by one (ext4)" => parent_nlink;
    "mkdir/name_too_long", L, Caps::empty(), "a 256-byte name: Rlerror ENAMETOOLONG(36)" => name_too_long;
    "mkdir/mode_with_type_bits", L, Caps::empty(), "mode S_IFDIR|0750 (as Linux sends it) gives S_IFDIR|0750" => mode_with_type_bits;
}

async fn raw(cx: &mut Ctx<'_>, dfid: u32, name: &str, mode: u32) -> R<ninefold_proto::Message> {
    let gid = cx.gid;
    cx.rpc(Tmkdir { dfid, name: name.into(), mode, gid }).await
}

async fn basic(cx: &mut Ctx<'_>) -> R<()> {
    let d = cx.dir;
    let q = cx.mkdir(d, "sub", 0o755).await?;
    ensure_eq("qid type", q.ty, QidType::DIR)?;
    let a = cx.stat_at(d, "sub").await?;
    ensure_eq("mode", a.mode, S_IFDIR | 0o755)?;
    ensure_eq("qid.path", a.qid.path, q.path)
}

async fn exists(cx: &mut Ctx<'_>) -> R<()> {
    let d = cx.dir;
    cx.mkfile(d, "x", b"").await?;
    let r = raw(cx, d, "x", 0o755).await?;
    expect_err(&r, &[Errno::EEXIST]).map(|_| ())
}

async fn in_file(cx: &mut Ctx<'_>) -> R<()> {
    let d = cx.dir;
    cx.mkfile(d, "f", b"").await?;
    let f = cx.walk(d, &["f"]).await?;
    let r = raw(cx, f, "x", 0o755).await?;
    expect_err(&r, &[Errno::ENOTDIR]).map(|_| ())
}

async fn parent_nlink(cx: &mut Ctx<'_>) -> R<()> {
    let d = cx.dir;
    let before = cx.getattr(d).await?.nlink;
    cx.mkdir(d, "sub", 0o755).await?;
    ensure_eq("nlink", cx.getattr(d).await?.nlink, before + 1)
}

async fn name_too_long(cx: &mut Ctx<'_>) -> R<()> {
    let d = cx.dir;
    let r = raw(cx, d, &"d".repeat(256), 0o755).await?;
    expect_err(&r, &[Errno::ENAMETOOLONG]).map(|_| ())
}

async fn mode_with_type_bits(cx: &mut Ctx<'_>) -> R<()> {
    let d = cx.dir;
    let r = raw(cx, d, "sub", S_IFDIR | 0o750).await?;
    crate::expect::expect_msg!(r, Rmkdir)?;
    ensure_eq("mode", cx.stat_at(d, "sub").await?.mode, S_IFDIR | 0o750)
}
