//! Tversion: negotiation and renegotiation.

use ninefold_proto::base::Tclunk;
use ninefold_proto::l::Tgetattr;
use ninefold_proto::{GetattrMask, Message, NOFID, NOTAG};

use crate::case::cases;
use crate::config::Caps;
use crate::ctx::Ctx;
use crate::expect::{describe, ensure, ensure_eq, expect_err, expect_msg, fail, R};

cases! {
    "version/basic", L, Caps::empty(), "Rversion \"9P2000.L\", tag NOTAG, 4096 <= msize <= requested" => basic;
    "version/msize_not_raised", L, Caps::empty(), "Tversion msize 8192 gives Rversion msize <= 8192" => msize_not_raised;
    "version/msize_minimum", L, Caps::empty(), "Tversion msize 4096 gives Rversion msize 4096" => msize_minimum;
    "version/unknown", L, Caps::empty(), "Tversion \"9P3000\" gives Rversion \"unknown\"" => unknown;
    "version/suffix", L, Caps::empty(), "Tversion \"9P2000.L.fstest\" gives a known prefix (\"9P2000.L\") or \"unknown\"" => suffix;
    "version/renegotiate", L, Caps::empty(), "a second Tversion succeeds and clunks every fid (Tgetattr on the old root: Rlerror)" => renegotiate;
    "version/renegotiate_msize", L, Caps::empty(), "renegotiating to a smaller msize takes effect" => renegotiate_msize;
    "version/attach_after_renegotiate", L, Caps::empty(), "after renegotiation, Tattach reusing the old root fid number succeeds" => attach_after_renegotiate;
    "version/before_version", L, Caps::empty(), "Tattach before any Tversion: an error reply or the connection closed" => before_version;
    "version/dotu", L, Caps::DOTU, "Tversion \"9P2000.u\" gives \"9P2000.u\"" => dotu;
    "version/base", L, Caps::BASE9P2000, "Tversion \"9P2000\" gives \"9P2000\"" => base;
}

async fn basic(cx: &mut Ctx<'_>) -> R<()> {
    let mut c = cx.raw().await?;
    let tag = NOTAG;
    c.send_tagged(
        tag,
        ninefold_proto::base::Tversion { msize: cx.cfg.msize, version: "9P2000.L".into() },
    )
    .await?;
    let f = c.recv_any().await?;
    ensure_eq("reply tag", f.tag, NOTAG)?;
    let r = expect_msg!(f.message, Rversion)?;
    ensure_eq("version", r.version.to_string_lossy().as_ref(), "9P2000.L")?;
    ensure(r.msize >= 4096 && r.msize <= cx.cfg.msize, || {
        format!("msize {} not in [4096, {}]", r.msize, cx.cfg.msize)
    })
}

async fn msize_not_raised(cx: &mut Ctx<'_>) -> R<()> {
    let mut c = cx.raw().await?;
    let r = expect_msg!(c.version(8192, "9P2000.L").await?, Rversion)?;
    ensure(r.msize <= 8192 && r.msize >= 4096, || {
        format!("msize {} for a request of 8192", r.msize)
    })
}

async fn msize_minimum(cx: &mut Ctx<'_>) -> R<()> {
    let mut c = cx.raw().await?;
    let r = expect_msg!(c.version(4096, "9P2000.L").await?, Rversion)?;
    ensure_eq("msize", r.msize, 4096)
}

async fn unknown(cx: &mut Ctx<'_>) -> R<()> {
    let mut c = cx.raw().await?;
    let r = expect_msg!(c.version(8192, "9P3000").await?, Rversion)?;
    ensure_eq("version", r.version.to_string_lossy().as_ref(), "unknown")
}

async fn suffix(cx: &mut Ctx<'_>) -> R<()> {
    let mut c = cx.raw().await?;
    let r = expect_msg!(c.version(8192, "9P2000.L.fstest").await?, Rversion)?;
    let v = r.version.to_string_lossy().into_owned();
    ensure(v == "9P2000.L" || v == "unknown", || {
        format!("expected \"9P2000.L\" or \"unknown\", got {v:?}")
    })
}

