//! Malformed and invalid requests: unknown types, wrong dialect, bad
//! sizes, truncated bodies, R-messages from the client, tag reuse.

use std::time::Duration;

use ninefold_proto::base::Tread;
use ninefold_proto::l::Tgetattr;
use ninefold_proto::{Errno, GetattrMask, Message, OpenFlags};

use crate::case::cases;
use crate::config::Caps;
use crate::conn::{put_str, raw_frame, RawConn};
use crate::ctx::Ctx;
use crate::expect::{describe, expect_err, fail, is_error, R};

cases! {
    "malformed/unknown_type", L, Caps::empty(), "a well-framed unknown type (200): Rlerror ENOSYS(38) with its tag; the connection stays usable" => unknown_type;
    "malformed/wrong_dialect", L, Caps::empty(), "a 9P2000 Topen on a .L connection: Rlerror ENOSYS(38) (or EOPNOTSUPP)" => wrong_dialect;
    "malformed/rmessage_from_client", L, Caps::empty(), "an Rversion sent by the client: an error reply or close, server stays up" => rmessage_from_client;
    "malformed/size_below_header", L, Caps::empty(), "a size field of 4: connection closed (or an error), server stays up" => size_below_header;
    "malformed/size_over_msize", L, Caps::empty(), "a size field above msize: connection closed (or an error), server stays up" => size_over_msize;
    "malformed/truncated_body", L, Caps::empty(), "a Tgetattr missing its mask: an error reply (EINVAL/EPROTO) or close" => truncated_body;
    "malformed/trailing_bytes", L, Caps::empty(), "a Tclunk with 3 extra bytes: an error reply or close, not Rclunk" => trailing_bytes;
    "malformed/string_overrun", L, Caps::empty(), "a Twalk name whose length runs past the frame: an error reply or close" => string_overrun;
    "malformed/write_count_mismatch", L, Caps::empty(), "a Twrite whose count exceeds the bytes present: an error reply or close" => write_count_mismatch;
    "malformed/garbage", L, Caps::empty(), "512 bytes of garbage after Tversion: close (or errors), server stays up" => garbage;
    "malformed/bad_fid_ops", L, Caps::empty(), "Tread/Tgetattr/Treaddir on unknown fids: error replies (EBADF)" => bad_fid_ops;
    "malformed/tag_in_flight", L, Caps::FLUSH_SLOW, "a second request reusing the tag of an in-flight one: an error reply or close, server stays up" => tag_in_flight;
}

/// Accepts an error reply (with `tag`) or a closed connection, then checks
/// the server still serves new connections.
async fn error_or_close(cx: &mut Ctx<'_>, c: &mut RawConn, tag: u16) -> R<()> {
    match c.closed_within(cx.timeout()).await {
        Ok(None) => {}
        Ok(Some(f)) if f.tag == tag && is_error(&f.message) => {}
        Ok(Some(f)) => {
            return fail(format!(
                "expected an error reply or close, got {} (tag {})",
                describe(&f.message),
                f.tag
            ))
        }
        Err(crate::conn::ConnError::Decode(_)) => {}
        Err(e) => return fail(format!("expected an error reply or close: {e}")),
    }
    cx.server_alive().await
}

async fn unknown_type(cx: &mut Ctx<'_>) -> R<()> {
    cx.c.send_raw(&raw_frame(200, 33, &[0, 0, 0, 0])).await?;
    let f = cx.c.recv_any().await?;
    if f.tag != 33 {
        return fail(format!("reply tag {} for tag 33", f.tag));
    }
    expect_err(&f.message, &[Errno::ENOSYS, Errno::EOPNOTSUPP])?;
    let d = cx.dir;
    cx.getattr(d).await.map(|_| ())
}

async fn wrong_dialect(cx: &mut Ctx<'_>) -> R<()> {
    let d = cx.dir;
    let mut body = d.to_le_bytes().to_vec();
    body.push(0);
    cx.c.send_raw(&raw_frame(112, 34, &body)).await?;
    let f = cx.c.recv_any().await?;
    expect_err(&f.message, &[Errno::ENOSYS, Errno::EOPNOTSUPP]).map(|_| ())
}

async fn rmessage_from_client(cx: &mut Ctx<'_>) -> R<()> {
    let mut c = cx.raw_versioned().await?;
    let mut body = 8192u32.to_le_bytes().to_vec();
    put_str(&mut body, b"9P2000.L");
    c.send_raw(&raw_frame(101, 35, &body)).await?;
    error_or_close(cx, &mut c, 35).await
}

async fn size_below_header(cx: &mut Ctx<'_>) -> R<()> {
    let mut c = cx.raw_versioned().await?;
    c.send_raw(&[4, 0, 0, 0, 120, 1, 0]).await?;
    error_or_close(cx, &mut c, 1).await
}

