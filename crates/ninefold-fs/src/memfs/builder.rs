//! [`MemFsBuilder`]: a fluent description of a tree, turned into a
//! [`MemFs`] by [`build`](MemFsBuilder::build).

use std::fmt;
use std::sync::{Arc, Weak};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use ninefold_proto::{
    Errno, S_IFBLK, S_IFCHR, S_IFDIR, S_IFIFO, S_IFLNK, S_IFMT, S_IFREG, S_IFSOCK,
};
use ninefold_server::{Node, QidGen};

use super::content::Content;
use super::dir::{dirent_type, DirBody};
use super::meta::{encode_dev, Meta};
use super::node::{Body, MemNode};
use super::shared::{Limits, Shared};
use super::MemFs;

/// Why a tree description could not be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BuildError {
    /// A path was empty or had a `.` or `..` component.
    #[error("invalid path {0:?}")]
    InvalidPath(String),
    /// Two entries were given the same path.
    #[error("{0:?} is added twice")]
    Exists(String),
    /// A path goes through something that is not a memfs directory.
    #[error("{0:?} is below something that is not a directory")]
    NotADirectory(String),
    /// A special-file mode without a device, FIFO or socket type.
    #[error("{path:?}: mode {mode:#o} is not a FIFO, socket or device")]
    BadMode {
        /// The entry.
        path: String,
        /// The mode given.
        mode: u32,
    },
    /// A limit refused the entry (ENOSPC, ENAMETOOLONG).
    #[error("{path:?}: {errno}")]
    Limit {
        /// The entry.
        path: String,
        /// The error.
        errno: Errno,
    },
}

type MakeNode = Box<dyn FnOnce(&QidGen) -> Arc<dyn Node> + Send>;

enum What {
    File(Bytes),
    Dir,
    Symlink(Bytes),
    Special { rdev: u64 },
    Node(MakeNode),
}

impl fmt::Debug for What {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            What::File(b) => write!(f, "File({} bytes)", b.len()),
            What::Dir => f.write_str("Dir"),
            What::Symlink(t) => write!(f, "Symlink({t:?})"),
            What::Special { rdev } => write!(f, "Special({rdev:#x})"),
            What::Node(_) => f.write_str("Node"),
        }
    }
}

#[derive(Debug)]
struct Pending {
    path: String,
    what: What,
    mode: u32,
    uid: u32,
    gid: u32,
}

/// A fluent description of a [`MemFs`] tree and its settings.
///
/// Paths are relative to the root (or to the directory of an enclosing
/// [`dir_with`](Self::dir_with)), `/`-separated; missing parent
/// directories are created with mode 0755. Entries get the owner set by
/// the latest [`owner`](Self::owner) call (root by default).
///
/// ```
/// use std::sync::Arc;
/// use ninefold_fs::memfs::MemFs;
/// use ninefold_fs::synthetic::ZeroFile;
///
/// let fs = MemFs::builder()
///     .dir_with("etc", |d| d.file("hostname", "box\n").file_mode("shadow", "", 0o600))
///     .owner(1000, 1000)
///     .dir("home/alice")
///     .symlink("home/alice/link", "../../etc/hostname")
///     .fifo("run/pipe", 0o644)
///     .node_with("dev/zero", |qids| Arc::new(ZeroFile::new(qids.next(Default::default()))))
///     .build()
///     .unwrap();
/// assert!(fs.inodes_used() >= 8);
/// ```
#[derive(Debug)]
pub struct MemFsBuilder {
    limits: Limits,
    permissions: bool,
    fsid: Option<u64>,
    root_mode: u32,
    root_owner: (u32, u32),
    owner: (u32, u32),
    prefix: String,
    entries: Vec<Pending>,
}

impl Default for MemFsBuilder {
    fn default() -> MemFsBuilder {
        MemFsBuilder::new()
    }
}

impl MemFsBuilder {
    /// An empty tree: root mode 0755 owned by 0:0, permissions enforced,
    /// default [`Limits`].
    pub fn new() -> MemFsBuilder {
        MemFsBuilder {
            limits: Limits::default(),
            permissions: true,
            fsid: None,
            root_mode: 0o755,
            root_owner: (0, 0),
            owner: (0, 0),
            prefix: String::new(),
            entries: Vec::new(),
        }
    }

    /// Whether to check permissions from the caller's uid (default on).
    #[must_use]
    pub fn permissions(mut self, on: bool) -> Self {
        self.permissions = on;
        self
    }

    /// Every limit at once.
    #[must_use]
    pub fn limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// Largest regular file (EFBIG beyond).
    #[must_use]
    pub fn max_file_size(mut self, bytes: u64) -> Self {
        self.limits.max_file_size = bytes;
        self
    }

    /// Total bytes of content (ENOSPC beyond; statfs reports it).
    #[must_use]
    pub fn capacity(mut self, bytes: u64) -> Self {
        self.limits.capacity = bytes;
        self
    }

