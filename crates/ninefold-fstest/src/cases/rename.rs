//! Trenameat and Trename.

use ninefold_proto::l::{Trename, Trenameat};
use ninefold_proto::{Errno, Message, OpenFlags};

use crate::case::cases;
use crate::config::Caps;
use crate::ctx::Ctx;
use crate::expect::{ensure_eq, expect_err, expect_msg, R};

cases! {
    "rename/renameat_implemented", L, Caps::empty(), "Trenameat is implemented: Rrenameat, not EOPNOTSUPP (other rename cases fall back to Trename like Linux)" => renameat_implemented;
    "rename/basic", L, Caps::empty(), "Trenameat a -> b: b has a's content, a is gone (ENOENT)" => basic;
    "rename/replace_file", L, Caps::empty(), "Trenameat onto an existing file replaces it" => replace_file;
    "rename/cross_dir", L, Caps::empty(), "Trenameat between two directories" => cross_dir;
    "rename/dir_into_own_subtree", L, Caps::empty(), "moving a directory into its own subdirectory: Rlerror EINVAL(22)" => dir_into_own_subtree;
    "rename/onto_nonempty_dir", L, Caps::empty(), "a directory onto a non-empty directory: Rlerror ENOTEMPTY(39)" => onto_nonempty_dir;
    "rename/onto_empty_dir", L, Caps::empty(), "a directory onto an empty directory replaces it" => onto_empty_dir;
    "rename/file_onto_dir", L, Caps::empty(), "a file onto a directory: Rlerror EISDIR(21)" => file_onto_dir;
    "rename/dir_onto_file", L, Caps::empty(), "a directory onto a file: Rlerror ENOTDIR(20)" => dir_onto_file;
    "rename/missing", L, Caps::empty(), "renaming a missing name: Rlerror ENOENT(2)" => missing;
    "rename/same_name", L, Caps::empty(), "renaming a file onto itself succeeds and changes nothing" => same_name;
    "rename/hardlinks_same_inode", L, Caps::HARDLINK, "renaming one hard link onto another of the same inode succeeds and leaves both" => hardlinks_same_inode;
    "rename/open_fid_follows", L, Caps::empty(), "an open fid keeps reading the file after it is renamed" => open_fid_follows;
    "rename/walked_fid_follows", L, Caps::empty(), "an unopened fid on a renamed directory's child still works" => walked_fid_follows;
    "rename/slash_in_newname", L, Caps::empty(), "a new name containing '/': an error reply, nothing moved" => slash_in_newname;
    "rename/trename_basic", L, Caps::empty(), "Trename(fid, dfid, name) renames the fid's file" => trename_basic;
    "rename/trename_cross_dir", L, Caps::empty(), "Trename into another directory" => trename_cross_dir;
}

/// Trenameat; when the server answers EOPNOTSUPP, falls back to
/// walk + Trename as the Linux client does (the reply of the fallback is
/// mapped back to Rrenameat on success). `rename/renameat_implemented`
/// checks the message itself.
async fn renameat(cx: &mut Ctx<'_>, od: u32, on: &str, nd: u32, nn: &str) -> R<Message> {
    let r = cx
        .rpc(Trenameat { olddirfid: od, oldname: on.into(), newdirfid: nd, newname: nn.into() })
        .await?;
    match &r {
        Message::Rlerror(e) if e.ecode == Errno::EOPNOTSUPP => {}
        _ => return Ok(r),
    }
    let f = cx.fid();
    match cx.rpc(crate::session::twalk(od, f, &[on])).await? {
        Message::Rwalk(w) if w.wqids.len() == 1 => {}
        other => return Ok(other),
    }
    let r = cx.rpc(Trename { fid: f, dfid: nd, name: nn.into() }).await?;
    let _ = cx.rpc(ninefold_proto::base::Tclunk { fid: f }).await?;
    Ok(match r {
        Message::Rrename(_) => Message::Rrenameat(ninefold_proto::l::Rrenameat {}),
        other => other,
    })
}

