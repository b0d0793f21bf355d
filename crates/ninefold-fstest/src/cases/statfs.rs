//! Tstatfs and Tfsync.

use ninefold_proto::l::{Tfsync, Tstatfs};
use ninefold_proto::OpenFlags;

use crate::case::cases;
use crate::config::Caps;
use crate::ctx::{open_dir, Ctx};
use crate::expect::{ensure, ensure_eq, expect_err, expect_msg, R};

cases! {
    "statfs/basic", L, Caps::empty(), "Rstatfs: bsize > 0, namelen > 0, bfree <= blocks, bavail <= bfree" => basic;
    "statfs/on_file", L, Caps::empty(), "Tstatfs on a file fid works like on the root" => on_file;
    "statfs/fsid_stable", L, Caps::empty(), "two Tstatfs give the same fsid" => fsid_stable;
    "statfs/bad_fid", L, Caps::empty(), "Tstatfs on an unknown fid: an error reply (EBADF)" => bad_fid;
    "fsync/file", L, Caps::empty(), "Tfsync datasync 0 on an open file gives Rfsync" => fsync_file;
    "fsync/datasync", L, Caps::empty(), "Tfsync datasync 1 (fdatasync) gives Rfsync" => fsync_datasync;
    "fsync/dir", L, Caps::empty(), "Tfsync on an open directory gives Rfsync" => fsync_dir;
}

async fn statfs(cx: &mut Ctx<'_>, fid: u32) -> R<ninefold_proto::l::Rstatfs> {
    let r = cx.rpc(Tstatfs { fid }).await?;
    expect_msg!(r, Rstatfs)
}

async fn basic(cx: &mut Ctx<'_>) -> R<()> {
    let root = cx.root;
    let s = statfs(cx, root).await?;
    ensure(s.bsize > 0 && s.namelen > 0, || format!("bsize {} namelen {}", s.bsize, s.namelen))?;
    ensure(s.bfree <= s.blocks && s.bavail <= s.bfree, || {
        format!("blocks {} bfree {} bavail {}", s.blocks, s.bfree, s.bavail)
    })
}

async fn on_file(cx: &mut Ctx<'_>) -> R<()> {
    let d = cx.dir;
    cx.mkfile(d, "f", b"").await?;
    let f = cx.walk(d, &["f"]).await?;
    let a = statfs(cx, f).await?;
    let root = cx.root;
    let b = statfs(cx, root).await?;
    ensure_eq("fsid", a.fsid, b.fsid)
}

async fn fsid_stable(cx: &mut Ctx<'_>) -> R<()> {
    let d = cx.dir;
    let a = statfs(cx, d).await?;
    let b = statfs(cx, d).await?;
    ensure_eq("fsid", a.fsid, b.fsid)
}

async fn bad_fid(cx: &mut Ctx<'_>) -> R<()> {
    let r = cx.rpc(Tstatfs { fid: 0x0077_7777 }).await?;
    expect_err(&r, &[ninefold_proto::Errno::EBADF]).map(|_| ())
}

async fn fsync_file(cx: &mut Ctx<'_>) -> R<()> {
    let d = cx.dir;
    let (f, _) = cx.create(d, "f", OpenFlags::RDWR, 0o644).await?;
    cx.write(f, 0, b"durable").await?;
    expect_msg!(cx.rpc(Tfsync { fid: f, datasync: 0 }).await?, Rfsync)?;
    Ok(())
}

async fn fsync_datasync(cx: &mut Ctx<'_>) -> R<()> {
    let d = cx.dir;
    let (f, _) = cx.create(d, "f", OpenFlags::RDWR, 0o644).await?;
    cx.write(f, 0, b"durable").await?;
    expect_msg!(cx.rpc(Tfsync { fid: f, datasync: 1 }).await?, Rfsync)?;
    Ok(())
}

async fn fsync_dir(cx: &mut Ctx<'_>) -> R<()> {
    let d = cx.dir;
    let f = open_dir(cx, d).await?;
    expect_msg!(cx.rpc(Tfsync { fid: f, datasync: 0 }).await?, Rfsync)?;
    Ok(())
}
