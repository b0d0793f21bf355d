//! [`File`]: an open file with positioned, pipelined I/O.

use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use ninefold_proto::{OpenFlags, P9String};

use crate::client::Client;
use crate::error::{Error, Result};
use crate::op;
use crate::options::SetAttrs;
use crate::session::Fid;
use crate::types::Metadata;

/// The fewest chunks kept in flight by one large read or write (more
/// when chunks are small: the client keeps about 2 MiB on the way).
pub const PIPELINE_DEPTH: usize = 8;

/// An open file. All I/O is positioned (there is no implicit cursor) and
/// `&self`, so one `File` (or its clones) serves many tasks at once.
///
/// Large reads and writes are cut into chunks of the negotiated size and
/// pipelined: at least [`PIPELINE_DEPTH`] chunks in flight, and as many
/// as keep about 2 MiB on the way (at most 64).
///
/// A file survives reconnects of a [`Client::connect`](crate::Client::connect)
/// client: it keeps its object's qid.path, its canonical path and open
/// flags, and is restored on its first use after a reconnect (never
/// before, so a reconnect costs nothing per handle): on `9P2000.L.Z` by
/// Trebind of the qid.path and a reopen in place; when the server does not
/// know that object any more (ESTALE, e.g. after a restart) and on plain
/// dialects by walking the path again from the new root and reopening
/// (without CREATE, EXCL or TRUNC), accepted only if the walk reaches an
/// object with the same qid.path. A handle that cannot be restored (its
/// path is gone, or now names another file) fails with
/// [`Error::Stale`]; it never silently points at another file. At most
/// [`RESTORE_CONCURRENCY`](crate::RESTORE_CONCURRENCY) restores run at
/// once.
#[derive(Clone)]
pub struct File {
    inner: Arc<FileInner>,
}

/// Writes acknowledged but not yet synced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Unsynced {
    /// The lineage token of the connection the oldest of them was
    /// acknowledged on (0 on plain dialects).
    pub(crate) token: u64,
    /// The write count when this was taken.
    pub(crate) writes: u64,
}