async fn renameat_implemented(cx: &mut Ctx<'_>) -> R<()> {
    let d = cx.dir;
    cx.mkfile(d, "a", b"").await?;
    let r = cx
        .rpc(Trenameat { olddirfid: d, oldname: "a".into(), newdirfid: d, newname: "b".into() })
        .await?;
    expect_msg!(r, Rrenameat)?;
    Ok(())
}

async fn ok(cx: &mut Ctx<'_>, od: u32, on: &str, nd: u32, nn: &str) -> R<()> {
    let r = renameat(cx, od, on, nd, nn).await?;
    expect_msg!(r, Rrenameat)?;
    Ok(())
}

async fn basic(cx: &mut Ctx<'_>) -> R<()> {
    let d = cx.dir;
    cx.mkfile(d, "a", b"content").await?;
    ok(cx, d, "a", d, "b").await?;
    ensure_eq("a exists", cx.exists(d, "a").await?, false)?;
    ensure_eq("b", cx.read_file(d, "b").await?, b"content".to_vec())
}

async fn replace_file(cx: &mut Ctx<'_>) -> R<()> {
    let d = cx.dir;
    cx.mkfile(d, "a", b"new").await?;
    cx.mkfile(d, "b", b"old").await?;
    ok(cx, d, "a", d, "b").await?;
    ensure_eq("b", cx.read_file(d, "b").await?, b"new".to_vec())?;
    ensure_eq("names", cx.names(d).await?, vec!["b".to_string()])
}

async fn cross_dir(cx: &mut Ctx<'_>) -> R<()> {
    let d = cx.dir;
    cx.mkdir(d, "x", 0o755).await?;
    cx.mkdir(d, "y", 0o755).await?;
    let x = cx.walk(d, &["x"]).await?;
    let y = cx.walk(d, &["y"]).await?;
    cx.mkfile(x, "f", b"moved").await?;
    ok(cx, x, "f", y, "g").await?;
    ensure_eq("in x", cx.names(x).await?.len(), 0)?;
    ensure_eq("y/g", cx.read_file(y, "g").await?, b"moved".to_vec())
}

async fn dir_into_own_subtree(cx: &mut Ctx<'_>) -> R<()> {
    let d = cx.dir;
    cx.mkdir(d, "top", 0o755).await?;
    let t = cx.walk(d, &["top"]).await?;
    cx.mkdir(t, "sub", 0o755).await?;
    let s = cx.walk(t, &["sub"]).await?;
    let r = renameat(cx, d, "top", s, "x").await?;
    expect_err(&r, &[Errno::EINVAL])?;
    ensure_eq("top still there", cx.exists(d, "top").await?, true)
}

async fn onto_nonempty_dir(cx: &mut Ctx<'_>) -> R<()> {
    let d = cx.dir;
    cx.mkdir(d, "a", 0o755).await?;
    cx.mkdir(d, "b", 0o755).await?;
    let b = cx.walk(d, &["b"]).await?;
    cx.mkfile(b, "keep", b"").await?;
    let r = renameat(cx, d, "a", d, "b").await?;
    expect_err(&r, &[Errno::ENOTEMPTY])?;
    ensure_eq("b/keep", cx.exists(b, "keep").await?, true)
}

async fn onto_empty_dir(cx: &mut Ctx<'_>) -> R<()> {
    let d = cx.dir;
    cx.mkdir(d, "a", 0o755).await?;
    let a = cx.walk(d, &["a"]).await?;
    cx.mkfile(a, "inside", b"").await?;
    cx.mkdir(d, "b", 0o755).await?;
    ok(cx, d, "a", d, "b").await?;
    let b = cx.walk(d, &["b"]).await?;
    ensure_eq("b's entries", cx.names(b).await?, vec!["inside".to_string()])
}

async fn file_onto_dir(cx: &mut Ctx<'_>) -> R<()> {
    let d = cx.dir;
    cx.mkfile(d, "f", b"").await?;
    cx.mkdir(d, "dir", 0o755).await?;
    let r = renameat(cx, d, "f", d, "dir").await?;
    expect_err(&r, &[Errno::EISDIR]).map(|_| ())
}

