//! The inode table: what the kernel knows by node id, how to reach each
//! node again (its parent and name), and the walked fids cached per uid.
//!
//! Node ids are the server's qid paths (so hard links share one and
//! `st_ino` is the server's), except the root, which FUSE calls 1. The
//! table holds at most [`FID_CACHE`] fids: past that the oldest are
//! dropped (clunked) and walked again from the nearest cached ancestor
//! when next needed.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};

use ninefold_client::Fid;

/// FUSE's root node id.
pub(crate) const ROOT: u64 = 1;

/// Fids kept walked at once (the server's per-connection fid limit is
/// usually 64 Ki).
pub(crate) const FID_CACHE: usize = 16 * 1024;

/// Server file facts that decide whether cached pages are still good.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Stamp {
    pub(crate) mtime: (u64, u64),
    pub(crate) ctime: (u64, u64),
    pub(crate) size: u64,
}

/// One node the kernel holds.
#[derive(Debug)]
pub(crate) struct Node {
    /// Kernel lookup count: the node is forgotten when it reaches zero.
    pub(crate) nlookup: u64,
    /// Where it was last seen (its parent's node id and its name); the
    /// root has parent 0.
    pub(crate) parent: u64,
    pub(crate) name: Vec<u8>,
    /// The server's qid path (what a re-walk must find again).
    pub(crate) qpath: u64,
    /// Walked fids, per uid, each on some connection (only fids of the
    /// current one are used).
    pub(crate) fids: HashMap<u32, Arc<Fid>>,
    /// What the file looked like when the kernel last cached its pages.
    pub(crate) stamp: Option<Stamp>,
}

/// Node id of a qid path (`root_qpath` is the attach root's).
pub(crate) fn node_id(qpath: u64, root_qpath: u64) -> u64 {
    if qpath == root_qpath {
        ROOT
    } else if qpath <= ROOT {
        qpath | (1 << 63)
    } else {
        qpath
    }
}

/// All nodes, behind one short-held lock (never held across an await).
#[derive(Debug)]
pub(crate) struct Table {
    inner: Mutex<Inner>,
    pub(crate) root_qpath: u64,
}

#[derive(Debug, Default)]
pub(crate) struct Inner {
    pub(crate) nodes: HashMap<u64, Node>,
    lru: VecDeque<(u64, u32)>,
    cached: usize,
}

impl Table {
    pub(crate) fn new(root_qpath: u64) -> Table {
        let mut nodes = HashMap::new();
        nodes.insert(
            ROOT,
            Node {
                nlookup: 1,
                parent: 0,
                name: Vec::new(),
                qpath: root_qpath,
                fids: HashMap::new(),
                stamp: None,
            },
        );
        Table { inner: Mutex::new(Inner { nodes, ..Inner::default() }), root_qpath }
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, Inner> {
        match self.inner.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        }
    }

    /// Records a successful lookup of `name` in `parent` (kernel count +1)
    /// and returns the node id; `fid` (walked by `uid`) is cached.
    pub(crate) fn remember(
        &self,
        parent: u64,
        name: &[u8],
        qpath: u64,
        uid: u32,
        fid: Option<Arc<Fid>>,
    ) -> u64 {
        let id = node_id(qpath, self.root_qpath);
        let mut g = self.lock();
        let node = g.nodes.entry(id).or_insert_with(|| Node {
            nlookup: 0,
            parent,
            name: name.to_vec(),
            qpath,
            fids: HashMap::new(),
            stamp: None,
        });
        node.nlookup += 1;
        if id != ROOT {
            node.parent = parent;
            node.name = name.to_vec();
        }
        if let Some(f) = fid {
            g.put_fid(id, uid, f);
        }
        id
    }

    /// The kernel dropped `n` references.
    pub(crate) fn forget(&self, id: u64, n: u64) {
        if id == ROOT {
            return;
        }
        let mut g = self.lock();
        let gone = match g.nodes.get_mut(&id) {
            Some(node) => {
                node.nlookup = node.nlookup.saturating_sub(n);
                node.nlookup == 0
            }
            None => false,
        };
        if gone {
            if let Some(node) = g.nodes.remove(&id) {
                g.cached = g.cached.saturating_sub(node.fids.len());
            }
        }
    }

