//! Trebind/Rrebind, and the credentials its `uname` can carry.

use thiserror::Error;

use crate::wire::wire_struct;
use crate::{Errno, P9String, Qid, RebindFlags, NONUNAME};

wire_struct! {
    /// `Trebind fid[4] inode_id[8] root_inode[8] flags[1] uname[s]
    /// n_uname[4]`: bind the unused, unopened `fid` to the object whose
    /// `qid.path` is `inode_id`, with attach root `root_inode`, acting as the
    /// given user: how a reconnecting client restores every fid (no Tattach
    /// is sent on reconnect). `uname` may hold binary [`Credentials`].
    pub struct Trebind {
        /// The unused fid to bind.
        pub fid: u32,
        /// `qid.path` of the target object.
        pub inode_id: u64,
        /// `qid.path` of the attach root.
        pub root_inode: u64,
        /// REPLAY, OPENED (only with REPLAY).
        pub flags: RebindFlags,
        /// A user name, or the binary credential form.
        pub uname: P9String,
        /// The uid; [`NONUNAME`] means "by name".
        pub n_uname: u32,
    }
}

wire_struct! {
    /// `Rrebind qid[13]`.
    pub struct Rrebind {
        /// The object's qid.
        pub qid: Qid,
    }
}

/// Who a Trebind acts as: its `uname` and `n_uname` read together.
///
/// ```
/// use ninefold_proto::z::Credentials;
///
/// let creds = Credentials::Groups { uid: 1000, gid: 100, groups: vec![10, 20], incomplete: false };
/// let (uname, n_uname) = creds.to_wire()?;
/// assert_eq!(uname.as_bytes()[..2], [0xff, 0x01]);
/// assert_eq!(Credentials::parse(&uname, n_uname)?, creds);
/// # Ok::<(), ninefold_proto::z::CredentialsError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credentials {
    /// The legacy form: a user name and a uid (or [`NONUNAME`] to map the
    /// name). The group is unknown.
    Name {
        /// The user name (UTF-8 by convention, may be empty).
        uname: P9String,
        /// The uid, or [`NONUNAME`].
        uid: u32,
    },
    /// The binary form: `0xFF 0x01 gid[4] count[1] count*(gid[4])`.
    Groups {
        /// The fsuid (from `n_uname`).
        uid: u32,
        /// The primary gid.
        gid: u32,
        /// Supplementary gids, at most 16.
        groups: Vec<u32>,
        /// The group list is incomplete: the client already did the group
        /// permission check (bit 7 of `count`).
        incomplete: bool,
    },
}

/// A Trebind credential that does not parse (the server answers EINVAL).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum CredentialsError {
    /// The binary form's version byte is not 1.
    #[error("unknown binary credential version {0}")]
    Version(u8),
    /// The binary form's length does not match its group count.
    #[error("binary credential of {len} bytes does not hold {count} groups")]
    Length {
        /// Bytes present.
        len: usize,
        /// Groups announced.
        count: usize,
    },
    /// More than 16 supplementary groups.
    #[error("{0} supplementary groups exceed the maximum of 16")]
    TooManyGroups(usize),
}

impl From<CredentialsError> for Errno {
    fn from(_: CredentialsError) -> Errno {
        Errno::EINVAL
    }
}

const BINARY_MARK: u8 = 0xFF;
const BINARY_VERSION: u8 = 0x01;
const INCOMPLETE: u8 = 0x80;
const MAX_GROUPS: usize = 16;

