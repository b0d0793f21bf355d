//! Twalkgetattr/Rwalkgetattr.

use crate::l::Attr;
use crate::wire::wire_struct;
use crate::{P9String, Qid};

wire_struct! {
    /// `Twalkgetattr fid[4] newfid[4] nwname[2] nwname*(wname[s])`: an
    /// all-or-nothing walk (any failing name is an error, never a partial
    /// reply) that also returns the final object's attributes. No names:
    /// clone and stat.
    pub struct Twalkgetattr {
        /// The starting fid.
        pub fid: u32,
        /// The fid to bind on success (may equal `fid`).
        pub newfid: u32,
        /// The names to walk, at most 16.
        #[cfg_attr(feature = "proptest", proptest(strategy = "crate::arbitrary::wnames()"))]
        pub wnames: Vec<P9String>,
    }
}

wire_struct! {
    /// `Rwalkgetattr nwqid[2] nwqid*(qid[13]) stat[145]`.
    pub struct Rwalkgetattr {
        /// One qid per name.
        #[cfg_attr(feature = "proptest", proptest(strategy = "crate::arbitrary::wqids()"))]
        pub wqids: Vec<Qid>,
        /// The final object's attributes.
        pub attr: Attr,
    }
}
