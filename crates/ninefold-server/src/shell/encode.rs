//! Replies encoded for the connection's writer ([`super::writer`]): a
//! reply's head into the connection's head buffer and its payload by
//! reference, or, for an Rread whose payload waits in a pipe, its header
//! with the size and count of the pipe's bytes. A reply that cannot be
//! encoded, or would not fit msize, is answered with an error instead.

use std::collections::VecDeque;

use bytes::{Bytes, BytesMut};
use ninefold_proto::{Dialect, Errno, Frame};
use tracing::{error, trace};

use super::writer::Chunk;
use crate::reply::error_reply;
use crate::splice::Body;

/// Encodes an Rread whose payload waits in a pipe: its header (the codec's
/// Rread with no data, its size and count then set to the pipe's length)
/// and the pipe.
pub(super) fn encode_spliced(
    tag: u16,
    body: Body,
    dialect: Dialect,
    msize: u32,
    head: &mut BytesMut,
    chunks: &mut VecDeque<Chunk>,
) {
    let frame = Frame::new(tag, ninefold_proto::base::Rread { data: Bytes::new() });
    let start = head.len();
    let encoded = frame.encode_vectored(dialect, head);
    let len = head.len() - start;
    let total = len.checked_add(body.len()).and_then(|t| u32::try_from(t).ok());
    let fits = |t: u32| if dialect == Dialect::Z { t <= msize } else { t < msize };
    let no_data = matches!(&encoded, Ok(p) if p.as_ref().is_none_or(Bytes::is_empty));
    match (total, u32::try_from(body.len())) {
        // size[4] Rread[1] tag[2] count[4]
        (Some(total), Ok(count)) if no_data && len == 11 && fits(total) => {
            head[start..start + 4].copy_from_slice(&total.to_le_bytes());
            head[start + 7..start + 11].copy_from_slice(&count.to_le_bytes());
            chunks.push_back(Chunk::Data(head.split().freeze()));
            trace!(tag, len = body.len(), "encoded a spliced Rread");
            chunks.push_back(Chunk::Pipe(body));
        }
        _ => {
            head.truncate(start);
            error!(tag, len = body.len(), msize, "spliced Rread would not fit msize");
            encode(tag, &error_reply(dialect, Errno::EMSGSIZE), dialect, msize, head, chunks);
        }
    }
}

/// Encodes one reply into `chunks`: its head as a slice of `head`, its
/// payload (if any) by reference. A reply that cannot be encoded or would
/// not fit msize is replaced by an error, so the tag is still answered.
pub(super) fn encode(
    tag: u16,
    message: &ninefold_proto::Message,
    dialect: Dialect,
    msize: u32,
    head: &mut BytesMut,
    chunks: &mut VecDeque<Chunk>,
) {
    // Encoded from the message where it is: a `Frame` would be one more
    // copy of it.
    // The Linux dialects keep every reply strictly below msize (the
    // kernel's fd transport drops the connection at `size >= msize`); a
    // `9P2000.L.Z` reply may fill msize exactly, as ZeroFS's client expects.
    let fits = |len: usize| match dialect {
        Dialect::Z => len <= msize as usize,
        _ => len < msize as usize,
    };
    if head.capacity() - head.len() < 64 {
        head.reserve(1024);
    }
    // Encoded first and measured after (the encoder computes the length
    // anyway); what does not fit is taken back and answered with an error.
    let fallback = match Frame::encode_parts_vectored(tag, None, message, dialect, head) {
        Ok(payload) => {
            let len = head.len() + payload.as_ref().map_or(0, Bytes::len);
            if fits(len) {
                chunks.push_back(Chunk::Data(head.split().freeze()));
                if let Some(p) = payload.filter(|p| !p.is_empty()) {
                    chunks.push_back(Chunk::Data(p));
                }
                trace!(tag, message = message.name(), "encoded");
                return;
            }
            head.clear();
            error!(
                tag = tag,
                message = message.name(),
                len,
                msize = msize,
                "reply would reach msize"
            );
            Errno::EMSGSIZE
        }
        Err(e) => {
            error!(tag = tag, message = message.name(), error = %e, "reply cannot be encoded");
            Errno::EIO
        }
    };
    let frame = Frame::new(tag, error_reply(dialect, fallback));
    match frame.encode_vectored(dialect, head) {
        Ok(payload) => {
            chunks.push_back(Chunk::Data(head.split().freeze()));
            if let Some(p) = payload.filter(|p| !p.is_empty()) {
                chunks.push_back(Chunk::Data(p));
            }
        }
        Err(e) => error!(tag = tag, error = %e, "error reply cannot be encoded"),
    }
}
