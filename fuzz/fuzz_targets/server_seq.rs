//! Fuzz the server with *sequences* of T-messages over memfs.
//!
//! The input is read as a little program: each op is a byte choosing the
//! message and a few bytes choosing its fids, tags, names and sizes, all
//! drawn from small ranges so that they collide (walks onto bound fids,
//! flushes of tags in flight, clunks of fids in use by a running read).
//! The requests go to one connection of a real [`Server`] through an
//! in-memory pipe, pipelined, and the replies are checked as they come:
//!
//! - every reply answers a tag in flight, once, with the right R-message
//!   or an error; a flushed request is answered before its Rflush or not
//!   at all; nothing answers a tag after its Rflush or after Rversion;
//! - nothing panics (the server catches a filesystem panic; a panic here is
//!   the server's own) and the whole program finishes within a bound;
//! - after clunking every fid of the range, every fid can be attached
//!   again (the fid table holds nothing stale), and the connection closes
//!   cleanly within a bound once the client hangs up.
#![no_main]

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use ninefold_proto::{
    base, framing, l, Dialect, Frame, GetattrMask, Message, OpenFlags, UnlinkatFlags, NOFID, NOTAG,
};
use ninefold_server::{Node, Server};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::mpsc;

/// Fids and tags are drawn from `0..RANGE`.
const RANGE: u8 = 6;
const NAMES: [&str; 5] = ["a", "b", "c", "..", "d"];
/// The most a program may take, start to finish.
const BOUND: Duration = Duration::from_secs(20);

struct Input<'a> {
    data: &'a [u8],
}

impl Input<'_> {
    fn byte(&mut self) -> u8 {
        match self.data.split_first() {
            Some((b, rest)) => {
                self.data = rest;
                *b
            }
            None => 0,
        }
    }
    fn small(&mut self) -> u32 {
        u32::from(self.byte() % RANGE)
    }
    fn name(&mut self) -> &'static str {
        NAMES[usize::from(self.byte()) % NAMES.len()]
    }
    fn u16(&mut self) -> u16 {
        u16::from_le_bytes([self.byte(), self.byte()])
    }
}

/// What a request expects back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Must be answered.
    Waiting(u8),
    /// Flushed by the Tflush with this tag: answered before its Rflush,
    /// or never.
    Flushed(u8, u16),
}

struct Client {
    wr: tokio::io::WriteHalf<tokio::io::DuplexStream>,
    replies: mpsc::UnboundedReceiver<Frame>,
    /// Tags in flight and the T type each carries.
    inflight: HashMap<u16, State>,
    /// A Tversion in flight (tag NOTAG).
    version_pending: bool,
    dialect: Dialect,
}

impl Client {
    async fn send(&mut self, tag: u16, msg: Message) {
        // Never reuse a tag in flight: that is a protocol violation the
        // server answers by closing the connection.
        while self.inflight.contains_key(&tag) {
            let _ = self.next_reply().await;
        }
        let ty = msg.msg_type();
        let mut out = BytesMut::new();
        Frame::new(tag, msg).encode(self.dialect, &mut out).expect("encodable request");
        self.wr.write_all(&out).await.expect("server took the request");
        self.inflight.insert(tag, State::Waiting(ty));
    }

    async fn next_reply(&mut self) -> Frame {
        let frame = self.replies.recv().await.expect("the server closed the connection");
        let tag = frame.tag;
        if tag == NOTAG && self.version_pending {
            assert!(
                matches!(frame.message, Message::Rversion(_) | Message::Rerror(_)),
                "{frame:?}"
            );
            self.version_pending = false;
            // Requests cut off by Tversion were answered before it or
            // never.
            self.inflight.clear();
            return frame;
        }
        let state = self
            .inflight
            .remove(&tag)
            .unwrap_or_else(|| panic!("reply to tag {tag} not in flight: {frame:?}"));
        let ty = match state {
            State::Waiting(ty) | State::Flushed(ty, _) => ty,
        };
        let rty = frame.message.msg_type();
        let error = matches!(frame.message, Message::Rlerror(_) | Message::Rerror(_));
        assert!(error || rty == ty + 1, "T{ty} answered by {frame:?}");
        if let Message::Rflush(_) = frame.message {
            // Everything this flush targeted is done: answered before, or
            // never.
            let flushed: Vec<u16> = self
                .inflight
                .iter()
                .filter(|(_, s)| matches!(s, State::Flushed(_, f) if *f == tag))
                .map(|(t, _)| *t)
                .collect();
            for t in flushed {
                self.inflight.remove(&t);
            }
        }
        frame
    }

