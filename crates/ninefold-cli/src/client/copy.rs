//! Moving data: `cat`, and `get`, `put`, `cp` over one copy engine whose
//! two ends are each the local disk or a server.
//!
//! A file is streamed through a small channel: a reader task fetches the
//! next chunk (a pipelined multi-request read on a server, a blocking read
//! on a thread locally) while the writer stores the previous one. A tree
//! is planned first (an iterative walk), then its directories are made in
//! order and its files copied `--jobs` at a time; directory permissions
//! (and with `-p` times) are applied last, deepest first.

use std::ffi::OsString;
use std::fs;
use std::io::{IsTerminal, Read};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::os::unix::fs::{DirBuilderExt, FileExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use futures_util::stream::{self, StreamExt, TryStreamExt};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use ninefold_client::{
    Client, Errno, Error, FileType, Metadata, OpenOptions, SetAttrs, SetTime, Timestamp,
};
use tokio::sync::mpsc;

use super::args::{CatArgs, CopyArgs};
use super::info::{open, Out};
use super::walk::{self, Event, WalkOpts};
use super::{Ctx, Failure};

/// Bytes per local read and per channel message.
const LOCAL_CHUNK: usize = 4 << 20;

/// Chunks buffered between a reader and a writer.
const CHANNEL_DEPTH: usize = 16;

/// Which side a path is on.
#[derive(Clone, Debug)]
enum Side {
    Local,
    Remote(Client),
}

/// A path on one side, with how to name it in messages.
#[derive(Clone, Debug)]
struct Ep {
    side: Side,
    path: PathBuf,
}

/// What the engine needs to know of a source object.
#[derive(Clone, Copy, Debug)]
struct FMeta {
    ty: FileType,
    size: u64,
    perm: u32,
    atime: Timestamp,
    mtime: Timestamp,
}

impl From<Metadata> for FMeta {
    fn from(m: Metadata) -> FMeta {
        FMeta {
            ty: m.file_type,
            size: m.size,
            perm: m.permissions(),
            atime: m.atime,
            mtime: m.mtime,
        }
    }
}

impl From<&fs::Metadata> for FMeta {
    fn from(m: &fs::Metadata) -> FMeta {
        use std::os::unix::fs::MetadataExt;
        let ft = m.file_type();
        use std::os::unix::fs::FileTypeExt;
        let ty = if ft.is_dir() {
            FileType::Dir
        } else if ft.is_symlink() {
            FileType::Symlink
        } else if ft.is_file() {
            FileType::File
        } else if ft.is_fifo() {
            FileType::Fifo
        } else if ft.is_socket() {
            FileType::Socket
        } else if ft.is_char_device() {
            FileType::CharDevice
        } else if ft.is_block_device() {
            FileType::BlockDevice
        } else {
            FileType::Unknown
        };
        FMeta {
            ty,
            size: m.len(),
            perm: m.mode() & 0o7777,
            atime: Timestamp { secs: m.atime(), nanos: m.atime_nsec() as u32 },
            mtime: Timestamp { secs: m.mtime(), nanos: m.mtime_nsec() as u32 },
        }
    }
}

impl Ep {
    fn show(&self) -> String {
        self.path.display().to_string()
    }

    fn join(&self, rel: &Path) -> Ep {
        let path = if rel.as_os_str().is_empty() { self.path.clone() } else { self.path.join(rel) };
        Ep { side: self.side.clone(), path }
    }

    fn err(&self, e: &Error) -> Failure {
        Failure::at(self.show(), e)
    }

    fn io_err(&self, e: &std::io::Error) -> Failure {
        Failure::local(self.show(), e)
    }

    /// Metadata (following a final symlink when `follow`); `None` when
    /// nothing is there.
    async fn stat(&self, follow: bool) -> Result<Option<FMeta>, Failure> {
        match &self.side {
            Side::Remote(c) => {
                let r =
                    if follow { c.metadata(&self.path).await } else { c.stat(&self.path).await };
                match r {
                    Ok(m) => Ok(Some(m.into())),
                    Err(Error::NotFound) => Ok(None),
                    Err(e) => Err(self.err(&e)),
                }
            }
            Side::Local => {
                let r = if follow {
                    fs::metadata(&self.path)
                } else {
                    fs::symlink_metadata(&self.path)
                };
                match r {
                    Ok(m) => Ok(Some((&m).into())),
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
                    Err(e) => Err(self.io_err(&e)),
                }
            }
        }
    }

    /// Makes this directory (an existing directory is fine).
    async fn mkdir(&self, perm: u32) -> Result<(), Failure> {
        let exists_as_dir =
            || async { matches!(self.stat(false).await, Ok(Some(m)) if m.ty == FileType::Dir) };
        match &self.side {
            Side::Remote(c) => match c.create_dir(&self.path, perm).await {
                Ok(_) => Ok(()),
                Err(Error::AlreadyExists) if exists_as_dir().await => Ok(()),
                Err(Error::AlreadyExists) => Err(self.not_dir()),
                Err(e) => Err(self.err(&e)),
            },
            Side::Local => {
                let r = fs::DirBuilder::new().mode(perm).create(&self.path);
                match r {
                    Ok(()) => Ok(()),
                    Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                        if exists_as_dir().await {
                            Ok(())
                        } else {
                            Err(self.not_dir())
                        }
                    }
                    Err(e) => Err(self.io_err(&e)),
                }
            }
        }
    }

    fn not_dir(&self) -> Failure {
        Failure::At {
            what: self.show(),
            msg: "cannot overwrite non-directory with directory".into(),
        }
    }

    async fn read_link(&self) -> Result<Vec<u8>, Failure> {
        match &self.side {
            Side::Remote(c) => {
                c.read_link(&self.path).await.map(|b| b.to_vec()).map_err(|e| self.err(&e))
            }
            Side::Local => fs::read_link(&self.path)
                .map(|p| p.into_os_string().into_vec())
                .map_err(|e| self.io_err(&e)),
        }
    }

    async fn symlink(&self, target: &[u8]) -> Result<(), Failure> {
        let t = Path::new(std::ffi::OsStr::from_bytes(target));
        // Replace an existing non-directory, as cp does.
        if let Ok(Some(m)) = self.stat(false).await {
            if m.ty != FileType::Dir {
                self.remove_file().await?;
            }
        }
        match &self.side {
            Side::Remote(c) => c.symlink(t, &self.path).await.map(|_| ()).map_err(|e| self.err(&e)),
            Side::Local => std::os::unix::fs::symlink(t, &self.path).map_err(|e| self.io_err(&e)),
        }
    }

    async fn remove_file(&self) -> Result<(), Failure> {
        match &self.side {
            Side::Remote(c) => c.remove_file(&self.path).await.map_err(|e| self.err(&e)),
            Side::Local => fs::remove_file(&self.path).map_err(|e| self.io_err(&e)),
        }
    }

    /// Sets permission bits, and times when given.
    async fn finish(
        &self,
        perm: Option<u32>,
        times: Option<(Timestamp, Timestamp)>,
    ) -> Result<(), Failure> {
        match &self.side {
            Side::Remote(c) => {
                let attrs = SetAttrs {
                    mode: perm,
                    atime: times.map(|t| SetTime::At(t.0)),
                    mtime: times.map(|t| SetTime::At(t.1)),
                    ..SetAttrs::default()
                };
                c.set_attr(&self.path, attrs).await.map(|_| ()).map_err(|e| self.err(&e))
            }
            Side::Local => {
                if let Some(p) = perm {
                    fs::set_permissions(&self.path, fs::Permissions::from_mode(p))
                        .map_err(|e| self.io_err(&e))?;
                }
                if let Some((a, m)) = times {
                    let f = fs::File::open(&self.path).map_err(|e| self.io_err(&e))?;
                    let t = fs::FileTimes::new().set_accessed(a.into()).set_modified(m.into());
                    f.set_times(t).map_err(|e| self.io_err(&e))?;
                }
                Ok(())
            }
        }
    }
}

