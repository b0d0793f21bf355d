//! Permission checks from the caller's uid (see the module docs for the
//! group rule).

use ninefold_proto::{Errno, S_IFDIR, S_IFMT};
use ninefold_server::Request;

use super::meta::Meta;

/// Read permission.
pub(crate) const R: u32 = 4;
/// Write permission.
pub(crate) const W: u32 = 2;
/// Execute / search permission.
pub(crate) const X: u32 = 1;

/// S_ISUID.
pub(crate) const S_ISUID: u32 = 0o4000;
/// S_ISGID.
pub(crate) const S_ISGID: u32 = 0o2000;
/// S_ISVTX (sticky).
pub(crate) const S_ISVTX: u32 = 0o1000;

/// The caller's uid, `None` for the superuser (uid 0 or no uid).
pub(crate) fn caller(req: &Request) -> Option<u32> {
    match req.uid() {
        None | Some(0) => None,
        Some(uid) => Some(uid),
    }
}

/// The uid new objects get: the caller's, or 0.
pub(crate) fn owner_of_new(req: &Request) -> u32 {
    req.uid().unwrap_or(0)
}

/// Whether the caller may access `meta` for all of `want` (R|W|X bits).
pub(crate) fn allowed(meta: &Meta, uid: Option<u32>, want: u32) -> bool {
    let Some(uid) = uid else {
        // The superuser may do anything except execute a file that has
        // no execute bit at all; search on directories is always fine.
        if want & X != 0 && meta.mode & S_IFMT != S_IFDIR {
            return meta.mode & 0o111 != 0;
        }
        return true;
    };
    let bits =
        if uid == meta.uid { (meta.mode >> 6) & 7 } else { ((meta.mode >> 3) | meta.mode) & 7 };
    bits & want == want
}

/// EACCES unless the caller may access `meta` for `want`; always fine
/// when enforcement is off.
pub(crate) fn check(enforce: bool, meta: &Meta, req: &Request, want: u32) -> Result<(), Errno> {
    if !enforce || allowed(meta, caller(req), want) {
        Ok(())
    } else {
        Err(Errno::EACCES)
    }
}

/// Whether the caller owns `meta` or is the superuser.
pub(crate) fn is_owner(meta: &Meta, req: &Request) -> bool {
    caller(req).is_none_or(|uid| uid == meta.uid)
}

/// The sticky-directory rule for removing or renaming `child` out of
/// `dir`: EPERM unless the caller owns one of them (or is root).
pub(crate) fn check_sticky(
    enforce: bool,
    dir: &Meta,
    child_uid: u32,
    req: &Request,
) -> Result<(), Errno> {
    if !enforce || dir.mode & S_ISVTX == 0 {
        return Ok(());
    }
    match caller(req) {
        None => Ok(()),
        Some(uid) if uid == dir.uid || uid == child_uid => Ok(()),
        Some(_) => Err(Errno::EPERM),
    }
}
