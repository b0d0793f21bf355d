//! Plans for 9P2000 and 9P2000.u servers (Plan 9, go-p9p style): Topen,
//! Tcreate, Tstat, Twstat and Tremove in place of the 9P2000.L messages.
//!
//! What these dialects can express and how:
//!
//! | call | 9P2000.u | 9P2000 |
//! |---|---|---|
//! | metadata, `File::metadata`, `Dir::metadata` | Tstat | Tstat (uid/gid only when the names are numbers) |
//! | set_attr | Twstat (mode, size, times; uid/gid as `n_uid`/`n_gid`) | Twstat (mode, size, times; uid/gid → `Unsupported`) |
//! | open / create / write | Topen / Tcreate (exclusive) | same |
//! | create_dir | Tcreate with DMDIR | same |
//! | remove_file / remove_dir | Twalk + Tremove | same |
//! | rename | Twstat of the name, same directory only | same |
//! | symlink / read_link | Tcreate DMSYMLINK / Tstat `extension` | `Unsupported` |
//! | mknod | Tcreate DMDEVICE / DMNAMEDPIPE / DMSOCKET | `Unsupported` |
//! | hard_link | Tcreate DMLINK | `Unsupported` |
//! | read_dir | Tread of stat records (metadata filled) | same |
//! | sync_all / sync_data | Twstat of an all "don't touch" record (the protocol's sync request) | same |
//! | statfs, locks | `Unsupported` | `Unsupported` |

use std::time::SystemTime;

use bytes::Bytes;
use ninefold_proto::base::{Stat, Tcreate, Topen, Tstat, Twstat};
use ninefold_proto::u::{DeviceKind, Extension};
use ninefold_proto::{
    Dialect, DirMode, Message, OpenFlags, OpenMode, P9String, S_IFBLK, S_IFCHR, S_IFDIR, S_IFIFO,
    S_IFLNK, S_IFREG, S_IFSOCK,
};

use super::{child_path, Cx};
use crate::error::{Error, Result};
use crate::file::File;
use crate::options::{NodeKind, OpenOptions, SetAttrs, SetTime};
use crate::session::{unexpected, Fid, Session};
use crate::types::{FileType, Metadata};
use crate::Timestamp;

/// Metadata from a 9P2000/.u stat record.
pub(crate) fn meta_from_stat(st: &Stat) -> Metadata {
    let m = st.mode;
    let ty = if m.contains(DirMode::DIR) {
        S_IFDIR
    } else if m.contains(DirMode::SYMLINK) {
        S_IFLNK
    } else if m.contains(DirMode::DEVICE) {
        if st.extension.as_bytes().starts_with(b"b") {
            S_IFBLK
        } else {
            S_IFCHR
        }
    } else if m.contains(DirMode::NAMEDPIPE) {
        S_IFIFO
    } else if m.contains(DirMode::SOCKET) {
        S_IFSOCK
    } else {
        S_IFREG
    };
    let mut perm = m.perm();
    if m.contains(DirMode::SETUID) {
        perm |= 0o4000;
    }
    if m.contains(DirMode::SETGID) {
        perm |= 0o2000;
    }
    if m.contains(DirMode::SETVTX) {
        perm |= 0o1000;
    }
    let id = |n: u32, name: &P9String| {
        if n != ninefold_proto::NONUNAME {
            n
        } else {
            std::str::from_utf8(name.as_bytes()).ok().and_then(|s| s.parse().ok()).unwrap_or(0)
        }
    };
    let rdev = match Extension::parse(m, st.extension.as_bytes()) {
        Ok(Extension::Device { major, minor, .. }) => {
            (u64::from(major) << 8) | u64::from(minor & 0xff) | (u64::from(minor >> 8) << 20)
        }
        _ => 0,
    };
    Metadata {
        ino: st.qid.path,
        file_type: FileType::from_mode(ty),
        mode: ty | perm,
        nlink: 1,
        uid: id(st.n_uid, &st.uid),
        gid: id(st.n_gid, &st.gid),
        size: st.length,
        block_size: 4096,
        blocks: st.length.div_ceil(512),
        rdev,
        atime: Timestamp { secs: i64::from(st.atime), nanos: 0 },
        mtime: Timestamp { secs: i64::from(st.mtime), nanos: 0 },
        ctime: Timestamp { secs: i64::from(st.mtime), nanos: 0 },
        btime: Timestamp::default(),
        data_version: 0,
    }
}

/// The Topen mode for Linux open flags.
pub(crate) fn open_mode(flags: OpenFlags) -> OpenMode {
    let mut m = if flags.contains(OpenFlags::RDWR) {
        OpenMode::RDWR
    } else if flags.contains(OpenFlags::WRONLY) {
        OpenMode::WRITE
    } else {
        OpenMode::READ
    };
    if flags.contains(OpenFlags::TRUNC) {
        m |= OpenMode::TRUNC;
    }
    m
}

