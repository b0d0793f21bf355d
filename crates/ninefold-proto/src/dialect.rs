//! [`Dialect`]: which protocol a connection speaks, chosen by the version
//! string of Tversion/Rversion, and the rules for choosing it.

use std::fmt;

/// A 9P dialect. The negotiated dialect selects the message table a
/// connection decodes with: the same type number can be absent, or laid out
/// differently, in different dialects.
///
/// | Dialect | Version string | Adds |
/// |---|---|---|
/// | [`Base`](Dialect::Base) | `9P2000` | the Plan 9 protocol, types 100–127 |
/// | [`U`](Dialect::U) | `9P2000.u` | numeric ids, errno in Rerror, extensions on create and stat |
/// | [`L`](Dialect::L) | `9P2000.L` | the Linux messages, types 6–77, with Rlerror |
/// | [`Z`](Dialect::Z) | `9P2000.L.Z` | ZeroFS: the mutation envelope and private types 228–255 |
///
/// ```
/// use ninefold_proto::Dialect;
///
/// assert_eq!(Dialect::from_version(b"9P2000.L"), Some(Dialect::L));
/// assert_eq!(Dialect::Z.version(), "9P2000.L.Z");
/// assert_eq!(Dialect::L.to_string(), "9P2000.L");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "proptest", derive(proptest_derive::Arbitrary))]
#[non_exhaustive]
pub enum Dialect {
    /// `9P2000`, the Plan 9 protocol.
    Base,
    /// `9P2000.u`, the Unix extension.
    U,
    /// `9P2000.L`, the Linux dialect used by the kernel's v9fs client.
    L,
    /// `9P2000.L.Z`, the ZeroFS extension of 9P2000.L.
    Z,
}

impl Dialect {
    /// Every dialect, oldest first.
    pub const ALL: [Dialect; 4] = [Dialect::Base, Dialect::U, Dialect::L, Dialect::Z];

    /// The version string that names the dialect in Tversion/Rversion.
    pub const fn version(self) -> &'static str {
        match self {
            Dialect::Base => "9P2000",
            Dialect::U => "9P2000.u",
            Dialect::L => "9P2000.L",
            Dialect::Z => "9P2000.L.Z",
        }
    }

    /// The dialect named exactly by `version` (no prefix matching).
    pub fn from_version(version: &[u8]) -> Option<Dialect> {
        Dialect::ALL.into_iter().find(|d| d.version().as_bytes() == version)
    }

    /// Server-side negotiation: the dialect to answer a client's Tversion
    /// string with, among those the server `supported`, or `None` for
    /// `"unknown"`.
    ///
    /// An exact match wins. Otherwise the string is shortened at its last `.`
    /// until a supported dialect matches, so `9P2000.L.Google.1` is answered
    /// with `9P2000.L` and `9P2000.u.extra` with `9P2000.u`: the server may
    /// answer with an earlier version of what was asked. A string not starting
    /// with `9P2000` is unknown. A future ZeroFS token such as `9P2000.L.Z2`
    /// is never taken for `9P2000.L.Z` (it falls back to `9P2000.L`).
    ///
    /// ```
    /// use ninefold_proto::Dialect;
    ///
    /// let all = Dialect::ALL;
    /// assert_eq!(Dialect::negotiate(b"9P2000.L", &all), Some(Dialect::L));
    /// assert_eq!(Dialect::negotiate(b"9P2000.L.Google.1", &all), Some(Dialect::L));
    /// assert_eq!(Dialect::negotiate(b"9P2000.L.Z2", &all), Some(Dialect::L));
    /// assert_eq!(Dialect::negotiate(b"9P2000.L.Z", &[Dialect::L]), Some(Dialect::L));
    /// assert_eq!(Dialect::negotiate(b"9P1", &all), None);
    /// ```
    pub fn negotiate(requested: &[u8], supported: &[Dialect]) -> Option<Dialect> {
        let mut candidate = requested;
        loop {
            if let Some(d) = Dialect::from_version(candidate) {
                if supported.contains(&d) {
                    return Some(d);
                }
            }
            let dot = candidate.iter().rposition(|&b| b == b'.')?;
            candidate = &candidate[..dot];
        }
    }

    /// Whether this is 9P2000.L or an extension of it.
    pub const fn is_dotl(self) -> bool {
        matches!(self, Dialect::L | Dialect::Z)
    }

    /// Whether Tattach/Tauth carry `n_uname` and stat records carry the
    /// 9P2000.u fields (true for .u and .L; the Linux client encodes them in
    /// both).
    pub const fn has_unix_fields(self) -> bool {
        !matches!(self, Dialect::Base)
    }

    /// Whether request type `ty` carries the 25-byte mutation envelope in
    /// this dialect: only in 9P2000.L.Z, and only on the types whose
    /// [`MessageFacts`](crate::MessageFacts) say so.
    pub fn has_envelope(self, ty: u8) -> bool {
        matches!(self, Dialect::Z) && self.message_facts(ty).is_some_and(|f| f.has_envelope())
    }

    pub(crate) const fn bit(self) -> u8 {
        match self {
            Dialect::Base => DialectSet::BASE.0,
            Dialect::U => DialectSet::U.0,
            Dialect::L => DialectSet::L.0,
            Dialect::Z => DialectSet::Z.0,
        }
    }

    pub(crate) const fn index(self) -> usize {
        match self {
            Dialect::Base => 0,
            Dialect::U => 1,
            Dialect::L => 2,
            Dialect::Z => 3,
        }
    }
}

impl fmt::Display for Dialect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.version())
    }
}

/// A set of dialects, for the message table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct DialectSet(u8);

impl DialectSet {
    pub(crate) const BASE: DialectSet = DialectSet(1);
    pub(crate) const U: DialectSet = DialectSet(2);
    pub(crate) const L: DialectSet = DialectSet(4);
    pub(crate) const Z: DialectSet = DialectSet(8);
    /// Every dialect.
    pub(crate) const ALL: DialectSet = DialectSet(15);
    /// 9P2000 and 9P2000.u.
    pub(crate) const PLAN9: DialectSet = DialectSet(3);
    /// 9P2000.L and 9P2000.L.Z.
    pub(crate) const DOTL: DialectSet = DialectSet(12);

    pub(crate) const fn contains(self, d: Dialect) -> bool {
        self.0 & d.bit() != 0
    }
}
