//! Dialect negotiation on the raw stream, before the connection tasks
//! start: Tversion for each offered dialect in turn, and on `9P2000.L.Z`
//! the Tgetlineage that must follow Rversion.
//!
//! Rules (see `docs/CLIENT.md`):
//! - the offer is tried in order (default `9P2000.L.Z`, `9P2000.L`,
//!   `9P2000.u`, `9P2000`); each Tversion resets the connection;
//! - an Rversion naming exactly the dialect asked for, or another dialect
//!   that comes later in the offer (a server answering `9P2000.L` to
//!   `9P2000.L.Z`), is accepted;
//! - `unknown`, a dialect not offered, Rerror or Rlerror move on to the
//!   next dialect on the same connection;
//! - a server that closes the connection instead makes the caller dial
//!   again and continue with the rest of the offer
//!   ([`Refused::Closed`]);
//! - `9P2000.L.Z` counts only once Tgetlineage succeeded; a server that
//!   echoes `.Z` but refuses Tgetlineage is asked for the next dialect.

use bytes::{Bytes, BytesMut};
use ninefold_proto::{base, framing, sizes, z, Dialect, Frame, Message, NOTAG};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use super::Negotiated;
use crate::error::{Error, Result};

/// The durability lineage a `9P2000.L.Z` server reported (Rgetlineage).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Lineage {
    /// The server's current durability lineage token.
    pub token: u64,
    /// The writer epoch (0 on a standalone server): the origin epoch of
    /// the mutations first sent on this connection.
    pub writer_epoch: u64,
}

/// Why negotiation stopped without a dialect.
#[derive(Debug)]
pub(crate) enum Refused {
    /// The server closed the connection while `offer[next - 1]` was being
    /// tried: dial again and continue from `offer[next..]`.
    Closed { next: usize, why: String },
    /// Nothing in the offer was accepted (or a hard failure).
    Failed(Error),
}

/// The outcome of a successful negotiation.
#[derive(Debug)]
pub(crate) struct Agreed {
    pub(crate) neg: Negotiated,
    pub(crate) lineage: Option<Lineage>,
    /// Bytes read past the last reply.
    pub(crate) rest: BytesMut,
}

/// Negotiates over `r`/`w`, trying `offer[start..]` in order.
pub(crate) async fn negotiate<R, W>(
    r: &mut R,
    w: &mut W,
    msize: u32,
    offer: &[Dialect],
    start: usize,
) -> std::result::Result<Agreed, Refused>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let cf = |m: String| Refused::Failed(Error::ConnectFailed(m));
    if offer.is_empty() {
        return Err(cf("no dialect offered".into()));
    }
    let mut buf = BytesMut::with_capacity(256);
    let mut answers = Vec::new();
    let mut i = start;
    while i < offer.len() {
        let asked = offer[i];
        i += 1;
        let tv = Frame::new(NOTAG, base::Tversion { msize, version: asked.version().into() });
        let reply = match exchange(r, w, &mut buf, tv, Dialect::L, msize).await {
            Ok(Some(f)) => f,
            Ok(None) => {
                return Err(Refused::Closed {
                    next: i,
                    why: format!("server closed the connection on Tversion {}", asked.version()),
                })
            }
            Err(e) => return Err(cf(e)),
        };
        let got = match decode_version_reply(reply) {
            Ok(rv) => rv,
            Err(why) => {
                answers.push(format!("{}: {why}", asked.version()));
                continue;
            }
        };
        let Some(dialect) = Dialect::from_version(got.version.as_bytes()) else {
            answers.push(format!("{}: answered {}", asked.version(), got.version));
            continue;
        };
        // The dialect asked for, or one offered later (a downgrade).
        if dialect != asked && !offer[i..].contains(&dialect) {
            answers.push(format!("{}: answered {}", asked.version(), got.version));
            continue;
        }
        if got.msize < sizes::MIN_MSIZE || got.msize > msize {
            return Err(cf(format!("server msize {} unusable (asked {msize})", got.msize)));
        }
        let neg = Negotiated { msize: got.msize, dialect };
        if dialect != Dialect::Z {
            return Ok(Agreed { neg, lineage: None, rest: buf });
        }
        let tl = Frame::new(0, z::Tgetlineage);
        match exchange(r, w, &mut buf, tl, Dialect::Z, got.msize).await {
            Ok(Some(frame)) => match Frame::decode(frame, Dialect::Z).map(|f| f.message) {
                Ok(Message::Rgetlineage(l)) => {
                    let lineage = Lineage { token: l.token, writer_epoch: l.writer_epoch };
                    return Ok(Agreed { neg, lineage: Some(lineage), rest: buf });
                }
                Ok(Message::Rlerror(e)) => {
                    answers.push(format!("Tgetlineage: errno {}", e.ecode.get()));
                }
                Ok(other) => answers.push(format!("Tgetlineage: {}", other.name())),
                Err(e) => answers.push(format!("Tgetlineage: bad reply: {e}")),
            },
            Ok(None) => {
                return Err(Refused::Closed {
                    next: i,
                    why: "server closed the connection on Tgetlineage".into(),
                })
            }
            Err(e) => return Err(cf(e)),
        }
    }
    Err(cf(format!("no dialect accepted ({})", answers.join("; "))))
}