/// Starts a task streaming the file at `src` in chunks. Unless
/// `known_file` (the caller has seen its metadata), a directory is refused
/// (Tlopen of a directory for reading succeeds on 9P).
fn spawn_reader(src: &Ep, known_file: bool) -> mpsc::Receiver<Result<Bytes, Failure>> {
    let (tx, rx) = mpsc::channel(CHANNEL_DEPTH);
    let src = src.clone();
    match src.side.clone() {
        Side::Remote(client) => {
            tokio::spawn(async move {
                let r = async {
                    let f = client
                        .open(&src.path, OpenOptions::new().read(true))
                        .await
                        .map_err(|e| src.err(&e))?;
                    if !known_file && f.metadata().await.map_err(|e| src.err(&e))?.is_dir() {
                        return Err(src.err(&Error::IsADirectory));
                    }
                    // One request per read (its reply is handed over
                    // uncopied), PIPELINE_DEPTH of them in flight.
                    let chunk = client.capabilities().max_read_chunk.max(4096) as usize;
                    let f = &f;
                    let mut reads = stream::iter((0u64..).map(|i| i * chunk as u64))
                        .map(|off| async move { f.read_at(off, chunk).await })
                        .buffered(ninefold_client::PIPELINE_DEPTH);
                    while let Some(r) = reads.next().await {
                        let b = r.map_err(|e| src.err(&e))?;
                        let n = b.len();
                        if n == 0 {
                            return Ok(());
                        }
                        if tx.send(Ok(b)).await.is_err() || n < chunk {
                            // A short read is the end of the file.
                            return Ok(());
                        }
                    }
                    Ok(())
                }
                .await;
                if let Err(f) = r {
                    let _ = tx.send(Err(f)).await;
                }
            });
        }
        Side::Local => {
            tokio::task::spawn_blocking(move || {
                let r = (|| {
                    let mut f = fs::File::open(&src.path).map_err(|e| src.io_err(&e))?;
                    if f.metadata().map_err(|e| src.io_err(&e))?.is_dir() {
                        return Err(Failure::errno(src.show(), Errno::EISDIR));
                    }
                    loop {
                        let mut buf = BytesMut::zeroed(LOCAL_CHUNK);
                        let mut n = 0;
                        while n < buf.len() {
                            match f.read(&mut buf[n..]) {
                                Ok(0) => break,
                                Ok(k) => n += k,
                                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                                Err(e) => return Err(src.io_err(&e)),
                            }
                        }
                        if n == 0 {
                            return Ok(());
                        }
                        buf.truncate(n);
                        if tx.blocking_send(Ok(buf.freeze())).is_err() {
                            return Ok(());
                        }
                    }
                })();
                if let Err(f) = r {
                    let _ = tx.blocking_send(Err(f));
                }
            });
        }
    }
    rx
}

