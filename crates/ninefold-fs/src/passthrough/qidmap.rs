//! Unique `qid.path` values across host devices.
//!
//! Host inode numbers are unique per device only; an export spanning
//! mounts would give two objects one qid. The map gives each device a
//! 16-bit index (0 for the export root's device, so there `qid.path` is
//! the inode number) placed above a 48-bit inode number; inode numbers
//! that do not fit 48 bits, and devices beyond the 65535th, get numbers
//! from a table instead, above `0xffff << 48`.

use std::collections::HashMap;
use std::sync::Mutex;

use ninefold_proto::Qid;
use rustix::fs::Statx;

use super::node::Kind;

const INO_BITS: u32 = 48;
const INO_MASK: u64 = (1 << INO_BITS) - 1;
const OVERFLOW_INDEX: u64 = 0xffff;

#[derive(Debug, Default)]
struct Tables {
    devices: HashMap<u64, u64>,
    overflow: HashMap<(u64, u64), u64>,
}

/// Maps `(dev, ino)` to a unique qid path.
#[derive(Debug)]
pub(crate) struct QidMap {
    root_dev: u64,
    tables: Mutex<Tables>,
}

impl QidMap {
    pub(crate) fn new(root_dev: u64) -> QidMap {
        QidMap { root_dev, tables: Mutex::new(Tables::default()) }
    }

    /// The qid path of inode `ino` of device `dev`.
    pub(crate) fn path(&self, dev: u64, ino: u64) -> u64 {
        if dev == self.root_dev && ino <= INO_MASK {
            return ino;
        }
        let mut tables = self.tables.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let next_index = tables.devices.len() as u64 + 1;
        let index = if dev == self.root_dev {
            0
        } else if let Some(&index) = tables.devices.get(&dev) {
            index
        } else if next_index < OVERFLOW_INDEX {
            tables.devices.insert(dev, next_index);
            next_index
        } else {
            OVERFLOW_INDEX
        };
        if index != OVERFLOW_INDEX && ino <= INO_MASK {
            return (index << INO_BITS) | ino;
        }
        let next = tables.overflow.len() as u64 + 1;
        let n = *tables.overflow.entry((dev, ino)).or_insert(next);
        (OVERFLOW_INDEX << INO_BITS) | (n & INO_MASK)
    }

    /// The qid of an object of type `kind` with host attributes `st`.
    /// `version`: derive `qid.version` from mtime and size for regular
    /// files; otherwise 0.
    pub(crate) fn qid(&self, kind: Kind, st: &Statx, version: bool) -> Qid {
        let version = if version && kind == Kind::File {
            (st.stx_mtime.tv_sec as u32) ^ ((st.stx_size as u32) << 8) ^ st.stx_mtime.tv_nsec
        } else {
            0
        };
        Qid { ty: kind.qid_type(), version, path: self.path(dev_of(st), st.stx_ino) }
    }
}

/// The device number of a statx result.
pub(crate) fn dev_of(st: &Statx) -> u64 {
    rustix::fs::makedev(st.stx_dev_major, st.stx_dev_minor)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn root_device_keeps_inode_numbers() {
        let m = QidMap::new(7);
        assert_eq!(m.path(7, 12345), 12345);
    }

    #[test]
    fn same_inode_on_two_devices_differs() {
        let m = QidMap::new(7);
        let a = m.path(7, 2);
        let b = m.path(8, 2);
        let c = m.path(9, 2);
        assert_ne!(a, b);
        assert_ne!(b, c);
        assert_eq!(m.path(8, 2), b, "stable");
    }

    #[test]
    fn huge_inode_numbers_use_the_table() {
        let m = QidMap::new(7);
        let big = 1u64 << 60;
        let a = m.path(7, big);
        let b = m.path(7, big + 1);
        assert_ne!(a, b);
        assert_eq!(a >> INO_BITS, OVERFLOW_INDEX);
        assert_eq!(m.path(7, big), a);
        assert_ne!(a, m.path(7, a & INO_MASK));
    }
}
