//! [`IdMap`]: from the ids a client asserts to host ids and back.

use std::collections::HashMap;

/// The "nobody" id used for ids a [`IdMap::Map`] does not list.
pub const OVERFLOW_ID: u32 = 65534;

/// How client uids/gids relate to host ones.
///
/// Applied to the ownership of objects a client creates (client → host)
/// and to getattr replies (host → client). Explicit chown requests are
/// mapped client → host as well.
///
/// ```
/// use ninefold_fs::passthrough::IdMap;
///
/// let map = IdMap::map([(1000, 2000)], [(100, 300)]);
/// assert_eq!(map.uid_to_host(1000), 2000);
/// assert_eq!(map.uid_to_client(2000), 1000);
/// assert_eq!(map.uid_to_host(5), 65534);
/// let squash = IdMap::Squash { uid: 7, gid: 8 };
/// assert_eq!(squash.uid_to_host(0), 7);
/// assert_eq!(squash.gid_to_host(42), 8);
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum IdMap {
    /// Client ids are host ids.
    #[default]
    Identity,
    /// Every object a client creates or chowns gets this uid and gid;
    /// getattr shows host owners unchanged.
    Squash {
        /// The host uid.
        uid: u32,
        /// The host gid.
        gid: u32,
    },
    /// Explicit pairs; ids not listed map to [`OVERFLOW_ID`] both ways.
    Map {
        /// Client uid → host uid.
        uids: HashMap<u32, u32>,
        /// Client gid → host gid.
        gids: HashMap<u32, u32>,
    },
}

impl IdMap {
    /// A [`IdMap::Map`] from `(client, host)` pairs.
    pub fn map(
        uids: impl IntoIterator<Item = (u32, u32)>,
        gids: impl IntoIterator<Item = (u32, u32)>,
    ) -> IdMap {
        IdMap::Map { uids: uids.into_iter().collect(), gids: gids.into_iter().collect() }
    }

    /// Checks that a [`IdMap::Map`] is invertible (no host id listed
    /// twice), so getattr answers are unambiguous.
    pub(crate) fn validate(&self) -> Result<(), String> {
        if let IdMap::Map { uids, gids } = self {
            for (what, table) in [("uid", uids), ("gid", gids)] {
                let mut seen = std::collections::HashSet::new();
                for host in table.values() {
                    if !seen.insert(*host) {
                        return Err(format!("host {what} {host} is the target of two client ids"));
                    }
                }
            }
        }
        Ok(())
    }

    /// The host uid for a client uid.
    pub fn uid_to_host(&self, uid: u32) -> u32 {
        match self {
            IdMap::Identity => uid,
            IdMap::Squash { uid: host, .. } => *host,
            IdMap::Map { uids, .. } => uids.get(&uid).copied().unwrap_or(OVERFLOW_ID),
        }
    }

    /// The host gid for a client gid.
    pub fn gid_to_host(&self, gid: u32) -> u32 {
        match self {
            IdMap::Identity => gid,
            IdMap::Squash { gid: host, .. } => *host,
            IdMap::Map { gids, .. } => gids.get(&gid).copied().unwrap_or(OVERFLOW_ID),
        }
    }

    /// The client uid shown for a host uid.
    pub fn uid_to_client(&self, uid: u32) -> u32 {
        match self {
            IdMap::Identity | IdMap::Squash { .. } => uid,
            IdMap::Map { uids, .. } => reverse(uids, uid),
        }
    }

    /// The client gid shown for a host gid.
    pub fn gid_to_client(&self, gid: u32) -> u32 {
        match self {
            IdMap::Identity | IdMap::Squash { .. } => gid,
            IdMap::Map { gids, .. } => reverse(gids, gid),
        }
    }
}

fn reverse(table: &HashMap<u32, u32>, host: u32) -> u32 {
    table.iter().find(|(_, &h)| h == host).map_or(OVERFLOW_ID, |(&client, _)| client)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identity_is_identity() {
        let m = IdMap::Identity;
        for id in [0, 1, 1000, u32::MAX - 1] {
            assert_eq!(m.uid_to_host(id), id);
            assert_eq!(m.gid_to_client(id), id);
        }
    }

    #[test]
    fn map_round_trips_and_overflows() {
        let m = IdMap::map([(0, 100_000), (1000, 101_000)], [(0, 100_000)]);
        assert!(m.validate().is_ok());
        assert_eq!(m.uid_to_host(1000), 101_000);
        assert_eq!(m.uid_to_client(101_000), 1000);
        assert_eq!(m.uid_to_client(0), OVERFLOW_ID);
        assert_eq!(m.gid_to_host(1), OVERFLOW_ID);
        let bad = IdMap::map([(1, 5), (2, 5)], []);
        assert!(bad.validate().is_err());
    }
}
