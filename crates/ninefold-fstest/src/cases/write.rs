//! Twrite: offsets, extension, holes, append, counts.

use bytes::Bytes;
use ninefold_proto::base::Twrite;
use ninefold_proto::{Errno, OpenFlags};

use crate::case::cases;
use crate::config::Caps;
use crate::ctx::Ctx;
use crate::expect::{ensure, ensure_eq, expect_err, expect_msg, R};

cases! {
    "write/basic", L, Caps::empty(), "Twrite returns the count written and the bytes read back" => basic;
    "write/overwrite_middle", L, Caps::empty(), "a write in the middle replaces bytes without changing size" => overwrite_middle;
    "write/extends", L, Caps::empty(), "a write past EOF extends the file" => extends;
    "write/hole", L, Caps::empty(), "a write far past EOF leaves a zero-filled hole" => hole;
    "write/zero_length", L, Caps::empty(), "a 0-byte Twrite gives Rwrite count 0 and leaves size unchanged" => zero_length;
    "write/unopened", L, Caps::empty(), "Twrite on an unopened fid: Rlerror EBADF(9)" => unopened;
    "write/after_clunk", L, Caps::empty(), "Twrite on a clunked fid: an error reply (EBADF)" => after_clunk;
    "write/pipelined", L, Caps::empty(), "16 pipelined Twrites to disjoint ranges all land" => pipelined;
    "write/size_visible", L, Caps::empty(), "another fid sees the new size after a write" => size_visible;
}

async fn newfile(cx: &mut Ctx<'_>, data: &[u8]) -> R<u32> {
    let d = cx.dir;
    let (f, _) = cx.create(d, "f", OpenFlags::RDWR, 0o644).await?;
    if !data.is_empty() {
        cx.write_all(f, 0, data).await?;
    }
    Ok(f)
}

async fn basic(cx: &mut Ctx<'_>) -> R<()> {
    let f = newfile(cx, b"").await?;
    ensure_eq("count", cx.write(f, 0, b"hello").await?, 5)?;
    ensure_eq("data", &cx.read(f, 0, 10).await?[..], &b"hello"[..])
}

async fn overwrite_middle(cx: &mut Ctx<'_>) -> R<()> {
    let f = newfile(cx, b"0123456789").await?;
    cx.write(f, 4, b"ab").await?;
    ensure_eq("data", &cx.read(f, 0, 20).await?[..], &b"0123ab6789"[..])?;
    ensure_eq("size", cx.getattr(f).await?.size, 10)
}

async fn extends(cx: &mut Ctx<'_>) -> R<()> {
    let f = newfile(cx, b"0123").await?;
    cx.write(f, 4, b"4567").await?;
    ensure_eq("size", cx.getattr(f).await?.size, 8)
}

async fn hole(cx: &mut Ctx<'_>) -> R<()> {
    let f = newfile(cx, b"ab").await?;
    cx.write(f, 100, b"z").await?;
    let d = cx.read(f, 0, 200).await?;
    ensure_eq("size", d.len(), 101)?;
    ensure(d[2..100].iter().all(|&b| b == 0), || "hole not zero-filled".into())
}

async fn zero_length(cx: &mut Ctx<'_>) -> R<()> {
    let f = newfile(cx, b"abc").await?;
    let r = expect_msg!(cx.rpc(Twrite { fid: f, offset: 10, data: Bytes::new() }).await?, Rwrite)?;
    ensure_eq("count", r.count, 0)?;
    ensure_eq("size", cx.getattr(f).await?.size, 3)
}

async fn unopened(cx: &mut Ctx<'_>) -> R<()> {
    let d = cx.dir;
    cx.mkfile(d, "f", b"abc").await?;
    let f = cx.walk(d, &["f"]).await?;
    let r = cx.rpc(Twrite { fid: f, offset: 0, data: Bytes::from_static(b"x") }).await?;
    expect_err(&r, &[Errno::EBADF]).map(|_| ())
}

async fn after_clunk(cx: &mut Ctx<'_>) -> R<()> {
    let f = newfile(cx, b"").await?;
    cx.clunk(f).await?;
    let r = cx.rpc(Twrite { fid: f, offset: 0, data: Bytes::from_static(b"x") }).await?;
    expect_err(&r, &[Errno::EBADF]).map(|_| ())
}

async fn pipelined(cx: &mut Ctx<'_>) -> R<()> {
    let f = newfile(cx, b"").await?;
    let mut tags = Vec::new();
    for i in 0..16u8 {
        let data = Bytes::from(vec![b'a' + i; 100]);
        tags.push(cx.c.send(Twrite { fid: f, offset: u64::from(i) * 100, data }).await?);
    }
    for t in tags {
        let r = expect_msg!(cx.c.recv_tag(t).await?, Rwrite)?;
        ensure_eq("count", r.count, 100)?;
    }
    let all = cx.read_all(f).await?;
    ensure_eq("size", all.len(), 1600)?;
    ensure(
        (0..16).all(|i| all[i * 100..(i + 1) * 100].iter().all(|&b| b == b'a' + i as u8)),
        || "content differs".into(),
    )
}

async fn size_visible(cx: &mut Ctx<'_>) -> R<()> {
    let f = newfile(cx, b"").await?;
    cx.write(f, 0, &[1u8; 1000]).await?;
    let d = cx.dir;
    let other = cx.walk(d, &["f"]).await?;
    ensure_eq("size via another fid", cx.getattr(other).await?.size, 1000)
}
