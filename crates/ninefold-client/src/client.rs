//! [`Client`]: the path-based API over one [`Session`].

use std::fmt;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock, Weak};
use std::time::Duration;

use tokio::sync::{oneshot, watch};

use bytes::{Bytes, BytesMut};
use ninefold_proto::{Errno, GetattrMask, OpenFlags, P9String, UnlinkatFlags, S_IFDIR};

use crate::dir::Dir;
use crate::error::{Error, Result};
use crate::file::File;
use crate::options::{ConnectOptions, NodeKind, OpenOptions, SetAttrs, SetTime};
use crate::path::{self, Resolved};
use crate::reconnect::{self, Conn};
use crate::session::{Fid, Session};
use crate::target::Target;
use crate::types::{Capabilities, Metadata, StatFs};

/// A connected, attached 9P2000.L client: one identity, one session, safe
/// to share across tasks (clones share the connection).
///
/// Paths are relative to the attach root (a leading `/` is optional) and
/// are bytes: any `impl AsRef<Path>`, non-UTF-8 names included. `.`
/// components are dropped and `..` is refused. Symlinks in the middle of a
/// path are followed client-side (at most 40); the final component is
/// followed only by [`metadata`](Client::metadata),
/// [`canonicalize`](Client::canonicalize) and the opening calls.
///
/// ```no_run
/// # async fn demo() -> ninefold_client::Result<()> {
/// use ninefold_client::{Client, OpenOptions};
///
/// let fs = Client::connect("tcp://127.0.0.1:5564").await?;
/// fs.create_dir_all("/demo", 0o755).await?;
/// fs.write("/demo/notes.txt", b"hello").await?;
/// assert_eq!(&fs.read("/demo/notes.txt").await?[..], b"hello");
/// let f = fs.open("/demo/data.bin", OpenOptions::new().write(true).create(true)).await?;
/// f.write_at(0, &[0u8; 4096]).await?;
/// f.sync_all().await?;
/// fs.remove_dir_all("/demo").await?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Client {
    pub(crate) inner: Arc<ClientInner>,
}

pub(crate) struct ClientInner {
    conn: RwLock<Arc<Conn>>,
    /// The current generation, for callers waiting on a reconnect.
    gen_tx: watch::Sender<u64>,
    pub(crate) opts: ConnectOptions,
    pub(crate) closed: AtomicBool,
    /// Whether a supervisor reconnects this client.
    reconnects: bool,
    /// Dropped with the client: stops the supervisor.
    _shutdown: Option<oneshot::Sender<()>>,
    /// Alive while the supervisor task runs.
    task_token: Weak<()>,
}

impl ClientInner {
    /// The current connection.
    pub(crate) fn conn_now(&self) -> Arc<Conn> {
        match self.conn.read() {
            Ok(c) => c.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Installs a new connection under the next generation; returns it.
    pub(crate) fn publish(&self, session: Session, root: Fid) -> u64 {
        let mut guard = match self.conn.write() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        };
        let gen = guard.gen + 1;
        *guard = Arc::new(Conn { session, root: Arc::new(root), gen });
        drop(guard);
        self.gen_tx.send_replace(gen);
        gen
    }
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("session", &self.inner.conn_now().session)
            .field("generation", &self.generation())
            .field("aname", &self.inner.opts.aname)
            .field("closed", &self.inner.closed.load(Ordering::Relaxed))
            .finish()
    }
}

/// Times a caller retries an open/create that races with another creator.
const CREATE_RETRIES: usize = 4;

impl Client {
    /// Connects to `target` with default [`ConnectOptions`].
    pub async fn connect(target: &str) -> Result<Client> {
        Client::connect_with(target, ConnectOptions::default()).await
    }

