//! Tlink/Rlink.

use crate::wire::wire_struct;
use crate::P9String;

wire_struct! {
    /// `Tlink dfid[4] fid[4] name[s]`: create hard link `name` in directory
    /// `dfid` to the file `fid` names.
    pub struct Tlink {
        /// The directory.
        pub dfid: u32,
        /// The existing file.
        pub fid: u32,
        /// The new name.
        pub name: P9String,
    }
}

wire_struct! {
    /// `Rlink`.
    pub struct Rlink;
}