/// Copies the file `src` to `dst` (created with `perm`, or truncated).
async fn copy_file(
    src: &Ep,
    dst: &Ep,
    m: FMeta,
    preserve: bool,
    bar: &ProgressBar,
) -> Result<(), Failure> {
    // Opening a directory for writing fails with EISDIR on both sides.
    let mut rx = spawn_reader(src, true);
    match &dst.side {
        Side::Remote(client) => {
            // Most targets are new: an exclusive create costs one round trip
            // less than looking the name up first.
            let new = OpenOptions::new().write(true).create_new(true).mode(m.perm);
            let f = match client.open(&dst.path, new).await {
                Err(Error::AlreadyExists) => {
                    let opts =
                        OpenOptions::new().write(true).create(true).truncate(true).mode(m.perm);
                    client.open(&dst.path, opts).await
                }
                r => r,
            }
            .map_err(|e| dst.err(&e))?;
            let chunks = stream::unfold((&mut rx, 0u64), |(rx, off)| async move {
                let item = rx.recv().await?;
                Some(match item {
                    Ok(b) => {
                        let len = b.len() as u64;
                        (Ok((off, b)), (rx, off + len))
                    }
                    Err(f) => (Err(f), (rx, off)),
                })
            });
            chunks
                .map(|r| {
                    let f = &f;
                    async move {
                        let (off, b) = r?;
                        let n = b.len() as u64;
                        f.write_at_bytes(off, b).await.map_err(|e| dst.err(&e))?;
                        bar.inc(n);
                        Ok::<_, Failure>(())
                    }
                })
                .buffer_unordered(2)
                .try_collect::<()>()
                .await?;
            if preserve {
                let attrs = SetAttrs {
                    atime: Some(SetTime::At(m.atime)),
                    mtime: Some(SetTime::At(m.mtime)),
                    ..SetAttrs::default()
                };
                f.set_attr(attrs).await.map_err(|e| dst.err(&e))?;
            }
            f.close().await.map_err(|e| dst.err(&e))?;
        }
        Side::Local => {
            let file = fs::OpenOptions::new()
                .write(true)
                .create(true)
                .truncate(true)
                .mode(m.perm)
                .open(&dst.path)
                .map_err(|e| dst.io_err(&e))?;
            let file = Arc::new(file);
            let mut off = 0u64;
            while let Some(item) = rx.recv().await {
                let b = item?;
                let n = b.len() as u64;
                let f = file.clone();
                let at = off;
                tokio::task::spawn_blocking(move || f.write_all_at(&b, at))
                    .await
                    .map_err(|e| Failure::msg(format!("writer task failed: {e}")))?
                    .map_err(|e| dst.io_err(&e))?;
                off += n;
                bar.inc(n);
            }
            if preserve {
                let t =
                    fs::FileTimes::new().set_accessed(m.atime.into()).set_modified(m.mtime.into());
                file.set_times(t).map_err(|e| dst.io_err(&e))?;
            }
        }
    }
    Ok(())
}

