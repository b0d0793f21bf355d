//! Tlink: hard links.

use ninefold_proto::l::Tlink;
use ninefold_proto::{Errno, Message, UnlinkatFlags};

use crate::case::cases;
use crate::config::Caps;
use crate::ctx::Ctx;
use crate::expect::{ensure_eq, expect_err, expect_msg, R};

cases! {
    "link/basic", L, Caps::HARDLINK, "Tlink: same qid.path, nlink 2, shared content" => basic;
    "link/exists", L, Caps::HARDLINK, "Tlink onto an existing name: Rlerror EEXIST(17)" => exists;
    "link/dir", L, Caps::HARDLINK, "Tlink of a directory: Rlerror EPERM(1)" => dir;
    "link/cross_dir", L, Caps::HARDLINK, "Tlink into another directory" => cross_dir;
    "link/unlink_one", L, Caps::HARDLINK, "unlinking one name leaves the other with nlink 1" => unlink_one;
    "link/dfid_not_dir", L, Caps::HARDLINK, "Tlink with a file as dfid: Rlerror ENOTDIR(20)" => dfid_not_dir;
}

async fn link(cx: &mut Ctx<'_>, dfid: u32, fid: u32, name: &str) -> R<Message> {
    cx.rpc(Tlink { dfid, fid, name: name.into() }).await
}

async fn basic(cx: &mut Ctx<'_>) -> R<()> {
    let d = cx.dir;
    cx.mkfile(d, "a", b"shared").await?;
    let a = cx.walk(d, &["a"]).await?;
    expect_msg!(link(cx, d, a, "b").await?, Rlink)?;
    let sa = cx.stat_at(d, "a").await?;
    let sb = cx.stat_at(d, "b").await?;
    ensure_eq("qid.path", sb.qid.path, sa.qid.path)?;
    ensure_eq("nlink", sb.nlink, 2)?;
    ensure_eq("content", cx.read_file(d, "b").await?, b"shared".to_vec())
}

async fn exists(cx: &mut Ctx<'_>) -> R<()> {
    let d = cx.dir;
    cx.mkfile(d, "a", b"").await?;
    cx.mkfile(d, "b", b"").await?;
    let a = cx.walk(d, &["a"]).await?;
    expect_err(&link(cx, d, a, "b").await?, &[Errno::EEXIST]).map(|_| ())
}

async fn dir(cx: &mut Ctx<'_>) -> R<()> {
    let d = cx.dir;
    cx.mkdir(d, "sub", 0o755).await?;
    let s = cx.walk(d, &["sub"]).await?;
    expect_err(&link(cx, d, s, "l").await?, &[Errno::EPERM]).map(|_| ())
}

async fn cross_dir(cx: &mut Ctx<'_>) -> R<()> {
    let d = cx.dir;
    cx.mkdir(d, "sub", 0o755).await?;
    let s = cx.walk(d, &["sub"]).await?;
    cx.mkfile(d, "a", b"x").await?;
    let a = cx.walk(d, &["a"]).await?;
    expect_msg!(link(cx, s, a, "b").await?, Rlink)?;
    ensure_eq("sub/b", cx.read_file(s, "b").await?, b"x".to_vec())
}

async fn unlink_one(cx: &mut Ctx<'_>) -> R<()> {
    let d = cx.dir;
    cx.mkfile(d, "a", b"x").await?;
    let a = cx.walk(d, &["a"]).await?;
    expect_msg!(link(cx, d, a, "b").await?, Rlink)?;
    cx.unlink(d, "a", UnlinkatFlags::empty()).await?;
    let sb = cx.stat_at(d, "b").await?;
    ensure_eq("nlink", sb.nlink, 1)?;
    ensure_eq("content", cx.read_file(d, "b").await?, b"x".to_vec())
}

async fn dfid_not_dir(cx: &mut Ctx<'_>) -> R<()> {
    let d = cx.dir;
    cx.mkfile(d, "a", b"").await?;
    let a = cx.walk(d, &["a"]).await?;
    expect_err(&link(cx, a, a, "b").await?, &[Errno::ENOTDIR]).map(|_| ())
}
