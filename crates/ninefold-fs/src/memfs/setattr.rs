//! setattr: chmod, chown, truncate and utimes, with their permission
//! rules and timestamp effects.

use ninefold_proto::l::SetAttr;
use ninefold_proto::{Errno, SetattrMask, S_IFDIR, S_IFMT};
use ninefold_server::{Request, Result};

use super::meta::Timespec;
use super::node::MemNode;
use super::perm;

impl MemNode {
    /// Applies `attr`. `writer` says the request came through a fid
    /// opened for writing, which may truncate and set times to "now"
    /// without a permission check.
    pub(crate) fn apply_setattr(&self, req: &Request, attr: &SetAttr, writer: bool) -> Result<()> {
        let v = attr.valid;
        let enforce = self.shared.permissions;
        let root = perm::caller(req).is_none();
        let mut st = self.write_state();

        // Checks first: a refused request changes nothing.
        if enforce {
            let owner = perm::is_owner(&st.meta, req);
            if v.contains(SetattrMask::MODE) && !owner {
                return Err(Errno::EPERM);
            }
            if v.contains(SetattrMask::UID) && attr.uid != st.meta.uid && !root {
                return Err(Errno::EPERM);
            }
            if v.contains(SetattrMask::GID) && attr.gid != st.meta.gid && !owner {
                return Err(Errno::EPERM);
            }
            if v.contains(SetattrMask::SIZE) && !writer {
                perm::check(true, &st.meta, req, perm::W)?;
            }
            let explicit = v.intersects(SetattrMask::ATIME_SET | SetattrMask::MTIME_SET);
            if v.intersects(SetattrMask::ATIME | SetattrMask::MTIME) && !owner {
                if explicit {
                    return Err(Errno::EPERM);
                }
                if !writer {
                    perm::check(true, &st.meta, req, perm::W)?;
                }
            }
        }
        if v.contains(SetattrMask::SIZE) {
            self.truncate_locked(&mut st, attr.size)?;
        }

        let meta = &mut st.meta;
        let is_dir = meta.mode & S_IFMT == S_IFDIR;
        let mut changed = false;
        if v.intersects(SetattrMask::UID | SetattrMask::GID) {
            if v.contains(SetattrMask::UID) {
                meta.uid = attr.uid;
            }
            if v.contains(SetattrMask::GID) {
                meta.gid = attr.gid;
            }
            // chown drops set-user-ID and group-executable set-group-ID
            // from non-directories (Linux does so for root too).
            if !is_dir {
                let mut kill = perm::S_ISUID;
                if meta.mode & 0o010 != 0 {
                    kill |= perm::S_ISGID;
                }
                meta.mode &= !kill;
            }
            changed = true;
        }
        if v.contains(SetattrMask::MODE) {
            meta.mode = (meta.mode & S_IFMT) | (attr.mode & 0o7777);
            changed = true;
        }
        let now = Timespec::now();
        if v.contains(SetattrMask::ATIME) {
            meta.atime = if v.contains(SetattrMask::ATIME_SET) {
                Timespec { sec: attr.atime_sec, nsec: attr.atime_nsec }
            } else {
                now
            };
            changed = true;
        }
        if v.contains(SetattrMask::MTIME) {
            meta.mtime = if v.contains(SetattrMask::MTIME_SET) {
                Timespec { sec: attr.mtime_sec, nsec: attr.mtime_nsec }
            } else {
                now
            };
            changed = true;
        }
        if changed || v.contains(SetattrMask::CTIME) {
            meta.ctime = now;
        }
        Ok(())
    }
}
