//! Wire primitives: the bounded little-endian [`Reader`], the [`Writer`] that
//! can set a frame's trailing payload aside for vectored I/O, and the [`Wire`]
//! trait every field type and message body implements.
//!
//! Everything here is crate-private; the public surface is
//! [`Frame`](crate::Frame), [`Message`](crate::Message) and the record types.

use bytes::{BufMut, Bytes};

use crate::error::{DecodeErrorKind, EncodeError};
use crate::Dialect;

/// The maximum number of names in a walk (and qids in its reply): MAXWELEM.
pub const MAXWELEM: usize = 16;

/// A decode failure inside a body, with the innermost field it happened in.
/// Boxed: errors are cold, and a pointer-sized error keeps every
/// `Result<u64, Fault>` of the hot path in registers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Fault(Box<FaultInner>);

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FaultInner {
    pub(crate) kind: DecodeErrorKind,
    pub(crate) field: Option<&'static str>,
}

impl Fault {
    /// Record `field` as the place of the fault unless a deeper field already is.
    #[cold]
    pub(crate) fn in_field(mut self, field: &'static str) -> Fault {
        if self.0.field.is_none() {
            self.0.field = Some(field);
        }
        self
    }

    /// What went wrong.
    pub(crate) fn kind(&self) -> &DecodeErrorKind {
        &self.0.kind
    }

    /// The innermost field, when known.
    pub(crate) fn field(&self) -> Option<&'static str> {
        self.0.field
    }
}

impl From<DecodeErrorKind> for Fault {
    #[cold]
    fn from(kind: DecodeErrorKind) -> Fault {
        Fault(Box::new(FaultInner { kind, field: None }))
    }
}

/// A cursor over a received frame. Every read checks what remains first, and
/// byte runs are returned as zero-copy slices of the frame.
#[derive(Debug)]
pub(crate) struct Reader<'a> {
    buf: &'a Bytes,
    pos: usize,
    end: usize,
}

impl<'a> Reader<'a> {
    /// A reader over `buf[pos..]`.
    pub(crate) fn new(buf: &'a Bytes, pos: usize) -> Reader<'a> {
        let pos = pos.min(buf.len());
        Reader { buf, pos, end: buf.len() }
    }

    /// Bytes left before the end of this reader's window.
    #[inline(always)]
    pub(crate) fn remaining(&self) -> usize {
        self.end - self.pos
    }

    #[inline(always)]
    fn take(&mut self, n: usize) -> Result<&'a [u8], Fault> {
        if n > self.remaining() {
            return Err(truncated(n, self.remaining()));
        }
        let buf: &'a Bytes = self.buf;
        let s = &buf[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }

    #[inline(always)]
    pub(crate) fn u8(&mut self) -> Result<u8, Fault> {
        Ok(self.take(1)?[0])
    }

    #[inline(always)]
    pub(crate) fn u16(&mut self) -> Result<u16, Fault> {
        Ok(u16::from_le_bytes(self.array()?))
    }

    #[inline(always)]
    pub(crate) fn u32(&mut self) -> Result<u32, Fault> {
        Ok(u32::from_le_bytes(self.array()?))
    }

    #[inline(always)]
    pub(crate) fn u64(&mut self) -> Result<u64, Fault> {
        Ok(u64::from_le_bytes(self.array()?))
    }

    #[inline(always)]
    pub(crate) fn array<const N: usize>(&mut self) -> Result<[u8; N], Fault> {
        let s = self.take(N)?;
        let mut out = [0u8; N];
        out.copy_from_slice(s);
        Ok(out)
    }

    /// `n` bytes as a slice of the frame (no copy).
    #[inline(always)]
    pub(crate) fn bytes(&mut self, n: usize) -> Result<Bytes, Fault> {
        if n > self.remaining() {
            return Err(truncated(n, self.remaining()));
        }
        let out = self.buf.slice(self.pos..self.pos + n);
        self.pos += n;
        Ok(out)
    }

    /// Splits off a sub-reader over the next `n` bytes (for length-prefixed
    /// records such as 9P2000 `stat`), advancing this reader past them.
    pub(crate) fn sub(&mut self, n: usize) -> Result<Reader<'a>, Fault> {
        if n > self.remaining() {
            return Err(truncated(n, self.remaining()));
        }
        let sub = Reader { buf: self.buf, pos: self.pos, end: self.pos + n };
        self.pos += n;
        Ok(sub)
    }

