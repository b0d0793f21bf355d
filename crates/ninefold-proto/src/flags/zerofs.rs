//! Flag words of the 9P2000.L.Z private messages.

use crate::wire::wire_bitflags;

bitflags::bitflags! {
    /// The `flags[1]` of the mutation envelope.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
    pub struct EnvelopeFlags: u8 {
        /// This is a re-send of an operation whose outcome was ambiguous.
        const RETRY = 0x01;
    }
}

bitflags::bitflags! {
    /// The `mode[4]` of Tfallocate (Linux `fallocate(2)` mode bits).
    ///
    /// ZeroFS accepts exactly `0`, `PUNCH_HOLE | KEEP_SIZE`, `ZERO_RANGE`
    /// and `ZERO_RANGE | KEEP_SIZE` ([`FallocateMode::is_supported`]).
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
    pub struct FallocateMode: u32 {
        /// FALLOC_FL_KEEP_SIZE: do not change the file size.
        const KEEP_SIZE = 0x01;
        /// FALLOC_FL_PUNCH_HOLE: deallocate the range (needs KEEP_SIZE).
        const PUNCH_HOLE = 0x02;
        /// FALLOC_FL_ZERO_RANGE: zero the range.
        const ZERO_RANGE = 0x10;
    }
}

impl FallocateMode {
    /// Whether the mode is one of the four combinations the dialect defines.
    pub fn is_supported(self) -> bool {
        let b = self.bits();
        b == 0 || b == 0x03 || b == 0x10 || b == 0x11
    }
}

bitflags::bitflags! {
    /// The `datasync[4]` bit set of Tfsyncdur.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
    pub struct FsyncdurFlags: u32 {
        /// Data only, like `fdatasync(2)`.
        const DATASYNC = 0x1;
        /// P9_FSYNC_INODE: scope is the object named by the fid; without it
        /// the barrier covers the whole filesystem.
        const INODE = 0x2;
    }
}

bitflags::bitflags! {
    /// The `flags[1]` of Trebind.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
    pub struct RebindFlags: u8 {
        /// This is a reconnect replay.
        const REPLAY = 0x01;
        /// The client reopens the fid in place next (only with REPLAY).
        const OPENED = 0x02;
    }
}

wire_bitflags! {
    EnvelopeFlags => u8;
    FallocateMode => u32;
    FsyncdurFlags => u32;
    RebindFlags => u8;
}
