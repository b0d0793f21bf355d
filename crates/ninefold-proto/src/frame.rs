//! [`Frame`]: a tagged message as it travels, with its [`Header`] and, in
//! 9P2000.L.Z, its mutation [`Envelope`].

use bytes::{BufMut, Bytes};

use crate::error::{DecodeError, DecodeErrorKind, EncodeError};
use crate::wire::{Reader, Wire, Writer};
use crate::z::Envelope;
use crate::{Dialect, Message};

/// The tag of Tversion/Rversion: NOTAG.
pub const NOTAG: u16 = 0xFFFF;

/// "No fid": the `afid` of an unauthenticated Tattach.
pub const NOFID: u32 = 0xFFFF_FFFF;

/// "No numeric user id": the `n_uname` value that means "use `uname`", and
/// the value of absent numeric ids in 9P2000.u stat records.
pub const NONUNAME: u32 = 0xFFFF_FFFF;

/// The 7-byte header every frame starts with: `size[4] type[1] tag[2]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Header {
    /// Length of the whole frame, header included.
    pub size: u32,
    /// Message type number.
    pub ty: u8,
    /// Request tag, echoed by the reply.
    pub tag: u16,
}

impl Header {
    /// Encoded length: 7 bytes.
    pub const LEN: usize = 7;

    /// Reads a header from the first 7 bytes of `buf`, or `None` when fewer
    /// are present. The size field is not validated here.
    pub fn parse(buf: &[u8]) -> Option<Header> {
        let b: &[u8; 7] = buf.get(..Header::LEN)?.try_into().ok()?;
        Some(Header {
            size: u32::from_le_bytes([b[0], b[1], b[2], b[3]]),
            ty: b[4],
            tag: u16::from_le_bytes([b[5], b[6]]),
        })
    }
}

/// A message with its tag: one 9P frame.
///
/// `envelope` is the 25-byte ZeroFS mutation envelope, present exactly on
/// the covered mutation requests of a 9P2000.L.Z connection
/// ([`Dialect::has_envelope`]). Decoding sets it there and nowhere else;
/// encoding such a message without one sends [`Envelope::NONE`] (no
/// deduplication), and encoding one elsewhere is an error.
///
/// ```
/// use bytes::BytesMut;
/// use ninefold_proto::{l, Dialect, Frame, OpenFlags};
///
/// let frame = Frame::new(1, l::Tlopen { fid: 7, flags: OpenFlags::RDWR });
/// let mut buf = BytesMut::new();
/// frame.encode(Dialect::L, &mut buf)?;
/// assert_eq!(buf.len(), 15);
///
/// let back = Frame::decode(buf.freeze(), Dialect::L)?;
/// assert_eq!(back, frame);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    /// The tag: chosen by the client, echoed in the reply.
    pub tag: u16,
    /// The mutation envelope (9P2000.L.Z covered requests only).
    pub envelope: Option<Envelope>,
    /// The message.
    pub message: Message,
}

impl Frame {
    /// A frame without envelope.
    pub fn new(tag: u16, message: impl Into<Message>) -> Frame {
        Frame { tag, envelope: None, message: message.into() }
    }

    /// The same frame carrying `envelope`.
    pub fn with_envelope(mut self, envelope: Envelope) -> Frame {
        self.envelope = Some(envelope);
        self
    }

    /// The encoded size in `dialect`, validating everything the encoder
    /// checks (the message exists in the dialect, string and walk limits,
    /// envelope placement).
    pub fn encoded_len(&self, dialect: Dialect) -> Result<usize, EncodeError> {
        parts_len(self.envelope.as_ref(), &self.message, dialect)
    }

    /// Encodes the frame at the end of `out`, returning its length. Nothing
    /// is written when the frame is invalid or `out` lacks room.
    pub fn encode<B: BufMut>(&self, dialect: Dialect, out: &mut B) -> Result<usize, EncodeError> {
        let len = self.encoded_len(dialect)?;
        self.write(dialect, out, len, false)?;
        Ok(len)
    }

