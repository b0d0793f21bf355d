//! "Host-side" access to the export, independent of the client under
//! test: `std::fs` on the export directory (diod, passthrough), or the
//! memfs `Node` methods called directly (memfs).

use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;
use std::sync::Arc;

use bytes::Bytes;
use ninefold_client::proto::l::{Attr, SetAttr};
use ninefold_client::proto::{GetattrMask, OpenFlags, SetattrMask};
use ninefold_client::Errno;
use ninefold_fs::memfs::MemNode;
use ninefold_server::{Handle, Identity, Node, Opened, Request};

use super::{Backing, TestServer};

/// What the tests check of an object, from `lstat` or memfs `getattr`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HostMeta {
    pub ino: u64,
    pub mode: u32,
    pub nlink: u64,
    pub uid: u32,
    pub gid: u32,
    pub size: u64,
    pub rdev: u64,
    pub atime: i64,
    pub mtime: i64,
    pub mtime_nsec: i64,
}

const S_IFMT: u32 = 0o170000;

impl HostMeta {
    pub fn perm(&self) -> u32 {
        self.mode & 0o7777
    }
    pub fn is_dir(&self) -> bool {
        self.mode & S_IFMT == 0o040000
    }
    pub fn is_file(&self) -> bool {
        self.mode & S_IFMT == 0o100000
    }
    pub fn is_symlink(&self) -> bool {
        self.mode & S_IFMT == 0o120000
    }
    pub fn is_fifo(&self) -> bool {
        self.mode & S_IFMT == 0o010000
    }
    pub fn is_char_device(&self) -> bool {
        self.mode & S_IFMT == 0o020000
    }

    fn from_std(m: &std::fs::Metadata) -> HostMeta {
        HostMeta {
            ino: m.ino(),
            mode: m.mode(),
            nlink: m.nlink(),
            uid: m.uid(),
            gid: m.gid(),
            size: m.size(),
            rdev: m.rdev(),
            atime: m.atime(),
            mtime: m.mtime(),
            mtime_nsec: m.mtime_nsec(),
        }
    }

    fn from_attr(a: &Attr) -> HostMeta {
        HostMeta {
            ino: a.qid.path,
            mode: a.mode,
            nlink: a.nlink,
            uid: a.uid,
            gid: a.gid,
            size: a.size,
            rdev: a.rdev,
            atime: a.atime_sec as i64,
            mtime: a.mtime_sec as i64,
            mtime_nsec: a.mtime_nsec as i64,
        }
    }
}

fn req() -> Request {
    Request::new(Identity::root())
}

fn components(rel: &Path) -> Vec<Vec<u8>> {
    rel.as_os_str()
        .as_bytes()
        .split(|&b| b == b'/')
        .filter(|c| !c.is_empty() && *c != b".")
        .map(<[u8]>::to_vec)
        .collect()
}

async fn resolve(root: Arc<dyn Node>, comps: &[Vec<u8>]) -> Result<Arc<dyn Node>, Errno> {
    let mut node = root;
    for c in comps {
        node = node.lookup(&req(), c).await?;
    }
    Ok(node)
}

/// The parent directory node and the last name of `rel`.
async fn parent_of(root: Arc<dyn Node>, rel: &Path) -> (Arc<dyn Node>, Vec<u8>) {
    let mut comps = components(rel);
    let name = comps.pop().expect("a path below the root");
    let dir =
        resolve(root, &comps).await.unwrap_or_else(|e| panic!("memfs parent of {rel:?}: {e:?}"));
    (dir, name)
}

async fn write_all(node: &Arc<dyn Node>, opened: &Opened, data: &[u8]) {
    let mut off = 0;
    while off < data.len() {
        let end = (off + (1 << 20)).min(data.len());
        let chunk = Bytes::copy_from_slice(&data[off..end]);
        let n = match &opened.handle {
            Some(h) => h.write(&req(), &**node, off as u64, chunk).await,
            None => node.write(&req(), off as u64, chunk).await,
        }
        .expect("memfs write");
        assert!(n > 0, "memfs write made no progress");
        off += n as usize;
    }
}

