//! Twalk: clone, partial walks, 16 elements, `..`, non-directories.

use ninefold_proto::l::Tgetattr;
use ninefold_proto::{Errno, GetattrMask, Message, OpenFlags, QidType, UnlinkatFlags};

use crate::case::cases;
use crate::config::Caps;
use crate::conn::{put_str, raw_frame};
use crate::ctx::{mkdir_chain, Ctx};
use crate::expect::{describe, ensure, ensure_eq, expect_err, expect_msg, fail, is_error, R};
use crate::session::twalk;

cases! {
    "walk/clone", L, Caps::empty(), "nwname 0 gives Rwalk with no qids and a fid naming the same object" => clone;
    "walk/child", L, Caps::empty(), "walking one name gives one qid equal to the object's getattr qid" => child;
    "walk/deep_16", L, Caps::empty(), "a 16-name walk gives 16 directory qids" => deep_16;
    "walk/too_many_17", L, Caps::empty(), "a 17-name Twalk: an error reply or the connection closed; newfid unbound" => too_many_17;
    "walk/partial", L, Caps::empty(), "a walk failing at name 3 gives Rwalk with 2 qids and leaves newfid unbound" => partial;
    "walk/first_fails", L, Caps::empty(), "a walk failing at the first name gives Rlerror ENOENT(2)" => first_fails;
    "walk/dotdot_root", L, Caps::empty(), "`..` at the attach root stays at the root" => dotdot_root;
    "walk/dotdot_subdir", L, Caps::empty(), "`..` from a subdirectory gives the parent's qid" => dotdot_subdir;
    "walk/from_file", L, Caps::empty(), "walking a name from a file fid gives Rlerror ENOTDIR(20)" => from_file;
    "walk/nondir_middle", L, Caps::empty(), "[dir, file, x]: Rwalk with 2 qids (stops at the file)" => nondir_middle;
    "walk/qid_stable", L, Caps::empty(), "two walks to one file give the same qid.path" => qid_stable;
    "walk/qid_types", L, Caps::empty(), "qid.type is QTDIR for directories and QTFILE for files" => qid_types;
    "walk/partial_same_fid", L, Caps::empty(), "a partial walk with newfid == fid leaves fid where it was" => partial_same_fid;
    "walk/slash_in_name", L, Caps::empty(), "a name containing '/' is refused (an error reply), never resolved as a path" => slash_in_name;
    "walk/empty_name", L, Caps::empty(), "an empty name is refused (an error reply)" => empty_name;
    "walk/unlinked_clone", L, Caps::empty(), "cloning an open fid whose file was unlinked succeeds" => unlinked_clone;
    "walk/unique_paths", L, Caps::empty(), "different files in one directory have different qid.path" => unique_paths;
}

async fn clone(cx: &mut Ctx<'_>) -> R<()> {
    let d = cx.dir;
    let nf = cx.fid();
    let r = expect_msg!(cx.rpc(twalk(d, nf, &[])).await?, Rwalk)?;
    ensure_eq("qids", r.wqids.len(), 0)?;
    let a = cx.getattr(nf).await?;
    let b = cx.getattr(d).await?;
    ensure_eq("qid.path", a.qid.path, b.qid.path)
}

async fn child(cx: &mut Ctx<'_>) -> R<()> {
    let d = cx.dir;
    cx.mkfile(d, "a", b"x").await?;
    let (f, q) = cx.walk_qids(d, &["a"]).await?;
    ensure_eq("qid.path", cx.getattr(f).await?.qid.path, q[0].path)
}

const NAMES: [&str; 17] = [
    "d1", "d2", "d3", "d4", "d5", "d6", "d7", "d8", "d9", "d10", "d11", "d12", "d13", "d14", "d15",
    "d16", "d17",
];

async fn deep_16(cx: &mut Ctx<'_>) -> R<()> {
    let d = cx.dir;
    mkdir_chain(cx, d, &NAMES[..16]).await?;
    let (_, q) = cx.walk_qids(d, &NAMES[..16]).await?;
    ensure(q.iter().all(|q| q.ty.contains(QidType::DIR)), || "a qid is not a directory".into())
}

async fn too_many_17(cx: &mut Ctx<'_>) -> R<()> {
    let d = cx.dir;
    mkdir_chain(cx, d, &NAMES).await?;
    let mut body = Vec::new();
    body.extend_from_slice(&d.to_le_bytes());
    body.extend_from_slice(&4444u32.to_le_bytes());
    body.extend_from_slice(&17u16.to_le_bytes());
    for n in NAMES {
        put_str(&mut body, n.as_bytes());
    }
    cx.c.send_raw(&raw_frame(110, 77, &body)).await?;
    let t = cx.timeout();
    match cx.c.closed_within(t).await {
        Ok(None) => return cx.server_alive().await,
        Ok(Some(f)) if f.tag == 77 && is_error(&f.message) => {}
        Ok(Some(f)) => {
            return fail(format!("expected an error reply, got {}", describe(&f.message)))
        }
        Err(e) => return fail(format!("expected an error reply: {e}")),
    }
    let r = cx.rpc(Tgetattr { fid: 4444, request_mask: GetattrMask::BASIC }).await?;
    expect_err(&r, &[]).map_err(|s| s.context("newfid of the refused walk"))?;
    Ok(())
}

