//! [`File`]: an open file with positioned, pipelined I/O.

use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex};

use bytes::{Bytes, BytesMut};
use futures_util::stream::{self, StreamExt, TryStreamExt};
use ninefold_proto::{OpenFlags, P9String};

use crate::client::Client;
use crate::error::{Error, Result};
use crate::options::SetAttrs;
use crate::session::Fid;
use crate::types::Metadata;

/// Chunks kept in flight by one large read or write.
pub const PIPELINE_DEPTH: usize = 8;

/// An open file. All I/O is positioned (there is no implicit cursor) and
/// `&self`, so one `File` (or its clones) serves many tasks at once.
///
/// Large reads and writes are cut into chunks of the negotiated size and
/// pipelined, [`PIPELINE_DEPTH`] chunks in flight.
///
/// A file survives reconnects of a [`Client::connect`](crate::Client::connect)
/// client: it keeps its canonical path and open flags, and on first use
/// after a reconnect walks the path again from the new root and reopens
/// (without CREATE, EXCL or TRUNC). If the path no longer exists then, the
/// call fails with [`Error::NotFound`].
#[derive(Clone)]
pub struct File {
    inner: Arc<FileInner>,
}

struct FileInner {
    client: Client,
    fid: Mutex<Option<Arc<Fid>>>,
    closed: AtomicBool,
    iounit: AtomicU32,
    /// The Tlopen/Tlcreate flags, kept to reopen the fid after a reconnect.
    flags: OpenFlags,
    /// The canonical path from the attach root, to walk again after a
    /// reconnect.
    path: Vec<P9String>,
    /// Serialises reopens after a reconnect.
    reopen: tokio::sync::Mutex<()>,
}

impl fmt::Debug for File {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let fid = self.inner.fid.lock().ok().and_then(|g| g.as_ref().map(|f| f.num()));
        f.debug_struct("File")
            .field("fid", &fid)
            .field("iounit", &self.inner.iounit.load(Ordering::Relaxed))
            .finish()
    }
}

impl File {
    pub(crate) fn new(
        client: Client,
        fid: Fid,
        iounit: u32,
        flags: OpenFlags,
        path: Vec<P9String>,
    ) -> File {
        File {
            inner: Arc::new(FileInner {
                client,
                fid: Mutex::new(Some(Arc::new(fid))),
                closed: AtomicBool::new(false),
                iounit: AtomicU32::new(iounit),
                flags: flags - OpenFlags::CREATE - OpenFlags::EXCL - OpenFlags::TRUNC,
                path,
                reopen: tokio::sync::Mutex::new(()),
            }),
        }
    }

    /// The open fid on a live connection: after a reconnect, the path is
    /// walked again from the new root and reopened with the saved flags.
    async fn live_fid(&self) -> Result<Arc<Fid>> {
        let fid = self.fid()?;
        if !fid.session().is_dead() {
            return Ok(fid);
        }
        let _one = self.inner.reopen.lock().await;
        let fid = self.fid()?;
        if !fid.session().is_dead() {
            return Ok(fid);
        }
        let conn = self.inner.client.inner.conn_now();
        if conn.session.is_dead() {
            return Err(Error::disconnected());
        }
        let r =
            crate::path::resolve(&conn.session, &conn.root, self.inner.path.clone(), false).await?;
        let (_qid, iounit) = conn.session.lopen(&r.fid, self.inner.flags).await?;
        let new = Arc::new(r.fid);
        let mut slot = self.inner.fid.lock().map_err(|_| Error::protocol("fid slot poisoned"))?;
        if slot.is_none() || self.inner.closed.load(Ordering::Acquire) {
            return Err(Error::Closed);
        }
        *slot = Some(new.clone());
        self.inner.iounit.store(iounit, Ordering::Relaxed);
        tracing::debug!(fid = new.num(), "file reopened after reconnect");
        Ok(new)
    }

    /// The open fid (kept alive while the returned `Arc` is held), or
    /// `Closed`.
    pub fn fid(&self) -> Result<Arc<Fid>> {
        if self.inner.closed.load(Ordering::Acquire) {
            return Err(Error::Closed);
        }
        self.inner.fid.lock().ok().and_then(|g| g.clone()).ok_or(Error::Closed)
    }

    /// The flags the file was opened with (CREATE, EXCL and TRUNC removed):
    /// what a reopen would send.
    pub fn open_flags(&self) -> OpenFlags {
        self.inner.flags
    }

    fn read_chunk(&self, s: &crate::Session) -> usize {
        let max = s.max_read_chunk();
        let iounit = self.inner.iounit.load(Ordering::Relaxed);
        let n = if iounit > 0 { iounit.min(max) } else { max };
        n.max(1) as usize
    }

    fn write_chunk(&self, s: &crate::Session) -> usize {
        let max = s.max_write_chunk();
        let iounit = self.inner.iounit.load(Ordering::Relaxed);
        let n = if iounit > 0 { iounit.min(max) } else { max };
        n.max(1) as usize
    }

    /// Up to `len` bytes at `offset`; a short result is end of file. A read
    /// served by one round trip returns the received buffer uncopied.
    ///
    /// A server may answer a Tread with fewer bytes than asked before the
    /// end of file (a proxy with a smaller msize, a synthetic file): only
    /// an empty Rread is taken as the end, and the rest is asked for again.
    pub async fn read_at(&self, offset: u64, len: usize) -> Result<Bytes> {
        retry!(&self.inner.client, self.read_at_once(offset, len))
    }