async fn release(node: &Arc<dyn Node>, opened: &Opened) {
    match &opened.handle {
        Some(h) => Handle::release(&**h, &req(), &**node).await.expect("release"),
        None => node.release(&req()).await.expect("release"),
    }
}

impl TestServer {
    fn mem_root(&self) -> Option<Arc<dyn Node>> {
        match &self.backing {
            Backing::Mem(fs) => Some(fs.root()),
            Backing::Disk { .. } => None,
        }
    }

    /// Creates or truncates `rel` with `data`.
    pub async fn host_write(&self, rel: impl AsRef<Path>, data: impl AsRef<[u8]>) {
        let (rel, data) = (rel.as_ref(), data.as_ref());
        let Some(root) = self.mem_root() else {
            return std::fs::write(self.host(rel), data).unwrap();
        };
        let (dir, name) = parent_of(root, rel).await;
        let (node, opened) = match dir.lookup(&req(), &name).await {
            Ok(node) => {
                let opened =
                    node.open(&req(), OpenFlags::WRONLY | OpenFlags::TRUNC).await.expect("open");
                let trunc = SetAttr { valid: SetattrMask::SIZE, size: 0, ..SetAttr::default() };
                node.setattr(&req(), &trunc).await.expect("truncate");
                (node, opened)
            }
            Err(Errno::ENOENT) => {
                let c =
                    dir.create(&req(), &name, OpenFlags::WRONLY, 0o644, 0).await.expect("create");
                (c.node, c.opened)
            }
            Err(e) => panic!("memfs lookup {rel:?}: {e:?}"),
        };
        write_all(&node, &opened, data).await;
        release(&node, &opened).await;
    }

    /// The content of `rel`.
    pub async fn host_read(&self, rel: impl AsRef<Path>) -> Vec<u8> {
        let rel = rel.as_ref();
        let Some(root) = self.mem_root() else {
            return std::fs::read(self.host(rel)).unwrap_or_else(|e| panic!("read {rel:?}: {e}"));
        };
        let node = resolve(root, &components(rel))
            .await
            .unwrap_or_else(|e| panic!("memfs {rel:?}: {e:?}"));
        let opened = node.open(&req(), OpenFlags::RDONLY).await.expect("open");
        let mut out = Vec::new();
        loop {
            let chunk = match &opened.handle {
                Some(h) => h.read(&req(), &*node, out.len() as u64, 1 << 20).await,
                None => node.read(&req(), out.len() as u64, 1 << 20).await,
            }
            .expect("memfs read");
            if chunk.is_empty() {
                break;
            }
            out.extend_from_slice(&chunk);
        }
        release(&node, &opened).await;
        out
    }

    /// `mkdir -p rel` (mode 0755).
    pub async fn host_mkdir_p(&self, rel: impl AsRef<Path>) {
        let rel = rel.as_ref();
        let Some(root) = self.mem_root() else {
            return std::fs::create_dir_all(self.host(rel)).unwrap();
        };
        let mut node = root;
        for c in components(rel) {
            node = match node.lookup(&req(), &c).await {
                Ok(n) => n,
                Err(Errno::ENOENT) => node.mkdir(&req(), &c, 0o755, 0).await.expect("mkdir"),
                Err(e) => panic!("memfs lookup in {rel:?}: {e:?}"),
            };
        }
    }

    /// `ln -s target rel`.
    pub async fn host_symlink(&self, target: impl AsRef<[u8]>, rel: impl AsRef<Path>) {
        let (target, rel) = (target.as_ref(), rel.as_ref());
        let Some(root) = self.mem_root() else {
            let target = std::ffi::OsStr::from_bytes(target);
            return std::os::unix::fs::symlink(target, self.host(rel)).unwrap();
        };
        let (dir, name) = parent_of(root, rel).await;
        dir.symlink(&req(), &name, target, 0).await.expect("memfs symlink");
    }

