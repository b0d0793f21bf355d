//! The 9P2000.u `extension` string of Tcreate and stat records.

use thiserror::Error;

use crate::{DirMode, P9String};

/// Block or character device.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DeviceKind {
    /// `b`: a block device.
    Block,
    /// `c`: a character device.
    Char,
}

/// What a 9P2000.u Tcreate (or stat record) describes, read from its `perm`
/// bits and `extension` string.
///
/// ```
/// use ninefold_proto::u::{DeviceKind, Extension};
/// use ninefold_proto::DirMode;
///
/// let dev = Extension::parse(DirMode::DEVICE | DirMode::from_bits_retain(0o644), b"c 1 3")?;
/// assert_eq!(dev, Extension::Device { kind: DeviceKind::Char, major: 1, minor: 3 });
///
/// let (perm, ext) = Extension::HardLink { fid: 42 }.to_wire();
/// assert_eq!((perm, ext.as_bytes()), (DirMode::LINK, &b"42"[..]));
/// # Ok::<(), ninefold_proto::u::ExtensionError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Extension {
    /// An ordinary file or directory (no special bits).
    None,
    /// DMSYMLINK: a symbolic link to this target.
    Symlink(P9String),
    /// DMLINK: a hard link to the file of this fid.
    HardLink {
        /// The fid naming the existing file.
        fid: u32,
    },
    /// DMDEVICE: a device node.
    Device {
        /// Block or character.
        kind: DeviceKind,
        /// Major number.
        major: u32,
        /// Minor number.
        minor: u32,
    },
    /// DMNAMEDPIPE: a FIFO.
    NamedPipe,
    /// DMSOCKET: a socket.
    Socket,
}

/// A malformed 9P2000.u extension.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum ExtensionError {
    /// More than one special-file bit is set.
    #[error("more than one special file type in the mode bits")]
    Ambiguous,
    /// The hard-link extension is not a decimal fid.
    #[error("hard-link extension is not a fid number")]
    BadFid,
    /// The device extension is not `b|c major minor`.
    #[error("device extension is not `b|c major minor`")]
    BadDevice,
}

impl Extension {
    /// Interprets `perm` and `extension`. The Linux client ends a hard-link
    /// fid with a newline; trailing newlines and NULs are ignored.
    pub fn parse(perm: DirMode, extension: &[u8]) -> Result<Extension, ExtensionError> {
        let kinds =
            [DirMode::SYMLINK, DirMode::LINK, DirMode::DEVICE, DirMode::NAMEDPIPE, DirMode::SOCKET];
        let mut set = kinds.into_iter().filter(|k| perm.contains(*k));
        let kind = match (set.next(), set.next()) {
            (None, _) => return Ok(Extension::None),
            (Some(kind), None) => kind,
            (Some(_), Some(_)) => return Err(ExtensionError::Ambiguous),
        };
        let text = trim(extension);
        match kind {
            DirMode::SYMLINK => Ok(Extension::Symlink(P9String::from(extension))),
            DirMode::LINK => {
                let fid = parse_u32(text).ok_or(ExtensionError::BadFid)?;
                Ok(Extension::HardLink { fid })
            }
            DirMode::DEVICE => parse_device(text).ok_or(ExtensionError::BadDevice),
            DirMode::NAMEDPIPE => Ok(Extension::NamedPipe),
            _ => Ok(Extension::Socket),
        }
    }

    /// The `perm` bits and `extension` string that describe `self`.
    pub fn to_wire(&self) -> (DirMode, P9String) {
        match self {
            Extension::None => (DirMode::empty(), P9String::new()),
            Extension::Symlink(target) => (DirMode::SYMLINK, target.clone()),
            Extension::HardLink { fid } => (DirMode::LINK, fid.to_string().into()),
            Extension::Device { kind, major, minor } => {
                let k = match kind {
                    DeviceKind::Block => 'b',
                    DeviceKind::Char => 'c',
                };
                (DirMode::DEVICE, format!("{k} {major} {minor}").into())
            }
            Extension::NamedPipe => (DirMode::NAMEDPIPE, P9String::new()),
            Extension::Socket => (DirMode::SOCKET, P9String::new()),
        }
    }
}

fn trim(mut s: &[u8]) -> &[u8] {
    while let [rest @ .., b'\n' | b'\0'] = s {
        s = rest;
    }
    s
}

fn parse_u32(s: &[u8]) -> Option<u32> {
    std::str::from_utf8(s).ok()?.parse().ok()
}

fn parse_device(s: &[u8]) -> Option<Extension> {
    let text = std::str::from_utf8(s).ok()?;
    let mut parts = text.split_ascii_whitespace();
    let kind = match parts.next()? {
        "b" => DeviceKind::Block,
        "c" => DeviceKind::Char,
        _ => return None,
    };
    let major = parts.next()?.parse().ok()?;
    let minor = parts.next()?.parse().ok()?;
    match parts.next() {
        None => Some(Extension::Device { kind, major, minor }),
        Some(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_round_trips() {
        let cases = [
            Extension::None,
            Extension::Symlink("../target".into()),
            Extension::HardLink { fid: 7 },
            Extension::Device { kind: DeviceKind::Block, major: 8, minor: 1 },
            Extension::Device { kind: DeviceKind::Char, major: 4, minor: 64 },
            Extension::NamedPipe,
            Extension::Socket,
        ];
        for ext in cases {
            let (perm, s) = ext.to_wire();
            assert_eq!(Extension::parse(perm | DirMode::from_bits_retain(0o600), &s), Ok(ext));
        }
    }

    #[test]
    fn linux_hard_link_newline() {
        assert_eq!(Extension::parse(DirMode::LINK, b"12\n"), Ok(Extension::HardLink { fid: 12 }));
    }

    #[test]
    fn malformed() {
        assert_eq!(Extension::parse(DirMode::LINK, b"x"), Err(ExtensionError::BadFid));
        assert_eq!(Extension::parse(DirMode::DEVICE, b"q 1 2"), Err(ExtensionError::BadDevice));
        assert_eq!(Extension::parse(DirMode::DEVICE, b"b 1"), Err(ExtensionError::BadDevice));
        assert_eq!(Extension::parse(DirMode::DEVICE, b"b 1 2 3"), Err(ExtensionError::BadDevice));
        assert_eq!(
            Extension::parse(DirMode::SOCKET | DirMode::NAMEDPIPE, b""),
            Err(ExtensionError::Ambiguous)
        );
    }
}