/// Tstat of `fid`.
pub(crate) async fn stat(s: &Session, fid: &Fid) -> Result<Stat> {
    match s.call(Tstat { fid: fid.num() }).await? {
        Message::Rstat(r) => Ok(r.stat),
        other => Err(unexpected(&other, "Rstat")),
    }
}

/// Twstat of `fid`.
pub(crate) async fn wstat(s: &Session, fid: &Fid, stat: Stat) -> Result<()> {
    match s.call(Twstat { fid: fid.num(), stat }).await? {
        Message::Rwstat(_) => Ok(()),
        other => Err(unexpected(&other, "Rwstat")),
    }
}

/// Topen of `fid` with the Linux `flags` mapped to a 9P2000 mode.
pub(crate) async fn open(s: &Session, fid: &Fid, flags: OpenFlags) -> Result<(u64, u32)> {
    match s.call(Topen { fid: fid.num(), mode: open_mode(flags) }).await? {
        Message::Ropen(r) => Ok((r.qid.path, r.iounit)),
        other => Err(unexpected(&other, "Ropen")),
    }
}

/// Tcreate in the directory `fid` names; `fid` becomes the new object.
async fn create(
    s: &Session,
    fid: &Fid,
    name: &[u8],
    perm: DirMode,
    mode: OpenMode,
    extension: P9String,
) -> Result<(u64, u32)> {
    let msg = Tcreate { fid: fid.num(), name: name.to_vec().into(), perm, mode, extension };
    match s.call(msg).await? {
        Message::Rcreate(r) => Ok((r.qid.path, r.iounit)),
        other => Err(unexpected(&other, "Rcreate")),
    }
}

/// The target of the symlink `fid` names: Treadlink on .L, the stat
/// record's extension on 9P2000.u, `Unsupported` on 9P2000.
pub(crate) async fn readlink_any(s: &Session, fid: &Fid) -> Result<Bytes> {
    match s.dialect() {
        Dialect::U => {
            let st = stat(s, fid).await?;
            if !st.mode.contains(DirMode::SYMLINK) {
                return Err(Error::invalid("not a symlink"));
            }
            Ok(st.extension.into_bytes())
        }
        Dialect::Base => Err(Error::unsupported("symlinks", Dialect::Base)),
        _ => s.readlink(fid).await,
    }
}

/// Seconds for a 9P2000 time field.
fn secs(t: SetTime) -> Result<u32> {
    let ts = match t {
        SetTime::Now => Timestamp::from(SystemTime::now()),
        SetTime::At(t) => t,
    };
    u32::try_from(ts.secs).map_err(|_| Error::invalid("time does not fit 9P2000's 32-bit seconds"))
}

