//! `read_into`: a positioned read straight into a caller's buffer.

use futures_util::stream::{self, StreamExt};
use ninefold_client::{File, Result, PIPELINE_DEPTH};

/// Reads up to `buf.len()` bytes of `file` at `offset` into `buf` and
/// returns how many it read (fewer means end of file).
///
/// The span is asked for in `chunk`-sized [`File::read_at`] calls,
/// [`PIPELINE_DEPTH`] in flight; a call of at most one chunk is one round
/// trip whose payload the client returns uncopied, so each byte is copied
/// once, from the received frame into `buf`. `chunk` should be the
/// session's `max_read_chunk`. This is the composition the addon's
/// `File.read_into` runs and the Rust side of the benchmark measures; it
/// belongs in the client as `File::read_into` (see docs/NODE.md).
pub async fn read_into(file: &File, offset: u64, buf: &mut [u8], chunk: usize) -> Result<usize> {
    let chunk = chunk.max(1);
    let len = buf.len();
    let spans = (0..len.div_ceil(chunk)).map(|i| (i * chunk, chunk.min(len - i * chunk)));
    let mut parts = stream::iter(spans)
        .map(|(at, n)| async move { file.read_at(offset + at as u64, n).await.map(|b| (at, n, b)) })
        .buffered(PIPELINE_DEPTH);
    let mut filled = 0;
    while let Some(part) = parts.next().await {
        let (at, n, b) = part?;
        let got = b.len().min(n);
        buf[at..at + got].copy_from_slice(&b[..got]);
        filled = at + got;
        if got < n {
            // `read_at` is short only at the end of the file.
            break;
        }
    }
    Ok(filled)
}
