//! Namespace operations: lookup, getattr, setattr, create of every kind,
//! link, unlink, rename, readlink, access.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::UNIX_EPOCH;

use fuser::{FileAttr, TimeOrNow};
use ninefold_client::proto::l::SetAttr;
use ninefold_client::{Bytes, Dialect, Errno, Error, OpenFlags, Result, UnlinkatFlags};
use ninefold_proto::{SetattrMask, S_IFDIR, S_IFMT, S_IFREG};

use crate::core::{to_file_attr, Core, Who};
use crate::remote::{is_unsupported, retry, Conn};

/// `rename(2)` flags.
const RENAME_NOREPLACE: u32 = 1;
const RENAME_EXCHANGE: u32 = 2;

/// What `setattr` may change.
#[derive(Debug, Default)]
pub(crate) struct Changes {
    pub(crate) mode: Option<u32>,
    pub(crate) uid: Option<u32>,
    pub(crate) gid: Option<u32>,
    pub(crate) size: Option<u64>,
    pub(crate) atime: Option<TimeOrNow>,
    pub(crate) mtime: Option<TimeOrNow>,
    pub(crate) fh: Option<u64>,
}

fn wire_time(t: TimeOrNow) -> Result<Option<(u64, u64)>> {
    match t {
        TimeOrNow::Now => Ok(None),
        TimeOrNow::SpecificTime(st) => {
            let d = st.duration_since(UNIX_EPOCH).map_err(|_| Error::Io(Errno::EINVAL))?;
            Ok(Some((d.as_secs(), u64::from(d.subsec_nanos()))))
        }
    }
}

impl Changes {
    fn to_wire(&self) -> Result<SetAttr> {
        let mut a = SetAttr::default();
        if let Some(m) = self.mode {
            a.valid |= SetattrMask::MODE;
            a.mode = m & 0o7777;
        }
        if let Some(u) = self.uid {
            a.valid |= SetattrMask::UID;
            a.uid = u;
        }
        if let Some(g) = self.gid {
            a.valid |= SetattrMask::GID;
            a.gid = g;
        }
        if let Some(s) = self.size {
            a.valid |= SetattrMask::SIZE;
            a.size = s;
        }
        if let Some(t) = self.atime {
            a.valid |= SetattrMask::ATIME;
            if let Some((s, n)) = wire_time(t)? {
                a.valid |= SetattrMask::ATIME_SET;
                a.atime_sec = s;
                a.atime_nsec = n;
            }
        }
        if let Some(t) = self.mtime {
            a.valid |= SetattrMask::MTIME;
            if let Some((s, n)) = wire_time(t)? {
                a.valid |= SetattrMask::MTIME_SET;
                a.mtime_sec = s;
                a.mtime_nsec = n;
            }
        }
        Ok(a)
    }
}

impl Core {
    pub(crate) async fn lookup(
        &self,
        who: Who,
        parent: u64,
        name: &[u8],
    ) -> Result<(u64, FileAttr)> {
        retry!(self.remote, |c| self.lookup_in(&c, parent, name, who.uid))
    }

    pub(crate) async fn getattr(&self, who: Who, id: u64, fh: Option<u64>) -> Result<FileAttr> {
        let h = match fh {
            Some(fh) => self.handle(fh).ok(),
            // An open handle of the node also works when its path is gone
            // (unlinked while open) and its walked fid was not kept.
            None => self.any_handle_of(id),
        };
        retry!(self.remote, |c| async {
            let fid = match &h {
                Some(h) => self.handle_fid(&c, h).await?,
                None => self.fid_of(&c, id, who.uid).await?,
            };
            Ok(self.attr_of(&c, &fid, id).await?.0)
        })
    }

    pub(crate) async fn setattr(&self, who: Who, id: u64, ch: Changes) -> Result<FileAttr> {
        let attr = ch.to_wire()?;
        if ch.mode.is_some() || ch.uid.is_some() || ch.gid.is_some() {
            crate::core::lock(&self.plain).remove(&id);
        }
        // A truncate must not be overtaken by writes queued before it.
        self.behind.settle(id, None).await;
        let h = match ch.fh {
            Some(fh) => self.handle(fh).ok(),
            None => None,
        };
        retry!(self.remote, |c| async {
            let fid = match &h {
                Some(h) => self.handle_fid(&c, h).await?,
                None => self.fid_of(&c, id, who.uid).await?,
            };
            if attr.valid.is_empty() {
                return Ok(self.attr_of(&c, &fid, id).await?.0);
            }
            if c.session.dialect() == Dialect::Z {
                // One round trip: Tsetattrattr answers the new attributes.
                let a = c.session.setattrattr(&fid, attr.clone()).await?;
                return Ok(to_file_attr(&a, id));
            }
            c.session.setattr(&fid, attr.clone()).await?;
            Ok(self.attr_of(&c, &fid, id).await?.0)
        })
    }

