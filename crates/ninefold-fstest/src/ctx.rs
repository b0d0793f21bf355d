//! The per-case context: a session, the case's scratch directory, and ways
//! to open more connections.

use std::future::Future;
use std::ops::{Deref, DerefMut};
use std::pin::Pin;

use ninefold_proto::l::Tmkdir;
use ninefold_proto::{Dialect, DirentType, OpenFlags, UnlinkatFlags};

use crate::config::Config;
use crate::conn::RawConn;
use crate::expect::{expect_msg, Stop, R};
use crate::session::{connect_versioned, Creds, Session};
use crate::target::Target;

/// What a case gets: the main session (dereferences to it), the fid of its
/// own scratch directory and the run's configuration.
pub(crate) struct Ctx<'t> {
    pub(crate) s: Session,
    /// An unopened fid on the scratch directory.
    pub(crate) dir: u32,
    /// The scratch directory's name under the attach root.
    pub(crate) dir_name: String,
    pub(crate) cfg: &'t Config,
    target: &'t dyn Target,
}

impl std::fmt::Debug for Ctx<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ctx").field("dir_name", &self.dir_name).finish_non_exhaustive()
    }
}

impl Deref for Ctx<'_> {
    type Target = Session;
    fn deref(&self) -> &Session {
        &self.s
    }
}

impl DerefMut for Ctx<'_> {
    fn deref_mut(&mut self) -> &mut Session {
        &mut self.s
    }
}

pub(crate) fn main_creds(cfg: &Config) -> Creds {
    Creds { uname: cfg.uname.clone(), uid: cfg.uid, gid: cfg.gid }
}

impl<'t> Ctx<'t> {
    /// Opens the main session in `dialect` and creates the scratch
    /// directory `dir_name` under the attach root.
    pub(crate) async fn setup(
        target: &'t dyn Target,
        cfg: &'t Config,
        dialect: Dialect,
        dir_name: String,
    ) -> R<Ctx<'t>> {
        let mut s = Session::open(target, cfg, dialect, &cfg.aname, &main_creds(cfg)).await?;
        let dir = if dialect.is_dotl() {
            let root = s.root;
            s.mkdir(root, &dir_name, 0o755).await?;
            s.walk(root, &[&dir_name]).await?
        } else {
            crate::cases::legacy::make_scratch(&mut s, &dir_name).await?
        };
        Ok(Ctx { s, dir, dir_name, cfg, target })
    }

    /// The dialect of the main session.
    pub(crate) fn dialect(&self) -> Dialect {
        self.s.c.dialect()
    }

    /// What sessions need to open more connections; owns nothing but
    /// shared references, so futures built from it are `Send`.
    pub(crate) fn env(&self) -> Env<'t> {
        Env {
            target: self.target,
            cfg: self.cfg,
            dialect: self.dialect(),
            dir_name: self.dir_name.clone(),
        }
    }

    /// A second session in the same dialect, same credentials.
    pub(crate) fn session(&self) -> impl Future<Output = R<Session>> + Send + 't {
        let e = self.env();
        async move { e.session().await }
    }

    /// A session attached as another uid (empty uname, `n_uname = uid`, as
    /// the Linux client's per-user attach does).
    pub(crate) fn session_as(&self, uid: u32) -> impl Future<Output = R<Session>> + Send + 't {
        let e = self.env();
        async move { e.session_as(uid).await }
    }

    /// A session on another export.
    pub(crate) fn session_aname(
        &self,
        aname: String,
    ) -> impl Future<Output = R<Session>> + Send + 't {
        let e = self.env();
        async move { e.session_aname(&aname).await }
    }

    /// A session in another dialect, same credentials.
    pub(crate) fn session_in(
        &self,
        dialect: Dialect,
    ) -> impl Future<Output = R<Session>> + Send + 't {
        let e = Env { dialect, ..self.env() };
        async move { e.session().await }
    }

    /// A fresh connection with nothing sent on it.
    pub(crate) fn raw(&self) -> impl Future<Output = R<RawConn>> + Send + 't {
        let e = self.env();
        async move { e.raw().await }
    }

    /// A fresh connection after a successful Tversion in this dialect.
    pub(crate) fn raw_versioned(&self) -> impl Future<Output = R<RawConn>> + Send + 't {
        let e = self.env();
        async move { connect_versioned(e.target, e.cfg, e.dialect).await }
    }

    /// The scratch directory as seen from another session.
    pub(crate) fn scratch_in<'s>(
        &self,
        s: &'s mut Session,
    ) -> impl Future<Output = R<u32>> + Send + 's {
        let name = self.dir_name.clone();
        async move {
            let root = s.root;
            s.walk(root, &[&name]).await
        }
    }

    /// Checks that the server still accepts and serves a new connection
    /// (after a case sent it something hostile).
    pub(crate) fn server_alive(&self) -> impl Future<Output = R<()>> + Send + 't {
        let e = self.env();
        async move { e.server_alive().await }
    }

    /// The reply timeout.
    pub(crate) fn timeout(&self) -> std::time::Duration {
        self.cfg.reply_timeout
    }

    /// A Tattach of `fid` to `aname` with the main credentials.
    pub(crate) fn tattach(
        &self,
        fid: u32,
        afid: u32,
        aname: &str,
    ) -> ninefold_proto::base::Tattach {
        ninefold_proto::base::Tattach {
            fid,
            afid,
            uname: self.cfg.uname.as_str().into(),
            aname: aname.into(),
            n_uname: self.cfg.uid,
        }
    }
}