/// One object of a planned copy.
#[derive(Debug)]
struct PlanItem {
    rel: PathBuf,
    meta: FMeta,
}

/// Everything below (and including) the directory `src`, pre-order.
async fn plan(src: &Ep, root: FMeta) -> (Vec<PlanItem>, Vec<Failure>) {
    match &src.side {
        Side::Remote(c) => {
            let Ok(m) = c.stat(&src.path).await else {
                return (vec![PlanItem { rel: PathBuf::new(), meta: root }], Vec::new());
            };
            let (events, errors) = walk::walk(
                c,
                &src.path,
                m,
                WalkOpts { meta: true, skip_hidden: false, max_depth: None },
            )
            .await;
            let items = events
                .into_iter()
                .filter_map(|e| match e {
                    Event::Enter(i) => i.meta.map(|m| PlanItem { rel: i.rel, meta: m.into() }),
                    Event::Exit(_) => None,
                })
                .collect();
            (items, errors)
        }
        Side::Local => {
            let mut items = Vec::new();
            let mut errors = Vec::new();
            let mut stack = vec![PlanItem { rel: PathBuf::new(), meta: root }];
            while let Some(item) = stack.pop() {
                let is_dir = item.meta.ty == FileType::Dir;
                let rel = item.rel.clone();
                items.push(item);
                if !is_dir {
                    continue;
                }
                let dir = src.path.join(&rel);
                let rd = match fs::read_dir(&dir) {
                    Ok(rd) => rd,
                    Err(e) => {
                        errors.push(Failure::local(dir.display(), &e));
                        continue;
                    }
                };
                let mut kids: Vec<(OsString, FMeta)> = Vec::new();
                for ent in rd {
                    match ent.and_then(|e| Ok((e.file_name(), fs::symlink_metadata(e.path())?))) {
                        Ok((name, m)) => kids.push((name, (&m).into())),
                        Err(e) => errors.push(Failure::local(dir.display(), &e)),
                    }
                }
                kids.sort_by(|a, b| b.0.cmp(&a.0));
                for (name, m) in kids {
                    stack.push(PlanItem { rel: rel.join(name), meta: m });
                }
            }
            (items, errors)
        }
    }
}

