//! Extended attributes: get, list, set with CREATE/REPLACE, remove, with
//! size limits and namespace permissions.
//!
//! - `user.*`: read needs read permission, change needs write permission;
//!   only regular files and directories carry them (EPERM otherwise).
//! - `trusted.*`: the superuser only (others see ENODATA and get EPERM).
//! - other namespaces: stored as given; changes need ownership.

use bytes::Bytes;
use ninefold_proto::{Errno, XattrFlags, S_IFDIR, S_IFMT, S_IFREG};
use ninefold_server::{Request, Result};

use super::meta::Meta;
use super::node::MemNode;
use super::perm;

/// Bytes charged to the filesystem for `meta`'s attributes.
pub(crate) fn charged(meta: &Meta) -> u64 {
    meta.xattrs.iter().map(|(k, v)| (k.len() + v.len()) as u64).sum()
}

fn is_user(name: &[u8]) -> bool {
    name.starts_with(b"user.")
}

fn is_trusted(name: &[u8]) -> bool {
    name.starts_with(b"trusted.")
}

impl MemNode {
    fn check_xattr_name(&self, name: &[u8]) -> Result<()> {
        if name.is_empty() {
            return Err(Errno::EINVAL);
        }
        if name.len() > self.shared.limits.max_xattr_name {
            return Err(Errno::ERANGE);
        }
        // Linux knows these namespaces and nothing else.
        const NAMESPACES: [&[u8]; 4] = [b"user.", b"trusted.", b"security.", b"system."];
        if !NAMESPACES.iter().any(|ns| name.starts_with(ns) && name.len() > ns.len()) {
            return Err(Errno::EOPNOTSUPP);
        }
        Ok(())
    }

    /// Whether the caller may change attribute `name` of `meta`.
    fn check_xattr_change(&self, meta: &Meta, req: &Request, name: &[u8]) -> Result<()> {
        let enforce = self.shared.permissions;
        if is_user(name) {
            let ty = meta.mode & S_IFMT;
            if ty != S_IFREG && ty != S_IFDIR {
                return Err(Errno::EPERM);
            }
            perm::check(enforce, meta, req, perm::W)
        } else if is_trusted(name) {
            if enforce && perm::caller(req).is_some() {
                Err(Errno::EPERM)
            } else {
                Ok(())
            }
        } else if enforce && !perm::is_owner(meta, req) {
            Err(Errno::EPERM)
        } else {
            Ok(())
        }
    }

    /// Whether attribute `name` is visible to the caller.
    fn xattr_visible(&self, req: &Request, name: &[u8]) -> bool {
        !(self.shared.permissions && is_trusted(name) && perm::caller(req).is_some())
    }

    pub(crate) fn xattr_get_impl(&self, req: &Request, name: &[u8]) -> Result<Bytes> {
        self.check_xattr_name(name)?;
        let st = self.read_state();
        if !self.xattr_visible(req, name) {
            return Err(Errno::ENODATA);
        }
        if is_user(name) {
            perm::check(self.shared.permissions, &st.meta, req, perm::R)?;
        }
        st.meta.xattrs.get(name).cloned().ok_or(Errno::ENODATA)
    }

    pub(crate) fn xattr_list_impl(&self, req: &Request) -> Result<Vec<Bytes>> {
        let st = self.read_state();
        Ok(st.meta.xattrs.keys().filter(|k| self.xattr_visible(req, k)).cloned().collect())
    }

    pub(crate) fn xattr_set_impl(
        &self,
        req: &Request,
        name: &[u8],
        value: Bytes,
        flags: XattrFlags,
    ) -> Result<()> {
        self.check_xattr_name(name)?;
        if flags.bits() & !XattrFlags::all().bits() != 0 || flags.contains(XattrFlags::all()) {
            return Err(Errno::EINVAL);
        }
        if value.len() > self.shared.limits.max_xattr_value {
            return Err(Errno::E2BIG);
        }
        let mut st = self.write_state();
        self.check_xattr_change(&st.meta, req, name)?;
        let old = st.meta.xattrs.get(name).map(|v| v.len() + name.len());
        match old {
            Some(_) if flags.contains(XattrFlags::CREATE) => return Err(Errno::EEXIST),
            None if flags.contains(XattrFlags::REPLACE) => return Err(Errno::ENODATA),
            _ => {}
        }
        let new = (name.len() + value.len()) as u64;
        let old = old.unwrap_or(0) as u64;
        if new > old {
            self.shared.charge_bytes(new - old)?;
        } else {
            self.shared.release_bytes(old - new);
        }
        st.meta.xattrs.insert(Bytes::copy_from_slice(name), value);
        st.meta.touch_changed();
        Ok(())
    }

    pub(crate) fn xattr_remove_impl(&self, req: &Request, name: &[u8]) -> Result<()> {
        self.check_xattr_name(name)?;
        let mut st = self.write_state();
        if !self.xattr_visible(req, name) {
            return Err(Errno::ENODATA);
        }
        if !st.meta.xattrs.contains_key(name) {
            return Err(Errno::ENODATA);
        }
        self.check_xattr_change(&st.meta, req, name)?;
        if let Some(v) = st.meta.xattrs.remove(name) {
            self.shared.release_bytes((name.len() + v.len()) as u64);
        }
        st.meta.touch_changed();
        Ok(())
    }
}