    async fn read_at_once(&self, offset: u64, len: usize) -> Result<Bytes> {
        let fid = self.live_fid().await?;
        let s = &fid.session();
        let chunk = self.read_chunk(s);
        if len <= chunk {
            let first = s.read(&fid, offset, len as u32).await?;
            if first.is_empty() || first.len() == len {
                return Ok(first);
            }
            let mut out = BytesMut::from(&first[..]);
            read_rest(s, &fid, offset, len, &mut out).await?;
            return Ok(out.freeze());
        }
        let count = len.div_ceil(chunk);
        let reqs = (0..count).map(|i| {
            let off = offset + (i * chunk) as u64;
            let n = chunk.min(len - i * chunk);
            (off, n)
        });
        let fid_ref = &fid;
        let mut parts = stream::iter(reqs)
            .map(
                |(off, n)| async move { s.read(fid_ref, off, n as u32).await.map(|b| (b, n, off)) },
            )
            .buffered(PIPELINE_DEPTH);
        let mut out = BytesMut::with_capacity(len.min(64 << 20));
        while let Some(part) = parts.next().await {
            let (b, asked, off) = part?;
            if b.len() == asked {
                out.extend_from_slice(&b);
                continue;
            }
            if b.is_empty() {
                break;
            }
            // Short but not empty: read the rest of this chunk before
            // deciding where the file ends.
            let mut piece = BytesMut::from(&b[..]);
            let complete = read_rest(s, &fid, off, asked, &mut piece).await?;
            out.extend_from_slice(&piece);
            if !complete {
                break;
            }
        }
        Ok(out.freeze())
    }

    /// Writes all of `data` at `offset` (chunked and pipelined). Copies
    /// `data` once; see [`write_at_bytes`](File::write_at_bytes) to avoid
    /// that.
    pub async fn write_at(&self, offset: u64, data: &[u8]) -> Result<()> {
        self.write_at_bytes(offset, Bytes::copy_from_slice(data)).await
    }

    /// Writes all of `data` at `offset` without copying it: each chunk is a
    /// slice sent as its own segment of a vectored write.
    pub async fn write_at_bytes(&self, offset: u64, data: Bytes) -> Result<()> {
        retry!(&self.inner.client, self.write_at_once(offset, data.clone()))
    }

    async fn write_at_once(&self, offset: u64, data: Bytes) -> Result<()> {
        let fid = self.live_fid().await?;
        let s = &fid.session();
        let chunk = self.write_chunk(s);
        let fid_ref = &fid;
        let pieces = (0..data.len().div_ceil(chunk)).map(|i| {
            let start = i * chunk;
            let end = (start + chunk).min(data.len());
            (offset + start as u64, data.slice(start..end))
        });
        stream::iter(pieces)
            .map(|(off, mut piece)| async move {
                let mut off = off;
                while !piece.is_empty() {
                    let n = s.write(fid_ref, off, piece.clone()).await? as usize;
                    if n == 0 || n > piece.len() {
                        return Err(Error::Io(ninefold_proto::Errno::EIO));
                    }
                    piece = piece.slice(n..);
                    off += n as u64;
                }
                Ok(())
            })
            .buffer_unordered(PIPELINE_DEPTH)
            .try_collect::<()>()
            .await
    }

    /// fstat of this handle.
    pub async fn metadata(&self) -> Result<Metadata> {
        retry!(&self.inner.client, async {
            let fid = self.live_fid().await?;
            self.inner.client.getattr(&fid).await
        })
    }

    /// Truncates or extends to `size`.
    pub async fn set_len(&self, size: u64) -> Result<()> {
        self.set_attr(SetAttrs { size: Some(size), ..SetAttrs::default() }).await.map(|_| ())
    }

    /// Metadata changes through the handle; returns the new metadata.
    pub async fn set_attr(&self, attrs: SetAttrs) -> Result<Metadata> {
        retry!(&self.inner.client, async {
            let fid = self.live_fid().await?;
            if !attrs.is_empty() {
                self.inner.client.on(&fid)?.setattr(&fid, attrs.to_wire()?).await?;
            }
            self.inner.client.getattr(&fid).await
        })
    }

    /// Data and metadata to durable storage (Tfsync).
    pub async fn sync_all(&self) -> Result<()> {
        retry!(&self.inner.client, async {
            let fid = self.live_fid().await?;
            self.inner.client.on(&fid)?.fsync(&fid, false).await
        })
    }

    /// Data to durable storage (Tfsync with datasync).
    pub async fn sync_data(&self) -> Result<()> {
        retry!(&self.inner.client, async {
            let fid = self.live_fid().await?;
            self.inner.client.on(&fid)?.fsync(&fid, true).await
        })
    }

    /// Marks the handle (and its clones) closed and releases its fid once
    /// in-flight calls finish. Idempotent; never waits.
    pub async fn close(&self) -> Result<()> {
        self.inner.closed.store(true, Ordering::Release);
        let fid = self.inner.fid.lock().ok().and_then(|mut g| g.take());
        drop(fid);
        Ok(())
    }

    /// A tokio `AsyncRead + AsyncWrite + AsyncSeek` cursor over this file.
    #[cfg(feature = "tokio-io")]
    #[cfg_attr(docsrs, doc(cfg(feature = "tokio-io")))]
    pub fn cursor(&self) -> crate::io::FileCursor {
        crate::io::FileCursor::new(self.clone())
    }
}

/// Completes a short read: `out` holds the bytes read so far from
/// `offset`; reads on until it holds `want` bytes (`true`) or the server
/// answers an empty Rread, the end of file (`false`).
async fn read_rest(
    s: &crate::Session,
    fid: &crate::Fid,
    offset: u64,
    want: usize,
    out: &mut BytesMut,
) -> Result<bool> {
    while out.len() < want {
        let b = s.read(fid, offset + out.len() as u64, (want - out.len()) as u32).await?;
        if b.is_empty() {
            return Ok(false);
        }
        out.extend_from_slice(&b[..b.len().min(want - out.len())]);
    }
    Ok(true)
}
