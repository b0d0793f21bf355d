//! [`Session`]: one connection used one request at a time, for the
//! handshake, the fixture and the cleanup. The measured traffic is sent by
//! [`load`](crate::load) on the same connections, pipelined.

use std::time::Duration;

use bytes::{Bytes, BytesMut};
use ninefold_proto::{base, Codec, Dialect, Frame, Message, NOFID, NOTAG};
use tokio::io::AsyncReadExt;

use crate::error::BenchError;
use crate::target::{write_chunks, ReadHalf, Target, WriteHalf};

/// How long a setup or cleanup request may take.
pub const CALL_TIMEOUT: Duration = Duration::from_secs(30);

/// Who to attach as, and to what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attach {
    /// `uname` of Tattach.
    pub uname: String,
    /// `aname` of Tattach: the export to attach to.
    pub aname: String,
    /// `n_uname` of Tattach (the numeric uid; `NONUNAME` = use `uname`).
    pub n_uname: u32,
}

/// A connection after Tversion, used one request at a time.
pub struct Session {
    /// Reading half.
    pub rd: ReadHalf,
    /// Writing half.
    pub wr: WriteHalf,
    /// Receive buffer (may hold bytes of a following frame).
    pub rbuf: BytesMut,
    /// The frame codec at the negotiated msize.
    pub codec: Codec,
    /// The negotiated msize.
    pub msize: u32,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("msize", &self.msize)
            .field("buffered", &self.rbuf.len())
            .finish_non_exhaustive()
    }
}

impl Session {
    /// Connects and negotiates 9P2000.L at (at most) `msize`.
    pub async fn connect(target: &Target, msize: u32) -> Result<Session, BenchError> {
        let (rd, wr) = target.connect().await?;
        let mut s = Session {
            rd,
            wr,
            rbuf: BytesMut::with_capacity(64 * 1024),
            codec: Codec::new(Dialect::L, msize.max(ninefold_proto::sizes::MIN_MSIZE)),
            msize,
        };
        let version = base::Tversion { msize, version: Dialect::L.version().into() };
        let reply = s.call_tagged(NOTAG, version.into(), "Tversion").await?;
        let Message::Rversion(r) = reply else {
            return Err(BenchError::Version(format!("answered with {}", reply.name())));
        };
        if r.version.as_bytes() != Dialect::L.version().as_bytes() {
            return Err(BenchError::Version(format!(
                "server answered version {:?}, not 9P2000.L",
                r.version.to_string_lossy()
            )));
        }
        if r.msize > msize || r.msize < ninefold_proto::sizes::MIN_MSIZE {
            return Err(BenchError::Version(format!(
                "server answered msize {} for a request of {msize}",
                r.msize
            )));
        }
        s.msize = r.msize;
        s.codec.set_max_size(r.msize);
        Ok(s)
    }

    /// Sends `msg` with tag 0 and waits for its reply; Rlerror becomes
    /// [`BenchError::Refused`].
    pub async fn call(&mut self, msg: Message, op: &str) -> Result<Message, BenchError> {
        self.call_tagged(0, msg, op).await
    }

    async fn call_tagged(
        &mut self,
        tag: u16,
        msg: Message,
        op: &str,
    ) -> Result<Message, BenchError> {
        let fut = async {
            let mut head = BytesMut::new();
            let frame = Frame::new(tag, msg);
            if frame.encoded_len(Dialect::L)? > self.msize as usize {
                return Err(BenchError::Usage(format!("{op}: request larger than msize")));
            }
            let payload = frame.encode_vectored(Dialect::L, &mut head)?;
            let mut chunks = vec![head.freeze()];
            chunks.extend(payload);
            write_chunks(&mut self.wr, &mut chunks).await?;
            let reply = self.next_frame().await?;
            if reply.tag != tag {
                return Err(BenchError::Protocol(format!(
                    "{op}: reply tag {} for request tag {tag}",
                    reply.tag
                )));
            }
            match reply.message {
                Message::Rlerror(e) => {
                    Err(BenchError::Refused { op: op.to_owned(), errno: e.ecode })
                }
                m => Ok(m),
            }
        };
        tokio::time::timeout(CALL_TIMEOUT, fut)
            .await
            .map_err(|_| BenchError::Timeout(format!("{op}: no reply in {CALL_TIMEOUT:?}")))?
    }

    /// Reads the next whole frame.
    pub async fn next_frame(&mut self) -> Result<Frame, BenchError> {
        loop {
            if let Some(frame) = self.codec.decode(&mut self.rbuf)? {
                return Ok(frame);
            }
            if self.rbuf.capacity() - self.rbuf.len() < 4096 {
                self.rbuf.reserve(64 * 1024);
            }
            if self.rd.read_buf(&mut self.rbuf).await? == 0 {
                return Err(BenchError::Closed);
            }
        }
    }

    /// Tattach of `fid` (no auth).
    pub async fn attach(&mut self, fid: u32, who: &Attach) -> Result<(), BenchError> {
        let m = base::Tattach {
            fid,
            afid: NOFID,
            uname: who.uname.as_str().into(),
            aname: who.aname.as_str().into(),
            n_uname: who.n_uname,
        };
        match self.call(m.into(), "Tattach").await? {
            Message::Rattach(_) => Ok(()),
            other => Err(unexpected("Tattach", &other)),
        }
    }

    /// Twalk from `fid` to `newfid` through `names` (all must resolve).
    pub async fn walk(&mut self, fid: u32, newfid: u32, names: &[&str]) -> Result<(), BenchError> {
        let m = base::Twalk { fid, newfid, wnames: names.iter().map(|n| (*n).into()).collect() };
        match self.call(m.into(), "Twalk").await? {
            Message::Rwalk(r) if r.wqids.len() == names.len() => Ok(()),
            Message::Rwalk(r) => Err(BenchError::Refused {
                op: format!("Twalk {names:?} (stopped after {} names)", r.wqids.len()),
                errno: ninefold_proto::Errno::ENOENT,
            }),
            other => Err(unexpected("Twalk", &other)),
        }
    }

    /// Tclunk of `fid`.
    pub async fn clunk(&mut self, fid: u32) -> Result<(), BenchError> {
        match self.call(base::Tclunk { fid }.into(), "Tclunk").await? {
            Message::Rclunk(_) => Ok(()),
            other => Err(unexpected("Tclunk", &other)),
        }
    }

    /// Twrite of `data` at `offset`; returns the count written.
    pub async fn write(&mut self, fid: u32, offset: u64, data: Bytes) -> Result<u32, BenchError> {
        match self.call(base::Twrite { fid, offset, data }.into(), "Twrite").await? {
            Message::Rwrite(r) => Ok(r.count),
            other => Err(unexpected("Twrite", &other)),
        }
    }
}

/// The error for a reply of the wrong type.
pub fn unexpected(op: &str, got: &Message) -> BenchError {
    BenchError::Protocol(format!("{op} answered with {}", got.name()))
}