    /// Connects with explicit identity and tuning: dial, Tversion and
    /// Tattach, all bounded by `connect_timeout_ms`.
    ///
    /// The client then reconnects forever: when the connection drops, a
    /// background task dials again with exponential backoff (50 ms doubling
    /// to 5 s), redoes Tversion + Tattach with these options and replays
    /// state (open handles re-walk their path and reopen on next use).
    /// While the server is unreachable, calls block rather than fail; a
    /// call in flight at the drop is sent again, so a non-idempotent one
    /// (create, rename, unlink) can apply twice. The task ends when the
    /// client and every handle made from it are dropped.
    pub async fn connect_with(target: &str, opts: ConnectOptions) -> Result<Client> {
        let target = Target::parse(target)?;
        let fut = reconnect::connect_once(&target, &opts);
        let (session, root) = match opts.connect_timeout_ms {
            Some(ms) => {
                tokio::time::timeout(Duration::from_millis(ms), fut).await.map_err(|_| {
                    Error::ConnectFailed(format!("{target}: timed out after {ms} ms"))
                })??
            }
            None => fut.await?,
        };
        let (tx, rx) = oneshot::channel();
        let token = Arc::new(());
        let client = Client::build(session, root, opts.clone(), Some(tx), Arc::downgrade(&token));
        let weak = Arc::downgrade(&client.inner);
        tokio::spawn(reconnect::supervise(weak, target, opts, rx, token));
        Ok(client)
    }

    /// A client over an existing session and attached root fid (for
    /// sessions over custom transports). Such a client does not reconnect:
    /// once the session dies, calls fail with a protocol error.
    pub fn from_parts(session: Session, root: Fid, opts: ConnectOptions) -> Client {
        Client::build(session, root, opts, None, Weak::new())
    }

    fn build(
        session: Session,
        root: Fid,
        opts: ConnectOptions,
        shutdown: Option<oneshot::Sender<()>>,
        task_token: Weak<()>,
    ) -> Client {
        Client {
            inner: Arc::new(ClientInner {
                conn: RwLock::new(Arc::new(Conn { session, root: Arc::new(root), gen: 0 })),
                gen_tx: watch::Sender::new(0),
                opts,
                closed: AtomicBool::new(false),
                reconnects: shutdown.is_some(),
                _shutdown: shutdown,
                task_token,
            }),
        }
    }

    /// The current low-level session, for raw 9P calls (a new one after
    /// each reconnect).
    pub fn session(&self) -> Session {
        self.inner.conn_now().session.clone()
    }

    /// The current attach root fid (a new one after each reconnect).
    pub fn root_fid(&self) -> Arc<Fid> {
        self.inner.conn_now().root.clone()
    }

    /// How many times this client has reconnected (0 on the first
    /// connection).
    pub fn generation(&self) -> u64 {
        *self.inner.gen_tx.borrow()
    }

    /// A token that lives exactly as long as the reconnect task: once the
    /// client and its handles are dropped, `upgrade()` returns `None`
    /// (always `None` for [`from_parts`](Client::from_parts) clients).
    pub fn reconnect_task(&self) -> Weak<()> {
        self.inner.task_token.clone()
    }

    /// Whether a supervisor reconnects this client.
    pub(crate) fn reconnects(&self) -> bool {
        self.inner.reconnects
    }

    /// Waits until the generation is above `gen`.
    pub(crate) async fn wait_generation_after(&self, gen: u64) -> Result<()> {
        let mut rx = self.inner.gen_tx.subscribe();
        rx.wait_for(|g| *g > gen).await.map_err(|_| Error::disconnected())?;
        Ok(())
    }

    /// Negotiated properties of the current connection: a live snapshot
    /// that can change across reconnects.
    pub fn capabilities(&self) -> Capabilities {
        let s = self.session();
        Capabilities {
            extensions_v1: false,
            extensions_v2: false,
            msize: s.msize(),
            max_read_chunk: s.max_read_chunk(),
            max_write_chunk: s.max_write_chunk(),
        }
    }

    /// Marks the client closed: later calls (on it and its clones) fail
    /// with [`Error::Closed`]. Idempotent; never waits. Open handles keep
    /// working until closed or dropped; the connection ends when the last
    /// of them is gone.
    pub async fn close(&self) -> Result<()> {
        self.inner.closed.store(true, Ordering::Release);
        Ok(())
    }

