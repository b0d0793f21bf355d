//! The Tgetattr `request_mask` and Rgetattr `valid` words.

use crate::wire::wire_bitflags;

bitflags::bitflags! {
    /// Which attributes Tgetattr asks for and Rgetattr fills in.
    ///
    /// The Linux client asks for `BASIC | GEN` (0x17ff) when it instantiates
    /// an inode and `ALL` (0x3fff) for `stat(2)`. A server should fill every
    /// BASIC field and set `valid` to exactly what it filled.
    ///
    /// ```
    /// use ninefold_proto::GetattrMask;
    /// assert_eq!(GetattrMask::BASIC.bits(), 0x7ff);
    /// assert_eq!((GetattrMask::BASIC | GetattrMask::GEN).bits(), 0x17ff);
    /// ```
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
    pub struct GetattrMask: u64 {
        /// `mode`.
        const MODE = 0x0001;
        /// `nlink`.
        const NLINK = 0x0002;
        /// `uid`.
        const UID = 0x0004;
        /// `gid`.
        const GID = 0x0008;
        /// `rdev`.
        const RDEV = 0x0010;
        /// `atime_sec`, `atime_nsec`.
        const ATIME = 0x0020;
        /// `mtime_sec`, `mtime_nsec`.
        const MTIME = 0x0040;
        /// `ctime_sec`, `ctime_nsec`.
        const CTIME = 0x0080;
        /// `qid.path` (the inode number).
        const INO = 0x0100;
        /// `size`.
        const SIZE = 0x0200;
        /// `blocks`.
        const BLOCKS = 0x0400;
        /// `btime_sec`, `btime_nsec` (ignored by current kernels).
        const BTIME = 0x0800;
        /// `gen` (the inode generation).
        const GEN = 0x1000;
        /// `data_version` (ignored by current kernels).
        const DATA_VERSION = 0x2000;
        /// MODE through BLOCKS: what `stat(2)` needs.
        const BASIC = 0x07ff;
        /// Every attribute.
        const ALL = 0x3fff;
    }
}

wire_bitflags! {
    GetattrMask => u64;
}
