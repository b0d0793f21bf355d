//! Tflush: unknown and answered tags, ordering against the original reply,
//! cancellation of slow requests.

use std::time::{Duration, Instant};

use ninefold_proto::base::{Tflush, Tread};
use ninefold_proto::l::Tgetattr;
use ninefold_proto::{GetattrMask, Message, OpenFlags};

use crate::case::cases;
use crate::config::Caps;
use crate::conn::{ConnError, RawConn};
use crate::ctx::Ctx;
use crate::expect::{describe, ensure, ensure_eq, expect_msg, fail, Stop, R};
use crate::session::Session;

cases! {
    "flush/unknown_tag", L, Caps::empty(), "Tflush of a tag never used: Rflush with the Tflush's tag, never an error" => unknown_tag;
    "flush/answered_tag", L, Caps::empty(), "Tflush of an already answered tag: Rflush" => answered_tag;
    "flush/pipelined_fast", L, Caps::empty(), "Tgetattr then Tflush of it back to back: Rflush, and the Rgetattr (if any) before it, never after" => pipelined_fast;
    "flush/flush_of_flush", L, Caps::empty(), "a Tflush naming another Tflush's tag: both Rflush, in order" => flush_of_flush;
    "flush/tag_reuse_after_rflush", L, Caps::empty(), "the flushed tag can be reused right after Rflush" => tag_reuse_after_rflush;
    "flush/many_pipelined", L, Caps::empty(), "64 pipelined requests each get exactly one reply with their tag" => many_pipelined;
    "flush/slow_read", L, Caps::FLUSH_SLOW, "Tflush of an in-flight slow Tread: Rflush, with the Rread (if sent) strictly before it and none after" => slow_read;
    "flush/slow_two_flushes", L, Caps::FLUSH_SLOW, "two Tflush of one slow Tread: both Rflush in order, the Rread (if any) first" => slow_two_flushes;
    "flush/slow_not_blocking", L, Caps::FLUSH_SLOW, "a Tgetattr sent while a slow Tread is in flight is answered first" => slow_not_blocking;
    "flush/slow_cancel_prompt", L, Caps::FLUSH_SLOW, "Rflush for a slow Tread comes within 2 s" => slow_cancel_prompt;
}

/// Collects frames until the reply to `until` arrives; returns the log of
/// (tag, message) in arrival order.
async fn collect_until(c: &mut RawConn, until: u16) -> R<Vec<(u16, Message)>> {
    let mut out = Vec::new();
    loop {
        let f = c.recv_any().await?;
        let done = f.tag == until;
        out.push((f.tag, f.message));
        if done {
            return Ok(out);
        }
    }
}

/// After Rflush, nothing more may arrive for the flushed tag.
async fn nothing_late(c: &mut RawConn, old: u16, wait: Duration) -> R<()> {
    match c.recv_within(wait).await {
        Err(ConnError::Timeout(_)) => Ok(()),
        Ok(f) if f.tag == old => {
            fail(format!("{} for the flushed tag arrived after Rflush", describe(&f.message)))
        }
        Ok(f) => fail(format!("unexpected {} (tag {})", describe(&f.message), f.tag)),
        Err(e) => Err(Stop::from(e)),
    }
}

/// Checks the order rule: the original's reply, if present, precedes Rflush.
fn order_ok(log: &[(u16, Message)], old: u16, flush: u16) -> R<()> {
    let pos_flush = log.iter().position(|(t, _)| *t == flush);
    let pos_old = log.iter().position(|(t, _)| *t == old);
    let Some(pf) = pos_flush else { return fail("no Rflush") };
    ensure(matches!(log[pf].1, Message::Rflush(_)), || {
        format!("Tflush answered with {}", describe(&log[pf].1))
    })?;
    if let Some(po) = pos_old {
        ensure(po < pf, || "the original reply came after Rflush".into())?;
    }
    Ok(())
}

async fn unknown_tag(cx: &mut Ctx<'_>) -> R<()> {
    let t = cx.c.send(Tflush { oldtag: 0x4321 }).await?;
    let r = cx.c.recv_any().await?;
    ensure_eq("reply tag", r.tag, t)?;
    expect_msg!(r.message, Rflush)?;
    Ok(())
}

async fn answered_tag(cx: &mut Ctx<'_>) -> R<()> {
    let d = cx.dir;
    let old = cx.c.send(Tgetattr { fid: d, request_mask: GetattrMask::BASIC }).await?;
    expect_msg!(cx.c.recv_tag(old).await?, Rgetattr)?;
    let r = cx.rpc(Tflush { oldtag: old }).await?;
    expect_msg!(r, Rflush)?;
    Ok(())
}

async fn pipelined_fast(cx: &mut Ctx<'_>) -> R<()> {
    let d = cx.dir;
    let old = cx.c.send(Tgetattr { fid: d, request_mask: GetattrMask::ALL }).await?;
    let fl = cx.c.send(Tflush { oldtag: old }).await?;
    let log = collect_until(&mut cx.c, fl).await?;
    order_ok(&log, old, fl)?;
    nothing_late(&mut cx.c, old, Duration::from_millis(200)).await
}

