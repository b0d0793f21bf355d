//! Decode and encode errors.
//!
//! A [`DecodeError`] keeps the frame header when it was readable, so a server
//! can still answer the request's tag with an error, and says whether the
//! byte stream can continue ([`DecodeError::is_fatal`]).

use std::fmt;

use thiserror::Error;

use crate::{Dialect, Errno, Header};

/// What was wrong with a received frame.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum DecodeErrorKind {
    /// The size field is smaller than the 7-byte header.
    #[error("frame size {size} is smaller than the 7-byte header")]
    FrameTooShort {
        /// The size field.
        size: u32,
    },
    /// The size field exceeds the negotiated maximum (msize).
    #[error("frame size {size} exceeds the limit of {max} bytes")]
    FrameTooLarge {
        /// The size field.
        size: u32,
        /// The limit in force.
        max: u32,
    },
    /// The buffer handed to [`Frame::decode`](crate::Frame::decode) is not
    /// exactly one frame long.
    #[error("the size field says {declared} bytes but the frame holds {actual}")]
    SizeMismatch {
        /// The size field.
        declared: u32,
        /// The bytes actually given.
        actual: usize,
    },
    /// The type number has no message in the connection's dialect.
    #[error("message type {ty} is not part of {dialect}")]
    UnknownType {
        /// The type byte.
        ty: u8,
        /// The dialect whose table was consulted.
        dialect: Dialect,
    },
    /// A field runs past the end of the frame (or of its enclosing record).
    #[error("truncated: {needed} bytes needed, {remaining} left")]
    Truncated {
        /// Bytes the field needs.
        needed: usize,
        /// Bytes that were left.
        remaining: usize,
    },
    /// Bytes remain after the last field of the body (or of a record).
    #[error("{count} unexpected bytes after the last field")]
    TrailingBytes {
        /// How many bytes were left over.
        count: usize,
    },
    /// A walk carries more than 16 names or qids.
    #[error("{count} walk elements exceed the maximum of 16")]
    TooManyWalkElements {
        /// The count on the wire.
        count: u16,
    },
    /// A field holds a value its layout does not allow.
    #[error("invalid value: {0}")]
    Invalid(&'static str),
}

/// A frame that could not be decoded.
///
/// ```
/// use bytes::Bytes;
/// use ninefold_proto::{Dialect, Errno, Frame};
///
/// // Tlopen (type 12) is not a 9P2000.u message.
/// let raw = Bytes::from_static(&[15, 0, 0, 0, 12, 1, 0, 1, 0, 0, 0, 0, 0, 0, 0]);
/// let err = Frame::decode(raw, Dialect::U).unwrap_err();
/// assert_eq!(err.tag(), Some(1));
/// assert_eq!(err.errno(), Errno::ENOSYS);
/// assert!(!err.is_fatal());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{}{kind}", Context(self))]
pub struct DecodeError {
    kind: DecodeErrorKind,
    header: Option<Header>,
    message: Option<&'static str>,
    field: Option<&'static str>,
}

struct Context<'a>(&'a DecodeError);

impl fmt::Display for Context<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let e = self.0;
        match (e.message, e.header) {
            (Some(name), Some(h)) => write!(f, "{name} (tag {}): ", h.tag)?,
            (None, Some(h)) => write!(f, "type {} (tag {}): ", h.ty, h.tag)?,
            _ => {}
        }
        if let Some(field) = e.field {
            write!(f, "field `{field}`: ")?;
        }
        Ok(())
    }
}

impl DecodeError {
    pub(crate) fn new(kind: DecodeErrorKind) -> DecodeError {
        DecodeError { kind, header: None, message: None, field: None }
    }

    /// A decode error from a body fault, with the fault's field.
    pub(crate) fn from_fault(
        fault: crate::wire::Fault,
        message: Option<&'static str>,
    ) -> DecodeError {
        DecodeError::new(fault.kind().clone()).with_place(message, fault.field())
    }

    pub(crate) fn with_header(mut self, header: Header) -> DecodeError {
        self.header = Some(header);
        self
    }

