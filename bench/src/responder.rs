//! The built-in responder: a 9P2000.L "server" with no filesystem behind
//! it, answering every request with a canned, well-formed reply as soon as
//! it is decoded. Measured with the same generator, it gives the
//! *raw-socket limit*: what the transport, the codec and the generator
//! allow when the server does no work.
//!
//! Canned replies: Tversion (msize capped at `max_msize`), Tattach, Twalk
//! (one qid per name), Tclunk, Tremove, Tflush, Tgetattr (a 0644 regular
//! file), Tlopen, Tlcreate, Tmkdir, Tunlinkat, Tread (`count` zero bytes,
//! capped at msize - 11, from one shared buffer), Twrite (`count` = the
//! data's length). Anything else: Rlerror ENOSYS. Fids are not tracked.
//!
//! Two test aids: `fail_every` answers every Nth Tgetattr/Tread/Twrite with
//! Rlerror EIO, and `reorder` answers each batch of requests read together
//! in reverse order, so a client must match replies by tag; `stray_every`
//! adds replies for a tag nobody sent.

use std::sync::Arc;

use bytes::{Bytes, BytesMut};
use ninefold_proto::{base, l, Codec, Dialect, Errno, Frame, GetattrMask, Message, Qid, QidType};
use tokio::io::AsyncReadExt;

use crate::error::BenchError;
use crate::target::{write_chunks, Listener, ReadHalf, WriteHalf};

/// Responder settings.
#[derive(Debug, Clone)]
pub struct ResponderConfig {
    /// The largest msize granted.
    pub max_msize: u32,
    /// Answer every Nth Tgetattr/Tread/Twrite with Rlerror EIO.
    pub fail_every: Option<u64>,
    /// Answer each batch of requests in reverse order.
    pub reorder: bool,
    /// Before every Nth Tgetattr/Tread/Twrite reply, send a stray Rclunk
    /// with tag [`STRAY_TAG`], which no request of the generator uses.
    pub stray_every: Option<u64>,
}

/// The tag of the stray replies of [`ResponderConfig::stray_every`].
pub const STRAY_TAG: u16 = 0x7ffe;

impl Default for ResponderConfig {
    fn default() -> ResponderConfig {
        ResponderConfig {
            max_msize: (1 << 20) + 24,
            fail_every: None,
            reorder: false,
            stray_every: None,
        }
    }
}

/// Accepts connections forever, serving each in its own task.
pub async fn serve(listener: Listener, cfg: ResponderConfig) -> Result<(), BenchError> {
    let zeros = Bytes::from(vec![0u8; cfg.max_msize as usize]);
    let cfg = Arc::new(cfg);
    loop {
        let (rd, wr) = listener.accept().await?;
        let cfg = Arc::clone(&cfg);
        let zeros = zeros.clone();
        tokio::spawn(async move {
            if let Err(e) = serve_conn(rd, wr, &cfg, zeros).await {
                tracing::debug!("responder connection ended: {e}");
            }
        });
    }
}

const DIR_QID: Qid = Qid { ty: QidType::DIR, version: 0, path: 1 };
const FILE_QID: Qid = Qid { ty: QidType::FILE, version: 0, path: 2 };

struct Conn {
    codec: Codec,
    msize: u32,
    counter: u64,
    strays: u64,
    zeros: Bytes,
}

/// Serves one connection until the peer closes it.
pub async fn serve_conn(
    mut rd: ReadHalf,
    mut wr: WriteHalf,
    cfg: &ResponderConfig,
    zeros: Bytes,
) -> Result<(), BenchError> {
    let mut c = Conn {
        codec: Codec::new(Dialect::L, cfg.max_msize),
        msize: cfg.max_msize,
        counter: 0,
        strays: 0,
        zeros,
    };
    let mut rbuf = BytesMut::with_capacity(256 * 1024);
    let mut replies: Vec<Frame> = Vec::new();
    let mut chunks: Vec<Bytes> = Vec::new();
    let mut head = BytesMut::with_capacity(8192);
    loop {
        loop {
            match c.codec.decode(&mut rbuf) {
                Ok(Some(frame)) => {
                    if c.stray_now(cfg, &frame.message) {
                        replies.push(Frame::new(STRAY_TAG, base::Rclunk));
                    }
                    replies.push(c.answer(frame, cfg));
                }
                Ok(None) => break,
                Err(e) if e.is_fatal() => return Err(e.into()),
                Err(e) => {
                    if let Some(tag) = e.tag() {
                        replies.push(Frame::new(tag, l::Rlerror { ecode: e.errno() }));
                    }
                }
            }
        }
        if cfg.reorder {
            replies.reverse();
        }
        for r in replies.drain(..) {
            if let Some(payload) = r.encode_vectored(Dialect::L, &mut head)? {
                chunks.push(head.split().freeze());
                chunks.push(payload);
            }
        }
        if !head.is_empty() {
            chunks.push(head.split().freeze());
        }
        if !chunks.is_empty() {
            write_chunks(&mut wr, &mut chunks).await?;
        }
        if rbuf.capacity() - rbuf.len() < 16 * 1024 {
            rbuf.reserve(256 * 1024);
        }
        if rd.read_buf(&mut rbuf).await? == 0 {
            return Ok(());
        }
    }
}