    /// How long a blocking lock request may wait (0 = answer BLOCKED at
    /// once).
    #[must_use]
    pub fn lock_wait(mut self, wait: Duration) -> Self {
        self.limits.lock_wait = wait;
        self
    }

    /// The filesystem id statfs reports (default: derived from the
    /// creation time, stable for the filesystem's life).
    #[must_use]
    pub fn fsid(mut self, fsid: u64) -> Self {
        self.fsid = Some(fsid);
        self
    }

    /// The root directory's permission bits.
    #[must_use]
    pub fn root_mode(mut self, mode: u32) -> Self {
        self.root_mode = mode & 0o7777;
        self
    }

    /// The root directory's owner.
    #[must_use]
    pub fn root_owner(mut self, uid: u32, gid: u32) -> Self {
        self.root_owner = (uid, gid);
        self
    }

    /// The owner of the entries added after this call.
    #[must_use]
    pub fn owner(mut self, uid: u32, gid: u32) -> Self {
        self.owner = (uid, gid);
        self
    }

    fn push(mut self, path: &str, what: What, mode: u32) -> Self {
        let path = format!("{}{}", self.prefix, path);
        let (uid, gid) = self.owner;
        self.entries.push(Pending { path, what, mode, uid, gid });
        self
    }

    /// A writable regular file (mode 0644) with initial content.
    #[must_use]
    pub fn file(self, path: &str, content: impl Into<Bytes>) -> Self {
        self.file_mode(path, content, 0o644)
    }

    /// A writable regular file with initial content and permission bits.
    #[must_use]
    pub fn file_mode(self, path: &str, content: impl Into<Bytes>, mode: u32) -> Self {
        self.push(path, What::File(content.into()), S_IFREG | (mode & 0o7777))
    }

    /// A read-only [`StaticFile`](crate::synthetic::StaticFile) (mode
    /// 0444) serving `content` without copying it.
    #[cfg(feature = "synthetic")]
    #[must_use]
    pub fn static_file(self, path: &str, content: impl Into<Bytes>) -> Self {
        let content = content.into();
        self.node_with(path, move |qids| Arc::new(crate::synthetic::StaticFile::new(qids, content)))
    }

    /// A directory (mode 0755).
    #[must_use]
    pub fn dir(self, path: &str) -> Self {
        self.dir_mode(path, 0o755)
    }

    /// A directory with permission bits (e.g. 0o1777 for a sticky
    /// `/tmp`).
    #[must_use]
    pub fn dir_mode(self, path: &str, mode: u32) -> Self {
        self.push(path, What::Dir, S_IFDIR | (mode & 0o7777))
    }

    /// A directory and, through `f`, entries inside it (paths in `f` are
    /// relative to it).
    #[must_use]
    pub fn dir_with(self, path: &str, f: impl FnOnce(MemFsBuilder) -> MemFsBuilder) -> Self {
        let mut b = self.dir(path);
        let saved = std::mem::take(&mut b.prefix);
        b.prefix = format!("{saved}{}/", path.trim_end_matches('/'));
        let mut b = f(b);
        b.prefix = saved;
        b
    }

    /// A symbolic link to `target`.
    #[must_use]
    pub fn symlink(self, path: &str, target: impl Into<Bytes>) -> Self {
        self.push(path, What::Symlink(target.into()), S_IFLNK | 0o777)
    }

    /// A FIFO with permission bits.
    #[must_use]
    pub fn fifo(self, path: &str, mode: u32) -> Self {
        self.push(path, What::Special { rdev: 0 }, S_IFIFO | (mode & 0o7777))
    }

    /// A special file: `mode` carries the type (S_IFCHR, S_IFBLK,
    /// S_IFIFO, S_IFSOCK) and permission bits; `major`/`minor` matter for
    /// devices.
    #[must_use]
    pub fn special(self, path: &str, mode: u32, major: u32, minor: u32) -> Self {
        self.push(path, What::Special { rdev: encode_dev(major, minor) }, mode)
    }

    /// Any node (a synthetic file, a wrapper, another filesystem's tree).
    #[must_use]
    pub fn node(self, path: &str, node: Arc<dyn Node>) -> Self {
        self.node_with(path, move |_| node)
    }

    /// Any node, made with this filesystem's qid generator so its qid
    /// path cannot collide with memfs objects.
    #[must_use]
    pub fn node_with(
        self,
        path: &str,
        make: impl FnOnce(&QidGen) -> Arc<dyn Node> + Send + 'static,
    ) -> Self {
        self.push(path, What::Node(Box::new(make)), 0)
    }

    fn shared(&self) -> Arc<Shared> {
        let fsid = self.fsid.unwrap_or_else(|| {
            let d = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
            d.as_secs().rotate_left(32) ^ u64::from(d.subsec_nanos())
        });
        Arc::new(Shared::new(self.limits.clone(), self.permissions, fsid, QidGen::new()))
    }

    fn make_root(&self, shared: &Arc<Shared>) -> Result<Arc<MemNode>, Errno> {
        let meta = Meta::new(S_IFDIR | self.root_mode, self.root_owner.0, self.root_owner.1);
        MemNode::create(shared, meta, Body::Dir(DirBody::default()), Weak::new())
    }

