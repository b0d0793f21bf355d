//! Operations on an open [`File`], and the chunked, pipelined read and
//! write plans they (and the whole-file path calls) share.

use bytes::Bytes;
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

/// `File::read_into`: the span filled in place. The buffer sits behind
/// an async mutex only because a plan takes `&self`; one attempt at a time
/// holds it, and a re-run after a reconnect fills it again from the start.
pub(crate) struct ReadInto<'a, 'b> {
    pub(crate) file: &'a File,
    pub(crate) offset: u64,
    pub(crate) buf: tokio::sync::Mutex<&'b mut [u8]>,
}

impl Op for ReadInto<'_, '_> {
    type Output = usize;
    const NAME: &'static str = "read_into";
    fn mutates(&self) -> bool {
        false
    }
    fn on(&self) -> On<'_> {
        On::File(self.file)
    }
    async fn plan(&self, cx: &Cx<'_>) -> Result<usize> {
        let chunk = read_chunk(&cx.session, self.file.iounit());
        let fid = cx.fid()?;
        let mut buf = self.buf.lock().await;
        read_fill(&cx.session, fid, self.offset, &mut buf[..], chunk).await
    }
}

/// `File::write_at` / `write_at_bytes`.
pub(crate) struct WriteAt<'a, 'b> {
    pub(crate) file: &'a File,
    pub(crate) offset: u64,
    pub(crate) data: WriteData<'b>,
}

impl Op for WriteAt<'_, '_> {
    type Output = ();
    const NAME: &'static str = "write_at";
    fn mutates(&self) -> bool {
        true
    }
    fn on(&self) -> On<'_> {
        On::File(self.file)
    }
    async fn plan(&self, cx: &Cx<'_>) -> Result<()> {
        let chunk = write_chunk(&cx.session, self.file.iounit());
        write_span(&cx.session, cx.fid()?, self.offset, &self.data, chunk).await?;
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

/// Bytes one large read or write keeps on the way.
const WINDOW: usize = 2 << 20;

/// Most chunks one large read or write keeps in flight.
const MAX_DEPTH: usize = 64;

/// Chunks kept in flight for `chunk`-sized pieces: enough for [`WINDOW`]
/// bytes, never fewer than [`PIPELINE_DEPTH`] nor more than [`MAX_DEPTH`].
pub(crate) fn depth(chunk: usize) -> usize {
    (WINDOW / chunk.max(1)).clamp(PIPELINE_DEPTH, MAX_DEPTH)
}

/// What a write sends.
pub(crate) enum WriteData<'a> {
    /// The caller's buffer, sliced per chunk, never copied.
    Shared(Bytes),
    /// A borrowed span: each chunk is copied just before its Twrite goes
    /// out, so at most one window of it is copied at any time.
    Borrowed(&'a [u8]),
}

impl WriteData<'_> {
    fn len(&self) -> usize {
        match self {
            WriteData::Shared(b) => b.len(),
            WriteData::Borrowed(b) => b.len(),
        }
    }

    /// The bytes `start..end`, as the payload of one Twrite.
    fn piece(&self, start: usize, end: usize) -> Bytes {
        match self {
            WriteData::Shared(b) => b.slice(start..end),
            WriteData::Borrowed(b) => Bytes::copy_from_slice(&b[start..end]),
        }
    }
}

/// Chunks one write operation sends at most: a longer write is several
/// operations (see [`write_segment`]).
pub(crate) const SEGMENT_CHUNKS: usize = 1 << 16;

/// Twrites one chunk may take (the first and its continuations after short
/// Rwrites) on a dialect that numbers them.
const MAX_TWRITES_PER_CHUNK: u32 = 1 << 8;

/// Bytes of one write operation for a file opened with `iounit` on the
/// client's current connection: [`SEGMENT_CHUNKS`] chunks.
pub(crate) fn write_segment(max_write_chunk: u32, iounit: u32) -> usize {
    let chunk = if iounit > 0 { iounit.min(max_write_chunk) } else { max_write_chunk };
    (chunk.max(1) as usize).saturating_mul(SEGMENT_CHUNKS)
}