async fn partial(cx: &mut Ctx<'_>) -> R<()> {
    let d = cx.dir;
    mkdir_chain(cx, d, &["a", "b"]).await?;
    let nf = cx.fid();
    let r = expect_msg!(cx.rpc(twalk(d, nf, &["a", "b", "missing", "x"])).await?, Rwalk)?;
    ensure_eq("qids", r.wqids.len(), 2)?;
    let r = cx.rpc(Tgetattr { fid: nf, request_mask: GetattrMask::BASIC }).await?;
    expect_err(&r, &[]).map_err(|s| s.context("newfid after a partial walk must be unbound"))?;
    Ok(())
}

async fn first_fails(cx: &mut Ctx<'_>) -> R<()> {
    let d = cx.dir;
    let nf = cx.fid();
    let r = cx.rpc(twalk(d, nf, &["missing", "x"])).await?;
    expect_err(&r, &[Errno::ENOENT])?;
    let r = cx.rpc(Tgetattr { fid: nf, request_mask: GetattrMask::BASIC }).await?;
    expect_err(&r, &[]).map_err(|s| s.context("newfid after a failed walk"))?;
    Ok(())
}

async fn dotdot_root(cx: &mut Ctx<'_>) -> R<()> {
    let root = cx.root;
    let (_, q) = cx.walk_qids(root, &[".."]).await?;
    ensure_eq("qid.path", q[0].path, cx.root_qid.path)
}

async fn dotdot_subdir(cx: &mut Ctx<'_>) -> R<()> {
    let d = cx.dir;
    cx.mkdir(d, "sub", 0o755).await?;
    let (_, q) = cx.walk_qids(d, &["sub", ".."]).await?;
    let dq = cx.getattr(d).await?.qid;
    ensure_eq("qid.path of sub/..", q[1].path, dq.path)
}

async fn from_file(cx: &mut Ctx<'_>) -> R<()> {
    let d = cx.dir;
    cx.mkfile(d, "f", b"").await?;
    let f = cx.walk(d, &["f"]).await?;
    let nf = cx.fid();
    let r = cx.rpc(twalk(f, nf, &["x"])).await?;
    expect_err(&r, &[Errno::ENOTDIR]).map(|_| ())
}

async fn nondir_middle(cx: &mut Ctx<'_>) -> R<()> {
    let d = cx.dir;
    cx.mkdir(d, "sub", 0o755).await?;
    let s = cx.walk(d, &["sub"]).await?;
    cx.mkfile(s, "f", b"").await?;
    let nf = cx.fid();
    let r = expect_msg!(cx.rpc(twalk(d, nf, &["sub", "f", "x"])).await?, Rwalk)?;
    ensure_eq("qids", r.wqids.len(), 2)
}

async fn qid_stable(cx: &mut Ctx<'_>) -> R<()> {
    let d = cx.dir;
    cx.mkfile(d, "f", b"").await?;
    let (_, a) = cx.walk_qids(d, &["f"]).await?;
    let (_, b) = cx.walk_qids(d, &["f"]).await?;
    ensure_eq("qid.path", a[0].path, b[0].path)
}

async fn qid_types(cx: &mut Ctx<'_>) -> R<()> {
    let d = cx.dir;
    cx.mkfile(d, "f", b"").await?;
    cx.mkdir(d, "sub", 0o755).await?;
    let (_, q) = cx.walk_qids(d, &["f"]).await?;
    ensure_eq("file qid type", q[0].ty, QidType::FILE)?;
    let (_, q) = cx.walk_qids(d, &["sub"]).await?;
    ensure_eq("dir qid type", q[0].ty, QidType::DIR)
}

async fn partial_same_fid(cx: &mut Ctx<'_>) -> R<()> {
    let d = cx.dir;
    cx.mkdir(d, "sub", 0o755).await?;
    let f = cx.clone_fid(d).await?;
    let before = cx.getattr(f).await?.qid.path;
    let r = cx.rpc(twalk(f, f, &["sub", "missing"])).await?;
    match r {
        Message::Rwalk(w) if w.wqids.len() == 1 => {}
        other => return fail(format!("expected Rwalk with 1 qid, got {}", describe(&other))),
    }
    ensure_eq("fid still on the directory", cx.getattr(f).await?.qid.path, before)
}

async fn slash_in_name(cx: &mut Ctx<'_>) -> R<()> {
    let d = cx.dir;
    cx.mkdir(d, "sub", 0o755).await?;
    let s = cx.walk(d, &["sub"]).await?;
    cx.mkfile(s, "f", b"").await?;
    let nf = cx.fid();
    let r = cx.rpc(twalk(d, nf, &["sub/f"])).await?;
    expect_err(&r, &[]).map(|_| ())
}

async fn empty_name(cx: &mut Ctx<'_>) -> R<()> {
    let d = cx.dir;
    let nf = cx.fid();
    let r = cx.rpc(twalk(d, nf, &[""])).await?;
    expect_err(&r, &[]).map(|_| ())
}

async fn unlinked_clone(cx: &mut Ctx<'_>) -> R<()> {
    let d = cx.dir;
    cx.mkfile(d, "f", b"data").await?;
    let f = cx.open_at(d, "f", OpenFlags::RDONLY).await?;
    cx.unlink(d, "f", UnlinkatFlags::empty()).await?;
    let c = cx.clone_fid(f).await?;
    ensure_eq("size via clone", cx.getattr(c).await?.size, 4)
}

async fn unique_paths(cx: &mut Ctx<'_>) -> R<()> {
    let d = cx.dir;
    let mut paths = Vec::new();
    for i in 0..20 {
        paths.push(cx.mkfile(d, &format!("f{i}"), b"").await?.path);
    }
    let mut sorted = paths.clone();
    sorted.sort_unstable();
    sorted.dedup();
    ensure_eq("distinct qid paths", sorted.len(), paths.len())
}