async fn size_over_msize(cx: &mut Ctx<'_>) -> R<()> {
    let mut c = cx.raw_versioned().await?;
    let size = c.msize() + 1;
    let mut v = size.to_le_bytes().to_vec();
    v.extend_from_slice(&[120, 2, 0, 1, 0, 0, 0]);
    let _ = c.send_raw(&v).await;
    match c.closed_within(Duration::from_secs(2)).await {
        Ok(None) => {}
        Ok(Some(f)) if is_error(&f.message) => {}
        Ok(Some(f)) => {
            return fail(format!("expected close or an error, got {}", describe(&f.message)))
        }
        // Waiting for the rest of an oversized frame is a timeout here: the
        // server must refuse from the size field alone.
        Err(e) => {
            return fail(format!("expected close or an error from the size field alone: {e}"))
        }
    }
    cx.server_alive().await
}

async fn truncated_body(cx: &mut Ctx<'_>) -> R<()> {
    let mut c = cx.raw_versioned().await?;
    c.send_raw(&raw_frame(24, 36, &1u32.to_le_bytes())).await?;
    error_or_close(cx, &mut c, 36).await
}

async fn trailing_bytes(cx: &mut Ctx<'_>) -> R<()> {
    let mut c = cx.raw_versioned().await?;
    let mut body = 4242u32.to_le_bytes().to_vec();
    body.extend_from_slice(&[1, 2, 3]);
    c.send_raw(&raw_frame(120, 37, &body)).await?;
    error_or_close(cx, &mut c, 37).await
}

async fn string_overrun(cx: &mut Ctx<'_>) -> R<()> {
    let mut c = cx.raw_versioned().await?;
    let mut body = 1u32.to_le_bytes().to_vec();
    body.extend_from_slice(&2u32.to_le_bytes());
    body.extend_from_slice(&1u16.to_le_bytes());
    body.extend_from_slice(&1000u16.to_le_bytes());
    body.extend_from_slice(b"short");
    c.send_raw(&raw_frame(110, 38, &body)).await?;
    error_or_close(cx, &mut c, 38).await
}

async fn write_count_mismatch(cx: &mut Ctx<'_>) -> R<()> {
    let d = cx.dir;
    let (f, _) = cx.create(d, "w", OpenFlags::RDWR, 0o644).await?;
    let mut body = f.to_le_bytes().to_vec();
    body.extend_from_slice(&0u64.to_le_bytes());
    body.extend_from_slice(&100u32.to_le_bytes());
    body.extend_from_slice(&[7u8; 10]);
    cx.c.send_raw(&raw_frame(118, 39, &body)).await?;
    let fresh = cx.raw().await?;
    let mut c = std::mem::replace(&mut cx.c, fresh);
    error_or_close(cx, &mut c, 39).await
}

async fn garbage(cx: &mut Ctx<'_>) -> R<()> {
    let mut c = cx.raw_versioned().await?;
    let junk: Vec<u8> =
        (0..512u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8 | 0x80).collect();
    let _ = c.send_raw(&junk).await;
    match c.closed_within(Duration::from_secs(2)).await {
        Ok(None) | Err(_) => {}
        Ok(Some(_)) => {}
    }
    cx.server_alive().await
}

async fn bad_fid_ops(cx: &mut Ctx<'_>) -> R<()> {
    let r = cx.rpc(Tread { fid: 0x0055_5555, offset: 0, count: 10 }).await?;
    expect_err(&r, &[Errno::EBADF]).map_err(|s| s.context("Tread"))?;
    let r = cx.rpc(Tgetattr { fid: 0x0055_5555, request_mask: GetattrMask::BASIC }).await?;
    expect_err(&r, &[Errno::EBADF]).map_err(|s| s.context("Tgetattr"))?;
    let r = cx.rpc(ninefold_proto::l::Treaddir { fid: 0x0055_5555, offset: 0, count: 100 }).await?;
    expect_err(&r, &[Errno::EBADF]).map_err(|s| s.context("Treaddir"))?;
    Ok(())
}

async fn tag_in_flight(cx: &mut Ctx<'_>) -> R<()> {
    let slow = match cx.cfg.slow.clone() {
        Some(s) => s,
        None => return Err(crate::expect::Stop::Skip("no slow file configured".into())),
    };
    let mut s = match &slow.aname {
        Some(a) => cx.session_aname(a.clone()).await?,
        None => cx.session().await?,
    };
    let parts: Vec<&str> = slow.path.split('/').filter(|p| !p.is_empty()).collect();
    let root = s.root;
    let f = s.walk(root, &parts).await?;
    s.lopen(f, OpenFlags::RDONLY).await?;
    s.c.send_tagged(44, Tread { fid: f, offset: 0, count: 100 }).await?;
    s.c.send_tagged(44, Tgetattr { fid: root, request_mask: GetattrMask::BASIC }).await?;
    let mut replies = 0;
    loop {
        match s.c.recv_within(Duration::from_secs(3)).await {
            Ok(fr) if fr.tag == 44 => {
                replies += 1;
                if replies == 2 {
                    break;
                }
                if let Message::Rgetattr(_) = fr.message {
                    return fail("the duplicate-tag Tgetattr was served as if its tag were free");
                }
            }
            Ok(fr) => return fail(format!("unexpected {} tag {}", describe(&fr.message), fr.tag)),
            Err(_) => break,
        }
    }
    cx.server_alive().await
}
