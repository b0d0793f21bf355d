//! The logical-operation layer: each public call of [`Client`], [`File`]
//! and [`Dir`] that talks to the server is one [`Op`], run by one runner
//! ([`Client::run`]).
//!
//! An op is a struct holding the call's arguments. It declares what it
//! runs on ([`On`]: paths from the attach root, a file, a directory, or two
//! directories), whether it changes server state ([`Op::mutates`]), and its
//! **plan**: the composition of message-level [`Session`] calls that does
//! the work on one connection. The runner owns everything around the plan:
//!
//! 1. *handle restore*: a file or directory whose fid lives on a dead
//!    connection walks its path again from the new root (and a file
//!    reopens) before the plan runs ([`File::live_fid`], [`Dir::live_fid`]);
//! 2. *retry*: a plan that fails because the connection is gone waits for
//!    the next connection ([`Client::wait_generation_after`]) and runs again
//!    from the start, so a mutation in flight at the drop can apply twice
//!    on plain 9P2000.L;
//! 3. everything else fails or succeeds once, as the plan says.
//!
//! A plan never retries a lost connection itself and never waits for a
//! reconnect; it only sends requests on [`Cx::session`].
//!
//! # Dialects and op ids
//!
//! A plan looks at [`Cx::dialect`] and takes the shortest composition the
//! connection offers: on `9P2000.L.Z` the one-round-trip private messages
//! (Twalkgetattr, Tlcreateattr, Tmkdirattr ..., see `docs/CLIENT.md` for
//! the round trips per call), on 9P2000.L the standard ones, on 9P2000.u
//! and 9P2000 Topen/Tcreate/Tstat/Twstat/Tremove, and
//! [`Error::Unsupported`] for what the dialect cannot express.
//!
//! [`Client::run`] mints one op id base per mutating op ([`Op::mutates`])
//! before its retry loop and runs every attempt inside it
//! (`crate::opid`): each enveloped request a plan sends gets an id derived
//! from it, the same on every attempt, with RETRY when it was sent before.
//! After [`RETRY_HORIZON`] (120 s) from the first send an op is no longer
//! re-sent. On plain dialects no envelope exists and a mutation in flight
//! at a drop can apply twice (the at-least-once caveat).
//!
//! Where a public call is several ops (`Client::write` = open + write,
//! `append`, `create_dir_all` = one mkdir per prefix, `remove_dir_all` =
//! a listing and removals, `read_dir` = open + batches), each op is
//! retried on its own; the composition lives in the public method and is
//! documented there. `Client::open` with `create` runs [`Open`] in rounds:
//! a create that loses the race against another creator ends its round
//! ([`Opened::Raced`]) and the next round is a new operation (with `.Z`, a
//! new op id, as the dialect requires).

mod dir;
mod file;
mod paths;
mod plan9;

pub(crate) use dir::*;
pub(crate) use file::*;
pub(crate) use paths::*;
pub(crate) use plan9::{meta_from_stat, open as plan9_open, readlink_any};

use std::future::Future;
use std::path::Path;
use std::sync::Arc;

use ninefold_proto::{Dialect, Errno, GetattrMask, OpenFlags, P9String, Qid, UnlinkatFlags};

use crate::client::Client;
use crate::dir::Dir;
use crate::error::{Error, Result};
use crate::file::File;
use crate::opid::{OpIds, RETRY_HORIZON};
use crate::options::{OpenOptions, SetAttrs};
use crate::path::{self, Resolved};
use crate::session::{Fid, Session};
use crate::types::Metadata;

/// One logical operation: its arguments, its facts and its plan.
pub(crate) trait Op: Sync {
    /// What the operation returns.
    type Output: Send;

    /// Name in traces.
    const NAME: &'static str;

    /// Whether the operation changes server state (what a `.Z` op id and
    /// the server's ledger are for; a plain re-send may apply it twice).
    fn mutates(&self) -> bool;

    /// What the plan runs on; the runner restores handles before it runs.
    fn on(&self) -> On<'_> {
        On::Root
    }

    /// The plain 9P2000.L plan: requests on `cx.session`, nothing else.
    fn plan(&self, cx: &Cx<'_>) -> impl Future<Output = Result<Self::Output>> + Send;
}

/// What an operation names on the server.
#[derive(Debug, Clone, Copy)]
pub(crate) enum On<'a> {
    /// Paths from the attach root of the current connection.
    Root,
    /// An open file ([`Cx::fid`]).
    File(&'a File),
    /// A directory ([`Cx::fid`]).
    Dir(&'a Dir),
    /// Two directories on one connection ([`Cx::fid`], [`Cx::fid2`]).
    Dirs(&'a Dir, &'a Dir),
}

/// One attempt of an operation: the connection it runs on and the fids
/// the runner restored on it.
pub(crate) struct Cx<'a> {
    /// The client (identity, options).
    pub(crate) client: &'a Client,
    /// Every request of this attempt goes here.
    pub(crate) session: Session,
    /// The attach root ([`On::Root`] operations).
    root: Option<Arc<Fid>>,
    fid: Option<Arc<Fid>>,
    fid2: Option<Arc<Fid>>,
}

