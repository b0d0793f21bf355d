//! Tlcreate, Tmkdir, Tsymlink, Tmknod and Tlink: `*at` calls relative to
//! the parent's descriptor with a single checked name; new objects get
//! the requesting client's (mapped) ownership: the host gives it when
//! the request runs as the user (see [`creds`](super::creds)), the
//! server when it runs as root.

use std::ffi::OsStr;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::sync::Arc;

use ninefold_proto::{Errno, OpenFlags, S_IFMT};
use ninefold_server::{Created, Node, Opened, Request, Result};
use rustix::fs::{AtFlags, FileType, Gid, Mode, OFlags, Uid};

use super::creds::Who;
use super::flags;
use super::handle::PassthroughHandle;
use super::node::{cheap_as, errno, fd_name, Kind, PassthroughNode, Shared};
use super::walk::{check_name, open_child};

/// Who a new object belongs to (host ids), or `None` to leave what the
/// host gave it.
#[derive(Clone, Copy, Debug)]
struct Owner {
    uid: Option<Uid>,
    gid: Option<Gid>,
    /// The request runs as the user: the host already made it the
    /// owner; the group is changed only if it differs and the user may
    /// give it (EPERM leaves the host's choice).
    as_user: bool,
}

impl Owner {
    /// Gives `fd`'s new object its owner. Blocking, with the request's
    /// credentials.
    fn apply(self, fd: BorrowedFd<'_>) -> Result<()> {
        let flags = AtFlags::EMPTY_PATH | AtFlags::SYMLINK_NOFOLLOW;
        if !self.as_user {
            if self.uid.is_some() || self.gid.is_some() {
                rustix::fs::chownat(fd, "", self.uid, self.gid, flags).map_err(errno)?;
            }
            return Ok(());
        }
        let Some(gid) = self.gid else {
            return Ok(());
        };
        let st = super::attr::stat(fd).map_err(errno)?;
        if st.stx_gid == gid.as_raw() {
            return Ok(());
        }
        match rustix::fs::chownat(fd, "", None, Some(gid), flags) {
            Ok(()) => Ok(()),
            Err(rustix::io::Errno::PERM) => {
                tracing::debug!(
                    gid = gid.as_raw(),
                    kept = st.stx_gid,
                    "passthrough: user may not give its new object the group it asked for"
                );
                Ok(())
            }
            Err(e) => Err(errno(e)),
        }
    }
}

impl PassthroughNode {
    /// The ownership a client's new object gets: its uid and the gid it
    /// sent, mapped to the host. Only a root server can give it.
    fn owner(&self, req: &Request, gid: u32) -> Owner {
        let ids = &self.fs.opts.id_map;
        if self.fs.who(req) != Who::Server {
            let gid = (gid != u32::MAX).then(|| Gid::from_raw(ids.gid_to_host(gid)));
            return Owner { uid: None, gid, as_user: true };
        }
        if !self.fs.as_root {
            return Owner { uid: None, gid: None, as_user: false };
        }
        let uid = match ids {
            super::IdMap::Squash { uid, .. } => Some(*uid),
            _ => req.uid().map(|u| ids.uid_to_host(u)),
        };
        let gid = (gid != u32::MAX).then(|| ids.gid_to_host(gid));
        Owner {
            uid: uid.map(Uid::from_raw_unchecked),
            gid: gid.map(Gid::from_raw_unchecked),
            as_user: false,
        }
    }

