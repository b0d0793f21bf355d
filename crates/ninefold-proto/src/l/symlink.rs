//! Tsymlink/Rsymlink.

use crate::wire::wire_struct;
use crate::{P9String, Qid};

wire_struct! {
    /// `Tsymlink fid[4] name[s] symtgt[s] gid[4]`: create symbolic link
    /// `name` to `symtgt` in directory `fid`.
    pub struct Tsymlink {
        /// The directory.
        pub fid: u32,
        /// The new name.
        pub name: P9String,
        /// The link target.
        pub symtgt: P9String,
        /// Group of the link.
        pub gid: u32,
    }
}

wire_struct! {
    /// `Rsymlink qid[13]`.
    pub struct Rsymlink {
        /// The link's qid.
        pub qid: Qid,
    }
}
