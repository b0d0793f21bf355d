//! FIFOs served as host pipes: opens, reads and writes that wait for the
//! other end must stay cancellable and must not hold the server back.
//!
//! These cases need a server whose FIFOs are real pipes
//! ([`Caps::FIFO_IO`]), such as a passthrough export.

use std::time::{Duration, Instant};

use ninefold_proto::base::{Tflush, Tread};
use ninefold_proto::l::{Tgetattr, Tlopen, Tmknod};
use ninefold_proto::{GetattrMask, Message, OpenFlags, S_IFIFO};

use crate::case::cases;
use crate::config::Caps;
use crate::conn::ConnError;
use crate::ctx::Ctx;
use crate::expect::{describe, ensure, expect_msg, fail, Stop, R};
use crate::session::Session;

cases! {
    "fifo/read_waits_and_flushes", L, Caps::MKNOD | Caps::FIFO_IO, "Tlopen O_RDONLY of a FIFO with no writer is answered within 2 s; a Tread then waits, and its Tflush gets Rflush within 2 s" => read_waits_and_flushes;
    "fifo/many_waiting", L, Caps::MKNOD | Caps::FIFO_IO, "200 FIFO reads waiting on 4 connections: another connection's Tgetattr is answered within 2 s; Tflush ends every read" => many_waiting;
    "fifo/disconnect_releases", L, Caps::MKNOD | Caps::FIFO_IO, "a connection closed with a FIFO read waiting releases its reader: a later O_WRONLY Tlopen waits for a new reader (no reply within 300 ms) and is flushed" => disconnect_releases;
}

/// How long a prompt answer may take.
const PROMPT: Duration = Duration::from_secs(2);

async fn mkfifo(cx: &mut Ctx<'_>, name: &str) -> R<()> {
    let d = cx.dir;
    let gid = cx.gid;
    let r = cx
        .rpc(Tmknod { dfid: d, name: name.into(), mode: S_IFIFO | 0o666, major: 0, minor: 0, gid })
        .await?;
    expect_msg!(r, Rmknod).map_err(|s| s.context("Tmknod S_IFIFO"))?;
    Ok(())
}

/// A session walked to the scratch directory; returns it with that fid.
async fn session_in_dir(cx: &mut Ctx<'_>) -> R<(Session, u32)> {
    let mut s = cx.session().await?;
    let root = s.root;
    let dir_name = cx.dir_name.clone();
    let d = s.walk(root, &[&dir_name]).await?;
    Ok((s, d))
}

/// Walks to `name` in `dir` and opens it with `flags`, within [`PROMPT`].
async fn open_now(s: &mut Session, dir: u32, name: &str, flags: OpenFlags) -> R<u32> {
    let f = s.walk(dir, &[name]).await?;
    let t0 = Instant::now();
    let tag = s.c.send(Tlopen { fid: f, flags }).await?;
    let reply = match s.c.recv_within(PROMPT).await {
        Ok(r) => r,
        Err(ConnError::Timeout(_)) => {
            return fail("Tlopen of a FIFO with no peer was not answered within 2 s")
        }
        Err(e) => return Err(Stop::from(e)),
    };
    ensure(reply.tag == tag, || format!("reply for tag {} instead of {tag}", reply.tag))?;
    expect_msg!(reply.message, Rlopen).map_err(|s| s.context("Tlopen"))?;
    ensure(t0.elapsed() < PROMPT, || format!("Tlopen took {:?}", t0.elapsed()))?;
    Ok(f)
}

/// Sends Tflush for `old` and waits for its Rflush within [`PROMPT`];
/// the flushed request may be answered first.
async fn flush_now(s: &mut Session, old: u16) -> R<()> {
    let fl = s.c.send(Tflush { oldtag: old }).await?;
    let deadline = Instant::now() + PROMPT;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let f = match s.c.recv_within(left).await {
            Ok(f) => f,
            Err(ConnError::Timeout(_)) => return fail("no Rflush within 2 s"),
            Err(e) => return Err(Stop::from(e)),
        };
        if f.tag == fl {
            return expect_msg!(f.message, Rflush).map(|_| ());
        }
        ensure(f.tag == old, || format!("unexpected {} (tag {})", describe(&f.message), f.tag))?;
    }
}

async fn read_waits_and_flushes(cx: &mut Ctx<'_>) -> R<()> {
    mkfifo(cx, "p").await?;
    let (mut s, d) = session_in_dir(cx).await?;
    let f = open_now(&mut s, d, "p", OpenFlags::RDONLY).await?;
    let old = s.c.send(Tread { fid: f, offset: 0, count: 4096 }).await?;
    match s.c.recv_within(Duration::from_millis(300)).await {
        Err(ConnError::Timeout(_)) => {}
        Ok(r) => {
            return fail(format!("a read with no writer was answered: {}", describe(&r.message)))
        }
        Err(e) => return Err(Stop::from(e)),
    }
    flush_now(&mut s, old).await
}

async fn many_waiting(cx: &mut Ctx<'_>) -> R<()> {
    const CONNS: usize = 4;
    const PER_CONN: usize = 50;
    for i in 0..CONNS * PER_CONN {
        mkfifo(cx, &format!("p{i}")).await?;
    }
    let mut waiting = Vec::new();
    for c in 0..CONNS {
        let (mut s, d) = session_in_dir(cx).await?;
        let mut tags = Vec::new();
        for i in 0..PER_CONN {
            let f =
                open_now(&mut s, d, &format!("p{}", c * PER_CONN + i), OpenFlags::RDONLY).await?;
            tags.push(s.c.send(Tread { fid: f, offset: 0, count: 4096 }).await?);
        }
        waiting.push((s, tags));
    }
    // Everyone else is still served promptly.
    let (mut other, d) = session_in_dir(cx).await?;
    for _ in 0..10 {
        let t0 = Instant::now();
        let r = other.rpc(Tgetattr { fid: d, request_mask: GetattrMask::BASIC }).await?;
        expect_msg!(r, Rgetattr)?;
        ensure(t0.elapsed() < PROMPT, || {
            format!("Tgetattr took {:?} with 200 FIFO reads waiting", t0.elapsed())
        })?;
    }
    for (s, tags) in &mut waiting {
        for &old in tags.iter() {
            flush_now(s, old).await?;
        }
    }
    Ok(())
}

async fn disconnect_releases(cx: &mut Ctx<'_>) -> R<()> {
    mkfifo(cx, "p").await?;
    {
        let (mut s, d) = session_in_dir(cx).await?;
        let f = open_now(&mut s, d, "p", OpenFlags::RDONLY).await?;
        s.c.send(Tread { fid: f, offset: 0, count: 4096 }).await?;
        // Dropping the session closes the connection with the read waiting.
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let (mut s, d) = session_in_dir(cx).await?;
    let f = s.walk(d, &["p"]).await?;
    let old = s.c.send(Tlopen { fid: f, flags: OpenFlags::WRONLY }).await?;
    match s.c.recv_within(Duration::from_millis(300)).await {
        Err(ConnError::Timeout(_)) => {}
        Ok(r) => {
            let what = match &r.message {
                Message::Rlopen(_) => "the old connection's reader is still open".to_string(),
                other => describe(other),
            };
            return fail(format!("O_WRONLY open with no reader answered at once: {what}"));
        }
        Err(e) => return Err(Stop::from(e)),
    }
    flush_now(&mut s, old).await
}