    /// The common checks of every creation: a name, a directory, a
    /// writable export.
    fn creating<'n>(&self, name: &'n [u8]) -> Result<&'n OsStr> {
        let name = check_name(name)?;
        self.dir()?;
        self.writable()?;
        Ok(name)
    }

    pub(crate) async fn create_impl(
        &self,
        req: &Request,
        name: &[u8],
        flags: OpenFlags,
        mode: u32,
        gid: u32,
    ) -> Result<Created> {
        let name = self.creating(name)?.to_owned();
        let owner = self.owner(req, gid);
        let open_flags = flags::to_host(flags, self.fs.opts.keep_direct);
        // NOACCESS still needs an access mode to create with.
        let host = open_flags.unwrap_or(OFlags::RDONLY | OFlags::CLOEXEC)
            | OFlags::CREATE
            | OFlags::EXCL
            | OFlags::NOFOLLOW;
        let perm = mode & 0o7777;
        let fs = self.fs.clone();
        let parent = self.fd.clone();
        let parent_path = self.qid.path;
        let charge = self.fs.fds.charge(req)?;
        cheap_as(&self.fs, req, move || {
            let file = rustix::fs::openat(parent.as_fd(), &name, host, Mode::from_raw_mode(perm))
                .map_err(errno)?;
            let finish = || -> Result<Created> {
                owner.apply(file.as_fd())?;
                // The server's umask must not narrow what the client asked.
                // (Only when it did: a user's chmod may drop set-id bits
                // the host kept.)
                let st = super::attr::stat(file.as_fd()).map_err(errno)?;
                if u32::from(st.stx_mode) & 0o7777 != perm {
                    rustix::fs::fchmod(&file, Mode::from_raw_mode(perm)).map_err(errno)?;
                }
                let path = fs.reopen(&file, OFlags::PATH).map_err(errno)?;
                let mut node =
                    PassthroughNode::from_child(&fs, path, parent_path, &name).map_err(errno)?;
                node.charge = charge;
                let node: Arc<dyn Node> = Arc::new(node);
                Ok(Created { node, opened: Opened::node() })
            };
            match finish() {
                Ok(mut created) => {
                    if open_flags.is_some() {
                        created.opened = Opened::with_handle(PassthroughHandle::new(
                            fs.clone(),
                            file,
                            Kind::File,
                            flags,
                        ));
                    }
                    Ok(created)
                }
                Err(e) => {
                    undo(parent.as_fd(), &name, false);
                    Err(e)
                }
            }
        })
        .await
    }

    pub(crate) async fn mkdir_impl(
        &self,
        req: &Request,
        name: &[u8],
        mode: u32,
        gid: u32,
    ) -> Result<Arc<dyn Node>> {
        let name = self.creating(name)?.to_owned();
        let owner = self.owner(req, gid);
        let perm = mode & 0o7777;
        let fs = self.fs.clone();
        let parent = self.fd.clone();
        let parent_path = self.qid.path;
        cheap_as(&self.fs, req, move || {
            rustix::fs::mkdirat(parent.as_fd(), &name, Mode::from_raw_mode(perm)).map_err(errno)?;
            finish_new(&fs, &parent, parent_path, &name, Kind::Dir, owner, Some(perm))
        })
        .await
    }

    pub(crate) async fn symlink_impl(
        &self,
        req: &Request,
        name: &[u8],
        target: &[u8],
        gid: u32,
    ) -> Result<Arc<dyn Node>> {
        let name = self.creating(name)?.to_owned();
        if target.is_empty() {
            return Err(Errno::ENOENT);
        }
        if target.contains(&0) {
            return Err(Errno::EINVAL);
        }
        // The target is data: it is stored, never followed by the server.
        let target = std::os::unix::ffi::OsStrExt::from_bytes(target);
        let target: std::ffi::OsString = OsStr::to_owned(target);
        let owner = self.owner(req, gid);
        let fs = self.fs.clone();
        let parent = self.fd.clone();
        let parent_path = self.qid.path;
        cheap_as(&self.fs, req, move || {
            rustix::fs::symlinkat(&target, parent.as_fd(), &name).map_err(errno)?;
            finish_new(&fs, &parent, parent_path, &name, Kind::Symlink, owner, None)
        })
        .await
    }

    pub(crate) async fn mknod_impl(
        &self,
        req: &Request,
        name: &[u8],
        mode: u32,
        major: u32,
        minor: u32,
        gid: u32,
    ) -> Result<Arc<dyn Node>> {
        let name = self.creating(name)?.to_owned();
        let (ty, kind) = match mode & S_IFMT {
            0 | ninefold_proto::S_IFREG => (FileType::RegularFile, Kind::File),
            ninefold_proto::S_IFIFO => (FileType::Fifo, Kind::Fifo),
            ninefold_proto::S_IFSOCK => (FileType::Socket, Kind::Socket),
            ninefold_proto::S_IFCHR => (FileType::CharacterDevice, Kind::CharDev),
            ninefold_proto::S_IFBLK => (FileType::BlockDevice, Kind::BlockDev),
            // mknod(2) makes no directories or symlinks.
            ninefold_proto::S_IFDIR => return Err(Errno::EPERM),
            _ => return Err(Errno::EINVAL),
        };
        let perm = mode & 0o7777;
        let dev = match kind {
            Kind::CharDev | Kind::BlockDev => rustix::fs::makedev(major, minor),
            _ => 0,
        };
        let owner = self.owner(req, gid);
        let fs = self.fs.clone();
        let parent = self.fd.clone();
        let parent_path = self.qid.path;
        cheap_as(&self.fs, req, move || {
            rustix::fs::mknodat(parent.as_fd(), &name, ty, Mode::from_raw_mode(perm), dev)
                .map_err(errno)?;
            finish_new(&fs, &parent, parent_path, &name, kind, owner, Some(perm))
        })
        .await
    }

    pub(crate) async fn link_impl(
        &self,
        req: &Request,
        target: &Arc<dyn Node>,
        name: &[u8],
    ) -> Result<()> {
        // Only an object of this very export can be linked in: anything
        // else (another filesystem, another export) is EXDEV.
        let target = target.downcast_ref::<PassthroughNode>().ok_or(Errno::EXDEV)?;
        if !self.same_export(target) {
            return Err(Errno::EXDEV);
        }
        let name = self.creating(name)?.to_owned();
        if target.kind == Kind::Dir {
            return Err(Errno::EPERM);
        }
        let fs = self.fs.clone();
        let parent = self.fd.clone();
        let source = target.fd.clone();
        cheap_as(&self.fs, req, move || {
            match rustix::fs::linkat(source.as_fd(), "", parent.as_fd(), &name, AtFlags::EMPTY_PATH)
            {
                Ok(()) => Ok(()),
                // Without CAP_DAC_READ_SEARCH, AT_EMPTY_PATH is ENOENT:
                // link through the descriptor's magic link instead.
                Err(rustix::io::Errno::NOENT) | Err(rustix::io::Errno::PERM) => rustix::fs::linkat(
                    fs.proc_fd().map_err(errno)?,
                    fd_name(&source),
                    parent.as_fd(),
                    &name,
                    AtFlags::SYMLINK_FOLLOW,
                )
                .map_err(errno),
                Err(e) => Err(errno(e)),
            }
        })
        .await
    }
}

