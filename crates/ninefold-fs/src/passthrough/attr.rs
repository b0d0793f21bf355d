//! getattr, setattr and statfs, on the node's own descriptor.

use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::sync::Arc;

use ninefold_proto::l::{Attr, SetAttr};
use ninefold_proto::{Errno, GetattrMask, SetattrMask};
use ninefold_server::{Result, StatFs};
use rustix::fs::{AtFlags, Gid, Mode, OFlags, Statx, StatxFlags, Timespec, Timestamps, Uid};

use super::node::{blocking_as, cheap_as, errno, fd_name, Kind, PassthroughNode, Shared};

/// `statx` of the object `fd` names (an `O_PATH` descriptor works; a
/// symlink is not followed). Blocking.
pub(crate) fn stat(fd: BorrowedFd<'_>) -> rustix::io::Result<Statx> {
    rustix::fs::statx(
        fd,
        "",
        AtFlags::EMPTY_PATH | AtFlags::SYMLINK_NOFOLLOW,
        StatxFlags::BASIC_STATS | StatxFlags::BTIME,
    )
}

/// The attributes of `fd`'s object, owners mapped host → client.
pub(crate) fn attr_of(fs: &Shared, fd: BorrowedFd<'_>) -> rustix::io::Result<Attr> {
    let st = stat(fd)?;
    let mode = u32::from(st.stx_mode);
    let kind = Kind::from_mode(mode);
    let ids = &fs.opts.id_map;
    let (btime_sec, btime_nsec) = if st.stx_mask & StatxFlags::BTIME.bits() != 0 {
        (st.stx_btime.tv_sec as u64, u64::from(st.stx_btime.tv_nsec))
    } else {
        (0, 0)
    };
    Ok(Attr {
        qid: fs.qids.qid(kind, &st, fs.opts.qid_version),
        mode,
        uid: ids.uid_to_client(st.stx_uid),
        gid: ids.gid_to_client(st.stx_gid),
        nlink: u64::from(st.stx_nlink),
        rdev: rustix::fs::makedev(st.stx_rdev_major, st.stx_rdev_minor),
        size: st.stx_size,
        blksize: u64::from(st.stx_blksize),
        blocks: st.stx_blocks,
        atime_sec: st.stx_atime.tv_sec as u64,
        atime_nsec: u64::from(st.stx_atime.tv_nsec),
        mtime_sec: st.stx_mtime.tv_sec as u64,
        mtime_nsec: u64::from(st.stx_mtime.tv_nsec),
        ctime_sec: st.stx_ctime.tv_sec as u64,
        ctime_nsec: u64::from(st.stx_ctime.tv_nsec),
        btime_sec,
        btime_nsec,
        gen: 0,
        data_version: 0,
    })
}

/// One timestamp of a Tsetattr: the given time, now, or untouched.
fn timespec(set: bool, explicit: bool, sec: u64, nsec: u64) -> Result<Timespec> {
    if !set {
        return Ok(Timespec { tv_sec: 0, tv_nsec: rustix::fs::UTIME_OMIT });
    }
    if !explicit {
        return Ok(Timespec { tv_sec: 0, tv_nsec: rustix::fs::UTIME_NOW });
    }
    if nsec >= 1_000_000_000 {
        return Err(Errno::EINVAL);
    }
    let tv_sec = i64::try_from(sec).map_err(|_| Errno::EINVAL)?;
    Ok(Timespec { tv_sec, tv_nsec: nsec as _ })
}

/// The mutating bits of a Tsetattr (CTIME alone changes nothing here:
/// the host updates ctime on every change).
fn changes(valid: SetattrMask) -> bool {
    valid.intersects(
        SetattrMask::MODE
            | SetattrMask::UID
            | SetattrMask::GID
            | SetattrMask::SIZE
            | SetattrMask::ATIME
            | SetattrMask::MTIME,
    )
}

impl PassthroughNode {
    /// The node's attributes, with the server's own credentials whoever
    /// asks: an `fstat` of a descriptor the server holds makes no
    /// permission check (the kernel checked the path to it when the fid
    /// was walked, as the user), so the user's ids would change nothing,
    /// and switching to them and back is six system calls (on a stat at
    /// depth 32 as uid 65534, 151k requests/s switched against the
    /// server's own 515k).
    pub(crate) async fn getattr_impl(
        &self,
        _req: &ninefold_server::Request,
        _mask: GetattrMask,
    ) -> Result<Attr> {
        attr_of(&self.fs, self.fd.as_fd()).map_err(errno)
    }