    /// The current connection, or `Closed`.
    pub(crate) fn conn(&self) -> Result<Arc<Conn>> {
        if self.inner.closed.load(Ordering::Acquire) {
            return Err(Error::Closed);
        }
        Ok(self.inner.conn_now())
    }

    /// The session `fid` belongs to (every call naming it goes there), or
    /// `Closed`.
    pub(crate) fn on(&self, fid: &Fid) -> Result<Session> {
        if self.inner.closed.load(Ordering::Acquire) {
            return Err(Error::Closed);
        }
        Ok(fid.session())
    }

    /// The session both fids belong to; a lost-connection error when a
    /// reconnect fell between their walks (the caller starts over).
    pub(crate) fn on_both(&self, a: &Fid, b: &Fid) -> Result<Session> {
        let s = self.on(a)?;
        if !s.owns(b) {
            return Err(Error::disconnected());
        }
        Ok(s)
    }

    pub(crate) fn gid(&self) -> u32 {
        self.inner.opts.gid
    }

    /// Resolves `path` (intermediate symlinks followed; the last one too
    /// when `follow`).
    pub(crate) async fn resolve(&self, path: &Path, follow: bool) -> Result<Resolved> {
        let c = self.conn()?;
        let names = path::components(path)?;
        path::resolve(&c.session, &c.root, names, follow).await
    }

    /// The parent directory's fid and the final name.
    pub(crate) async fn parent(&self, path: &Path) -> Result<(Fid, P9String)> {
        let (fid, name, _) = self.parent_full(path).await?;
        Ok((fid, name))
    }

    /// The parent directory's fid, the final name and the parent's
    /// canonical path.
    pub(crate) async fn parent_full(&self, path: &Path) -> Result<(Fid, P9String, Vec<P9String>)> {
        let c = self.conn()?;
        let (parent, name) = path::split_last(path)?;
        let r = path::resolve(&c.session, &c.root, parent, true).await?;
        Ok((r.fid, name, r.names))
    }

    pub(crate) async fn getattr(&self, fid: &Fid) -> Result<Metadata> {
        let r = self.on(fid)?.getattr(fid, GetattrMask::BASIC).await?;
        Ok(Metadata::from_attr(&r.attr))
    }

    /// Metadata of `name` in `dir` (not following a symlink).
    pub(crate) async fn getattr_at(&self, dir: &Fid, name: &[u8]) -> Result<Metadata> {
        let (fid, _) = self.on(dir)?.walk(dir, &[name]).await?;
        self.getattr(&fid).await
    }

    // ---- whole-file I/O ----

    /// Reads the whole file.
    pub async fn read(&self, path: impl AsRef<Path>) -> Result<Bytes> {
        let f = self.open(path, OpenOptions::new().read(true)).await?;
        let size = f.metadata().await?.size;
        let first = f.read_at(0, size.min(usize::MAX as u64) as usize).await?;
        if (first.len() as u64) < size {
            return Ok(first);
        }
        // The file may have grown: read on until a short read.
        let mut more = BytesMut::new();
        let chunk = self.capabilities().max_read_chunk as usize;
        loop {
            let off = size + more.len() as u64;
            let b = f.read_at(off, chunk).await?;
            if b.is_empty() {
                break;
            }
            more.extend_from_slice(&b);
        }
        if more.is_empty() {
            return Ok(first);
        }
        let mut all = BytesMut::with_capacity(first.len() + more.len());
        all.extend_from_slice(&first);
        all.extend_from_slice(&more);
        Ok(all.freeze())
    }

    /// Up to `len` bytes at `offset`; a short result is end of file.
    pub async fn read_range(
        &self,
        path: impl AsRef<Path>,
        offset: u64,
        len: usize,
    ) -> Result<Bytes> {
        let f = self.open(path, OpenOptions::new().read(true)).await?;
        f.read_at(offset, len).await
    }

    /// Creates or truncates the file, then writes all of `data`.
    pub async fn write(&self, path: impl AsRef<Path>, data: impl AsRef<[u8]>) -> Result<()> {
        let opts = OpenOptions::new().write(true).create(true).truncate(true);
        let f = self.open(path, opts).await?;
        f.write_at(0, data.as_ref()).await
    }

