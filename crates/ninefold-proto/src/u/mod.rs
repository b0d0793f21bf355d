//! 9P2000.u: the Unix extension of 9P2000.
//!
//! 9P2000.u reuses the 9P2000 type numbers; its additions are fields on
//! existing messages, which live on the [`base`](crate::base) structs
//! (`n_uname` on [`Tattach`](crate::base::Tattach) and
//! [`Tauth`](crate::base::Tauth), `errno` on [`Rerror`](crate::base::Rerror),
//! `extension` on [`Tcreate`](crate::base::Tcreate) and the numeric ids of
//! [`Stat`](crate::base::Stat)), plus the `DM*` bits of
//! [`DirMode`](crate::DirMode). This module interprets the `extension`
//! string that describes special files.

mod extension;

pub use extension::{DeviceKind, Extension, ExtensionError};