/// Shared references needed to open more connections.
#[derive(Clone)]
pub(crate) struct Env<'t> {
    target: &'t dyn Target,
    cfg: &'t Config,
    dialect: Dialect,
    dir_name: String,
}

impl Env<'_> {
    async fn session(&self) -> R<Session> {
        Session::open(self.target, self.cfg, self.dialect, &self.cfg.aname, &main_creds(self.cfg))
            .await
            .map_err(|s| s.context("second session"))
    }

    async fn session_as(&self, uid: u32) -> R<Session> {
        let creds = Creds { uname: String::new(), uid, gid: uid };
        Session::open(self.target, self.cfg, self.dialect, &self.cfg.aname, &creds)
            .await
            .map_err(|s| s.context(&format!("session as uid {uid}")))
    }

    async fn session_aname(&self, aname: &str) -> R<Session> {
        Session::open(self.target, self.cfg, self.dialect, aname, &main_creds(self.cfg))
            .await
            .map_err(|s| s.context(&format!("attach {aname:?}")))
    }

    async fn raw(&self) -> R<RawConn> {
        let io = self.target.connect().await.map_err(|e| Stop::Fail(format!("connect: {e}")))?;
        Ok(RawConn::new(io, self.cfg.msize, self.cfg.reply_timeout))
    }

    async fn server_alive(&self) -> R<()> {
        let mut s = self.session().await.map_err(|s| s.context("server alive afterwards"))?;
        let root = s.root;
        let d = s.walk(root, &[&self.dir_name]).await?;
        s.getattr(d).await?;
        Ok(())
    }
}

/// Removes the scratch directory `name` under the root, on a new session.
pub(crate) async fn cleanup(
    target: &dyn Target,
    cfg: &Config,
    dialect: Dialect,
    name: &str,
) -> R<()> {
    let mut s = Session::open(target, cfg, dialect, &cfg.aname, &main_creds(cfg)).await?;
    if !dialect.is_dotl() {
        return crate::cases::legacy::remove_tree(&mut s, name).await;
    }
    let root = s.root;
    let dir = s.walk(root, &[name]).await?;
    rm_tree(&mut s, dir).await?;
    s.clunk(dir).await?;
    s.unlink(root, name, UnlinkatFlags::REMOVEDIR).await
}

/// Removes everything inside the directory `dir` (best effort on modes: it
/// first makes directories writable).
fn rm_tree<'a>(s: &'a mut Session, dir: u32) -> Pin<Box<dyn Future<Output = R<()>> + Send + 'a>> {
    Box::pin(async move {
        let fix = ninefold_proto::l::SetAttr {
            valid: ninefold_proto::SetattrMask::MODE,
            mode: 0o755,
            ..Default::default()
        };
        let _ = s.rpc(ninefold_proto::l::Tsetattr { fid: dir, attr: fix }).await?;
        let entries = s.list(dir).await?;
        for e in entries {
            let name = e.name.to_string_lossy().into_owned();
            if name == "." || name == ".." {
                continue;
            }
            if e.ty == DirentType::DIR || e.qid.is_dir() {
                let sub = s.walk(dir, &[&name]).await?;
                rm_tree(s, sub).await?;
                s.clunk(sub).await?;
                s.unlink(dir, &name, UnlinkatFlags::REMOVEDIR).await?;
            } else {
                s.unlink(dir, &name, UnlinkatFlags::empty()).await?;
            }
        }
        Ok(())
    })
}

/// Makes a directory chain `names` below `dir`; returns an unopened fid on
/// the deepest one.
pub(crate) async fn mkdir_chain(s: &mut Session, dir: u32, names: &[&str]) -> R<u32> {
    let mut cur = s.clone_fid(dir).await?;
    for n in names {
        let reply = s.rpc(Tmkdir { dfid: cur, name: (*n).into(), mode: 0o755, gid: s.gid }).await?;
        expect_msg!(reply, Rmkdir).map_err(|st| st.context(&format!("Tmkdir {n:?}")))?;
        let next = s.walk(cur, &[n]).await?;
        s.clunk(cur).await?;
        cur = next;
    }
    Ok(cur)
}

/// Opens `dir` for listing and returns the open fid.
pub(crate) async fn open_dir(s: &mut Session, dir: u32) -> R<u32> {
    let fid = s.clone_fid(dir).await?;
    s.lopen(fid, OpenFlags::RDONLY).await?;
    Ok(fid)
}
