//! [`Handle`]: per-open state, whose methods take precedence over the
//! node's.

use std::any::Any;

use async_trait::async_trait;
use bytes::Bytes;
use ninefold_proto::l::{Attr, SetAttr};
use ninefold_proto::{FallocateMode, GetattrMask, LockStatus};

use super::{DirSink, LockInfo, LockRequest, Node, Request, Result};
use crate::splice::PipeSink;

/// Per-open state returned by [`Node::open`] or [`Node::create`]: a host
/// descriptor, a directory cursor, buffered data, locks.
///
/// For an opened fid, the server calls the handle's method; every method
/// defaults to the node's method of the same name, so a handle implements
/// only what differs per open (dispatch order: handle, then node, then
/// ENOSYS). `node` is the node the fid was opened on.
///
/// Methods on one handle run concurrently (several reads of one open
/// file at once, for example); [`release`](Handle::release) runs once,
/// after all of them, when the fid is clunked.
///
/// ```
/// use async_trait::async_trait;
/// use bytes::Bytes;
/// use ninefold_server::{Handle, Node, Request, Result};
/// use std::sync::atomic::{AtomicU64, Ordering};
///
/// /// Counts the bytes read through one open.
/// #[derive(Debug, Default)]
/// struct Counting(AtomicU64);
///
/// #[async_trait]
/// impl Handle for Counting {
///     async fn read(&self, req: &Request, node: &dyn Node, offset: u64, count: u32) -> Result<Bytes> {
///         let data = node.read(req, offset, count).await?;
///         self.0.fetch_add(data.len() as u64, Ordering::Relaxed);
///         Ok(data)
///     }
/// }
/// ```
#[async_trait]
pub trait Handle: Any + Send + Sync + std::fmt::Debug {
    /// Tread on the open fid. Defaults to [`Node::read`].
    async fn read(&self, req: &Request, node: &dyn Node, offset: u64, count: u32) -> Result<Bytes> {
        node.read(req, offset, count).await
    }

    /// Tread on the open fid, without copying: put the data at `offset`
    /// (at most `count` bytes) into `pipe` with `splice(2)` and return how
    /// many bytes it now holds; or `Ok(None)`, the default, for "not this
    /// read" (not a regular file, data not in a descriptor), and the server
    /// calls [`read`](Handle::read) instead.
    ///
    /// The server asks only for reads it can splice into the connection's
    /// socket (plain tcp and unix sockets, no middleware, large reads):
    /// the data then goes from the page cache to the socket by reference.
    /// The pipe is empty and large enough for the read; fewer bytes than
    /// `count` means end of file, as for `read`. The server checks that the
    /// pipe holds exactly the count returned (a mismatch answers EIO).
    async fn read_to_pipe(
        &self,
        req: &Request,
        node: &dyn Node,
        offset: u64,
        count: u32,
        pipe: &PipeSink,
    ) -> Result<Option<u32>> {
        let _ = (req, node, offset, count, pipe);
        Ok(None)
    }

    /// Twrite on the open fid. Defaults to [`Node::write`].
    async fn write(&self, req: &Request, node: &dyn Node, offset: u64, data: Bytes) -> Result<u32> {
        node.write(req, offset, data).await
    }

    /// Treaddir on the open fid. Defaults to [`Node::readdir`].
    async fn readdir(
        &self,
        req: &Request,
        node: &dyn Node,
        offset: u64,
        sink: &mut DirSink,
    ) -> Result<()> {
        node.readdir(req, offset, sink).await
    }

    /// Tgetattr on the open fid. Defaults to [`Node::getattr`].
    async fn getattr(&self, req: &Request, node: &dyn Node, mask: GetattrMask) -> Result<Attr> {
        node.getattr(req, mask).await
    }

    /// Tsetattr on the open fid (ftruncate, fchmod). Defaults to
    /// [`Node::setattr`].
    async fn setattr(&self, req: &Request, node: &dyn Node, attr: &SetAttr) -> Result<()> {
        node.setattr(req, attr).await
    }

    /// Tfsync on the open fid. Defaults to [`Node::fsync`].
    async fn fsync(&self, req: &Request, node: &dyn Node, datasync: bool) -> Result<()> {
        node.fsync(req, datasync).await
    }

    /// Tfallocate on the open fid. Defaults to [`Node::fallocate`].
    async fn fallocate(
        &self,
        req: &Request,
        node: &dyn Node,
        offset: u64,
        length: u64,
        mode: FallocateMode,
    ) -> Result<()> {
        node.fallocate(req, offset, length, mode).await
    }

    /// Tlock on the open fid. Defaults to [`Node::lock`].
    async fn lock(&self, req: &Request, node: &dyn Node, lock: &LockRequest) -> Result<LockStatus> {
        node.lock(req, lock).await
    }

    /// Tgetlock on the open fid. Defaults to [`Node::getlock`].
    async fn getlock(
        &self,
        req: &Request,
        node: &dyn Node,
        probe: &LockRequest,
    ) -> Result<LockInfo> {
        node.getlock(req, probe).await
    }

    /// The fid is being clunked (or the connection closed, or a Tversion
    /// reset it): release locks and resources. Runs after every other
    /// request on the fid. Defaults to [`Node::release`]. An error here
    /// is reported in Rclunk, but the fid is gone either way.
    async fn release(&self, req: &Request, node: &dyn Node) -> Result<()> {
        node.release(req).await
    }
}

impl dyn Handle {
    /// The handle as its concrete type, if it is a `T`.
    pub fn downcast_ref<T: Handle>(&self) -> Option<&T> {
        let any: &dyn Any = self;
        any.downcast_ref::<T>()
    }
}
