//! Tlopen/Tlcreate flags (`P9_DOTL_*`) and their translation to and from
//! host `open(2)` flags.
//!
//! The wire values equal the x86-64 Linux `O_*` numbering, but they are
//! protocol constants, not host flags: on other architectures and systems
//! the host numbers differ (on arm64 O_DIRECTORY, O_NOFOLLOW, O_DIRECT and
//! O_LARGEFILE move). Translate through [`OpenFlags::to_host`] and
//! [`OpenFlags::from_host`], which walk one explicit table; never hand the
//! raw value to `open(2)`.

use crate::wire::wire_bitflags;

bitflags::bitflags! {
    /// `P9_DOTL_*` open flags of Tlopen, Tlcreate and the 9P2000.L.Z opens.
    ///
    /// The low two bits are an access mode, not flags: use
    /// [`access_mode`](OpenFlags::access_mode).
    ///
    /// ```
    /// use ninefold_proto::{AccessMode, OpenFlags};
    /// let f = OpenFlags::RDWR | OpenFlags::CREATE | OpenFlags::EXCL;
    /// assert_eq!(f.access_mode(), AccessMode::ReadWrite);
    /// assert_eq!(f.bits(), 0o302);
    /// ```
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
    pub struct OpenFlags: u32 {
        /// Access mode: write only.
        const WRONLY = 0o1;
        /// Access mode: read and write.
        const RDWR = 0o2;
        /// Access mode 3: no data access.
        const NOACCESS = 0o3;
        /// Create (meaningful on Tlcreate only).
        const CREATE = 0o100;
        /// With CREATE: fail if the name exists.
        const EXCL = 0o200;
        /// Do not become the controlling terminal.
        const NOCTTY = 0o400;
        /// Truncate (Linux sends a separate Tsetattr instead).
        const TRUNC = 0o1000;
        /// Writes append.
        const APPEND = 0o2000;
        /// Non-blocking (FIFOs, devices).
        const NONBLOCK = 0o4000;
        /// Synchronous data writes.
        const DSYNC = 0o10000;
        /// Signal-driven I/O.
        const FASYNC = 0o20000;
        /// Direct I/O (alignment-sensitive on the host; servers strip it by default).
        const DIRECT = 0o40000;
        /// Large-file capable.
        const LARGEFILE = 0o100000;
        /// Fail unless a directory.
        const DIRECTORY = 0o200000;
        /// Do not follow a final symlink.
        const NOFOLLOW = 0o400000;
        /// Do not update atime.
        const NOATIME = 0o1000000;
        /// Close on exec.
        const CLOEXEC = 0o2000000;
        /// Synchronous writes.
        const SYNC = 0o4000000;
    }
}

wire_bitflags! {
    OpenFlags => u32;
}

/// The access mode in the low two bits of [`OpenFlags`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AccessMode {
    /// P9_DOTL_RDONLY (0).
    ReadOnly,
    /// P9_DOTL_WRONLY (1).
    WriteOnly,
    /// P9_DOTL_RDWR (2).
    ReadWrite,
    /// P9_DOTL_NOACCESS (3): no reads or writes through the fid.
    NoAccess,
}

impl AccessMode {
    /// Whether reads are allowed.
    pub const fn can_read(self) -> bool {
        matches!(self, AccessMode::ReadOnly | AccessMode::ReadWrite)
    }

    /// Whether writes are allowed.
    pub const fn can_write(self) -> bool {
        matches!(self, AccessMode::WriteOnly | AccessMode::ReadWrite)
    }
}

impl OpenFlags {
    /// Access mode read-only (no bits set).
    pub const RDONLY: OpenFlags = OpenFlags::empty();

    /// The mask of the access-mode bits.
    pub const ACCMODE: u32 = 0o3;

    /// The access mode.
    pub const fn access_mode(self) -> AccessMode {
        match self.bits() & OpenFlags::ACCMODE {
            0 => AccessMode::ReadOnly,
            1 => AccessMode::WriteOnly,
            2 => AccessMode::ReadWrite,
            _ => AccessMode::NoAccess,
        }
    }

    /// The same flags with the access mode replaced.
    pub const fn with_access_mode(self, mode: AccessMode) -> OpenFlags {
        let access = match mode {
            AccessMode::ReadOnly => 0,
            AccessMode::WriteOnly => 1,
            AccessMode::ReadWrite => 2,
            AccessMode::NoAccess => 3,
        };
        OpenFlags::from_bits_retain((self.bits() & !OpenFlags::ACCMODE) | access)
    }
}

#[cfg(unix)]
mod host {
    use super::{AccessMode, OpenFlags};

    /// The host value of O_DIRECT, where the host has one.
    #[cfg(any(target_os = "linux", target_os = "android", target_os = "freebsd"))]
    const O_DIRECT: libc::c_int = libc::O_DIRECT;
    #[cfg(not(any(target_os = "linux", target_os = "android", target_os = "freebsd")))]
    const O_DIRECT: libc::c_int = 0;

    #[cfg(any(target_os = "linux", target_os = "android"))]
    const O_LARGEFILE: libc::c_int = libc::O_LARGEFILE;
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    const O_LARGEFILE: libc::c_int = 0;

    #[cfg(any(target_os = "linux", target_os = "android"))]
    const O_NOATIME: libc::c_int = libc::O_NOATIME;
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    const O_NOATIME: libc::c_int = 0;