async fn flush_of_flush(cx: &mut Ctx<'_>) -> R<()> {
    let f1 = cx.c.send(Tflush { oldtag: 0x5555 }).await?;
    let f2 = cx.c.send(Tflush { oldtag: f1 }).await?;
    let log = collect_until(&mut cx.c, f2).await?;
    order_ok(&log, f1, f2)
}

async fn tag_reuse_after_rflush(cx: &mut Ctx<'_>) -> R<()> {
    let d = cx.dir;
    let old = cx.c.send(Tgetattr { fid: d, request_mask: GetattrMask::BASIC }).await?;
    let fl = cx.c.send(Tflush { oldtag: old }).await?;
    let log = collect_until(&mut cx.c, fl).await?;
    order_ok(&log, old, fl)?;
    cx.c.send_tagged(old, Tgetattr { fid: d, request_mask: GetattrMask::BASIC }).await?;
    let f = cx.c.recv_any().await?;
    ensure_eq("tag", f.tag, old)?;
    expect_msg!(f.message, Rgetattr)?;
    Ok(())
}

async fn many_pipelined(cx: &mut Ctx<'_>) -> R<()> {
    let d = cx.dir;
    let mut tags = std::collections::BTreeSet::new();
    for _ in 0..64 {
        tags.insert(cx.c.send(Tgetattr { fid: d, request_mask: GetattrMask::BASIC }).await?);
    }
    while !tags.is_empty() {
        let f = cx.c.recv_any().await?;
        ensure(tags.remove(&f.tag), || format!("reply for unexpected or repeated tag {}", f.tag))?;
        expect_msg!(f.message, Rgetattr)?;
    }
    nothing_late(&mut cx.c, 0, Duration::from_millis(100)).await
}

/// A session holding the slow file open; returns (session, fid).
async fn slow(cx: &mut Ctx<'_>) -> R<(Session, u32)> {
    let slow = cx.cfg.slow.clone().ok_or_else(|| Stop::Skip("no slow file configured".into()))?;
    let mut s = match &slow.aname {
        Some(a) => cx.session_aname(a.clone()).await?,
        None => cx.session().await?,
    };
    let parts: Vec<&str> = slow.path.split('/').filter(|p| !p.is_empty()).collect();
    let root = s.root;
    let f = s.walk(root, &parts).await.map_err(|e| e.context("walk to the slow file"))?;
    s.lopen(f, OpenFlags::RDONLY).await?;
    Ok((s, f))
}

async fn slow_read(cx: &mut Ctx<'_>) -> R<()> {
    let (mut s, f) = slow(cx).await?;
    let old = s.c.send(Tread { fid: f, offset: 0, count: 4096 }).await?;
    tokio::time::sleep(Duration::from_millis(20)).await;
    let fl = s.c.send(Tflush { oldtag: old }).await?;
    let log = collect_until(&mut s.c, fl).await?;
    order_ok(&log, old, fl)?;
    nothing_late(&mut s.c, old, Duration::from_millis(1500)).await
}

async fn slow_two_flushes(cx: &mut Ctx<'_>) -> R<()> {
    let (mut s, f) = slow(cx).await?;
    let old = s.c.send(Tread { fid: f, offset: 0, count: 4096 }).await?;
    tokio::time::sleep(Duration::from_millis(20)).await;
    let f1 = s.c.send(Tflush { oldtag: old }).await?;
    let f2 = s.c.send(Tflush { oldtag: old }).await?;
    let mut log = collect_until(&mut s.c, f2).await?;
    if !log.iter().any(|(t, _)| *t == f1) {
        return fail("the second Rflush came before the first");
    }
    order_ok(&log, old, f1)?;
    log.retain(|(t, _)| *t != f1);
    order_ok(&log, old, f2)
}

async fn slow_not_blocking(cx: &mut Ctx<'_>) -> R<()> {
    let (mut s, f) = slow(cx).await?;
    let root = s.root;
    let old = s.c.send(Tread { fid: f, offset: 0, count: 4096 }).await?;
    tokio::time::sleep(Duration::from_millis(10)).await;
    let g = s.c.send(Tgetattr { fid: root, request_mask: GetattrMask::BASIC }).await?;
    let first = s.c.recv_any().await?;
    ensure_eq("first reply's tag (the Tgetattr)", first.tag, g)?;
    let _ = s.c.recv_tag(old).await?;
    Ok(())
}

async fn slow_cancel_prompt(cx: &mut Ctx<'_>) -> R<()> {
    let (mut s, f) = slow(cx).await?;
    let old = s.c.send(Tread { fid: f, offset: 0, count: 4096 }).await?;
    tokio::time::sleep(Duration::from_millis(20)).await;
    let t0 = Instant::now();
    let fl = s.c.send(Tflush { oldtag: old }).await?;
    collect_until(&mut s.c, fl).await?;
    ensure(t0.elapsed() < Duration::from_secs(2), || format!("Rflush after {:?}", t0.elapsed()))
}