    pub(crate) async fn readlink(&self, who: Who, id: u64) -> Result<Bytes> {
        retry!(self.remote, |c| async {
            let fid = self.fid_of(&c, id, who.uid).await?;
            c.session.readlink(&fid).await
        })
    }

    pub(crate) async fn mkdir(
        &self,
        who: Who,
        parent: u64,
        name: &[u8],
        mode: u32,
    ) -> Result<(u64, FileAttr)> {
        retry!(self.remote, |c| async {
            let dir = self.fid_of(&c, parent, who.uid).await?;
            c.session.mkdir(&dir, name, S_IFDIR | (mode & 0o7777), who.gid).await?;
            self.lookup_in(&c, parent, name, who.uid).await
        })
    }

    pub(crate) async fn mknod(
        &self,
        who: Who,
        parent: u64,
        name: &[u8],
        mode: u32,
        rdev: u32,
    ) -> Result<(u64, FileAttr)> {
        retry!(self.remote, |c| async {
            if mode & S_IFMT == S_IFREG || mode & S_IFMT == 0 {
                // A plain file: Tlcreate (every server has it) and close.
                let fid = self.clone_fid(&c, parent, who.uid).await?;
                let flags = OpenFlags::RDONLY | OpenFlags::CREATE | OpenFlags::EXCL;
                c.session.lcreate(&fid, name, flags, mode & 0o7777, who.gid).await?;
                drop(fid);
            } else {
                let dir = self.fid_of(&c, parent, who.uid).await?;
                let major = (rdev >> 8) & 0xfff;
                let minor = (rdev & 0xff) | ((rdev >> 12) & 0xfff00);
                c.session.mknod(&dir, name, mode, major, minor, who.gid).await?;
            }
            self.lookup_in(&c, parent, name, who.uid).await
        })
    }

    pub(crate) async fn symlink(
        &self,
        who: Who,
        parent: u64,
        name: &[u8],
        target: &[u8],
    ) -> Result<(u64, FileAttr)> {
        retry!(self.remote, |c| async {
            let dir = self.fid_of(&c, parent, who.uid).await?;
            c.session.symlink(&dir, name, target, who.gid).await?;
            self.lookup_in(&c, parent, name, who.uid).await
        })
    }

    pub(crate) async fn link(
        &self,
        who: Who,
        id: u64,
        parent: u64,
        name: &[u8],
    ) -> Result<(u64, FileAttr)> {
        retry!(self.remote, |c| async {
            let target = self.fid_of(&c, id, who.uid).await?;
            let dir = self.fid_of(&c, parent, who.uid).await?;
            c.session.link(&dir, &target, name).await?;
            self.lookup_in(&c, parent, name, who.uid).await
        })
    }

    pub(crate) async fn unlink(&self, who: Who, parent: u64, name: &[u8], dir: bool) -> Result<()> {
        retry!(self.remote, |c| async {
            let d = self.fid_of(&c, parent, who.uid).await?;
            unlink_at(&c, &d, name, dir).await
        })
    }

    pub(crate) async fn rename(
        &self,
        who: Who,
        parent: u64,
        name: &[u8],
        newparent: u64,
        newname: &[u8],
        flags: u32,
    ) -> Result<()> {
        if flags & RENAME_EXCHANGE != 0 || flags & !(RENAME_NOREPLACE | RENAME_EXCHANGE) != 0 {
            // 9P2000.L has no atomic exchange or whiteout.
            return Err(Error::Io(Errno::EINVAL));
        }
        retry!(self.remote, |c| async {
            let od = self.fid_of(&c, parent, who.uid).await?;
            let nd = self.fid_of(&c, newparent, who.uid).await?;
            if flags & RENAME_NOREPLACE != 0 {
                rename_noreplace(&c, &od, name, &nd, newname).await
            } else {
                rename_at(&c, &od, name, &nd, newname).await
            }
        })?;
        self.table.renamed(parent, name, newparent, newname);
        Ok(())
    }

