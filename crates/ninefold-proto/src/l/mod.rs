//! 9P2000.L: the Linux dialect (types 6–77), as spoken by the kernel's
//! v9fs client. It also uses the [`base`](crate::base) messages Tversion,
//! Tauth/Tattach (9P2000.u form), Tflush, Twalk, Tread, Twrite, Tclunk,
//! Tremove and, for its last-resort rename, Twstat.

mod fsync;
mod getattr;
mod lerror;
mod link;
mod lock;
mod mkdir;
mod mknod;
mod open;
mod readdir;
mod readlink;
mod rename;
mod setattr;
mod statfs;
mod symlink;
mod unlinkat;
mod xattr;

pub use fsync::{Rfsync, Tfsync};
pub use getattr::{Attr, Rgetattr, Tgetattr};
pub use lerror::Rlerror;
pub use link::{Rlink, Tlink};
pub use lock::{Rgetlock, Rlock, Tgetlock, Tlock};
pub use mkdir::{Rmkdir, Tmkdir};
pub use mknod::{Rmknod, Tmknod};
pub use open::{Rlcreate, Rlopen, Tlcreate, Tlopen};
pub use readdir::{Dirent, Rreaddir, Treaddir};
pub use readlink::{Rreadlink, Treadlink};
pub use rename::{Rrename, Rrenameat, Trename, Trenameat};
pub use setattr::{Rsetattr, SetAttr, Tsetattr};
pub use statfs::{Rstatfs, Tstatfs};
pub use symlink::{Rsymlink, Tsymlink};
pub use unlinkat::{Runlinkat, Tunlinkat};
pub use xattr::{Rxattrcreate, Rxattrwalk, Txattrcreate, Txattrwalk};