    /// Appends `data` at the end of the file (created if missing) and
    /// returns the offset it landed at. Not atomic against other writers.
    pub async fn append(&self, path: impl AsRef<Path>, data: impl AsRef<[u8]>) -> Result<u64> {
        let f = self.open(path, OpenOptions::new().write(true).create(true)).await?;
        let at = f.metadata().await?.size;
        f.write_at(at, data.as_ref()).await?;
        Ok(at)
    }

    // ---- metadata ----

    /// Metadata, not following a final symlink.
    pub async fn stat(&self, path: impl AsRef<Path>) -> Result<Metadata> {
        let path = path.as_ref();
        retry!(self, async {
            let r = self.resolve(path, false).await?;
            self.getattr(&r.fid).await
        })
    }

    /// Metadata, following symlinks (at most 40 hops).
    pub async fn metadata(&self, path: impl AsRef<Path>) -> Result<Metadata> {
        let path = path.as_ref();
        retry!(self, async {
            let r = self.resolve(path, true).await?;
            self.getattr(&r.fid).await
        })
    }

    /// The path with every symlink resolved, from the attach root.
    pub async fn canonicalize(&self, path: impl AsRef<Path>) -> Result<Bytes> {
        let path = path.as_ref();
        retry!(self, async {
            let r = self.resolve(path, true).await?;
            Ok(path::join(&r.names))
        })
    }

    /// Whether anything exists at `path` (a final symlink is not followed).
    pub async fn exists(&self, path: impl AsRef<Path>) -> Result<bool> {
        let path = path.as_ref();
        retry!(self, async {
            match self.resolve(path, false).await {
                Ok(_) => Ok(true),
                Err(Error::NotFound) | Err(Error::NotADirectory) => Ok(false),
                Err(e) => Err(e),
            }
        })
    }

    /// Applies `attrs` (a final symlink is not followed) and returns the
    /// new metadata.
    pub async fn set_attr(&self, path: impl AsRef<Path>, attrs: SetAttrs) -> Result<Metadata> {
        let path = path.as_ref();
        retry!(self, async {
            let r = self.resolve(path, false).await?;
            if !attrs.is_empty() {
                self.on(&r.fid)?.setattr(&r.fid, attrs.to_wire()?).await?;
            }
            self.getattr(&r.fid).await
        })
    }

    /// Sets the permission bits.
    pub async fn chmod(&self, path: impl AsRef<Path>, mode: u32) -> Result<Metadata> {
        self.set_attr(path, SetAttrs { mode: Some(mode), ..SetAttrs::default() }).await
    }

    /// Changes owner and/or group; `None` leaves one unchanged.
    pub async fn chown(
        &self,
        path: impl AsRef<Path>,
        uid: Option<u32>,
        gid: Option<u32>,
    ) -> Result<Metadata> {
        self.set_attr(path, SetAttrs { uid, gid, ..SetAttrs::default() }).await
    }

    /// Truncates or extends to `size`.
    pub async fn truncate(&self, path: impl AsRef<Path>, size: u64) -> Result<Metadata> {
        self.set_attr(path, SetAttrs { size: Some(size), ..SetAttrs::default() }).await
    }

    /// Sets access and/or modification time; `None` leaves one unchanged.
    pub async fn set_times(
        &self,
        path: impl AsRef<Path>,
        atime: Option<SetTime>,
        mtime: Option<SetTime>,
    ) -> Result<Metadata> {
        self.set_attr(path, SetAttrs { atime, mtime, ..SetAttrs::default() }).await
    }

    /// Filesystem usage and limits.
    pub async fn statfs(&self) -> Result<StatFs> {
        retry!(self, async {
            let c = self.conn()?;
            Ok(c.session.statfs(&c.root).await?.into())
        })
    }

    /// Flushes to durable storage. Plain 9P2000.L has no filesystem-wide
    /// sync: this fsyncs the attach root directory (servers such as diod
    /// then sync that directory; durable file data needs
    /// [`File::sync_all`]).
    pub async fn sync(&self) -> Result<()> {
        retry!(self, async {
            let c = self.conn()?;
            let s = &c.session;
            let (fid, _) = s.walk::<&[u8]>(&c.root, &[]).await?;
            s.lopen(&fid, OpenFlags::RDONLY | OpenFlags::DIRECTORY).await?;
            s.fsync(&fid, false).await
        })
    }

