//! Operations on an open [`File`], and the chunked, pipelined read and
//! write plans they (and the whole-file path calls) share.

use bytes::{Bytes, BytesMut};
use futures_util::stream::{self, StreamExt, TryStreamExt};

use ninefold_proto::FsyncdurFlags;

use super::{Cx, On, Op};
use crate::error::{Error, Result};
use crate::file::{File, PIPELINE_DEPTH};
use crate::options::SetAttrs;
use crate::session::{Fid, Session};
use crate::types::Metadata;

/// `File::read_at`.
pub(crate) struct ReadAt<'a> {
    pub(crate) file: &'a File,
    pub(crate) offset: u64,
    pub(crate) len: usize,
}

impl Op for ReadAt<'_> {
    type Output = Bytes;
    const NAME: &'static str = "read_at";
    fn mutates(&self) -> bool {
        false
    }
    fn on(&self) -> On<'_> {
        On::File(self.file)
    }
    async fn plan(&self, cx: &Cx<'_>) -> Result<Bytes> {
        let chunk = read_chunk(&cx.session, self.file.iounit());
        read_span(&cx.session, cx.fid()?, self.offset, self.len, chunk, LenFrom::Caller).await
    }
}

/// `File::write_at` / `write_at_bytes`.
pub(crate) struct WriteAt<'a> {
    pub(crate) file: &'a File,
    pub(crate) offset: u64,
    pub(crate) data: Bytes,
}

impl Op for WriteAt<'_> {
    type Output = ();
    const NAME: &'static str = "write_at";
    fn mutates(&self) -> bool {
        true
    }
    fn on(&self) -> On<'_> {
        On::File(self.file)
    }
    async fn plan(&self, cx: &Cx<'_>) -> Result<()> {
        let s = &cx.session;
        let fid = cx.fid()?;
        let chunk = write_chunk(s, self.file.iounit());
        let data = &self.data;
        let pieces = (0..data.len().div_ceil(chunk)).map(|i| {
            let start = i * chunk;
            let end = (start + chunk).min(data.len());
            (self.offset + start as u64, data.slice(start..end))
        });
        // Each chunk's Twrites get sequence numbers of their own (chunk
        // index, then short-write continuation), so a re-send after a
        // reconnect names the same op ids whatever order they went out in.
        stream::iter(pieces.enumerate())
            .map(|(i, (off, mut piece))| async move {
                let mut off = off;
                let mut k = 0u32;
                while !piece.is_empty() {
                    let seq = crate::opid::chunk_seq(i, k)?;
                    let n = crate::opid::with_seq(seq, s.write(fid, off, piece.clone())).await?
                        as usize;
                    if n == 0 || n > piece.len() {
                        return Err(Error::Io(ninefold_proto::Errno::EIO));
                    }
                    piece = piece.slice(n..);
                    off += n as u64;
                    k += 1;
                }
                Ok(())
            })
            .buffer_unordered(PIPELINE_DEPTH)
            .try_collect::<()>()
            .await?;
        self.file.mark_unsynced(cx);
        Ok(())
    }
}

/// `File::metadata`.
pub(crate) struct FileStat<'a> {
    pub(crate) file: &'a File,
}

impl Op for FileStat<'_> {
    type Output = Metadata;
    const NAME: &'static str = "file_metadata";
    fn mutates(&self) -> bool {
        false
    }
    fn on(&self) -> On<'_> {
        On::File(self.file)
    }
    async fn plan(&self, cx: &Cx<'_>) -> Result<Metadata> {
        cx.getattr(cx.fid()?).await
    }
}

/// `File::set_attr` / `set_len`.
pub(crate) struct FileSetAttr<'a> {
    pub(crate) file: &'a File,
    pub(crate) attrs: SetAttrs,
}

impl Op for FileSetAttr<'_> {
    type Output = Metadata;
    const NAME: &'static str = "file_set_attr";
    fn mutates(&self) -> bool {
        !self.attrs.is_empty()
    }
    fn on(&self) -> On<'_> {
        On::File(self.file)
    }
    async fn plan(&self, cx: &Cx<'_>) -> Result<Metadata> {
        let m = cx.setattr(cx.fid()?, self.attrs).await?;
        if self.attrs.size.is_some() {
            self.file.mark_unsynced(cx);
        }
        Ok(m)
    }
}

/// `File::sync_all` / `sync_data` (Tfsync).
pub(crate) struct Fsync<'a> {
    pub(crate) file: &'a File,
    pub(crate) datasync: bool,
}