/// All of `data` at `offset` of `fid`: one Twrite per `chunk`, [`depth`]
/// in flight. A short Rwrite sends the rest of its chunk again; an Rwrite
/// of 0, or of more than was sent, is EIO.
///
/// On `9P2000.L.Z` each Twrite's op id carries its own 24-bit sequence
/// number, the chunk index times 256 plus the continuation, so a re-send
/// after a reconnect names the same ids whatever order they went out in,
/// and no two Twrites of the operation share one (which would make the
/// server answer the second with the first's outcome and write nothing):
/// at most [`SEGMENT_CHUNKS`] chunks and [`MAX_TWRITES_PER_CHUNK`] Twrites
/// per chunk, beyond which the write fails rather than reuse an id.
pub(crate) async fn write_span(
    s: &Session,
    fid: &Fid,
    offset: u64,
    data: &WriteData<'_>,
    chunk: usize,
) -> Result<()> {
    let len = data.len();
    let chunks = len.div_ceil(chunk);
    let numbered = s.dialect() == ninefold_proto::Dialect::Z;
    if numbered && chunks > SEGMENT_CHUNKS {
        return Err(Error::invalid(format!(
            "{chunks} chunks in one write operation (at most {SEGMENT_CHUNKS} have op ids)"
        )));
    }
    stream::iter(0..chunks)
        .map(|i| async move {
            let start = i * chunk;
            let mut piece = data.piece(start, (start + chunk).min(len));
            let mut off = offset + start as u64;
            let mut k = 0u32;
            while !piece.is_empty() {
                if numbered && k >= MAX_TWRITES_PER_CHUNK {
                    return Err(Error::protocol(format!(
                        "the server took {k} Twrites for one chunk without writing it all"
                    )));
                }
                let seq = crate::opid::chunk_seq(i, k)?;
                let n =
                    crate::opid::with_seq(seq, s.write(fid, off, piece.clone())).await? as usize;
                if n == 0 || n > piece.len() {
                    return Err(Error::Io(ninefold_proto::Errno::EIO));
                }
                piece = piece.slice(n..);
                off += n as u64;
                k += 1;
            }
            Ok(())
        })
        .buffer_unordered(depth(chunk))
        .try_collect::<()>()
        .await
}

/// Who chose the length of a read, which decides how much of it is
/// allocated before any byte arrives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LenFrom {
    /// The caller asked for it: up to [`CALLER_PREALLOC`] up front.
    Caller,
    /// The server reported it (a file size): up to [`SERVER_PREALLOC`] up
    /// front, then at most [`GROWTH`] times what has arrived.
    Server,
}

/// The most a read asked for by the caller allocates up front.
const CALLER_PREALLOC: usize = 64 << 20;

/// The most a read sized by the server allocates before any byte arrives.
const SERVER_PREALLOC: usize = 1 << 20;

/// A buffer filled towards an expected size grows to at most this many
/// times what it holds.
const GROWTH: usize = 16;

/// Up to `len` bytes of `fid` at `offset`; a short result is end of file.
/// A read served by one round trip returns the received buffer uncopied;
/// a longer one is filled in place (see [`read_grow`]).
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
        return read_grow(s, fid, offset, first, len, len, from, chunk).await;
    }
    read_grow(s, fid, offset, Bytes::new(), len, len, from, chunk).await
}

/// Up to `len` bytes of `fid` at `offset` of which `prefix` (at most
/// `len`) already arrived: the rest is read into the same buffer.
pub(crate) async fn read_span_after(
    s: &Session,
    fid: &Fid,
    offset: u64,
    prefix: Bytes,
    len: usize,
    chunk: usize,
) -> Result<Bytes> {
    if prefix.len() >= len {
        return Ok(prefix.slice(..len));
    }
    read_grow(s, fid, offset, prefix, len, len, LenFrom::Caller, chunk).await
}

/// `fid` from `offset` to the end of the file, `prefix` being what was
/// already read there and `size` the file's size as the server reported
/// it (it guides the allocation, bounded; the end is the first empty
/// Rread, before or after it).
pub(crate) async fn read_to_end(
    s: &Session,
    fid: &Fid,
    offset: u64,
    prefix: Bytes,
    size: u64,
    chunk: usize,
) -> Result<Bytes> {
    let hint = usize::try_from(size.saturating_sub(offset)).unwrap_or(usize::MAX);
    read_grow(s, fid, offset, prefix, usize::MAX, hint, LenFrom::Server, chunk).await
}

