//! Opening a node, and [`PassthroughHandle`]: the per-open descriptor
//! that serves I/O, readdir, fsync and locks.

use std::os::fd::{AsFd, OwnedFd};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use bytes::Bytes;
use ninefold_proto::l::SetAttr;
use ninefold_proto::{Errno, FallocateMode, LockStatus, OpenFlags};
use ninefold_server::{
    DirSink, Handle, LockInfo, LockRequest, Node, Opened, PipeSink, Request, Result,
};
use rustix::fs::OFlags;

use super::bufpool::ReadBuf;
use super::fifo::{self, Pipe};
use super::flags;
use super::node::{blocking_as, cheap_as, errno, Kind, PassthroughNode, Shared};
use super::{splice, sys};

/// The state of one open fid: a host descriptor reopened from the node's
/// `O_PATH` descriptor, so it is also the owner of OFD locks.
#[derive(Debug)]
pub struct PassthroughHandle {
    pub(crate) fs: Arc<Shared>,
    pub(crate) fd: Arc<OwnedFd>,
    pub(crate) kind: Kind,
    readable: bool,
    writable: bool,
    /// Serialises seek + getdents on a directory descriptor.
    pub(crate) cursor: Arc<Mutex<()>>,
    /// A FIFO's reactor registration: its reads and writes wait there.
    pipe: Option<Pipe>,
    /// This handle's share of its connection's descriptor budget.
    charge: Option<super::budget::FdCharge>,
}

impl PassthroughHandle {
    /// Whether the handle was opened for writing.
    pub fn is_writable(&self) -> bool {
        self.writable
    }

    /// Whether the handle was opened for reading.
    pub fn is_readable(&self) -> bool {
        self.readable
    }
}

/// Checks whether an object of type `kind` may be opened at all.
pub(crate) fn check_openable(fs: &Shared, kind: Kind) -> Result<()> {
    match kind {
        // Reopening a symlink's O_PATH descriptor would be refused by the
        // kernel too (ELOOP); refusing first costs nothing.
        Kind::Symlink => Err(Errno::ELOOP),
        Kind::CharDev | Kind::BlockDev if !fs.opts.devices => Err(Errno::EACCES),
        Kind::Socket => Err(Errno::ENXIO),
        _ => Ok(()),
    }
}

impl PassthroughNode {
    pub(crate) async fn open_impl(&self, req: &Request, flags: OpenFlags) -> Result<Opened> {
        check_openable(&self.fs, self.kind)?;
        if flags::writes(flags) {
            self.writable()?;
            if self.kind == Kind::Dir {
                return Err(Errno::EISDIR);
            }
        }
        let Some(mut host) = flags::to_host(flags, self.fs.opts.keep_direct) else {
            // NOACCESS: a fid without data access; reads and writes on
            // the node answer EBADF.
            return Ok(Opened::node());
        };
        if self.kind == Kind::Dir {
            host |= OFlags::DIRECTORY;
        }
        let charge = self.fs.fds.charge(req)?;
        if self.kind == Kind::Fifo {
            let file = fifo::open(self, req, host).await?;
            let mut handle = PassthroughHandle::new(self.fs.clone(), file, self.kind, flags);
            handle.pipe = Some(Pipe::new(handle.fd.clone())?);
            handle.charge = charge;
            return Ok(Opened::with_handle(handle));
        }
        let fs = self.fs.clone();
        let fd = self.fd.clone();
        let kind = self.kind;
        let open = move || {
            let file = fs.reopen(&fd, host).map_err(errno)?;
            let mut handle = PassthroughHandle::new(fs, file, kind, flags);
            handle.charge = charge;
            Ok(handle)
        };
        // Opening a file or a directory is a metadata call (see
        // `cheap_as`); a device's open may wait on the device.
        let handle = if matches!(kind, Kind::File | Kind::Dir) {
            cheap_as(&self.fs, req, open).await?
        } else {
            blocking_as(&self.fs, req, open).await?
        };
        Ok(Opened::with_handle(handle))
    }

    /// `syncfs(2)` of the filesystem holding this node.
    pub(crate) async fn sync_fs_impl(&self, req: &Request) -> Result<()> {
        let fs = self.fs.clone();
        let fd = self.fd.clone();
        let flags = if self.kind == Kind::Dir { OFlags::DIRECTORY } else { OFlags::empty() };
        blocking_as(&self.fs, req, move || {
            let file = fs.reopen(&fd, OFlags::RDONLY | OFlags::NONBLOCK | flags).map_err(errno)?;
            rustix::fs::syncfs(&file).map_err(errno)
        })
        .await
    }

