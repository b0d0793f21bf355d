//! The raw connection: frames over a byte stream, with tag management,
//! pipelining and the ability to send arbitrary bytes.
//!
//! Replies are decoded with the dialect negotiated on this connection and
//! checked against msize from their size field before anything is
//! buffered. Replies for tags nobody is waiting for yet are kept, so a case
//! can send several requests and collect the answers in any order.

use std::collections::{HashMap, VecDeque};
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use ninefold_proto::framing::{self, FrameStatus};
use ninefold_proto::{DecodeError, Dialect, EncodeError, Frame, Message, NOTAG};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::target::Stream;

/// Why a connection-level operation failed.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ConnError {
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
    #[error("no reply within {0:?}")]
    Timeout(Duration),
    #[error("connection closed by the server")]
    Closed,
    #[error("undecodable reply: {0}")]
    Decode(#[from] DecodeError),
    #[error("cannot encode request: {0}")]
    Encode(#[from] EncodeError),
}

/// One connection to the server.
pub(crate) struct RawConn {
    io: Box<dyn Stream>,
    rbuf: BytesMut,
    dialect: Dialect,
    msize: u32,
    next_tag: u16,
    stash: HashMap<u16, VecDeque<Frame>>,
    /// Every reply received, in order, as (tag, message name): flush cases
    /// look at the order.
    pub(crate) log: Vec<(u16, &'static str)>,
    timeout: Duration,
}

impl std::fmt::Debug for RawConn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RawConn")
            .field("dialect", &self.dialect)
            .field("msize", &self.msize)
            .finish_non_exhaustive()
    }
}

impl RawConn {
    /// Wraps a fresh stream. Until a Tversion succeeds, replies decode as
    /// 9P2000.L and are limited to `msize`.
    pub(crate) fn new(io: Box<dyn Stream>, msize: u32, timeout: Duration) -> RawConn {
        RawConn {
            io,
            rbuf: BytesMut::with_capacity(8192),
            dialect: Dialect::L,
            msize,
            next_tag: 1,
            stash: HashMap::new(),
            log: Vec::new(),
            timeout,
        }
    }

    pub(crate) fn dialect(&self) -> Dialect {
        self.dialect
    }

    pub(crate) fn msize(&self) -> u32 {
        self.msize
    }

    /// A tag not in use by this helper (never NOTAG).
    pub(crate) fn alloc_tag(&mut self) -> u16 {
        let t = self.next_tag;
        self.next_tag = if self.next_tag >= 0xFFF0 { 1 } else { self.next_tag + 1 };
        t
    }

    /// Encodes and sends `msg` under a fresh tag; returns the tag.
    pub(crate) async fn send(&mut self, msg: impl Into<Message>) -> Result<u16, ConnError> {
        let tag = self.alloc_tag();
        self.send_tagged(tag, msg).await?;
        Ok(tag)
    }

    /// Encodes and sends `msg` under `tag`.
    pub(crate) async fn send_tagged(
        &mut self,
        tag: u16,
        msg: impl Into<Message>,
    ) -> Result<(), ConnError> {
        let bytes = encode(tag, msg.into(), self.dialect)?;
        self.send_raw(&bytes).await
    }

    /// Writes arbitrary bytes.
    pub(crate) async fn send_raw(&mut self, bytes: &[u8]) -> Result<(), ConnError> {
        self.io.write_all(bytes).await?;
        self.io.flush().await?;
        Ok(())
    }

    /// The next frame from the wire (any tag), within the reply timeout.
    pub(crate) async fn recv_any(&mut self) -> Result<Frame, ConnError> {
        let t = self.timeout;
        self.recv_within(t).await
    }

    /// The next frame from the wire within `dur`.
    pub(crate) async fn recv_within(&mut self, dur: Duration) -> Result<Frame, ConnError> {
        match tokio::time::timeout(dur, self.read_frame()).await {
            Ok(r) => r,
            Err(_) => Err(ConnError::Timeout(dur)),
        }
    }

    async fn read_frame(&mut self) -> Result<Frame, ConnError> {
        loop {
            match framing::check(&self.rbuf, self.msize)? {
                FrameStatus::Complete { frame_len } => {
                    let raw: Bytes = self.rbuf.split_to(frame_len).freeze();
                    let frame = Frame::decode(raw, self.dialect)?;
                    self.log.push((frame.tag, frame.message.name()));
                    return Ok(frame);
                }
                FrameStatus::Incomplete { frame_len } => {
                    if let Some(len) = frame_len {
                        self.rbuf.reserve(len.saturating_sub(self.rbuf.len()));
                    } else {
                        self.rbuf.reserve(64);
                    }
                    let n = self.io.read_buf(&mut self.rbuf).await?;
                    if n == 0 {
                        return Err(ConnError::Closed);
                    }
                }
            }
        }
    }

