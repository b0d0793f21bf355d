//! A 9P-to-9P proxy filesystem: every `Node` is a fid on a backend server,
//! held through a `ninefold_client::Session`, and every operation is
//! forwarded as the matching 9P2000.L request.
//!
//! Shared by `examples/proxy/main.rs` and `tests/proxy.rs`.
//!
//! - A node owns one walked (unopened) backend fid; `lookup` walks one
//!   name from it. The fid is clunked when the last server fid using the
//!   node goes away.
//! - `open`/`create` clone the node's fid and open the clone, kept in a
//!   [`ProxyHandle`] for the I/O of that open.
//! - Every request reaches the backend as the one user the session
//!   attached as: the proxy does not forward per-user identities.
//! - Backend errors are forwarded as their errno; a backend without
//!   Trenameat/Tunlinkat (diod) gets Trename/Tremove instead.

#![allow(dead_code, unreachable_pub)]

use std::sync::Arc;

use async_trait::async_trait;
use bytes::Bytes;
use ninefold_client::proto::l::{Attr, SetAttr};
use ninefold_client::proto::{Errno, GetattrMask, OpenFlags, Qid, UnlinkatFlags};
use ninefold_client::{Error, Fid, Session};
use ninefold_server::{Created, DirSink, Handle, Node, Opened, Request, Result, StatFs};

/// The backend error as the errno to answer with.
fn errno(e: Error) -> Errno {
    e.errno()
}

/// Whether a backend answer means "this message is not supported".
fn unsupported(e: &Error) -> bool {
    matches!(e.errno(), Errno::EOPNOTSUPP | Errno::ENOSYS)
}

/// One backend object, named by a walked fid.
#[derive(Debug)]
pub struct ProxyNode {
    session: Session,
    /// Identifies the proxy tree (one backend session): renames and links
    /// between two trees are EXDEV.
    tree: Arc<()>,
    fid: Fid,
    qid: Qid,
}

impl ProxyNode {
    /// The root of a proxy over `session`: attaches as `uname`/`uid` to
    /// `aname` on the backend.
    pub async fn attach(
        session: Session,
        uname: &str,
        aname: &str,
        uid: u32,
    ) -> ninefold_client::Result<Arc<dyn Node>> {
        let (fid, qid) = session.attach(uname, aname, uid).await?;
        Ok(Arc::new(ProxyNode { session, tree: Arc::new(()), fid, qid }))
    }

    /// A node for `name` in this directory, by a fresh walk.
    async fn child(&self, name: &[u8]) -> Result<Arc<dyn Node>> {
        let (fid, qids) = self.session.walk(&self.fid, &[name]).await.map_err(errno)?;
        let qid = *qids.first().ok_or(Errno::EIO)?;
        Ok(Arc::new(ProxyNode { session: self.session.clone(), tree: self.tree.clone(), fid, qid }))
    }

    /// A clone of this node's fid (to open, or to lcreate from).
    async fn clone_fid(&self) -> Result<Fid> {
        let none: [&[u8]; 0] = [];
        Ok(self.session.walk(&self.fid, &none).await.map_err(errno)?.0)
    }

    fn other<'a>(&self, node: &'a Arc<dyn Node>) -> Result<&'a ProxyNode> {
        match node.downcast_ref::<ProxyNode>() {
            Some(p) if Arc::ptr_eq(&p.tree, &self.tree) => Ok(p),
            _ => Err(Errno::EXDEV),
        }
    }
}

/// One open backend fid: the I/O of one open of a [`ProxyNode`].
#[derive(Debug)]
pub struct ProxyHandle {
    session: Session,
    fid: Fid,
}

#[async_trait]
impl Handle for ProxyHandle {
    async fn read(
        &self,
        _req: &Request,
        _node: &dyn Node,
        offset: u64,
        count: u32,
    ) -> Result<Bytes> {
        self.session.read(&self.fid, offset, count).await.map_err(errno)
    }

    async fn write(
        &self,
        _req: &Request,
        _node: &dyn Node,
        offset: u64,
        data: Bytes,
    ) -> Result<u32> {
        // The client's msize to the proxy may exceed the backend's: split.
        let chunk = self.session.max_write_chunk() as usize;
        let mut done = 0usize;
        while done < data.len() {
            let end = data.len().min(done + chunk);
            let n =
                self.session.write(&self.fid, offset + done as u64, data.slice(done..end)).await;
            match n.map_err(errno)? {
                0 => break,
                n => done += n as usize,
            }
        }
        u32::try_from(done).map_err(|_| Errno::EIO)
    }

    async fn readdir(
        &self,
        _req: &Request,
        _node: &dyn Node,
        offset: u64,
        sink: &mut DirSink,
    ) -> Result<()> {
        let count = u32::try_from(sink.remaining()).unwrap_or(u32::MAX);
        let block = self.session.readdir(&self.fid, offset, count).await.map_err(errno)?;
        for entry in block.iter() {
            if !sink.push_entry(&entry) {
                break;
            }
        }
        Ok(())
    }

