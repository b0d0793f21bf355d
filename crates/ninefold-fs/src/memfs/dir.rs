//! Directories: entries, stable readdir cookies, lookup, the create
//! family, link and unlink.
//!
//! # Cookies
//!
//! Each directory numbers its entries with a counter that only grows:
//! `.` is 1, `..` is 2, and every insertion (create, link, rename into
//! the directory) takes the next number from 3 on. An entry's readdir
//! cookie is its own number, and resuming from cookie `c` lists the
//! entries numbered above `c`. Entries present throughout a listing are
//! therefore returned exactly once, whatever is added or removed between
//! pages; a name renamed during a listing may show up under both names,
//! never in a loop. Cookie 0 (the start) is never emitted.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Weak};

use bytes::Bytes;
use ninefold_proto::{
    DirentType, Errno, Qid, UnlinkatFlags, S_IFBLK, S_IFCHR, S_IFDIR, S_IFIFO, S_IFLNK, S_IFMT,
    S_IFREG, S_IFSOCK,
};
use ninefold_server::{DirSink, Node, Request, Result};

use super::content::Content;
use super::meta::{encode_dev, Meta};
use super::node::{Body, MemNode, State};
use super::perm;

/// Cookie of `.`.
const DOT: u64 = 1;
/// Cookie of `..`.
const DOTDOT: u64 = 2;
/// Most hard links to one object.
const LINK_MAX: u64 = 65_000;

/// One directory entry.
#[derive(Debug, Clone)]
pub(crate) struct Entry {
    pub(crate) seq: u64,
    pub(crate) node: Arc<dyn Node>,
    pub(crate) ty: DirentType,
}

impl Entry {
    pub(crate) fn is_dir(&self) -> bool {
        self.ty == DirentType::DIR
    }

    pub(crate) fn mem(&self) -> Option<&MemNode> {
        self.node.downcast_ref::<MemNode>()
    }
}

/// The entries of a directory.
#[derive(Debug)]
pub(crate) struct DirBody {
    entries: HashMap<Bytes, Entry>,
    order: BTreeMap<u64, Bytes>,
    next_seq: u64,
    subdirs: u64,
    /// Set when the directory is removed: no lookups or creations after.
    pub(crate) removed: bool,
}

impl Default for DirBody {
    fn default() -> DirBody {
        DirBody {
            entries: HashMap::new(),
            order: BTreeMap::new(),
            next_seq: DOTDOT + 1,
            subdirs: 0,
            removed: false,
        }
    }
}