    // ---- namespace ----

    /// Creates a directory (the parent must exist).
    pub async fn create_dir(&self, path: impl AsRef<Path>, mode: u32) -> Result<Metadata> {
        let path = path.as_ref();
        retry!(self, async {
            let (dir, name) = self.parent(path).await?;
            self.on(&dir)?.mkdir(&dir, &name, S_IFDIR | (mode & 0o7777), self.gid()).await?;
            self.getattr_at(&dir, &name).await
        })
    }

    /// Creates a directory and any missing ancestors. Succeeds when the
    /// path already is a directory (or a symlink to one).
    pub async fn create_dir_all(&self, path: impl AsRef<Path>, mode: u32) -> Result<()> {
        let names = path::components(path.as_ref())?;
        for i in 1..=names.len() {
            let prefix = path::join(&names[..i]);
            let p = bytes_path(&prefix);
            match self.create_dir(&p, mode).await {
                Ok(_) | Err(Error::AlreadyExists) => {}
                Err(e) => return Err(e),
            }
        }
        if self.metadata(path).await?.is_dir() {
            Ok(())
        } else {
            Err(Error::NotADirectory)
        }
    }

    /// Removes a file, symlink or device node.
    pub async fn remove_file(&self, path: impl AsRef<Path>) -> Result<()> {
        let path = path.as_ref();
        retry!(self, async {
            let (dir, name) = self.parent(path).await?;
            self.unlink_in(&dir, &name, UnlinkatFlags::empty()).await
        })
    }

    /// Removes an empty directory.
    pub async fn remove_dir(&self, path: impl AsRef<Path>) -> Result<()> {
        let path = path.as_ref();
        retry!(self, async {
            let (dir, name) = self.parent(path).await?;
            self.unlink_in(&dir, &name, UnlinkatFlags::REMOVEDIR).await
        })
    }

    /// Removes a directory and everything under it (not atomic). Refuses
    /// the attach root.
    pub async fn remove_dir_all(&self, path: impl AsRef<Path>) -> Result<()> {
        let path = path.as_ref();
        retry!(self, async {
            let (parent, name, pnames) = self.parent_full(path).await?;
            let dir = self.open_dir_fid(&parent, &name, &pnames).await?;
            dir.remove_contents().await?;
            drop(dir);
            self.unlink_in(&parent, &name, UnlinkatFlags::REMOVEDIR).await
        })
    }

    /// Renames atomically, replacing an existing target.
    pub async fn rename(&self, from: impl AsRef<Path>, to: impl AsRef<Path>) -> Result<()> {
        let (from, to) = (from.as_ref(), to.as_ref());
        retry!(self, async {
            let (odir, oname) = self.parent(from).await?;
            let (ndir, nname) = self.parent(to).await?;
            self.rename_in(&odir, &oname, &ndir, &nname).await
        })
    }

    /// A new name `link` for the inode at `original`.
    pub async fn hard_link(
        &self,
        original: impl AsRef<Path>,
        link: impl AsRef<Path>,
    ) -> Result<Metadata> {
        let (original, link) = (original.as_ref(), link.as_ref());
        retry!(self, async {
            let target = self.resolve(original, false).await?;
            let (dir, name) = self.parent(link).await?;
            self.on_both(&dir, &target.fid)?.link(&dir, &target.fid, &name).await?;
            self.getattr(&target.fid).await
        })
    }

    /// A symlink at `link_path` whose target is stored verbatim.
    pub async fn symlink(
        &self,
        target: impl AsRef<Path>,
        link_path: impl AsRef<Path>,
    ) -> Result<Metadata> {
        let link_path = link_path.as_ref();
        let tgt = path::path_bytes(target.as_ref());
        retry!(self, async {
            let (dir, name) = self.parent(link_path).await?;
            self.on(&dir)?.symlink(&dir, &name, &tgt, self.gid()).await?;
            self.getattr_at(&dir, &name).await
        })
    }

