//! An async 9P server for 9P2000, 9P2000.u and 9P2000.L clients, built on
//! the sans-IO codec [`ninefold_proto`].
//!
//! Work in progress: the filesystem API ([`Node`], [`Handle`],
//! [`Attacher`]) is in place; the protocol engine lands next.

#![forbid(unsafe_code)]
#![warn(clippy::unwrap_used)]

pub mod config;
mod fs;

pub use fs::*;
pub use ninefold_proto::Errno;
