//! From P9_DOTL open flags to host `O_*` flags, through one explicit
//! table that says what the passthrough does with each flag.

use ninefold_proto::{AccessMode, OpenFlags};
use rustix::fs::OFlags;

/// What the passthrough does with a protocol flag.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Rule {
    /// Passed to the host open.
    Pass,
    /// Never passed: the reason is in the table.
    Drop,
    /// P9_DOTL_DIRECT: passed only when the export keeps O_DIRECT.
    Direct,
}

/// Every non-access `P9_DOTL_*` flag, its host flag and its rule.
pub(crate) const TABLE: [(OpenFlags, OFlags, Rule); 15] = [
    // The node already exists; Tlcreate adds O_CREAT | O_EXCL itself.
    (OpenFlags::CREATE, OFlags::CREATE, Rule::Drop),
    (OpenFlags::EXCL, OFlags::EXCL, Rule::Drop),
    // The server never wants a controlling terminal: always added.
    (OpenFlags::NOCTTY, OFlags::NOCTTY, Rule::Drop),
    (OpenFlags::TRUNC, OFlags::TRUNC, Rule::Pass),
    (OpenFlags::APPEND, OFlags::APPEND, Rule::Pass),
    (OpenFlags::NONBLOCK, OFlags::NONBLOCK, Rule::Pass),
    (OpenFlags::DSYNC, OFlags::DSYNC, Rule::Pass),
    // Signal-driven I/O has no meaning for a server descriptor.
    (OpenFlags::FASYNC, OFlags::ASYNC, Rule::Drop),
    // Unaligned client I/O fails with EINVAL under host O_DIRECT.
    (OpenFlags::DIRECT, OFlags::DIRECT, Rule::Direct),
    (OpenFlags::LARGEFILE, OFlags::LARGEFILE, Rule::Pass),
    (OpenFlags::DIRECTORY, OFlags::DIRECTORY, Rule::Pass),
    // The fid names the final object; the /proc reopen must follow its
    // magic link, and symlink nodes are refused before reopening.
    (OpenFlags::NOFOLLOW, OFlags::NOFOLLOW, Rule::Drop),
    (OpenFlags::NOATIME, OFlags::NOATIME, Rule::Pass),
    // Always added.
    (OpenFlags::CLOEXEC, OFlags::CLOEXEC, Rule::Drop),
    (OpenFlags::SYNC, OFlags::SYNC, Rule::Pass),
];

/// The host flags for opening an existing object with `flags`, or `None`
/// for the NOACCESS access mode. Always has `O_CLOEXEC | O_NOCTTY`;
/// unknown bits are dropped.
pub(crate) fn to_host(flags: OpenFlags, keep_direct: bool) -> Option<OFlags> {
    let access = match flags.access_mode() {
        AccessMode::ReadOnly => OFlags::RDONLY,
        AccessMode::WriteOnly => OFlags::WRONLY,
        AccessMode::ReadWrite => OFlags::RDWR,
        AccessMode::NoAccess => return None,
    };
    let base = access | OFlags::CLOEXEC | OFlags::NOCTTY;
    Some(TABLE.iter().fold(base, |acc, &(p9, host, rule)| {
        let pass = match rule {
            Rule::Pass => true,
            Rule::Drop => false,
            Rule::Direct => keep_direct,
        };
        if pass && flags.contains(p9) {
            acc | host
        } else {
            acc
        }
    }))
}

/// Whether an open with `flags` may modify the object (refused on a
/// read-only export).
pub(crate) fn writes(flags: OpenFlags) -> bool {
    flags.access_mode().can_write() || flags.contains(OpenFlags::TRUNC)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_row_does_what_its_rule_says() {
        for &(p9, host, rule) in TABLE.iter() {
            for keep_direct in [false, true] {
                let got = to_host(OpenFlags::RDWR | p9, keep_direct).unwrap();
                let base = OFlags::RDWR | OFlags::CLOEXEC | OFlags::NOCTTY;
                let expect = match rule {
                    Rule::Pass => base | host,
                    Rule::Drop => base,
                    Rule::Direct if keep_direct => base | host,
                    Rule::Direct => base,
                };
                assert_eq!(got, expect, "{p9:?} keep_direct={keep_direct}");
            }
        }
    }

    #[test]
    fn table_covers_every_flag_once() {
        let mut seen = OpenFlags::empty();
        for &(p9, _, _) in TABLE.iter() {
            assert!(!seen.intersects(p9), "{p9:?} twice");
            seen |= p9;
        }
        assert_eq!(seen, OpenFlags::all() - OpenFlags::NOACCESS);
    }

    #[test]
    fn host_values_come_from_the_host_not_the_wire() {
        // On every architecture the host flag must be the libc constant.
        let by_libc = [
            (OpenFlags::DIRECTORY, libc::O_DIRECTORY),
            (OpenFlags::NOFOLLOW, libc::O_NOFOLLOW),
            (OpenFlags::DIRECT, libc::O_DIRECT),
            (OpenFlags::APPEND, libc::O_APPEND),
            (OpenFlags::SYNC, libc::O_SYNC),
        ];
        for (p9, raw) in by_libc {
            let row = TABLE.iter().find(|r| r.0 == p9).unwrap();
            assert_eq!(row.1.bits(), raw as u32, "{p9:?}");
        }
    }

    #[test]
    fn access_modes_and_unknown_bits() {
        assert_eq!(
            to_host(OpenFlags::RDONLY, false),
            Some(OFlags::RDONLY | OFlags::CLOEXEC | OFlags::NOCTTY)
        );
        assert_eq!(
            to_host(OpenFlags::WRONLY, false),
            Some(OFlags::WRONLY | OFlags::CLOEXEC | OFlags::NOCTTY)
        );
        assert_eq!(to_host(OpenFlags::NOACCESS, false), None);
        let odd = OpenFlags::from_bits_retain(0x8000_0000 | OpenFlags::APPEND.bits());
        assert_eq!(to_host(odd, false), Some(OFlags::APPEND | OFlags::CLOEXEC | OFlags::NOCTTY));
        assert!(writes(OpenFlags::WRONLY));
        assert!(writes(OpenFlags::RDONLY | OpenFlags::TRUNC));
        assert!(!writes(OpenFlags::RDONLY | OpenFlags::APPEND));
    }
}