    /// The raw target of a symlink.
    pub async fn read_link(&self, path: impl AsRef<Path>) -> Result<Bytes> {
        let path = path.as_ref();
        retry!(self, async {
            let r = self.resolve(path, false).await?;
            self.on(&r.fid)?.readlink(&r.fid).await
        })
    }

    /// Creates a FIFO, socket or device node.
    pub async fn mknod(
        &self,
        path: impl AsRef<Path>,
        kind: NodeKind,
        mode: u32,
    ) -> Result<Metadata> {
        let path = path.as_ref();
        let (ty, major, minor) = kind.wire();
        retry!(self, async {
            let (dir, name) = self.parent(path).await?;
            let s = self.on(&dir)?;
            s.mknod(&dir, &name, ty | (mode & 0o7777), major, minor, self.gid()).await?;
            self.getattr_at(&dir, &name).await
        })
    }

    // ---- handles ----

    /// The whole directory (without `.` and `..`).
    pub async fn read_dir(&self, path: impl AsRef<Path>) -> Result<Vec<crate::DirEntry>> {
        let dir = self.open_dir(path).await?;
        let mut all = Vec::new();
        loop {
            let batch = dir.next_batch(None).await?;
            if batch.is_empty() {
                return Ok(all);
            }
            all.extend(batch);
        }
    }

    /// A directory handle: listing cursor plus `*_at` operations.
    pub async fn open_dir(&self, path: impl AsRef<Path>) -> Result<Dir> {
        let path = path.as_ref();
        retry!(self, async {
            let r = self.resolve(path, true).await?;
            if let Some(q) = r.qid {
                if !q.is_dir() {
                    return Err(Error::NotADirectory);
                }
            }
            Ok(Dir::new(self.clone(), r.fid, r.names))
        })
    }

    /// Walks to child directory `name` of `parent` (whose canonical path
    /// is `parent_names`).
    pub(crate) async fn open_dir_fid(
        &self,
        parent: &Fid,
        name: &[u8],
        parent_names: &[P9String],
    ) -> Result<Dir> {
        let (fid, qids) = self.on(parent)?.walk(parent, &[name]).await?;
        if !qids.last().is_some_and(|q| q.is_dir()) {
            return Err(Error::NotADirectory);
        }
        Ok(Dir::new(self.clone(), fid, child_path(parent_names, name)))
    }

    /// Opens a file for positioned I/O.
    pub async fn open(&self, path: impl AsRef<Path>, opts: OpenOptions) -> Result<File> {
        let path = path.as_ref();
        let flags = access_flags(&opts)?;
        retry!(self, async {
            if opts.create_new {
                let (dir, name, dnames) = self.parent_full(path).await?;
                return self.create_in(&dir, &name, &dnames, flags, &opts, true).await;
            }
            for _ in 0..CREATE_RETRIES {
                match self.resolve(path, true).await {
                    Ok(r) => return self.open_fid(r.fid, r.qid, r.names, flags, &opts).await,
                    Err(Error::NotFound) if opts.create => {
                        let (dir, name, dnames) = self.parent_full(path).await?;
                        match self.create_in(&dir, &name, &dnames, flags, &opts, false).await {
                            Err(Error::AlreadyExists) => continue,
                            other => return other,
                        }
                    }
                    Err(e) => return Err(e),
                }
            }
            Err(Error::Io(ninefold_proto::Errno::EAGAIN))
        })
    }

    /// Read-write, create, truncate, mode 0o644.
    pub async fn create(&self, path: impl AsRef<Path>) -> Result<File> {
        self.open(path, OpenOptions::new().read(true).write(true).create(true).truncate(true)).await
    }

