//! msize enforcement: I/O at the bound, clamped counts, oversized frames.

use bytes::Bytes;
use ninefold_proto::base::{Tread, Twrite};
use ninefold_proto::l::Treaddir;
use ninefold_proto::OpenFlags;

use crate::case::cases;
use crate::config::Caps;
use crate::ctx::{open_dir, Ctx};
use crate::expect::{describe, ensure, ensure_eq, expect_msg, fail, is_error, R};

cases! {
    "msize/read_at_bound", L, Caps::empty(), "Tread count msize-24 (the Linux rsize) returns exactly msize-24 bytes" => read_at_bound;
    "msize/read_huge_count", L, Caps::empty(), "Tread count 0xffffffff is clamped: 0 < data <= msize-11" => read_huge_count;
    "msize/write_at_bound", L, Caps::empty(), "Twrite of msize-23 bytes (msize-48 in .Z: a frame of exactly msize) gives Rwrite count msize-23" => write_at_bound;
    "msize/write_too_big", L, Caps::empty(), "a Twrite frame larger than msize: connection closed or an error reply, server stays up" => write_too_big;
    "msize/readdir_huge_count", L, Caps::empty(), "Treaddir count 0xffffffff is clamped to what fits in msize" => readdir_huge_count;
    "msize/iounit_zero", L, Caps::empty(), "Rlopen and Rlcreate carry iounit 0 (kernel then uses msize-24)" => iounit_zero;
}

async fn big_file(cx: &mut Ctx<'_>, len: usize) -> R<(u32, Vec<u8>)> {
    let d = cx.dir;
    let data: Vec<u8> = (0..len).map(|i| (i * 7 % 251) as u8).collect();
    cx.mkfile(d, "big", &data).await?;
    let f = cx.open_at(d, "big", OpenFlags::RDONLY).await?;
    Ok((f, data))
}

async fn read_at_bound(cx: &mut Ctx<'_>) -> R<()> {
    let m = cx.msize() as usize;
    let (f, data) = big_file(cx, 2 * m + 100).await?;
    let got = cx.read(f, 0, (m - 24) as u32).await?;
    ensure_eq("bytes read", got.len(), m - 24)?;
    ensure(got[..] == data[..m - 24], || "data differs".into())
}

async fn read_huge_count(cx: &mut Ctx<'_>) -> R<()> {
    let m = cx.msize() as usize;
    let (f, data) = big_file(cx, 2 * m + 100).await?;
    let reply = cx.rpc(Tread { fid: f, offset: 0, count: u32::MAX }).await?;
    let r = expect_msg!(reply, Rread)?;
    ensure(!r.data.is_empty() && r.data.len() <= m - 11, || {
        format!("{} bytes at msize {m}", r.data.len())
    })?;
    ensure(r.data[..] == data[..r.data.len()], || "data differs".into())
}

async fn write_at_bound(cx: &mut Ctx<'_>) -> R<()> {
    let d = cx.dir;
    let m = cx.msize() as usize;
    let (f, _) = cx.create(d, "w", OpenFlags::RDWR, 0o644).await?;
    let bound = ninefold_proto::sizes::max_write_payload(m as u32, cx.dialect()) as usize;
    let data = vec![0x5a; bound];
    let n = cx.write(f, 0, &data).await?;
    ensure_eq("Rwrite count", n as usize, bound)?;
    ensure_eq("size", cx.getattr(f).await?.size, bound as u64)
}

async fn write_too_big(cx: &mut Ctx<'_>) -> R<()> {
    let d = cx.dir;
    let m = cx.msize() as usize;
    let (f, _) = cx.create(d, "w", OpenFlags::RDWR, 0o644).await?;
    let frame = crate::conn::encode(
        9,
        Twrite { fid: f, offset: 0, data: Bytes::from(vec![1u8; m + 1000]) }.into(),
        cx.dialect(),
    )
    .map_err(|e| crate::expect::Stop::Fail(e.to_string()))?;
    // The server may close before reading everything: ignore write errors.
    let _ = cx.c.send_raw(&frame).await;
    let t = cx.timeout();
    match cx.c.closed_within(t).await {
        Ok(None) => {}
        Ok(Some(fr)) if is_error(&fr.message) => {}
        Ok(Some(fr)) => {
            return fail(format!("expected close or an error, got {}", describe(&fr.message)))
        }
        Err(e) => return fail(format!("expected close or an error: {e}")),
    }
    cx.server_alive().await
}

async fn readdir_huge_count(cx: &mut Ctx<'_>) -> R<()> {
    let d = cx.dir;
    let m = cx.msize() as usize;
    let long = "n".repeat(200);
    for i in 0..(m / 200 + 20) {
        let (f, _) = cx.create(d, &format!("{long}{i}"), OpenFlags::RDWR, 0o644).await?;
        cx.clunk(f).await?;
    }
    let fid = open_dir(cx, d).await?;
    let reply = cx.rpc(Treaddir { fid, offset: 0, count: u32::MAX }).await?;
    let r = expect_msg!(reply, Rreaddir)?;
    ensure(!r.data.is_empty() && r.data.len() <= m - 11, || {
        format!("{} bytes of entries at msize {m}", r.data.len())
    })
}

async fn iounit_zero(cx: &mut Ctx<'_>) -> R<()> {
    let d = cx.dir;
    let f = cx.clone_fid(d).await?;
    let gid = cx.gid;
    let reply = cx
        .rpc(ninefold_proto::l::Tlcreate {
            fid: f,
            name: "x".into(),
            flags: OpenFlags::RDWR,
            mode: 0o644,
            gid,
        })
        .await?;
    let c = expect_msg!(reply, Rlcreate)?;
    ensure_eq("Rlcreate iounit", c.iounit, 0)?;
    let f2 = cx.walk(d, &["x"]).await?;
    let o = cx.lopen(f2, OpenFlags::RDONLY).await?;
    ensure_eq("Rlopen iounit", o.iounit, 0)
}
