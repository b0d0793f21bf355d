//! Shared test support: a small in-memory tree with a deliberately slow
//! file, a server on a real loopback socket, and a raw frame client.
#![allow(dead_code, unreachable_pub, missing_docs)]

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use bytes::{Bytes, BytesMut};
use ninefold_proto::l::{Attr, SetAttr};
use ninefold_proto::{
    base, framing, l, Dialect, DirentType, Errno, Frame, GetattrMask, Message, OpenFlags, Qid,
    QidType, SetattrMask, UnlinkatFlags, NOFID, NONUNAME, NOTAG, S_IFDIR, S_IFREG,
};
use ninefold_server::{
    Created, DirSink, Node, Opened, QidGen, Request, Result, Server, ServerBuilder,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

pub static GEN: QidGen = QidGen::starting_at(100);

#[derive(Debug)]
pub struct Dir {
    qid: Qid,
    children: Mutex<BTreeMap<Vec<u8>, Arc<dyn Node>>>,
}

impl Dir {
    pub fn new() -> Arc<Dir> {
        Arc::new(Dir { qid: GEN.next(QidType::DIR), children: Mutex::new(BTreeMap::new()) })
    }
    pub fn add(&self, name: &str, node: Arc<dyn Node>) {
        self.children.lock().unwrap().insert(name.as_bytes().to_vec(), node);
    }
}

#[async_trait]
impl Node for Dir {
    fn qid(&self) -> Qid {
        self.qid
    }
    async fn getattr(&self, _req: &Request, _mask: GetattrMask) -> Result<Attr> {
        Ok(Attr {
            qid: self.qid,
            mode: S_IFDIR | 0o755,
            nlink: 2,
            blksize: 4096,
            ..Attr::default()
        })
    }
    async fn lookup(&self, _req: &Request, name: &[u8]) -> Result<Arc<dyn Node>> {
        self.children.lock().unwrap().get(name).cloned().ok_or(Errno::ENOENT)
    }
    async fn readdir(&self, _req: &Request, offset: u64, sink: &mut DirSink) -> Result<()> {
        let children = self.children.lock().unwrap();
        let mut entries: Vec<(Vec<u8>, Qid)> =
            vec![(b".".to_vec(), self.qid), (b"..".to_vec(), self.qid)];
        entries.extend(children.iter().map(|(n, c)| (n.clone(), c.qid())));
        for (i, (name, qid)) in entries.iter().enumerate().skip(offset as usize) {
            if !sink.push(*qid, i as u64 + 1, DirentType::from_qid(qid), name) {
                break;
            }
        }
        Ok(())
    }
    async fn create(
        &self,
        _req: &Request,
        name: &[u8],
        _flags: OpenFlags,
        mode: u32,
        _gid: u32,
    ) -> Result<Created> {
        let mut children = self.children.lock().unwrap();
        if children.contains_key(name) {
            return Err(Errno::EEXIST);
        }
        let file = File::new(b"", mode);
        children.insert(name.to_vec(), file.clone());
        Ok(Created { node: file, opened: Opened::node() })
    }
    async fn mkdir(
        &self,
        _req: &Request,
        name: &[u8],
        _mode: u32,
        _gid: u32,
    ) -> Result<Arc<dyn Node>> {
        let mut children = self.children.lock().unwrap();
        if children.contains_key(name) {
            return Err(Errno::EEXIST);
        }
        let d: Arc<dyn Node> = Dir::new();
        children.insert(name.to_vec(), d.clone());
        Ok(d)
    }
    async fn unlink(&self, _req: &Request, name: &[u8], _flags: UnlinkatFlags) -> Result<()> {
        self.children.lock().unwrap().remove(name).map(|_| ()).ok_or(Errno::ENOENT)
    }
    async fn rename(
        &self,
        _req: &Request,
        name: &[u8],
        new_dir: &Arc<dyn Node>,
        new_name: &[u8],
    ) -> Result<()> {
        let target = new_dir.downcast_ref::<Dir>().ok_or(Errno::EXDEV)?;
        let node = self.children.lock().unwrap().remove(name).ok_or(Errno::ENOENT)?;
        target.children.lock().unwrap().insert(new_name.to_vec(), node);
        Ok(())
    }
}

#[derive(Debug)]
pub struct File {
    qid: Qid,
    mode: u32,
    data: Mutex<Vec<u8>>,
    xattrs: Mutex<BTreeMap<Vec<u8>, Bytes>>,
}

impl File {
    pub fn new(data: &[u8], mode: u32) -> Arc<File> {
        Arc::new(File {
            qid: GEN.next(QidType::FILE),
            mode,
            data: Mutex::new(data.to_vec()),
            xattrs: Mutex::new(BTreeMap::new()),
        })
    }
}

#[async_trait]
impl Node for File {
    fn qid(&self) -> Qid {
        self.qid
    }
    async fn getattr(&self, _req: &Request, _mask: GetattrMask) -> Result<Attr> {
        let size = self.data.lock().unwrap().len() as u64;
        Ok(Attr {
            qid: self.qid,
            mode: S_IFREG | (self.mode & 0o7777),
            nlink: 1,
            size,
            blksize: 4096,
            ..Attr::default()
        })
    }
    async fn setattr(&self, _req: &Request, attr: &SetAttr) -> Result<()> {
        if attr.valid.contains(SetattrMask::SIZE) {
            self.data.lock().unwrap().resize(attr.size as usize, 0);
        }
        Ok(())
    }
    async fn read(&self, _req: &Request, offset: u64, count: u32) -> Result<Bytes> {
        let data = self.data.lock().unwrap();
        let start = (offset as usize).min(data.len());
        let end = start.saturating_add(count as usize).min(data.len());
        Ok(Bytes::copy_from_slice(&data[start..end]))
    }
    async fn write(&self, _req: &Request, offset: u64, buf: Bytes) -> Result<u32> {
        let mut data = self.data.lock().unwrap();
        let end = offset as usize + buf.len();
        if data.len() < end {
            data.resize(end, 0);
        }
        data[offset as usize..end].copy_from_slice(&buf);
        Ok(buf.len() as u32)
    }
    async fn xattr_get(&self, _req: &Request, name: &[u8]) -> Result<Bytes> {
        self.xattrs.lock().unwrap().get(name).cloned().ok_or(Errno::ENODATA)
    }
    async fn xattr_list(&self, _req: &Request) -> Result<Vec<Bytes>> {
        Ok(self.xattrs.lock().unwrap().keys().map(|k| Bytes::copy_from_slice(k)).collect())
    }
    async fn xattr_set(
        &self,
        _req: &Request,
        name: &[u8],
        value: Bytes,
        _flags: ninefold_proto::XattrFlags,
    ) -> Result<()> {
        self.xattrs.lock().unwrap().insert(name.to_vec(), value);
        Ok(())
    }
    async fn xattr_remove(&self, _req: &Request, name: &[u8]) -> Result<()> {
        self.xattrs.lock().unwrap().remove(name).map(|_| ()).ok_or(Errno::ENODATA)
    }
}

/// Reads block until `delay` passes or the request is flushed; counts
/// cancellations and completions.
#[derive(Debug)]
pub struct Slow {
    qid: Qid,
    pub delay: Duration,
    pub cancelled: AtomicUsize,
    pub finished: AtomicUsize,
    /// Reads running now, and the most ever running at once.
    pub running: AtomicUsize,
    pub peak: AtomicUsize,
}

impl Slow {
    pub fn new(delay: Duration) -> Arc<Slow> {
        Arc::new(Slow {
            qid: GEN.next(QidType::FILE),
            delay,
            cancelled: AtomicUsize::new(0),
            finished: AtomicUsize::new(0),
            running: AtomicUsize::new(0),
            peak: AtomicUsize::new(0),
        })
    }
}

#[async_trait]
impl Node for Slow {
    fn qid(&self) -> Qid {
        self.qid
    }
    async fn getattr(&self, _req: &Request, _mask: GetattrMask) -> Result<Attr> {
        Ok(Attr { qid: self.qid, mode: S_IFREG | 0o644, nlink: 1, ..Attr::default() })
    }
    async fn read(&self, req: &Request, _offset: u64, count: u32) -> Result<Bytes> {
        let now = self.running.fetch_add(1, Ordering::SeqCst) + 1;
        self.peak.fetch_max(now, Ordering::SeqCst);
        let _running = Decrement(&self.running);
        tokio::select! {
            _ = req.cancelled() => {
                self.cancelled.fetch_add(1, Ordering::SeqCst);
                Err(Errno::EINTR)
            }
            _ = tokio::time::sleep(self.delay) => {
                self.finished.fetch_add(1, Ordering::SeqCst);
                Ok(Bytes::from(vec![b'z'; count.min(16) as usize]))
            }
        }
    }
    /// Slow mutation: not interruptible by the server, finishes anyway.
    async fn setattr(&self, _req: &Request, _attr: &SetAttr) -> Result<()> {
        tokio::time::sleep(self.delay).await;
        self.finished.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }
}

/// Decrements a counter when dropped (also when a future is cancelled).
struct Decrement<'a>(&'a AtomicUsize);