    async fn drain(&mut self) {
        while !self.inflight.is_empty() || self.version_pending {
            let _ = self.next_reply().await;
        }
    }

    async fn version(&mut self, msize: u32, version: &str) {
        self.drain().await;
        let mut out = BytesMut::new();
        let v = base::Tversion { msize, version: version.into() };
        Frame::new(NOTAG, v).encode(Dialect::Base, &mut out).expect("encodable");
        self.wr.write_all(&out).await.expect("server took Tversion");
        self.version_pending = true;
        self.drain().await;
    }

    async fn flush(&mut self, tag: u16, oldtag: u16) {
        while self.inflight.contains_key(&tag) {
            let _ = self.next_reply().await;
        }
        if let Some(State::Waiting(ty)) = self.inflight.get(&oldtag).copied() {
            self.inflight.insert(oldtag, State::Flushed(ty, tag));
        }
        self.send(tag, base::Tflush { oldtag }.into()).await;
    }

    /// Sends `msg` and returns its reply (nothing else may be in flight).
    async fn call(&mut self, msg: Message) -> Message {
        self.drain().await;
        self.send(0, msg).await;
        let frame = self.next_reply().await;
        assert_eq!(frame.tag, 0);
        frame.message
    }
}

fn attach(fid: u32) -> Message {
    base::Tattach { fid, afid: NOFID, uname: "fuzz".into(), aname: "".into(), n_uname: 0 }.into()
}