impl DirBody {
    /// Link count: 2 + subdirectories, 0 once removed.
    pub(crate) fn nlink(&self) -> u64 {
        if self.removed {
            0
        } else {
            2 + self.subdirs
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub(crate) fn get(&self, name: &[u8]) -> Option<&Entry> {
        self.entries.get(name)
    }

    /// Adds `name` with the next cookie (the name must be free).
    pub(crate) fn insert(&mut self, name: &[u8], node: Arc<dyn Node>, ty: DirentType) {
        let seq = self.next_seq;
        self.next_seq += 1;
        let name = Bytes::copy_from_slice(name);
        if ty == DirentType::DIR {
            self.subdirs += 1;
        }
        self.order.insert(seq, name.clone());
        if let Some(old) = self.entries.insert(name, Entry { seq, node, ty }) {
            // Callers remove first; keep the maps consistent regardless.
            self.order.remove(&old.seq);
            if old.is_dir() {
                self.subdirs -= 1;
            }
        }
    }

    /// Removes `name`, returning its entry.
    pub(crate) fn remove(&mut self, name: &[u8]) -> Option<Entry> {
        let entry = self.entries.remove(name)?;
        self.order.remove(&entry.seq);
        if entry.is_dir() {
            self.subdirs -= 1;
        }
        Some(entry)
    }
}

/// The directory body of a state, or ENOTDIR.
pub(crate) fn dir_of(st: &State) -> Result<&DirBody> {
    match &st.body {
        Body::Dir(d) => Ok(d),
        _ => Err(Errno::ENOTDIR),
    }
}

/// The directory body of a state, mutably, or ENOTDIR.
pub(crate) fn dir_of_mut(st: &mut State) -> Result<&mut DirBody> {
    match &mut st.body {
        Body::Dir(d) => Ok(d),
        _ => Err(Errno::ENOTDIR),
    }
}

/// The entry type of a node: exact for memfs nodes, from the qid for
/// others.
pub(crate) fn dirent_type(node: &dyn Node) -> DirentType {
    match node.downcast_ref::<MemNode>() {
        Some(m) => DirentType::from_mode(m.read_state().meta.mode),
        None => DirentType::from_qid(&node.qid()),
    }
}

impl MemNode {
    fn check_name(&self, name: &[u8]) -> Result<()> {
        if name.len() > self.shared.limits.max_name {
            Err(Errno::ENAMETOOLONG)
        } else {
            Ok(())
        }
    }

    pub(crate) fn dir_lookup(&self, req: &Request, name: &[u8]) -> Result<Arc<dyn Node>> {
        let st = self.read_state();
        let dir = dir_of(&st)?;
        perm::check(self.shared.permissions, &st.meta, req, perm::X)?;
        if dir.removed {
            return Err(Errno::ENOENT);
        }
        dir.get(name).map(|e| e.node.clone()).ok_or(Errno::ENOENT)
    }

    /// Creates an entry with `make`, after the checks every creation
    /// shares: a live directory, write and search permission, a free
    /// name of acceptable length.
    fn add_new(
        &self,
        req: &Request,
        name: &[u8],
        make: impl FnOnce(&MemNode) -> Result<Arc<MemNode>>,
    ) -> Result<Arc<MemNode>> {
        self.check_name(name)?;
        let mut st = self.write_state();
        let State { meta, body } = &mut *st;
        let Body::Dir(dir) = body else {
            return Err(Errno::ENOTDIR);
        };
        perm::check(self.shared.permissions, meta, req, perm::W | perm::X)?;
        if dir.removed {
            return Err(Errno::ENOENT);
        }
        if dir.get(name).is_some() {
            return Err(Errno::EEXIST);
        }
        let node = make(self)?;
        let ty = DirentType::from_mode(node.read_state().meta.mode);
        dir.insert(name, node.clone(), ty);
        meta.touch_modified();
        Ok(node)
    }

    fn new_meta(req: &Request, mode: u32, gid: u32) -> Meta {
        Meta::new(mode, perm::owner_of_new(req), gid)
    }

    /// Creates the regular file `name`.
    pub(crate) fn dir_create(
        &self,
        req: &Request,
        name: &[u8],
        mode: u32,
        gid: u32,
    ) -> Result<Arc<dyn Node>> {
        let node = self.add_new(req, name, |_| {
            let meta = Self::new_meta(req, S_IFREG | (mode & 0o7777), gid);
            MemNode::create(&self.shared, meta, Body::File(Content::default()), Weak::new())
        })?;
        Ok(node)
    }

    pub(crate) fn dir_mkdir(
        &self,
        req: &Request,
        name: &[u8],
        mode: u32,
        gid: u32,
    ) -> Result<Arc<dyn Node>> {
        let node = self.add_new(req, name, |parent| {
            let meta = Self::new_meta(req, S_IFDIR | (mode & 0o7777), gid);
            MemNode::create(&self.shared, meta, Body::Dir(DirBody::default()), parent.me.clone())
        })?;
        Ok(node)
    }

    pub(crate) fn dir_symlink(
        &self,
        req: &Request,
        name: &[u8],
        target: &[u8],
        gid: u32,
    ) -> Result<Arc<dyn Node>> {
        if target.is_empty() {
            return Err(Errno::ENOENT);
        }
        if target.len() > self.shared.limits.max_symlink {
            return Err(Errno::ENAMETOOLONG);
        }
        let node = self.add_new(req, name, |_| {
            let meta = Self::new_meta(req, S_IFLNK | 0o777, gid);
            MemNode::create(
                &self.shared,
                meta,
                Body::Symlink(Bytes::copy_from_slice(target)),
                Weak::new(),
            )
        })?;
        Ok(node)
    }

    pub(crate) fn dir_mknod(
        &self,
        req: &Request,
        name: &[u8],
        mode: u32,
        major: u32,
        minor: u32,
        gid: u32,
    ) -> Result<Arc<dyn Node>> {
        let body = match mode & S_IFMT {
            0 | S_IFREG => Body::File(Content::default()),
            S_IFIFO | S_IFSOCK => Body::Special { rdev: 0 },
            S_IFCHR | S_IFBLK => {
                if self.shared.permissions && perm::caller(req).is_some() {
                    return Err(Errno::EPERM);
                }
                Body::Special { rdev: encode_dev(major, minor) }
            }
            S_IFDIR => return Err(Errno::EPERM),
            _ => return Err(Errno::EINVAL),
        };
        let ty = match mode & S_IFMT {
            0 => S_IFREG,
            t => t,
        };
        let node = self.add_new(req, name, |_| {
            let meta = Self::new_meta(req, ty | (mode & 0o7777), gid);
            MemNode::create(&self.shared, meta, body, Weak::new())
        })?;
        Ok(node)
    }

    pub(crate) fn dir_link(
        &self,
        req: &Request,
        target: &Arc<dyn Node>,
        name: &[u8],
    ) -> Result<()> {
        let Some(t) = target.downcast_ref::<MemNode>() else {
            return Err(Errno::EXDEV);
        };
        if !self.same_fs(t) {
            return Err(Errno::EXDEV);
        }
        if t.is_dir() {
            return Err(Errno::EPERM);
        }
        // The same checks and insertion as a new entry; the "new" node is
        // the target with one more link.
        self.add_new(req, name, |_| {
            let mut ts = t.write_state();
            if ts.meta.nlink == 0 {
                return Err(Errno::ENOENT);
            }
            if ts.meta.nlink >= LINK_MAX {
                return Err(Errno::EMLINK);
            }
            ts.meta.nlink += 1;
            ts.meta.touch_changed();
            drop(ts);
            t.me.upgrade().ok_or(Errno::ENOENT)
        })?;
        Ok(())
    }

    pub(crate) fn dir_unlink(
        &self,
        req: &Request,
        name: &[u8],
        flags: UnlinkatFlags,
    ) -> Result<()> {
        let rmdir = flags.contains(UnlinkatFlags::REMOVEDIR);
        // rmdir locks the child directory too: take the two-directory lock.
        let _rename = rmdir.then(|| self.shared.rename_lock());
        let enforce = self.shared.permissions;
        let mut st = self.write_state();
        let State { meta, body } = &mut *st;
        let Body::Dir(dir) = body else {
            return Err(Errno::ENOTDIR);
        };
        perm::check(enforce, meta, req, perm::W | perm::X)?;
        let entry = dir.get(name).ok_or(Errno::ENOENT)?.clone();
        match (rmdir, entry.is_dir()) {
            (true, false) => return Err(Errno::ENOTDIR),
            (false, true) => return Err(Errno::EISDIR),
            _ => {}
        }
        let child = entry.mem();
        let child_uid = child.map_or(0, |c| c.read_state().meta.uid);
        perm::check_sticky(enforce, meta, child_uid, req)?;
        match child {
            Some(c) => {
                let mut cs = c.write_state();
                if let Body::Dir(cd) = &mut cs.body {
                    if !cd.is_empty() {
                        return Err(Errno::ENOTEMPTY);
                    }
                    cd.removed = true;
                } else {
                    cs.meta.nlink = cs.meta.nlink.saturating_sub(1);
                }
                cs.meta.touch_changed();
            }
            // A foreign directory's emptiness is unknown: refuse.
            None if rmdir => return Err(Errno::EBUSY),
            None => {}
        }
        dir.remove(name);
        meta.touch_modified();
        Ok(())
    }

    /// Lists entries after `offset` (see the module docs for cookies).
    pub(crate) fn dir_readdir(&self, offset: u64, sink: &mut DirSink) -> Result<()> {
        self.list_from(offset, |qid, cookie, ty, name| sink.push(qid, cookie, ty, name))
    }

    /// The listing readdir produces, for in-process callers: calls `push`
    /// with `(qid, cookie, type, name)` for each entry after cookie
    /// `offset` (0 = from the start, `.` and `..` included) until it
    /// returns `false` (that entry counts as not taken). ENOTDIR on a
    /// non-directory.
    pub fn list_from(
        &self,
        offset: u64,
        mut push: impl FnMut(Qid, u64, DirentType, &[u8]) -> bool,
    ) -> Result<()> {
        let st = self.read_state();
        let dir = dir_of(&st)?;
        if dir.removed {
            return Ok(());
        }
        if offset < DOT && !push(self.qid(), DOT, DirentType::DIR, b".") {
            return Ok(());
        }
        if offset < DOTDOT {
            let parent = self.parent_node().map_or_else(|| self.qid(), |p| p.qid());
            if !push(parent, DOTDOT, DirentType::DIR, b"..") {
                return Ok(());
            }
        }
        let from = offset.max(DOTDOT).saturating_add(1);
        for (&seq, name) in dir.order.range(from..) {
            let Some(e) = dir.entries.get(name) else { continue };
            if !push(e.node.qid(), seq, e.ty, name) {
                break;
            }
        }
        Ok(())
    }
}
