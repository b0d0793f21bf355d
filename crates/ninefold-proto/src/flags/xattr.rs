//! Txattrcreate flags.

use crate::wire::wire_bitflags;

bitflags::bitflags! {
    /// The `flags[4]` of Txattrcreate (as for `setxattr(2)`).
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
    pub struct XattrFlags: u32 {
        /// XATTR_CREATE: fail with EEXIST if the attribute exists.
        const CREATE = 1;
        /// XATTR_REPLACE: fail with ENODATA if the attribute does not exist.
        const REPLACE = 2;
    }
}

wire_bitflags! {
    XattrFlags => u32;
}
