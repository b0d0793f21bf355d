//! Tsetattr/Rsetattr and the settable attributes [`SetAttr`].

use crate::wire::wire_struct;
use crate::{Dialect, Errno, SetattrMask};

wire_struct! {
    /// The body of Tsetattr after `fid` (shared with 9P2000.L.Z
    /// Tsetattrattr): `valid[4] mode[4] uid[4] gid[4] size[8] atime_sec[8]
    /// atime_nsec[8] mtime_sec[8] mtime_nsec[8]`. Only fields named in
    /// `valid` mean anything.
    ///
    /// ```
    /// use ninefold_proto::l::SetAttr;
    /// use ninefold_proto::{Dialect, SetattrMask};
    ///
    /// let truncate = SetAttr { valid: SetattrMask::SIZE, size: 0, ..SetAttr::default() };
    /// assert!(truncate.check(Dialect::L).is_ok());
    /// ```
    #[derive(Default)]
    pub struct SetAttr {
        /// Which fields to apply.
        pub valid: SetattrMask,
        /// New permission bits (MODE).
        pub mode: u32,
        /// New owner (UID).
        pub uid: u32,
        /// New group (GID).
        pub gid: u32,
        /// New size (SIZE).
        pub size: u64,
        /// New access time, seconds (ATIME with ATIME_SET).
        pub atime_sec: u64,
        /// New access time, nanoseconds.
        pub atime_nsec: u64,
        /// New modification time, seconds (MTIME with MTIME_SET).
        pub mtime_sec: u64,
        /// New modification time, nanoseconds.
        pub mtime_nsec: u64,
    }
}

impl SetAttr {
    /// Checks the combination of bits and values, as ZeroFS does for both
    /// Tsetattr and Tsetattrattr: no unknown bits, no `*_SET` without its
    /// time bit, nanoseconds below 10⁹ where used, and `ATIME_ACCESS` only in
    /// 9P2000.L.Z and only as `ATIME_ACCESS | ATIME`. Violations are EINVAL.
    pub fn check(&self, dialect: Dialect) -> Result<(), Errno> {
        let v = self.valid;
        let known = if dialect == Dialect::Z {
            SetattrMask::all()
        } else {
            SetattrMask::all() - SetattrMask::ATIME_ACCESS
        };
        let bad = !known.contains(v)
            || (v.contains(SetattrMask::ATIME_SET) && !v.contains(SetattrMask::ATIME))
            || (v.contains(SetattrMask::MTIME_SET) && !v.contains(SetattrMask::MTIME))
            || (v.contains(SetattrMask::ATIME_SET) && self.atime_nsec >= 1_000_000_000)
            || (v.contains(SetattrMask::MTIME_SET) && self.mtime_nsec >= 1_000_000_000)
            || (v.contains(SetattrMask::ATIME_ACCESS)
                && v != SetattrMask::ATIME_ACCESS | SetattrMask::ATIME);
        if bad {
            Err(Errno::EINVAL)
        } else {
            Ok(())
        }
    }
}

wire_struct! {
    /// `Tsetattr fid[4]` + [`SetAttr`]: chmod, chown, truncate, utimes. Must
    /// work through the fid of an open, even unlinked, file.
    pub struct Tsetattr {
        /// The file.
        pub fid: u32,
        /// What to change.
        pub attr: SetAttr,
    }
}

wire_struct! {
    /// `Rsetattr`.
    pub struct Rsetattr;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(valid: SetattrMask) -> SetAttr {
        SetAttr { valid, ..SetAttr::default() }
    }

    #[test]
    fn check_rules() {
        assert!(with(SetattrMask::MODE | SetattrMask::UID).check(Dialect::L).is_ok());
        assert!(with(SetattrMask::ATIME_SET).check(Dialect::L).is_err());
        assert!(with(SetattrMask::MTIME | SetattrMask::MTIME_SET).check(Dialect::L).is_ok());
        let mut late = with(SetattrMask::MTIME | SetattrMask::MTIME_SET);
        late.mtime_nsec = 1_000_000_000;
        assert_eq!(late.check(Dialect::L), Err(Errno::EINVAL));
        let access = with(SetattrMask::ATIME_ACCESS | SetattrMask::ATIME);
        assert!(access.check(Dialect::Z).is_ok());
        assert!(access.check(Dialect::L).is_err());
        assert!(with(SetattrMask::ATIME_ACCESS).check(Dialect::Z).is_err());
        assert!(with(SetattrMask::from_bits_retain(0x200)).check(Dialect::Z).is_err());
    }
}
