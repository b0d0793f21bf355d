//! Tfsyncdur (answered by the standard Rfsync).

use crate::wire::wire_struct;
use crate::FsyncdurFlags;

wire_struct! {
    /// `Tfsyncdur fid[4] datasync[4] token[8]` → [`Rfsync`](crate::l::Rfsync)
    /// (type 51). Flushes the object (INODE) or the whole filesystem, then,
    /// if `token` is not 0, checks it against the current lineage token:
    /// a mismatch is ESTALE (acknowledged writes may have been lost).
    /// Unknown `datasync` bits are EINVAL.
    pub struct Tfsyncdur {
        /// The object, or any fid for a filesystem-wide barrier.
        pub fid: u32,
        /// DATASYNC, INODE.
        pub datasync: FsyncdurFlags,
        /// Lineage token to verify; 0 = none.
        pub token: u64,
    }
}
