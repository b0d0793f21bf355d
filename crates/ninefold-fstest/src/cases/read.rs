//! Tread: offsets, EOF, sparse files, pipelined reads.

use ninefold_proto::base::Tread;
use ninefold_proto::{Errno, OpenFlags};

use crate::case::cases;
use crate::config::Caps;
use crate::ctx::{open_dir, Ctx};
use crate::expect::{ensure, ensure_eq, expect_err, expect_msg, R};

cases! {
    "read/basic", L, Caps::empty(), "Tread at 0 returns the file's bytes" => basic;
    "read/offset", L, Caps::empty(), "Tread at offset 3 count 4 returns bytes 3..7" => offset;
    "read/short_at_end", L, Caps::empty(), "a Tread crossing EOF returns only the bytes up to EOF" => short_at_end;
    "read/at_eof", L, Caps::empty(), "Tread at offset == size returns 0 bytes" => at_eof;
    "read/past_eof", L, Caps::empty(), "Tread far past EOF returns 0 bytes (not an error)" => past_eof;
    "read/zero_count", L, Caps::empty(), "Tread count 0 returns 0 bytes" => zero_count;
    "read/sparse_hole", L, Caps::empty(), "bytes of a hole read as zeros" => sparse_hole;
    "read/directory", L, Caps::empty(), "Tread on an open .L directory fid: Rlerror EISDIR(21)" => directory;
    "read/pipelined", L, Caps::empty(), "16 pipelined Treads at different offsets each get their own bytes" => pipelined;
    "read/large_file", L, Caps::empty(), "a 1 MiB file written in msize chunks reads back identical" => large_file;
}

async fn file(cx: &mut Ctx<'_>, data: &[u8]) -> R<u32> {
    let d = cx.dir;
    cx.mkfile(d, "f", data).await?;
    cx.open_at(d, "f", OpenFlags::RDONLY).await
}

async fn basic(cx: &mut Ctx<'_>) -> R<()> {
    let f = file(cx, b"hello world").await?;
    ensure_eq("data", &cx.read(f, 0, 100).await?[..], &b"hello world"[..])
}

async fn offset(cx: &mut Ctx<'_>) -> R<()> {
    let f = file(cx, b"0123456789").await?;
    ensure_eq("data", &cx.read(f, 3, 4).await?[..], &b"3456"[..])
}

async fn short_at_end(cx: &mut Ctx<'_>) -> R<()> {
    let f = file(cx, b"0123456789").await?;
    ensure_eq("data", &cx.read(f, 8, 100).await?[..], &b"89"[..])
}

async fn at_eof(cx: &mut Ctx<'_>) -> R<()> {
    let f = file(cx, b"0123456789").await?;
    ensure_eq("bytes", cx.read(f, 10, 100).await?.len(), 0)
}

async fn past_eof(cx: &mut Ctx<'_>) -> R<()> {
    let f = file(cx, b"0123456789").await?;
    ensure_eq("bytes", cx.read(f, 1 << 40, 100).await?.len(), 0)
}

async fn zero_count(cx: &mut Ctx<'_>) -> R<()> {
    let f = file(cx, b"0123456789").await?;
    ensure_eq("bytes", cx.read(f, 0, 0).await?.len(), 0)
}

async fn sparse_hole(cx: &mut Ctx<'_>) -> R<()> {
    let d = cx.dir;
    let (f, _) = cx.create(d, "s", OpenFlags::RDWR, 0o644).await?;
    cx.write(f, 1 << 20, b"end").await?;
    ensure_eq("size", cx.getattr(f).await?.size, (1 << 20) + 3)?;
    let hole = cx.read(f, 4096, 4096).await?;
    ensure(hole.len() == 4096 && hole.iter().all(|&b| b == 0), || {
        "hole is not 4096 zero bytes".into()
    })?;
    ensure_eq("tail", &cx.read(f, 1 << 20, 10).await?[..], &b"end"[..])
}

async fn directory(cx: &mut Ctx<'_>) -> R<()> {
    let d = cx.dir;
    let f = open_dir(cx, d).await?;
    let r = cx.rpc(Tread { fid: f, offset: 0, count: 100 }).await?;
    expect_err(&r, &[Errno::EISDIR]).map(|_| ())
}

async fn pipelined(cx: &mut Ctx<'_>) -> R<()> {
    let data: Vec<u8> = (0..16 * 256).map(|i| (i / 256) as u8).collect();
    let f = file(cx, &data).await?;
    let mut tags = Vec::new();
    for i in 0..16u64 {
        tags.push((i, cx.c.send(Tread { fid: f, offset: i * 256, count: 256 }).await?));
    }
    for (i, tag) in tags.into_iter().rev() {
        let r = expect_msg!(cx.c.recv_tag(tag).await?, Rread)?;
        ensure(r.data.len() == 256 && r.data.iter().all(|&b| b as u64 == i), || {
            format!("read #{i} got wrong bytes")
        })?;
    }
    Ok(())
}

async fn large_file(cx: &mut Ctx<'_>) -> R<()> {
    let data: Vec<u8> = (0..(1usize << 20)).map(|i| (i % 253) as u8).collect();
    let f = file(cx, &data).await?;
    let got = cx.read_all(f).await?;
    ensure(got == data, || {
        format!("read back {} bytes, differing from the {} written", got.len(), data.len())
    })
}
