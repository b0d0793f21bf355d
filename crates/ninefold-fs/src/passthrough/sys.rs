//! The raw system calls rustix has no safe wrapper for: open file
//! description (OFD) byte-range locks, the per-thread filesystem ids
//! (`setfsuid`/`setfsgid`), the host user database (`getpwuid_r`,
//! `getgrouplist`) and `cachestat`. The only module of the crate allowed `unsafe`; every
//! block says why it is sound.

use std::io;
use std::os::fd::{AsRawFd, BorrowedFd};

/// A byte range lock type, as `fcntl` takes it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum LockKind {
    Read,
    Write,
    Unlock,
}

impl LockKind {
    fn raw(self) -> libc::c_short {
        (match self {
            LockKind::Read => libc::F_RDLCK,
            LockKind::Write => libc::F_WRLCK,
            LockKind::Unlock => libc::F_UNLCK,
        }) as libc::c_short
    }

    fn from_raw(raw: libc::c_short) -> Option<LockKind> {
        match libc::c_int::from(raw) {
            libc::F_RDLCK => Some(LockKind::Read),
            libc::F_WRLCK => Some(LockKind::Write),
            libc::F_UNLCK => Some(LockKind::Unlock),
            _ => None,
        }
    }
}

/// A lock found by [`ofd_getlk`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Conflict {
    pub(crate) kind: LockKind,
    pub(crate) start: i64,
    pub(crate) len: i64,
    pub(crate) pid: i32,
}

fn flock(kind: LockKind, start: i64, len: i64) -> libc::flock {
    // SAFETY: `libc::flock` is a plain C struct of integers, for which
    // all-zero bytes are a valid value; fields are set below.
    let mut fl: libc::flock = unsafe { std::mem::zeroed() };
    fl.l_type = kind.raw();
    fl.l_whence = libc::SEEK_SET as libc::c_short;
    fl.l_start = start;
    fl.l_len = len;
    // OFD locks require l_pid 0.
    fl.l_pid = 0;
    fl
}

/// `fcntl(fd, F_OFD_SETLK, ...)`: takes or releases a lock without
/// waiting. A conflict is `EAGAIN` (or `EACCES`).
pub(crate) fn ofd_setlk(
    fd: BorrowedFd<'_>,
    kind: LockKind,
    start: i64,
    len: i64,
) -> io::Result<()> {
    let fl = flock(kind, start, len);
    // SAFETY: `fd` is a live descriptor for the duration of the borrow,
    // and F_OFD_SETLK reads the `flock` struct we pass by valid pointer;
    // the kernel does not keep the pointer.
    let rc = unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_OFD_SETLK, &fl as *const libc::flock) };
    if rc == -1 {
        Err(io::Error::last_os_error())
    } else {
        Ok(())
    }
}

/// `fcntl(fd, F_OFD_GETLK, ...)`: the first lock of another open file
/// description that would conflict with `kind` over the range.
pub(crate) fn ofd_getlk(
    fd: BorrowedFd<'_>,
    kind: LockKind,
    start: i64,
    len: i64,
) -> io::Result<Option<Conflict>> {
    let mut fl = flock(kind, start, len);
    // SAFETY: `fd` is live for the borrow; F_OFD_GETLK reads and writes
    // the `flock` struct through a valid, exclusive pointer and keeps no
    // reference to it.
    let rc = unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_OFD_GETLK, &mut fl as *mut libc::flock) };
    if rc == -1 {
        return Err(io::Error::last_os_error());
    }
    match LockKind::from_raw(fl.l_type) {
        Some(LockKind::Unlock) => Ok(None),
        Some(kind) => Ok(Some(Conflict { kind, start: fl.l_start, len: fl.l_len, pid: fl.l_pid })),
        None => Err(io::Error::from_raw_os_error(libc::EIO)),
    }
}

/// `setfsuid(2)` as the raw system call: changes the filesystem uid of
/// the calling **thread** only. The call reports no error; success is
/// checked by reading the id back (`setfsuid(-1)` fails and returns the
/// current value).
pub(crate) fn set_fsuid(uid: u32) -> io::Result<()> {
    // SAFETY: setfsuid takes one integer argument and touches no memory
    // of ours; an id it refuses leaves the credentials unchanged.
    unsafe { libc::syscall(libc::SYS_setfsuid, libc::c_long::from(uid)) };
    // SAFETY: as above; -1 is never a valid id, so this only reads.
    let now = unsafe { libc::syscall(libc::SYS_setfsuid, -1 as libc::c_long) };
    if now as u32 == uid {
        Ok(())
    } else {
        Err(io::Error::from_raw_os_error(libc::EPERM))
    }
}

