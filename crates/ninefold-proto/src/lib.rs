//! Sans-IO codec for the 9P family: **9P2000**, **9P2000.u**, **9P2000.L** and
//! the ZeroFS dialect **9P2000.L.Z**.
//!
//! This crate turns bytes into typed messages and back. It does no I/O,
//! spawns nothing and reads no clock: transports, servers and clients are
//! built on top of it (`ninefold-server`, `ninefold-client`).
//!
//! # Layout
//!
//! - [`Frame`] is one message with its tag (and, in 9P2000.L.Z, its
//!   [`z::Envelope`]); [`Message`] is the flat enum of every message,
//!   variants named as on the wire (`Message::Tlopen(l::Tlopen)`).
//! - [`MessageFacts`] says what each message is — its fid fields and their
//!   [`FidRole`], whether it mutates, carries the `.Z` envelope or may be
//!   interrupted by Tflush — declared once on its row of the message table
//!   ([`Message::facts`], [`Message::fids`], [`Dialect::message_facts`]).
//! - Message structs live in one module per dialect that defines them:
//!   [`base`] (9P2000), [`u`] (9P2000.u additions), [`l`] (9P2000.L),
//!   [`z`] (9P2000.L.Z).
//! - [`Dialect`] selects the type table a connection decodes with: the same
//!   type number may be absent, or laid out differently, in another dialect.
//! - [`framing`] and [`Codec`] cut a byte stream into frames, checking the
//!   announced size against msize before anything is reserved.
//! - [`dir`] packs and reads directory entries without splitting one;
//!   [`sizes`] holds the msize/iounit arithmetic; [`flags`] the typed flag
//!   words; [`Errno`] the Linux errno table.
//!
//! # Example
//!
//! ```
//! use bytes::{Bytes, BytesMut};
//! use ninefold_proto::{base, Dialect, Frame, Message};
//!
//! // A client writes a Twrite ...
//! let frame = Frame::new(7, base::Twrite { fid: 3, offset: 0, data: Bytes::from_static(b"hello") });
//! let mut wire = BytesMut::new();
//! frame.encode(Dialect::L, &mut wire)?;
//!
//! // ... and a server decodes it. The payload is a slice of the frame.
//! let frame = Frame::decode(wire.freeze(), Dialect::L)?;
//! match frame.message {
//!     Message::Twrite(w) => assert_eq!(&w.data[..], b"hello"),
//!     other => panic!("unexpected {}", other.name()),
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Guarantees
//!
//! - Decoding never panics and never over-reads: every count and string
//!   length is checked against what remains of the frame before use, walks
//!   are capped at 16 elements before their vector is allocated, and
//!   [`framing::check`] rejects a frame larger than msize from its first four
//!   bytes.
//! - Payloads (`Rread`, `Twrite`, `Rlopenatread`), directory blocks and
//!   strings in a decoded message are zero-copy slices of the received
//!   frame. [`Frame::encode_vectored`] leaves a payload out of the header
//!   buffer so it can be written without a copy.
//! - Strings are bytes: names that are not UTF-8 round-trip unchanged.
//!
//! # Features
//!
//! - `tokio-codec`: `tokio_util::codec::{Decoder, Encoder}` for [`Codec`].
//! - `proptest`: `Arbitrary` for every message and the [`arbitrary`]
//!   strategies, for property tests in dependent crates.

#![forbid(unsafe_code)]
#![warn(clippy::unwrap_used)]
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod base;
pub mod dir;
pub mod flags;
pub mod framing;
pub mod l;
pub mod sizes;
pub mod u;
pub mod z;

#[cfg(feature = "proptest")]
#[cfg_attr(docsrs, doc(cfg(feature = "proptest")))]
pub mod arbitrary;

/// The README's examples, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

mod codec;
mod dialect;
mod errno;
mod error;
mod facts;
mod frame;
mod message;
mod qid;
mod string;
mod wire;

pub use codec::Codec;
#[cfg(feature = "tokio-codec")]
#[cfg_attr(docsrs, doc(cfg(feature = "tokio-codec")))]
pub use codec::CodecError;
pub use dialect::Dialect;
pub use errno::Errno;
pub use error::{DecodeError, DecodeErrorKind, EncodeError};
pub use facts::{FidRole, Fids, MessageFacts, Mutation};
pub use flags::*;
pub use frame::{Frame, Header, NOFID, NONUNAME, NOTAG};
pub use message::Message;
pub use qid::{Qid, QidType};
pub use string::P9String;
pub use wire::MAXWELEM;