impl Client {
    /// Runs one logical operation: restores its handles, runs its plan, and
    /// after a lost connection waits for the next one and runs it again.
    /// Clients without a reconnect supervisor return the error as is.
    pub(crate) async fn run<O: Op>(&self, op: O) -> Result<O::Output> {
        // The op id of a mutating op is minted here, once, outside the
        // loop: every attempt sends the same ids (RETRY on those already
        // sent, see `crate::opid`). Only `9P2000.L.Z` frames carry them.
        let ids = op.mutates().then(OpIds::mint);
        let mut attempt = 0u32;
        loop {
            let gen = self.generation();
            let res = match &ids {
                Some(ids) => {
                    ids.begin_attempt();
                    ids.scope(self.attempt(&op)).await
                }
                None => self.attempt(&op).await,
            };
            match res {
                Err(e) if e.is_disconnected() && self.reconnects() => {
                    tracing::debug!(
                        op = O::NAME,
                        mutates = op.mutates(),
                        gen,
                        attempt,
                        "connection lost; the operation runs again on the next one"
                    );
                    self.wait_generation_after(gen).await?;
                    if let Some(first) = ids.as_ref().and_then(|i| i.first_sent()) {
                        if first.elapsed() > RETRY_HORIZON {
                            return Err(Error::protocol(format!(
                                "9P connection lost: {} not re-sent, its {} s retry horizon passed",
                                O::NAME,
                                RETRY_HORIZON.as_secs()
                            )));
                        }
                    }
                    attempt = attempt.saturating_add(1);
                }
                Err(Error::Stale(why)) if ids.as_ref().is_some_and(|i| i.retried() > 0) => {
                    return Err(Error::Stale(format!(
                        "{} was re-sent after a reconnect and the server no longer knows it: \
                         outcome unknown ({why})",
                        O::NAME
                    )));
                }
                r => return r,
            }
        }
    }

    /// One attempt: the handles restored on the current connection, then
    /// the plan.
    async fn attempt<O: Op>(&self, op: &O) -> Result<O::Output> {
        let cx = match op.on() {
            On::Root => {
                let c = self.conn()?;
                Cx::new(self, c.session.clone(), Some(c.root.clone()), None, None)
            }
            On::File(f) => {
                let fid = f.live_fid().await?;
                Cx::new(self, fid.session(), None, Some(fid), None)
            }
            On::Dir(d) => {
                let fid = d.live_fid().await?;
                Cx::new(self, fid.session(), None, Some(fid), None)
            }
            On::Dirs(a, b) => {
                let fa = a.live_fid().await?;
                let fb = b.live_fid().await?;
                let s = fa.session();
                if !s.owns(&fb) {
                    // A reconnect fell between the two restores.
                    return Err(Error::disconnected());
                }
                Cx::new(self, s, None, Some(fa), Some(fb))
            }
        };
        op.plan(&cx).await
    }
}