    /// `access(2)`: the server has no such call, so the mode bits it
    /// reports are checked against the caller's uid and groups.
    pub(crate) async fn access(&self, who: Who, id: u64, mask: i32) -> Result<()> {
        let attr = self.getattr(who, id, None).await?;
        if mask == 0 {
            return Ok(());
        }
        let want = (mask & 7) as u16;
        let perm = attr.perm;
        let is_dir = attr.kind == fuser::FileType::Directory;
        if who.real_uid == 0 {
            if want & 1 != 0 && !is_dir && perm & 0o111 == 0 {
                return Err(Error::PermissionDenied);
            }
            return Ok(());
        }
        let bits = if who.real_uid == attr.uid {
            (perm >> 6) & 7
        } else if Core::groups_of(who.pid, who.real_gid).contains(&attr.gid) {
            (perm >> 3) & 7
        } else {
            perm & 7
        };
        if bits & want == want {
            Ok(())
        } else {
            Err(Error::PermissionDenied)
        }
    }
}

/// `RENAME_NOREPLACE`. 9P2000.L has no such flag, so for anything but a
/// directory the new name is made a hard link first (Tlink fails with
/// EEXIST atomically on the server when the name is taken) and the old
/// name is then unlinked: the target can never be replaced, though for
/// an instant both names exist. Directories cannot be hard-linked; for
/// them (and on servers that refuse hard links) the target is checked
/// just before the rename, which a concurrent creator on another client
/// can slip between.
async fn rename_noreplace(
    c: &Conn,
    od: &Arc<ninefold_client::Fid>,
    name: &[u8],
    nd: &Arc<ninefold_client::Fid>,
    newname: &[u8],
) -> Result<()> {
    let (fid, qids) = c.session.walk(od, &[name]).await?;
    if !qids.last().is_some_and(|q| q.is_dir()) {
        match c.session.link(nd, &fid, newname).await {
            Ok(()) => {
                return match unlink_at(c, od, name, false).await {
                    Ok(()) => Ok(()),
                    Err(e) => {
                        // Leave things as they were.
                        let _ = unlink_at(c, nd, newname, false).await;
                        Err(e)
                    }
                };
            }
            Err(e) if e.is_disconnected() || is_exists(&e) => return Err(e),
            // No hard links here (EPERM, EXDEV, ENOSYS, ...): fall back.
            Err(e) => tracing::debug!(error = %e, "Tlink refused; RENAME_NOREPLACE by check"),
        }
    }
    drop(fid);
    match c.session.walk(nd, &[newname]).await {
        Ok(_) => return Err(Error::AlreadyExists),
        Err(Error::NotFound) => {}
        Err(e) => return Err(e),
    }
    rename_at(c, od, name, nd, newname).await
}

fn is_exists(e: &Error) -> bool {
    matches!(e, Error::AlreadyExists) || e.errno() == Errno::EEXIST
}

/// Tunlinkat, falling back to Twalk + Tremove on servers without it.
async fn unlink_at(c: &Conn, d: &Arc<ninefold_client::Fid>, name: &[u8], dir: bool) -> Result<()> {
    let flags = if dir { UnlinkatFlags::REMOVEDIR } else { UnlinkatFlags::empty() };
    let r = if c.no_unlinkat.load(Ordering::Relaxed) {
        Err(Error::Io(Errno::EOPNOTSUPP))
    } else {
        c.session.unlinkat(d, name, flags).await
    };
    match r {
        Err(e) if is_unsupported(&e) => {
            c.no_unlinkat.store(true, Ordering::Relaxed);
            let (fid, qids) = c.session.walk(d, &[name]).await?;
            let is_dir = qids.last().is_some_and(|q| q.is_dir());
            if dir && !is_dir {
                return Err(Error::NotADirectory);
            }
            if !dir && is_dir {
                return Err(Error::IsADirectory);
            }
            c.session.remove(fid).await
        }
        other => other,
    }
}

/// Trenameat, falling back to Twalk + Trename.
async fn rename_at(
    c: &Conn,
    od: &Arc<ninefold_client::Fid>,
    name: &[u8],
    nd: &Arc<ninefold_client::Fid>,
    newname: &[u8],
) -> Result<()> {
    let r = if c.no_renameat.load(Ordering::Relaxed) {
        Err(Error::Io(Errno::EOPNOTSUPP))
    } else {
        c.session.renameat(od, name, nd, newname).await
    };
    match r {
        Err(e) if is_unsupported(&e) => {
            c.no_renameat.store(true, Ordering::Relaxed);
            let (fid, _) = c.session.walk(od, &[name]).await?;
            c.session.rename(&fid, nd, newname).await
        }
        other => other,
    }
}
