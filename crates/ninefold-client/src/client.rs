//! [`Client`]: the path-based API over one [`Session`].

use std::collections::HashMap;
use std::fmt;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock, Weak};
use std::time::Duration;

use tokio::sync::{oneshot, watch};

use bytes::Bytes;
use ninefold_proto::{Errno, Qid, UnlinkatFlags};

use crate::dir::Dir;
use crate::error::{Error, Result};
use crate::file::{File, FileInner};
use crate::op;
use crate::options::{ConnectOptions, NodeKind, OpenOptions, SetAttrs, SetTime};
use crate::path;
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
    /// Bounds the handle restores running at once after a reconnect.
    pub(crate) restores: tokio::sync::Semaphore,
    /// Files with acknowledged writes not yet synced (for `sync`).
    unsynced: Mutex<HashMap<usize, Weak<FileInner>>>,
}

impl ClientInner {
    /// Registers a file with unsynced writes.
    pub(crate) fn register_unsynced(&self, f: &Arc<FileInner>) {
        if let Ok(mut m) = self.unsynced.lock() {
            m.entry(Arc::as_ptr(f) as usize).or_insert_with(|| Arc::downgrade(f));
        }
    }

    /// Forgets a file whose writes are synced.
    pub(crate) fn unregister_unsynced(&self, f: &Arc<FileInner>) {
        if let Ok(mut m) = self.unsynced.lock() {
            m.remove(&(Arc::as_ptr(f) as usize));
        }
    }

    /// The live files with unsynced writes.
    fn unsynced_files(&self) -> Vec<File> {
        let Ok(mut m) = self.unsynced.lock() else { return Vec::new() };
        m.retain(|_, w| w.strong_count() > 0);
        m.values().filter_map(Weak::upgrade).map(File::from_inner).collect()
    }