impl Op for Fsync<'_> {
    type Output = ();
    const NAME: &'static str = "fsync";
    fn mutates(&self) -> bool {
        false
    }
    fn on(&self) -> On<'_> {
        On::File(self.file)
    }
    async fn plan(&self, cx: &Cx<'_>) -> Result<()> {
        let fid = cx.fid()?;
        let since = self.file.unsynced_since();
        if cx.z() {
            // Inode scope, checked against the lineage the oldest unsynced
            // write was acknowledged under.
            let mut flags = FsyncdurFlags::INODE;
            if self.datasync {
                flags |= FsyncdurFlags::DATASYNC;
            }
            let token = since.map_or(0, |u| u.token);
            match cx.session.fsyncdur(fid, flags, token).await {
                Err(Error::Stale(_)) => {
                    return Err(Error::Stale(
                        "the server's durability lineage changed since this file's writes \
                         were acknowledged: they may be lost"
                            .into(),
                    ))
                }
                other => other?,
            }
        } else if cx.plan9() {
            cx.sync9(fid).await?;
        } else {
            cx.session.fsync(fid, self.datasync).await?;
        }
        self.file.mark_synced(since);
        Ok(())
    }
}

/// Bytes asked for per Tread on `s` for a file opened with `iounit`.
pub(crate) fn read_chunk(s: &Session, iounit: u32) -> usize {
    let max = s.max_read_chunk();
    let n = if iounit > 0 { iounit.min(max) } else { max };
    n.max(1) as usize
}

/// Bytes sent per Twrite on `s` for a file opened with `iounit`.
pub(crate) fn write_chunk(s: &Session, iounit: u32) -> usize {
    let max = s.max_write_chunk();
    let n = if iounit > 0 { iounit.min(max) } else { max };
    n.max(1) as usize
}

/// Who chose the length of a read, which decides how much of it is
/// allocated before any byte arrives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LenFrom {
    /// The caller asked for it: up to [`CALLER_PREALLOC`] up front.
    Caller,
    /// The server reported it (a file size): no more than one pipeline
    /// window up front; the buffer grows by what arrives.
    Server,
}

/// The most a read asked for by the caller allocates up front.
const CALLER_PREALLOC: usize = 64 << 20;

/// Up to `len` bytes of `fid` at `offset` in `chunk`-sized Treads,
/// [`PIPELINE_DEPTH`] in flight; a short result is end of file. A read
/// served by one round trip returns the received buffer uncopied.
///
/// A server may answer a Tread with fewer bytes than asked before the
/// end of file (a proxy with a smaller msize, a synthetic file): only an
/// empty Rread is taken as the end, and the rest is asked for again.
pub(crate) async fn read_span(
    s: &Session,
    fid: &Fid,
    offset: u64,
    len: usize,
    chunk: usize,
    from: LenFrom,
) -> Result<Bytes> {
    if len <= chunk {
        let first = s.read(fid, offset, len as u32).await?;
        if first.is_empty() || first.len() == len {
            return Ok(first);
        }
        let mut out = BytesMut::from(&first[..]);
        read_rest(s, fid, offset, len, &mut out).await?;
        return Ok(out.freeze());
    }
    let count = len.div_ceil(chunk);
    let reqs = (0..count).map(|i| {
        let off = offset + (i * chunk) as u64;
        let n = chunk.min(len - i * chunk);
        (off, n)
    });
    let mut parts = stream::iter(reqs)
        .map(|(off, n)| async move { s.read(fid, off, n as u32).await.map(|b| (b, n, off)) })
        .buffered(PIPELINE_DEPTH);
    let prealloc = match from {
        LenFrom::Caller => CALLER_PREALLOC,
        LenFrom::Server => PIPELINE_DEPTH * chunk,
    };
    let mut out = BytesMut::with_capacity(len.min(prealloc));
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
        let complete = read_rest(s, fid, off, asked, &mut piece).await?;
        out.extend_from_slice(&piece);
        if !complete {
            break;
        }
    }
    if out.capacity() - out.len() > out.len().max(chunk) {
        // The file ended well short of the allocation: do not let a few
        // bytes keep it alive.
        return Ok(Bytes::copy_from_slice(&out));
    }
    Ok(out.freeze())
}

/// Completes a short read: `out` holds the bytes read so far from
/// `offset`; reads on until it holds `want` bytes (`true`) or the server
/// answers an empty Rread, the end of file (`false`).
async fn read_rest(
    s: &Session,
    fid: &Fid,
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
