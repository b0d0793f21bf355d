//! Tmkdir/Rmkdir.

use crate::wire::wire_struct;
use crate::{P9String, Qid};

wire_struct! {
    /// `Tmkdir dfid[4] name[s] mode[4] gid[4]`. Linux sends `mode` with
    /// S_IFDIR (and S_ISGID when the parent is setgid).
    pub struct Tmkdir {
        /// The parent directory.
        pub dfid: u32,
        /// The new name.
        pub name: P9String,
        /// Mode bits.
        pub mode: u32,
        /// Group of the directory.
        pub gid: u32,
    }
}

wire_struct! {
    /// `Rmkdir qid[13]`.
    pub struct Rmkdir {
        /// The directory's qid.
        pub qid: Qid,
    }
}