    pub(crate) async fn fsync_impl(&self, req: &Request, datasync: bool) -> Result<()> {
        if !matches!(self.kind, Kind::File | Kind::Dir) {
            return Ok(());
        }
        let fs = self.fs.clone();
        let fd = self.fd.clone();
        blocking_as(&self.fs, req, move || {
            let file = fs.reopen(&fd, OFlags::RDONLY | OFlags::NONBLOCK).map_err(errno)?;
            sync(&file, datasync)
        })
        .await
    }
}

fn sync(fd: &OwnedFd, datasync: bool) -> Result<()> {
    if datasync {
        rustix::fs::fdatasync(fd).map_err(errno)
    } else {
        rustix::fs::fsync(fd).map_err(errno)
    }
}

impl PassthroughHandle {
    pub(crate) fn new(
        fs: Arc<Shared>,
        fd: OwnedFd,
        kind: Kind,
        flags: OpenFlags,
    ) -> PassthroughHandle {
        let access = flags.access_mode();
        PassthroughHandle {
            fs,
            fd: Arc::new(fd),
            kind,
            readable: access.can_read(),
            writable: access.can_write(),
            cursor: Arc::new(Mutex::new(())),
            pipe: None,
            charge: None,
        }
    }
}

/// The node behind a handle's fid, when it is ours.
fn ours(node: &dyn Node) -> Result<&PassthroughNode> {
    let any: &dyn std::any::Any = node;
    any.downcast_ref::<PassthroughNode>().ok_or(Errno::EBADF)
}

#[async_trait]
impl Handle for PassthroughHandle {
    async fn read(
        &self,
        req: &Request,
        _node: &dyn Node,
        offset: u64,
        count: u32,
    ) -> Result<Bytes> {
        if !self.readable {
            return Err(Errno::EBADF);
        }
        if self.kind == Kind::Dir {
            return Err(Errno::EISDIR);
        }
        if let Some(pipe) = &self.pipe {
            return pipe.read(count).await;
        }
        if i64::try_from(offset).is_err() {
            return Err(Errno::EINVAL);
        }
        if count == 0 {
            return Ok(Bytes::new());
        }
        let want = count as usize;
        // Read straight into the buffer that goes to the socket (by
        // reference); large ones are reused across requests.
        let mut buf = ReadBuf::take(want);
        // What the page cache holds is read right here: the read needs no
        // credentials (the open was checked) and cannot wait for the
        // device. The rest, if any, is read on the blocking pool.
        if read_cached(&self.fd, &mut buf, want, offset)? {
            return Ok(buf.freeze());
        }
        let fd = self.fd.clone();
        blocking_as(&self.fs, req, move || {
            buf.pread(fd.as_fd(), want, offset, false)
                .map_err(|e| Errno::from_host(e.raw_os_error().unwrap_or(libc::EIO)))?;
            Ok(buf.freeze())
        })
        .await
    }

    async fn read_to_pipe(
        &self,
        req: &Request,
        _node: &dyn Node,
        offset: u64,
        count: u32,
        pipe: &PipeSink,
    ) -> Result<Option<u32>> {
        if !self.readable {
            return Err(Errno::EBADF);
        }
        // Regular files only (a FIFO's or a device's data is not in the
        // page cache; a directory is EISDIR from `read`).
        if self.kind != Kind::File || self.pipe.is_some() {
            return Ok(None);
        }
        if i64::try_from(offset).is_err() {
            return Err(Errno::EINVAL);
        }
        // Like `read`, no credentials are needed (the open was checked).
        match splice::inline(self.fd.as_fd(), offset, count) {
            splice::Inline::Cached => {
                return splice::fill(self.fd.as_fd(), offset, count, pipe.fd())
            }
            splice::Inline::Watched => {
                let (start, sleeps) = (std::time::Instant::now(), sys::thread_sleeps());
                let filled = splice::fill(self.fd.as_fd(), offset, count, pipe.fd());
                let elapsed = start.elapsed();
                // The second look at the thread's sleeps only for a slow one.
                if elapsed > splice::STALL {
                    splice::took(elapsed, sys::thread_sleeps() != sleeps);
                }
                return filled;
            }
            splice::Inline::No => {}
        }
        let (fd, w) = (self.fd.clone(), pipe.shared());
        blocking_as(&self.fs, req, move || splice::fill_owned(&fd, offset, count, &w)).await
    }

