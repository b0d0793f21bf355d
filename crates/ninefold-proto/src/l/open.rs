//! Tlopen/Rlopen and Tlcreate/Rlcreate.

use crate::wire::wire_struct;
use crate::{OpenFlags, P9String, Qid};

wire_struct! {
    /// `Tlopen fid[4] flags[4]`: open the file `fid` names. CREATE and EXCL
    /// mean nothing here; current kernels mask the flags with 0x1fff.
    pub struct Tlopen {
        /// The fid to open (walked, not yet open).
        pub fid: u32,
        /// `P9_DOTL_*` flags.
        pub flags: OpenFlags,
    }
}

wire_struct! {
    /// `Rlopen qid[13] iounit[4]`.
    pub struct Rlopen {
        /// The file's qid.
        pub qid: Qid,
        /// Preferred I/O size; answer 0 (the client then uses msize − 24).
        pub iounit: u32,
    }
}

wire_struct! {
    /// `Tlcreate fid[4] name[s] flags[4] mode[4] gid[4]`: create regular file
    /// `name` in directory `fid` and open it; `fid` becomes the new file.
    pub struct Tlcreate {
        /// The directory; becomes the open new file.
        pub fid: u32,
        /// The new name.
        pub name: P9String,
        /// `P9_DOTL_*` flags (EXCL: fail if `name` exists).
        pub flags: OpenFlags,
        /// Permission bits (type bits may be present in older kernels).
        pub mode: u32,
        /// Group of the new file.
        pub gid: u32,
    }
}

wire_struct! {
    /// `Rlcreate qid[13] iounit[4]`.
    pub struct Rlcreate {
        /// The new file's qid.
        pub qid: Qid,
        /// Preferred I/O size; answer 0.
        pub iounit: u32,
    }
}
