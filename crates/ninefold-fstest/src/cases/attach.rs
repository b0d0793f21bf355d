//! Tattach: anames, fids, users.

use ninefold_proto::base::Tattach;
use ninefold_proto::{QidType, NOFID};

use crate::case::cases;
use crate::config::Caps;
use crate::ctx::Ctx;
use crate::expect::{ensure, ensure_eq, expect_err, expect_msg, R};

cases! {
    "attach/basic", L, Caps::empty(), "Rattach with a directory qid; Tgetattr on the root gives S_IFDIR" => basic;
    "attach/same_root", L, Caps::empty(), "two attaches on two connections give the same root qid.path" => same_root;
    "attach/unknown_aname", L, Caps::empty(), "Tattach to an unexported aname: an error reply (diod: EPERM; ENOENT is as good)" => unknown_aname;
    "attach/fid_in_use", L, Caps::empty(), "Tattach with a fid already in use: an error reply" => fid_in_use;
    "attach/bad_afid", L, Caps::empty(), "Tattach with an afid that was never authenticated: an error reply" => bad_afid;
    "attach/second_root", L, Caps::empty(), "a second Tattach on the same connection gives a second working root fid" => second_root;
    "attach/per_user", L, Caps::PERMISSIONS, "Tattach with empty uname and n_uname = other uid (access=user style) succeeds" => per_user;
}

fn tattach(cx: &Ctx<'_>, fid: u32, afid: u32, aname: &str) -> Tattach {
    cx.tattach(fid, afid, aname)
}

async fn basic(cx: &mut Ctx<'_>) -> R<()> {
    ensure(cx.root_qid.ty.contains(QidType::DIR), || {
        format!("root qid type {:?}", cx.root_qid.ty)
    })?;
    let root = cx.root;
    let a = cx.getattr(root).await?;
    ensure_eq("root mode type", a.mode & ninefold_proto::S_IFMT, ninefold_proto::S_IFDIR)?;
    ensure_eq("getattr qid.path", a.qid.path, cx.root_qid.path)
}

async fn same_root(cx: &mut Ctx<'_>) -> R<()> {
    let other = cx.session().await?;
    ensure_eq("root qid.path", other.root_qid.path, cx.root_qid.path)
}

async fn unknown_aname(cx: &mut Ctx<'_>) -> R<()> {
    let mut c = cx.raw_versioned().await?;
    let t = tattach(cx, 1, NOFID, "/nonexistent/fstest-no-such-export");
    let reply = c.rpc(t).await?;
    expect_err(&reply, &[]).map(|_| ())
}

async fn fid_in_use(cx: &mut Ctx<'_>) -> R<()> {
    let t = tattach(cx, cx.root, NOFID, &cx.cfg.aname);
    let reply = cx.rpc(t).await?;
    expect_err(&reply, &[]).map(|_| ())
}

async fn bad_afid(cx: &mut Ctx<'_>) -> R<()> {
    let mut c = cx.raw_versioned().await?;
    let t = tattach(cx, 1, 77, &cx.cfg.aname);
    let reply = c.rpc(t).await?;
    expect_err(&reply, &[]).map(|_| ())
}

async fn second_root(cx: &mut Ctx<'_>) -> R<()> {
    let t = tattach(cx, 555, NOFID, &cx.cfg.aname);
    let r = expect_msg!(cx.rpc(t).await?, Rattach)?;
    ensure_eq("qid.path", r.qid.path, cx.root_qid.path)?;
    let name = cx.dir_name.clone();
    let d = cx.walk(555, &[&name]).await?;
    cx.getattr(d).await?;
    Ok(())
}

async fn per_user(cx: &mut Ctx<'_>) -> R<()> {
    let uid = cx.cfg.other_uid;
    let mut s = cx.session_as(uid).await?;
    let root = s.root;
    s.getattr(root).await?;
    Ok(())
}
