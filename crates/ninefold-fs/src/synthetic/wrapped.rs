//! [`Wrapped`]: any node made slow, or given fixed statfs numbers.

use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::task::Poll;
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use ninefold_proto::l::{Attr, SetAttr};
use ninefold_proto::{Errno, GetattrMask, LockStatus, OpenFlags, Qid, UnlinkatFlags, XattrFlags};
use ninefold_server::{
    Created, DirSink, Handle, LockInfo, LockRequest, Node, Opened, QidGen, Request, Result, StatFs,
};

use super::StaticFile;

/// A node that forwards every operation to another, except that:
///
/// - with a delay ([`slow`](Wrapped::slow)), each read and write first
///   waits that long; a flushed request stops waiting at once and fails
///   with EINTR (for testing Tflush);
/// - with statfs numbers ([`statfs`](Wrapped::statfs)), Tstatfs answers
///   them instead of asking the inner node.
///
/// Handles the inner node returns from open are wrapped too, so they
/// keep receiving the inner node (a handle may downcast it).
///
/// ```
/// use std::time::Duration;
/// use ninefold_fs::synthetic::Wrapped;
/// use ninefold_server::QidGen;
///
/// let slow = Wrapped::slow_file(&QidGen::new(), "data", Duration::from_millis(200));
/// assert_eq!(slow.delay(), Some(Duration::from_millis(200)));
/// ```
#[derive(Debug, Clone)]
pub struct Wrapped {
    inner: Arc<dyn Node>,
    delay: Option<Duration>,
    statfs: Option<StatFs>,
}

impl Wrapped {
    /// Forwards everything to `inner` unchanged (add behaviour with
    /// [`with_delay`](Self::with_delay) and [`with_statfs`](Self::with_statfs)).
    pub fn new(inner: Arc<dyn Node>) -> Wrapped {
        Wrapped { inner, delay: None, statfs: None }
    }

    /// `inner` with reads and writes delayed by `delay`.
    pub fn slow(inner: Arc<dyn Node>, delay: Duration) -> Wrapped {
        Wrapped::new(inner).with_delay(delay)
    }

    /// A read-only file of `content` whose reads take `delay`.
    pub fn slow_file(qids: &QidGen, content: impl Into<Bytes>, delay: Duration) -> Wrapped {
        Wrapped::slow(Arc::new(StaticFile::new(qids, content)), delay)
    }

    /// `inner` answering Tstatfs with `statfs`.
    pub fn statfs(inner: Arc<dyn Node>, statfs: StatFs) -> Wrapped {
        Wrapped::new(inner).with_statfs(statfs)
    }

    /// Adds a delay to reads and writes.
    #[must_use]
    pub fn with_delay(mut self, delay: Duration) -> Wrapped {
        self.delay = Some(delay);
        self
    }

    /// Fixes the statfs answer.
    #[must_use]
    pub fn with_statfs(mut self, statfs: StatFs) -> Wrapped {
        self.statfs = Some(statfs);
        self
    }

    /// The read/write delay, if any.
    pub fn delay(&self) -> Option<Duration> {
        self.delay
    }

    /// The wrapped node.
    pub fn inner(&self) -> &Arc<dyn Node> {
        &self.inner
    }
}

/// Waits `delay` unless the request is flushed first (then EINTR).
async fn pause(req: &Request, delay: Option<Duration>) -> Result<()> {
    let Some(delay) = delay else { return Ok(()) };
    let mut sleep = pin!(tokio::time::sleep(delay));
    let mut cancelled = pin!(req.cancelled());
    std::future::poll_fn(|cx| {
        if cancelled.as_mut().poll(cx).is_ready() {
            return Poll::Ready(Err(Errno::EINTR));
        }
        sleep.as_mut().poll(cx).map(Ok)
    })
    .await
}

/// The inner node's handle, called with the inner node.
#[derive(Debug)]
struct WrappedHandle {
    handle: Arc<dyn Handle>,
    node: Arc<dyn Node>,
    delay: Option<Duration>,
}

#[async_trait]
impl Handle for WrappedHandle {
    async fn read(
        &self,
        req: &Request,
        _node: &dyn Node,
        offset: u64,
        count: u32,
    ) -> Result<Bytes> {
        pause(req, self.delay).await?;
        self.handle.read(req, &*self.node, offset, count).await
    }

    async fn write(
        &self,
        req: &Request,
        _node: &dyn Node,
        offset: u64,
        data: Bytes,
    ) -> Result<u32> {
        pause(req, self.delay).await?;
        self.handle.write(req, &*self.node, offset, data).await
    }

    async fn readdir(
        &self,
        req: &Request,
        _node: &dyn Node,
        offset: u64,
        sink: &mut DirSink,
    ) -> Result<()> {
        self.handle.readdir(req, &*self.node, offset, sink).await
    }

    async fn getattr(&self, req: &Request, _node: &dyn Node, mask: GetattrMask) -> Result<Attr> {
        self.handle.getattr(req, &*self.node, mask).await
    }

    async fn setattr(&self, req: &Request, _node: &dyn Node, attr: &SetAttr) -> Result<()> {
        self.handle.setattr(req, &*self.node, attr).await
    }

    async fn fsync(&self, req: &Request, _node: &dyn Node, datasync: bool) -> Result<()> {
        self.handle.fsync(req, &*self.node, datasync).await
    }