    /// A rename moved `(parent, name)` to `(newparent, newname)`. The
    /// cached fids of what moved, and of everything under it, are dropped:
    /// servers that keep a path per fid (diod) leave them pointing at the
    /// old name, so they are walked again by the new path when next used.
    pub(crate) fn renamed(&self, parent: u64, name: &[u8], newparent: u64, newname: &[u8]) {
        let mut g = self.lock();
        let moved: Vec<u64> = g
            .nodes
            .iter()
            .filter(|(_, n)| n.parent == parent && n.name == name)
            .map(|(id, _)| *id)
            .collect();
        if moved.is_empty() {
            return;
        }
        for id in &moved {
            if let Some(n) = g.nodes.get_mut(id) {
                n.parent = newparent;
                n.name = newname.to_vec();
            }
        }
        // Every node whose parent chain reaches a moved one.
        let mut stale: Vec<u64> = moved.clone();
        let ids: Vec<u64> = g.nodes.keys().copied().collect();
        for id in ids {
            let mut cur = id;
            for _ in 0..4096 {
                if moved.contains(&cur) {
                    stale.push(id);
                    break;
                }
                match g.nodes.get(&cur) {
                    Some(n) if n.parent != 0 => cur = n.parent,
                    _ => break,
                }
            }
        }
        let mut dropped = 0;
        for id in stale {
            if let Some(n) = g.nodes.get_mut(&id) {
                dropped += std::mem::take(&mut n.fids).len();
            }
        }
        g.cached = g.cached.saturating_sub(dropped);
    }

    /// A fid of `id` for `uid` that `owns` accepts (the current session),
    /// or the path to walk: the nearest ancestor with such a fid (None =
    /// from the root) and the names from there, first name first.
    pub(crate) fn plan(
        &self,
        id: u64,
        uid: u32,
        owns: impl Fn(&Fid) -> bool,
    ) -> Result<Plan, ninefold_client::Errno> {
        let g = self.lock();
        let mut names = Vec::new();
        let mut cur = id;
        let mut hops = 0usize;
        loop {
            let node = g.nodes.get(&cur).ok_or(ninefold_client::Errno::ESTALE)?;
            if let Some(f) = node.fids.get(&uid) {
                if owns(f) {
                    if cur == id {
                        return Ok(Plan::Have(f.clone()));
                    }
                    names.reverse();
                    return Ok(Plan::Walk {
                        from: Some(f.clone()),
                        names,
                        qpath: qpath_of(&g, id),
                    });
                }
            }
            if cur == ROOT {
                names.reverse();
                return Ok(Plan::Walk { from: None, names, qpath: qpath_of(&g, id) });
            }
            names.push(node.name.clone());
            cur = node.parent;
            hops += 1;
            if hops > 4096 || cur == 0 {
                return Err(ninefold_client::Errno::ESTALE);
            }
        }
    }

    /// Caches a freshly walked fid of `id`.
    pub(crate) fn store_fid(&self, id: u64, uid: u32, fid: Arc<Fid>) {
        self.lock().put_fid(id, uid, fid);
    }
}

fn qpath_of(g: &Inner, id: u64) -> u64 {
    g.nodes.get(&id).map(|n| n.qpath).unwrap_or(0)
}

impl Inner {
    fn put_fid(&mut self, id: u64, uid: u32, fid: Arc<Fid>) {
        let Some(node) = self.nodes.get_mut(&id) else { return };
        if node.fids.insert(uid, fid).is_none() {
            self.cached += 1;
            self.lru.push_back((id, uid));
        }
        while self.cached > FID_CACHE {
            let Some((vid, vuid)) = self.lru.pop_front() else { break };
            if vid == ROOT {
                self.lru.push_back((vid, vuid));
                continue;
            }
            if let Some(n) = self.nodes.get_mut(&vid) {
                if n.fids.remove(&vuid).is_some() {
                    self.cached -= 1;
                }
            }
        }
        // Entries whose node or fid went away linger in the queue; keep it
        // bounded.
        if self.lru.len() > 4 * FID_CACHE {
            let nodes = &self.nodes;
            self.lru.retain(|(i, u)| nodes.get(i).is_some_and(|n| n.fids.contains_key(u)));
        }
    }
}

/// How to get a fid for a node.
#[derive(Debug)]
pub(crate) enum Plan {
    /// A cached fid on the current session.
    Have(Arc<Fid>),
    /// Walk `names` from `from` (None: the uid's attach root); the result
    /// must have qid path `qpath`.
    Walk { from: Option<Arc<Fid>>, names: Vec<Vec<u8>>, qpath: u64 },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_avoid_the_root() {
        assert_eq!(node_id(7, 7), ROOT);
        assert_eq!(node_id(1, 7), 1 | (1 << 63));
        assert_eq!(node_id(42, 7), 42);
    }

    #[test]
    fn plan_walks_from_root_and_forget_drops() {
        let t = Table::new(2);
        let a = t.remember(ROOT, b"a", 10, 0, None);
        let b = t.remember(a, b"b", 11, 0, None);
        match t.plan(b, 0, |_| true).unwrap() {
            Plan::Walk { from: None, names, qpath } => {
                assert_eq!(names, vec![b"a".to_vec(), b"b".to_vec()]);
                assert_eq!(qpath, 11);
            }
            other => panic!("{other:?}"),
        }
        t.renamed(a, b"b", ROOT, b"c");
        match t.plan(b, 0, |_| true).unwrap() {
            Plan::Walk { names, .. } => assert_eq!(names, vec![b"c".to_vec()]),
            other => panic!("{other:?}"),
        }
        t.forget(b, 1);
        assert!(t.plan(b, 0, |_| true).is_err());
    }
}
