//! Helpers shared by the memfs tests.
#![allow(dead_code, unreachable_pub)]

use std::sync::Arc;

use bytes::Bytes;
use ninefold_fs::memfs::{MemFs, MemNode};
use ninefold_proto::l::{Attr, SetAttr};
use ninefold_proto::{Errno, GetattrMask, OpenFlags, SetattrMask};
use ninefold_server::{Identity, Node, Opened, Request};

pub fn su() -> Request {
    Request::new(Identity::root())
}

pub fn user(uid: u32) -> Request {
    Request::new(Identity::from_attach("", uid))
}

pub fn fs() -> MemFs {
    MemFs::builder().root_mode(0o777).build().unwrap()
}

pub fn mem(node: &Arc<dyn Node>) -> &MemNode {
    node.downcast_ref::<MemNode>().expect("a memfs node")
}

pub async fn attr(node: &Arc<dyn Node>) -> Attr {
    node.getattr(&su(), GetattrMask::ALL).await.unwrap()
}

/// Creates `name` in `dir` as root, returning the node and its opened
/// state.
pub async fn create(dir: &Arc<dyn Node>, name: &str) -> (Arc<dyn Node>, Opened) {
    let c = dir.create(&su(), name.as_bytes(), OpenFlags::RDWR, 0o644, 0).await.unwrap();
    (c.node, c.opened)
}

pub async fn mkdir(dir: &Arc<dyn Node>, name: &str) -> Arc<dyn Node> {
    dir.mkdir(&su(), name.as_bytes(), 0o755, 0).await.unwrap()
}

pub async fn write(node: &Arc<dyn Node>, offset: u64, data: &[u8]) -> u32 {
    node.write(&su(), offset, Bytes::copy_from_slice(data)).await.unwrap()
}

pub async fn read_all(node: &Arc<dyn Node>) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let chunk = node.read(&su(), out.len() as u64, 4096).await.unwrap();
        if chunk.is_empty() {
            return out;
        }
        out.extend_from_slice(&chunk);
    }
}

pub async fn lookup(dir: &Arc<dyn Node>, name: &str) -> Result<Arc<dyn Node>, Errno> {
    dir.lookup(&su(), name.as_bytes()).await
}

/// Names listed from `offset`, at most `max` entries, with cookies.
pub fn page(dir: &Arc<dyn Node>, offset: u64, max: usize) -> Vec<(String, u64)> {
    let mut out = Vec::new();
    mem(dir)
        .list_from(offset, |_, cookie, _, name| {
            if out.len() == max {
                return false;
            }
            out.push((String::from_utf8_lossy(name).into_owned(), cookie));
            true
        })
        .unwrap();
    out
}

/// Every name in `dir`, "." and ".." included, in listing order.
pub fn names(dir: &Arc<dyn Node>) -> Vec<String> {
    page(dir, 0, usize::MAX).into_iter().map(|(n, _)| n).collect()
}

pub fn setattr(valid: SetattrMask) -> SetAttr {
    SetAttr { valid, ..SetAttr::default() }
}
