//! The connection driver: the writer task (batched, vectored writes), the
//! reader task (frames routed to their tag without copying payloads) and
//! the reaper task (background Tclunk of dropped fids).

use std::io::IoSlice;
use std::sync::{Arc, Weak};

use bytes::{BufMut, Bytes, BytesMut};
use futures_util::stream::{FuturesUnordered, StreamExt};
use ninefold_proto::{base, Codec, Dialect, Frame, Message};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::mpsc;

use super::tags::Slot;
use super::Shared;
use crate::error::Error;

/// One encoded request: the header (and small fields) plus, for Twrite,
/// the payload as its own segment.
#[derive(Debug)]
pub(crate) struct Outgoing {
    pub(crate) head: Bytes,
    pub(crate) payload: Option<Bytes>,
}

/// Most frames gathered into one `writev`.
const MAX_BATCH: usize = 64;

/// Writes queued frames until every sender is gone or the socket fails.
pub(crate) async fn writer<W: AsyncWrite + Unpin>(
    mut rx: mpsc::UnboundedReceiver<Outgoing>,
    mut w: W,
    shared: Weak<Shared>,
) {
    let mut batch: Vec<Outgoing> = Vec::with_capacity(MAX_BATCH);
    while let Some(first) = rx.recv().await {
        batch.push(first);
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(o) => batch.push(o),
                Err(_) => break,
            }
        }
        if let Err(e) = write_batch(&mut w, &batch).await {
            tracing::debug!(error = %e, "9P write failed");
            if let Some(s) = shared.upgrade() {
                s.kill();
            }
            return;
        }
        batch.clear();
    }
    let _ = w.shutdown().await;
}

