//! Tsymlink and Treadlink.

use ninefold_proto::l::{Treadlink, Tsymlink};
use ninefold_proto::{Errno, Message, OpenFlags, QidType, S_IFLNK};

use crate::case::cases;
use crate::config::Caps;
use crate::ctx::Ctx;
use crate::expect::{describe, ensure_eq, expect_err, expect_msg, fail, R};
use crate::session::twalk;

cases! {
    "symlink/basic", L, Caps::SYMLINK, "Tsymlink gives a QTSYMLINK qid; Treadlink returns the target" => basic;
    "symlink/exists", L, Caps::SYMLINK, "Tsymlink onto an existing name: Rlerror EEXIST(17)" => exists;
    "symlink/dangling", L, Caps::SYMLINK, "a symlink to a missing target can be created and read" => dangling;
    "symlink/getattr", L, Caps::SYMLINK, "getattr of a symlink: S_IFLNK, size = target length" => getattr;
    "symlink/readlink_on_file", L, Caps::SYMLINK, "Treadlink on a regular file: Rlerror EINVAL(22)" => readlink_on_file;
    "symlink/walk_no_follow", L, Caps::SYMLINK, "walking a symlink's name gives the link itself (not its target)" => walk_no_follow;
    "symlink/walk_through", L, Caps::SYMLINK, "[link-to-dir, child]: Rwalk with 1 qid; the server never follows links" => walk_through;
    "symlink/long_target", L, Caps::SYMLINK, "a 1000-byte target round-trips through Treadlink" => long_target;
}

async fn symlink(cx: &mut Ctx<'_>, name: &str, target: &str) -> R<Message> {
    let d = cx.dir;
    let gid = cx.gid;
    cx.rpc(Tsymlink { fid: d, name: name.into(), symtgt: target.into(), gid }).await
}

async fn readlink(cx: &mut Ctx<'_>, name: &str) -> R<String> {
    let d = cx.dir;
    let f = cx.walk(d, &[name]).await?;
    let r = expect_msg!(cx.rpc(Treadlink { fid: f }).await?, Rreadlink)?;
    Ok(r.target.to_string_lossy().into_owned())
}

async fn basic(cx: &mut Ctx<'_>) -> R<()> {
    let r = expect_msg!(symlink(cx, "ln", "a/b/c").await?, Rsymlink)?;
    ensure_eq("qid type", r.qid.ty, QidType::SYMLINK)?;
    ensure_eq("target", readlink(cx, "ln").await?, "a/b/c".to_string())
}

async fn exists(cx: &mut Ctx<'_>) -> R<()> {
    let d = cx.dir;
    cx.mkfile(d, "f", b"").await?;
    expect_err(&symlink(cx, "f", "x").await?, &[Errno::EEXIST]).map(|_| ())
}

async fn dangling(cx: &mut Ctx<'_>) -> R<()> {
    expect_msg!(symlink(cx, "ln", "/does/not/exist").await?, Rsymlink)?;
    ensure_eq("target", readlink(cx, "ln").await?, "/does/not/exist".to_string())
}

async fn getattr(cx: &mut Ctx<'_>) -> R<()> {
    expect_msg!(symlink(cx, "ln", "12345").await?, Rsymlink)?;
    let d = cx.dir;
    let a = cx.stat_at(d, "ln").await?;
    ensure_eq("type", a.mode & ninefold_proto::S_IFMT, S_IFLNK)?;
    ensure_eq("size", a.size, 5)
}

async fn readlink_on_file(cx: &mut Ctx<'_>) -> R<()> {
    let d = cx.dir;
    cx.mkfile(d, "f", b"").await?;
    let f = cx.walk(d, &["f"]).await?;
    expect_err(&cx.rpc(Treadlink { fid: f }).await?, &[Errno::EINVAL]).map(|_| ())
}

async fn walk_no_follow(cx: &mut Ctx<'_>) -> R<()> {
    let d = cx.dir;
    cx.mkfile(d, "target", b"").await?;
    expect_msg!(symlink(cx, "ln", "target").await?, Rsymlink)?;
    let (_, q) = cx.walk_qids(d, &["ln"]).await?;
    ensure_eq("qid type", q[0].ty, QidType::SYMLINK)
}

async fn walk_through(cx: &mut Ctx<'_>) -> R<()> {
    let d = cx.dir;
    cx.mkdir(d, "real", 0o755).await?;
    let r = cx.walk(d, &["real"]).await?;
    cx.mkfile(r, "child", b"").await?;
    expect_msg!(symlink(cx, "ln", "real").await?, Rsymlink)?;
    let nf = cx.fid();
    match cx.rpc(twalk(d, nf, &["ln", "child"])).await? {
        Message::Rwalk(w) if w.wqids.len() == 1 => Ok(()),
        other => fail(format!(
            "expected Rwalk with 1 qid, got {}",
            match &other {
                Message::Rwalk(w) => format!("Rwalk with {} qids", w.wqids.len()),
                m => describe(m),
            }
        )),
    }
}

async fn long_target(cx: &mut Ctx<'_>) -> R<()> {
    let t = "t/".repeat(500);
    expect_msg!(symlink(cx, "ln", &t).await?, Rsymlink)?;
    ensure_eq("target", readlink(cx, "ln").await?, t)?;
    let d = cx.dir;
    let f = cx.walk(d, &["ln"]).await?;
    let _ = OpenFlags::RDONLY;
    let _ = f;
    Ok(())
}