/// After creating `name` in `parent`: open it (never following), check
/// it is what was made, give it its owner and exact mode. On failure the
/// new object is removed again. Blocking.
fn finish_new(
    fs: &Arc<Shared>,
    parent: &OwnedFd,
    parent_path: u64,
    name: &OsStr,
    kind: Kind,
    owner: Owner,
    perm: Option<u32>,
) -> Result<Arc<dyn Node>> {
    let result = (|| {
        let fd = open_child(fs, parent.as_fd(), name).map_err(errno)?;
        let node = PassthroughNode::from_child(fs, fd, parent_path, name).map_err(errno)?;
        if node.kind != kind {
            // Replaced between creation and open: touch nothing.
            return Err(Errno::EAGAIN);
        }
        owner.apply(node.fd.as_fd())?;
        if let Some(mut perm) = perm {
            let st = super::attr::stat(node.fd.as_fd()).map_err(errno)?;
            if kind == Kind::Dir {
                // A directory made in a setgid directory inherits the bit
                // (the client's mkdir mode never carries it).
                perm |= u32::from(st.stx_mode) & 0o2000;
            }
            if u32::from(st.stx_mode) & 0o7777 != perm {
                super::attr::chmod(fs, &node.fd, kind, perm)?;
            }
        }
        Ok(Arc::new(node) as Arc<dyn Node>)
    })();
    if let Err(e) = result {
        if e != Errno::EAGAIN {
            undo(parent.as_fd(), name, kind == Kind::Dir);
        }
    }
    result
}

/// Best-effort removal of an object this request just created.
fn undo(parent: std::os::fd::BorrowedFd<'_>, name: &OsStr, dir: bool) {
    let flags = if dir { AtFlags::REMOVEDIR } else { AtFlags::empty() };
    if let Err(e) = rustix::fs::unlinkat(parent, name, flags) {
        tracing::warn!(error = %e, "passthrough: could not remove a half-created object");
    }
}