    async fn getattr(&self, _req: &Request, _node: &dyn Node, mask: GetattrMask) -> Result<Attr> {
        Ok(self.session.getattr(&self.fid, mask).await.map_err(errno)?.attr)
    }

    async fn setattr(&self, _req: &Request, _node: &dyn Node, attr: &SetAttr) -> Result<()> {
        self.session.setattr(&self.fid, attr.clone()).await.map_err(errno)
    }

    async fn fsync(&self, _req: &Request, _node: &dyn Node, datasync: bool) -> Result<()> {
        self.session.fsync(&self.fid, datasync).await.map_err(errno)
    }

    async fn release(&self, _req: &Request, _node: &dyn Node) -> Result<()> {
        // The fid is clunked when the handle is dropped, right after this.
        Ok(())
    }
}

#[async_trait]
impl Node for ProxyNode {
    fn qid(&self) -> Qid {
        self.qid
    }

    async fn getattr(&self, _req: &Request, mask: GetattrMask) -> Result<Attr> {
        Ok(self.session.getattr(&self.fid, mask).await.map_err(errno)?.attr)
    }

    async fn setattr(&self, _req: &Request, attr: &SetAttr) -> Result<()> {
        self.session.setattr(&self.fid, attr.clone()).await.map_err(errno)
    }

    async fn lookup(&self, _req: &Request, name: &[u8]) -> Result<Arc<dyn Node>> {
        self.child(name).await
    }

    async fn open(&self, _req: &Request, flags: OpenFlags) -> Result<Opened> {
        let fid = self.clone_fid().await?;
        self.session.lopen(&fid, flags).await.map_err(errno)?;
        Ok(Opened::with_handle(ProxyHandle { session: self.session.clone(), fid }))
    }

    async fn create(
        &self,
        _req: &Request,
        name: &[u8],
        flags: OpenFlags,
        mode: u32,
        gid: u32,
    ) -> Result<Created> {
        let fid = self.clone_fid().await?;
        self.session.lcreate(&fid, name, flags, mode, gid).await.map_err(errno)?;
        let node = self.child(name).await?;
        let opened = Opened::with_handle(ProxyHandle { session: self.session.clone(), fid });
        Ok(Created { node, opened })
    }

    async fn mkdir(
        &self,
        _req: &Request,
        name: &[u8],
        mode: u32,
        gid: u32,
    ) -> Result<Arc<dyn Node>> {
        self.session.mkdir(&self.fid, name, mode, gid).await.map_err(errno)?;
        self.child(name).await
    }

    async fn symlink(
        &self,
        _req: &Request,
        name: &[u8],
        target: &[u8],
        gid: u32,
    ) -> Result<Arc<dyn Node>> {
        self.session.symlink(&self.fid, name, target, gid).await.map_err(errno)?;
        self.child(name).await
    }

    async fn readlink(&self, _req: &Request) -> Result<Bytes> {
        self.session.readlink(&self.fid).await.map_err(errno)
    }

    async fn unlink(&self, _req: &Request, name: &[u8], flags: UnlinkatFlags) -> Result<()> {
        match self.session.unlinkat(&self.fid, name, flags).await {
            Err(e) if unsupported(&e) => {
                // Tremove clunks the fid whatever the outcome.
                let (fid, _) = self.session.walk(&self.fid, &[name]).await.map_err(errno)?;
                let is_dir =
                    self.session.getattr(&fid, GetattrMask::MODE).await.map_err(errno)?.attr.mode
                        & 0o170000
                        == 0o040000;
                match (is_dir, flags.contains(UnlinkatFlags::REMOVEDIR)) {
                    (true, false) => Err(Errno::EISDIR),
                    (false, true) => Err(Errno::ENOTDIR),
                    _ => self.session.remove(fid).await.map_err(errno),
                }
            }
            other => other.map_err(errno),
        }
    }

    async fn rename(
        &self,
        _req: &Request,
        name: &[u8],
        new_dir: &Arc<dyn Node>,
        new_name: &[u8],
    ) -> Result<()> {
        let to = self.other(new_dir)?;
        match self.session.renameat(&self.fid, name, &to.fid, new_name).await {
            Err(e) if unsupported(&e) => {
                let (fid, _) = self.session.walk(&self.fid, &[name]).await.map_err(errno)?;
                self.session.rename(&fid, &to.fid, new_name).await.map_err(errno)
            }
            other => other.map_err(errno),
        }
    }

    async fn link(&self, _req: &Request, target: &Arc<dyn Node>, name: &[u8]) -> Result<()> {
        let target = self.other(target)?;
        self.session.link(&self.fid, &target.fid, name).await.map_err(errno)
    }

    async fn statfs(&self, _req: &Request) -> Result<StatFs> {
        self.session.statfs(&self.fid).await.map_err(errno)
    }

    async fn fsync(&self, _req: &Request, datasync: bool) -> Result<()> {
        let fid = self.clone_fid().await?;
        self.session.lopen(&fid, OpenFlags::RDONLY).await.map_err(errno)?;
        self.session.fsync(&fid, datasync).await.map_err(errno)
    }
}