    /// The reply to `tag`, stashing replies to other tags on the way.
    /// The bytes of the next frame, undecoded, within the reply timeout
    /// (for checking a reply's exact layout).
    pub(crate) async fn recv_raw_frame(&mut self) -> Result<Bytes, ConnError> {
        let t = self.timeout;
        let read = async {
            loop {
                if let FrameStatus::Complete { frame_len } = framing::check(&self.rbuf, self.msize)?
                {
                    return Ok(self.rbuf.split_to(frame_len).freeze());
                }
                self.rbuf.reserve(64);
                if self.io.read_buf(&mut self.rbuf).await? == 0 {
                    return Err(ConnError::Closed);
                }
            }
        };
        match tokio::time::timeout(t, read).await {
            Ok(r) => r,
            Err(_) => Err(ConnError::Timeout(t)),
        }
    }

    pub(crate) async fn recv_tag(&mut self, tag: u16) -> Result<Message, ConnError> {
        if let Some(q) = self.stash.get_mut(&tag) {
            if let Some(f) = q.pop_front() {
                return Ok(f.message);
            }
        }
        loop {
            let f = self.recv_any().await?;
            if f.tag == tag {
                return Ok(f.message);
            }
            self.stash.entry(f.tag).or_default().push_back(f);
        }
    }

    /// Sends `msg` and waits for its reply.
    pub(crate) async fn rpc(&mut self, msg: impl Into<Message>) -> Result<Message, ConnError> {
        let tag = self.send(msg).await?;
        self.recv_tag(tag).await
    }

    /// Tversion on this connection (tag NOTAG); on an Rversion naming a
    /// dialect, switches the decoder and msize.
    pub(crate) async fn version(
        &mut self,
        msize: u32,
        version: &str,
    ) -> Result<Message, ConnError> {
        let req = ninefold_proto::base::Tversion { msize, version: version.into() };
        self.send_tagged(NOTAG, req).await?;
        let reply = self.recv_tag(NOTAG).await?;
        if let Message::Rversion(r) = &reply {
            if let Some(d) = Dialect::from_version(r.version.as_bytes()) {
                self.dialect = d;
                if r.msize >= 7 {
                    self.msize = r.msize;
                }
            }
        }
        Ok(reply)
    }

    /// Waits up to `dur` for the server to close the connection. `Ok(None)`:
    /// it closed; `Ok(Some(frame))`: it answered something instead.
    pub(crate) async fn closed_within(
        &mut self,
        dur: Duration,
    ) -> Result<Option<Frame>, ConnError> {
        match self.recv_within(dur).await {
            Ok(f) => Ok(Some(f)),
            Err(ConnError::Closed) => Ok(None),
            Err(ConnError::Io(e))
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::ConnectionReset | std::io::ErrorKind::BrokenPipe
                ) =>
            {
                Ok(None)
            }
            Err(e) => Err(e),
        }
    }
}

/// Encodes one frame into a fresh buffer.
pub(crate) fn encode(tag: u16, msg: Message, dialect: Dialect) -> Result<Vec<u8>, EncodeError> {
    let frame = Frame::new(tag, msg);
    let mut out = Vec::with_capacity(frame.encoded_len(dialect)?);
    frame.encode(dialect, &mut out)?;
    Ok(out)
}

/// Builds a frame by hand: `size[4] type[1] tag[2] body`, with a correct size.
pub(crate) fn raw_frame(ty: u8, tag: u16, body: &[u8]) -> Vec<u8> {
    let size = (7 + body.len()) as u32;
    let mut v = Vec::with_capacity(size as usize);
    v.extend_from_slice(&size.to_le_bytes());
    v.push(ty);
    v.extend_from_slice(&tag.to_le_bytes());
    v.extend_from_slice(body);
    v
}

/// Appends a 9P string.
pub(crate) fn put_str(v: &mut Vec<u8>, s: &[u8]) {
    v.extend_from_slice(&(s.len() as u16).to_le_bytes());
    v.extend_from_slice(s);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_frame_matches_codec() {
        let msg = ninefold_proto::base::Tclunk { fid: 7 };
        let a = encode(3, msg.into(), Dialect::L).unwrap();
        let b = raw_frame(120, 3, &7u32.to_le_bytes());
        assert_eq!(a, b);
    }

    #[tokio::test]
    async fn stash_and_order() {
        let (client, mut server) = tokio::io::duplex(4096);
        let mut c = RawConn::new(Box::new(client), 8192, Duration::from_secs(2));
        // The "server" answers tag 2 before tag 1.
        let r1 = encode(1, ninefold_proto::base::Rclunk {}.into(), Dialect::L).unwrap();
        let r2 = encode(2, ninefold_proto::base::Rflush {}.into(), Dialect::L).unwrap();
        server.write_all(&r2).await.unwrap();
        server.write_all(&r1).await.unwrap();
        assert_eq!(c.recv_tag(1).await.unwrap().name(), "Rclunk");
        assert_eq!(c.recv_tag(2).await.unwrap().name(), "Rflush");
        assert_eq!(c.log, [(2, "Rflush"), (1, "Rclunk")]);
        drop(server);
        assert!(matches!(c.recv_any().await, Err(ConnError::Closed)));
    }
}
