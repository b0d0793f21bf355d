//! Tunlinkat (and Tremove in .L), plus open-unlinked files.

use ninefold_proto::base::Tremove;
use ninefold_proto::l::{Tfsync, Tunlinkat};
use ninefold_proto::{Errno, Message, OpenFlags, UnlinkatFlags};

use crate::case::cases;
use crate::config::Caps;
use crate::ctx::Ctx;
use crate::expect::{ensure_eq, expect_err, expect_msg, R};

cases! {
    "unlinkat/implemented", L, Caps::empty(), "Tunlinkat is implemented: Runlinkat, not EOPNOTSUPP (other cases fall back to Tremove like Linux)" => implemented;
    "unlinkat/file", L, Caps::empty(), "Tunlinkat of a file removes it" => file;
    "unlinkat/missing", L, Caps::empty(), "Tunlinkat of a missing name: Rlerror ENOENT(2)" => missing;
    "unlinkat/dir_without_flag", L, Caps::empty(), "Tunlinkat flags 0 on a directory: Rlerror EISDIR(21)" => dir_without_flag;
    "unlinkat/removedir", L, Caps::empty(), "Tunlinkat AT_REMOVEDIR removes an empty directory" => removedir;
    "unlinkat/removedir_nonempty", L, Caps::empty(), "AT_REMOVEDIR on a non-empty directory: Rlerror ENOTEMPTY(39)" => removedir_nonempty;
    "unlinkat/removedir_on_file", L, Caps::empty(), "AT_REMOVEDIR on a file: Rlerror ENOTDIR(20)" => removedir_on_file;
    "unlinkat/dirfid_is_file", L, Caps::empty(), "Tunlinkat with a file as dirfid: Rlerror ENOTDIR(20)" => dirfid_is_file;
    "unlinkat/dirfid_stays", L, Caps::empty(), "the directory fid stays usable after Tunlinkat" => dirfid_stays;
    "unlinkat/tremove_file", L, Caps::empty(), "Tremove (the .L fallback) removes a file" => tremove_file;
    "unlinkat/tremove_empty_dir", L, Caps::empty(), "Tremove removes an empty directory" => tremove_empty_dir;
    "unlinked/read", L, Caps::empty(), "Tread through an open fid after its file was unlinked" => read;
    "unlinked/write", L, Caps::empty(), "Twrite through an open fid after unlink, read back through it" => write;
    "unlinked/getattr", L, Caps::empty(), "Tgetattr through the fid of an unlinked file: nlink 0" => getattr;
    "unlinked/fsync", L, Caps::empty(), "Tfsync through the fid of an unlinked file" => fsync;
    "unlinked/name_reusable", L, Caps::empty(), "a new file may take the name while the old one is still open; both keep their content" => name_reusable;
}

/// Tunlinkat; when the server answers EOPNOTSUPP, falls back to walk +
/// Tremove as the Linux client does. Cases whose point is the flag check
/// (which the client does itself before falling back) skip instead.
async fn unlinkat(cx: &mut Ctx<'_>, dir: u32, name: &str, flags: UnlinkatFlags) -> R<Message> {
    let r = cx.rpc(Tunlinkat { dirfid: dir, name: name.into(), flags }).await?;
    match &r {
        Message::Rlerror(e) if e.ecode == Errno::EOPNOTSUPP => {}
        _ => return Ok(r),
    }
    let f = cx.fid();
    match cx.rpc(crate::session::twalk(dir, f, &[name])).await? {
        Message::Rwalk(w) if w.wqids.len() == 1 => {}
        other => return Ok(other),
    }
    Ok(match cx.rpc(Tremove { fid: f }).await? {
        Message::Rremove(_) => Message::Runlinkat(ninefold_proto::l::Runlinkat {}),
        other => other,
    })
}

/// Tunlinkat without fallback; skips when the server lacks it.
async fn unlinkat_flags(
    cx: &mut Ctx<'_>,
    dir: u32,
    name: &str,
    flags: UnlinkatFlags,
) -> R<Message> {
    let r = cx.rpc(Tunlinkat { dirfid: dir, name: name.into(), flags }).await?;
    match &r {
        Message::Rlerror(e) if e.ecode == Errno::EOPNOTSUPP => Err(crate::expect::Stop::Skip(
            "server answers EOPNOTSUPP to Tunlinkat (the client checks the flag itself before Tremove)".into(),
        )),
        _ => Ok(r),
    }
}

async fn implemented(cx: &mut Ctx<'_>) -> R<()> {
    let d = cx.dir;
    cx.mkfile(d, "f", b"").await?;
    let r =
        cx.rpc(Tunlinkat { dirfid: d, name: "f".into(), flags: UnlinkatFlags::empty() }).await?;
    expect_msg!(r, Runlinkat)?;
    Ok(())
}

async fn file(cx: &mut Ctx<'_>) -> R<()> {
    let d = cx.dir;
    cx.mkfile(d, "f", b"").await?;
    let r = unlinkat(cx, d, "f", UnlinkatFlags::empty()).await?;
    expect_msg!(r, Runlinkat)?;
    ensure_eq("exists", cx.exists(d, "f").await?, false)
}

async fn missing(cx: &mut Ctx<'_>) -> R<()> {
    let d = cx.dir;
    let r = unlinkat(cx, d, "nope", UnlinkatFlags::empty()).await?;
    expect_err(&r, &[Errno::ENOENT]).map(|_| ())
}