impl Drop for Decrement<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// A file whose read panics (a filesystem bug the server must contain).
#[derive(Debug)]
pub struct Panics {
    qid: Qid,
}

impl Panics {
    pub fn new() -> Arc<Panics> {
        Arc::new(Panics { qid: GEN.next(QidType::FILE) })
    }
}

#[async_trait]
impl Node for Panics {
    fn qid(&self) -> Qid {
        self.qid
    }
    async fn getattr(&self, _req: &Request, _mask: GetattrMask) -> Result<Attr> {
        Ok(Attr { qid: self.qid, mode: S_IFREG | 0o644, nlink: 1, ..Attr::default() })
    }
    async fn read(&self, _req: &Request, _offset: u64, _count: u32) -> Result<Bytes> {
        panic!("a filesystem bug in read");
    }
}

/// The standard test tree: /hello ("hello world"), /sub/, /slow (300 ms).
pub struct Tree {
    pub root: Arc<Dir>,
    pub slow: Arc<Slow>,
}

pub fn tree() -> Tree {
    let root = Dir::new();
    root.add("hello", File::new(b"hello world", 0o644));
    let sub = Dir::new();
    sub.add("inner", File::new(b"inner", 0o644));
    root.add("sub", sub);
    let slow = Slow::new(Duration::from_millis(300));
    root.add("slow", slow.clone());
    Tree { root, slow }
}

