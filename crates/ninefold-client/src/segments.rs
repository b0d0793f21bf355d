//! [`Segments`]: a span of a file handed back as the payloads of its
//! Rreads, in file order, without copying them.
//!
//! For callers that must put the bytes somewhere the client cannot
//! allocate for them, and want the network to keep going meanwhile: a
//! binding whose only safe way to make its language's byte string zeroes
//! it first (PyO3's `PyBytes::new_with`) starts the stream, lets it run
//! ahead on the runtime while the string is made, then copies each
//! segment once into it.

use std::fmt;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use futures_util::stream::{self, BoxStream, Stream, StreamExt};

use crate::error::{Error, Result};
use crate::file::File;

/// The payloads of a span's Rreads, in file order (a
/// [`Stream`] of `Result<Bytes>`), from [`File::read_segments`].
///
/// Every segment but the last is one full chunk (the connection's read
/// chunk, or the file's iounit if smaller). The stream ends at the end of
/// the span, at the end of the file (a chunk that came back short), or
/// after the first error; once it has ended, the reads still in flight
/// are dropped (and so flushed). Dropping it early cancels them too.
pub struct Segments {
    inner: BoxStream<'static, Result<(usize, Bytes)>>,
    done: bool,
}

impl fmt::Debug for Segments {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Segments").field("done", &self.done).finish_non_exhaustive()
    }
}

impl File {
    /// Up to `len` bytes at `offset` as a stream of the received Rread
    /// payloads ([`Segments`]), each a [`Bytes`] slice of its frame, never
    /// copied.
    ///
    /// The span goes out as one positioned read per chunk, pipelined as
    /// [`read_into`](File::read_into) pipelines (at least
    /// [`PIPELINE_DEPTH`](crate::PIPELINE_DEPTH) chunks in flight, about
    /// 2 MiB on the way), and the segments come back in order. Each chunk
    /// is a [`read_at`](File::read_at): a short reply that is not empty is
    /// read on until its chunk is full, and after a reconnect the chunks
    /// not yet read are read on the new connection. A chunk shorter than
    /// asked is the end of the file.
    ///
    /// The stream owns a clone of the handle, so it may be moved into a
    /// task of its own that reads ahead of its consumer.
    pub fn read_segments(&self, offset: u64, len: u64) -> Segments {
        let chunk = self.read_chunk_len();
        let depth = crate::op::depth(chunk);
        let step = chunk as u64;
        let file = self.clone();
        let pieces = stream::iter(0..len.div_ceil(step)).map(move |i| {
            let file = file.clone();
            let at = i * step;
            let n = step.min(len - at) as usize;
            async move {
                let off = offset
                    .checked_add(at)
                    .ok_or_else(|| Error::invalid("read past the largest file offset"))?;
                file.read_at(off, n).await.map(|b| (n, b))
            }
        });
        Segments { inner: pieces.buffered(depth).boxed(), done: false }
    }
}

impl Segments {
    /// Stops the stream: the reads in flight are dropped (flushed).
    fn finish(&mut self) {
        self.done = true;
        self.inner = stream::empty().boxed();
    }
}

impl Stream for Segments {
    type Item = Result<Bytes>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Bytes>>> {
        let this = &mut *self;
        if this.done {
            return Poll::Ready(None);
        }
        match this.inner.poll_next_unpin(cx) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(None) => {
                this.finish();
                Poll::Ready(None)
            }
            Poll::Ready(Some(Err(e))) => {
                this.finish();
                Poll::Ready(Some(Err(e)))
            }
            Poll::Ready(Some(Ok((asked, data)))) => {
                if data.len() < asked {
                    // The end of the file.
                    this.finish();
                    if data.is_empty() {
                        return Poll::Ready(None);
                    }
                }
                Poll::Ready(Some(Ok(data)))
            }
        }
    }
}