    /// Every non-access `P9_DOTL_*` flag beside its host `O_*` flag. A row
    /// whose host value is 0 has no host equivalent and is dropped on
    /// purpose (on x86-64 Linux, O_LARGEFILE is 0: files are always large).
    pub(super) const TABLE: [(OpenFlags, libc::c_int); 15] = [
        (OpenFlags::CREATE, libc::O_CREAT),
        (OpenFlags::EXCL, libc::O_EXCL),
        (OpenFlags::NOCTTY, libc::O_NOCTTY),
        (OpenFlags::TRUNC, libc::O_TRUNC),
        (OpenFlags::APPEND, libc::O_APPEND),
        (OpenFlags::NONBLOCK, libc::O_NONBLOCK),
        (OpenFlags::DSYNC, libc::O_DSYNC),
        (OpenFlags::FASYNC, libc::O_ASYNC),
        (OpenFlags::DIRECT, O_DIRECT),
        (OpenFlags::LARGEFILE, O_LARGEFILE),
        (OpenFlags::DIRECTORY, libc::O_DIRECTORY),
        (OpenFlags::NOFOLLOW, libc::O_NOFOLLOW),
        (OpenFlags::NOATIME, O_NOATIME),
        (OpenFlags::CLOEXEC, libc::O_CLOEXEC),
        (OpenFlags::SYNC, libc::O_SYNC),
    ];

    impl OpenFlags {
        /// The host `open(2)` flags for these protocol flags, or `None` for
        /// the NOACCESS access mode, which has no `open(2)` equivalent.
        /// Bits outside the table are dropped.
        ///
        /// Policy stays with the caller: strip `DIRECT` first unless the
        /// host I/O is known to be aligned, ignore `CREATE`/`EXCL`/`TRUNC`
        /// on Tlopen, and add `O_CLOEXEC`.
        ///
        /// ```
        /// use ninefold_proto::OpenFlags;
        /// let host = (OpenFlags::WRONLY | OpenFlags::APPEND).to_host().unwrap();
        /// assert_eq!(host, libc::O_WRONLY | libc::O_APPEND);
        /// assert_eq!(OpenFlags::NOACCESS.to_host(), None);
        /// ```
        pub fn to_host(self) -> Option<libc::c_int> {
            let access = match self.access_mode() {
                AccessMode::ReadOnly => libc::O_RDONLY,
                AccessMode::WriteOnly => libc::O_WRONLY,
                AccessMode::ReadWrite => libc::O_RDWR,
                AccessMode::NoAccess => return None,
            };
            Some(TABLE.iter().fold(
                access,
                |acc, &(p9, host)| {
                    if self.contains(p9) {
                        acc | host
                    } else {
                        acc
                    }
                },
            ))
        }

        /// The protocol flags for host `open(2)` flags (for a client that
        /// forwards a local open). Host bits outside the table are dropped.
        pub fn from_host(host: libc::c_int) -> OpenFlags {
            let access = match host & libc::O_ACCMODE {
                libc::O_WRONLY => OpenFlags::WRONLY,
                libc::O_RDWR => OpenFlags::RDWR,
                libc::O_RDONLY => OpenFlags::RDONLY,
                _ => OpenFlags::NOACCESS,
            };
            TABLE.iter().fold(
                access,
                |acc, &(p9, h)| {
                    if h != 0 && host & h == h {
                        acc | p9
                    } else {
                        acc
                    }
                },
            )
        }
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    #[test]
    fn every_row_translates_both_ways() {
        for &(p9, h) in host::TABLE.iter() {
            let to = (OpenFlags::RDWR | p9).to_host().unwrap();
            assert_eq!(to, libc::O_RDWR | h, "{p9:?}");
            if h != 0 {
                let back = OpenFlags::from_host(to);
                assert!(back.contains(p9), "{p9:?} -> {h:#o} -> {back:?}");
                assert_eq!(back.access_mode(), AccessMode::ReadWrite);
            }
        }
    }

    #[test]
    fn table_covers_every_named_flag_but_the_access_mode() {
        let covered = host::TABLE.iter().fold(OpenFlags::empty(), |acc, &(p9, _)| acc | p9);
        let all = OpenFlags::all() - OpenFlags::NOACCESS;
        assert_eq!(covered, all);
    }

    #[test]
    fn access_modes() {
        assert_eq!(OpenFlags::RDONLY.to_host(), Some(libc::O_RDONLY));
        assert_eq!(OpenFlags::from_host(libc::O_WRONLY), OpenFlags::WRONLY);
        assert_eq!(OpenFlags::NOACCESS.access_mode(), AccessMode::NoAccess);
        assert!(AccessMode::ReadWrite.can_read() && AccessMode::ReadWrite.can_write());
        let f = OpenFlags::CREATE.with_access_mode(AccessMode::WriteOnly);
        assert_eq!(f, OpenFlags::CREATE | OpenFlags::WRONLY);
    }

    #[test]
    fn unknown_bits_are_dropped_on_the_way_to_the_host() {
        // Bits the kernel keeps private above 0x1fff in some versions.
        let f = OpenFlags::from_bits_retain(0x8000_0000) | OpenFlags::APPEND;
        assert_eq!(f.to_host(), Some(libc::O_RDONLY | libc::O_APPEND));
    }

    #[cfg(all(target_os = "linux", target_arch = "x86_64"))]
    #[test]
    fn wire_values_equal_x86_64_linux() {
        for &(p9, h) in host::TABLE.iter() {
            if h != 0 && p9 != OpenFlags::SYNC {
                assert_eq!(p9.bits() as libc::c_int, h, "{p9:?}");
            }
        }
        // O_SYNC on Linux is __O_SYNC | O_DSYNC.
        assert_eq!(OpenFlags::from_host(libc::O_SYNC), OpenFlags::SYNC | OpenFlags::DSYNC);
    }
}