    /// `lstat(rel)`, or `None` when it does not exist.
    pub async fn host_lstat(&self, rel: impl AsRef<Path>) -> Option<HostMeta> {
        let rel = rel.as_ref();
        let Some(root) = self.mem_root() else {
            return std::fs::symlink_metadata(self.host(rel)).ok().map(|m| HostMeta::from_std(&m));
        };
        let node = match resolve(root, &components(rel)).await {
            Ok(n) => n,
            Err(Errno::ENOENT) => return None,
            Err(e) => panic!("memfs {rel:?}: {e:?}"),
        };
        let attr = node.getattr(&req(), GetattrMask::BASIC).await.expect("memfs getattr");
        Some(HostMeta::from_attr(&attr))
    }

    /// `lstat(rel)`, which must exist.
    pub async fn host_meta(&self, rel: impl AsRef<Path>) -> HostMeta {
        let rel = rel.as_ref();
        self.host_lstat(rel).await.unwrap_or_else(|| panic!("{rel:?} does not exist"))
    }

    /// Whether `rel` exists (symlinks not followed).
    pub async fn host_exists(&self, rel: impl AsRef<Path>) -> bool {
        self.host_lstat(rel).await.is_some()
    }

    /// Whether `rel` is a directory.
    pub async fn host_is_dir(&self, rel: impl AsRef<Path>) -> bool {
        self.host_lstat(rel).await.is_some_and(|m| m.is_dir())
    }

    /// The target of symlink `rel`.
    pub async fn host_read_link(&self, rel: impl AsRef<Path>) -> Vec<u8> {
        let rel = rel.as_ref();
        let Some(root) = self.mem_root() else {
            return std::fs::read_link(self.host(rel)).unwrap().as_os_str().as_bytes().to_vec();
        };
        let node = resolve(root, &components(rel)).await.expect("memfs resolve");
        node.readlink(&req()).await.expect("memfs readlink").to_vec()
    }

    /// `chmod mode rel`.
    pub async fn host_chmod(&self, rel: impl AsRef<Path>, mode: u32) {
        let rel = rel.as_ref();
        let Some(root) = self.mem_root() else {
            let p = std::fs::Permissions::from_mode(mode);
            return std::fs::set_permissions(self.host(rel), p).unwrap();
        };
        let node = resolve(root, &components(rel)).await.expect("memfs resolve");
        let attr = SetAttr { valid: SetattrMask::MODE, mode, ..SetAttr::default() };
        node.setattr(&req(), &attr).await.expect("memfs chmod");
    }

    /// The names in directory `rel`, without `.` and `..`.
    pub async fn host_list(&self, rel: impl AsRef<Path>) -> Vec<Vec<u8>> {
        let rel = rel.as_ref();
        let Some(root) = self.mem_root() else {
            return std::fs::read_dir(self.host(rel))
                .unwrap()
                .map(|e| e.unwrap().file_name().as_bytes().to_vec())
                .collect();
        };
        let node = resolve(root, &components(rel)).await.expect("memfs resolve");
        let dir = node.downcast_ref::<MemNode>().expect("a memfs node");
        let mut names = Vec::new();
        dir.list_from(0, |_, _, _, name| {
            if name != b"." && name != b".." {
                names.push(name.to_vec());
            }
            true
        })
        .expect("memfs list");
        names
    }

    /// `(block size, blocks)` of the export's filesystem.
    pub async fn host_statfs(&self) -> (u64, u64) {
        let Some(root) = self.mem_root() else {
            let st = rustix::fs::statvfs(self.host("")).unwrap();
            return (st.f_bsize, st.f_blocks);
        };
        let st = root.statfs(&req()).await.expect("memfs statfs");
        (u64::from(st.bsize), st.blocks)
    }
}