impl Credentials {
    /// Reads the credentials of a Trebind.
    pub fn parse(uname: &P9String, n_uname: u32) -> Result<Credentials, CredentialsError> {
        let b = uname.as_bytes();
        if b.first() != Some(&BINARY_MARK) {
            return Ok(Credentials::Name { uname: uname.clone(), uid: n_uname });
        }
        let header: &[u8; 7] = b
            .get(..7)
            .and_then(|h| h.try_into().ok())
            .ok_or(CredentialsError::Length { len: b.len(), count: 0 })?;
        if header[1] != BINARY_VERSION {
            return Err(CredentialsError::Version(header[1]));
        }
        let gid = u32::from_le_bytes([header[2], header[3], header[4], header[5]]);
        let count = (header[6] & !INCOMPLETE) as usize;
        if count > MAX_GROUPS {
            return Err(CredentialsError::TooManyGroups(count));
        }
        if b.len() != 7 + 4 * count {
            return Err(CredentialsError::Length { len: b.len(), count });
        }
        let groups =
            b[7..].chunks_exact(4).map(|g| u32::from_le_bytes([g[0], g[1], g[2], g[3]])).collect();
        Ok(Credentials::Groups {
            uid: n_uname,
            gid,
            groups,
            incomplete: header[6] & INCOMPLETE != 0,
        })
    }

    /// The `uname` and `n_uname` that carry these credentials.
    pub fn to_wire(&self) -> Result<(P9String, u32), CredentialsError> {
        match self {
            Credentials::Name { uname, uid } => Ok((uname.clone(), *uid)),
            Credentials::Groups { uid, gid, groups, incomplete } => {
                if groups.len() > MAX_GROUPS {
                    return Err(CredentialsError::TooManyGroups(groups.len()));
                }
                let mut b = Vec::with_capacity(7 + 4 * groups.len());
                b.extend_from_slice(&[BINARY_MARK, BINARY_VERSION]);
                b.extend_from_slice(&gid.to_le_bytes());
                let flag = if *incomplete { INCOMPLETE } else { 0 };
                b.push(groups.len() as u8 | flag);
                for g in groups {
                    b.extend_from_slice(&g.to_le_bytes());
                }
                Ok((P9String::from(b), *uid))
            }
        }
    }

    /// The uid, when known ([`NONUNAME`] maps by name and is `None`).
    pub fn uid(&self) -> Option<u32> {
        match *self {
            Credentials::Name { uid, .. } | Credentials::Groups { uid, .. } if uid != NONUNAME => {
                Some(uid)
            }
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn legacy_names() {
        let c = Credentials::parse(&"alice".into(), 1000).unwrap();
        assert_eq!(c, Credentials::Name { uname: "alice".into(), uid: 1000 });
        assert_eq!(c.uid(), Some(1000));
        let c = Credentials::parse(&"".into(), NONUNAME).unwrap();
        assert_eq!(c.uid(), None);
    }

    #[test]
    fn binary_length_must_match_count() {
        // count 2 but only one gid present: EINVAL per the dialect.
        let raw = P9String::from(vec![0xff, 0x01, 5, 0, 0, 0, 2, 1, 0, 0, 0]);
        assert_eq!(
            Credentials::parse(&raw, 0),
            Err(CredentialsError::Length { len: 11, count: 2 })
        );
        assert_eq!(Errno::from(CredentialsError::Version(2)), Errno::EINVAL);
        let short = P9String::from(vec![0xff, 0x01, 5]);
        assert!(Credentials::parse(&short, 0).is_err());
        let v2 = P9String::from(vec![0xff, 0x02, 0, 0, 0, 0, 0]);
        assert_eq!(Credentials::parse(&v2, 0), Err(CredentialsError::Version(2)));
    }

    #[test]
    fn incomplete_bit_and_limit() {
        let c = Credentials::Groups { uid: 0, gid: 7, groups: vec![], incomplete: true };
        let (u, n) = c.to_wire().unwrap();
        assert_eq!(u.as_bytes(), [0xff, 0x01, 7, 0, 0, 0, 0x80]);
        assert_eq!(Credentials::parse(&u, n).unwrap(), c);
        let many = Credentials::Groups { uid: 0, gid: 0, groups: vec![1; 17], incomplete: false };
        assert_eq!(many.to_wire(), Err(CredentialsError::TooManyGroups(17)));
        let raw = P9String::from(vec![0xff, 0x01, 0, 0, 0, 0, 17]);
        assert_eq!(Credentials::parse(&raw, 0), Err(CredentialsError::TooManyGroups(17)));
    }
}