    /// Fails unless everything has been consumed.
    pub(crate) fn finish(&self) -> Result<(), Fault> {
        match self.remaining() {
            0 => Ok(()),
            count => Err(DecodeErrorKind::TrailingBytes { count }.into()),
        }
    }
}

#[cold]
fn truncated(needed: usize, remaining: usize) -> Fault {
    DecodeErrorKind::Truncated { needed, remaining }.into()
}

/// Bytes staged in a [`Writer`] before they are handed to the destination.
const STAGE: usize = 256;

/// Destination of an encode. Small fields are staged in a local buffer and
/// handed to the destination in one `put_slice`, so encoding a message costs
/// a few copies rather than one call per field. In vectored mode the
/// trailing payload of a message (`data[count]` of Rread, Twrite, ...) is
/// set aside instead of copied, so it can go out as its own I/O segment.
///
/// [`finish`](Writer::finish) must be called to flush the staged bytes.
#[derive(Debug)]
pub(crate) struct Writer<'a, B> {
    out: &'a mut B,
    stage: [u8; STAGE],
    staged: usize,
    vectored: bool,
    payload: Option<Bytes>,
}

impl<'a, B: BufMut> Writer<'a, B> {
    pub(crate) fn new(out: &'a mut B, vectored: bool) -> Writer<'a, B> {
        Writer { out, stage: [0; STAGE], staged: 0, vectored, payload: None }
    }

    #[inline(always)]
    fn array<const N: usize>(&mut self, v: [u8; N]) {
        if self.staged + N > STAGE {
            self.flush();
        }
        self.stage[self.staged..self.staged + N].copy_from_slice(&v);
        self.staged += N;
    }

    #[inline(never)]
    fn flush(&mut self) {
        self.out.put_slice(&self.stage[..self.staged]);
        self.staged = 0;
    }

    #[inline(always)]
    pub(crate) fn u8(&mut self, v: u8) {
        self.array([v]);
    }
    #[inline(always)]
    pub(crate) fn u16(&mut self, v: u16) {
        self.array(v.to_le_bytes());
    }
    #[inline(always)]
    pub(crate) fn u32(&mut self, v: u32) {
        self.array(v.to_le_bytes());
    }
    #[inline(always)]
    pub(crate) fn u64(&mut self, v: u64) {
        self.array(v.to_le_bytes());
    }

    /// A run of bytes: staged when short, else written straight through.
    #[inline]
    pub(crate) fn slice(&mut self, v: &[u8]) {
        if self.staged + v.len() <= STAGE {
            self.stage[self.staged..self.staged + v.len()].copy_from_slice(v);
            self.staged += v.len();
        } else {
            self.flush();
            self.out.put_slice(v);
        }
    }

    /// A message's trailing payload: copied, or set aside in vectored mode.
    #[inline]
    pub(crate) fn payload(&mut self, v: &Bytes) {
        if self.vectored {
            self.payload = Some(v.clone());
        } else {
            self.slice(v);
        }
    }

    /// Flushes what is staged; returns the payload a vectored encode set
    /// aside, if any.
    pub(crate) fn finish(mut self) -> Option<Bytes> {
        self.flush();
        self.payload.take()
    }
}

/// A value with a 9P wire form. `wire_len` validates what the encoder would
/// otherwise have to reject (string and list limits), so `put` cannot fail.
pub(crate) trait Wire: Sized {
    /// Encoded length in bytes under dialect `d`.
    fn wire_len(&self, d: Dialect) -> Result<usize, EncodeError>;
    /// Writes the value; `wire_len` must have succeeded first.
    fn put<B: BufMut>(&self, w: &mut Writer<'_, B>, d: Dialect);
    /// Reads the value.
    fn get(r: &mut Reader<'_>, d: Dialect) -> Result<Self, Fault>;
}

macro_rules! wire_int {
    ($($t:ty => $rd:ident, $wr:ident;)*) => {$(
        impl Wire for $t {
            #[inline(always)]
            fn wire_len(&self, _d: Dialect) -> Result<usize, EncodeError> {
                Ok(std::mem::size_of::<$t>())
            }
            #[inline(always)]
            fn put<B: BufMut>(&self, w: &mut Writer<'_, B>, _d: Dialect) {
                w.$wr(*self)
            }
            #[inline(always)]
            fn get(r: &mut Reader<'_>, _d: Dialect) -> Result<Self, Fault> {
                r.$rd()
            }
        }
    )*};
}

wire_int! {
    u8 => u8, u8;
    u16 => u16, u16;
    u32 => u32, u32;
    u64 => u64, u64;
}

impl Wire for bool {
    fn wire_len(&self, _d: Dialect) -> Result<usize, EncodeError> {
        Ok(1)
    }
    fn put<B: BufMut>(&self, w: &mut Writer<'_, B>, _d: Dialect) {
        w.u8(u8::from(*self))
    }
    fn get(r: &mut Reader<'_>, _d: Dialect) -> Result<Self, Fault> {
        match r.u8()? {
            0 => Ok(false),
            1 => Ok(true),
            _ => Err(DecodeErrorKind::Invalid("boolean byte is neither 0 nor 1").into()),
        }
    }
}

impl<const N: usize> Wire for [u8; N] {
    fn wire_len(&self, _d: Dialect) -> Result<usize, EncodeError> {
        Ok(N)
    }
    fn put<B: BufMut>(&self, w: &mut Writer<'_, B>, _d: Dialect) {
        w.slice(self)
    }
    fn get(r: &mut Reader<'_>, _d: Dialect) -> Result<Self, Fault> {
        r.array()
    }
}

/// `count[4] data[count]`: the payload of Rread, Twrite and Rlopenatread.
/// Decoding slices the frame; vectored encoding sets the data aside.
impl Wire for Bytes {
    fn wire_len(&self, _d: Dialect) -> Result<usize, EncodeError> {
        if self.len() > u32::MAX as usize {
            return Err(EncodeError::PayloadTooLong { len: self.len() });
        }
        Ok(4 + self.len())
    }
    fn put<B: BufMut>(&self, w: &mut Writer<'_, B>, _d: Dialect) {
        w.u32(self.len() as u32);
        w.payload(self);
    }
    fn get(r: &mut Reader<'_>, _d: Dialect) -> Result<Self, Fault> {
        let count = r.u32()? as usize;
        r.bytes(count)
    }
}

/// `n[2] n × item`, bounded by MAXWELEM: the name list of Twalk and the qid
/// list of Rwalk. The count is checked against both the limit and the bytes
/// left before anything is allocated.
impl<T: Wire + WalkItem> Wire for Vec<T> {
    fn wire_len(&self, d: Dialect) -> Result<usize, EncodeError> {
        if self.len() > MAXWELEM {
            return Err(EncodeError::TooManyWalkElements { count: self.len() });
        }
        self.iter().try_fold(2, |acc, item| Ok(acc + item.wire_len(d)?))
    }
    fn put<B: BufMut>(&self, w: &mut Writer<'_, B>, d: Dialect) {
        w.u16(self.len() as u16);
        for item in self {
            item.put(w, d);
        }
    }
    fn get(r: &mut Reader<'_>, d: Dialect) -> Result<Self, Fault> {
        let count = r.u16()?;
        if count as usize > MAXWELEM {
            return Err(DecodeErrorKind::TooManyWalkElements { count }.into());
        }
        let min = count as usize * T::MIN_WIRE_LEN;
        if min > r.remaining() {
            return Err(truncated(min, r.remaining()));
        }
        let mut out = Vec::with_capacity(count as usize);
        for _ in 0..count {
            out.push(T::get(r, d)?);
        }
        Ok(out)
    }
}

/// An element of a walk list, with the least it can occupy on the wire.
pub(crate) trait WalkItem {
    const MIN_WIRE_LEN: usize;
}

/// Defines a message (or record) struct whose wire form is its fields in
/// order, and implements [`Wire`] for it.
macro_rules! wire_struct {
    (
        $(#[$meta:meta])*
        pub struct $name:ident;
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
        #[cfg_attr(feature = "proptest", derive(proptest_derive::Arbitrary))]
        pub struct $name;

        impl $crate::wire::Wire for $name {
            #[inline]
            fn wire_len(&self, _d: $crate::Dialect) -> Result<usize, $crate::EncodeError> {
                Ok(0)
            }
            #[inline]
            fn put<B: bytes::BufMut>(&self, _w: &mut $crate::wire::Writer<'_, B>, _d: $crate::Dialect) {}
            #[inline]
            fn get(
                _r: &mut $crate::wire::Reader<'_>,
                _d: $crate::Dialect,
            ) -> Result<Self, $crate::wire::Fault> {
                Ok($name)
            }
        }
    };
    (
        $(#[$meta:meta])*
        pub struct $name:ident {
            $( $(#[$fmeta:meta])* pub $field:ident : $fty:ty ),* $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq)]
        #[cfg_attr(feature = "proptest", derive(proptest_derive::Arbitrary))]
        pub struct $name {
            $( $(#[$fmeta])* pub $field: $fty, )*
        }

        impl $crate::wire::Wire for $name {
            #[inline]
            fn wire_len(&self, _d: $crate::Dialect) -> Result<usize, $crate::EncodeError> {
                Ok(0 $( + $crate::wire::Wire::wire_len(&self.$field, _d)? )*)
            }
            #[inline]
            fn put<B: bytes::BufMut>(&self, _w: &mut $crate::wire::Writer<'_, B>, _d: $crate::Dialect) {
                $( $crate::wire::Wire::put(&self.$field, _w, _d); )*
            }
            #[inline]
            fn get(
                _r: &mut $crate::wire::Reader<'_>,
                _d: $crate::Dialect,
            ) -> Result<Self, $crate::wire::Fault> {
                Ok($name {
                    $( $field: $crate::wire::Wire::get(_r, _d)
                        .map_err(|e| e.in_field(stringify!($field)))?, )*
                })
            }
        }
    };
}
pub(crate) use wire_struct;

/// Implements [`Wire`] (and proptest's `Arbitrary`) for a type carried as
/// an integer: `$to` reads the integer out, `$from` builds the value from
/// any integer (every value is representable, so decoding cannot fail).
macro_rules! wire_as_int {
    ($t:ty, $int:ident, $to:expr, $from:expr) => {
        impl $crate::wire::Wire for $t {
            #[inline(always)]
            fn wire_len(&self, _d: $crate::Dialect) -> Result<usize, $crate::EncodeError> {
                Ok(std::mem::size_of::<$int>())
            }
            #[inline(always)]
            fn put<B: bytes::BufMut>(
                &self,
                w: &mut $crate::wire::Writer<'_, B>,
                d: $crate::Dialect,
            ) {
                let to: fn(&$t) -> $int = $to;
                $crate::wire::Wire::put(&to(self), w, d)
            }
            #[inline(always)]
            fn get(
                r: &mut $crate::wire::Reader<'_>,
                d: $crate::Dialect,
            ) -> Result<Self, $crate::wire::Fault> {
                let from: fn($int) -> $t = $from;
                Ok(from(<$int as $crate::wire::Wire>::get(r, d)?))
            }
        }
        #[cfg(feature = "proptest")]
        impl proptest::arbitrary::Arbitrary for $t {
            type Parameters = ();
            type Strategy = proptest::strategy::Map<proptest::num::$int::Any, fn($int) -> $t>;
            fn arbitrary_with(_: ()) -> Self::Strategy {
                use proptest::strategy::Strategy;
                proptest::num::$int::ANY.prop_map($from)
            }
        }
    };
}
pub(crate) use wire_as_int;

/// [`Wire`] for bitflags types, keeping unknown bits so that the receiver
/// can decide what they mean.
macro_rules! wire_bitflags {
    ($($t:ty => $int:ident;)*) => {$(
        $crate::wire::wire_as_int!($t, $int, |v| v.bits(), <$t>::from_bits_retain);
    )*};
}
pub(crate) use wire_bitflags;

/// [`Wire`] for transparent newtypes over an integer.
macro_rules! wire_newtype {
    ($($t:ident => $int:ident;)*) => {$(
        $crate::wire::wire_as_int!($t, $int, |v| v.0, $t);
    )*};
}
pub(crate) use wire_newtype;

wire_as_int!(crate::Errno, u32, |e| e.get(), crate::Errno::new);
