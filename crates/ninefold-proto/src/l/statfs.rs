//! Tstatfs/Rstatfs: filesystem statistics.

use crate::wire::wire_struct;

wire_struct! {
    /// `Tstatfs fid[4]`.
    pub struct Tstatfs {
        /// Any fid on the filesystem.
        pub fid: u32,
    }
}

wire_struct! {
    /// `Rstatfs type[4] bsize[4] blocks[8] bfree[8] bavail[8] files[8]
    /// ffree[8] fsid[8] namelen[4]`, as `statfs(2)`.
    #[derive(Default)]
    pub struct Rstatfs {
        /// Filesystem magic number (`type`).
        pub ty: u32,
        /// Block size.
        pub bsize: u32,
        /// Total blocks.
        pub blocks: u64,
        /// Free blocks.
        pub bfree: u64,
        /// Free blocks for unprivileged users.
        pub bavail: u64,
        /// Total inodes.
        pub files: u64,
        /// Free inodes.
        pub ffree: u64,
        /// Filesystem id, stable and distinct per export.
        pub fsid: u64,
        /// Longest name.
        pub namelen: u32,
    }
}
