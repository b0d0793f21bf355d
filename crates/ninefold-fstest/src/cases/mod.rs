//! The cases, one file per category, named after the protocol module they
//! exercise (`walk.rs` for Twalk, `open.rs` for Tlopen/Tlcreate, ...).
//! [`all`] is the single registry.

pub(crate) mod attach;
pub(crate) mod clunk;
pub(crate) mod fifo;
pub(crate) mod flush;
pub(crate) mod getattr;
pub(crate) mod legacy;
pub(crate) mod link;
pub(crate) mod lock;
pub(crate) mod malformed;
pub(crate) mod mkdir;
pub(crate) mod mknod;
pub(crate) mod msize;
pub(crate) mod open;
pub(crate) mod read;
pub(crate) mod readdir;
pub(crate) mod rename;
pub(crate) mod setattr;
pub(crate) mod statfs;
pub(crate) mod symlink;
pub(crate) mod unlinkat;
pub(crate) mod version;
pub(crate) mod walk;
pub(crate) mod write;
pub(crate) mod xattr;
pub(crate) mod z;

use crate::case::Case;

/// Every case, grouped by category.
pub(crate) fn all() -> Vec<Case> {
    let mut v = Vec::new();
    v.extend(version::cases());
    v.extend(msize::cases());
    v.extend(attach::cases());
    v.extend(clunk::cases());
    v.extend(walk::cases());
    v.extend(open::cases());
    v.extend(read::cases());
    v.extend(write::cases());
    v.extend(readdir::cases());
    v.extend(getattr::cases());
    v.extend(setattr::cases());
    v.extend(mkdir::cases());
    v.extend(rename::cases());
    v.extend(unlinkat::cases());
    v.extend(link::cases());
    v.extend(symlink::cases());
    v.extend(mknod::cases());
    v.extend(xattr::cases());
    v.extend(lock::cases());
    v.extend(flush::cases());
    v.extend(fifo::cases());
    v.extend(statfs::cases());
    v.extend(malformed::cases());
    v.extend(legacy::cases());
    v.extend(z::cases());
    v
}
