//! Metadata common to every memfs object: mode, owner, link count,
//! timestamps and extended attributes.

use std::collections::BTreeMap;
use std::time::{SystemTime, UNIX_EPOCH};

use bytes::Bytes;

/// A point in time as `statx` carries it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Timespec {
    pub(crate) sec: u64,
    pub(crate) nsec: u64,
}

impl Timespec {
    /// The current time (the epoch if the clock is before it).
    pub(crate) fn now() -> Timespec {
        let d = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
        Timespec { sec: d.as_secs(), nsec: u64::from(d.subsec_nanos()) }
    }
}

/// Metadata of one object.
#[derive(Clone, Debug)]
pub(crate) struct Meta {
    /// Type and permission bits.
    pub(crate) mode: u32,
    pub(crate) uid: u32,
    pub(crate) gid: u32,
    /// Hard links (non-directories; a directory's count is computed).
    pub(crate) nlink: u64,
    pub(crate) atime: Timespec,
    pub(crate) mtime: Timespec,
    pub(crate) ctime: Timespec,
    pub(crate) btime: Timespec,
    pub(crate) xattrs: BTreeMap<Bytes, Bytes>,
}

impl Meta {
    pub(crate) fn new(mode: u32, uid: u32, gid: u32) -> Meta {
        let now = Timespec::now();
        Meta {
            mode,
            uid,
            gid,
            nlink: 1,
            atime: now,
            mtime: now,
            ctime: now,
            btime: now,
            xattrs: BTreeMap::new(),
        }
    }

    /// Content changed: mtime and ctime now.
    pub(crate) fn touch_modified(&mut self) {
        let now = Timespec::now();
        self.mtime = now;
        self.ctime = now;
    }

    /// Status changed: ctime now.
    pub(crate) fn touch_changed(&mut self) {
        self.ctime = Timespec::now();
    }
}

/// Linux `new_encode_dev`: the `rdev` encoding 9P2000.L carries.
pub(crate) fn encode_dev(major: u32, minor: u32) -> u64 {
    let (major, minor) = (u64::from(major), u64::from(minor));
    (minor & 0xff) | ((major & 0xfff) << 8) | ((minor & !0xff) << 12)
}
