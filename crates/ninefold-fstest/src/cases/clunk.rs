//! Fid lifecycle: clunk, reuse, clone, walking from open fids, fid limits.

use ninefold_proto::base::{Tclunk, Tread, Tremove, Twalk};
use ninefold_proto::l::{Tgetattr, Tlopen};
use ninefold_proto::{GetattrMask, Message, OpenFlags, NOFID};

use crate::case::cases;
use crate::config::Caps;
use crate::ctx::{open_dir, Ctx};
use crate::expect::{describe, ensure_eq, expect_err, expect_msg, fail, R};
use crate::session::twalk;

cases! {
    "fid/clunk_then_use", L, Caps::empty(), "Tgetattr on a clunked fid: an error reply (EBADF)" => clunk_then_use;
    "fid/double_clunk", L, Caps::empty(), "the second Tclunk of a fid: an error reply (EBADF)" => double_clunk;
    "fid/clunk_unknown", L, Caps::empty(), "Tclunk of a fid never used: an error reply (EBADF)" => clunk_unknown;
    "fid/reuse_after_clunk", L, Caps::empty(), "a clunked fid number can be bound again by Twalk" => reuse_after_clunk;
    "fid/newfid_in_use", L, Caps::empty(), "Twalk to a newfid already in use: an error reply, both fids unchanged" => newfid_in_use;
    "fid/walk_replaces_fid", L, Caps::empty(), "Twalk with newfid == fid moves the fid" => walk_replaces_fid;
    "fid/clone_independent", L, Caps::empty(), "clunking a clone leaves the original usable" => clone_independent;
    "fid/walk_from_open_file", L, Caps::empty(), "Twalk (clone) from an open file fid succeeds (the Linux client does it)" => walk_from_open_file;
    "fid/walk_from_open_dir", L, Caps::empty(), "Twalk of a child from an open directory fid succeeds" => walk_from_open_dir;
    "fid/open_twice", L, Caps::empty(), "a second Tlopen on an open fid: an error reply" => open_twice;
    "fid/read_unopened", L, Caps::empty(), "Tread on a walked but unopened fid: an error reply (EBADF)" => read_unopened;
    "fid/nofid_newfid", L, Caps::empty(), "Twalk with newfid = NOFID: an error reply" => nofid_newfid;
    "fid/many_fids", L, Caps::empty(), "1000 fids bound at once all work (or fail cleanly after the first 256)" => many_fids;
    "fid/remove_clunks", L, Caps::empty(), "Tremove clunks the fid: a following Tclunk fails" => remove_clunks;
    "fid/remove_failure_clunks", L, Caps::empty(), "a failed Tremove (ENOTEMPTY) still clunks the fid" => remove_failure_clunks;
    "fid/clunk_open_file", L, Caps::empty(), "Tclunk of an open file gives Rclunk; the file stays" => clunk_open_file;
}

async fn clunk_then_use(cx: &mut Ctx<'_>) -> R<()> {
    let d = cx.dir;
    let f = cx.clone_fid(d).await?;
    cx.clunk(f).await?;
    let r = cx.rpc(Tgetattr { fid: f, request_mask: GetattrMask::BASIC }).await?;
    expect_err(&r, &[ninefold_proto::Errno::EBADF]).map(|_| ())
}

async fn double_clunk(cx: &mut Ctx<'_>) -> R<()> {
    let d = cx.dir;
    let f = cx.clone_fid(d).await?;
    cx.clunk(f).await?;
    let r = cx.rpc(Tclunk { fid: f }).await?;
    expect_err(&r, &[ninefold_proto::Errno::EBADF]).map(|_| ())
}

async fn clunk_unknown(cx: &mut Ctx<'_>) -> R<()> {
    let r = cx.rpc(Tclunk { fid: 0x00fe_dcba }).await?;
    expect_err(&r, &[ninefold_proto::Errno::EBADF]).map(|_| ())
}

async fn reuse_after_clunk(cx: &mut Ctx<'_>) -> R<()> {
    let d = cx.dir;
    cx.mkfile(d, "a", b"x").await?;
    let f = cx.clone_fid(d).await?;
    cx.clunk(f).await?;
    let r = cx.rpc(twalk(d, f, &["a"])).await?;
    expect_msg!(r, Rwalk)?;
    let a = cx.getattr(f).await?;
    ensure_eq("size", a.size, 1)
}

async fn newfid_in_use(cx: &mut Ctx<'_>) -> R<()> {
    let d = cx.dir;
    cx.mkfile(d, "a", b"abc").await?;
    let busy = cx.walk(d, &["a"]).await?;
    let r = cx.rpc(twalk(d, busy, &[])).await?;
    expect_err(&r, &[])?;
    ensure_eq("busy fid still names the file", cx.getattr(busy).await?.size, 3)?;
    cx.getattr(d).await?;
    Ok(())
}

