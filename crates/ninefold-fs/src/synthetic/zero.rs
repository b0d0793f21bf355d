//! [`ZeroFile`] and [`NullFile`]: benchmark endpoints that allocate
//! nothing per request.

use async_trait::async_trait;
use bytes::Bytes;
use ninefold_proto::l::Attr;
use ninefold_proto::{GetattrMask, Qid, S_IFREG};
use ninefold_server::{Node, Request, Result};

use super::{owner_setter, Stamp};

/// The static buffer zero reads are sliced from.
static ZEROS: [u8; ZERO_CHUNK] = [0; ZERO_CHUNK];

/// Most bytes one read of a [`ZeroFile`] returns (1 MiB); larger reads
/// come back short, which clients handle by reading again.
pub const ZERO_CHUNK: usize = 1 << 20;

/// Reads return zeros (slices of a static buffer, no allocation); writes
/// are accepted and discarded.
///
/// ```
/// use ninefold_fs::synthetic::ZeroFile;
/// use ninefold_proto::{Qid, QidType};
///
/// let zero = ZeroFile::new(Qid { ty: QidType::FILE, version: 0, path: 9 }).size(1 << 30);
/// # let _ = zero;
/// ```
#[derive(Debug, Clone)]
pub struct ZeroFile {
    qid: Qid,
    size: Option<u64>,
    stamp: Stamp,
}

impl ZeroFile {
    /// An endless zero file (getattr reports size 0, reads never end).
    pub fn new(qid: Qid) -> ZeroFile {
        ZeroFile { qid, size: None, stamp: Stamp::now() }
    }

    /// Ends the file after `size` bytes (and reports that size).
    #[must_use]
    pub fn size(mut self, size: u64) -> ZeroFile {
        self.size = Some(size);
        self
    }
}

owner_setter!(ZeroFile);

#[async_trait]
impl Node for ZeroFile {
    fn qid(&self) -> Qid {
        self.qid
    }

    async fn getattr(&self, _req: &Request, _mask: GetattrMask) -> Result<Attr> {
        Ok(self.stamp.attr(self.qid, S_IFREG | 0o666, self.size.unwrap_or(0), 0))
    }

    async fn read(&self, _req: &Request, offset: u64, count: u32) -> Result<Bytes> {
        let left = self.size.map_or(u64::MAX, |size| size.saturating_sub(offset));
        let n = (count as usize).min(ZERO_CHUNK).min(usize::try_from(left).unwrap_or(usize::MAX));
        Ok(Bytes::from_static(&ZEROS[..n]))
    }

    async fn write(&self, _req: &Request, _offset: u64, data: Bytes) -> Result<u32> {
        Ok(u32::try_from(data.len()).unwrap_or(u32::MAX))
    }
}

/// Reads hit end of file at once; writes are accepted and discarded.
///
/// ```
/// use ninefold_fs::synthetic::NullFile;
/// use ninefold_server::{Node, QidGen};
///
/// let null = NullFile::new(QidGen::new().next(Default::default()));
/// assert_eq!(null.qid().path, 1);
/// ```
#[derive(Debug, Clone)]
pub struct NullFile {
    qid: Qid,
    stamp: Stamp,
}

impl NullFile {
    /// A null file with qid `qid`.
    pub fn new(qid: Qid) -> NullFile {
        NullFile { qid, stamp: Stamp::now() }
    }
}

owner_setter!(NullFile);

#[async_trait]
impl Node for NullFile {
    fn qid(&self) -> Qid {
        self.qid
    }

    async fn getattr(&self, _req: &Request, _mask: GetattrMask) -> Result<Attr> {
        Ok(self.stamp.attr(self.qid, S_IFREG | 0o666, 0, 0))
    }

    async fn read(&self, _req: &Request, _offset: u64, _count: u32) -> Result<Bytes> {
        Ok(Bytes::new())
    }

    async fn write(&self, _req: &Request, _offset: u64, data: Bytes) -> Result<u32> {
        Ok(u32::try_from(data.len()).unwrap_or(u32::MAX))
    }
}
