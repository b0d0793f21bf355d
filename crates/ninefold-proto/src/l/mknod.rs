//! Tmknod/Rmknod.

use crate::wire::wire_struct;
use crate::{P9String, Qid};

wire_struct! {
    /// `Tmknod dfid[4] name[s] mode[4] major[4] minor[4] gid[4]`: create a
    /// device, FIFO or socket; the type comes from `mode`'s S_IF* bits.
    pub struct Tmknod {
        /// The directory.
        pub dfid: u32,
        /// The new name.
        pub name: P9String,
        /// Type and permission bits.
        pub mode: u32,
        /// Device major number.
        pub major: u32,
        /// Device minor number.
        pub minor: u32,
        /// Group of the node.
        pub gid: u32,
    }
}

wire_struct! {
    /// `Rmknod qid[13]`.
    pub struct Rmknod {
        /// The node's qid.
        pub qid: Qid,
    }
}
