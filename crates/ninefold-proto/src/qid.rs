//! [`Qid`], the server's identity of a file, and its [`QidType`] bits.

use bytes::BufMut;

use crate::error::EncodeError;
use crate::wire::{wire_bitflags, Fault, Reader, WalkItem, Wire, Writer};
use crate::Dialect;

bitflags::bitflags! {
    /// The `type[1]` byte of a [`Qid`]: the high bits of a 9P2000 mode.
    ///
    /// A regular file has no bits set ([`QidType::FILE`]). Unknown bits are
    /// kept as received.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
    pub struct QidType: u8 {
        /// QTDIR: a directory.
        const DIR = 0x80;
        /// QTAPPEND: an append-only file.
        const APPEND = 0x40;
        /// QTEXCL: an exclusive-use file.
        const EXCL = 0x20;
        /// QTMOUNT: a mounted channel.
        const MOUNT = 0x10;
        /// QTAUTH: an authentication file.
        const AUTH = 0x08;
        /// QTTMP: a temporary (not backed up) file.
        const TMP = 0x04;
        /// QTSYMLINK (9P2000.u and later): a symbolic link.
        const SYMLINK = 0x02;
        /// QTLINK (9P2000.u): a hard link.
        const LINK = 0x01;
    }
}

impl QidType {
    /// QTFILE: a plain file (no bits set).
    pub const FILE: QidType = QidType::empty();

    /// The qid type agreeing with a Linux `st_mode`: DIR for directories,
    /// SYMLINK for symbolic links, FILE for everything else.
    ///
    /// ```
    /// use ninefold_proto::QidType;
    /// assert_eq!(QidType::from_mode(0o040755), QidType::DIR);
    /// assert_eq!(QidType::from_mode(0o120777), QidType::SYMLINK);
    /// assert_eq!(QidType::from_mode(0o100644), QidType::FILE);
    /// ```
    pub const fn from_mode(mode: u32) -> QidType {
        match mode & crate::flags::S_IFMT {
            crate::flags::S_IFDIR => QidType::DIR,
            crate::flags::S_IFLNK => QidType::SYMLINK,
            _ => QidType::FILE,
        }
    }
}

wire_bitflags! {
    QidType => u8;
}

/// A qid: `type[1] version[4] path[8]`, the server's unique identity of a
/// file. `path` must be unique and stable for the life of the export;
/// `version` changes when the file changes (0 = "do not cache").
///
/// ```
/// use ninefold_proto::{Qid, QidType};
/// let root = Qid { ty: QidType::DIR, version: 0, path: 1 };
/// assert!(root.is_dir());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "proptest", derive(proptest_derive::Arbitrary))]
pub struct Qid {
    /// The file type bits.
    pub ty: QidType,
    /// Version, bumped on modification.
    pub version: u32,
    /// Unique identity of the file within the export.
    pub path: u64,
}

impl Qid {
    /// Encoded length: 13 bytes.
    pub const WIRE_LEN: usize = 13;

    /// Whether the qid names a directory.
    pub const fn is_dir(&self) -> bool {
        self.ty.contains(QidType::DIR)
    }

    /// Whether the qid names a symbolic link.
    pub const fn is_symlink(&self) -> bool {
        self.ty.contains(QidType::SYMLINK)
    }
}

impl Wire for Qid {
    #[inline]
    fn wire_len(&self, _d: Dialect) -> Result<usize, EncodeError> {
        Ok(Qid::WIRE_LEN)
    }
    #[inline]
    fn put<B: BufMut>(&self, w: &mut Writer<'_, B>, _d: Dialect) {
        w.u8(self.ty.bits());
        w.u32(self.version);
        w.u64(self.path);
    }
    #[inline]
    fn get(r: &mut Reader<'_>, _d: Dialect) -> Result<Self, Fault> {
        Ok(Qid { ty: QidType::from_bits_retain(r.u8()?), version: r.u32()?, path: r.u64()? })
    }
}

impl WalkItem for Qid {
    const MIN_WIRE_LEN: usize = Qid::WIRE_LEN;
}