async fn write_batch<W: AsyncWrite + Unpin>(w: &mut W, batch: &[Outgoing]) -> std::io::Result<()> {
    let mut slices: Vec<IoSlice<'_>> = Vec::with_capacity(batch.len() * 2);
    for o in batch {
        slices.push(IoSlice::new(&o.head));
        if let Some(p) = &o.payload {
            if !p.is_empty() {
                slices.push(IoSlice::new(p));
            }
        }
    }
    let mut rest: &mut [IoSlice<'_>] = &mut slices;
    while !rest.is_empty() {
        let n = w.write_vectored(rest).await?;
        if n == 0 {
            return Err(std::io::ErrorKind::WriteZero.into());
        }
        IoSlice::advance_slices(&mut rest, n);
    }
    w.flush().await
}

/// Reads frames and hands each to the request that owns its tag.
pub(crate) async fn reader<R: AsyncRead + Unpin>(
    mut r: R,
    mut buf: BytesMut,
    shared: Weak<Shared>,
    dialect: Dialect,
    msize: u32,
) {
    let mut codec = Codec::new(dialect, msize);
    let reason = loop {
        match codec.decode(&mut buf) {
            Ok(Some(frame)) => {
                let Some(s) = shared.upgrade() else { return };
                s.dispatch(frame);
                continue;
            }
            Ok(None) => {}
            Err(e) if e.is_fatal() => break format!("undecodable frame: {e}"),
            Err(e) => {
                let Some(s) = shared.upgrade() else { return };
                match e.tag() {
                    Some(tag) => s.fail_tag(tag, Error::protocol(format!("bad reply: {e}"))),
                    None => break format!("undecodable frame: {e}"),
                }
                continue;
            }
        }
        let read = match large_frame_rest(&buf) {
            // A large frame (an Rread) is read into a buffer of its own
            // size, and only up to its end: its bytes land where the
            // caller gets them, never copied as the buffer grows, and the
            // next frame starts a buffer of its own.
            Some(rest) => {
                buf.reserve(rest);
                r.read_buf(&mut (&mut buf).limit(rest)).await
            }
            None => {
                if buf.capacity() - buf.len() < 16 * 1024 {
                    buf.reserve(64 * 1024);
                }
                r.read_buf(&mut buf).await
            }
        };
        match read {
            Ok(0) => break "connection closed by the server".to_string(),
            Ok(_) => {}
            Err(e) => break format!("read failed: {e}"),
        }
    };
    tracing::debug!(%reason, "9P connection ended");
    if let Some(s) = shared.upgrade() {
        s.kill();
    }
}

/// Frames at least this long are read on their own (see [`large_frame_rest`]).
const LARGE_FRAME: usize = 16 * 1024;

/// When `buf` starts with an incomplete frame of at least [`LARGE_FRAME`]
/// bytes, the bytes of it still to come.
fn large_frame_rest(buf: &[u8]) -> Option<usize> {
    let size = u32::from_le_bytes(buf.get(..4)?.try_into().ok()?) as usize;
    (size >= LARGE_FRAME && size > buf.len()).then(|| size - buf.len())
}

/// Clunks dropped fids, and returns each number to the pool only after the
/// server answered.
pub(crate) async fn reaper(mut rx: mpsc::UnboundedReceiver<u32>, shared: Weak<Shared>) {
    let mut clunks = FuturesUnordered::new();
    loop {
        tokio::select! {
            fid = rx.recv() => {
                let Some(fid) = fid else { break };
                let Some(s) = shared.upgrade() else { break };
                clunks.push(clunk(s, fid));
            }
            Some(()) = clunks.next(), if !clunks.is_empty() => {}
        }
    }
    while clunks.next().await.is_some() {}
}

async fn clunk(shared: Arc<Shared>, fid: u32) {
    let res = Shared::rpc(&shared, Message::Tclunk(base::Tclunk { fid }), None).await;
    if let Err(e) = res.and_then(|f| super::expect_empty(f, "Rclunk")) {
        tracing::debug!(fid, error = %e, "Tclunk failed; fid released anyway");
    }
    if let Ok(mut fids) = shared.fids.lock() {
        fids.release(fid);
    }
}

impl Shared {
    /// Routes one reply frame.
    fn dispatch(&self, frame: Frame) {
        let tag = frame.tag;
        let Ok(mut tags) = self.tags.lock() else { return };
        match tags.remove(tag) {
            Some(Slot::Waiting { tx, .. }) => {
                let _ = tx.send(Ok(frame));
            }
            Some(Slot::Abandoned { flush_tag, settle, _permit }) => {
                if let Some(flush_tag) = flush_tag {
                    tags.put(tag, Slot::Settled { flush_tag, _permit });
                }
                drop(tags);
                settle.run(Some(&frame));
            }
            Some(Slot::Flush { oldtag }) => {
                let settle = match tags.remove(oldtag) {
                    Some(Slot::Abandoned { flush_tag: Some(f), settle, .. }) if f == tag => {
                        Some(settle)
                    }
                    Some(Slot::Settled { flush_tag, .. }) if flush_tag == tag => None,
                    Some(other) => {
                        tags.put(oldtag, other);
                        None
                    }
                    None => None,
                };
                drop(tags);
                if let Some(settle) = settle {
                    settle.run(None);
                }
            }
            Some(settled @ Slot::Settled { .. }) => {
                tracing::warn!(tag, "second reply to one tag; ignored");
                tags.put(tag, settled);
            }
            None => tracing::warn!(tag, ty = frame.message.name(), "reply to an unknown tag"),
        }
    }

    /// Fails the request waiting on `tag` (its reply could not be decoded).
    fn fail_tag(&self, tag: u16, err: Error) {
        let Ok(mut tags) = self.tags.lock() else { return };
        match tags.remove(tag) {
            Some(Slot::Waiting { tx, .. }) => {
                let _ = tx.send(Err(err));
            }
            Some(Slot::Abandoned { flush_tag, settle, _permit }) => {
                if let Some(flush_tag) = flush_tag {
                    tags.put(tag, Slot::Settled { flush_tag, _permit });
                }
                drop(tags);
                settle.run(None);
            }
            Some(other) => tags.put(tag, other),
            None => {}
        }
    }

    /// Marks the connection dead: every waiter fails, every abandoned
    /// request settles, no new request starts.
    pub(crate) fn kill(&self) {
        let slots = {
            let Ok(mut tags) = self.tags.lock() else { return };
            tags.dead = true;
            tags.drain()
        };
        self.dead_tx.send_replace(true);
        for slot in slots {
            match slot {
                Slot::Waiting { tx, .. } => {
                    let _ = tx.send(Err(Error::disconnected()));
                }
                Slot::Abandoned { settle, .. } => settle.run(None),
                Slot::Settled { .. } | Slot::Flush { .. } => {}
            }
        }
    }
}
