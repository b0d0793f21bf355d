//! Twalk/Rwalk: walk a fid along names.

use crate::wire::wire_struct;
use crate::{P9String, Qid};

wire_struct! {
    /// `Twalk fid[4] newfid[4] nwname[2] nwname*(wname[s])`: walk from `fid`
    /// along at most 16 names and bind the result to `newfid`. No names is a
    /// clone. `newfid` is bound only if every name was walked.
    ///
    /// ```
    /// use ninefold_proto::base::Twalk;
    /// let walk = Twalk { fid: 1, newfid: 2, wnames: vec!["usr".into(), "lib".into()] };
    /// assert_eq!(walk.wnames.len(), 2);
    /// ```
    pub struct Twalk {
        /// The starting fid.
        pub fid: u32,
        /// The fid to bind (may equal `fid`).
        pub newfid: u32,
        /// The names to walk, at most 16.
        #[cfg_attr(feature = "proptest", proptest(strategy = "crate::arbitrary::wnames()"))]
        pub wnames: Vec<P9String>,
    }
}

wire_struct! {
    /// `Rwalk nwqid[2] nwqid*(wqid[13])`: the qids of the names walked. Fewer
    /// qids than names means the walk stopped early (and `newfid` is unbound);
    /// a failing first name is an error reply instead.
    pub struct Rwalk {
        /// One qid per name walked.
        #[cfg_attr(feature = "proptest", proptest(strategy = "crate::arbitrary::wqids()"))]
        pub wqids: Vec<Qid>,
    }
}
