//! [`P9String`]: a 9P string (`len[2]` + bytes), kept as raw bytes.

use std::borrow::Borrow;
use std::fmt;
use std::ops::Deref;

use bytes::{BufMut, Bytes};

use crate::error::EncodeError;
use crate::wire::{Fault, Reader, WalkItem, Wire, Writer};
use crate::Dialect;

/// A 9P string: up to 65535 bytes, UTF-8 by convention but not by rule.
///
/// File names on Linux are arbitrary bytes, so a `P9String` never assumes
/// UTF-8: a non-UTF-8 name survives decode and encode unchanged. Decoding
/// borrows the received frame (no copy); cloning is a reference-count bump.
///
/// ```
/// use ninefold_proto::P9String;
///
/// let name = P9String::from("hello.txt");
/// assert_eq!(name, "hello.txt");
/// assert_eq!(name.to_str(), Ok("hello.txt"));
///
/// let raw = P9String::from(&b"caf\xe9"[..]); // Latin-1, not UTF-8
/// assert!(raw.to_str().is_err());
/// assert_eq!(raw.as_bytes(), b"caf\xe9");
/// ```
#[derive(Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct P9String(Bytes);

impl P9String {
    /// The largest length a 9P string can have.
    pub const MAX_LEN: usize = u16::MAX as usize;

    /// The empty string.
    pub const fn new() -> P9String {
        P9String(Bytes::new())
    }

    /// A string from static text, without allocating.
    pub const fn from_static(s: &'static str) -> P9String {
        P9String(Bytes::from_static(s.as_bytes()))
    }

    /// The raw bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// The bytes as `&str`, when they are UTF-8.
    pub fn to_str(&self) -> Result<&str, std::str::Utf8Error> {
        std::str::from_utf8(&self.0)
    }

    /// The bytes as text, with invalid UTF-8 replaced by U+FFFD.
    pub fn to_string_lossy(&self) -> std::borrow::Cow<'_, str> {
        String::from_utf8_lossy(&self.0)
    }

    /// The underlying buffer.
    pub fn into_bytes(self) -> Bytes {
        self.0
    }

    /// Length in bytes.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether the string is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl Deref for P9String {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        &self.0
    }
}

impl AsRef<[u8]> for P9String {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

impl Borrow<[u8]> for P9String {
    fn borrow(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for P9String {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "\"{}\"", self.0.escape_ascii())
    }
}

impl fmt::Display for P9String {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_string_lossy())
    }
}

impl From<&str> for P9String {
    fn from(s: &str) -> P9String {
        P9String(Bytes::copy_from_slice(s.as_bytes()))
    }
}

impl From<String> for P9String {
    fn from(s: String) -> P9String {
        P9String(Bytes::from(s))
    }
}

impl From<&[u8]> for P9String {
    fn from(s: &[u8]) -> P9String {
        P9String(Bytes::copy_from_slice(s))
    }
}

impl From<Vec<u8>> for P9String {
    fn from(s: Vec<u8>) -> P9String {
        P9String(Bytes::from(s))
    }
}

impl From<Bytes> for P9String {
    fn from(s: Bytes) -> P9String {
        P9String(s)
    }
}

impl From<P9String> for Bytes {
    fn from(s: P9String) -> Bytes {
        s.0
    }
}

impl PartialEq<str> for P9String {
    fn eq(&self, other: &str) -> bool {
        self.0 == other.as_bytes()
    }
}

impl PartialEq<&str> for P9String {
    fn eq(&self, other: &&str) -> bool {
        self.0 == other.as_bytes()
    }
}

impl PartialEq<[u8]> for P9String {
    fn eq(&self, other: &[u8]) -> bool {
        self.0 == other
    }
}

impl PartialEq<&[u8]> for P9String {
    fn eq(&self, other: &&[u8]) -> bool {
        self.0 == *other
    }
}

impl Wire for P9String {
    #[inline]
    fn wire_len(&self, _d: Dialect) -> Result<usize, EncodeError> {
        if self.0.len() > P9String::MAX_LEN {
            return Err(EncodeError::StringTooLong { len: self.0.len() });
        }
        Ok(2 + self.0.len())
    }
    #[inline]
    fn put<B: BufMut>(&self, w: &mut Writer<'_, B>, _d: Dialect) {
        w.u16(self.0.len() as u16);
        w.slice(&self.0);
    }
    #[inline]
    fn get(r: &mut Reader<'_>, _d: Dialect) -> Result<Self, Fault> {
        let len = r.u16()? as usize;
        Ok(P9String(r.bytes(len)?))
    }
}

impl WalkItem for P9String {
    const MIN_WIRE_LEN: usize = 2;
}

#[cfg(feature = "proptest")]
impl proptest::arbitrary::Arbitrary for P9String {
    type Parameters = ();
    type Strategy = proptest::strategy::BoxedStrategy<P9String>;
    /// Short strings of arbitrary bytes (non-UTF-8 included).
    fn arbitrary_with(_: ()) -> Self::Strategy {
        use proptest::strategy::Strategy;
        proptest::collection::vec(proptest::num::u8::ANY, 0..24).prop_map(P9String::from).boxed()
    }
}
