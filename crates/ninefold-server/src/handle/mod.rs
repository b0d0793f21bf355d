//! One module per operation, named after the message (the same file
//! stems as `ninefold_proto`'s message modules). Each handler takes the
//! request context and the decoded message and returns the reply or an
//! errno.

pub(crate) mod attach;
pub(crate) mod clunk;
pub(crate) mod create;
pub(crate) mod fsync;
pub(crate) mod getattr;
pub(crate) mod link;
pub(crate) mod lock;
pub(crate) mod mkdir;
pub(crate) mod mknod;
pub(crate) mod open;
pub(crate) mod read;
pub(crate) mod readdir;
pub(crate) mod readlink;
pub(crate) mod rename;
pub(crate) mod setattr;
pub(crate) mod stat;
pub(crate) mod statfs;
pub(crate) mod symlink;
pub(crate) mod unlinkat;
pub(crate) mod walk;
pub(crate) mod write;
pub(crate) mod xattr;

use std::sync::Arc;

use ninefold_proto::{Errno, Message};

use crate::fid::Fid;
use crate::fs::Node;

/// What a handler returns.
pub(crate) type Reply = Result<Message, Errno>;

/// The fid's node, which must be a directory (ENOTDIR).
pub(crate) fn dir_node(fid: &Fid) -> Result<Arc<dyn Node>, Errno> {
    let node = fid.node();
    if node.qid().is_dir() {
        Ok(node)
    } else {
        Err(Errno::ENOTDIR)
    }
}

/// The iounit to advertise: a node's hint when it fits a request, else 0
/// ("msize - 24", what the Linux client performs best with).
pub(crate) fn iounit(hint: u32, msize: u32) -> u32 {
    if hint > 0 && hint <= msize.saturating_sub(ninefold_proto::sizes::IOHDRSZ) {
        hint
    } else {
        0
    }
}
