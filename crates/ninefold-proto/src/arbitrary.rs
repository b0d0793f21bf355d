//! proptest strategies for every message of every dialect (feature
//! `proptest`), for property tests here and in the crates above.
//!
//! ```
//! use proptest::prelude::*;
//! use bytes::BytesMut;
//! use ninefold_proto::{arbitrary, Dialect, Frame};
//!
//! proptest!(|(frame in arbitrary::frame(Dialect::Z))| {
//!     let mut buf = BytesMut::new();
//!     frame.encode(Dialect::Z, &mut buf).unwrap();
//!     prop_assert_eq!(Frame::decode(buf.freeze(), Dialect::Z).unwrap(), frame);
//! });
//! ```

use bytes::Bytes;
use proptest::prelude::*;
use proptest::strategy::{BoxedStrategy, Union};

use crate::dir::{DirBlock, DirPacker, FixedRecord};
use crate::wire::MAXWELEM;
use crate::z::Envelope;
use crate::{Dialect, Errno, Frame, Message, P9String, Qid, NONUNAME};

/// Payload bytes (`data[count]`), up to 512 bytes.
pub fn payload() -> impl Strategy<Value = Bytes> {
    proptest::collection::vec(any::<u8>(), 0..512).prop_map(Bytes::from)
}

/// Walk names: up to 16.
pub fn wnames() -> impl Strategy<Value = Vec<P9String>> {
    proptest::collection::vec(any::<P9String>(), 0..=MAXWELEM)
}

/// Walk qids: up to 16.
pub fn wqids() -> impl Strategy<Value = Vec<Qid>> {
    proptest::collection::vec(any::<Qid>(), 0..=MAXWELEM)
}

impl<E> Arbitrary for DirBlock<E>
where
    E: FixedRecord + Arbitrary + std::fmt::Debug + 'static,
{
    type Parameters = ();
    type Strategy = BoxedStrategy<DirBlock<E>>;
    /// Up to eight whole entries.
    fn arbitrary_with(_: ()) -> Self::Strategy {
        proptest::collection::vec(any::<E>(), 0..8)
            .prop_map(|entries| {
                let mut packer = DirPacker::new(usize::MAX, Dialect::L);
                for e in &entries {
                    // Generated names are short, so every entry encodes.
                    let _ = packer.push(e);
                }
                packer.finish_block()
            })
            .boxed()
    }
}

/// Any message of `dialect`, as it would look after a round trip through it
/// (see [`normalize`]).
pub fn message(dialect: Dialect) -> BoxedStrategy<Message> {
    let options: Vec<_> = Message::strategies()
        .into_iter()
        .filter(|(set, _)| set.contains(dialect))
        .map(|(_, s)| s)
        .collect();
    Union::new(options).prop_map(move |m| normalize(m, dialect)).boxed()
}

/// Any frame of `dialect`: a message of it, a tag, and an envelope exactly
/// where the dialect carries one.
pub fn frame(dialect: Dialect) -> BoxedStrategy<Frame> {
    (any::<u16>(), message(dialect), any::<Envelope>())
        .prop_map(move |(tag, message, env)| {
            let envelope = dialect.has_envelope(message.msg_type()).then_some(env);
            Frame { tag, envelope, message }
        })
        .boxed()
}

/// `message` as decoding it in `dialect` would return it: in plain 9P2000 the
/// 9P2000.u fields are not on the wire and come back as their "absent"
/// values (`NONUNAME`, errno 0, empty strings).
pub fn normalize(message: Message, dialect: Dialect) -> Message {
    if dialect.has_unix_fields() {
        return message;
    }
    let plain = |mut st: crate::base::Stat| {
        st.extension = P9String::new();
        st.n_uid = NONUNAME;
        st.n_gid = NONUNAME;
        st.n_muid = NONUNAME;
        st
    };
    match message {
        Message::Tauth(mut m) => {
            m.n_uname = NONUNAME;
            Message::Tauth(m)
        }
        Message::Tattach(mut m) => {
            m.n_uname = NONUNAME;
            Message::Tattach(m)
        }
        Message::Rerror(mut m) => {
            m.errno = Errno::new(0);
            Message::Rerror(m)
        }
        Message::Tcreate(mut m) => {
            m.extension = P9String::new();
            Message::Tcreate(m)
        }
        Message::Rstat(mut m) => {
            m.stat = plain(m.stat);
            Message::Rstat(m)
        }
        Message::Twstat(mut m) => {
            m.stat = plain(m.stat);
            Message::Twstat(m)
        }
        other => other,
    }
}
