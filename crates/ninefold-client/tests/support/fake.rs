//! A scripted 9P2000.L server whose replies the test controls completely,
//! to check that the client does not trust a server blindly.
//!
//! The tree is fixed: the attach root (a directory, qid path 1) holds one
//! regular file `f` (qid path 2) with [`CONTENT`]. Each [`Script`] bends
//! exactly one kind of reply; everything else is answered plainly.
//! Unknown requests get EOPNOTSUPP.

#![allow(dead_code, unreachable_pub)]

use std::collections::HashMap;

use bytes::{Bytes, BytesMut};
use ninefold_client::proto::dir::DirPacker;
use ninefold_client::proto::{
    base, l, Codec, Dialect, DirentType, Errno, Frame, GetattrMask, Message, Qid, QidType,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// The content of the file `f`.
pub const CONTENT: &[u8] = b"five!";

/// 64 GiB: the size [`Script::HugeSize`] reports for `f`.
pub const HUGE: u64 = 64 << 30;

/// How the server misbehaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Script {
    /// Rread carries up to 16 bytes more than the Tread asked for (at
    /// least 13 more when the count is the largest the msize allows).
    ReadTooLong,
    /// Rwrite reports 100 bytes more than the Twrite carried.
    WriteTooLong,
    /// Tgetattr of `f` reports a size of [`HUGE`]; reads serve [`CONTENT`].
    HugeSize,
    /// Treaddir at any cookie answers one entry `f` whose cookie is the
    /// one asked for: the listing never advances.
    StuckCookie,
    /// Treaddir answers only `.` and `..`, with the cookie asked for.
    StuckDots,
    /// Cookies cycle: 0 → `a`(10) → `b`(20) → `c`(30) → `d`(10) → `b`(20) ...
    CookieCycle,
}

/// A running fake server; stops when dropped.
pub struct FakeServer {
    /// `tcp://127.0.0.1:PORT`.
    pub target: String,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for FakeServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl FakeServer {
    /// Listens on a free loopback port (on the caller's runtime).
    pub async fn start(script: Script) -> FakeServer {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let task = tokio::spawn(async move {
            while let Ok((sock, _)) = listener.accept().await {
                tokio::spawn(serve(sock, script));
            }
        });
        FakeServer { target: format!("tcp://127.0.0.1:{port}"), task }
    }
}

const ROOT: u64 = 1;
const FILE: u64 = 2;

fn qid(node: u64) -> Qid {
    let ty = if node == ROOT { QidType::DIR } else { QidType::FILE };
    Qid { ty, version: 0, path: node }
}

async fn serve(mut sock: TcpStream, script: Script) {
    let mut codec = Codec::new(Dialect::L, 8192);
    let mut buf = BytesMut::with_capacity(8192);
    let mut fids: HashMap<u32, u64> = HashMap::new();
    let mut msize = 8192u32;
    loop {
        let frame = loop {
            match codec.decode(&mut buf) {
                Ok(Some(f)) => break f,
                Ok(None) => {}
                Err(_) => return,
            }
            match sock.read_buf(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        };
        let reply = answer(frame.message, script, &mut fids, &mut msize);
        if let Message::Rversion(v) = &reply {
            codec.set_max_size(v.msize);
        }
        let mut out = BytesMut::new();
        if codec.encode(&Frame::new(frame.tag, reply), &mut out).is_err() {
            return;
        }
        if sock.write_all(&out).await.is_err() {
            return;
        }
    }
}

fn err(e: Errno) -> Message {
    Message::from(l::Rlerror { ecode: e })
}

fn answer(msg: Message, script: Script, fids: &mut HashMap<u32, u64>, msize: &mut u32) -> Message {
    match msg {
        Message::Tversion(v) => {
            *msize = v.msize.min(65536);
            base::Rversion { msize: *msize, version: "9P2000.L".into() }.into()
        }
        Message::Tattach(a) => {
            fids.insert(a.fid, ROOT);
            base::Rattach { qid: qid(ROOT) }.into()
        }
        Message::Twalk(w) => {
            let Some(&from) = fids.get(&w.fid) else { return err(Errno::EBADF) };
            let mut node = from;
            let mut wqids = Vec::new();
            for name in &w.wnames {
                if node == ROOT && name.as_bytes() == b"f" {
                    node = FILE;
                    wqids.push(qid(FILE));
                } else if wqids.is_empty() {
                    return err(Errno::ENOENT);
                } else {
                    return base::Rwalk { wqids }.into();
                }
            }
            fids.insert(w.newfid, node);
            base::Rwalk { wqids }.into()
        }
        Message::Tclunk(c) => {
            fids.remove(&c.fid);
            base::Rclunk.into()
        }
        Message::Tflush(_) => base::Rflush.into(),
        Message::Tlopen(o) => match fids.get(&o.fid) {
            Some(&n) => l::Rlopen { qid: qid(n), iounit: 0 }.into(),
            None => err(Errno::EBADF),
        },
        Message::Tgetattr(g) => {
            let Some(&n) = fids.get(&g.fid) else { return err(Errno::EBADF) };
            let (mode, size) = if n == ROOT {
                (0o040755, 0)
            } else if script == Script::HugeSize {
                (0o100644, HUGE)
            } else {
                (0o100644, CONTENT.len() as u64)
            };
            let attr = l::Attr { qid: qid(n), mode, nlink: 1, size, ..l::Attr::default() };
            l::Rgetattr { valid: GetattrMask::BASIC, attr }.into()
        }
        Message::Tread(r) => {
            if fids.get(&r.fid) != Some(&FILE) {
                return err(Errno::EBADF);
            }
            let start = (r.offset as usize).min(CONTENT.len());
            let end = (start + r.count as usize).min(CONTENT.len());
            let mut data = CONTENT[start..end].to_vec();
            if script == Script::ReadTooLong {
                // Longer than asked, yet a frame that fits the msize
                // (header 7 + count 4), so only the length is wrong.
                let fits = (*msize as usize).saturating_sub(11);
                data = vec![b'x'; (r.count as usize + 16).min(fits)];
            }
            base::Rread { data: Bytes::from(data) }.into()
        }
        Message::Twrite(w) => {
            if fids.get(&w.fid) != Some(&FILE) {
                return err(Errno::EBADF);
            }
            let extra = if script == Script::WriteTooLong { 100 } else { 0 };
            base::Rwrite { count: w.data.len() as u32 + extra }.into()
        }
        Message::Treaddir(r) => {
            if fids.get(&r.fid) != Some(&ROOT) {
                return err(Errno::EBADF);
            }
            let entries: Vec<(&[u8], u64)> = match script {
                Script::StuckCookie => vec![(b"f", r.offset)],
                Script::StuckDots => vec![(b".", r.offset), (b"..", r.offset)],
                Script::CookieCycle => match r.offset {
                    0 => vec![(b"a", 10)],
                    10 => vec![(b"b", 20)],
                    20 => vec![(b"c", 30)],
                    _ => vec![(b"d", 10)],
                },
                _ => match r.offset {
                    0 => vec![(b".", 1), (b"..", 2), (b"f", 3)],
                    _ => vec![],
                },
            };
            let mut packer = DirPacker::new(r.count as usize, Dialect::L);
            for (name, offset) in entries {
                let d =
                    l::Dirent { qid: qid(FILE), offset, ty: DirentType::REG, name: name.into() };
                if !packer.push(&d).unwrap_or(false) {
                    break;
                }
            }
            l::Rreaddir { data: packer.finish_block() }.into()
        }
        _ => err(Errno::EOPNOTSUPP),
    }
}
