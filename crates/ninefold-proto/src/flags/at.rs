//! Tunlinkat flags.

use crate::wire::wire_bitflags;

bitflags::bitflags! {
    /// The `flags[4]` of Tunlinkat.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
    pub struct UnlinkatFlags: u32 {
        /// AT_REMOVEDIR: remove a directory (rmdir) rather than a file.
        const REMOVEDIR = 0x200;
    }
}

wire_bitflags! {
    UnlinkatFlags => u32;
}
