//! Bulk I/O against caller memory with one copy per byte.
//!
//! [`File::read_at`] assembles a multi-chunk read into a buffer of its
//! own, and [`File::write_at`] copies all of its data into one before
//! sending; across the C boundary each would then add a second copy (into
//! or out of the caller's buffer). Here the pipeline runs at this layer
//! instead: every Tread asks for at most one chunk, so its reply arrives
//! as the received buffer and is copied once, straight into the caller's
//! memory; every Twrite sends a chunk-sized copy of the caller's bytes.
//!
//! Every copy to or from caller memory happens in the future the calling
//! thread polls, never in a spawned task, so none can run after the call
//! returns (dropping the future on cancellation drops the copies with it).
//! A chunk being written is an owned copy, so a Twrite still queued when
//! its call is cancelled reads nothing of the caller's.

use std::path::Path;

use futures_util::stream::{self, StreamExt, TryStreamExt};
use ninefold_client::{Bytes, Client, File, OpenOptions, Result, PIPELINE_DEPTH};

/// The read and write chunk sizes of `c`'s current connection (at least 1).
pub(crate) fn chunks(c: &Client) -> (usize, usize) {
    let caps = c.capabilities();
    (caps.max_read_chunk.max(1) as usize, caps.max_write_chunk.max(1) as usize)
}

/// Reads up to `buf.len()` bytes of `f` at `offset` into `buf` in
/// `chunk`-sized Treads, [`PIPELINE_DEPTH`] in flight, and returns the
/// count; fewer than `buf.len()` means end of file.
///
/// [`File::read_at`] of at most one chunk completes a short Rread itself
/// (only an empty one is the end), so a piece shorter than asked is the
/// end of file: what follows it is not counted.
pub(crate) async fn read_into(
    f: &File,
    chunk: usize,
    offset: u64,
    buf: &mut [u8],
) -> Result<usize> {
    let len = buf.len();
    if len <= chunk {
        let b = f.read_at(offset, len).await?;
        let n = b.len().min(len);
        buf[..n].copy_from_slice(&b[..n]);
        return Ok(n);
    }
    let pieces = stream::iter(buf.chunks_mut(chunk).enumerate())
        .map(|(i, dst)| async move {
            let off = offset + (i * chunk) as u64;
            f.read_at(off, dst.len()).await.map(|b| (b, dst))
        })
        .buffered(PIPELINE_DEPTH);
    let mut pieces = std::pin::pin!(pieces);
    let mut total = 0;
    while let Some(piece) = pieces.next().await {
        let (b, dst) = piece?;
        let n = b.len().min(dst.len());
        dst[..n].copy_from_slice(&b[..n]);
        total += n;
        if n < dst.len() {
            // End of file: later pieces (empty unless the file grew
            // meanwhile) are not part of this read.
            break;
        }
    }
    Ok(total)
}

/// Writes all of `data` to `f` at `offset` in `chunk`-sized pieces,
/// [`PIPELINE_DEPTH`] in flight, each an owned copy made just before it
/// is sent (so at most that many chunks are held at once).
pub(crate) async fn write_from(f: &File, chunk: usize, offset: u64, data: &[u8]) -> Result<()> {
    if data.len() <= chunk {
        return f.write_at_bytes(offset, Bytes::copy_from_slice(data)).await;
    }
    stream::iter(data.chunks(chunk).enumerate())
        .map(|(i, piece)| {
            let off = offset + (i * chunk) as u64;
            f.write_at_bytes(off, Bytes::copy_from_slice(piece))
        })
        .buffer_unordered(PIPELINE_DEPTH)
        .try_collect::<()>()
        .await
}

/// `Client::append` with [`write_from`]: opens `path` for writing
/// (created if missing), takes its size, writes `data` there and returns
/// that offset (the same three operations; not atomic against other
/// writers).
pub(crate) async fn append_file(c: &Client, path: &Path, data: &[u8]) -> Result<u64> {
    let f = c.open(path, OpenOptions::new().write(true).create(true)).await?;
    let at = f.metadata().await?.size;
    let (_, chunk) = chunks(c);
    write_from(&f, chunk, at, data).await?;
    Ok(at)
}

/// `Client::write` with [`write_from`]: creates or truncates `path`, then
/// writes all of `data` (the same two operations).
pub(crate) async fn write_file(c: &Client, path: &Path, data: &[u8]) -> Result<()> {
    let opts = OpenOptions::new().write(true).create(true).truncate(true);
    let f = c.open(path, opts).await?;
    let (_, chunk) = chunks(c);
    write_from(&f, chunk, 0, data).await
}
