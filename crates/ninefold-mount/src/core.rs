//! [`Core`]: the state every FUSE operation shares, and the helpers they
//! use (fids of nodes and open handles, attribute conversion, errors).

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use fuser::{FileAttr, FileType};
use ninefold_client::proto::l::Attr;
use ninefold_client::{Errno, Error, Fid, OpenFlags, Result};
use ninefold_proto::{S_IFBLK, S_IFCHR, S_IFDIR, S_IFIFO, S_IFLNK, S_IFMT, S_IFSOCK};

use crate::behind::Behind;
use crate::inode::{node_id, Plan, Stamp, Table};
use crate::options::{CacheMode, MountOptions};
use crate::remote::{Conn, Remote};

/// Who is asking: the identity the server sees and the caller's pid.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Who {
    /// Key of the attach (and of the fids) used for this request.
    pub(crate) uid: u32,
    /// Group for new files.
    pub(crate) gid: u32,
    /// The caller's real uid/gid, for `access`.
    pub(crate) real_uid: u32,
    pub(crate) real_gid: u32,
    pub(crate) pid: u32,
}

/// An open file or directory.
#[derive(Debug)]
pub(crate) struct Handle {
    pub(crate) ino: u64,
    pub(crate) uid: u32,
    /// Tlopen flags to reopen with after a reconnect.
    pub(crate) flags: OpenFlags,
    pub(crate) fid: Mutex<Arc<Fid>>,
    /// Whether anything was written through it.
    pub(crate) wrote: AtomicBool,
    /// A directory's last listing block.
    pub(crate) dir: tokio::sync::Mutex<crate::ops_dir::DirBuf>,
}

/// Shared state of one mount.
#[derive(Debug)]
pub(crate) struct Core {
    pub(crate) remote: Remote,
    pub(crate) table: Table,
    pub(crate) opts: MountOptions,
    pub(crate) handles: Mutex<HashMap<u64, Arc<Handle>>>,
    next_fh: AtomicU64,
    /// Lock fids per (node, lock owner): POSIX locks belong to a process,
    /// flock locks to an open file; both are one fid on the server.
    pub(crate) locks: Mutex<HashMap<(u64, u64), Arc<Fid>>>,
    /// This host's name (the Tlock client id).
    pub(crate) client_id: String,
    /// Kernel cache invalidation (set once the session exists).
    pub(crate) notifier: std::sync::OnceLock<fuser::Notifier>,
    /// Writes answered but not yet on the server.
    pub(crate) behind: Behind,
    /// Nodes seen without `security.capability`, and when.
    pub(crate) no_caps: Mutex<HashMap<u64, std::time::Instant>>,
    /// Nodes seen without set-user/group-ID bits, and when (writes by
    /// unprivileged users need not clear them).
    pub(crate) plain: Mutex<HashMap<u64, std::time::Instant>>,
    /// The last Rstatfs per attach uid, and when: `find` asks statfs of
    /// every directory it enters (gnulib fts), a round trip each.
    pub(crate) statfs:
        Mutex<HashMap<u32, (std::time::Instant, ninefold_client::proto::l::Rstatfs)>>,
    /// Subdirectories opened ahead of a tree walker.
    pub(crate) pre: crate::prefetch::Prefetch,
}

impl Core {
    pub(crate) fn new(remote: Remote, root_qpath: u64, opts: MountOptions) -> Core {
        let client_id = rustix::system::uname().nodename().to_string_lossy().into_owned();
        let behind = Behind::new(opts.write_behind);
        Core {
            behind,
            remote,
            table: Table::new(root_qpath),
            opts,
            handles: Mutex::new(HashMap::new()),
            next_fh: AtomicU64::new(1),
            locks: Mutex::new(HashMap::new()),
            client_id,
            notifier: std::sync::OnceLock::new(),
            no_caps: Mutex::new(HashMap::new()),
            plain: Mutex::new(HashMap::new()),
            statfs: Mutex::new(HashMap::new()),
            pre: crate::prefetch::Prefetch::default(),
        }
    }

    /// A change was made through the mount: listings prefetched before
    /// it are not used (see prefetch.rs).
    pub(crate) fn touched(&self) {
        self.pre.touched();
    }

    /// Attribute / entry time to live.
    pub(crate) fn ttl(&self) -> Duration {
        self.opts.ttl()
    }

    pub(crate) fn cache(&self) -> CacheMode {
        self.opts.cache
    }