/// `setfsgid(2)` for the calling thread, checked like [`set_fsuid`].
pub(crate) fn set_fsgid(gid: u32) -> io::Result<()> {
    // SAFETY: one integer argument, no memory; a refused id changes
    // nothing.
    unsafe { libc::syscall(libc::SYS_setfsgid, libc::c_long::from(gid)) };
    // SAFETY: as above; -1 only reads the current value.
    let now = unsafe { libc::syscall(libc::SYS_setfsgid, -1 as libc::c_long) };
    if now as u32 == gid {
        Ok(())
    } else {
        Err(io::Error::from_raw_os_error(libc::EPERM))
    }
}

/// A host user's primary gid and every group it belongs to (primary
/// included), from the host user database; `None` when the uid has no
/// entry. Blocking (NSS may ask the network).
pub(crate) fn user_groups(uid: u32) -> io::Result<Option<(u32, Vec<u32>)>> {
    let mut buf = vec![0u8; 1024];
    // SAFETY: `passwd` is a plain C struct; all-zero is a valid value
    // and getpwuid_r fills it.
    let mut pwd: libc::passwd = unsafe { std::mem::zeroed() };
    loop {
        let mut found: *mut libc::passwd = std::ptr::null_mut();
        // SAFETY: every pointer is valid for the call: `pwd` and `found`
        // are exclusive locals, `buf` is a live buffer of the length we
        // pass. The strings `pwd` points to live in `buf`, which is not
        // touched again until we are done reading them below.
        let rc = unsafe {
            libc::getpwuid_r(uid, &mut pwd, buf.as_mut_ptr().cast(), buf.len(), &mut found)
        };
        if rc == libc::ERANGE && buf.len() < (1 << 20) {
            let len = buf.len() * 2;
            buf.resize(len, 0);
            continue;
        }
        if rc != 0 {
            return Err(io::Error::from_raw_os_error(rc));
        }
        if found.is_null() {
            return Ok(None);
        }
        break;
    }
    let gid = pwd.pw_gid;
    let mut groups: Vec<libc::gid_t> = vec![0; 64];
    loop {
        let mut n = libc::c_int::try_from(groups.len()).unwrap_or(libc::c_int::MAX);
        // SAFETY: `pwd.pw_name` points to a NUL-terminated name inside
        // `buf`, alive and unchanged since getpwuid_r; `groups` is a live
        // buffer of at least `n` entries and `n` an exclusive local.
        let rc = unsafe { libc::getgrouplist(pwd.pw_name, gid, groups.as_mut_ptr(), &mut n) };
        let n = usize::try_from(n).unwrap_or(0);
        if rc >= 0 {
            groups.truncate(n.min(groups.len()));
            return Ok(Some((gid, groups)));
        }
        // -1: too small; `n` is the size needed.
        if groups.len() >= 65536 {
            return Err(io::Error::from_raw_os_error(libc::ERANGE));
        }
        let len = n.max(groups.len() * 2).min(65536);
        groups.resize(len, 0);
    }
}

/// A descriptor shared by a handle and its reactor registration.
#[derive(Debug)]
pub(crate) struct SharedFd(pub(crate) std::sync::Arc<std::os::fd::OwnedFd>);

impl AsRawFd for SharedFd {
    fn as_raw_fd(&self) -> std::os::fd::RawFd {
        self.0.as_raw_fd()
    }
}

/// Registers `fd` with the current runtime's reactor, for readiness
/// waits on a non-blocking descriptor (a FIFO). Must be called inside a
/// Tokio runtime with I/O enabled.
pub(crate) fn register(fd: SharedFd) -> io::Result<tokio::io::unix::AsyncFd<SharedFd>> {
    // SAFETY: the registration owns an `Arc` of the `OwnedFd`, so the
    // descriptor stays open for as long as the `AsyncFd` lives, and an
    // `OwnedFd` never changes the number it returns from `as_raw_fd`.
    unsafe { tokio::io::unix::AsyncFd::register(fd) }.map_err(io::Error::from)
}

