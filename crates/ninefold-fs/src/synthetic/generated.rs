//! [`GeneratedFile`]: content computed by a closure.

use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use bytes::Bytes;
use ninefold_proto::l::Attr;
use ninefold_proto::{Errno, GetattrMask, OpenFlags, Qid, QidType, S_IFREG};
use ninefold_server::{Handle, Node, Opened, QidGen, Request, Result};

use super::{owner_setter, slice, Stamp};

type Whole = Arc<dyn Fn() -> Bytes + Send + Sync>;
type Ranged = Arc<dyn Fn(u64, u32) -> Bytes + Send + Sync>;

#[derive(Clone)]
enum Source {
    Whole(Whole),
    Ranged { read: Ranged, size: u64 },
}

/// A read-only regular file whose content a closure computes.
///
/// - [`new`](GeneratedFile::new): the closure returns the whole content.
///   It runs at each open, and that open's reads slice the snapshot, so
///   a reader sees one consistent version however it splits its reads;
///   getattr runs it too, to report the size.
/// - [`ranged`](GeneratedFile::ranged): the closure answers each read
///   `(offset, count)` itself (returning fewer bytes means end of file);
///   the size getattr reports is fixed.
///
/// ```
/// use std::sync::atomic::{AtomicU64, Ordering};
/// use std::sync::Arc;
/// use bytes::Bytes;
/// use ninefold_fs::synthetic::GeneratedFile;
/// use ninefold_server::QidGen;
///
/// let hits = Arc::new(AtomicU64::new(0));
/// let counter = GeneratedFile::new(&QidGen::new(), move || {
///     Bytes::from(format!("{}\n", hits.fetch_add(1, Ordering::Relaxed)))
/// });
/// # let _ = counter;
/// ```
#[derive(Clone)]
pub struct GeneratedFile {
    qid: Qid,
    source: Source,
    mode: u32,
    stamp: Stamp,
}

impl fmt::Debug for GeneratedFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match &self.source {
            Source::Whole(_) => "whole",
            Source::Ranged { .. } => "ranged",
        };
        f.debug_struct("GeneratedFile").field("qid", &self.qid).field("source", &kind).finish()
    }
}

impl GeneratedFile {
    /// Content computed whole at each open (and getattr).
    pub fn new(
        qids: &QidGen,
        generate: impl Fn() -> Bytes + Send + Sync + 'static,
    ) -> GeneratedFile {
        GeneratedFile::with_qid(qids.next(QidType::FILE), generate)
    }

    /// [`new`](Self::new) with an explicit qid.
    pub fn with_qid(
        qid: Qid,
        generate: impl Fn() -> Bytes + Send + Sync + 'static,
    ) -> GeneratedFile {
        GeneratedFile {
            qid,
            source: Source::Whole(Arc::new(generate)),
            mode: 0o444,
            stamp: Stamp::now(),
        }
    }

    /// Content computed per read, for a file reporting `size` bytes.
    pub fn ranged(
        qids: &QidGen,
        size: u64,
        read: impl Fn(u64, u32) -> Bytes + Send + Sync + 'static,
    ) -> GeneratedFile {
        GeneratedFile {
            qid: qids.next(QidType::FILE),
            source: Source::Ranged { read: Arc::new(read), size },
            mode: 0o444,
            stamp: Stamp::now(),
        }
    }

    /// Sets the permission bits (default 0444).
    #[must_use]
    pub fn mode(mut self, mode: u32) -> GeneratedFile {
        self.mode = mode & 0o7777;
        self
    }
}

owner_setter!(GeneratedFile);

/// One open's snapshot of a whole-content file.
#[derive(Debug)]
struct Snapshot(Bytes);

#[async_trait]
impl Handle for Snapshot {
    async fn read(
        &self,
        _req: &Request,
        _node: &dyn Node,
        offset: u64,
        count: u32,
    ) -> Result<Bytes> {
        Ok(slice(&self.0, offset, count))
    }
}

#[async_trait]
impl Node for GeneratedFile {
    fn qid(&self) -> Qid {
        self.qid
    }

    async fn getattr(&self, _req: &Request, _mask: GetattrMask) -> Result<Attr> {
        let size = match &self.source {
            Source::Whole(generate) => generate().len() as u64,
            Source::Ranged { size, .. } => *size,
        };
        Ok(self.stamp.attr(self.qid, S_IFREG | self.mode, size, 0))
    }

    async fn open(&self, _req: &Request, flags: OpenFlags) -> Result<Opened> {
        if flags.access_mode().can_write() || flags.contains(OpenFlags::TRUNC) {
            return Err(Errno::EACCES);
        }
        Ok(match &self.source {
            Source::Whole(generate) => Opened::with_handle(Snapshot(generate())),
            Source::Ranged { .. } => Opened::node(),
        })
    }

    async fn read(&self, _req: &Request, offset: u64, count: u32) -> Result<Bytes> {
        Ok(match &self.source {
            Source::Whole(generate) => slice(&generate(), offset, count),
            Source::Ranged { read, size } => {
                if offset >= *size {
                    return Ok(Bytes::new());
                }
                let mut data = read(offset, count);
                let max = (count as usize).min((*size - offset).try_into().unwrap_or(usize::MAX));
                data.truncate(max);
                data
            }
        })
    }
}