async fn program(data: &[u8]) {
    let fs = ninefold_fs::memfs::MemFs::new();
    let root: Arc<dyn Node> = fs.root();
    let server = Server::builder(root)
        .max_inflight(3)
        .max_queued(3)
        .max_fids(usize::from(RANGE) + 2)
        .max_msize(64 * 1024)
        .build()
        .expect("valid config");
    let (client_side, server_side) = tokio::io::duplex(32 * 1024);
    let serving = tokio::spawn(async move { server.serve_connection(server_side).await });
    let (mut rd, wr) = tokio::io::split(client_side);
    let (tx, replies) = mpsc::unbounded_channel();
    let reader = tokio::spawn(async move {
        let mut buf = BytesMut::new();
        let mut dialect = Dialect::Base;
        loop {
            while let Ok(framing::FrameStatus::Complete { frame_len }) =
                framing::check(&buf, u32::MAX)
            {
                let raw: Bytes = buf.split_to(frame_len).freeze();
                // Tversion is answered in the base dialect (Rerror for a
                // refusal) whatever was negotiated before.
                let frame = Frame::decode(raw.clone(), dialect)
                    .or_else(|e| match raw.get(5..7) {
                        Some([0xff, 0xff]) => Frame::decode(raw.clone(), Dialect::Base),
                        _ => Err(e),
                    })
                    .unwrap_or_else(|e| panic!("undecodable reply {raw:?}: {e}"));
                if let Message::Rversion(v) = &frame.message {
                    dialect = Dialect::from_version(v.version.as_bytes()).unwrap_or(Dialect::Base);
                }
                if tx.send(frame).is_err() {
                    return;
                }
            }
            match rd.read_buf(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    });
    let mut c = Client {
        wr,
        replies,
        inflight: HashMap::new(),
        version_pending: false,
        dialect: Dialect::L,
    };
    let mut input = Input { data };
    c.version(8192, "9P2000.L").await;
    while !input.data.is_empty() {
        let op = input.byte();
        let tag = u16::from(input.byte() % RANGE);
        let msg: Message = match op % 16 {
            0 => {
                let (fid, newfid, n) = (input.small(), input.small(), input.byte() % 4);
                let wnames = (0..n).map(|_| input.name().into()).collect();
                base::Twalk { fid, newfid, wnames }.into()
            }
            1 => {
                let flags =
                    [0o0, 0o1, 0o2, 0o1002, 0o200000, 0o2002][usize::from(input.byte() % 6)];
                l::Tlopen { fid: input.small(), flags: OpenFlags::from_bits_retain(flags) }.into()
            }
            2 => {
                let flags = [0o2, 0o302, 0o1102][usize::from(input.byte() % 3)];
                l::Tlcreate {
                    fid: input.small(),
                    name: input.name().into(),
                    flags: OpenFlags::from_bits_retain(flags),
                    mode: 0o644,
                    gid: 0,
                }
                .into()
            }
            3 => l::Tmkdir { dfid: input.small(), name: input.name().into(), mode: 0o755, gid: 0 }
                .into(),
            4 => base::Tread {
                fid: input.small(),
                offset: u64::from(input.byte()) * 7,
                count: u32::from(input.u16()),
            }
            .into(),
            5 => {
                let fid = input.small();
                let offset = u64::from(input.byte()) * 5;
                let len = usize::from(input.byte() % 64);
                base::Twrite { fid, offset, data: Bytes::from(vec![0x5a; len]) }.into()
            }
            6 | 7 => base::Tclunk { fid: input.small() }.into(),
            8 => {
                let oldtag = u16::from(input.byte() % RANGE);
                c.flush(tag, oldtag).await;
                continue;
            }
            9 => l::Tgetattr {
                fid: input.small(),
                request_mask: GetattrMask::from_bits_retain(0x3fff),
            }
            .into(),
            10 => l::Treaddir {
                fid: input.small(),
                offset: u64::from(input.byte() % 8),
                count: u32::from(input.u16()),
            }
            .into(),
            11 => l::Tunlinkat {
                dirfid: input.small(),
                name: input.name().into(),
                flags: UnlinkatFlags::from_bits_retain(if input.byte() & 1 == 0 {
                    0
                } else {
                    0x200
                }),
            }
            .into(),
            12 => attach(input.small()),
            13 => base::Tremove { fid: input.small() }.into(),
            14 => {
                let msize = [4096, 8192, 65536, 100][usize::from(input.byte() % 4)];
                let version = ["9P2000.L", "9P2000.L", "9P2000.x"][usize::from(input.byte() % 3)];
                c.version(msize, version).await;
                // An unknown version leaves the connection unnegotiated;
                // get it back to .L.
                c.version(8192, "9P2000.L").await;
                continue;
            }
            _ => {
                c.drain().await;
                continue;
            }
        };
        c.send(tag, msg).await;
    }
    c.drain().await;

    // Clunk everything; then every fid of the range must be free.
    for fid in 0..u32::from(RANGE) {
        let _ = c.call(base::Tclunk { fid }.into()).await;
    }
    for fid in 0..u32::from(RANGE) {
        let r = c.call(attach(fid)).await;
        assert!(matches!(r, Message::Rattach(_)), "fid {fid} not free after clunk-all: {r:?}");
        let r = c.call(base::Tclunk { fid }.into()).await;
        assert!(matches!(r, Message::Rclunk(_)), "fid {fid} attached but not clunked: {r:?}");
    }
    // Hang up (end of stream: the reader still holds the other half).
    c.wr.shutdown().await.expect("shutdown");
    drop(c);
    tokio::time::timeout(Duration::from_secs(5), serving)
        .await
        .expect("the connection closes once the client hangs up")
        .expect("the server task does not panic")
        .expect("a clean end of stream");
    let _ = reader.await;
}

thread_local! {
    static RT: tokio::runtime::Runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .expect("runtime");
}

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    RT.with(|rt| {
        rt.block_on(async {
            tokio::time::timeout(BOUND, program(data)).await.expect("the program hung")
        })
    })
});
