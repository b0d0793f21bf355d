//! [`StaticFile`]: fixed bytes, read-only.

use async_trait::async_trait;
use bytes::Bytes;
use ninefold_proto::l::Attr;
use ninefold_proto::{Errno, GetattrMask, OpenFlags, Qid, QidType, S_IFREG};
use ninefold_server::{Node, Opened, QidGen, Request, Result};

use super::{owner_setter, slice, Stamp};

/// A read-only regular file serving fixed bytes; reads are zero-copy
/// slices of them. Writable opens fail with EACCES.
///
/// ```
/// use ninefold_fs::synthetic::StaticFile;
/// use ninefold_server::QidGen;
///
/// let qids = QidGen::new();
/// let motd = StaticFile::new(&qids, "hello\n").mode(0o400);
/// assert_eq!(motd.content(), "hello\n");
/// ```
#[derive(Debug, Clone)]
pub struct StaticFile {
    qid: Qid,
    content: Bytes,
    mode: u32,
    stamp: Stamp,
}

impl StaticFile {
    /// A file with a fresh qid from `qids`, mode 0444.
    pub fn new(qids: &QidGen, content: impl Into<Bytes>) -> StaticFile {
        StaticFile::with_qid(qids.next(QidType::FILE), content)
    }

    /// A file with an explicit qid, mode 0444.
    pub fn with_qid(qid: Qid, content: impl Into<Bytes>) -> StaticFile {
        StaticFile { qid, content: content.into(), mode: 0o444, stamp: Stamp::now() }
    }

    /// Sets the permission bits.
    #[must_use]
    pub fn mode(mut self, mode: u32) -> StaticFile {
        self.mode = mode & 0o7777;
        self
    }

    /// The content.
    pub fn content(&self) -> &Bytes {
        &self.content
    }
}

owner_setter!(StaticFile);

#[async_trait]
impl Node for StaticFile {
    fn qid(&self) -> Qid {
        self.qid
    }

    async fn getattr(&self, _req: &Request, _mask: GetattrMask) -> Result<Attr> {
        Ok(self.stamp.attr(self.qid, S_IFREG | self.mode, self.content.len() as u64, 0))
    }

    async fn open(&self, _req: &Request, flags: OpenFlags) -> Result<Opened> {
        if flags.access_mode().can_write() || flags.contains(OpenFlags::TRUNC) {
            return Err(Errno::EACCES);
        }
        Ok(Opened::node())
    }

    async fn read(&self, _req: &Request, offset: u64, count: u32) -> Result<Bytes> {
        Ok(slice(&self.content, offset, count))
    }

    async fn xattr_get(&self, _req: &Request, _name: &[u8]) -> Result<Bytes> {
        Err(Errno::ENODATA)
    }

    async fn xattr_list(&self, _req: &Request) -> Result<Vec<Bytes>> {
        Ok(Vec::new())
    }
}