/// Reads at most `limit` bytes from `offset` into one buffer, expecting
/// `hint` of them, `prefix` already read. The buffer is zeroed memory
/// filled in place by [`read_fill`] (each reply copied once); it starts
/// at the hint bounded by who chose it ([`LenFrom`]) and grows towards the
/// hint by at most [`GROWTH`] times what arrived, so a server reporting
/// 64 GiB for a small file costs [`SERVER_PREALLOC`]. Past the hint one
/// Tread asks whether the file goes on; if it does, the buffer doubles by
/// what arrives.
#[allow(clippy::too_many_arguments)]
async fn read_grow(
    s: &Session,
    fid: &Fid,
    offset: u64,
    prefix: Bytes,
    limit: usize,
    hint: usize,
    from: LenFrom,
    chunk: usize,
) -> Result<Bytes> {
    let hint = hint.min(limit);
    let trust = match from {
        LenFrom::Caller => CALLER_PREALLOC,
        LenFrom::Server => SERVER_PREALLOC,
    };
    let mut buf = vec![0u8; hint.min(trust).max(prefix.len())];
    buf[..prefix.len()].copy_from_slice(&prefix);
    let mut filled = prefix.len();
    drop(prefix);
    loop {
        if filled == buf.len() {
            if filled >= limit {
                break;
            }
            if filled >= hint {
                // At or past the expected end: one Tread says whether the
                // file goes on.
                let n = chunk.min(limit - filled);
                let b = s.read(fid, offset + filled as u64, n as u32).await?;
                if b.is_empty() {
                    break;
                }
                let got = b.len().min(n);
                let want = (filled + got).saturating_mul(2).min(limit).max(filled + got);
                // Realloc keeps the bytes in (a large block moves without
                // a copy); only the new part is zeroed.
                buf.resize(want, 0);
                buf[filled..filled + got].copy_from_slice(&b[..got]);
                filled += got;
                continue;
            }
            let want = hint.min(filled.saturating_mul(GROWTH)).max(filled + 1);
            // A fresh zeroed block (no memset: the kernel zeroes pages as
            // they are touched) and one copy of the at most 1/GROWTH in.
            let mut next = vec![0u8; want];
            next[..filled].copy_from_slice(&buf[..filled]);
            buf = next;
        }
        let want = buf.len() - filled;
        let got = read_fill(s, fid, offset + filled as u64, &mut buf[filled..], chunk).await?;
        filled += got;
        if got < want {
            break;
        }
    }
    buf.truncate(filled);
    if buf.capacity() - filled > filled.max(chunk) {
        // The file ended well short of the allocation: do not let a few
        // bytes keep it alive.
        return Ok(Bytes::copy_from_slice(&buf));
    }
    Ok(Bytes::from(buf))
}

/// Fills `buf` from `offset` of `fid`: one Tread per `chunk`, [`depth`] in
/// flight, each reply copied once into its place. Returns how many bytes
/// arrived; fewer than `buf.len()` means the file ended there.
///
/// A short Rread that is not empty is not the end: the rest of its piece
/// is asked for again, and only an empty Rread ends the file.
pub(crate) async fn read_fill(
    s: &Session,
    fid: &Fid,
    offset: u64,
    buf: &mut [u8],
    chunk: usize,
) -> Result<usize> {
    let len = buf.len();
    // Spans by index, not `chunks_mut`: the reads then borrow only the
    // session and the fid, and the copy happens here, in order.
    let spans = (0..len.div_ceil(chunk)).map(|i| (i * chunk, chunk.min(len - i * chunk)));
    let mut pieces = stream::iter(spans)
        .map(|(at, n)| async move {
            s.read(fid, offset + at as u64, n as u32).await.map(|b| (at, n, b))
        })
        .buffered(depth(chunk));
    while let Some(piece) = pieces.next().await {
        let (at, n, b) = piece?;
        let got = b.len().min(n);
        buf[at..at + got].copy_from_slice(&b[..got]);
        drop(b);
        if got == n {
            continue;
        }
        if got == 0 {
            return Ok(at);
        }
        // Short but not empty: read the rest of this piece before
        // deciding where the file ends.
        let have = read_rest(s, fid, offset + at as u64, &mut buf[at..at + n], got).await?;
        if have < n {
            return Ok(at + have);
        }
    }
    Ok(len)
}

/// Completes a short read of `piece` (at `offset`), whose first `have`
/// bytes arrived: reads on until it is full or the server answers an
/// empty Rread, the end of file. Returns how much of it is filled.
async fn read_rest(
    s: &Session,
    fid: &Fid,
    offset: u64,
    piece: &mut [u8],
    mut have: usize,
) -> Result<usize> {
    while have < piece.len() {
        let b = s.read(fid, offset + have as u64, (piece.len() - have) as u32).await?;
        if b.is_empty() {
            break;
        }
        let n = b.len().min(piece.len() - have);
        piece[have..have + n].copy_from_slice(&b[..n]);
        have += n;
    }
    Ok(have)
}