    /// An empty filesystem with these settings (entries are ignored).
    pub(crate) fn into_empty(self) -> MemFs {
        let shared = self.shared();
        match self.make_root(&shared) {
            Ok(root) => MemFs { root, shared },
            // Only a zero inode limit refuses the root.
            Err(_) => {
                let mut limits = self.limits.clone();
                limits.max_inodes = 1;
                MemFsBuilder { limits, entries: Vec::new(), ..self }.into_empty()
            }
        }
    }

    /// Builds the tree.
    pub fn build(self) -> Result<MemFs, BuildError> {
        let shared = self.shared();
        let root = self
            .make_root(&shared)
            .map_err(|errno| BuildError::Limit { path: "/".into(), errno })?;
        for p in self.entries {
            add(&shared, &root, p)?;
        }
        Ok(MemFs { root, shared })
    }
}

/// Adds one entry, creating missing parents.
fn add(shared: &Arc<Shared>, root: &Arc<MemNode>, p: Pending) -> Result<(), BuildError> {
    let parts: Vec<&str> = p.path.split('/').filter(|s| !s.is_empty()).collect();
    let Some((last, parents)) = parts.split_last() else {
        return Err(BuildError::InvalidPath(p.path.clone()));
    };
    if parts.iter().any(|s| *s == "." || *s == "..") {
        return Err(BuildError::InvalidPath(p.path.clone()));
    }
    let limit = |errno| BuildError::Limit { path: p.path.clone(), errno };
    let mut dir = root.clone();
    for part in parents {
        let existing = {
            let st = dir.read_state();
            super::dir::dir_of(&st)
                .ok()
                .and_then(|d| d.get(part.as_bytes()).map(|e| e.node.clone()))
        };
        let next = match existing {
            Some(node) => match node.downcast_ref::<MemNode>() {
                Some(m) if m.is_dir() => {
                    m.me.upgrade().ok_or_else(|| BuildError::NotADirectory(p.path.clone()))?
                }
                _ => return Err(BuildError::NotADirectory(p.path.clone())),
            },
            None => {
                let meta = Meta::new(S_IFDIR | 0o755, p.uid, p.gid);
                let child =
                    MemNode::create(shared, meta, Body::Dir(DirBody::default()), dir.me.clone())
                        .map_err(limit)?;
                insert(&dir, part, child.clone(), &p.path)?;
                child
            }
        };
        dir = next;
    }
    if last.len() > shared.limits.max_name {
        return Err(limit(Errno::ENAMETOOLONG));
    }
    // A directory declared after being created as a parent: set its mode.
    if let What::Dir = p.what {
        let existing = {
            let st = dir.read_state();
            super::dir::dir_of(&st)
                .ok()
                .and_then(|d| d.get(last.as_bytes()).map(|e| e.node.clone()))
        };
        if let Some(m) =
            existing.as_ref().and_then(|n| n.downcast_ref::<MemNode>()).filter(|m| m.is_dir())
        {
            let mut st = m.write_state();
            st.meta.mode = p.mode;
            st.meta.uid = p.uid;
            st.meta.gid = p.gid;
            return Ok(());
        }
    }
    let meta = Meta::new(p.mode, p.uid, p.gid);
    let node: Arc<dyn Node> = match p.what {
        What::File(data) => {
            let len = data.len() as u64;
            if len > shared.limits.max_file_size {
                return Err(limit(Errno::EFBIG));
            }
            shared.charge_bytes(len).map_err(limit)?;
            MemNode::create(shared, meta, Body::File(Content::from_slice(&data)), Weak::new())
                .map_err(limit)?
        }
        What::Dir => MemNode::create(shared, meta, Body::Dir(DirBody::default()), dir.me.clone())
            .map_err(limit)?,
        What::Symlink(target) => {
            MemNode::create(shared, meta, Body::Symlink(target), Weak::new()).map_err(limit)?
        }
        What::Special { rdev } => match p.mode & S_IFMT {
            S_IFCHR | S_IFBLK | S_IFIFO | S_IFSOCK => {
                MemNode::create(shared, meta, Body::Special { rdev }, Weak::new()).map_err(limit)?
            }
            _ => return Err(BuildError::BadMode { path: p.path.clone(), mode: p.mode }),
        },
        What::Node(make) => make(&shared.qids),
    };
    insert(&dir, last, node, &p.path)
}

fn insert(dir: &MemNode, name: &str, node: Arc<dyn Node>, path: &str) -> Result<(), BuildError> {
    let ty = dirent_type(&*node);
    let mut st = dir.write_state();
    let d = super::dir::dir_of_mut(&mut st).map_err(|_| BuildError::NotADirectory(path.into()))?;
    if d.get(name.as_bytes()).is_some() {
        return Err(BuildError::Exists(path.into()));
    }
    d.insert(name.as_bytes(), node, ty);
    Ok(())
}