impl<'a> Cx<'a> {
    fn new(
        client: &'a Client,
        session: Session,
        root: Option<Arc<Fid>>,
        fid: Option<Arc<Fid>>,
        fid2: Option<Arc<Fid>>,
    ) -> Cx<'a> {
        Cx { client, session, root, fid, fid2 }
    }

    /// The restored fid of the handle the operation runs on.
    pub(crate) fn fid(&self) -> Result<&Fid> {
        self.fid.as_deref().ok_or_else(|| Error::protocol("operation has no handle"))
    }

    /// The second directory of an [`On::Dirs`] operation.
    pub(crate) fn fid2(&self) -> Result<&Fid> {
        self.fid2.as_deref().ok_or_else(|| Error::protocol("operation has no second handle"))
    }

    fn root(&self) -> Result<&Fid> {
        self.root.as_deref().ok_or_else(|| Error::protocol("operation has no attach root"))
    }

    /// The connection's dialect.
    pub(crate) fn dialect(&self) -> Dialect {
        self.session.dialect()
    }

    /// Whether the connection speaks `9P2000.L.Z` (its one-round-trip
    /// messages are used).
    pub(crate) fn z(&self) -> bool {
        self.dialect() == Dialect::Z
    }

    /// Whether the connection speaks 9P2000 or 9P2000.u (Topen, Tcreate,
    /// Tstat, Twstat, Tremove instead of the .L messages).
    pub(crate) fn plan9(&self) -> bool {
        !self.dialect().is_dotl()
    }

    /// Metadata of a resolved path: from its walk when the walk returned
    /// attributes, else one Tgetattr (Tstat on 9P2000/.u).
    pub(crate) async fn meta_of(&self, r: &Resolved) -> Result<Metadata> {
        match &r.attr {
            Some(a) => Ok(Metadata::from_attr(a)),
            None => self.getattr(&r.fid).await,
        }
    }

    /// The gid new objects are created with.
    pub(crate) fn gid(&self) -> u32 {
        self.client.inner.opts.gid
    }

    /// Resolves `path` from the root (intermediate symlinks followed; the
    /// last one too when `follow`).
    pub(crate) async fn resolve(&self, path: &Path, follow: bool) -> Result<Resolved> {
        let names = path::components(path)?;
        path::resolve_attr(&self.session, self.root()?, names, follow).await
    }

    /// The parent directory's fid and the final name.
    pub(crate) async fn parent(&self, path: &Path) -> Result<(Fid, P9String)> {
        let (fid, name, _) = self.parent_full(path).await?;
        Ok((fid, name))
    }

    /// The parent directory's fid, the final name and the parent's
    /// canonical path.
    pub(crate) async fn parent_full(&self, path: &Path) -> Result<(Fid, P9String, Vec<P9String>)> {
        let (parent, name) = path::split_last(path)?;
        let r = path::resolve_attr(&self.session, self.root()?, parent, true).await?;
        Ok((r.fid, name, r.names))
    }

    /// Tgetattr of `fid` (Tstat on 9P2000/.u).
    pub(crate) async fn getattr(&self, fid: &Fid) -> Result<Metadata> {
        if self.plan9() {
            return self.stat9(fid).await;
        }
        let r = self.session.getattr(fid, GetattrMask::BASIC).await?;
        Ok(Metadata::from_attr(&r.attr))
    }

    /// Metadata of `name` in `dir` (not following a symlink): one
    /// Twalkgetattr on `9P2000.L.Z`, a walk and a getattr elsewhere.
    pub(crate) async fn getattr_at(&self, dir: &Fid, name: &[u8]) -> Result<Metadata> {
        if self.z() {
            let (_fid, _, attr) = self.session.walkgetattr(dir, &[name]).await?;
            return Ok(Metadata::from_attr(&attr));
        }
        let (fid, _) = self.session.walk(dir, &[name]).await?;
        self.getattr(&fid).await
    }

    /// The attribute change (unless `attrs` is empty), then the new
    /// metadata: one Tsetattrattr on `9P2000.L.Z`, Tsetattr + Tgetattr on
    /// 9P2000.L, Twstat + Tstat on 9P2000/.u.
    pub(crate) async fn setattr(&self, fid: &Fid, attrs: SetAttrs) -> Result<Metadata> {
        if self.plan9() {
            if !attrs.is_empty() {
                self.wstat9(fid, attrs).await?;
            }
            return self.stat9(fid).await;
        }
        if !attrs.is_empty() {
            let wire = attrs.to_wire()?;
            if self.z() {
                return Ok(Metadata::from_attr(&self.session.setattrattr(fid, wire).await?));
            }
            self.session.setattr(fid, wire).await?;
        }
        self.getattr(fid).await
    }

    /// mkdir of `name` in `dir`, returning its metadata: Tmkdirattr on
    /// `9P2000.L.Z`, Tmkdir + walk + Tgetattr on 9P2000.L, Tcreate with
    /// DMDIR on 9P2000/.u.
    pub(crate) async fn mkdir_in(&self, dir: &Fid, name: &[u8], mode: u32) -> Result<Metadata> {
        let mode = ninefold_proto::S_IFDIR | (mode & 0o7777);
        if self.plan9() {
            return self.mkdir9(dir, name, mode).await;
        }
        if self.z() {
            return Ok(Metadata::from_attr(
                &self.session.mkdirattr(dir, name, mode, self.gid()).await?,
            ));
        }
        self.session.mkdir(dir, name, mode, self.gid()).await?;
        self.getattr_at(dir, name).await
    }

    /// symlink `name` → `target` in `dir`, returning its metadata.
    pub(crate) async fn symlink_in(
        &self,
        dir: &Fid,
        name: &[u8],
        target: &[u8],
    ) -> Result<Metadata> {
        if self.plan9() {
            return self.symlink9(dir, name, target).await;
        }
        if self.z() {
            let a = self.session.symlinkattr(dir, name, target, self.gid()).await?;
            return Ok(Metadata::from_attr(&a));
        }
        self.session.symlink(dir, name, target, self.gid()).await?;
        self.getattr_at(dir, name).await
    }

    /// mknod `name` in `dir`, returning its metadata.
    pub(crate) async fn mknod_in(
        &self,
        dir: &Fid,
        name: &[u8],
        kind: crate::options::NodeKind,
        mode: u32,
    ) -> Result<Metadata> {
        if self.plan9() {
            return self.mknod9(dir, name, kind, mode).await;
        }
        let (ty, major, minor) = kind.wire();
        let mode = ty | (mode & 0o7777);
        if self.z() {
            let a = self.session.mknodattr(dir, name, mode, major, minor, self.gid()).await?;
            return Ok(Metadata::from_attr(&a));
        }
        self.session.mknod(dir, name, mode, major, minor, self.gid()).await?;
        self.getattr_at(dir, name).await
    }

    /// Hard link `name` in `dir` to the object `target` names, returning
    /// the linked object's metadata.
    pub(crate) async fn link_in(&self, dir: &Fid, target: &Fid, name: &[u8]) -> Result<Metadata> {
        if self.plan9() {
            return self.link9(dir, target, name).await;
        }
        if self.z() {
            return Ok(Metadata::from_attr(&self.session.linkattr(dir, target, name).await?));
        }
        self.session.link(dir, target, name).await?;
        self.getattr(target).await
    }

    /// The qid.path of the attach root of this attempt's connection.
    pub(crate) fn root_ino(&self) -> u64 {
        self.client.inner.conn_now().root_qid.path
    }

    /// Tunlinkat, falling back to Twalk + Tremove on servers that answer
    /// EOPNOTSUPP (as the Linux client does) and on 9P2000/.u.
    pub(crate) async fn unlink_in(
        &self,
        dir: &Fid,
        name: &[u8],
        flags: UnlinkatFlags,
    ) -> Result<()> {
        let s = &self.session;
        let res = if self.plan9() {
            Err(Error::Io(Errno::EOPNOTSUPP))
        } else {
            s.unlinkat(dir, name, flags).await
        };
        match res {
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
        let s = &self.session;
        if self.plan9() {
            return self.rename9(odir, oname, ndir, nname).await;
        }
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
        qid: Option<Qid>,
        names: Vec<P9String>,
        flags: OpenFlags,
        opts: &OpenOptions,
    ) -> Result<File> {
        let s = &self.session;
        let is_dir = qid.is_none_or(|q| q.is_dir());
        if is_dir && opts.write {
            return Err(Error::IsADirectory);
        }
        if self.plan9() {
            return self.open9(fid, names, flags, opts).await;
        }
        let (oqid, iounit) = s.lopen(&fid, flags).await?;
        if opts.truncate && opts.write {
            let attr = SetAttrs { size: Some(0), ..SetAttrs::default() }.to_wire()?;
            if self.z() {
                s.setattrattr(&fid, attr).await?;
            } else {
                s.setattr(&fid, attr).await?;
            }
        }
        Ok(File::new(self.client.clone(), fid, iounit, flags, names, oqid.path))
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
        let s = &self.session;
        path::check_name(name)?;
        if self.plan9() {
            return self.create9(dir, name, dir_names, flags, opts).await;
        }
        if self.z() {
            // Exclusive by definition: EEXIST for an existing name.
            let f = flags | OpenFlags::CREATE;
            let mode = ninefold_proto::S_IFREG | (opts.mode & 0o7777);
            let (fid, iounit, attr) = s.lcreateattr(dir, name, f, mode, self.gid()).await?;
            let path = child_path(dir_names, name);
            return Ok(File::new(self.client.clone(), fid, iounit, f, path, attr.qid.path));
        }
        let (fid, _) = s.walk::<&[u8]>(dir, &[]).await?;
        let mut f = flags | OpenFlags::CREATE;
        if excl {
            f |= OpenFlags::EXCL;
        }
        let (qid, iounit) = s.lcreate(&fid, name, f, opts.mode & 0o7777, self.gid()).await?;
        Ok(File::new(self.client.clone(), fid, iounit, f, child_path(dir_names, name), qid.path))
    }

    /// Walks to child directory `name` of `parent` (whose canonical path
    /// is `parent_names`).
    pub(crate) async fn open_dir_fid(
        &self,
        parent: &Fid,
        name: &[u8],
        parent_names: &[P9String],
    ) -> Result<Dir> {
        let (fid, qids) = self.session.walk(parent, &[name]).await?;
        let Some(qid) = qids.last().filter(|q| q.is_dir()) else {
            return Err(Error::NotADirectory);
        };
        Ok(Dir::new(self.client.clone(), fid, child_path(parent_names, name), qid.path))
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
