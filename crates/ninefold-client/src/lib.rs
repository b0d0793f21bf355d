//! An async 9P client: a multiplexed low-level [`Session`] and a
//! path-based [`Client`] with [`File`] and [`Dir`] handles.
//!
//! It negotiates ZeroFS's `9P2000.L.Z` (one-round-trip messages,
//! exactly-once mutations, durability lineage) and falls back to plain
//! 9P2000.L, 9P2000.u and 9P2000 ([`ConnectOptions::dialects`],
//! [`Capabilities`]), so it talks to Ninefold's server, ZeroFS, diod,
//! QEMU's and Plan 9 style servers, over TCP or a unix socket. What a
//! dialect cannot express is [`Error::Unsupported`]. `docs/CLIENT.md` has
//! the wire plans and round trips per call in each dialect. Paths are bytes, as on POSIX and the
//! wire: every path parameter is `impl AsRef<Path>`, so non-UTF-8 names
//! work with no separate API.
//!
//! ```no_run
//! # async fn demo() -> ninefold_client::Result<()> {
//! use ninefold_client::{Client, ConnectOptions, OpenOptions};
//!
//! let opts = ConnectOptions::new().aname("/srv/export").msize(256 * 1024);
//! let fs = Client::connect_with("tcp://127.0.0.1:5640", opts).await?;
//! fs.create_dir_all("/demo", 0o755).await?;
//! fs.write("/demo/notes.txt", b"hello from ninefold").await?;
//! let data = fs.read("/demo/notes.txt").await?;
//! let meta = fs.metadata("/demo/notes.txt").await?;
//! assert_eq!(data.len() as u64, meta.size);
//!
//! let f = fs.open("/demo/data.bin", OpenOptions::new().write(true).create(true)).await?;
//! f.write_at(0, &[0u8; 4096]).await?;
//! f.sync_all().await?;
//! f.close().await?;
//!
//! let dir = fs.open_dir("/demo").await?;
//! loop {
//!     let batch = dir.next_batch(None).await?;
//!     if batch.is_empty() { break; }
//!     for entry in batch { println!("{}", entry.name); }
//! }
//! fs.remove_dir_all("/demo").await?;
//! # Ok(()) }
//! ```
//!
//! # Connection targets
//!
//! `unix:/path`, `tcp://host:port`, `host:port`, `host` (port 5564) and
//! bare paths starting with `/` or `.` (unix socket); see [`Target`].
//!
//! # Lifecycles
//!
//! - **Close and drop.** `close()` marks a handle closed at once (later
//!   calls return [`Error::Closed`]), is idempotent and never waits. A
//!   handle's fid is clunked in the background when the handle is dropped
//!   or closed, and its number is reused only after Rclunk, so a
//!   long-running client never exhausts fids.
//! - **Cancellation.** Every public future is cancel-safe: dropped at any
//!   await point it leaks no fid and no tag. A request already sent is
//!   flushed (Tflush); its tag stays reserved until the reply or Rflush
//!   arrives, and a fid it may have bound is clunked once the outcome is
//!   known. Bound waits with `tokio::time::timeout`.
//! - **Concurrency.** One connection carries every call: requests are
//!   pipelined (at most [`ConnectOptions::max_in_flight`] at once), large
//!   reads and writes are split by msize with several chunks in flight,
//!   and Twrite payloads go out as their own segment of a vectored write.
//!   Read replies are handed back as [`Bytes`] slices of the received
//!   frame.
//! - **Connection loss.** A [`Client`] made by [`Client::connect`] or
//!   [`Client::connect_with`] reconnects forever: a background task dials
//!   again with exponential backoff ([`BACKOFF_MIN`] doubling to
//!   [`BACKOFF_MAX`]), redoes Tversion + Tattach with the original
//!   [`ConnectOptions`] and bumps [`Client::generation`]. While the server
//!   is unreachable, calls block rather than fail (bound them with
//!   `tokio::time::timeout`). A call in flight when the connection drops
//!   is sent again from the start: on `9P2000.L.Z` its mutations carry
//!   the same op ids with RETRY, so the server applies them exactly once
//!   (within [`RETRY_HORIZON`]); on plain dialects a non-idempotent one
//!   (create, rename, unlink) can apply twice. Open [`File`] and [`Dir`]
//!   handles are restored lazily, on their own first use after a
//!   reconnect (at most [`RESTORE_CONCURRENCY`] at once): Trebind of their
//!   qid.path on `.Z`, else a walk of their canonical path that must reach
//!   the same qid.path, then a reopen with the saved flags (less CREATE,
//!   EXCL and TRUNC); a handle that cannot be restored fails with
//!   [`Error::Stale`]. [`Capabilities`] is a snapshot of the
//!   current connection and can change across reconnects. The task ends
//!   when the client and every handle made from it are dropped. A raw
//!   [`Session`] is one connection and never reconnects (nor does a
//!   client built with [`Client::from_parts`]): once it dies, its calls
//!   fail with a [`Protocol`](Error::Protocol) error
//!   ([`Error::is_disconnected`]).
//!
//! # Design
//!
//! | piece | where | what |
//! |---|---|---|
//! | writer task | `session/conn.rs` | owns the write half; drains queued frames into one `writev` (Twrite payloads are their own segment) |
//! | reader task | `session/conn.rs` | owns the read half; cuts frames with `ninefold_proto::Codec` (payloads stay slices of the received buffer) and routes each to its tag |
//! | reaper task | `session/conn.rs` | sends Tclunk for dropped fids, returns the number to the pool after Rclunk |
//! | tag table | `session/tags.rs` | `tag → Waiting / Abandoned / Settled / Flush`; a short `std` mutex, never held across an await |
//! | fid pool | `session/fid.rs` | numbers from 1, LIFO reuse; [`Fid`] is the owning handle |
//! | in-flight bound | `session/mod.rs` | a semaphore permit per request, held until its tag is free |
//! | message calls | `session/msg/` | one method per wire message, one file per proto stem |
//! | operations | `op/` | one struct per public call: what it names, whether it mutates, its plan; `Client::run` runs and retries them |
//!
//! A tag's life: reserved with a permit → frame queued → reply routed to
//! the waiter and the tag freed. If the waiter is dropped first, the slot
//! becomes *Abandoned* and a Tflush goes out on a fresh tag; the old tag
//! is freed only when the Rflush arrives (its reply, if it comes first,
//! settles the request but does not free the tag). Calls that bind a fid
//! (Tattach, Twalk) carry the fid in the slot, so that an abandoned one
//! clunks it only once the server's answer says it may be bound.
//!
//! Dialects: negotiation tries each offered dialect in turn
//! (`session/negotiate.rs`); each operation's plan branches on the
//! negotiated one (`op/`, `op/plan9.rs`); op ids for the `.Z` envelope are
//! minted per logical mutation by the runner (`opid.rs`).
//!
//! Logical operations (`op/`): every public call of [`Client`], [`File`]
//! and [`Dir`] that talks to the server is one operation, a struct with
//! its facts (what it names, whether it mutates) and its plan (the
//! message-level calls that do the work). One runner runs them all: it
//! restores the handles an operation names on the live connection, runs
//! the plan, and on a lost-connection error waits for a newer generation
//! and runs it again. A new operation is one struct and one plan.
//!
//! Reconnect (`reconnect.rs`, `restore.rs`): the client holds its current
//! connection (session, root fid, generation) behind a lock; a supervisor
//! task waits for [`Session::closed`], reconnects and publishes the next
//! generation, replaying nothing. Calls naming a fid go to the session
//! that fid belongs to ([`Fid::session`]), never to a newer one where its
//! number could mean something else; a handle whose fid is on a dead
//! session is restored before its call.
//!
//! Trust: replies that break the protocol's promises (a read longer than
//! asked, readdir cookies that never lead to the end) are
//! [`Protocol`](Error::Protocol) errors, and sizes the server reports do
//! not size allocations.
//!
//! # Features
//!
//! - `tokio-io`: [`File::cursor`] returns a `FileCursor` implementing
//!   `AsyncRead + AsyncWrite + AsyncSeek`.
//! - `stream`: `Dir::entries` returns a `Stream` of [`DirEntry`].
//! - `serde`: `Serialize`/`Deserialize` on the plain data records.
//! - `tls` (default): `tls://` targets ([`TlsOptions`]; rustls with the
//!   ring provider, the system's roots or a given CA, client
//!   certificates). Without it, dialling a `tls://` target fails with
//!   [`Error::Tls`].