    async fn write(
        &self,
        req: &Request,
        _node: &dyn Node,
        offset: u64,
        data: Bytes,
    ) -> Result<u32> {
        if !self.writable {
            return Err(Errno::EBADF);
        }
        if let Some(pipe) = &self.pipe {
            return pipe.write(&data).await;
        }
        if i64::try_from(offset).is_err() {
            return Err(Errno::EINVAL);
        }
        // As the user: a write by a non-owner clears set-id bits. It runs
        // right here, as the user when the user's ids are known (see
        // `cheap_as`), unless writes have been stalling (see `inline`).
        let write = move |fd: &OwnedFd, data: &[u8]| {
            let n = rustix::io::pwrite(fd.as_fd(), data, offset).map_err(errno)?;
            u32::try_from(n).map_err(|_| Errno::EIO)
        };
        if self.fs.writes.inline(data.len()) {
            if let Some(guard) = self.fs.creds.enter_known(self.fs.who(req)) {
                let _guard = guard?;
                let (start, sleeps) = (std::time::Instant::now(), sys::thread_sleeps());
                let result = write(&self.fd, &data);
                self.fs.writes.took(start.elapsed(), sys::thread_sleeps() != sleeps);
                return result;
            }
        }
        let fd = self.fd.clone();
        blocking_as(&self.fs, req, move || write(&fd, &data)).await
    }

    async fn readdir(
        &self,
        _req: &Request,
        _node: &dyn Node,
        offset: u64,
        sink: &mut DirSink,
    ) -> Result<()> {
        self.readdir_impl(offset, sink).await
    }

    async fn setattr(&self, req: &Request, node: &dyn Node, attr: &SetAttr) -> Result<()> {
        let node = ours(node)?;
        let open = self.writable.then(|| self.fd.clone());
        node.setattr_impl(req, attr, open).await
    }

    async fn fsync(&self, req: &Request, _node: &dyn Node, datasync: bool) -> Result<()> {
        let fd = self.fd.clone();
        blocking_as(&self.fs, req, move || sync(&fd, datasync)).await
    }

    async fn fallocate(
        &self,
        req: &Request,
        _node: &dyn Node,
        offset: u64,
        length: u64,
        mode: FallocateMode,
    ) -> Result<()> {
        if !self.writable {
            return Err(Errno::EBADF);
        }
        if self.kind != Kind::File {
            return Err(if self.kind == Kind::Dir { Errno::EISDIR } else { Errno::ENODEV });
        }
        let flags = rustix::fs::FallocateFlags::from_bits_retain(mode.bits());
        let fd = self.fd.clone();
        blocking_as(&self.fs, req, move || {
            rustix::fs::fallocate(fd.as_fd(), flags, offset, length).map_err(errno)
        })
        .await
    }

    async fn lock(
        &self,
        req: &Request,
        _node: &dyn Node,
        lock: &LockRequest,
    ) -> Result<LockStatus> {
        self.lock_impl(req, lock).await
    }

    async fn getlock(
        &self,
        _req: &Request,
        _node: &dyn Node,
        probe: &LockRequest,
    ) -> Result<LockInfo> {
        self.getlock_impl(probe).await
    }

    async fn release(&self, _req: &Request, _node: &dyn Node) -> Result<()> {
        self.release_locks().await
    }
}

/// Reads into `buf` (up to `want` bytes) what the page cache holds at
/// `offset`: `true` when that is the answer (full, end of file, or an
/// error after some data), `false` when the rest must be read on the
/// blocking pool.
fn read_cached(fd: &OwnedFd, buf: &mut ReadBuf, want: usize, offset: u64) -> Result<bool> {
    while buf.len() < want {
        match buf.pread(fd.as_fd(), want, offset, true) {
            Ok(0) => break,
            Ok(_) => {}
            Err(e) if e.raw_os_error() == Some(libc::EINTR) => {}
            Err(e)
                if matches!(
                    e.raw_os_error(),
                    Some(libc::EAGAIN | libc::EOPNOTSUPP | libc::ENOSYS | libc::EINVAL)
                ) =>
            {
                return Ok(false);
            }
            Err(e) if buf.is_empty() => {
                return Err(Errno::from_host(e.raw_os_error().unwrap_or(libc::EIO)));
            }
            // An error after some data: the data is the answer.
            Err(_) => break,
        }
    }
    Ok(true)
}
