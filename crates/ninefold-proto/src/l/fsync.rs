//! Tfsync/Rfsync.

use crate::wire::wire_struct;

wire_struct! {
    /// `Tfsync fid[4] datasync[4]`: flush the file to stable storage
    /// (`fdatasync` semantics when `datasync` is non-zero).
    pub struct Tfsync {
        /// An open fid.
        pub fid: u32,
        /// 0 for `fsync(2)`, 1 for `fdatasync(2)`.
        pub datasync: u32,
    }
}

wire_struct! {
    /// `Rfsync`: also the reply to 9P2000.L.Z
    /// [`Tfsyncdur`](crate::z::Tfsyncdur).
    pub struct Rfsync;
}
