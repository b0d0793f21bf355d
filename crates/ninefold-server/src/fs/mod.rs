//! The filesystem API: what a served tree implements.
//!
//! - [`Node`]: one object; every operation defaults to ENOSYS.
//! - [`Handle`]: per-open state; its methods take precedence over the
//!   node's and default to them.
//! - [`Attacher`] / [`Exports`]: from Tattach's aname to a root node.
//! - [`Request`]: who asks, on which connection, and the flush signal.
//! - [`DirSink`]: where readdir puts entries; [`QidGen`] and
//!   [`path_qid`] make qids.

mod attach;
mod dirsink;
mod handle;
mod node;
mod qid;
mod request;
mod types;

pub use attach::{Attacher, Exports};
pub use dirsink::DirSink;
pub use handle::Handle;
pub use node::{Node, Result};
pub use qid::{path_qid, QidGen};
pub(crate) use request::{ConnFacts, Flush};
pub use request::{Identity, LockOwner, Request};
pub use types::{Created, LockInfo, LockRequest, Opened, StatFs};
