//! Tclunk/Rclunk: forget a fid.

use crate::wire::wire_struct;

wire_struct! {
    /// `Tclunk fid[4]`: the fid is released even if the reply is an error
    /// (in 9P2000.L an error here reports a failed xattr commit).
    pub struct Tclunk {
        /// The fid to release.
        pub fid: u32,
    }
}

wire_struct! {
    /// `Rclunk`.
    pub struct Rclunk;
}