    /// Applies a Tsetattr. `open` is the descriptor of the fid's open
    /// handle when it is writable (truncation then uses it, as
    /// `ftruncate` does).
    pub(crate) async fn setattr_impl(
        &self,
        req: &ninefold_server::Request,
        attr: &SetAttr,
        open: Option<Arc<OwnedFd>>,
    ) -> Result<()> {
        let valid = attr.valid;
        if !changes(valid) {
            return Ok(());
        }
        self.writable()?;
        let atime = timespec(
            valid.contains(SetattrMask::ATIME),
            valid.contains(SetattrMask::ATIME_SET),
            attr.atime_sec,
            attr.atime_nsec,
        )?;
        let mtime = timespec(
            valid.contains(SetattrMask::MTIME),
            valid.contains(SetattrMask::MTIME_SET),
            attr.mtime_sec,
            attr.mtime_nsec,
        )?;
        let ids = &self.fs.opts.id_map;
        let uid = valid.contains(SetattrMask::UID).then(|| ids.uid_to_host(attr.uid));
        let gid = valid.contains(SetattrMask::GID).then(|| ids.gid_to_host(attr.gid));
        let mode = valid.contains(SetattrMask::MODE).then_some(attr.mode & 0o7777);
        let size = valid.contains(SetattrMask::SIZE).then_some(attr.size);
        let fs = self.fs.clone();
        let fd = self.fd.clone();
        let kind = self.kind;
        let work = move || {
            // chown first: it clears set-id bits a chmod may set.
            if uid.is_some() || gid.is_some() {
                rustix::fs::chownat(
                    fd.as_fd(),
                    "",
                    uid.map(Uid::from_raw_unchecked),
                    gid.map(Gid::from_raw_unchecked),
                    AtFlags::EMPTY_PATH | AtFlags::SYMLINK_NOFOLLOW,
                )
                .map_err(errno)?;
            }
            if let Some(mode) = mode {
                chmod(&fs, &fd, kind, mode)?;
            }
            if let Some(size) = size {
                truncate(&fs, &fd, kind, open.as_deref(), size)?;
            }
            if valid.intersects(SetattrMask::ATIME | SetattrMask::MTIME) {
                let times = Timestamps { last_access: atime, last_modification: mtime };
                rustix::fs::utimensat(
                    fd.as_fd(),
                    "",
                    &times,
                    AtFlags::EMPTY_PATH | AtFlags::SYMLINK_NOFOLLOW,
                )
                .map_err(errno)?;
            }
            Ok(())
        };
        // A truncate may free a large file's blocks: the blocking pool.
        // Owners, modes and times are metadata calls (see `cheap_as`).
        if size.is_some() {
            blocking_as(&self.fs, req, work).await
        } else {
            cheap_as(&self.fs, req, work).await
        }
    }

    pub(crate) async fn statfs_impl(&self, req: &ninefold_server::Request) -> Result<StatFs> {
        let fd = self.fd.clone();
        blocking_as(&self.fs, req, move || {
            let st = rustix::fs::fstatfs(fd.as_fd()).map_err(errno)?;
            // statvfs carries the filesystem id as one number.
            let fsid = rustix::fs::fstatvfs(fd.as_fd()).map_err(errno)?.f_fsid;
            Ok(StatFs {
                ty: st.f_type as u32,
                bsize: st.f_bsize as u32,
                blocks: st.f_blocks,
                bfree: st.f_bfree,
                bavail: st.f_bavail,
                files: st.f_files,
                ffree: st.f_ffree,
                fsid,
                namelen: st.f_namelen as u32,
            })
        })
        .await
    }
}

/// chmod through the `/proc/self/fd/N` magic link (`fchmod` refuses
/// `O_PATH` descriptors). Symlinks have no mode of their own on Linux.
/// Blocking.
pub(crate) fn chmod(fs: &Shared, fd: &OwnedFd, kind: Kind, mode: u32) -> Result<()> {
    if kind == Kind::Symlink {
        return Err(Errno::EOPNOTSUPP);
    }
    rustix::fs::chmodat(
        fs.proc_fd().map_err(errno)?,
        fd_name(fd),
        Mode::from_raw_mode(mode),
        AtFlags::empty(),
    )
    .map_err(errno)
}

/// Truncates or extends a regular file: on the open descriptor when
/// there is one, else on a write-only reopen through `/proc`. Blocking.
fn truncate(
    fs: &Shared,
    fd: &OwnedFd,
    kind: Kind,
    open: Option<&OwnedFd>,
    size: u64,
) -> Result<()> {
    match kind {
        Kind::File => {}
        Kind::Dir => return Err(Errno::EISDIR),
        _ => return Err(Errno::EINVAL),
    }
    if let Some(open) = open {
        return rustix::fs::ftruncate(open, size).map_err(errno);
    }
    let file = fs.reopen(fd, OFlags::WRONLY | OFlags::NONBLOCK).map_err(errno)?;
    rustix::fs::ftruncate(&file, size).map_err(errno)
}
