//! Cutting a byte stream into frames, for any transport.
//!
//! A 9P frame announces its own length in its first four bytes. [`check`]
//! looks at the bytes received so far and says whether a whole frame is
//! there, rejecting an announced size above the limit before the caller
//! reserves room for it.
//!
//! ```
//! use ninefold_proto::framing::{check, FrameStatus};
//!
//! let stream = [11u8, 0, 0, 0, 120, 1, 0, 9, 0, 0, 0, 0xaa];
//! assert_eq!(check(&stream[..2], 8192)?, FrameStatus::Incomplete { frame_len: None });
//! assert_eq!(check(&stream[..6], 8192)?, FrameStatus::Incomplete { frame_len: Some(11) });
//! assert_eq!(check(&stream, 8192)?, FrameStatus::Complete { frame_len: 11 });
//!
//! let huge = [0xff, 0xff, 0xff, 0x7f, 117, 0, 0];
//! assert!(check(&huge, 8192).unwrap_err().is_fatal());
//! # Ok::<(), ninefold_proto::DecodeError>(())
//! ```

use crate::error::{DecodeError, DecodeErrorKind};
use crate::Header;

/// What [`check`] found at the start of a buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FrameStatus {
    /// Not a whole frame yet. `frame_len` is the announced length once the
    /// four size bytes have arrived (already validated against the limit).
    Incomplete {
        /// The announced frame length, when known.
        frame_len: Option<usize>,
    },
    /// A whole frame of `frame_len` bytes starts the buffer.
    Complete {
        /// Length of the frame, header included.
        frame_len: usize,
    },
}

/// Looks for a frame at the start of `buf`, with `max_size` (the negotiated
/// msize) as the largest acceptable frame.
///
/// An announced size below the 7-byte header or above `max_size` is a fatal
/// [`DecodeError`]: the stream cannot be resynchronised.
pub fn check(buf: &[u8], max_size: u32) -> Result<FrameStatus, DecodeError> {
    let Some(size) = buf.get(..4) else {
        return Ok(FrameStatus::Incomplete { frame_len: None });
    };
    let size = u32::from_le_bytes([size[0], size[1], size[2], size[3]]);
    let err = |kind| {
        let e = DecodeError::new(kind);
        match Header::parse(buf) {
            Some(h) => Err(e.with_header(h)),
            None => Err(e),
        }
    };
    if (size as usize) < Header::LEN {
        return err(DecodeErrorKind::FrameTooShort { size });
    }
    if size > max_size {
        return err(DecodeErrorKind::FrameTooLarge { size, max: max_size });
    }
    let frame_len = size as usize;
    if buf.len() < frame_len {
        Ok(FrameStatus::Incomplete { frame_len: Some(frame_len) })
    } else {
        Ok(FrameStatus::Complete { frame_len })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_below_seven_is_fatal() {
        let e = check(&[6, 0, 0, 0, 100, 0xff, 0xff], 8192).unwrap_err();
        assert!(e.is_fatal());
        assert_eq!(e.kind(), &DecodeErrorKind::FrameTooShort { size: 6 });
    }

    #[test]
    fn exactly_max_is_accepted() {
        let mut buf = vec![0u8; 4096];
        buf[..4].copy_from_slice(&4096u32.to_le_bytes());
        assert_eq!(check(&buf, 4096).unwrap(), FrameStatus::Complete { frame_len: 4096 });
        assert!(check(&buf, 4095).is_err());
    }

    #[test]
    fn oversize_is_rejected_from_the_size_bytes_alone() {
        let e = check(&[0x01, 0x00, 0x10, 0x00], 8192).unwrap_err();
        assert_eq!(e.kind(), &DecodeErrorKind::FrameTooLarge { size: 0x0010_0001, max: 8192 });
        assert_eq!(e.tag(), None);
    }
}
