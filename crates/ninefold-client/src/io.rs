//! [`FileCursor`]: tokio `AsyncRead + AsyncWrite + AsyncSeek` over a
//! [`File`]'s positioned API (feature `tokio-io`).

use std::fmt;
use std::future::Future;
use std::io::{self, SeekFrom};
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use bytes::Bytes;
use tokio::io::{AsyncRead, AsyncSeek, AsyncWrite, ReadBuf};

use crate::error::Result;
use crate::file::File;

type BoxFut<T> = Pin<Box<dyn Future<Output = Result<T>> + Send>>;

/// A cursor over a [`File`]: reads and writes at its own position, so
/// `tokio::io::copy` and friends work. Each read is one positioned read of
/// at most the buffer's free space; each write sends the whole buffer.
pub struct FileCursor {
    file: File,
    pos: u64,
    read: Option<BoxFut<Bytes>>,
    write: Option<(BoxFut<()>, usize)>,
    seek: Option<BoxFut<u64>>,
}

impl fmt::Debug for FileCursor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FileCursor").field("file", &self.file).field("pos", &self.pos).finish()
    }
}

impl FileCursor {
    pub(crate) fn new(file: File) -> FileCursor {
        FileCursor { file, pos: 0, read: None, write: None, seek: None }
    }

    /// The current position.
    pub fn position(&self) -> u64 {
        self.pos
    }

    /// The file under the cursor.
    pub fn file(&self) -> &File {
        &self.file
    }
}

impl AsyncRead for FileCursor {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = &mut *self;
        if this.read.is_none() {
            let (file, pos, len) = (this.file.clone(), this.pos, buf.remaining());
            this.read = Some(Box::pin(async move { file.read_at(pos, len).await }));
        }
        let Some(fut) = this.read.as_mut() else { return Poll::Ready(Ok(())) };
        let res = ready!(fut.as_mut().poll(cx));
        this.read = None;
        let data = res?;
        let n = data.len().min(buf.remaining());
        buf.put_slice(&data[..n]);
        this.pos += n as u64;
        Poll::Ready(Ok(()))
    }
}

impl AsyncWrite for FileCursor {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        if this.write.is_none() {
            let (file, pos, data) = (this.file.clone(), this.pos, Bytes::copy_from_slice(buf));
            let len = data.len();
            this.write = Some((Box::pin(async move { file.write_at_bytes(pos, data).await }), len));
        }
        let Some((fut, len)) = this.write.as_mut() else { return Poll::Ready(Ok(0)) };
        let len = *len;
        let res = ready!(fut.as_mut().poll(cx));
        this.write = None;
        res?;
        this.pos += len as u64;
        Poll::Ready(Ok(len))
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

impl AsyncSeek for FileCursor {
    fn start_seek(mut self: Pin<&mut Self>, position: SeekFrom) -> io::Result<()> {
        let this = &mut *self;
        let bad = || io::Error::new(io::ErrorKind::InvalidInput, "seek before start or past u64");
        match position {
            SeekFrom::Start(n) => this.pos = n,
            SeekFrom::Current(d) => this.pos = this.pos.checked_add_signed(d).ok_or_else(bad)?,
            SeekFrom::End(d) => {
                let file = this.file.clone();
                this.seek = Some(Box::pin(async move {
                    let size = file.metadata().await?.size;
                    size.checked_add_signed(d)
                        .ok_or_else(|| crate::Error::invalid("seek before start or past u64"))
                }));
            }
        }
        Ok(())
    }

    fn poll_complete(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<u64>> {
        let this = &mut *self;
        if let Some(fut) = this.seek.as_mut() {
            let res = ready!(fut.as_mut().poll(cx));
            this.seek = None;
            this.pos = res?;
        }
        Poll::Ready(Ok(this.pos))
    }
}