    /// Like [`encode`](Frame::encode), but a message ending in a payload
    /// ([`Message::payload`]: Rread, Twrite, Rreaddir, ...) has only its head
    /// written to `head`; the payload is returned, uncopied, to be sent right
    /// after it (for example with `write_vectored`).
    ///
    /// ```
    /// use bytes::{Bytes, BytesMut};
    /// use ninefold_proto::{base, Dialect, Frame};
    ///
    /// let data = Bytes::from(vec![7u8; 65536]);
    /// let frame = Frame::new(3, base::Rread { data: data.clone() });
    /// let mut head = BytesMut::new();
    /// let payload = frame.encode_vectored(Dialect::L, &mut head)?;
    /// assert_eq!(head.len(), 11); // size[4] type[1] tag[2] count[4]
    /// assert_eq!(payload, Some(data));
    /// # Ok::<(), ninefold_proto::EncodeError>(())
    /// ```
    pub fn encode_vectored<B: BufMut>(
        &self,
        dialect: Dialect,
        head: &mut B,
    ) -> Result<Option<Bytes>, EncodeError> {
        let len = self.encoded_len(dialect)?;
        self.write(dialect, head, len, true)
    }

    /// [`encode_vectored`](Self::encode_vectored) of the frame `tag`,
    /// `envelope`, `message` without building a [`Frame`]: a server encodes
    /// its replies this way without moving each message into a frame.
    ///
    /// ```
    /// use bytes::{Bytes, BytesMut};
    /// use ninefold_proto::{base, Dialect, Frame, Message};
    ///
    /// let data = Bytes::from(vec![7u8; 65536]);
    /// let reply = Message::from(base::Rread { data: data.clone() });
    /// let mut head = BytesMut::new();
    /// let payload = Frame::encode_parts_vectored(3, None, &reply, Dialect::L, &mut head)?;
    /// assert_eq!(head.len(), 11);
    /// assert_eq!(payload, Some(data));
    /// # Ok::<(), ninefold_proto::EncodeError>(())
    /// ```
    pub fn encode_parts_vectored<B: BufMut>(
        tag: u16,
        envelope: Option<Envelope>,
        message: &Message,
        dialect: Dialect,
        head: &mut B,
    ) -> Result<Option<Bytes>, EncodeError> {
        let len = parts_len(envelope.as_ref(), message, dialect)?;
        write_parts(tag, envelope, message, dialect, head, len, true)
    }

    fn write<B: BufMut>(
        &self,
        dialect: Dialect,
        out: &mut B,
        len: usize,
        vectored: bool,
    ) -> Result<Option<Bytes>, EncodeError> {
        write_parts(self.tag, self.envelope, &self.message, dialect, out, len, vectored)
    }

    /// Decodes one whole frame. `frame` must be exactly the bytes of one
    /// frame (see [`framing`](crate::framing) or [`Codec`](crate::Codec) for
    /// cutting a byte stream into frames); payloads and names in the result
    /// are slices of it, not copies.
    ///
    /// On a non-fatal error the [`DecodeError`] still carries the header, so
    /// a server can answer the tag.
    pub fn decode(frame: Bytes, dialect: Dialect) -> Result<Frame, DecodeError> {
        let header = Header::parse(&frame).ok_or(DecodeError::new(DecodeErrorKind::Truncated {
            needed: Header::LEN,
            remaining: frame.len(),
        }))?;
        if (header.size as usize) < Header::LEN {
            return Err(DecodeError::new(DecodeErrorKind::FrameTooShort { size: header.size }));
        }
        if header.size as usize != frame.len() {
            return Err(DecodeError::new(DecodeErrorKind::SizeMismatch {
                declared: header.size,
                actual: frame.len(),
            }));
        }
        let mut r = Reader::new(&frame, Header::LEN);
        let fail = |fault: crate::wire::Fault, name| {
            DecodeError::from_fault(fault, name).with_header(header)
        };
        let envelope = if dialect.has_envelope(header.ty) {
            Some(Envelope::get(&mut r, dialect).map_err(|f| {
                let name = dialect.message_name(header.ty);
                fail(f.in_field("envelope"), name)
            })?)
        } else {
            None
        };
        let (name, body) = Message::decode_body(header.ty, &mut r, dialect).ok_or_else(|| {
            DecodeError::new(DecodeErrorKind::UnknownType { ty: header.ty, dialect })
                .with_header(header)
        })?;
        let message = body.and_then(|m| r.finish().map(|()| m)).map_err(|f| fail(f, Some(name)))?;
        Ok(Frame { tag: header.tag, envelope, message })
    }
}

