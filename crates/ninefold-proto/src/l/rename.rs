//! Trename/Rrename and Trenameat/Rrenameat.

use crate::wire::wire_struct;
use crate::P9String;

wire_struct! {
    /// `Trename fid[4] dfid[4] name[s]`: move the file `fid` names into
    /// directory `dfid` as `name` (the kernel's fallback after Trenameat
    /// answers EOPNOTSUPP).
    pub struct Trename {
        /// The file to move.
        pub fid: u32,
        /// The target directory.
        pub dfid: u32,
        /// The new name.
        pub name: P9String,
    }
}

wire_struct! {
    /// `Rrename`.
    pub struct Rrename;
}

wire_struct! {
    /// `Trenameat olddirfid[4] oldname[s] newdirfid[4] newname[s]`.
    pub struct Trenameat {
        /// The source directory.
        pub olddirfid: u32,
        /// The source name.
        pub oldname: P9String,
        /// The target directory.
        pub newdirfid: u32,
        /// The target name.
        pub newname: P9String,
    }
}

wire_struct! {
    /// `Rrenameat`.
    pub struct Rrenameat;
}
