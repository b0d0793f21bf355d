//! Extended attributes, through the node's `/proc/self/fd/N` magic link
//! (the `f*xattr` calls refuse `O_PATH` descriptors). The magic link
//! names the inode itself, so nothing outside can be reached.
//!
//! A symlink's magic link cannot be used that way (following it lands on
//! the link, and `l*xattr` would act on the proc entry instead), so a
//! symlink node shows no attributes and refuses to set them: EPERM for
//! `user.*`, which is what the host answers for symlinks, EOPNOTSUPP for
//! the other namespaces.
//!
//! A request running as a user (see [`creds`](super::creds)) keeps the
//! root server's CAP_SYS_ADMIN, which the fsuid does not drop: the
//! `trusted.*` namespace is refused here as the host refuses it to
//! users (ENODATA to read, EPERM to change, left out of lists).

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;

use bytes::Bytes;
use ninefold_proto::{Errno, XattrFlags};
use ninefold_server::{Request, Result};

use super::creds::Who;
use super::node::{cheap_as, errno, proc_path, Kind, PassthroughNode};

/// The largest value or list Linux handles (XATTR_SIZE_MAX).
const XATTR_SIZE_MAX: usize = 64 * 1024;

/// The namespace only CAP_SYS_ADMIN may use.
const TRUSTED: &[u8] = b"trusted.";

fn xattr_name(name: &[u8]) -> Result<std::ffi::OsString> {
    if name.is_empty() || name.contains(&0) || name.len() > 255 {
        return Err(Errno::EINVAL);
    }
    Ok(OsStr::from_bytes(name).to_owned())
}

impl PassthroughNode {
    /// Whether `req` runs as a user, who may not use `trusted.*`.
    fn unprivileged(&self, req: &Request) -> bool {
        self.fs.who(req) != Who::Server
    }

    fn symlink_refusal(name: &[u8]) -> Errno {
        if name.starts_with(b"user.") {
            Errno::EPERM
        } else {
            Errno::EOPNOTSUPP
        }
    }

    pub(crate) async fn xattr_get_impl(&self, req: &Request, name: &[u8]) -> Result<Bytes> {
        let os_name = xattr_name(name)?;
        if self.kind == Kind::Symlink || (name.starts_with(TRUSTED) && self.unprivileged(req)) {
            return Err(Errno::ENODATA);
        }
        let name = os_name;
        let fd = self.fd.clone();
        cheap_as(&self.fs, req, move || {
            let path = proc_path(&fd);
            // The size may change between the query and the read: retry.
            for _ in 0..4 {
                let size = rustix::fs::getxattr_query(&path, &name).map_err(errno)?;
                if size == 0 {
                    return Ok(Bytes::new());
                }
                let mut buf = Vec::with_capacity(size.min(XATTR_SIZE_MAX));
                match rustix::fs::getxattr(&path, &name, rustix::buffer::spare_capacity(&mut buf)) {
                    Ok(_) => return Ok(Bytes::from(buf)),
                    Err(rustix::io::Errno::RANGE) => continue,
                    Err(e) => return Err(errno(e)),
                }
            }
            Err(Errno::ERANGE)
        })
        .await
    }

    pub(crate) async fn xattr_list_impl(&self, req: &Request) -> Result<Vec<Bytes>> {
        if self.kind == Kind::Symlink {
            return Ok(Vec::new());
        }
        let hide_trusted = self.unprivileged(req);
        let fd = self.fd.clone();
        cheap_as(&self.fs, req, move || {
            let path = proc_path(&fd);
            for _ in 0..4 {
                let size = rustix::fs::listxattr_query(&path).map_err(errno)?;
                if size == 0 {
                    return Ok(Vec::new());
                }
                let mut buf = Vec::with_capacity(size.min(XATTR_SIZE_MAX));
                match rustix::fs::listxattr(&path, rustix::buffer::spare_capacity(&mut buf)) {
                    Ok(_) => {
                        return Ok(buf
                            .split(|&b| b == 0)
                            .filter(|n| !n.is_empty())
                            .filter(|n| !(hide_trusted && n.starts_with(TRUSTED)))
                            .map(Bytes::copy_from_slice)
                            .collect())
                    }
                    Err(rustix::io::Errno::RANGE) => continue,
                    Err(e) => return Err(errno(e)),
                }
            }
            Err(Errno::ERANGE)
        })
        .await
    }

    pub(crate) async fn xattr_set_impl(
        &self,
        req: &Request,
        name: &[u8],
        value: Bytes,
        flags: XattrFlags,
    ) -> Result<()> {
        self.writable()?;
        let os_name = xattr_name(name)?;
        if self.kind == Kind::Symlink {
            return Err(Self::symlink_refusal(name));
        }
        if name.starts_with(TRUSTED) && self.unprivileged(req) {
            return Err(Errno::EPERM);
        }
        if value.len() > XATTR_SIZE_MAX {
            return Err(Errno::E2BIG);
        }
        let mut host = rustix::fs::XattrFlags::empty();
        if flags.contains(XattrFlags::CREATE) {
            host |= rustix::fs::XattrFlags::CREATE;
        }
        if flags.contains(XattrFlags::REPLACE) {
            host |= rustix::fs::XattrFlags::REPLACE;
        }
        let fd = self.fd.clone();
        cheap_as(&self.fs, req, move || {
            rustix::fs::setxattr(proc_path(&fd), &os_name, &value, host).map_err(errno)
        })
        .await
    }

    pub(crate) async fn xattr_remove_impl(&self, req: &Request, name: &[u8]) -> Result<()> {
        self.writable()?;
        let os_name = xattr_name(name)?;
        if self.kind == Kind::Symlink {
            return Err(Self::symlink_refusal(name));
        }
        if name.starts_with(TRUSTED) && self.unprivileged(req) {
            return Err(Errno::EPERM);
        }
        let fd = self.fd.clone();
        cheap_as(&self.fs, req, move || {
            rustix::fs::removexattr(proc_path(&fd), &os_name).map_err(errno)
        })
        .await
    }
}