#![forbid(unsafe_code)]
#![warn(clippy::unwrap_used)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod client;
mod dir;
mod error;
mod file;
#[cfg(feature = "tokio-io")]
mod io;
mod location;
mod op;
mod opid;
mod options;
mod path;
mod query;
mod reconnect;
mod restore;
mod segments;
mod session;
mod target;
mod tls;
mod types;

/// The README's examples, compiled as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

pub use bytes::Bytes;
pub use client::Client;
pub use dir::Dir;
pub use error::{Error, Result};
pub use file::{File, PIPELINE_DEPTH};
#[cfg(feature = "tokio-io")]
#[cfg_attr(docsrs, doc(cfg(feature = "tokio-io")))]
pub use io::FileCursor;
pub use location::Location;
pub use ninefold_proto as proto;
pub use ninefold_proto::{Dialect, Errno, GetattrMask, OpenFlags, Qid, UnlinkatFlags};
pub use opid::RETRY_HORIZON;
pub use options::{ConnectOptions, NodeKind, OpenOptions, SetAttrs, SetTime, Timestamp};
pub use path::{MAX_NAME_LEN, MAX_SYMLINK_HOPS};
pub use reconnect::{BACKOFF_MAX, BACKOFF_MIN};
pub use restore::RESTORE_CONCURRENCY;
pub use segments::Segments;
pub use session::{
    split_target as split_auth_target, AuthKey, Fid, Lineage, OpenedRead, Session, SessionStats,
    DEFAULT_DIALECTS, DEFAULT_MAX_IN_FLIGHT,
};
pub use target::{Target, DEFAULT_PORT};
pub use tls::{TlsError, TlsErrorKind, TlsOptions, TlsTarget};
pub use types::{Capabilities, DirEntry, FileType, Metadata, StatFs};
