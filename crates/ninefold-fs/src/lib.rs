//! Ready filesystems for [`ninefold_server`]:
//!
//! - [`memfs`]: an in-memory tree with full POSIX semantics and a builder.
//! - [`passthrough`]: exports a host directory, traversal-proof.
//! - [`synthetic`]: static files, symlinks, devices, generated content,
//!   `zero`/`null` and deliberately slow files.
//!
//! `unsafe` code is denied everywhere except `passthrough::sys`, the one
//! module that makes raw system calls.

#![deny(unsafe_code)]
#![warn(clippy::unwrap_used)]

#[cfg(feature = "memfs")]
pub mod memfs;
#[cfg(all(feature = "passthrough", target_os = "linux"))]
pub mod passthrough;
#[cfg(feature = "synthetic")]
pub mod synthetic;
