//! Tlock/Tgetlock values: lock type, flags and status.

use std::fmt;

use crate::wire::{wire_bitflags, wire_newtype};

/// The `type[1]` of Tlock, Tgetlock and Rgetlock. Other values travel as
/// received; a server refuses them.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct LockType(pub u8);

impl LockType {
    /// F_RDLCK: a shared lock.
    pub const RDLCK: LockType = LockType(0);
    /// F_WRLCK: an exclusive lock.
    pub const WRLCK: LockType = LockType(1);
    /// F_UNLCK: release (Tlock), or "no conflict" (Rgetlock). The Linux
    /// client sends Tgetlock with this type whatever the caller asked.
    pub const UNLCK: LockType = LockType(2);
}

impl fmt::Debug for LockType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            LockType::RDLCK => f.write_str("RDLCK"),
            LockType::WRLCK => f.write_str("WRLCK"),
            LockType::UNLCK => f.write_str("UNLCK"),
            LockType(other) => write!(f, "LockType({other})"),
        }
    }
}

/// The `status[1]` of Rlock.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct LockStatus(pub u8);

impl LockStatus {
    /// The lock was granted (or released).
    pub const SUCCESS: LockStatus = LockStatus(0);
    /// A conflicting lock is held; the client retries after its lock
    /// timeout when it asked to block, or fails with EAGAIN.
    pub const BLOCKED: LockStatus = LockStatus(1);
    /// The request failed (the client reports ENOLCK).
    pub const ERROR: LockStatus = LockStatus(2);
    /// The server is in its grace period (the client reports ENOLCK).
    pub const GRACE: LockStatus = LockStatus(3);
}

impl fmt::Debug for LockStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            LockStatus::SUCCESS => f.write_str("SUCCESS"),
            LockStatus::BLOCKED => f.write_str("BLOCKED"),
            LockStatus::ERROR => f.write_str("ERROR"),
            LockStatus::GRACE => f.write_str("GRACE"),
            LockStatus(other) => write!(f, "LockStatus({other})"),
        }
    }
}

wire_newtype! {
    LockType => u8;
    LockStatus => u8;
}

bitflags::bitflags! {
    /// The `flags[4]` of Tlock.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
    pub struct LockFlags: u32 {
        /// The caller would block (F_SETLKW); answer BLOCKED rather than wait.
        const BLOCK = 1;
        /// Reclaim a lock held before a server restart.
        const RECLAIM = 2;
    }
}

wire_bitflags! {
    LockFlags => u32;
}
