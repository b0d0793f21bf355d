//! [`Codec`]: frames in and out of a byte buffer, for stream transports.

use bytes::BytesMut;

use crate::error::{DecodeError, EncodeError};
use crate::framing::{check, FrameStatus};
use crate::{Dialect, Frame};

/// A stateful frame codec for one connection: the dialect and frame limit
/// in force, applied to a receive buffer and a send buffer.
///
/// It follows the `tokio_util::codec` contract: [`decode`](Codec::decode)
/// consumes only whole frames and answers `Ok(None)` while one is
/// incomplete. With the `tokio-codec` feature, `Codec` implements
/// `tokio_util::codec::{Decoder, Encoder}`, yielding recoverable errors as
/// items and fatal ones as `CodecError`.
///
/// ```
/// use bytes::BytesMut;
/// use ninefold_proto::{base, Codec, Dialect, Frame, Message};
///
/// let mut codec = Codec::new(Dialect::L, 8192);
/// let mut wire = BytesMut::new();
/// codec.encode(&Frame::new(5, base::Tclunk { fid: 9 }), &mut wire)?;
///
/// let mut rx = BytesMut::new();
/// rx.extend_from_slice(&wire[..3]);
/// assert!(codec.decode(&mut rx)?.is_none()); // partial frame
/// rx.extend_from_slice(&wire[3..]);
/// let frame = codec.decode(&mut rx)?.expect("a whole frame");
/// assert_eq!(frame.message, Message::Tclunk(base::Tclunk { fid: 9 }));
/// assert!(rx.is_empty());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct Codec {
    dialect: Dialect,
    max_size: u32,
}

impl Codec {
    /// A codec for `dialect` accepting frames of at most `max_size` bytes.
    pub fn new(dialect: Dialect, max_size: u32) -> Codec {
        Codec { dialect, max_size }
    }

    /// The dialect frames are decoded and encoded in.
    pub fn dialect(&self) -> Dialect {
        self.dialect
    }

    /// Switches dialect (after Tversion/Rversion).
    pub fn set_dialect(&mut self, dialect: Dialect) {
        self.dialect = dialect;
    }

    /// The largest frame accepted or produced.
    pub fn max_size(&self) -> u32 {
        self.max_size
    }

    /// Changes the frame limit (to the negotiated msize).
    pub fn set_max_size(&mut self, max_size: u32) {
        self.max_size = max_size;
    }

    /// Takes one whole frame off the front of `buf`.
    ///
    /// `Ok(None)`: incomplete; more bytes are needed (room for the announced
    /// frame has been reserved, never more than the limit). `Err` with
    /// [`is_fatal`](DecodeError::is_fatal): the size field is bad and the
    /// stream is lost. Any other `Err`: the frame was consumed but its body
    /// is bad; the error carries the tag to answer.
    pub fn decode(&mut self, buf: &mut BytesMut) -> Result<Option<Frame>, DecodeError> {
        match check(buf, self.max_size)? {
            FrameStatus::Incomplete { frame_len } => {
                if let Some(len) = frame_len {
                    buf.reserve(len - buf.len());
                }
                Ok(None)
            }
            FrameStatus::Complete { frame_len } => {
                let frame = buf.split_to(frame_len).freeze();
                Frame::decode(frame, self.dialect).map(Some)
            }
        }
    }

    /// Appends `frame` to `buf`, refusing frames above the limit. Nothing is
    /// written on error.
    pub fn encode(&mut self, frame: &Frame, buf: &mut BytesMut) -> Result<(), EncodeError> {
        let len = frame.encoded_len(self.dialect)?;
        if len > self.max_size as usize {
            return Err(EncodeError::FrameTooLarge { size: len, max: self.max_size });
        }
        buf.reserve(len);
        frame.encode(self.dialect, buf)?;
        Ok(())
    }
}

#[cfg(feature = "tokio-codec")]
mod tokio_impl {
    use super::*;

    /// Fatal errors of the `tokio_util` codec: the connection cannot go on.
    /// Recoverable per-frame errors are yielded as `Err` items instead.
    #[derive(Debug, thiserror::Error)]
    #[non_exhaustive]
    pub enum CodecError {
        /// The transport failed.
        #[error(transparent)]
        Io(#[from] std::io::Error),
        /// A frame's size field is out of bounds; the stream is lost.
        #[error(transparent)]
        Framing(DecodeError),
        /// A frame could not be encoded.
        #[error(transparent)]
        Encode(#[from] EncodeError),
    }

    impl tokio_util::codec::Decoder for Codec {
        /// A frame, or a decode error for one well-framed but bad frame
        /// (answer its tag and carry on).
        type Item = Result<Frame, DecodeError>;
        type Error = CodecError;

        fn decode(&mut self, src: &mut BytesMut) -> Result<Option<Self::Item>, CodecError> {
            match Codec::decode(self, src) {
                Ok(Some(frame)) => Ok(Some(Ok(frame))),
                Ok(None) => Ok(None),
                Err(e) if e.is_fatal() => Err(CodecError::Framing(e)),
                Err(e) => Ok(Some(Err(e))),
            }
        }
    }

    impl tokio_util::codec::Encoder<&Frame> for Codec {
        type Error = CodecError;

        fn encode(&mut self, frame: &Frame, dst: &mut BytesMut) -> Result<(), CodecError> {
            Ok(Codec::encode(self, frame, dst)?)
        }
    }

    impl tokio_util::codec::Encoder<Frame> for Codec {
        type Error = CodecError;

        fn encode(&mut self, frame: Frame, dst: &mut BytesMut) -> Result<(), CodecError> {
            Ok(Codec::encode(self, &frame, dst)?)
        }
    }
}

#[cfg(feature = "tokio-codec")]
#[cfg_attr(docsrs, doc(cfg(feature = "tokio-codec")))]
pub use tokio_impl::CodecError;
