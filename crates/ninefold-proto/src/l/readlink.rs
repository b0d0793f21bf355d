//! Treadlink/Rreadlink.

use crate::wire::wire_struct;
use crate::P9String;

wire_struct! {
    /// `Treadlink fid[4]`.
    pub struct Treadlink {
        /// The symbolic link.
        pub fid: u32,
    }
}

wire_struct! {
    /// `Rreadlink target[s]`.
    pub struct Rreadlink {
        /// The link's target.
        pub target: P9String,
    }
}
