//! [`Reply`]: an answer on its way to the wire, and the error replies of
//! each dialect.

use ninefold_proto::{base, l, Dialect, Errno, Message};

/// The share of the connection's reply budget a request holds from the
/// moment its frame is read until its reply is written (see
/// [`crate::shell`]): what bounds the memory a client that never reads can
/// make the server spend, with the frame's memory charge (see
/// [`crate::limits`]). `None` only in the core's own tests.
pub(crate) type Permit = Option<crate::limits::FramePermit>;

/// A reply ready to be written, with the permit it gives back once it is
/// on the wire.
#[derive(Debug)]
pub(crate) struct Reply {
    pub(crate) tag: u16,
    pub(crate) message: Message,
    pub(crate) permit: Permit,
}

impl Reply {
    pub(crate) fn new(tag: u16, message: Message, permit: Permit) -> Reply {
        Reply { tag, message, permit }
    }
}

/// The error reply of a dialect: Rlerror in 9P2000.L, Rerror elsewhere.
pub fn error_reply(dialect: Dialect, errno: Errno) -> Message {
    if dialect.is_dotl() {
        l::Rlerror { ecode: errno }.into()
    } else {
        base::Rerror::from_errno(errno).into()
    }
}

/// The errno of an error reply, if `m` is one.
pub(crate) fn reply_errno(m: &Message) -> Option<Errno> {
    match m {
        Message::Rlerror(e) => Some(e.ecode),
        Message::Rerror(e) => Some(e.to_errno()),
        _ => None,
    }
}
