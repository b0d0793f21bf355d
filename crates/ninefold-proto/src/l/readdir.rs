//! Treaddir/Rreaddir and the directory entry [`Dirent`].

use crate::dir::DirBlock;
use crate::wire::wire_struct;
use crate::{DirentType, P9String, Qid};

wire_struct! {
    /// A 9P2000.L directory entry: `qid[13] offset[8] type[1] name[s]`.
    ///
    /// `offset` is the cookie of the position *after* this entry: the next
    /// Treaddir resumes from it. It must never be 0 and must advance.
    pub struct Dirent {
        /// The entry's qid.
        pub qid: Qid,
        /// Resume cookie for the next entry.
        pub offset: u64,
        /// `DT_*` type.
        pub ty: DirentType,
        /// The entry's name.
        pub name: P9String,
    }
}

wire_struct! {
    /// `Treaddir fid[4] offset[8] count[4]`: read entries of the open
    /// directory `fid` from cookie `offset` (0 = start). A server clamps
    /// `count` to [`max_read_payload`](crate::sizes::max_read_payload).
    pub struct Treaddir {
        /// An open directory.
        pub fid: u32,
        /// 0, or a cookie from a previous entry.
        pub offset: u64,
        /// Bytes wanted.
        pub count: u32,
    }
}

wire_struct! {
    /// `Rreaddir count[4] data[count]`: whole [`Dirent`]s only, empty at the
    /// end. Decoding checks every entry; `data` is a slice of the frame.
    pub struct Rreaddir {
        /// The packed entries.
        pub data: DirBlock<Dirent>,
    }
}
