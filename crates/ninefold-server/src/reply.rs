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
    #[inline]
    pub(crate) fn new(tag: u16, message: Message, permit: Permit) -> Reply {
        Reply { tag, message, permit }
    }

    /// Whether the reply is an Rread without data of its own: the one
    /// kind of reply whose payload may wait in a pipe (see
    /// [`crate::splice`]).
    pub(crate) fn is_bare_rread(&self) -> bool {
        matches!(&self.message, Message::Rread(r) if r.data.is_empty())
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

/// Replies released together, in the order they must be written: almost
/// always none or one (a request's reply), more only when Rflushes wait
/// on a reply. One reply needs no allocation (the point of the type: a
/// boxed variant would bring the allocation back).
#[derive(Debug, Default)]
#[allow(clippy::large_enum_variant)]
pub(crate) enum Replies {
    /// Nothing to write.
    #[default]
    None,
    /// One reply.
    One(Reply),
    /// Several, in order.
    Many(Vec<Reply>),
}

impl Replies {
    /// One reply.
    #[inline]
    pub(crate) fn one(reply: Reply) -> Replies {
        Replies::One(reply)
    }

    /// Appends `reply`.
    pub(crate) fn push(&mut self, reply: Reply) {
        *self = match std::mem::take(self) {
            Replies::None => Replies::One(reply),
            Replies::One(first) => Replies::Many(vec![first, reply]),
            Replies::Many(mut v) => {
                v.push(reply);
                Replies::Many(v)
            }
        };
    }
}

impl Replies {
    /// The replies, in order, to encode where they are (moving a
    /// `Reply` out copies all of it).
    pub(crate) fn as_mut_slice(&mut self) -> &mut [Reply] {
        match self {
            Replies::None => &mut [],
            Replies::One(r) => std::slice::from_mut(r),
            Replies::Many(v) => v,
        }
    }
}

impl std::ops::Deref for Replies {
    type Target = [Reply];

    fn deref(&self) -> &[Reply] {
        match self {
            Replies::None => &[],
            Replies::One(r) => std::slice::from_ref(r),
            Replies::Many(v) => v,
        }
    }
}

impl IntoIterator for Replies {
    type Item = Reply;
    type IntoIter = RepliesIter;

    fn into_iter(self) -> RepliesIter {
        match self {
            Replies::None => RepliesIter::One(None),
            Replies::One(r) => RepliesIter::One(Some(r)),
            Replies::Many(v) => RepliesIter::Many(v.into_iter()),
        }
    }
}

/// The iterator of [`Replies`].
#[derive(Debug)]
#[allow(clippy::large_enum_variant)]
pub(crate) enum RepliesIter {
    One(Option<Reply>),
    Many(std::vec::IntoIter<Reply>),
}

impl Iterator for RepliesIter {
    type Item = Reply;

    fn next(&mut self) -> Option<Reply> {
        match self {
            RepliesIter::One(r) => r.take(),
            RepliesIter::Many(it) => it.next(),
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        match self {
            RepliesIter::One(r) => (usize::from(r.is_some()), Some(usize::from(r.is_some()))),
            RepliesIter::Many(it) => it.size_hint(),
        }
    }
}

impl ExactSizeIterator for RepliesIter {}
