//! Typed flag words and small enumerations of the protocol, one file per
//! family. Unknown bits are kept as received (`from_bits_retain`), so a
//! server can decide whether to ignore or refuse them.

mod at;
mod getattr;
mod lock;
mod mode;
mod open;
mod setattr;
mod xattr;
mod zerofs;

pub use at::UnlinkatFlags;
pub use getattr::GetattrMask;
pub use lock::{LockFlags, LockStatus, LockType};
pub use mode::{
    DirMode, DirentType, OpenMode, S_IFBLK, S_IFCHR, S_IFDIR, S_IFIFO, S_IFLNK, S_IFMT, S_IFREG,
    S_IFSOCK,
};
pub use open::{AccessMode, OpenFlags};
pub use setattr::SetattrMask;
pub use xattr::XattrFlags;
pub use zerofs::{EnvelopeFlags, FallocateMode, FsyncdurFlags, RebindFlags};
