//! The Tsetattr `valid` word.

use crate::wire::wire_bitflags;

bitflags::bitflags! {
    /// Which attributes Tsetattr (and Tsetattrattr) change.
    ///
    /// `ATIME`/`MTIME` alone mean "set to the server's current time"; with
    /// `ATIME_SET`/`MTIME_SET` the time fields of the message are used.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
    pub struct SetattrMask: u32 {
        /// chmod: the permission bits of `mode`.
        const MODE = 0x001;
        /// chown: `uid`.
        const UID = 0x002;
        /// chgrp: `gid`.
        const GID = 0x004;
        /// truncate or extend to `size`.
        const SIZE = 0x008;
        /// set atime (to now, unless `ATIME_SET`).
        const ATIME = 0x010;
        /// set mtime (to now, unless `MTIME_SET`).
        const MTIME = 0x020;
        /// touch ctime (servers may ignore it; they update ctime anyway).
        const CTIME = 0x040;
        /// use `atime_sec`/`atime_nsec`.
        const ATIME_SET = 0x080;
        /// use `mtime_sec`/`mtime_nsec`.
        const MTIME_SET = 0x100;
        /// 9P2000.L.Z only: record a server-chosen access time; sent exactly
        /// as `ATIME_ACCESS | ATIME` on a fid opened for reading.
        const ATIME_ACCESS = 0x8000_0000;
    }
}

wire_bitflags! {
    SetattrMask => u32;
}