async fn walk_replaces_fid(cx: &mut Ctx<'_>) -> R<()> {
    let d = cx.dir;
    cx.mkfile(d, "a", b"abcd").await?;
    let f = cx.clone_fid(d).await?;
    let r = cx.rpc(twalk(f, f, &["a"])).await?;
    expect_msg!(r, Rwalk)?;
    ensure_eq("size through the moved fid", cx.getattr(f).await?.size, 4)
}

async fn clone_independent(cx: &mut Ctx<'_>) -> R<()> {
    let d = cx.dir;
    let c = cx.clone_fid(d).await?;
    cx.clunk(c).await?;
    cx.getattr(d).await?;
    Ok(())
}

async fn walk_from_open_file(cx: &mut Ctx<'_>) -> R<()> {
    let d = cx.dir;
    cx.mkfile(d, "a", b"abc").await?;
    let f = cx.open_at(d, "a", OpenFlags::RDONLY).await?;
    let c = cx.clone_fid(f).await?;
    ensure_eq("clone size", cx.getattr(c).await?.size, 3)?;
    // The clone is not open: it can be opened on its own.
    cx.lopen(c, OpenFlags::RDONLY).await?;
    ensure_eq("read through clone", &cx.read(c, 0, 10).await?[..], &b"abc"[..])
}

async fn walk_from_open_dir(cx: &mut Ctx<'_>) -> R<()> {
    let d = cx.dir;
    cx.mkfile(d, "a", b"abc").await?;
    let od = open_dir(cx, d).await?;
    let f = cx.walk(od, &["a"]).await?;
    ensure_eq("size", cx.getattr(f).await?.size, 3)
}

async fn open_twice(cx: &mut Ctx<'_>) -> R<()> {
    let d = cx.dir;
    cx.mkfile(d, "a", b"abc").await?;
    let f = cx.open_at(d, "a", OpenFlags::RDONLY).await?;
    let r = cx.rpc(Tlopen { fid: f, flags: OpenFlags::RDONLY }).await?;
    expect_err(&r, &[]).map(|_| ())
}

async fn read_unopened(cx: &mut Ctx<'_>) -> R<()> {
    let d = cx.dir;
    cx.mkfile(d, "a", b"abc").await?;
    let f = cx.walk(d, &["a"]).await?;
    let r = cx.rpc(Tread { fid: f, offset: 0, count: 10 }).await?;
    expect_err(&r, &[ninefold_proto::Errno::EBADF]).map(|_| ())
}

async fn nofid_newfid(cx: &mut Ctx<'_>) -> R<()> {
    let d = cx.dir;
    let r = cx.rpc(Twalk { fid: d, newfid: NOFID, wnames: vec![] }).await?;
    expect_err(&r, &[]).map(|_| ())
}

async fn many_fids(cx: &mut Ctx<'_>) -> R<()> {
    let d = cx.dir;
    let mut fids = Vec::new();
    for i in 0..1000u32 {
        let nf = 10_000 + i;
        let r = cx.rpc(twalk(d, nf, &[])).await?;
        match r {
            Message::Rwalk(_) => fids.push(nf),
            Message::Rlerror(_) if i >= 256 => break,
            other => return fail(format!("clone #{i}: expected Rwalk, got {}", describe(&other))),
        }
    }
    for f in &fids {
        cx.getattr(*f).await?;
    }
    for f in fids {
        cx.clunk(f).await?;
    }
    Ok(())
}

async fn remove_clunks(cx: &mut Ctx<'_>) -> R<()> {
    let d = cx.dir;
    cx.mkfile(d, "a", b"").await?;
    let f = cx.walk(d, &["a"]).await?;
    expect_msg!(cx.rpc(Tremove { fid: f }).await?, Rremove)?;
    expect_err(&cx.rpc(Tclunk { fid: f }).await?, &[])?;
    ensure_eq("exists", cx.exists(d, "a").await?, false)
}

async fn remove_failure_clunks(cx: &mut Ctx<'_>) -> R<()> {
    let d = cx.dir;
    cx.mkdir(d, "sub", 0o755).await?;
    let s = cx.walk(d, &["sub"]).await?;
    cx.mkfile(s, "x", b"").await?;
    let r = cx.rpc(Tremove { fid: s }).await?;
    expect_err(&r, &[ninefold_proto::Errno::ENOTEMPTY, ninefold_proto::Errno::EEXIST])?;
    let r = cx.rpc(Tclunk { fid: s }).await?;
    expect_err(&r, &[]).map_err(|st| st.context("Tclunk after the failed Tremove"))?;
    Ok(())
}

async fn clunk_open_file(cx: &mut Ctx<'_>) -> R<()> {
    let d = cx.dir;
    let (f, _) = cx.create(d, "a", OpenFlags::RDWR, 0o644).await?;
    cx.write(f, 0, b"hello").await?;
    cx.clunk(f).await?;
    ensure_eq("content", cx.read_file(d, "a").await?, b"hello".to_vec())
}