/// The Rversion of a reply frame, or why it is a refusal.
fn decode_version_reply(frame: Bytes) -> std::result::Result<base::Rversion, String> {
    let ty = frame.get(4).copied().unwrap_or(0);
    // Rversion has one layout in every dialect; decode errors by their
    // own dialect.
    let dialects: &[Dialect] = match ty {
        7 => &[Dialect::L],
        107 => &[Dialect::U, Dialect::Base],
        _ => &[Dialect::L],
    };
    let mut last = String::new();
    for &d in dialects {
        match Frame::decode(frame.clone(), d).map(|f| f.message) {
            Ok(Message::Rversion(rv)) => return Ok(rv),
            Ok(Message::Rlerror(e)) => return Err(format!("Rlerror errno {}", e.ecode.get())),
            Ok(Message::Rerror(e)) => return Err(format!("Rerror {}", e.ename)),
            Ok(other) => return Err(format!("unexpected {}", other.name())),
            Err(e) => last = format!("bad reply: {e}"),
        }
    }
    Err(last)
}

/// Writes `frame`, reads one reply frame (`None`: the server closed).
async fn exchange<R, W>(
    r: &mut R,
    w: &mut W,
    buf: &mut BytesMut,
    frame: Frame,
    dialect: Dialect,
    msize: u32,
) -> std::result::Result<Option<Bytes>, String>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let name = frame.message.name();
    let mut out = BytesMut::new();
    frame.encode(dialect, &mut out).map_err(|e| format!("encode {name}: {e}"))?;
    if let Err(e) = w.write_all(&out).await {
        return closed_or(e, name);
    }
    if let Err(e) = w.flush().await {
        return closed_or(e, name);
    }
    let frame_len = loop {
        match framing::check(buf, msize) {
            Ok(framing::FrameStatus::Complete { frame_len }) => break frame_len,
            Ok(framing::FrameStatus::Incomplete { .. }) => {}
            Err(e) => return Err(format!("bad reply to {name}: {e}")),
        }
        buf.reserve(256);
        match r.read_buf(buf).await {
            Ok(0) => return Ok(None),
            Ok(_) => {}
            Err(e) => return closed_or(e, name),
        }
    };
    Ok(Some(buf.split_to(frame_len).freeze()))
}

/// A reset or broken pipe is the server closing; other errors fail.
fn closed_or(e: std::io::Error, name: &str) -> std::result::Result<Option<Bytes>, String> {
    use std::io::ErrorKind::*;
    match e.kind() {
        ConnectionReset | BrokenPipe | ConnectionAborted | UnexpectedEof => Ok(None),
        _ => Err(format!("{name}: {e}")),
    }
}

/// The dialects a client offers by default, best first.
pub const DEFAULT_DIALECTS: [Dialect; 4] = [Dialect::Z, Dialect::L, Dialect::U, Dialect::Base];

/// A negotiation result as a plain `Result` (a closed connection is a
/// connect failure), for callers that cannot dial again.
pub(crate) fn refused_error(r: Refused) -> Error {
    match r {
        Refused::Closed { why, .. } => Error::ConnectFailed(why),
        Refused::Failed(e) => e,
    }
}

/// Checks a dialect list: non-empty, no repeats.
pub(crate) fn check_offer(offer: &[Dialect]) -> Result<()> {
    if offer.is_empty() {
        return Err(Error::invalid("the dialect offer is empty"));
    }
    for (i, d) in offer.iter().enumerate() {
        if offer[..i].contains(d) {
            return Err(Error::invalid(format!("{} offered twice", d.version())));
        }
    }
    Ok(())
}