/// The encoded size of a frame of `envelope` and `message` in `dialect`
/// (see [`Frame::encoded_len`]).
fn parts_len(
    envelope: Option<&Envelope>,
    m: &Message,
    dialect: Dialect,
) -> Result<usize, EncodeError> {
    if !m.is_in(dialect) {
        return Err(EncodeError::NotInDialect { message: m.name(), dialect });
    }
    let envelope = if dialect.has_envelope(m.msg_type()) {
        Envelope::WIRE_LEN
    } else if envelope.is_some() {
        return Err(EncodeError::UnexpectedEnvelope { message: m.name(), dialect });
    } else {
        0
    };
    Ok(Header::LEN + envelope + m.body_len(dialect)?)
}

/// Writes a frame of `len` bytes (from [`parts_len`]); with `vectored`,
/// a payload is returned instead of written.
fn write_parts<B: BufMut>(
    tag: u16,
    envelope: Option<Envelope>,
    message: &Message,
    dialect: Dialect,
    out: &mut B,
    len: usize,
    vectored: bool,
) -> Result<Option<Bytes>, EncodeError> {
    let size =
        u32::try_from(len).map_err(|_| EncodeError::FrameTooLarge { size: len, max: u32::MAX })?;
    let written = if vectored { len - message.payload().map_or(0, Bytes::len) } else { len };
    if out.remaining_mut() < written {
        return Err(EncodeError::BufferTooSmall {
            needed: written,
            available: out.remaining_mut(),
        });
    }
    let mut w = Writer::new(out, vectored);
    w.u32(size);
    w.u8(message.msg_type());
    w.u16(tag);
    if dialect.has_envelope(message.msg_type()) {
        envelope.unwrap_or(Envelope::NONE).put(&mut w, dialect);
    }
    message.put_body(&mut w, dialect);
    Ok(w.finish())
}

#[cfg(test)]
mod tests {
    use bytes::{Bytes, BytesMut};

    use super::Frame;
    use crate::z::Envelope;
    use crate::{base, l, Dialect, Message};

    /// `encode_parts_vectored` writes what `encode_vectored` of the same
    /// frame writes, and fails the same way.
    #[test]
    fn encoding_from_parts_matches_encoding_a_frame() {
        let mkdir = Message::from(l::Tmkdir { dfid: 1, name: "d".into(), mode: 0o755, gid: 0 });
        let cases: Vec<(Option<Envelope>, Message, Dialect)> = vec![
            (None, base::Rread { data: Bytes::from_static(b"0123456789") }.into(), Dialect::L),
            (
                None,
                l::Rgetattr { valid: crate::GetattrMask::BASIC, attr: l::Attr::default() }.into(),
                Dialect::L,
            ),
            (None, base::Rclunk.into(), Dialect::Base),
            (Some(Envelope::default()), mkdir.clone(), Dialect::Z),
            (None, mkdir.clone(), Dialect::Z),
            // Errors: an envelope where the dialect has none, a message
            // the dialect lacks.
            (Some(Envelope::default()), mkdir, Dialect::L),
            (
                None,
                l::Rgetattr { valid: crate::GetattrMask::BASIC, attr: l::Attr::default() }.into(),
                Dialect::Base,
            ),
        ];
        for (envelope, message, dialect) in cases {
            let mut a = BytesMut::new();
            let mut b = BytesMut::new();
            let parts = Frame::encode_parts_vectored(9, envelope, &message, dialect, &mut a);
            let frame = Frame { tag: 9, envelope, message: message.clone() };
            let whole = frame.encode_vectored(dialect, &mut b);
            match (parts, whole) {
                (Ok(p), Ok(w)) => {
                    assert_eq!(p, w, "{message:?}");
                    assert_eq!(a, b, "{message:?}");
                }
                (Err(p), Err(w)) => assert_eq!(p.to_string(), w.to_string()),
                (p, w) => panic!("{message:?}: {p:?} against {w:?}"),
            }
        }
    }
}