async fn renegotiate(cx: &mut Ctx<'_>) -> R<()> {
    let root = cx.root;
    let msize = cx.cfg.msize;
    let r = expect_msg!(cx.c.version(msize, "9P2000.L").await?, Rversion)?;
    ensure_eq("version", r.version.to_string_lossy().as_ref(), "9P2000.L")?;
    let reply = cx.rpc(Tgetattr { fid: root, request_mask: GetattrMask::BASIC }).await?;
    expect_err(&reply, &[]).map_err(|s| s.context("Tgetattr on a fid from before the Tversion"))?;
    Ok(())
}

async fn renegotiate_msize(cx: &mut Ctx<'_>) -> R<()> {
    let r = expect_msg!(cx.c.version(4096, "9P2000.L").await?, Rversion)?;
    ensure_eq("msize", r.msize, 4096)?;
    // Re-attach and read a file larger than the new msize: replies must fit.
    let t = cx.tattach(7, NOFID, &cx.cfg.aname);
    let reply = cx.rpc(t).await?;
    expect_msg!(reply, Rattach)?;
    let name = cx.dir_name.clone();
    let d = cx.walk(7, &[&name]).await?;
    cx.mkfile(d, "f", &vec![7u8; 10_000]).await?;
    let f = cx.open_at(d, "f", ninefold_proto::OpenFlags::RDONLY).await?;
    let data = cx.read(f, 0, 4096 - 24).await?;
    ensure_eq("bytes read at the new msize", data.len(), 4096 - 24)
}

async fn attach_after_renegotiate(cx: &mut Ctx<'_>) -> R<()> {
    let root = cx.root;
    let msize = cx.cfg.msize;
    expect_msg!(cx.c.version(msize, "9P2000.L").await?, Rversion)?;
    let t = cx.tattach(root, NOFID, &cx.cfg.aname);
    let reply = cx.rpc(t).await?;
    expect_msg!(reply, Rattach)?;
    cx.getattr(root).await?;
    Ok(())
}

async fn before_version(cx: &mut Ctx<'_>) -> R<()> {
    let mut c = cx.raw().await?;
    let tag = c.send(cx.tattach(1, NOFID, &cx.cfg.aname)).await?;
    match c.closed_within(cx.timeout()).await {
        Ok(None) => Ok(()),
        Ok(Some(f)) if f.tag == tag && crate::expect::is_error(&f.message) => Ok(()),
        Ok(Some(f)) => {
            fail(format!("expected an error reply or close, got {}", describe(&f.message)))
        }
        // A reply we cannot decode without a dialect is still a refusal.
        Err(crate::conn::ConnError::Decode(_)) => Ok(()),
        Err(e) => fail(format!("expected an error reply or close: {e}")),
    }?;
    cx.server_alive().await
}

async fn dotu(cx: &mut Ctx<'_>) -> R<()> {
    let mut c = cx.raw().await?;
    let r = expect_msg!(c.version(8192, "9P2000.u").await?, Rversion)?;
    ensure_eq("version", r.version.to_string_lossy().as_ref(), "9P2000.u")
}

async fn base(cx: &mut Ctx<'_>) -> R<()> {
    let mut c = cx.raw().await?;
    let r = expect_msg!(c.version(8192, "9P2000").await?, Rversion)?;
    ensure_eq("version", r.version.to_string_lossy().as_ref(), "9P2000")?;
    // A plain 9P2000 connection must not answer in .L: a bad fid gives Rerror.
    let reply = c.rpc(Tclunk { fid: 4242 }).await?;
    match reply {
        Message::Rerror(_) => Ok(()),
        other => fail(format!("expected Rerror for an unknown fid, got {}", describe(&other))),
    }
}
