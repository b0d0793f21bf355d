//! The durability lineage token of 9P2000.L.Z (Tgetlineage, Tfsyncdur):
//! it names the history the server's acknowledged writes belong to, and
//! changes whenever that history may have been lost.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::time::{SystemTime, UNIX_EPOCH};

/// A server's lineage token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Lineage(u64);

impl Lineage {
    /// A fresh random token (never 0, which means "nothing to verify").
    pub(crate) fn random() -> Lineage {
        let mut h = RandomState::new().build_hasher();
        let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
        h.write_u128(now.as_nanos());
        h.write_u32(std::process::id());
        Lineage::fixed(h.finish())
    }

    /// A given token (a persistent export stores its own); 0 becomes 1.
    pub(crate) fn fixed(token: u64) -> Lineage {
        Lineage(token.max(1))
    }

    /// The token.
    pub(crate) fn token(self) -> u64 {
        self.0
    }
}
