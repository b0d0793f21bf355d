//! Tlock/Rlock and Tgetlock/Rgetlock: POSIX byte-range locks.

use crate::wire::wire_struct;
use crate::{LockFlags, LockStatus, LockType, P9String};

wire_struct! {
    /// `Tlock fid[4] type[1] flags[4] start[8] length[8] proc_id[4]
    /// client_id[s]`. The owner is the open fid; a server never blocks on
    /// it (it answers BLOCKED instead).
    pub struct Tlock {
        /// An open fid.
        pub fid: u32,
        /// RDLCK, WRLCK or UNLCK.
        pub ty: LockType,
        /// BLOCK, RECLAIM.
        pub flags: LockFlags,
        /// First byte.
        pub start: u64,
        /// Length; 0 = to end of file.
        pub length: u64,
        /// The caller's pid on the client.
        pub proc_id: u32,
        /// The client's node name.
        pub client_id: P9String,
    }
}

wire_struct! {
    /// `Rlock status[1]`.
    pub struct Rlock {
        /// SUCCESS, BLOCKED, ERROR or GRACE.
        pub status: LockStatus,
    }
}

wire_struct! {
    /// `Tgetlock fid[4] type[1] start[8] length[8] proc_id[4] client_id[s]`:
    /// is there a conflicting lock? Linux always sends type UNLCK; treat it
    /// as "any lock held by another owner overlapping this range".
    pub struct Tgetlock {
        /// An open fid.
        pub fid: u32,
        /// The type asked about (UNLCK from Linux).
        pub ty: LockType,
        /// First byte.
        pub start: u64,
        /// Length; 0 = to end of file.
        pub length: u64,
        /// The caller's pid on the client.
        pub proc_id: u32,
        /// The client's node name.
        pub client_id: P9String,
    }
}

wire_struct! {
    /// `Rgetlock type[1] start[8] length[8] proc_id[4] client_id[s]`: the
    /// conflicting lock, or type UNLCK for none.
    pub struct Rgetlock {
        /// The conflicting lock's type, or UNLCK.
        pub ty: LockType,
        /// Its first byte.
        pub start: u64,
        /// Its length.
        pub length: u64,
        /// Its owner's pid.
        pub proc_id: u32,
        /// Its owner's node name.
        pub client_id: P9String,
    }
}
