//! Tgetattr/Rgetattr and the 145-byte attribute block [`Attr`].

use crate::wire::wire_struct;
use crate::{GetattrMask, Qid};

wire_struct! {
    /// The attribute block of Rgetattr (after `valid`), also carried whole
    /// by the 9P2000.L.Z replies (where it is called `stat`): 145 bytes, as
    /// `statx(2)` would fill them.
    ///
    /// `qid.path` is the inode number, `blocks` counts 512-byte units and
    /// `rdev` uses Linux's `new_encode_dev` form.
    ///
    /// ```
    /// use ninefold_proto::l::Attr;
    /// use ninefold_proto::{Qid, QidType, S_IFREG};
    ///
    /// let attr = Attr {
    ///     qid: Qid { ty: QidType::FILE, version: 1, path: 42 },
    ///     mode: S_IFREG | 0o644,
    ///     nlink: 1,
    ///     size: 5,
    ///     blksize: 4096,
    ///     blocks: 1,
    ///     ..Attr::default()
    /// };
    /// assert_eq!(attr.qid.path, 42);
    /// ```
    #[derive(Default)]
    pub struct Attr {
        /// The file's qid.
        pub qid: Qid,
        /// Type and permission bits (`st_mode`).
        pub mode: u32,
        /// Owner.
        pub uid: u32,
        /// Group.
        pub gid: u32,
        /// Hard links.
        pub nlink: u64,
        /// Device number, for device files.
        pub rdev: u64,
        /// Size in bytes.
        pub size: u64,
        /// Preferred I/O size (programs such as `cp` size buffers from it).
        pub blksize: u64,
        /// Allocated 512-byte blocks.
        pub blocks: u64,
        /// Access time, seconds.
        pub atime_sec: u64,
        /// Access time, nanoseconds.
        pub atime_nsec: u64,
        /// Modification time, seconds.
        pub mtime_sec: u64,
        /// Modification time, nanoseconds.
        pub mtime_nsec: u64,
        /// Status-change time, seconds.
        pub ctime_sec: u64,
        /// Status-change time, nanoseconds.
        pub ctime_nsec: u64,
        /// Birth time, seconds.
        pub btime_sec: u64,
        /// Birth time, nanoseconds.
        pub btime_nsec: u64,
        /// Inode generation.
        pub gen: u64,
        /// Data version.
        pub data_version: u64,
    }
}

impl Attr {
    /// Encoded length: 145 bytes.
    pub const WIRE_LEN: usize = 145;
}

wire_struct! {
    /// `Tgetattr fid[4] request_mask[8]`.
    pub struct Tgetattr {
        /// The file.
        pub fid: u32,
        /// The attributes wanted.
        pub request_mask: GetattrMask,
    }
}

wire_struct! {
    /// `Rgetattr valid[8]` + [`Attr`] (153 bytes of body). `valid` says
    /// which fields are filled: fill all of BASIC and say exactly that.
    pub struct Rgetattr {
        /// The attributes filled in.
        pub valid: GetattrMask,
        /// The attributes.
        pub attr: Attr,
    }
}