/// `preadv2` into `buf`'s spare capacity, at most up to `limit` bytes of
/// length, at `offset`; returns the bytes appended (0 at end of file).
/// With `nowait` (`RWF_NOWAIT`) it reads only what the page cache holds,
/// never waiting for the device: `EAGAIN` when the first byte is not
/// cached, `EOPNOTSUPP` (or `ENOSYS`, `EINVAL` on old kernels) when the
/// file or kernel cannot say.
pub(crate) fn pread_into(
    fd: BorrowedFd<'_>,
    buf: &mut Vec<u8>,
    limit: usize,
    offset: u64,
    nowait: bool,
) -> io::Result<usize> {
    let spare = limit.min(buf.capacity()).saturating_sub(buf.len());
    if spare == 0 {
        return Ok(0);
    }
    let offset =
        libc::off_t::try_from(offset).map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))?;
    let flags = if nowait { libc::RWF_NOWAIT } else { 0 };
    // SAFETY: the one iovec covers `spare` bytes of the spare capacity of
    // `buf` (`spare` ≤ capacity − length), which is allocated and not
    // aliased while we hold `&mut buf`; the kernel writes at most `spare`
    // bytes there.
    let n = unsafe {
        let iov = libc::iovec { iov_base: buf.as_mut_ptr().add(buf.len()).cast(), iov_len: spare };
        libc::preadv2(fd.as_raw_fd(), &iov, 1, offset, flags)
    };
    if n < 0 {
        return Err(io::Error::last_os_error());
    }
    let n = n as usize;
    // SAFETY: the kernel initialised the first `n` (≤ spare) bytes past
    // the old length.
    unsafe { buf.set_len(buf.len() + n) };
    Ok(n)
}

/// How many times the calling thread has slept in the kernel (voluntary
/// context switches, `ru_nvcsw` of `RUSAGE_THREAD`); 0 if unknown.
pub(crate) fn thread_sleeps() -> u64 {
    let mut usage = std::mem::MaybeUninit::<libc::rusage>::zeroed();
    // SAFETY: `usage` is a valid, writable `rusage`; RUSAGE_THREAD only
    // fills it in.
    let rc = unsafe { libc::getrusage(libc::RUSAGE_THREAD, usage.as_mut_ptr()) };
    if rc != 0 {
        return 0;
    }
    // SAFETY: zero-initialised and, on success, filled in by the kernel.
    let usage = unsafe { usage.assume_init() };
    u64::try_from(usage.ru_nvcsw).unwrap_or(0)
}

/// `cachestat(2)`'s system call number: 451 on every architecture (the
/// calls numbered from 424 on share one number everywhere); libc does not
/// name it on every target yet.
const SYS_CACHESTAT: libc::c_long = 451;

/// `struct cachestat_range`.
#[repr(C)]
struct CachestatRange {
    off: u64,
    len: u64,
}

/// `struct cachestat` (counts in pages).
#[repr(C)]
#[derive(Default)]
struct Cachestat {
    nr_cache: u64,
    nr_dirty: u64,
    nr_writeback: u64,
    nr_evicted: u64,
    nr_recently_evicted: u64,
}

/// How many pages of the `len` bytes at `offset` of `fd` the page cache
/// holds (`cachestat(2)`, Linux 6.5), or the error (`ENOSYS` on older
/// kernels).
pub(crate) fn cached_pages(fd: BorrowedFd<'_>, offset: u64, len: u64) -> io::Result<u64> {
    let range = CachestatRange { off: offset, len };
    let mut stat = Cachestat::default();
    // SAFETY: `range` and `stat` are live, properly laid out
    // `cachestat_range` / `cachestat` structs for the duration of the
    // call; the kernel only reads the first and writes the second; the
    // flags must be 0.
    let rc = unsafe {
        libc::syscall(
            SYS_CACHESTAT,
            fd.as_raw_fd(),
            &range as *const CachestatRange,
            &mut stat as *mut Cachestat,
            0 as libc::c_uint,
        )
    };
    if rc != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(stat.nr_cache)
}