impl Cx<'_> {
    /// Tstat as metadata.
    pub(crate) async fn stat9(&self, fid: &Fid) -> Result<Metadata> {
        Ok(meta_from_stat(&stat(&self.session, fid).await?))
    }

    /// Twstat with what `attrs` changes.
    pub(crate) async fn wstat9(&self, fid: &Fid, attrs: SetAttrs) -> Result<()> {
        let mut st = Stat::dont_touch();
        if let Some(mode) = attrs.mode {
            // The type bits must stay as they are.
            let cur = stat(&self.session, fid).await?.mode;
            let keep = cur & !(DirMode::PERM | DirMode::SETUID | DirMode::SETGID | DirMode::SETVTX);
            let mut m = keep | DirMode::from_bits_retain(mode & 0o777);
            if mode & 0o4000 != 0 {
                m |= DirMode::SETUID;
            }
            if mode & 0o2000 != 0 {
                m |= DirMode::SETGID;
            }
            if mode & 0o1000 != 0 {
                m |= DirMode::SETVTX;
            }
            st.mode = m;
        }
        if attrs.uid.is_some() || attrs.gid.is_some() {
            if self.dialect() == Dialect::Base {
                return Err(Error::unsupported("numeric uid/gid changes", Dialect::Base));
            }
            if let Some(u) = attrs.uid {
                st.n_uid = u;
            }
            if let Some(g) = attrs.gid {
                st.n_gid = g;
            }
        }
        if let Some(size) = attrs.size {
            st.length = size;
        }
        if let Some(t) = attrs.atime {
            st.atime = secs(t)?;
        }
        if let Some(t) = attrs.mtime {
            st.mtime = secs(t)?;
        }
        wstat(&self.session, fid, st).await
    }

    /// Topen of a walked fid as a [`File`].
    pub(crate) async fn open9(
        &self,
        fid: Fid,
        names: Vec<P9String>,
        flags: OpenFlags,
        opts: &OpenOptions,
    ) -> Result<File> {
        let flags = if opts.truncate && opts.write { flags | OpenFlags::TRUNC } else { flags };
        let (ino, iounit) = open(&self.session, &fid, flags).await?;
        Ok(File::new(self.client.clone(), fid, iounit, flags, names, ino))
    }

    /// Tcreate of regular file `name` in `dir` (exclusive: an existing
    /// name fails).
    pub(crate) async fn create9(
        &self,
        dir: &Fid,
        name: &[u8],
        dir_names: &[P9String],
        flags: OpenFlags,
        opts: &OpenOptions,
    ) -> Result<File> {
        let s = &self.session;
        let (fid, _) = s.walk::<&[u8]>(dir, &[]).await?;
        let perm = DirMode::from_bits_retain(opts.mode & 0o777);
        let (ino, iounit) = create(s, &fid, name, perm, open_mode(flags), P9String::new()).await?;
        let path = child_path(dir_names, name);
        Ok(File::new(self.client.clone(), fid, iounit, flags | OpenFlags::CREATE, path, ino))
    }

    /// Tcreate of a directory or special file `name` in `dir`; returns the
    /// new object's metadata.
    pub(crate) async fn mkobj9(
        &self,
        dir: &Fid,
        name: &[u8],
        perm: DirMode,
        extension: P9String,
    ) -> Result<Metadata> {
        let s = &self.session;
        let (fid, _) = s.walk::<&[u8]>(dir, &[]).await?;
        create(s, &fid, name, perm, OpenMode::READ, extension).await?;
        self.stat9(&fid).await
    }

    /// mkdir.
    pub(crate) async fn mkdir9(&self, dir: &Fid, name: &[u8], mode: u32) -> Result<Metadata> {
        let perm = DirMode::DIR | DirMode::from_bits_retain(mode & 0o777);
        self.mkobj9(dir, name, perm, P9String::new()).await
    }

    /// symlink (9P2000.u only).
    pub(crate) async fn symlink9(&self, dir: &Fid, name: &[u8], target: &[u8]) -> Result<Metadata> {
        if self.dialect() == Dialect::Base {
            return Err(Error::unsupported("symlinks", Dialect::Base));
        }
        let (perm, ext) = Extension::Symlink(target.to_vec().into()).to_wire();
        self.mkobj9(dir, name, perm | DirMode::from_bits_retain(0o777), ext).await
    }

    /// mknod (9P2000.u only).
    pub(crate) async fn mknod9(
        &self,
        dir: &Fid,
        name: &[u8],
        kind: NodeKind,
        mode: u32,
    ) -> Result<Metadata> {
        if self.dialect() == Dialect::Base {
            return Err(Error::unsupported("device nodes, FIFOs and sockets", Dialect::Base));
        }
        let ext = match kind {
            NodeKind::Fifo => Extension::NamedPipe,
            NodeKind::Socket => Extension::Socket,
            NodeKind::BlockDevice { major, minor } => {
                Extension::Device { kind: DeviceKind::Block, major, minor }
            }
            NodeKind::CharDevice { major, minor } => {
                Extension::Device { kind: DeviceKind::Char, major, minor }
            }
        };
        let (perm, ext) = ext.to_wire();
        self.mkobj9(dir, name, perm | DirMode::from_bits_retain(mode & 0o777), ext).await
    }

    /// Hard link `name` in `dir` to `target` (9P2000.u only).
    pub(crate) async fn link9(&self, dir: &Fid, target: &Fid, name: &[u8]) -> Result<Metadata> {
        if self.dialect() == Dialect::Base {
            return Err(Error::unsupported("hard links", Dialect::Base));
        }
        let (perm, ext) = Extension::HardLink { fid: target.num() }.to_wire();
        let s = &self.session;
        let (fid, _) = s.walk::<&[u8]>(dir, &[]).await?;
        create(s, &fid, name, perm, OpenMode::READ, ext).await?;
        self.stat9(target).await
    }

    /// Rename within one directory: Twstat of the name. 9P2000 cannot move
    /// a file to another directory.
    pub(crate) async fn rename9(
        &self,
        odir: &Fid,
        oname: &[u8],
        ndir: &Fid,
        nname: &[u8],
    ) -> Result<()> {
        let s = &self.session;
        crate::path::check_name(nname)?;
        let (a, b) = (stat(s, odir).await?, stat(s, ndir).await?);
        if a.qid.path != b.qid.path {
            return Err(Error::unsupported("rename to another directory", self.dialect()));
        }
        let (fid, _) = s.walk(odir, &[oname]).await?;
        let mut st = Stat::dont_touch();
        st.name = nname.to_vec().into();
        wstat(s, &fid, st).await
    }

    /// The protocol's sync request: Twstat of an all "don't touch" record.
    pub(crate) async fn sync9(&self, fid: &Fid) -> Result<()> {
        wstat(&self.session, fid, Stat::dont_touch()).await
    }
}
