//! Lookup (one walk element) and readlink: one component at a time,
//! never following a symbolic link, never leaving the parent.

use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::sync::Arc;

use bytes::Bytes;
use ninefold_proto::Errno;
use ninefold_server::{Node, Request, Result};
use rustix::fs::{Mode, OFlags, ResolveFlags};

use super::node::{blocking_as, cheap_as, errno, Kind, PassthroughNode, Shared};

/// How often a lookup is retried when `openat2` reports a racing rename.
const OPENAT2_RETRIES: usize = 32;

/// The longest name a host filesystem takes (NAME_MAX).
const NAME_MAX: usize = 255;

/// Checks a single path component: not empty, not `.` or `..`, no `/`
/// or NUL. The server checks this too; this is defence in depth.
pub(crate) fn check_name(name: &[u8]) -> Result<&std::ffi::OsStr> {
    if name.is_empty() || name == b"." || name == b".." || name.iter().any(|&b| b == b'/' || b == 0)
    {
        return Err(Errno::EINVAL);
    }
    if name.len() > NAME_MAX {
        return Err(Errno::ENAMETOOLONG);
    }
    Ok(std::ffi::OsStr::from_bytes(name))
}

/// Opens `name` in directory `dir` as an `O_PATH | O_NOFOLLOW` descriptor
/// (a symlink gives the link itself). With `openat2`, resolution is also
/// confined beneath `dir` and refuses every symlink and magic link; the
/// fallback is safe too because `name` is one component without `/`.
/// Blocking.
pub(crate) fn open_child(
    fs: &Shared,
    dir: BorrowedFd<'_>,
    name: &std::ffi::OsStr,
) -> rustix::io::Result<OwnedFd> {
    let flags = OFlags::PATH | OFlags::NOFOLLOW | OFlags::CLOEXEC;
    if fs.openat2 {
        let resolve =
            ResolveFlags::BENEATH | ResolveFlags::NO_SYMLINKS | ResolveFlags::NO_MAGICLINKS;
        let mut result = Err(rustix::io::Errno::AGAIN);
        // openat2 asks to retry (EAGAIN) when a rename raced the lookup;
        // a bounded number of times, then the client sees EAGAIN.
        for _ in 0..OPENAT2_RETRIES {
            result = rustix::fs::openat2(dir, name, flags, Mode::empty(), resolve);
            if !matches!(result, Err(rustix::io::Errno::AGAIN)) {
                break;
            }
        }
        result
    } else {
        rustix::fs::openat(dir, name, flags, Mode::empty())
    }
}

impl PassthroughNode {
    /// Requires a directory (ENOTDIR otherwise).
    pub(crate) fn dir(&self) -> Result<()> {
        if self.kind == Kind::Dir {
            Ok(())
        } else {
            Err(Errno::ENOTDIR)
        }
    }

    pub(crate) async fn lookup_impl(&self, req: &Request, name: &[u8]) -> Result<Arc<dyn Node>> {
        let name = check_name(name)?.to_owned();
        self.dir()?;
        let fs = self.fs.clone();
        let parent = self.fd.clone();
        let parent_path = self.qid.path;
        let charge = self.fs.fds.charge(req)?;
        cheap_as(&self.fs, req, move || {
            if let Some(mut node) =
                PassthroughNode::live_child(&fs, parent.as_fd(), &name, parent_path)
            {
                // A node sharing a descriptor still counts against the
                // connection's budget: it pins the descriptor too.
                node.charge = charge;
                return Ok(Arc::new(node) as Arc<dyn Node>);
            }
            let fd = open_child(&fs, parent.as_fd(), &name).map_err(errno)?;
            let mut node =
                PassthroughNode::from_child(&fs, fd, parent_path, &name).map_err(errno)?;
            node.charge = charge;
            Ok(Arc::new(node) as Arc<dyn Node>)
        })
        .await
    }

    /// The object at `name` in `parent` when another fid holds it open
    /// and the index remembers it there: one `statx` of the name (never
    /// following a symlink) instead of an open, a stat and a close. The
    /// name must still hold that very object: same device and inode
    /// number, which cannot have been reused while a descriptor holds the
    /// inode. Anything else (not remembered, not live, replaced, an error)
    /// is `None`, and the caller opens the name. Blocking.
    fn live_child(
        fs: &Arc<Shared>,
        parent: BorrowedFd<'_>,
        name: &std::ffi::OsStr,
        parent_path: u64,
    ) -> Option<PassthroughNode> {
        let (path, fd) = fs.index.guess(parent_path, name)?;
        let st = rustix::fs::statx(
            parent,
            name,
            rustix::fs::AtFlags::SYMLINK_NOFOLLOW,
            rustix::fs::StatxFlags::BASIC_STATS | rustix::fs::StatxFlags::BTIME,
        )
        .ok()?;
        let kind = Kind::from_mode(u32::from(st.stx_mode));
        let qid = fs.qids.qid(kind, &st, fs.opts.qid_version);
        (qid.path == path).then(|| PassthroughNode::with_fd(fs, fd, kind, qid, &st))
    }

    pub(crate) async fn readlink_impl(&self, req: &Request) -> Result<Bytes> {
        if self.kind != Kind::Symlink {
            return Err(Errno::EINVAL);
        }
        let fd = self.fd.clone();
        blocking_as(&self.fs, req, move || {
            // An empty path reads the link the O_PATH descriptor names.
            let target = rustix::fs::readlinkat(fd.as_fd(), "", Vec::new()).map_err(errno)?;
            Ok(Bytes::from(target.into_bytes()))
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_names_are_einval() {
        for bad in [&b""[..], b".", b"..", b"a/b", b"/", b"a\0b", b"../x", b"x/.."] {
            assert_eq!(check_name(bad).unwrap_err(), Errno::EINVAL, "{bad:?}");
        }
        assert_eq!(check_name(&[b'a'; 256]).unwrap_err(), Errno::ENAMETOOLONG);
        assert!(check_name(b"...").is_ok());
        assert!(check_name(b".hidden").is_ok());
        assert!(check_name(&[0xff, 0xfe]).is_ok());
    }
}
