//! The 9P2000 messages (types 100–127), shared by every dialect.
//!
//! Four of them grow fields in 9P2000.u, and keep the .u form in 9P2000.L:
//! [`Tauth`] and [`Tattach`] (`n_uname`), [`Rerror`] (`errno`), [`Tcreate`]
//! (`extension`) and the [`Stat`] record (`extension`, numeric ids). Those
//! fields are always present in the Rust value; in plain 9P2000 they are
//! neither sent nor received, and decode to their "absent" value
//! ([`NONUNAME`](crate::NONUNAME), errno 0, the empty string).

mod attach;
mod clunk;
mod error;
mod flush;
mod open;
mod read;
mod remove;
mod stat;
mod version;
mod walk;
mod write;

pub use attach::{Rattach, Rauth, Tattach, Tauth};
pub use clunk::{Rclunk, Tclunk};
pub use error::Rerror;
pub use flush::{Rflush, Tflush};
pub use open::{Rcreate, Ropen, Tcreate, Topen};
pub use read::{Rread, Tread};
pub use remove::{Rremove, Tremove};
pub use stat::{Rstat, Rwstat, Stat, Tstat, Twstat};
pub use version::{Rversion, Tversion};
pub use walk::{Rwalk, Twalk};
pub use write::{Rwrite, Twrite};