    async fn lock(
        &self,
        req: &Request,
        _node: &dyn Node,
        lock: &LockRequest,
    ) -> Result<LockStatus> {
        self.handle.lock(req, &*self.node, lock).await
    }

    async fn getlock(
        &self,
        req: &Request,
        _node: &dyn Node,
        probe: &LockRequest,
    ) -> Result<LockInfo> {
        self.handle.getlock(req, &*self.node, probe).await
    }

    async fn release(&self, req: &Request, _node: &dyn Node) -> Result<()> {
        self.handle.release(req, &*self.node).await
    }
}

impl Wrapped {
    fn wrap(&self, opened: Opened) -> Opened {
        match opened.handle {
            Some(handle) => Opened {
                handle: Some(Arc::new(WrappedHandle {
                    handle,
                    node: self.inner.clone(),
                    delay: self.delay,
                })),
                iounit: opened.iounit,
            },
            None => opened,
        }
    }
}

#[async_trait]
impl Node for Wrapped {
    fn qid(&self) -> Qid {
        self.inner.qid()
    }

    async fn getattr(&self, req: &Request, mask: GetattrMask) -> Result<Attr> {
        self.inner.getattr(req, mask).await
    }

    async fn setattr(&self, req: &Request, attr: &SetAttr) -> Result<()> {
        self.inner.setattr(req, attr).await
    }

    async fn lookup(&self, req: &Request, name: &[u8]) -> Result<Arc<dyn Node>> {
        self.inner.lookup(req, name).await
    }

    async fn open(&self, req: &Request, flags: OpenFlags) -> Result<Opened> {
        Ok(self.wrap(self.inner.open(req, flags).await?))
    }

    async fn read(&self, req: &Request, offset: u64, count: u32) -> Result<Bytes> {
        pause(req, self.delay).await?;
        self.inner.read(req, offset, count).await
    }

    async fn write(&self, req: &Request, offset: u64, data: Bytes) -> Result<u32> {
        pause(req, self.delay).await?;
        self.inner.write(req, offset, data).await
    }

    async fn readdir(&self, req: &Request, offset: u64, sink: &mut DirSink) -> Result<()> {
        self.inner.readdir(req, offset, sink).await
    }

    async fn create(
        &self,
        req: &Request,
        name: &[u8],
        flags: OpenFlags,
        mode: u32,
        gid: u32,
    ) -> Result<Created> {
        self.inner.create(req, name, flags, mode, gid).await
    }

    async fn mkdir(
        &self,
        req: &Request,
        name: &[u8],
        mode: u32,
        gid: u32,
    ) -> Result<Arc<dyn Node>> {
        self.inner.mkdir(req, name, mode, gid).await
    }

    async fn symlink(
        &self,
        req: &Request,
        name: &[u8],
        target: &[u8],
        gid: u32,
    ) -> Result<Arc<dyn Node>> {
        self.inner.symlink(req, name, target, gid).await
    }

    async fn mknod(
        &self,
        req: &Request,
        name: &[u8],
        mode: u32,
        major: u32,
        minor: u32,
        gid: u32,
    ) -> Result<Arc<dyn Node>> {
        self.inner.mknod(req, name, mode, major, minor, gid).await
    }

    async fn link(&self, req: &Request, target: &Arc<dyn Node>, name: &[u8]) -> Result<()> {
        self.inner.link(req, target, name).await
    }

    async fn readlink(&self, req: &Request) -> Result<Bytes> {
        self.inner.readlink(req).await
    }

    async fn unlink(&self, req: &Request, name: &[u8], flags: UnlinkatFlags) -> Result<()> {
        self.inner.unlink(req, name, flags).await
    }

    async fn rename(
        &self,
        req: &Request,
        name: &[u8],
        new_dir: &Arc<dyn Node>,
        new_name: &[u8],
    ) -> Result<()> {
        self.inner.rename(req, name, new_dir, new_name).await
    }

    async fn statfs(&self, req: &Request) -> Result<StatFs> {
        match &self.statfs {
            Some(s) => Ok(s.clone()),
            None => self.inner.statfs(req).await,
        }
    }

    async fn fsync(&self, req: &Request, datasync: bool) -> Result<()> {
        self.inner.fsync(req, datasync).await
    }

    async fn lock(&self, req: &Request, lock: &LockRequest) -> Result<LockStatus> {
        self.inner.lock(req, lock).await
    }

    async fn getlock(&self, req: &Request, probe: &LockRequest) -> Result<LockInfo> {
        self.inner.getlock(req, probe).await
    }

    async fn release(&self, req: &Request) -> Result<()> {
        self.inner.release(req).await
    }

    async fn xattr_get(&self, req: &Request, name: &[u8]) -> Result<Bytes> {
        self.inner.xattr_get(req, name).await
    }

    async fn xattr_list(&self, req: &Request) -> Result<Vec<Bytes>> {
        self.inner.xattr_list(req).await
    }

    async fn xattr_set(
        &self,
        req: &Request,
        name: &[u8],
        value: Bytes,
        flags: XattrFlags,
    ) -> Result<()> {
        self.inner.xattr_set(req, name, value, flags).await
    }

    async fn xattr_remove(&self, req: &Request, name: &[u8]) -> Result<()> {
        self.inner.xattr_remove(req, name).await
    }
}