/// A progress bar on standard error when it is a terminal.
fn progress(total: u64, enabled: bool) -> ProgressBar {
    if !enabled || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
    if let Ok(style) = ProgressStyle::with_template(
        "{msg:>12} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
    ) {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.enable_steady_tick(Duration::from_millis(200));
    bar
}

/// Copies `src` (whose metadata is `m`) to exactly `dst`.
async fn copy_one(
    ctx: &mut Ctx,
    src: &Ep,
    m: FMeta,
    dst: &Ep,
    a: &CopyArgs,
) -> Result<(), Failure> {
    if m.ty != FileType::Dir {
        if m.ty != FileType::File {
            return Err(Failure::At {
                what: src.show(),
                msg: "not a regular file or directory; skipped".into(),
            });
        }
        let bar = progress(m.size, !a.no_progress);
        let r = copy_file(src, dst, m, a.preserve, &bar).await;
        bar.finish_and_clear();
        return r;
    }
    if !a.recursive {
        return Err(Failure::At {
            what: src.show(),
            msg: "Is a directory (use -r to copy a tree)".into(),
        });
    }
    let (items, errors) = plan(src, m).await;
    for f in errors {
        ctx.report(f)?;
    }
    let total: u64 =
        items.iter().filter(|i| i.meta.ty == FileType::File).map(|i| i.meta.size).sum();
    let nfiles = items.iter().filter(|i| i.meta.ty != FileType::Dir).count();
    let bar = progress(total, !a.no_progress);
    bar.set_message(format!("0/{nfiles}"));
    // Directories first, in order, writable by us until the end.
    for i in items.iter().filter(|i| i.meta.ty == FileType::Dir) {
        let d = dst.join(&i.rel);
        if let Err(f) = d.mkdir(i.meta.perm | 0o700).await {
            bar.finish_and_clear();
            return Err(f);
        }
    }
    let done = std::sync::atomic::AtomicUsize::new(0);
    let results: Vec<Result<(), Failure>> =
        stream::iter(items.iter().filter(|i| i.meta.ty != FileType::Dir))
            .map(|i| {
                let (s, d, bar, done) = (src.join(&i.rel), dst.join(&i.rel), &bar, &done);
                async move {
                    let r = match i.meta.ty {
                        FileType::File => copy_file(&s, &d, i.meta, a.preserve, bar).await,
                        FileType::Symlink => match s.read_link().await {
                            Ok(t) => d.symlink(&t).await,
                            Err(f) => Err(f),
                        },
                        _ => {
                            Err(Failure::At { what: s.show(), msg: "special file skipped".into() })
                        }
                    };
                    let n = done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
                    bar.set_message(format!("{n}/{nfiles}"));
                    r
                }
            })
            .buffer_unordered(a.jobs.max(1))
            .collect()
            .await;
    bar.finish_and_clear();
    for r in results {
        ctx.check(r)?;
    }
    // Directory permissions (and times) last, deepest first.
    for i in items.iter().rev().filter(|i| i.meta.ty == FileType::Dir) {
        let times = a.preserve.then_some((i.meta.atime, i.meta.mtime));
        let r = dst.join(&i.rel).finish(Some(i.meta.perm), times).await;
        ctx.check(r)?;
    }
    Ok(())
}

/// Copies each source into `dest` (into it when it is a directory).
async fn copy_all(ctx: &mut Ctx, srcs: Vec<Ep>, dest: Ep, a: &CopyArgs) -> Result<(), Failure> {
    let into = matches!(dest.stat(true).await, Ok(Some(m)) if m.ty == FileType::Dir);
    if srcs.len() > 1 && !into {
        return Err(Failure::errno(dest.show(), Errno::ENOTDIR));
    }
    for src in srcs {
        let r = async {
            let m =
                src.stat(true).await?.ok_or_else(|| Failure::errno(src.show(), Errno::ENOENT))?;
            let target = match (into, src.path.file_name()) {
                (true, Some(name)) => dest.join(Path::new(name)),
                _ => dest.clone(),
            };
            if let (Side::Local, Side::Local) = (&src.side, &target.side) {
                if same_file(&src.path, &target.path) {
                    return Err(Failure::At {
                        what: src.show(),
                        msg: "source and destination are the same file".into(),
                    });
                }
            }
            copy_one(ctx, &src, m, &target, a).await
        }
        .await;
        ctx.check(r)?;
    }
    Ok(())
}

fn same_file(a: &Path, b: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (fs::metadata(a), fs::metadata(b)) {
        (Ok(x), Ok(y)) => x.dev() == y.dev() && x.ino() == y.ino(),
        _ => false,
    }
}

/// A remote operand as an endpoint.
async fn remote(ctx: &mut Ctx, s: &str) -> Result<Ep, Failure> {
    let (client, path, _) = open(ctx, s).await?;
    Ok(Ep { side: Side::Remote(client), path })
}

fn local(s: &str) -> Ep {
    Ep { side: Side::Local, path: PathBuf::from(s) }
}

/// `get REMOTE... [LOCAL]`.
pub(crate) async fn get(ctx: &mut Ctx, a: CopyArgs) -> Result<(), Failure> {
    let (dest, srcs) = match a.operands.as_slice() {
        [one] => (".".to_string(), vec![one.clone()]),
        [srcs @ .., dest] => (dest.clone(), srcs.to_vec()),
        [] => return Err(Failure::usage("missing operands")),
    };
    let mut eps = Vec::new();
    for s in &srcs {
        match remote(ctx, s).await {
            Ok(ep) => eps.push(ep),
            Err(f) => ctx.report(f)?,
        }
    }
    copy_all(ctx, eps, local(&dest), &a).await
}

/// `put LOCAL... REMOTE`.
pub(crate) async fn put(ctx: &mut Ctx, a: CopyArgs) -> Result<(), Failure> {
    let [srcs @ .., dest] = a.operands.as_slice() else {
        return Err(Failure::usage("missing operands"));
    };
    if srcs.is_empty() {
        return Err(Failure::usage(format!("missing destination after {dest:?}")));
    }
    let dest = remote(ctx, dest).await?;
    let eps = srcs.iter().map(|s| local(s)).collect();
    copy_all(ctx, eps, dest, &a).await
}

/// Whether a `cp` operand names a server: a `tcp://`, `tls://` or `unix:` location,
/// or `HOST:PORT[/PATH]` / `[V6]:PORT[/PATH]`. Anything else is local
/// (write `./host:1/x` for a local file of that name).
fn is_remote(s: &str) -> bool {
    if s.starts_with("tcp://") || s.starts_with("tls://") || s.starts_with("unix:") {
        return true;
    }
    if s.starts_with('/') || s.starts_with('.') {
        return false;
    }
    let authority = match s.strip_prefix('[') {
        Some(rest) => match rest.split_once(']') {
            Some((_, tail)) => tail.split('/').next().unwrap_or(""),
            None => return false,
        },
        None => s.split('/').next().unwrap_or(""),
    };
    match authority.rsplit_once(':') {
        Some((host, port)) => {
            (!host.is_empty() || s.starts_with('['))
                && !port.is_empty()
                && port.bytes().all(|b| b.is_ascii_digit())
        }
        None => false,
    }
}

/// `cp SOURCE... DEST`, each end local or remote.
pub(crate) async fn cp(ctx: &mut Ctx, a: CopyArgs) -> Result<(), Failure> {
    let [srcs @ .., dest] = a.operands.as_slice() else {
        return Err(Failure::usage("missing operands"));
    };
    if srcs.is_empty() {
        return Err(Failure::usage(format!("missing destination after {dest:?}")));
    }
    if !is_remote(dest) && !srcs.iter().any(|s| is_remote(s)) {
        return Err(Failure::usage(
            "no operand names a server (write tcp://HOST:PORT/PATH, HOST:PORT/PATH or unix:SOCKET:PATH); use cp(1) for local copies",
        ));
    }
    let dest = if is_remote(dest) { remote(ctx, dest).await? } else { local(dest) };
    let mut eps = Vec::new();
    for s in srcs {
        if is_remote(s) {
            match remote(ctx, s).await {
                Ok(ep) => eps.push(ep),
                Err(f) => ctx.report(f)?,
            }
        } else {
            eps.push(local(s));
        }
    }
    copy_all(ctx, eps, dest, &a).await
}

/// `cat`.
pub(crate) async fn cat(ctx: &mut Ctx, a: CatArgs) -> Result<(), Failure> {
    let mut out = Out::new();
    for s in &a.paths {
        let ep = match remote(ctx, s).await {
            Ok(ep) => ep,
            Err(f) => {
                ctx.report(f)?;
                continue;
            }
        };
        let mut rx = spawn_reader(&ep, false);
        while let Some(item) = rx.recv().await {
            match item {
                Ok(b) => out.bytes(&b)?,
                Err(f) => {
                    out.flush()?;
                    ctx.report(f)?;
                    break;
                }
            }
        }
    }
    out.flush()
}

#[cfg(test)]
mod tests {
    use super::is_remote;

    #[test]
    fn remote_operands() {
        for s in [
            "tcp://h:1/a",
            "tls://h:1/a?ca=c",
            "unix:/s:/a",
            "h:1/a",
            "127.0.0.1:5564",
            "[::1]:5/a",
            "h:1",
        ] {
            assert!(is_remote(s), "{s}");
        }
        for s in ["file", "dir/file", "./h:1/a", "/abs/x", "a:b", "c:/x", "h:/x"] {
            assert!(!is_remote(s), "{s}");
        }
    }
}
