//! Tunlinkat/Runlinkat.

use crate::wire::wire_struct;
use crate::{P9String, UnlinkatFlags};

wire_struct! {
    /// `Tunlinkat dirfid[4] name[s] flags[4]`: unlink (or, with REMOVEDIR,
    /// rmdir) `name` in directory `dirfid`. Answering EOPNOTSUPP makes the
    /// kernel fall back to Tremove.
    pub struct Tunlinkat {
        /// The directory.
        pub dirfid: u32,
        /// The name to remove.
        pub name: P9String,
        /// 0, or AT_REMOVEDIR.
        pub flags: UnlinkatFlags,
    }
}

wire_struct! {
    /// `Runlinkat`.
    pub struct Runlinkat;
}
