//! Tsetattrattr/Rsetattrattr.

use crate::l::{Attr, SetAttr};
use crate::wire::wire_struct;

wire_struct! {
    /// `Tsetattrattr env fid[4]` + the Tsetattr body ([`SetAttr`], which may
    /// carry `ATIME_ACCESS` here). Validate with [`SetAttr::check`].
    pub struct Tsetattrattr {
        /// The file.
        pub fid: u32,
        /// What to change.
        pub attr: SetAttr,
    }
}

wire_struct! {
    /// `Rsetattrattr stat[145]`: attributes after the change.
    pub struct Rsetattrattr {
        /// The attributes after the change.
        pub attr: Attr,
    }
}
