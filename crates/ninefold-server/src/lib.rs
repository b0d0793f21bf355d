//! An async 9P server for 9P2000, 9P2000.u and 9P2000.L clients, built on
//! the sans-IO codec [`ninefold_proto`].
//!
//! # Serving a tree
//!
//! Implement [`Node`] for the objects of your tree (only the operations
//! they support: the rest answer ENOSYS), optionally a [`Handle`] for
//! per-open state, and hand the root to a [`Server`]:
//!
//! ```no_run
//! use std::sync::Arc;
//! use async_trait::async_trait;
//! use ninefold_proto::l::Attr;
//! use ninefold_proto::{GetattrMask, Qid, QidType, S_IFDIR};
//! use ninefold_server::{Node, Request, Result, Server};
//!
//! #[derive(Debug)]
//! struct EmptyDir;
//!
//! #[async_trait]
//! impl Node for EmptyDir {
//!     fn qid(&self) -> Qid {
//!         Qid { ty: QidType::DIR, version: 0, path: 1 }
//!     }
//!     async fn getattr(&self, _req: &Request, _mask: GetattrMask) -> Result<Attr> {
//!         Ok(Attr { qid: self.qid(), mode: S_IFDIR | 0o755, nlink: 2, ..Attr::default() })
//!     }
//! }
//!
//! # async fn run() -> std::io::Result<()> {
//! let root: Arc<dyn Node> = Arc::new(EmptyDir);
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:5564").await?;
//! Server::new(root).serve_tcp(listener).await
//! # }
//! ```
//!
//! # What the server does for every filesystem
//!
//! - Version negotiation (9P2000.L, 9P2000.u, 9P2000; msize = min(client,
//!   server max), at least 4096); a Tversion mid-connection drains and
//!   resets the connection.
//! - Fid bookkeeping: walks (16 names, `..` clamped at the root, names
//!   checked before a node sees them), partial walks that bind nothing,
//!   clunk after every earlier request on the fid, xattr two-phase
//!   commits, EMFILE at the fid limit.
//! - Concurrency up to `max_inflight` per connection, replies written with
//!   vectored I/O (payloads are not copied into frames).
//! - Tflush: queued requests are dropped, running reads/writes/locks are
//!   cancelled, mutations finish, and Rflush always follows the original
//!   reply (or its suppression). A flush of an unknown tag gets Rflush.
//! - 9P2000 and 9P2000.u mapped onto the same [`Node`] methods (Topen,
//!   Tcreate with every .u extension, Tstat, Twstat, Tremove, directory
//!   Tread as stat records).
//! - Limits checked before allocation: frame size against msize, read
//!   counts clamped so replies stay below msize, connections, fids, idle
//!   time. Every frame holds a share of a per-connection reply budget
//!   until its reply is written, so a client that never reads is no
//!   longer read rather than buffered for.
//! - A panic in a filesystem method answers EIO for that request only.
//! - Authentication and access control, opt-in: with a [`Keyring`],
//!   Tauth runs the ninefold challenge-response (docs/AUTH.md) and proves
//!   a [`Principal`]; a TLS transport hands one in through [`Peer`]. An
//!   [`AccessPolicy`] then decides each Tattach: which principal may
//!   attach which export, read-only or read-write, as which uid (the
//!   asserted one, or squashed, or refused), and which networks are
//!   trusted without authentication. Without keys Tauth answers "no
//!   authentication required" (ENOENT in 9P2000.L, as diod's client tools
//!   and the Linux client expect); without a policy every peer is trusted.
//!
//! Inside, a sans-IO connection core makes every decision (tags, flush
//! ordering, fids, negotiation, admission, read from
//! [`ninefold_proto::MessageFacts`]) and an async shell moves bytes and
//! runs operations; `docs/ARCHITECTURE.md` draws one request's way
//! through it.
//! - `tracing` spans per request (method, fid, path, errno), and
//!   OpenTelemetry metrics with the `otel` feature.
//!
//! # Features
//!
//! - `otel`: [`ServerBuilder::meter`] records OpenTelemetry metrics.
//! - `tls`: TLS listeners ([`tls`]: rustls, certificate reload, client
//!   certificates as [`Principal`]s).

#![forbid(unsafe_code)]
#![warn(clippy::unwrap_used)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod access;
mod auth;
pub mod bufpool;
pub mod config;
mod core;
mod error;
mod fid;
mod fs;
mod ledger;
pub mod limits;
mod lineage;
mod metrics;
mod middleware;
mod ops;
mod peer;
mod reply;
mod server;
mod shell;
mod splice;
#[cfg(feature = "tls")]
#[cfg_attr(docsrs, doc(cfg(feature = "tls")))]
pub mod tls;

pub use access::{AccessDenials, AccessPolicy, Grant, Network, NetworkParseError};
pub use auth::{AuthError, Keyring, Secret, CHALLENGE_VALIDITY};
pub use config::ServerConfig;
pub use error::{ConfigError, ServeError};
pub use fs::*;
pub use ledger::LedgerConfig;
pub use limits::{AbuseLimits, Rate};
pub use middleware::{Middleware, Next};
pub use ninefold_proto::Errno;
pub use peer::{AuthMethod, Peer, Principal};
pub use reply::error_reply;
pub use server::{Server, ServerBuilder};
pub use splice::{PipeSink, SpliceReads};
/// The cancellation token a [`Request`] carries (re-exported so that tests
/// of a filesystem can flush a request without depending on tokio-util).
pub use tokio_util::sync::CancellationToken;
