//! Treaddirattr/Rreaddirattr and the entry [`DirentAttr`].

use crate::dir::DirBlock;
use crate::l::Attr;
use crate::wire::wire_struct;
use crate::{DirentType, P9String, Qid};

wire_struct! {
    /// A directory entry with attributes: `qid[13] offset[8] type[1]
    /// name[s] stat[145]` (169 bytes plus the name). `offset` is the cookie
    /// of the next position, as in [`Dirent`](crate::l::Dirent).
    pub struct DirentAttr {
        /// The entry's qid.
        pub qid: Qid,
        /// Resume cookie for the next entry.
        pub offset: u64,
        /// `DT_*` type.
        pub ty: DirentType,
        /// The entry's name.
        pub name: P9String,
        /// The entry's attributes.
        pub attr: Attr,
    }
}

wire_struct! {
    /// `Treaddirattr fid[4] offset[8] count[4]`: Treaddir, with attributes.
    pub struct Treaddirattr {
        /// An open directory.
        pub fid: u32,
        /// 0, or a cookie from a previous entry.
        pub offset: u64,
        /// Bytes wanted (clamped to msize − 11).
        pub count: u32,
    }
}

wire_struct! {
    /// `Rreaddirattr count[4] data[count]`: whole [`DirentAttr`]s only, empty
    /// at the end.
    pub struct Rreaddirattr {
        /// The packed entries.
        pub data: DirBlock<DirentAttr>,
    }
}
