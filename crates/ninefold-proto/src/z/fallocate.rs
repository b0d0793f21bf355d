//! Tfallocate/Rfallocate.

use crate::wire::wire_struct;
use crate::FallocateMode;

wire_struct! {
    /// `Tfallocate env fid[4] offset[8] length[8] mode[4]`: allocate, punch
    /// or zero a range of a file opened for writing (else EBADF). Modes other
    /// than the four of [`FallocateMode::is_supported`] get ENOTSUP.
    pub struct Tfallocate {
        /// A fid open for writing.
        pub fid: u32,
        /// Start of the range.
        pub offset: u64,
        /// Length of the range.
        pub length: u64,
        /// `fallocate(2)` mode bits.
        pub mode: FallocateMode,
    }
}

wire_struct! {
    /// `Rfallocate`.
    pub struct Rfallocate;
}
