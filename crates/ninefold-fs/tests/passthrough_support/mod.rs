//! Helpers shared by the passthrough and escape tests.

#![allow(dead_code, unreachable_pub, missing_docs)]

use std::collections::HashSet;
use std::sync::Arc;

use bytes::Bytes;
use ninefold_fs::passthrough::{Passthrough, PassthroughBuilder, PassthroughHandle};
use ninefold_proto::{DirentType, Errno, OpenFlags};
use ninefold_server::{DirSink, Handle, Identity, Node, Request};

pub fn req() -> Request {
    Request::new(Identity::root())
}

pub fn req_as(uid: u32) -> Request {
    Request::new(Identity { uname: Bytes::new(), uid: Some(uid), ..Identity::default() })
}

/// A temp dir holding `export/` (exported) and `outside/` (the canary).
pub struct Fixture {
    pub tmp: tempfile::TempDir,
    pub export: std::path::PathBuf,
    pub outside: std::path::PathBuf,
}

impl Fixture {
    pub fn new() -> Fixture {
        let tmp = tempfile::tempdir().unwrap();
        let export = tmp.path().join("export");
        let outside = tmp.path().join("outside");
        std::fs::create_dir(&export).unwrap();
        std::fs::create_dir(&outside).unwrap();
        Fixture { tmp, export, outside }
    }

    pub fn builder(&self) -> PassthroughBuilder {
        Passthrough::builder(&self.export)
    }

    pub fn fs(&self) -> Passthrough {
        self.builder().build().unwrap()
    }

    pub fn root(&self) -> Arc<dyn Node> {
        self.fs().root()
    }

    pub fn path(&self, rel: &str) -> std::path::PathBuf {
        self.export.join(rel)
    }
}

pub async fn walk(root: &Arc<dyn Node>, path: &str) -> Result<Arc<dyn Node>, Errno> {
    let mut node = root.clone();
    for name in path.split('/').filter(|n| !n.is_empty()) {
        node = node.lookup(&req(), name.as_bytes()).await?;
    }
    Ok(node)
}

pub async fn open(node: &Arc<dyn Node>, flags: OpenFlags) -> Result<Arc<dyn Handle>, Errno> {
    let opened = node.open(&req(), flags).await?;
    Ok(opened.handle.expect("passthrough opens return a handle"))
}

pub async fn read_all(node: &Arc<dyn Node>, handle: &Arc<dyn Handle>) -> Result<Vec<u8>, Errno> {
    let mut out = Vec::new();
    loop {
        let chunk = handle.read(&req(), node.as_ref(), out.len() as u64, 4096).await?;
        if chunk.is_empty() {
            return Ok(out);
        }
        out.extend_from_slice(&chunk);
    }
}

/// Lists a directory through its handle in pages of `budget` bytes,
/// following cookies, and checks each page against what a `DirSink` of
/// that size accepts. Panics on cookie 0 or a repeated cookie.
pub async fn list(node: &Arc<dyn Node>, budget: usize) -> Vec<(Vec<u8>, DirentType)> {
    let handle = open(node, OpenFlags::RDONLY).await.unwrap();
    let ph = handle.downcast_ref::<PassthroughHandle>().unwrap();
    let mut offset = 0;
    let mut names = Vec::new();
    let mut seen_cookies = HashSet::new();
    loop {
        let page = ph.entries(offset, budget).await.unwrap();
        let mut sink = DirSink::new(budget);
        handle.readdir(&req(), node.as_ref(), offset, &mut sink).await.unwrap();
        assert_eq!(sink.entries(), page.len(), "the sink takes exactly the page");
        if page.is_empty() {
            break;
        }
        for entry in page {
            assert_ne!(entry.offset, 0, "cookie 0 for {:?}", entry.name);
            assert!(seen_cookies.insert(entry.offset), "cookie {} repeated", entry.offset);
            names.push((entry.name.as_ref().to_vec(), entry.ty));
            offset = entry.offset;
        }
    }
    handle.release(&req(), node.as_ref()).await.unwrap();
    names
}

/// A canary file outside the export: its content and mtime must never
/// change, and its atime shows whether it was read.
pub struct Canary {
    pub path: std::path::PathBuf,
    content: Vec<u8>,
    mtime: std::time::SystemTime,
    ino: u64,
    uid: u32,
}

pub const CANARY: &[u8] = b"outside the export: never read, never written\n";

impl Canary {
    pub fn new(dir: &std::path::Path) -> Canary {
        use std::os::unix::fs::MetadataExt;
        let path = dir.join("canary");
        std::fs::write(&path, CANARY).unwrap();
        std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o644))
            .unwrap();
        let meta = std::fs::metadata(&path).unwrap();
        Canary {
            path,
            content: CANARY.to_vec(),
            mtime: meta.modified().unwrap(),
            ino: meta.ino(),
            uid: meta.uid(),
        }
    }

    /// Panics if the canary was changed, replaced or re-permissioned.
    pub fn check(&self, what: &str) {
        use std::os::unix::fs::{MetadataExt, PermissionsExt};
        let meta = std::fs::symlink_metadata(&self.path)
            .unwrap_or_else(|e| panic!("{what}: canary gone: {e}"));
        assert_eq!(meta.ino(), self.ino, "{what}: canary replaced");
        assert_eq!(meta.modified().unwrap(), self.mtime, "{what}: canary mtime changed");
        assert_eq!(meta.permissions().mode() & 0o7777, 0o644, "{what}: canary mode changed");
        assert_eq!(meta.uid(), self.uid, "{what}: canary owner changed");
        assert_eq!(
            std::fs::read(&self.path).unwrap(),
            self.content,
            "{what}: canary content changed"
        );
        let names: Vec<_> = std::fs::read_dir(self.path.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert!(
            names.iter().all(|n| n == "canary" || n == "moved"),
            "{what}: outside dir gained {names:?}"
        );
    }

    pub fn is_canary(&self, data: &[u8]) -> bool {
        data == self.content.as_slice()
    }
}