    /// Tunlinkat, falling back to Twalk + Tremove on servers that answer
    /// EOPNOTSUPP (as the Linux client does).
    pub(crate) async fn unlink_in(
        &self,
        dir: &Fid,
        name: &[u8],
        flags: UnlinkatFlags,
    ) -> Result<()> {
        let s = self.on(dir)?;
        match s.unlinkat(dir, name, flags).await {
            Err(Error::Io(e)) if e == Errno::EOPNOTSUPP || e == Errno::ENOSYS => {
                let (fid, qids) = s.walk(dir, &[name]).await?;
                let is_dir = qids.last().is_some_and(|q| q.is_dir());
                if flags.contains(UnlinkatFlags::REMOVEDIR) && !is_dir {
                    return Err(Error::NotADirectory);
                }
                if !flags.contains(UnlinkatFlags::REMOVEDIR) && is_dir {
                    return Err(Error::IsADirectory);
                }
                s.remove(fid).await
            }
            other => other,
        }
    }

    /// Trenameat, falling back to Twalk + Trename on servers that answer
    /// EOPNOTSUPP (as the Linux client does).
    pub(crate) async fn rename_in(
        &self,
        odir: &Fid,
        oname: &[u8],
        ndir: &Fid,
        nname: &[u8],
    ) -> Result<()> {
        let s = self.on_both(odir, ndir)?;
        match s.renameat(odir, oname, ndir, nname).await {
            Err(Error::Io(e)) if e == Errno::EOPNOTSUPP || e == Errno::ENOSYS => {
                path::check_name(nname)?;
                let (fid, _) = s.walk(odir, &[oname]).await?;
                s.rename(&fid, ndir, nname).await
            }
            other => other,
        }
    }

    /// Opens an already-walked fid (whose canonical path is `names`).
    pub(crate) async fn open_fid(
        &self,
        fid: Fid,
        qid: Option<ninefold_proto::Qid>,
        names: Vec<P9String>,
        flags: OpenFlags,
        opts: &OpenOptions,
    ) -> Result<File> {
        let s = self.on(&fid)?;
        let is_dir = qid.is_none_or(|q| q.is_dir());
        if is_dir && opts.write {
            return Err(Error::IsADirectory);
        }
        let (_qid, iounit) = s.lopen(&fid, flags).await?;
        if opts.truncate && opts.write {
            let attr = SetAttrs { size: Some(0), ..SetAttrs::default() }.to_wire()?;
            s.setattr(&fid, attr).await?;
        }
        Ok(File::new(self.clone(), fid, iounit, flags, names))
    }

    /// Tlcreate of `name` in `dir` (exclusive when `excl`); `dir_names` is
    /// the directory's canonical path.
    pub(crate) async fn create_in(
        &self,
        dir: &Fid,
        name: &[u8],
        dir_names: &[P9String],
        flags: OpenFlags,
        opts: &OpenOptions,
        excl: bool,
    ) -> Result<File> {
        let s = self.on(dir)?;
        path::check_name(name)?;
        let (fid, _) = s.walk::<&[u8]>(dir, &[]).await?;
        let mut f = flags | OpenFlags::CREATE;
        if excl {
            f |= OpenFlags::EXCL;
        }
        let (_qid, iounit) = s.lcreate(&fid, name, f, opts.mode & 0o7777, self.gid()).await?;
        Ok(File::new(self.clone(), fid, iounit, f, child_path(dir_names, name)))
    }
}

/// `dir` + `name`, a canonical path.
pub(crate) fn child_path(dir: &[P9String], name: &[u8]) -> Vec<P9String> {
    let mut v = dir.to_vec();
    v.push(name.to_vec().into());
    v
}

/// The Tlopen access mode for `opts`.
pub(crate) fn access_flags(opts: &OpenOptions) -> Result<OpenFlags> {
    match (opts.read, opts.write) {
        (true, true) => Ok(OpenFlags::RDWR),
        (false, true) => Ok(OpenFlags::WRONLY),
        (true, false) => Ok(OpenFlags::RDONLY),
        (false, false) => Err(Error::invalid("open needs read or write access")),
    }
}

/// A path from raw bytes.
pub(crate) fn bytes_path(b: &[u8]) -> std::path::PathBuf {
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        std::path::PathBuf::from(std::ffi::OsStr::from_bytes(b))
    }
    #[cfg(not(unix))]
    {
        std::path::PathBuf::from(String::from_utf8_lossy(b).into_owned())
    }
}
