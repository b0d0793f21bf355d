//! Txattrwalk/Rxattrwalk and Txattrcreate/Rxattrcreate.

use crate::wire::wire_struct;
use crate::{P9String, XattrFlags};

wire_struct! {
    /// `Txattrwalk fid[4] newfid[4] name[s]`: bind `newfid` to the value of
    /// extended attribute `name` (or, with an empty name, to the list of
    /// names), to be read with Tread.
    pub struct Txattrwalk {
        /// The file.
        pub fid: u32,
        /// The fid to read the value through.
        pub newfid: u32,
        /// Attribute name; empty to list.
        pub name: P9String,
    }
}

wire_struct! {
    /// `Rxattrwalk size[8]`: the value's length.
    pub struct Rxattrwalk {
        /// Bytes available to read.
        pub size: u64,
    }
}

wire_struct! {
    /// `Txattrcreate fid[4] name[s] attr_size[8] flags[4]`: turn `fid` into a
    /// write-only fid for the value of `name`, committed at Tclunk (whose
    /// reply carries the commit's result). `attr_size` 0 removes.
    pub struct Txattrcreate {
        /// The file; becomes the attribute fid.
        pub fid: u32,
        /// Attribute name.
        pub name: P9String,
        /// Total bytes that will be written.
        pub attr_size: u64,
        /// XATTR_CREATE / XATTR_REPLACE.
        pub flags: XattrFlags,
    }
}

wire_struct! {
    /// `Rxattrcreate`.
    pub struct Rxattrcreate;
}