    /// The current connection.
    pub(crate) fn conn_now(&self) -> Arc<Conn> {
        match self.conn.read() {
            Ok(c) => c.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Installs a new connection under the next generation; returns it.
    pub(crate) fn publish(&self, session: Session, root: Fid, root_qid: Qid) -> u64 {
        let mut guard = match self.conn.write() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        };
        let gen = guard.gen + 1;
        *guard = Arc::new(Conn { session, root: Arc::new(root), root_qid, gen });
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
    /// With [`ConnectOptions::auth`] (or a target ending in
    /// `?auth=NAME&key-file=PATH` or `?auth=NAME&key-env=VAR`, which sets
    /// it) the attach is authenticated with the ninefold Tauth scheme, at
    /// connect and at every reconnect; a refusal is
    /// [`Error::AuthFailed`].
    ///
    /// The client then reconnects forever: when the connection drops, a
    /// background task dials again with exponential backoff (50 ms doubling
    /// to 5 s), redoes Tversion + Tattach with these options and replays
    /// state (open handles re-walk their path and reopen on next use).
    /// While the server is unreachable, calls block rather than fail; a
    /// call in flight at the drop is sent again, so a non-idempotent one
    /// (create, rename, unlink) can apply twice. The task ends when the
    /// client and every handle made from it are dropped.
    pub async fn connect_with(target: &str, mut opts: ConnectOptions) -> Result<Client> {
        let (target, key) = crate::session::split_target(target)?;
        if key.is_some() {
            opts.auth = key;
        }
        let target = Target::parse(&target)?;
        let fut = reconnect::connect_once(&target, &opts);
        let (session, root, root_qid) = match opts.connect_timeout_ms {
            Some(ms) => {
                tokio::time::timeout(Duration::from_millis(ms), fut).await.map_err(|_| {
                    Error::ConnectFailed(format!("{target}: timed out after {ms} ms"))
                })??
            }
            None => fut.await?,
        };
        let (tx, rx) = oneshot::channel();
        let token = Arc::new(());
        let client =
            Client::build(session, root, root_qid, opts.clone(), Some(tx), Arc::downgrade(&token));
        let weak = Arc::downgrade(&client.inner);
        tokio::spawn(reconnect::supervise(weak, target, opts, rx, token));
        Ok(client)
    }

    /// A client over an existing session and attached root fid (for
    /// sessions over custom transports). Such a client does not reconnect:
    /// once the session dies, calls fail with a protocol error.
    pub fn from_parts(session: Session, root: Fid, opts: ConnectOptions) -> Client {
        Client::build(session, root, Qid::default(), opts, None, Weak::new())
    }

    fn build(
        session: Session,
        root: Fid,
        root_qid: Qid,
        opts: ConnectOptions,
        shutdown: Option<oneshot::Sender<()>>,
        task_token: Weak<()>,
    ) -> Client {
        Client {
            inner: Arc::new(ClientInner {
                conn: RwLock::new(Arc::new(Conn {
                    session,
                    root: Arc::new(root),
                    root_qid,
                    gen: 0,
                })),
                gen_tx: watch::Sender::new(0),
                opts,
                closed: AtomicBool::new(false),
                reconnects: shutdown.is_some(),
                _shutdown: shutdown,
                task_token,
                restores: tokio::sync::Semaphore::new(crate::restore::RESTORE_CONCURRENCY),
                unsynced: Mutex::new(HashMap::new()),
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
        let z = s.dialect() == ninefold_proto::Dialect::Z;
        Capabilities {
            dialect: s.dialect(),
            extensions_v1: z,
            extensions_v2: z,
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

    // ---- whole-file I/O ----

    /// Reads the whole file. The size the server reports decides only how
    /// much is asked for: buffers grow by what actually arrives, and the
    /// file is read on past that size until an empty read.
    pub async fn read(&self, path: impl AsRef<Path>) -> Result<Bytes> {
        self.run(op::ReadWhole { path: path.as_ref() }).await
    }

    /// Up to `len` bytes at `offset`; a short result is end of file.
    pub async fn read_range(
        &self,
        path: impl AsRef<Path>,
        offset: u64,
        len: usize,
    ) -> Result<Bytes> {
        self.run(op::ReadRange { path: path.as_ref(), offset, len }).await
    }

    /// Creates or truncates the file, then writes all of `data` (two
    /// operations: the open and the write, each retried on its own).
    pub async fn write(&self, path: impl AsRef<Path>, data: impl AsRef<[u8]>) -> Result<()> {
        let opts = OpenOptions::new().write(true).create(true).truncate(true);
        let f = self.open(path, opts).await?;
        f.write_at(0, data.as_ref()).await
    }

    /// Appends `data` at the end of the file (created if missing) and
    /// returns the offset it landed at. Not atomic against other writers.
    /// Three operations (open, metadata, write at that size), so a write
    /// re-sent after a reconnect lands at the same offset.
    pub async fn append(&self, path: impl AsRef<Path>, data: impl AsRef<[u8]>) -> Result<u64> {
        let f = self.open(path, OpenOptions::new().write(true).create(true)).await?;
        let at = f.metadata().await?.size;
        f.write_at(at, data.as_ref()).await?;
        Ok(at)
    }

    // ---- metadata ----

    /// Metadata, not following a final symlink.
    pub async fn stat(&self, path: impl AsRef<Path>) -> Result<Metadata> {
        self.run(op::Stat { path: path.as_ref(), follow: false }).await
    }

    /// Metadata, following symlinks (at most 40 hops).
    pub async fn metadata(&self, path: impl AsRef<Path>) -> Result<Metadata> {
        self.run(op::Stat { path: path.as_ref(), follow: true }).await
    }

    /// The path with every symlink resolved, from the attach root.
    pub async fn canonicalize(&self, path: impl AsRef<Path>) -> Result<Bytes> {
        self.run(op::Canonicalize { path: path.as_ref() }).await
    }

    /// Whether anything exists at `path` (a final symlink is not followed).
    pub async fn exists(&self, path: impl AsRef<Path>) -> Result<bool> {
        self.run(op::Exists { path: path.as_ref() }).await
    }

    /// Applies `attrs` (a final symlink is not followed) and returns the
    /// new metadata.
    pub async fn set_attr(&self, path: impl AsRef<Path>, attrs: SetAttrs) -> Result<Metadata> {
        self.run(op::SetAttr { path: path.as_ref(), attrs }).await
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
        self.run(op::Statfs).await
    }

    /// Flushes everything to durable storage.
    ///
    /// On `9P2000.L.Z` this is one Tfsyncdur of the attach root with
    /// filesystem scope, checked against the lineage token of the oldest
    /// write not yet synced: [`Error::Stale`] when the server's lineage
    /// changed since (writes acknowledged before may be lost).
    ///
    /// Plain dialects have no filesystem-wide sync: the client fsyncs every
    /// open handle it knows has unsynced writes (Tfsync; on 9P2000/.u the
    /// Twstat sync request), at most 16 at once, then the attach root
    /// directory. Writes made through other clients, or through handles
    /// already dropped, are not covered there.
    pub async fn sync(&self) -> Result<()> {
        let files = self.inner.unsynced_files();
        if self.conn()?.session.dialect() == ninefold_proto::Dialect::Z {
            let since: Vec<_> = files.iter().map(|f| f.unsynced_since()).collect();
            let token = since.iter().flatten().map(|u| u.token).filter(|&t| t != 0).min();
            let token = token.unwrap_or(0);
            self.run(op::SyncFs { token }).await?;
            for (f, s) in files.iter().zip(since) {
                f.mark_synced(s);
            }
            return Ok(());
        }
        use futures_util::stream::{self, StreamExt, TryStreamExt};
        stream::iter(files)
            .map(|f| async move {
                match f.sync_all().await {
                    Err(Error::Closed) => Ok(()),
                    other => other,
                }
            })
            .buffer_unordered(16)
            .try_collect::<()>()
            .await?;
        self.run(op::SyncRoot).await
    }

    // ---- namespace ----

    /// Creates a directory (the parent must exist).
    pub async fn create_dir(&self, path: impl AsRef<Path>, mode: u32) -> Result<Metadata> {
        self.run(op::Mkdir { path: path.as_ref(), mode }).await
    }

    /// Creates a directory and any missing ancestors. Succeeds when the
    /// path already is a directory (or a symlink to one). One
    /// [`create_dir`](Client::create_dir) per prefix, then a
    /// [`metadata`](Client::metadata).
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
        self.run(op::Unlink { path: path.as_ref(), flags: UnlinkatFlags::empty() }).await
    }

    /// Removes an empty directory.
    pub async fn remove_dir(&self, path: impl AsRef<Path>) -> Result<()> {
        self.run(op::Unlink { path: path.as_ref(), flags: UnlinkatFlags::REMOVEDIR }).await
    }

    /// Removes a directory and everything under it (not atomic). Refuses
    /// the attach root. A composition: the directory is opened (its final
    /// component not followed), emptied depth first with [`Dir`]
    /// operations, then removed.
    pub async fn remove_dir_all(&self, path: impl AsRef<Path>) -> Result<()> {
        let path = path.as_ref();
        let dir = self.run(op::OpenChildDir { path }).await?;
        dir.remove_contents().await?;
        drop(dir);
        self.remove_dir(path).await
    }

    /// Renames atomically, replacing an existing target.
    pub async fn rename(&self, from: impl AsRef<Path>, to: impl AsRef<Path>) -> Result<()> {
        self.run(op::Rename { from: from.as_ref(), to: to.as_ref() }).await
    }

    /// A new name `link` for the inode at `original`.
    pub async fn hard_link(
        &self,
        original: impl AsRef<Path>,
        link: impl AsRef<Path>,
    ) -> Result<Metadata> {
        self.run(op::HardLink { original: original.as_ref(), link: link.as_ref() }).await
    }

    /// A symlink at `link_path` whose target is stored verbatim.
    pub async fn symlink(
        &self,
        target: impl AsRef<Path>,
        link_path: impl AsRef<Path>,
    ) -> Result<Metadata> {
        let target = path::path_bytes(target.as_ref());
        self.run(op::Symlink { target: &target, link_path: link_path.as_ref() }).await
    }

    /// The raw target of a symlink.
    pub async fn read_link(&self, path: impl AsRef<Path>) -> Result<Bytes> {
        self.run(op::ReadLink { path: path.as_ref() }).await
    }

    /// Creates a FIFO, socket or device node.
    pub async fn mknod(
        &self,
        path: impl AsRef<Path>,
        kind: NodeKind,
        mode: u32,
    ) -> Result<Metadata> {
        self.run(op::Mknod { path: path.as_ref(), kind, mode }).await
    }

    // ---- handles ----

    /// The whole directory (without `.` and `..`): an
    /// [`open_dir`](Client::open_dir), then [`Dir::next_batch`] until the
    /// end.
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
        self.run(op::OpenDir { path: path.as_ref() }).await
    }

    /// Opens a file for positioned I/O.
    ///
    /// With `create` (not `create_new`), a file that appears between the
    /// walk and the create (another creator won) is opened in a new round;
    /// each round is its own operation, and after 4 lost races the call
    /// fails with EAGAIN.
    pub async fn open(&self, path: impl AsRef<Path>, opts: OpenOptions) -> Result<File> {
        let path = path.as_ref();
        for _ in 0..CREATE_RETRIES {
            match self.run(op::Open { path, opts: &opts }).await? {
                op::Opened::File(f) => return Ok(f),
                op::Opened::Raced => continue,
            }
        }
        Err(Error::Io(Errno::EAGAIN))
    }

    /// Read-write, create, truncate, mode 0o644.
    pub async fn create(&self, path: impl AsRef<Path>) -> Result<File> {
        self.open(path, OpenOptions::new().read(true).write(true).create(true).truncate(true)).await
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
