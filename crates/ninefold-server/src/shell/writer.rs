//! The writer task: encodes replies in the order they were queued and
//! writes them with vectored I/O, payloads by reference.

use std::io::{self, IoSlice};

use bytes::{Buf, Bytes, BytesMut};
use ninefold_proto::{Dialect, Errno, Frame, Message};
use tokio::io::{AsyncWrite, AsyncWriteExt};
use tokio::sync::mpsc;
use tracing::{error, trace};

use crate::reply::{error_reply, Reply};

/// A reply and the connection parameters to encode it with.
#[derive(Debug)]
pub(crate) struct Outgoing {
    pub(crate) reply: Reply,
    pub(crate) dialect: Dialect,
    pub(crate) msize: u32,
}

/// Most replies gathered into one `writev`.
const BATCH: usize = 64;
/// Stop gathering once this many payload bytes are queued.
const BATCH_BYTES: usize = 4 * 1024 * 1024;

pub(crate) async fn run<W: AsyncWrite>(
    w: W,
    mut rx: mpsc::UnboundedReceiver<Outgoing>,
) -> io::Result<()> {
    let mut w = Box::pin(w);
    // Everything starts small and grows to the connection's load, so an
    // idle connection costs little: an `Outgoing` is ~260 bytes, and a
    // batch of 64 set aside up front would be 16 KiB.
    let mut head = BytesMut::with_capacity(1024);
    let mut chunks: Vec<Bytes> = Vec::new();
    let mut batch: Vec<Outgoing> = Vec::new();
    let mut permits = Vec::new();
    while let Some(first) = rx.recv().await {
        batch.push(first);
        let mut bytes = 0;
        while batch.len() < BATCH && bytes < BATCH_BYTES {
            match rx.try_recv() {
                Ok(o) => {
                    bytes += o.reply.message.payload().map_or(0, Bytes::len);
                    batch.push(o);
                }
                Err(_) => break,
            }
        }
        for o in batch.drain(..) {
            permits.push(o.reply.permit);
            encode(o.reply.tag, o.reply.message, o.dialect, o.msize, &mut head, &mut chunks);
        }
        let result = write_all(&mut w, &mut chunks).await;
        // Releases the admission permits: the replies are on the wire.
        permits.clear();
        chunks.clear();
        result?;
        w.flush().await?;
    }
    w.shutdown().await.ok();
    Ok(())
}

/// Encodes one reply into `chunks`: its head as a slice of `head`, its
/// payload (if any) by reference. A reply that cannot be encoded or would
/// not fit msize is replaced by an error, so the tag is still answered.
fn encode(
    tag: u16,
    message: Message,
    dialect: Dialect,
    msize: u32,
    head: &mut BytesMut,
    chunks: &mut Vec<Bytes>,
) {
    let frame = Frame::new(tag, message);
    // The Linux dialects keep every reply strictly below msize (the
    // kernel's fd transport drops the connection at `size >= msize`); a
    // `9P2000.L.Z` reply may fill msize exactly, as ZeroFS's client expects.
    let fits = |len: usize| match dialect {
        Dialect::Z => len <= msize as usize,
        _ => len < msize as usize,
    };
    let fallback = match frame.encoded_len(dialect) {
        Ok(len) if fits(len) => None,
        Ok(len) => {
            error!(
                tag = tag,
                message = frame.message.name(),
                len,
                msize = msize,
                "reply would reach msize"
            );
            Some(Errno::EMSGSIZE)
        }
        Err(e) => {
            error!(tag = tag, message = frame.message.name(), error = %e, "reply cannot be encoded");
            Some(Errno::EIO)
        }
    };
    let frame = match fallback {
        None => frame,
        Some(errno) => Frame::new(tag, error_reply(dialect, errno)),
    };
    head.reserve(64);
    match frame.encode_vectored(dialect, head) {
        Ok(payload) => {
            chunks.push(head.split().freeze());
            if let Some(p) = payload.filter(|p| !p.is_empty()) {
                chunks.push(p);
            }
            trace!(tag, message = frame.message.name(), "encoded");
        }
        Err(e) => error!(tag = tag, error = %e, "error reply cannot be encoded"),
    }
}

/// Writes every chunk, as few `writev` calls as the socket allows.
async fn write_all<W: AsyncWrite + ?Sized>(
    w: &mut std::pin::Pin<Box<W>>,
    chunks: &mut [Bytes],
) -> io::Result<()> {
    let mut first = 0;
    while first < chunks.len() {
        let slices: Vec<IoSlice<'_>> =
            chunks[first..].iter().take(1024).map(|c| IoSlice::new(c)).collect();
        let mut n = w.write_vectored(&slices).await?;
        if n == 0 {
            return Err(io::ErrorKind::WriteZero.into());
        }
        while n > 0 && first < chunks.len() {
            let len = chunks[first].len();
            if n >= len {
                n -= len;
                first += 1;
            } else {
                chunks[first].advance(n);
                n = 0;
            }
        }
    }
    Ok(())
}
