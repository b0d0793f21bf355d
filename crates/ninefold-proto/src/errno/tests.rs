//! Tests of the errno tables and conversions.

use super::*;
use std::collections::HashSet;

#[test]
fn table_is_sorted_unique_and_complete() {
    assert_eq!(TABLE.len(), 131);
    assert!(TABLE.windows(2).all(|w| w[0].errno < w[1].errno));
    assert_eq!(TABLE.first().map(|r| r.errno), Some(Errno::EPERM));
    assert_eq!(TABLE.last().map(|r| r.errno), Some(Errno::EHWPOISON));
    assert_eq!(Errno::EHWPOISON.get(), 133);
    // 41 and 58 are unused in the generic Linux numbering.
    let numbers: HashSet<u32> = TABLE.iter().map(|r| r.errno.get()).collect();
    let expected: HashSet<u32> = (1..=133).filter(|n| *n != 41 && *n != 58).collect();
    assert_eq!(numbers, expected);
}

#[test]
fn names_round_trip() {
    for row in TABLE {
        assert_eq!(row.errno.name(), Some(row.name));
        assert_eq!(Errno::from_name(row.name), Some(row.errno), "{}", row.name);
    }
    assert_eq!(Errno::from_name("EWOULDBLOCK"), Some(Errno::EAGAIN));
    assert_eq!(Errno::from_name("EDEADLOCK"), Some(Errno::EDEADLK));
    assert_eq!(Errno::from_name("ENOTSUP"), Some(Errno::EOPNOTSUPP));
    assert_eq!(Errno::EAGAIN.name(), Some("EAGAIN"));
    assert_eq!(Errno::EDEADLK.name(), Some("EDEADLK"));
    assert_eq!(Errno::EOPNOTSUPP.name(), Some("EOPNOTSUPP"));
    assert_eq!(Errno::from_name("enoent"), None);
    assert_eq!(Errno::from_name("EFOO"), None);
    assert_eq!(Errno::new(41).name(), None);
}

#[test]
fn messages_round_trip_and_are_unique() {
    let mut seen = HashSet::new();
    for row in TABLE {
        let (errno, message) = (row.errno, row.message);
        assert!(seen.insert(message), "duplicate message {message:?}");
        assert_eq!(errno.message(), message);
        assert_eq!(Errno::from_message(message.as_bytes()), Some(errno), "{message}");
    }
    for (text, _) in KERNEL_PLAN9_MESSAGES.iter().chain(EXTRA_PLAN9_MESSAGES) {
        assert!(seen.insert(text), "duplicate message {text:?}");
    }
    assert_eq!(Errno::new(0).message(), "Unknown error");
    assert_eq!(Errno::new(4000).message(), "Unknown error");
}

#[test]
fn from_message_cases() {
    let cases: &[(&[u8], Option<Errno>)] = &[
        (b"Permission denied", Some(Errno::EACCES)),
        (b"Permission denied\n", Some(Errno::EACCES)),
        (b"file not found", Some(Errno::ENOENT)),
        (b"file not found\0", Some(Errno::ENOENT)),
        (b"file not found\n\0\0", Some(Errno::ENOENT)),
        (b"directory entry not found", Some(Errno::ENOENT)),
        (b"file does not exist", Some(Errno::ENOENT)),
        (b"permission denied", Some(Errno::EACCES)),
        (b"wstat prohibited", Some(Errno::EPERM)),
        (b"file exists", Some(Errno::EEXIST)),
        (b"file already exists", Some(Errno::EEXIST)),
        (b"not a directory", Some(Errno::ENOTDIR)),
        (b"directory is not empty", Some(Errno::ENOTEMPTY)),
        (b"fid unknown or out of range", Some(Errno::EBADF)),
        (b"i/o error", Some(Errno::EIO)),
        (b"read only file system", Some(Errno::EROFS)),
        (b"file has been removed", Some(Errno::EIDRM)),
        (b"is a directory", Some(Errno::EISDIR)),
        (b"directory not empty", Some(Errno::ENOTEMPTY)),
        (b"unknown fid", Some(Errno::EBADF)),
        (b"File not found", None),
        (b" file not found", None),
        (b"file not found ", None),
        (b"Unknown error", None),
        (b"u9fs authnone: no authentication required", None),
        (b"", None),
        (b"\n", None),
    ];
    for &(text, expected) in cases {
        assert_eq!(Errno::from_message(text), expected, "{text:?}");
    }
}

#[test]
fn wire_validity() {
    for (n, valid) in [(0, false), (1, true), (4095, true), (4096, false), (u32::MAX, false)] {
        assert_eq!(Errno::new(n).is_valid_wire(), valid, "{n}");
        assert_eq!(Errno::new(n).get(), n);
    }
}