async fn dir_onto_file(cx: &mut Ctx<'_>) -> R<()> {
    let d = cx.dir;
    cx.mkfile(d, "f", b"").await?;
    cx.mkdir(d, "dir", 0o755).await?;
    let r = renameat(cx, d, "dir", d, "f").await?;
    expect_err(&r, &[Errno::ENOTDIR]).map(|_| ())
}

async fn missing(cx: &mut Ctx<'_>) -> R<()> {
    let d = cx.dir;
    let r = renameat(cx, d, "nope", d, "x").await?;
    expect_err(&r, &[Errno::ENOENT]).map(|_| ())
}

async fn same_name(cx: &mut Ctx<'_>) -> R<()> {
    let d = cx.dir;
    cx.mkfile(d, "f", b"same").await?;
    ok(cx, d, "f", d, "f").await?;
    ensure_eq("f", cx.read_file(d, "f").await?, b"same".to_vec())
}

async fn hardlinks_same_inode(cx: &mut Ctx<'_>) -> R<()> {
    let d = cx.dir;
    cx.mkfile(d, "a", b"x").await?;
    let a = cx.walk(d, &["a"]).await?;
    let r = cx.rpc(ninefold_proto::l::Tlink { dfid: d, fid: a, name: "b".into() }).await?;
    expect_msg!(r, Rlink)?;
    ok(cx, d, "a", d, "b").await?;
    ensure_eq("names", cx.names(d).await?, vec!["a".to_string(), "b".to_string()])
}

async fn open_fid_follows(cx: &mut Ctx<'_>) -> R<()> {
    let d = cx.dir;
    cx.mkfile(d, "a", b"follow me").await?;
    let f = cx.open_at(d, "a", OpenFlags::RDONLY).await?;
    cx.mkdir(d, "sub", 0o755).await?;
    let s = cx.walk(d, &["sub"]).await?;
    ok(cx, d, "a", s, "b").await?;
    ensure_eq("read", &cx.read(f, 0, 100).await?[..], &b"follow me"[..])?;
    ensure_eq("size", cx.getattr(f).await?.size, 9)
}

async fn walked_fid_follows(cx: &mut Ctx<'_>) -> R<()> {
    let d = cx.dir;
    cx.mkdir(d, "dir", 0o755).await?;
    let dd = cx.walk(d, &["dir"]).await?;
    cx.mkfile(dd, "f", b"abc").await?;
    let f = cx.walk(dd, &["f"]).await?;
    ok(cx, d, "dir", d, "moved").await?;
    ensure_eq("size via old fid", cx.getattr(f).await?.size, 3)?;
    cx.lopen(f, OpenFlags::RDONLY).await?;
    ensure_eq("read via old fid", &cx.read(f, 0, 10).await?[..], &b"abc"[..])
}

async fn slash_in_newname(cx: &mut Ctx<'_>) -> R<()> {
    let d = cx.dir;
    cx.mkdir(d, "sub", 0o755).await?;
    cx.mkfile(d, "f", b"").await?;
    let r = renameat(cx, d, "f", d, "sub/f").await?;
    expect_err(&r, &[Errno::EINVAL, Errno::ENOENT, Errno::EPERM])?;
    ensure_eq("f still there", cx.exists(d, "f").await?, true)
}

async fn trename_basic(cx: &mut Ctx<'_>) -> R<()> {
    let d = cx.dir;
    cx.mkfile(d, "a", b"t").await?;
    let f = cx.walk(d, &["a"]).await?;
    expect_msg!(cx.rpc(Trename { fid: f, dfid: d, name: "b".into() }).await?, Rrename)?;
    ensure_eq("names", cx.names(d).await?, vec!["b".to_string()])
}

async fn trename_cross_dir(cx: &mut Ctx<'_>) -> R<()> {
    let d = cx.dir;
    cx.mkdir(d, "sub", 0o755).await?;
    let s = cx.walk(d, &["sub"]).await?;
    cx.mkfile(d, "a", b"t").await?;
    let f = cx.walk(d, &["a"]).await?;
    expect_msg!(cx.rpc(Trename { fid: f, dfid: s, name: "b".into() }).await?, Rrename)?;
    ensure_eq("sub", cx.names(s).await?, vec!["b".to_string()])
}