    pub(crate) fn with_place(
        mut self,
        message: Option<&'static str>,
        field: Option<&'static str>,
    ) -> DecodeError {
        self.message = message;
        self.field = field;
        self
    }

    /// What went wrong.
    pub fn kind(&self) -> &DecodeErrorKind {
        &self.kind
    }

    /// The frame header, when the 7 header bytes were present and sane.
    pub fn header(&self) -> Option<Header> {
        self.header
    }

    /// The tag of the offending frame, so that a server can answer it.
    pub fn tag(&self) -> Option<u16> {
        self.header.map(|h| h.tag)
    }

    /// The message name (`"Twalk"`), when the type was known.
    pub fn message_name(&self) -> Option<&'static str> {
        self.message
    }

    /// The innermost field the error happened in, when known.
    pub fn field(&self) -> Option<&'static str> {
        self.field
    }

    /// Whether the byte stream is lost: the frame boundary itself could not
    /// be trusted, so nothing after it can be decoded. A non-fatal error
    /// affects one well-framed request, which should get an error reply.
    pub fn is_fatal(&self) -> bool {
        matches!(
            self.kind,
            DecodeErrorKind::FrameTooShort { .. }
                | DecodeErrorKind::FrameTooLarge { .. }
                | DecodeErrorKind::SizeMismatch { .. }
        )
    }

    /// The errno a server answers a non-fatal error with: `EOPNOTSUPP` for a
    /// ZeroFS private type in a plain 9P2000.L connection (the ZeroFS rule),
    /// `ENOSYS` for any other unknown type, `EINVAL` for a malformed body.
    pub fn errno(&self) -> Errno {
        match self.kind {
            DecodeErrorKind::UnknownType { ty, dialect: Dialect::L } if ty >= 228 => {
                Errno::EOPNOTSUPP
            }
            DecodeErrorKind::UnknownType { .. } => Errno::ENOSYS,
            DecodeErrorKind::FrameTooLarge { .. } => Errno::EMSGSIZE,
            _ => Errno::EINVAL,
        }
    }
}

/// A message that cannot be put on the wire as given.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum EncodeError {
    /// A string is longer than the 65535 bytes its `len[2]` prefix can say.
    #[error("string of {len} bytes exceeds the 65535-byte limit")]
    StringTooLong {
        /// The string's length.
        len: usize,
    },
    /// A walk has more than 16 names or qids.
    #[error("{count} walk elements exceed the maximum of 16")]
    TooManyWalkElements {
        /// The list's length.
        count: usize,
    },
    /// A payload does not fit its `count[4]`.
    #[error("payload of {len} bytes does not fit a 32-bit count")]
    PayloadTooLong {
        /// The payload's length.
        len: usize,
    },
    /// A 9P2000 `stat` record does not fit its `size[2]`.
    #[error("stat record of {len} bytes exceeds the 65535-byte limit")]
    StatTooLong {
        /// The record's length.
        len: usize,
    },
    /// The message does not exist in the dialect.
    #[error("{message} is not part of {dialect}")]
    NotInDialect {
        /// The message name.
        message: &'static str,
        /// The dialect asked for.
        dialect: Dialect,
    },
    /// An envelope was supplied for a message that does not carry one in this
    /// dialect (only covered mutations in 9P2000.L.Z do).
    #[error("{message} carries no mutation envelope in {dialect}")]
    UnexpectedEnvelope {
        /// The message name.
        message: &'static str,
        /// The dialect asked for.
        dialect: Dialect,
    },
    /// The frame is larger than the limit in force.
    #[error("frame of {size} bytes exceeds the limit of {max} bytes")]
    FrameTooLarge {
        /// The encoded size.
        size: usize,
        /// The limit in force.
        max: u32,
    },
    /// The destination buffer cannot hold the frame.
    #[error("buffer has room for {available} bytes, the frame needs {needed}")]
    BufferTooSmall {
        /// The encoded size.
        needed: usize,
        /// Room left in the buffer.
        available: usize,
    },
}
