//! [`Symlink`]: a fixed symbolic link.

use async_trait::async_trait;
use bytes::Bytes;
use ninefold_proto::l::Attr;
use ninefold_proto::{GetattrMask, Qid, QidType, S_IFLNK};
use ninefold_server::{Node, QidGen, Request, Result};

use super::{owner_setter, Stamp};

/// A symbolic link to a fixed target.
///
/// ```
/// use ninefold_fs::synthetic::Symlink;
/// use ninefold_server::{Node, QidGen};
///
/// let link = Symlink::new(&QidGen::new(), "/etc/motd");
/// assert!(link.qid().is_symlink());
/// ```
#[derive(Debug, Clone)]
pub struct Symlink {
    qid: Qid,
    target: Bytes,
    stamp: Stamp,
}

impl Symlink {
    /// A link with a fresh qid from `qids`.
    pub fn new(qids: &QidGen, target: impl Into<Bytes>) -> Symlink {
        Symlink::with_qid(qids.next(QidType::SYMLINK), target)
    }

    /// A link with an explicit qid (its type should be SYMLINK).
    pub fn with_qid(qid: Qid, target: impl Into<Bytes>) -> Symlink {
        Symlink { qid, target: target.into(), stamp: Stamp::now() }
    }
}

owner_setter!(Symlink);

#[async_trait]
impl Node for Symlink {
    fn qid(&self) -> Qid {
        self.qid
    }

    async fn getattr(&self, _req: &Request, _mask: GetattrMask) -> Result<Attr> {
        let mut attr = self.stamp.attr(self.qid, S_IFLNK | 0o777, self.target.len() as u64, 0);
        attr.blocks = 0;
        Ok(attr)
    }

    async fn readlink(&self, _req: &Request) -> Result<Bytes> {
        Ok(self.target.clone())
    }
}