/// A server on a loopback port.
pub struct Running {
    pub addr: std::net::SocketAddr,
    pub server: Server,
    pub tree: Tree,
}

pub async fn start_with(f: impl FnOnce(ServerBuilder) -> ServerBuilder) -> Running {
    start_tree_with(tree(), f).await
}

/// A server of `tree` on a loopback port.
pub async fn start_tree_with(
    tree: Tree,
    f: impl FnOnce(ServerBuilder) -> ServerBuilder,
) -> Running {
    let root: Arc<dyn Node> = tree.root.clone();
    let server = f(Server::builder(root)).build().unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let s = server.clone();
    tokio::spawn(async move { s.serve_tcp(listener).await });
    Running { addr, server, tree }
}

pub async fn start() -> Running {
    start_with(|b| b).await
}

/// A raw 9P client that sends and receives frames one by one.
pub struct Raw {
    pub stream: TcpStream,
    pub dialect: Dialect,
    buf: BytesMut,
}

impl Raw {
    pub async fn connect(addr: std::net::SocketAddr) -> Raw {
        let stream = TcpStream::connect(addr).await.unwrap();
        Raw::over(stream)
    }

    /// A client over a stream connected elsewhere (from another address).
    pub fn over(stream: TcpStream) -> Raw {
        stream.set_nodelay(true).unwrap();
        Raw { stream, dialect: Dialect::L, buf: BytesMut::new() }
    }

    /// Connects, negotiates `dialect` and attaches fid 0.
    pub async fn attached(addr: std::net::SocketAddr, dialect: Dialect) -> Raw {
        Raw::connect(addr).await.negotiate_attach(dialect).await
    }

    /// Negotiates `dialect` and attaches fid 0 on this connection.
    pub async fn negotiate_attach(self, dialect: Dialect) -> Raw {
        self.handshake(dialect, 65536).await.0
    }

    /// Negotiates `dialect` at `msize` (which the server must grant whole)
    /// and attaches fid 0 on this connection.
    pub async fn negotiate_attach_at(self, dialect: Dialect, msize: u32) -> Raw {
        let (c, granted) = self.handshake(dialect, msize).await;
        assert_eq!(granted, msize, "msize granted");
        c
    }

    /// Tversion at `msize` and Tattach of fid 0; the msize granted.
    async fn handshake(mut self, dialect: Dialect, msize: u32) -> (Raw, u32) {
        let c = &mut self;
        let r = c.rpc_tag(NOTAG, base::Tversion { msize, version: dialect.version().into() }).await;
        let granted = match r {
            Message::Rversion(v) => {
                assert_eq!(v.version.as_bytes(), dialect.version().as_bytes());
                v.msize
            }
            other => panic!("version: {other:?}"),
        };
        c.dialect = dialect;
        let r = c
            .rpc(base::Tattach {
                fid: 0,
                afid: NOFID,
                uname: "root".into(),
                aname: "".into(),
                n_uname: 0,
            })
            .await;
        assert!(matches!(r, Message::Rattach(_)), "attach: {r:?}");
        (self, granted)
    }

    pub async fn send(&mut self, tag: u16, msg: impl Into<Message>) {
        let mut out = BytesMut::new();
        Frame::new(tag, msg).encode(self.dialect, &mut out).unwrap();
        self.stream.write_all(&out).await.unwrap();
    }

    pub async fn send_raw(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).await.unwrap();
    }

    /// The next frame, or `None` when the server closed the connection.
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
        assert_eq!(f.tag, tag, "reply tag");
        f.message
    }

    pub async fn rpc(&mut self, msg: impl Into<Message>) -> Message {
        self.rpc_tag(1, msg).await
    }

    pub async fn walk(&mut self, fid: u32, newfid: u32, names: &[&str]) -> Message {
        self.rpc(base::Twalk { fid, newfid, wnames: names.iter().map(|n| (*n).into()).collect() })
            .await
    }

    pub async fn lopen(&mut self, fid: u32, flags: OpenFlags) -> Message {
        self.rpc(l::Tlopen { fid, flags }).await
    }
}

/// The errno of an error reply; panics on anything else.
pub fn errno(m: &Message) -> Errno {
    match m {
        Message::Rlerror(e) => e.ecode,
        Message::Rerror(e) => e.to_errno(),
        other => panic!("expected an error, got {other:?}"),
    }
}

pub const NONE: u32 = NONUNAME;