    /// A walked fid of node `id` for `uid` on `c` (walked again from the
    /// nearest cached ancestor when needed).
    pub(crate) async fn fid_of(&self, c: &Conn, id: u64, uid: u32) -> Result<Arc<Fid>> {
        let plan = self.table.plan(id, uid, |f| c.session.owns(f)).map_err(Error::Io)?;
        let (from, names, qpath) = match plan {
            Plan::Have(f) => return Ok(f),
            Plan::Walk { from, names, qpath } => (from, names, qpath),
        };
        let mut cur = match from {
            Some(f) => f,
            None => self.remote.root(c, uid).await?,
        };
        let mut last = None;
        for chunk in names.chunks(16) {
            let (f, qids) = c.session.walk(&cur, chunk).await?;
            cur = Arc::new(f);
            last = qids.last().copied();
        }
        if let Some(q) = last {
            if q.path != qpath {
                // Something else lives at the old path now.
                return Err(Error::Io(Errno::ESTALE));
            }
        }
        self.table.store_fid(id, uid, cur.clone());
        Ok(cur)
    }

    /// A new fid of node `id` (a clone, to open or create with).
    pub(crate) async fn clone_fid(&self, c: &Conn, id: u64, uid: u32) -> Result<Fid> {
        let base = self.fid_of(c, id, uid).await?;
        Ok(c.session.walk::<&[u8]>(&base, &[]).await?.0)
    }

    /// A new fid of node `id` opened with `flags`: one Tlopenat on
    /// `.Z` (clone and open in one round trip), else a clone and Tlopen.
    pub(crate) async fn open_fid(
        &self,
        c: &Conn,
        id: u64,
        uid: u32,
        flags: OpenFlags,
    ) -> Result<Fid> {
        if c.session.dialect() == ninefold_client::Dialect::Z {
            let base = self.fid_of(c, id, uid).await?;
            return Ok(c.session.lopenat(&base, flags).await?.0);
        }
        let fid = self.clone_fid(c, id, uid).await?;
        c.session.lopen(&fid, flags).await?;
        Ok(fid)
    }

    /// Registers an open handle; returns its number.
    pub(crate) fn add_handle(&self, ino: u64, uid: u32, flags: OpenFlags, fid: Fid) -> u64 {
        self.add_handle_shared(ino, uid, flags, Arc::new(fid))
    }

    /// [`add_handle`](Core::add_handle) of a fid already shared.
    pub(crate) fn add_handle_shared(
        &self,
        ino: u64,
        uid: u32,
        flags: OpenFlags,
        fid: Arc<Fid>,
    ) -> u64 {
        let fh = self.next_fh.fetch_add(1, Ordering::Relaxed);
        let h = Handle {
            ino,
            uid,
            flags,
            fid: Mutex::new(fid),
            wrote: AtomicBool::new(false),
            dir: tokio::sync::Mutex::default(),
        };
        lock(&self.handles).insert(fh, Arc::new(h));
        fh
    }

    pub(crate) fn handle(&self, fh: u64) -> Result<Arc<Handle>> {
        lock(&self.handles).get(&fh).cloned().ok_or(Error::Io(Errno::EBADF))
    }

    /// Some open handle of node `id`, if any.
    pub(crate) fn any_handle_of(&self, id: u64) -> Option<Arc<Handle>> {
        lock(&self.handles).values().find(|h| h.ino == id).cloned()
    }

    pub(crate) fn take_handle(&self, fh: u64) -> Option<Arc<Handle>> {
        lock(&self.handles).remove(&fh)
    }

    /// The open fid of `h` on `c`, reopened (walk + Tlopen with the same
    /// flags) when it belongs to a connection that is gone.
    pub(crate) async fn handle_fid(&self, c: &Conn, h: &Handle) -> Result<Arc<Fid>> {
        {
            let f = lock(&h.fid);
            if c.session.owns(&f) {
                return Ok(f.clone());
            }
        }
        let fid = Arc::new(self.open_fid(c, h.ino, h.uid, h.flags).await?);
        *lock(&h.fid) = fid.clone();
        Ok(fid)
    }

    /// Tgetattr of `fid` as a FUSE attribute record for node `id`.
    /// Queued writes of the node land first, so the size is current.
    pub(crate) async fn attr_of(&self, c: &Conn, fid: &Fid, id: u64) -> Result<(FileAttr, Attr)> {
        self.behind.settle(id, None).await;
        let r = c.session.getattr(fid, ninefold_client::GetattrMask::BASIC).await?;
        Ok((to_file_attr(&r.attr, id), r.attr))
    }