async fn dir_without_flag(cx: &mut Ctx<'_>) -> R<()> {
    let d = cx.dir;
    cx.mkdir(d, "sub", 0o755).await?;
    let r = unlinkat_flags(cx, d, "sub", UnlinkatFlags::empty()).await?;
    expect_err(&r, &[Errno::EISDIR])?;
    ensure_eq("exists", cx.exists(d, "sub").await?, true)
}

async fn removedir(cx: &mut Ctx<'_>) -> R<()> {
    let d = cx.dir;
    cx.mkdir(d, "sub", 0o755).await?;
    let r = unlinkat(cx, d, "sub", UnlinkatFlags::REMOVEDIR).await?;
    expect_msg!(r, Runlinkat)?;
    ensure_eq("exists", cx.exists(d, "sub").await?, false)
}

async fn removedir_nonempty(cx: &mut Ctx<'_>) -> R<()> {
    let d = cx.dir;
    cx.mkdir(d, "sub", 0o755).await?;
    let s = cx.walk(d, &["sub"]).await?;
    cx.mkfile(s, "x", b"").await?;
    let r = unlinkat(cx, d, "sub", UnlinkatFlags::REMOVEDIR).await?;
    expect_err(&r, &[Errno::ENOTEMPTY]).map(|_| ())
}

async fn removedir_on_file(cx: &mut Ctx<'_>) -> R<()> {
    let d = cx.dir;
    cx.mkfile(d, "f", b"").await?;
    let r = unlinkat_flags(cx, d, "f", UnlinkatFlags::REMOVEDIR).await?;
    expect_err(&r, &[Errno::ENOTDIR])?;
    ensure_eq("exists", cx.exists(d, "f").await?, true)
}

async fn dirfid_is_file(cx: &mut Ctx<'_>) -> R<()> {
    let d = cx.dir;
    cx.mkfile(d, "f", b"").await?;
    let f = cx.walk(d, &["f"]).await?;
    let r = unlinkat_flags(cx, f, "x", UnlinkatFlags::empty()).await?;
    expect_err(&r, &[Errno::ENOTDIR]).map(|_| ())
}

async fn dirfid_stays(cx: &mut Ctx<'_>) -> R<()> {
    let d = cx.dir;
    cx.mkfile(d, "a", b"").await?;
    cx.mkfile(d, "b", b"").await?;
    let r = unlinkat(cx, d, "a", UnlinkatFlags::empty()).await?;
    expect_msg!(r, Runlinkat)?;
    ensure_eq("names", cx.names(d).await?, vec!["b".to_string()])
}

async fn tremove_file(cx: &mut Ctx<'_>) -> R<()> {
    let d = cx.dir;
    cx.mkfile(d, "f", b"").await?;
    let f = cx.walk(d, &["f"]).await?;
    expect_msg!(cx.rpc(Tremove { fid: f }).await?, Rremove)?;
    ensure_eq("exists", cx.exists(d, "f").await?, false)
}

async fn tremove_empty_dir(cx: &mut Ctx<'_>) -> R<()> {
    let d = cx.dir;
    cx.mkdir(d, "sub", 0o755).await?;
    let s = cx.walk(d, &["sub"]).await?;
    expect_msg!(cx.rpc(Tremove { fid: s }).await?, Rremove)?;
    ensure_eq("exists", cx.exists(d, "sub").await?, false)
}

async fn open_then_unlink(cx: &mut Ctx<'_>, flags: OpenFlags) -> R<u32> {
    let d = cx.dir;
    cx.mkfile(d, "f", b"still here").await?;
    let f = cx.open_at(d, "f", flags).await?;
    cx.unlink(d, "f", UnlinkatFlags::empty()).await?;
    Ok(f)
}

async fn read(cx: &mut Ctx<'_>) -> R<()> {
    let f = open_then_unlink(cx, OpenFlags::RDONLY).await?;
    ensure_eq("data", &cx.read(f, 0, 100).await?[..], &b"still here"[..])
}

async fn write(cx: &mut Ctx<'_>) -> R<()> {
    let f = open_then_unlink(cx, OpenFlags::RDWR).await?;
    cx.write(f, 0, b"STILL").await?;
    ensure_eq("data", &cx.read(f, 0, 100).await?[..], &b"STILL here"[..])
}

async fn getattr(cx: &mut Ctx<'_>) -> R<()> {
    let f = open_then_unlink(cx, OpenFlags::RDONLY).await?;
    let a = cx.getattr(f).await?;
    ensure_eq("size", a.size, 10)?;
    ensure_eq("nlink", a.nlink, 0)
}

async fn fsync(cx: &mut Ctx<'_>) -> R<()> {
    let f = open_then_unlink(cx, OpenFlags::RDWR).await?;
    expect_msg!(cx.rpc(Tfsync { fid: f, datasync: 0 }).await?, Rfsync)?;
    Ok(())
}

async fn name_reusable(cx: &mut Ctx<'_>) -> R<()> {
    let f = open_then_unlink(cx, OpenFlags::RDONLY).await?;
    let d = cx.dir;
    cx.mkfile(d, "f", b"new").await?;
    ensure_eq("new file", cx.read_file(d, "f").await?, b"new".to_vec())?;
    ensure_eq("old fid", &cx.read(f, 0, 100).await?[..], &b"still here"[..])
}
