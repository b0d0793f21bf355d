//! The raw system calls rustix has no safe wrapper for: open file
//! description (OFD) byte-range locks. The only module of the crate
//! allowed `unsafe`; every block says why it is sound.

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