#[test]
fn formatting() {
    assert_eq!(format!("{:?}", Errno::ENOENT), "Errno(ENOENT)");
    assert_eq!(format!("{:?}", Errno::EWOULDBLOCK), "Errno(EAGAIN)");
    assert_eq!(format!("{:?}", Errno::new(4000)), "Errno(4000)");
    let text = "ENOENT: No such file or directory";
    assert_eq!(Errno::ENOENT.to_string(), text);
    assert_eq!(Errno::EIO.to_string(), "EIO: Input/output error");
    assert_eq!(Errno::new(4000).to_string(), "errno 4000: Unknown error");
    let boxed: Box<dyn std::error::Error> = Box::new(Errno::EPERM);
    assert_eq!(boxed.to_string(), "EPERM: Operation not permitted");
}

#[test]
fn io_errors() {
    #[cfg(unix)]
    assert_eq!(Errno::from_io_error(&io::Error::from_raw_os_error(libc::ENOENT)), Errno::ENOENT);
    let not_found: io::Error = io::ErrorKind::NotFound.into();
    assert_eq!(Errno::from_io_error(&not_found), Errno::ENOENT);
    let kinds = [
        (io::ErrorKind::PermissionDenied, Errno::EACCES),
        (io::ErrorKind::AlreadyExists, Errno::EEXIST),
        (io::ErrorKind::WouldBlock, Errno::EAGAIN),
        (io::ErrorKind::InvalidInput, Errno::EINVAL),
        (io::ErrorKind::Unsupported, Errno::EOPNOTSUPP),
        (io::ErrorKind::DirectoryNotEmpty, Errno::ENOTEMPTY),
        (io::ErrorKind::CrossesDevices, Errno::EXDEV),
        (io::ErrorKind::UnexpectedEof, Errno::EIO),
        (io::ErrorKind::Other, Errno::EIO),
    ];
    for (kind, errno) in kinds {
        assert_eq!(Errno::from(io::Error::from(kind)), errno, "{kind:?}");
    }
    assert_eq!(Errno::from(io::Error::other("boom")), Errno::EIO);
    for &(kind, _) in IO_KINDS {
        let first = IO_KINDS.iter().find(|row| row.0 == kind).map(|row| row.1);
        let found = Errno::from(io::Error::new(kind, "x"));
        assert_eq!(Some(found), first, "{kind:?}");
    }
    // Every named errno survives a trip through io::Error.
    for row in TABLE {
        let back = Errno::from(row.errno.to_io_error());
        assert_eq!(back, row.errno, "{}", row.name);
    }
    let err = io::Error::from(Errno::ENOENT);
    assert_eq!(err.kind(), io::ErrorKind::NotFound);
}

#[test]
fn io_error_without_host_equivalent_wraps_errno() {
    let err = Errno::new(5000).to_io_error();
    assert_eq!(err.kind(), io::ErrorKind::Other);
    assert_eq!(err.to_string(), "errno 5000: Unknown error");
    assert_eq!(Errno::from(&err), Errno::new(5000));
}

#[test]
fn host_round_trip() {
    for row in TABLE {
        if let Some(raw) = row.errno.to_host() {
            assert_eq!(Errno::from_host(raw), row.errno, "{}", row.name);
        }
    }
    assert_eq!(Errno::from_host(0), Errno::EIO);
    assert_eq!(Errno::from_host(-1), Errno::EIO);
    assert_eq!(Errno::new(0).to_host(), None);
}

#[cfg(any(target_os = "linux", target_os = "android"))]
#[test]
fn numbers_match_libc() {
    assert_eq!(LIBC_CHECK.len(), TABLE.len());
    for &(name, number, libc_value) in LIBC_CHECK {
        let errno = Errno::new(number);
        assert_eq!(errno.to_host(), Some(libc_value), "{name}");
        assert_eq!(host::table_to_host(errno), Some(libc_value), "{name}");
        assert_eq!(host::table_from_host(libc_value), Some(errno), "{name}");
        if host::IDENTITY {
            assert_eq!(i32::try_from(number).ok(), Some(libc_value), "{name}");
        }
    }
    if host::IDENTITY {
        assert_eq!(libc::EWOULDBLOCK, 11);
        assert_eq!(libc::ENOTSUP, 95);
        #[cfg(not(any(target_arch = "powerpc", target_arch = "powerpc64")))]
        assert_eq!(libc::EDEADLOCK, 35);
        for n in [1, 2, 41, 133, 4095] {
            assert_eq!(Errno::from_host(n).get(), n.unsigned_abs());
            assert_eq!(Errno::new(n.unsigned_abs()).to_host(), Some(n));
        }
        assert_eq!(Errno::from_host(4096), Errno::EIO);
        assert_eq!(Errno::new(4096).to_host(), None);
    }
}
