//! Rename: atomic, replacing, across directories, with the POSIX
//! refusals (EINVAL into its own subtree, ENOTEMPTY, EISDIR, ENOTDIR).

use std::sync::Arc;

use ninefold_proto::Errno;
use ninefold_server::{Node, Request, Result};

use super::dir::{dir_of, dir_of_mut, Entry};
use super::node::{Body, MemNode};
use super::perm;

/// Whether two nodes are the same object.
fn same_object(a: &Arc<dyn Node>, b: &Arc<dyn Node>) -> bool {
    std::ptr::addr_eq(Arc::as_ptr(a), Arc::as_ptr(b))
}

impl MemNode {
    /// Whether `self` is `ancestor` or lies below it.
    fn is_within(&self, ancestor: &MemNode) -> bool {
        if std::ptr::eq(self, ancestor) {
            return true;
        }
        let mut cur = self.parent_node();
        while let Some(node) = cur {
            if std::ptr::eq(&*node, ancestor) {
                return true;
            }
            cur = node.parent_node();
        }
        false
    }

    pub(crate) fn do_rename(
        &self,
        req: &Request,
        name: &[u8],
        new_dir: &Arc<dyn Node>,
        new_name: &[u8],
    ) -> Result<()> {
        let Some(nd) = new_dir.downcast_ref::<MemNode>() else {
            return Err(Errno::EXDEV);
        };
        if !self.same_fs(nd) {
            return Err(Errno::EXDEV);
        }
        if new_name.len() > self.shared.limits.max_name {
            return Err(Errno::ENAMETOOLONG);
        }
        let enforce = self.shared.permissions;
        let same_dir = std::ptr::eq(self, nd);
        // Several directories are locked below: the rename lock makes
        // that safe (every other operation locks at most one directory).
        let _rename = self.shared.rename_lock();
        let mut sa = self.write_state();
        let mut sb = if same_dir { None } else { Some(nd.write_state()) };

        // Checks: nothing changes until they all pass.
        let src: Entry = {
            let a = dir_of(&sa)?;
            let b = match &sb {
                Some(sb) => dir_of(sb)?,
                None => a,
            };
            perm::check(enforce, &sa.meta, req, perm::W | perm::X)?;
            if let Some(sb) = &sb {
                perm::check(enforce, &sb.meta, req, perm::W | perm::X)?;
            }
            if a.removed || b.removed {
                return Err(Errno::ENOENT);
            }
            a.get(name).ok_or(Errno::ENOENT)?.clone()
        };
        if same_dir && name == new_name {
            return Ok(());
        }
        let src_mem = src.mem();
        // First, as it also rules out the source being a locked directory.
        if let Some(m) = src_mem.filter(|_| src.is_dir()) {
            if nd.is_within(m) {
                return Err(Errno::EINVAL);
            }
        }
        let src_uid = src_mem.map_or(0, |m| m.read_state().meta.uid);
        perm::check_sticky(enforce, &sa.meta, src_uid, req)?;
        if src.is_dir() && !same_dir {
            if let Some(m) = src_mem {
                // Moving a directory rewrites its "..": write permission.
                perm::check(enforce, &m.read_state().meta, req, perm::W)?;
            }
        }
        let target: Option<Entry> = {
            let b = match &sb {
                Some(sb) => dir_of(sb)?,
                None => dir_of(&sa)?,
            };
            b.get(new_name).cloned()
        };
        if let Some(t) = &target {
            if same_object(&t.node, &src.node) {
                return Ok(());
            }
            match (src.is_dir(), t.is_dir()) {
                (true, false) => return Err(Errno::ENOTDIR),
                (false, true) => return Err(Errno::EISDIR),
                _ => {}
            }
            // The old directory itself (which holds the source): locked
            // already, and not empty.
            if t.mem().is_some_and(|m| std::ptr::eq(m, self)) {
                return Err(Errno::ENOTEMPTY);
            }
            let t_uid = t.mem().map_or(0, |m| m.read_state().meta.uid);
            let b_meta = match &sb {
                Some(sb) => &sb.meta,
                None => &sa.meta,
            };
            perm::check_sticky(enforce, b_meta, t_uid, req)?;
            if t.is_dir() {
                match t.mem() {
                    Some(m) if !dir_of(&m.read_state())?.is_empty() => {
                        return Err(Errno::ENOTEMPTY)
                    }
                    Some(_) => {}
                    None => return Err(Errno::EBUSY),
                }
            }
        }

        // Commit.
        dir_of_mut(&mut sa)?.remove(name);
        sa.meta.touch_modified();
        let sb_ref = match &mut sb {
            Some(sb) => &mut **sb,
            None => &mut *sa,
        };
        let b = dir_of_mut(sb_ref)?;
        if let Some(t) = &target {
            b.remove(new_name);
            if let Some(m) = t.mem() {
                let mut ts = m.write_state();
                match &mut ts.body {
                    Body::Dir(d) => d.removed = true,
                    _ => ts.meta.nlink = ts.meta.nlink.saturating_sub(1),
                }
                ts.meta.touch_changed();
            }
        }
        b.insert(new_name, src.node.clone(), src.ty);
        sb_ref.meta.touch_modified();
        if let Some(m) = src_mem {
            if src.is_dir() {
                m.set_parent(nd.me.clone());
            }
            m.write_state().meta.touch_changed();
        }
        Ok(())
    }
}
