//! [`Device`]: a character or block device node.

use async_trait::async_trait;
use ninefold_proto::l::Attr;
use ninefold_proto::{GetattrMask, Qid, QidType, S_IFBLK, S_IFCHR};
use ninefold_server::{Node, QidGen, Request, Result};

use super::{owner_setter, Stamp};

/// A device node: the client sees its type and numbers and opens the
/// device on its own side (the Linux client never sends I/O for it).
///
/// ```
/// use ninefold_fs::synthetic::Device;
/// use ninefold_server::QidGen;
///
/// let null = Device::char(&QidGen::new(), 1, 3).mode(0o666);
/// assert_eq!(null.rdev(), 0x103);
/// ```
#[derive(Debug, Clone)]
pub struct Device {
    qid: Qid,
    kind: u32,
    mode: u32,
    major: u32,
    minor: u32,
    stamp: Stamp,
}

impl Device {
    /// A character device with a fresh qid, mode 0600.
    pub fn char(qids: &QidGen, major: u32, minor: u32) -> Device {
        Device::with_qid(qids.next(QidType::FILE), S_IFCHR, major, minor)
    }

    /// A block device with a fresh qid, mode 0600.
    pub fn block(qids: &QidGen, major: u32, minor: u32) -> Device {
        Device::with_qid(qids.next(QidType::FILE), S_IFBLK, major, minor)
    }

    /// A device of type `kind` (S_IFCHR or S_IFBLK) with an explicit qid.
    pub fn with_qid(qid: Qid, kind: u32, major: u32, minor: u32) -> Device {
        Device { qid, kind, mode: 0o600, major, minor, stamp: Stamp::now() }
    }

    /// Sets the permission bits.
    #[must_use]
    pub fn mode(mut self, mode: u32) -> Device {
        self.mode = mode & 0o7777;
        self
    }

    /// `rdev` as getattr reports it (Linux `new_encode_dev`).
    pub fn rdev(&self) -> u64 {
        let (major, minor) = (u64::from(self.major), u64::from(self.minor));
        (minor & 0xff) | ((major & 0xfff) << 8) | ((minor & !0xff) << 12)
    }
}

owner_setter!(Device);

#[async_trait]
impl Node for Device {
    fn qid(&self) -> Qid {
        self.qid
    }

    async fn getattr(&self, _req: &Request, _mask: GetattrMask) -> Result<Attr> {
        Ok(self.stamp.attr(self.qid, self.kind | self.mode, 0, self.rdev()))
    }
}
