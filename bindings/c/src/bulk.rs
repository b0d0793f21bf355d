//! Bulk writes from caller memory with one copy per byte (reads into
//! caller memory are the client's [`File::read_into`]).
//!
//! [`File::write_at`] copies all of its data into one buffer before
//! sending; across the C boundary that would be a second copy. Here the
//! pipeline runs at this layer instead: every Twrite sends a chunk-sized
//! copy of the caller's bytes.
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
