//! Tremove/Rremove: remove a file and clunk its fid.

use crate::wire::wire_struct;

wire_struct! {
    /// `Tremove fid[4]`: remove the file and clunk `fid`, which is released
    /// even when the removal fails. The Linux client falls back to it when
    /// Tunlinkat answers EOPNOTSUPP.
    pub struct Tremove {
        /// The fid naming the file.
        pub fid: u32,
    }
}

wire_struct! {
    /// `Rremove`.
    pub struct Rremove;
}