pub(crate) struct FileInner {
    client: Client,
    fid: Mutex<Option<Arc<Fid>>>,
    closed: AtomicBool,
    iounit: AtomicU32,
    /// The Tlopen/Tlcreate flags, kept to reopen the fid after a reconnect.
    flags: OpenFlags,
    /// The canonical path from the attach root, to walk again after a
    /// reconnect.
    path: Vec<P9String>,
    /// The object's qid.path: what a restore must reach.
    ino: u64,
    /// Serialises reopens after a reconnect.
    reopen: tokio::sync::Mutex<()>,
    /// Writes since the last successful sync, and their lineage.
    unsynced: Mutex<Option<Unsynced>>,
    writes: std::sync::atomic::AtomicU64,
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
        ino: u64,
    ) -> File {
        File {
            inner: Arc::new(FileInner {
                client,
                fid: Mutex::new(Some(Arc::new(fid))),
                closed: AtomicBool::new(false),
                iounit: AtomicU32::new(iounit),
                flags: flags - OpenFlags::CREATE - OpenFlags::EXCL - OpenFlags::TRUNC,
                path,
                ino,
                reopen: tokio::sync::Mutex::new(()),
                unsynced: Mutex::new(None),
                writes: std::sync::atomic::AtomicU64::new(0),
            }),
        }
    }

    /// A handle from its shared state (the client's unsynced registry).
    pub(crate) fn from_inner(inner: Arc<FileInner>) -> File {
        File { inner }
    }

    /// Records an acknowledged write on the connection of `cx` and
    /// registers the file with its client for `Client::sync`.
    pub(crate) fn mark_unsynced(&self, cx: &op::Cx<'_>) {
        let writes = self.inner.writes.fetch_add(1, Ordering::AcqRel) + 1;
        let token = cx.session.lineage().map_or(0, |l| l.token);
        if let Ok(mut u) = self.inner.unsynced.lock() {
            match u.as_mut() {
                Some(u) => u.writes = writes,
                None => *u = Some(Unsynced { token, writes }),
            }
        }
        self.inner.client.inner.register_unsynced(&self.inner);
    }

    /// The unsynced writes now (what a sync starting now covers).
    pub(crate) fn unsynced_since(&self) -> Option<Unsynced> {
        self.inner.unsynced.lock().ok().and_then(|u| *u)
    }

    /// A sync that started at `since` succeeded: clears the obligation
    /// unless newer writes came in meanwhile.
    pub(crate) fn mark_synced(&self, since: Option<Unsynced>) {
        let Some(since) = since else { return };
        if let Ok(mut u) = self.inner.unsynced.lock() {
            if u.is_some_and(|u| u.writes == since.writes) {
                *u = None;
                self.inner.client.inner.unregister_unsynced(&self.inner);
            }
        }
    }

    /// The open fid on a live connection: after a reconnect the handle is
    /// restored (see the type's docs; the runner calls this before each
    /// attempt of a file operation).
    pub(crate) async fn live_fid(&self) -> Result<Arc<Fid>> {
        let fid = self.fid()?;
        if !fid.session().is_dead() {
            return Ok(fid);
        }
        let _one = self.inner.reopen.lock().await;
        let fid = self.fid()?;
        if !fid.session().is_dead() {
            return Ok(fid);
        }
        let client = &self.inner.client;
        let (new, iounit) = crate::restore::restore(
            client,
            &self.inner.path,
            self.inner.ino,
            Some(self.inner.flags),
        )
        .await?;
        let new = Arc::new(new);
        let mut slot = self.inner.fid.lock().map_err(|_| Error::protocol("fid slot poisoned"))?;
        if slot.is_none() || self.inner.closed.load(Ordering::Acquire) {
            return Err(Error::Closed);
        }
        *slot = Some(new.clone());
        self.inner.iounit.store(iounit, Ordering::Relaxed);
        tracing::debug!(fid = new.num(), "file restored after reconnect");
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

    /// The negotiated I/O unit (0: none, use the session's chunk size).
    pub(crate) fn iounit(&self) -> u32 {
        self.inner.iounit.load(Ordering::Relaxed)
    }

    /// Bytes one Tread asks for on the current connection: its read
    /// chunk, or the file's iounit if smaller.
    pub(crate) fn read_chunk_len(&self) -> usize {
        let max = self.inner.client.capabilities().max_read_chunk;
        let iounit = self.iounit();
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
        self.inner.client.run(op::ReadAt { file: self, offset, len }).await
    }

    /// Reads up to `buf.len()` bytes at `offset` straight into `buf` and
    /// returns how many arrived (fewer means end of file).
    ///
    /// The span goes out as one Tread per chunk (the connection's read
    /// chunk, or the file's iounit if smaller), at least
    /// [`PIPELINE_DEPTH`] in flight (more for small chunks: about 2 MiB is
    /// kept on the way); each reply is copied once, from the received
    /// frame into `buf`. This is the read the bindings use to fill a
    /// buffer their caller owns (a Python `bytes`, a Node `Buffer`, a Go
    /// slice). After a reconnect the whole span is read again.
    pub async fn read_into(&self, offset: u64, buf: &mut [u8]) -> Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        let buf = tokio::sync::Mutex::new(buf);
        self.inner.client.run(op::ReadInto { file: self, offset, buf }).await
    }

    /// Writes all of `data` at `offset`, chunked and pipelined. Each chunk
    /// is copied just before its Twrite goes out (so no more than the
    /// pipeline's window, about 2 MiB, is copied at any time); see
    /// [`write_at_bytes`](File::write_at_bytes) to send without copying.
    ///
    /// A write of more than 65,536 chunks (4 GiB at msize 64 KiB) is
    /// several operations, each retried on its own after a reconnect.
    pub async fn write_at(&self, offset: u64, data: &[u8]) -> Result<()> {
        let seg = self.write_segment();
        let mut at = 0;
        loop {
            let end = data.len().min(at + seg);
            let piece = op::WriteData::Borrowed(&data[at..end]);
            let off = offset + at as u64;
            self.inner.client.run(op::WriteAt { file: self, offset: off, data: piece }).await?;
            if end == data.len() {
                return Ok(());
            }
            at = end;
        }
    }

    /// Writes all of `data` at `offset` without copying it: each chunk is a
    /// slice sent as its own segment of a vectored write. Split into
    /// operations as [`write_at`](File::write_at) is.
    pub async fn write_at_bytes(&self, offset: u64, data: Bytes) -> Result<()> {
        let seg = self.write_segment();
        let mut at = 0;
        loop {
            let end = data.len().min(at + seg);
            let piece = op::WriteData::Shared(data.slice(at..end));
            let off = offset + at as u64;
            self.inner.client.run(op::WriteAt { file: self, offset: off, data: piece }).await?;
            if end == data.len() {
                return Ok(());
            }
            at = end;
        }
    }

    /// Bytes one write operation covers on the current connection.
    fn write_segment(&self) -> usize {
        let max = self.inner.client.capabilities().max_write_chunk;
        op::write_segment(max, self.iounit())
    }

    /// fstat of this handle.
    pub async fn metadata(&self) -> Result<Metadata> {
        self.inner.client.run(op::FileStat { file: self }).await
    }

    /// Truncates or extends to `size`.
    pub async fn set_len(&self, size: u64) -> Result<()> {
        self.set_attr(SetAttrs { size: Some(size), ..SetAttrs::default() }).await.map(|_| ())
    }

    /// Metadata changes through the handle; returns the new metadata.
    pub async fn set_attr(&self, attrs: SetAttrs) -> Result<Metadata> {
        self.inner.client.run(op::FileSetAttr { file: self, attrs }).await
    }

    /// Data and metadata to durable storage (Tfsync).
    pub async fn sync_all(&self) -> Result<()> {
        self.inner.client.run(op::Fsync { file: self, datasync: false }).await
    }

    /// Data to durable storage (Tfsync with datasync).
    pub async fn sync_data(&self) -> Result<()> {
        self.inner.client.run(op::Fsync { file: self, datasync: true }).await
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
