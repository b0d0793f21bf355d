//! A raw 9P2000.L.Z client and a memfs server on loopback, for the `.Z`
//! tests.
#![allow(dead_code, unreachable_pub, missing_docs)]

use std::net::SocketAddr;
use std::time::Duration;

use bytes::BytesMut;
use ninefold_fs::memfs::MemFs;
use ninefold_proto::z::Envelope;
use ninefold_proto::{base, framing, Dialect, EnvelopeFlags, Errno, Frame, Message, NOFID, NOTAG};
use ninefold_server::{Server, ServerBuilder};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

pub struct Served {
    pub addr: SocketAddr,
    pub server: Server,
    pub fs: MemFs,
}

pub async fn serve_memfs(f: impl FnOnce(ServerBuilder) -> ServerBuilder) -> Served {
    let fs = MemFs::builder().file("hello", "hello world").build().unwrap();
    let server = f(Server::builder(fs.root())).build().unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let s = server.clone();
    tokio::spawn(async move { s.serve_tcp(listener).await });
    Served { addr, server, fs }
}

pub struct Z {
    pub stream: TcpStream,
    pub dialect: Dialect,
    buf: BytesMut,
}

impl Z {
    /// Connects and negotiates `version`, returning the Rversion.
    pub async fn negotiate(addr: SocketAddr, version: &str) -> (Z, Message) {
        let stream = TcpStream::connect(addr).await.unwrap();
        stream.set_nodelay(true).unwrap();
        let mut c = Z { stream, dialect: Dialect::Base, buf: BytesMut::new() };
        let r = c.rpc_tag(NOTAG, base::Tversion { msize: 65536, version: version.into() }).await;
        if let Message::Rversion(v) = &r {
            if let Some(d) = Dialect::from_version(v.version.as_bytes()) {
                c.dialect = d;
            }
        }
        (c, r)
    }

    /// Connects in `dialect` and attaches fid 0 as root.
    pub async fn attached(addr: SocketAddr, dialect: Dialect) -> Z {
        let (mut c, r) = Z::negotiate(addr, dialect.version()).await;
        let Message::Rversion(v) = r else { panic!("{r:?}") };
        assert_eq!(v.version.as_bytes(), dialect.version().as_bytes());
        let a = base::Tattach {
            fid: 0,
            afid: NOFID,
            uname: "root".into(),
            aname: "".into(),
            n_uname: 0,
        };
        let r = c.rpc(a).await;
        assert!(matches!(r, Message::Rattach(_)), "{r:?}");
        c
    }

    pub async fn send_frame(&mut self, frame: Frame) {
        let mut out = BytesMut::new();
        frame.encode(self.dialect, &mut out).unwrap();
        self.stream.write_all(&out).await.unwrap();
    }

    pub async fn send(&mut self, tag: u16, msg: impl Into<Message>) {
        self.send_frame(Frame::new(tag, msg)).await;
    }

    pub async fn send_raw(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).await.unwrap();
    }

    pub async fn try_recv(&mut self) -> Option<Frame> {
        loop {
            if let Ok(framing::FrameStatus::Complete { frame_len }) =
                framing::check(&self.buf, 32 << 20)
            {
                let f = self.buf.split_to(frame_len).freeze();
                return Some(Frame::decode(f, self.dialect).unwrap());
            }
            let n =
                tokio::time::timeout(Duration::from_secs(10), self.stream.read_buf(&mut self.buf))
                    .await
                    .expect("timed out waiting for a reply")
                    .ok()?;
            if n == 0 {
                return None;
            }
        }
    }

    pub async fn recv(&mut self) -> Frame {
        self.try_recv().await.expect("connection closed")
    }

    pub async fn rpc_tag(&mut self, tag: u16, msg: impl Into<Message>) -> Message {
        self.send(tag, msg).await;
        let f = self.recv().await;
        assert_eq!(f.tag, tag);
        f.message
    }

    pub async fn rpc(&mut self, msg: impl Into<Message>) -> Message {
        self.rpc_tag(1, msg).await
    }

    /// A request with an envelope.
    pub async fn rpc_env(&mut self, env: Envelope, msg: impl Into<Message>) -> Message {
        self.send_frame(Frame::new(1, msg).with_envelope(env)).await;
        let f = self.recv().await;
        assert_eq!(f.tag, 1);
        f.message
    }
}

pub fn op(id: u8) -> Envelope {
    Envelope { op_id: [id; 16], flags: EnvelopeFlags::empty(), origin_writer_epoch: 0 }
}

pub fn retry(id: u8) -> Envelope {
    Envelope { op_id: [id; 16], flags: EnvelopeFlags::RETRY, origin_writer_epoch: 0 }
}

pub fn errno(m: &Message) -> Errno {
    match m {
        Message::Rlerror(e) => e.ecode,
        other => panic!("expected an error, got {other:?}"),
    }
}