impl Conn {
    fn fail_now(&mut self, cfg: &ResponderConfig) -> bool {
        self.counter += 1;
        cfg.fail_every.is_some_and(|n| n > 0 && self.counter % n == 0)
    }

    fn stray_now(&mut self, cfg: &ResponderConfig, m: &Message) -> bool {
        if !matches!(m, Message::Tgetattr(_) | Message::Tread(_) | Message::Twrite(_)) {
            return false;
        }
        self.strays += 1;
        cfg.stray_every.is_some_and(|n| n > 0 && self.strays % n == 0)
    }

    fn answer(&mut self, frame: Frame, cfg: &ResponderConfig) -> Frame {
        let tag = frame.tag;
        let reply: Message = match frame.message {
            Message::Tversion(v) => {
                let ok = v.version.as_bytes() == Dialect::L.version().as_bytes();
                self.msize = v.msize.min(cfg.max_msize).max(ninefold_proto::sizes::MIN_MSIZE);
                self.codec.set_max_size(self.msize);
                let version = if ok { Dialect::L.version() } else { "unknown" };
                base::Rversion { msize: self.msize, version: version.into() }.into()
            }
            Message::Tattach(_) => base::Rattach { qid: DIR_QID }.into(),
            Message::Twalk(w) => base::Rwalk { wqids: vec![FILE_QID; w.wnames.len()] }.into(),
            Message::Tclunk(_) => base::Rclunk.into(),
            Message::Tremove(_) => base::Rremove.into(),
            Message::Tflush(_) => base::Rflush.into(),
            Message::Tlopen(_) => l::Rlopen { qid: FILE_QID, iounit: 0 }.into(),
            Message::Tlcreate(_) => l::Rlcreate { qid: FILE_QID, iounit: 0 }.into(),
            Message::Tmkdir(_) => l::Rmkdir { qid: DIR_QID }.into(),
            Message::Tunlinkat(_) => l::Runlinkat.into(),
            Message::Tgetattr(g) => {
                if self.fail_now(cfg) {
                    l::Rlerror { ecode: Errno::EIO }.into()
                } else {
                    l::Rgetattr { valid: g.request_mask & GetattrMask::BASIC, attr: canned_attr() }
                        .into()
                }
            }
            Message::Tread(r) => {
                if self.fail_now(cfg) {
                    l::Rlerror { ecode: Errno::EIO }.into()
                } else {
                    let n = ninefold_proto::sizes::clamp_read_count(r.count, self.msize) as usize;
                    base::Rread { data: self.zeros.slice(..n.min(self.zeros.len())) }.into()
                }
            }
            Message::Twrite(w) => {
                if self.fail_now(cfg) {
                    l::Rlerror { ecode: Errno::EIO }.into()
                } else {
                    base::Rwrite { count: w.data.len() as u32 }.into()
                }
            }
            _ => l::Rlerror { ecode: Errno::ENOSYS }.into(),
        };
        Frame::new(tag, reply)
    }
}

fn canned_attr() -> l::Attr {
    l::Attr {
        qid: FILE_QID,
        mode: 0o100644,
        uid: 0,
        gid: 0,
        nlink: 1,
        rdev: 0,
        size: 8 << 20,
        blksize: 4096,
        blocks: (8 << 20) / 512,
        atime_sec: 0,
        atime_nsec: 0,
        mtime_sec: 0,
        mtime_nsec: 0,
        ctime_sec: 0,
        ctime_nsec: 0,
        btime_sec: 0,
        btime_nsec: 0,
        gen: 0,
        data_version: 0,
    }
}