    /// Walks `name` in directory node `parent`, stats it and records the
    /// lookup. Returns the node id and its attributes.
    pub(crate) async fn lookup_in(
        &self,
        c: &Conn,
        parent: u64,
        name: &[u8],
        uid: u32,
    ) -> Result<(u64, FileAttr)> {
        let dir = self.fid_of(c, parent, uid).await?;
        let root = self.table.root_qpath;
        let (fid, attr) = if c.session.dialect() == ninefold_client::Dialect::Z {
            // One round trip: Twalkgetattr. Attributes taken while writes
            // of the node were still queued are fetched again after them.
            let (fid, _, attr) = c.session.walkgetattr(&dir, &[name]).await?;
            let id = node_id(attr.qid.path, root);
            if self.behind.busy(id) {
                self.behind.settle(id, None).await;
                let a = c.session.getattr(&fid, ninefold_client::GetattrMask::BASIC).await?.attr;
                (fid, a)
            } else {
                (fid, attr)
            }
        } else {
            let (fid, qids) = c.session.walk(&dir, &[name]).await?;
            if let Some(q) = qids.last() {
                self.behind.settle(node_id(q.path, root), None).await;
            }
            let a = c.session.getattr(&fid, ninefold_client::GetattrMask::BASIC).await?.attr;
            (fid, a)
        };
        let id = self.table.remember(parent, name, attr.qid.path, uid, Some(Arc::new(fid)));
        Ok((id, to_file_attr(&attr, id)))
    }

    /// Groups of process `pid` (from /proc), plus `gid`.
    pub(crate) fn groups_of(pid: u32, gid: u32) -> Vec<u32> {
        let mut out = vec![gid];
        if let Ok(s) = std::fs::read_to_string(format!("/proc/{pid}/status")) {
            if let Some(line) = s.lines().find(|l| l.starts_with("Groups:")) {
                out.extend(line[7..].split_whitespace().filter_map(|g| g.parse::<u32>().ok()));
            }
        }
        out
    }
}

/// Locks a std mutex, ignoring poisoning (the data stays consistent: no
/// code path panics while holding one).
pub(crate) fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    match m.lock() {
        Ok(g) => g,
        Err(p) => p.into_inner(),
    }
}

/// The page-cache stamp of a server attribute record.
pub(crate) fn stamp_of(a: &Attr) -> Stamp {
    Stamp { mtime: (a.mtime_sec, a.mtime_nsec), ctime: (a.ctime_sec, a.ctime_nsec), size: a.size }
}

/// The FUSE errno for a client error.
pub(crate) fn errno(e: &Error) -> fuser::Errno {
    let n = e.errno().to_host().unwrap_or(libc_eio());
    fuser::Errno::from_i32(n)
}

const fn libc_eio() -> i32 {
    5
}

fn time(sec: u64, nsec: u64) -> SystemTime {
    UNIX_EPOCH + Duration::new(sec, (nsec % 1_000_000_000) as u32)
}

/// The FUSE file type of a mode.
pub(crate) fn kind_of(mode: u32) -> FileType {
    match mode & S_IFMT {
        S_IFDIR => FileType::Directory,
        S_IFLNK => FileType::Symlink,
        S_IFIFO => FileType::NamedPipe,
        S_IFSOCK => FileType::Socket,
        S_IFCHR => FileType::CharDevice,
        S_IFBLK => FileType::BlockDevice,
        _ => FileType::RegularFile,
    }
}

/// A server attribute record as FUSE's, for node `id`.
pub(crate) fn to_file_attr(a: &Attr, id: u64) -> FileAttr {
    FileAttr {
        ino: fuser::INodeNo(id),
        size: a.size,
        blocks: a.blocks,
        atime: time(a.atime_sec, a.atime_nsec),
        mtime: time(a.mtime_sec, a.mtime_nsec),
        ctime: time(a.ctime_sec, a.ctime_nsec),
        crtime: time(a.btime_sec, a.btime_nsec),
        kind: kind_of(a.mode),
        perm: (a.mode & 0o7777) as u16,
        nlink: a.nlink.min(u64::from(u32::MAX)) as u32,
        uid: a.uid,
        gid: a.gid,
        rdev: a.rdev as u32,
        blksize: if a.blksize == 0 { 4096 } else { a.blksize.min(1 << 20) as u32 },
        flags: 0,
    }
}

/// Host open(2) flags to the Tlopen flags we send: the access mode and
/// the flags a server should see (never CREATE/EXCL/TRUNC, which the
/// kernel handles, nor APPEND, whose offsets the kernel computes).
pub(crate) fn open_flags(flags: i32) -> OpenFlags {
    let acc = (flags & 0o3) as u32;
    let mut f = OpenFlags::from_bits_truncate(acc);
    let pass = [(0o4010000, OpenFlags::SYNC), (0o10000, OpenFlags::DSYNC)];
    for (host, wire) in pass {
        if flags & host == host {
            f |= wire;
        }
    }
    f
}
