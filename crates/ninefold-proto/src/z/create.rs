//! The creating mutations that answer with attributes: Tlcreateattr,
//! Tmkdirattr, Tsymlinkattr, Tmknodattr and Tlinkattr. Their bodies (after
//! the envelope) are those of Tlcreate (plus `newfid`), Tmkdir, Tsymlink,
//! Tmknod and Tlink; their replies end in the 145-byte [`Attr`].

use crate::l::Attr;
use crate::wire::wire_struct;
use crate::{OpenFlags, P9String};

wire_struct! {
    /// `Tlcreateattr env dfid[4] newfid[4] name[s] flags[4] mode[4] gid[4]`:
    /// exclusively create regular file `name` in `dfid` (EEXIST if it
    /// exists, even without EXCL) and open it on `newfid`; `dfid` unchanged.
    pub struct Tlcreateattr {
        /// The directory (left as is).
        pub dfid: u32,
        /// The fid to open the new file on.
        pub newfid: u32,
        /// The new name.
        pub name: P9String,
        /// `P9_DOTL_*` flags.
        pub flags: OpenFlags,
        /// `S_IFREG | perm`.
        pub mode: u32,
        /// Group of the new file.
        pub gid: u32,
    }
}

wire_struct! {
    /// `Rlcreateattr iounit[4] stat[145]`: note `iounit` comes first.
    pub struct Rlcreateattr {
        /// Preferred I/O size; 0.
        pub iounit: u32,
        /// The new file's attributes.
        pub attr: Attr,
    }
}

wire_struct! {
    /// `Tmkdirattr env dfid[4] name[s] mode[4] gid[4]`.
    pub struct Tmkdirattr {
        /// The parent directory.
        pub dfid: u32,
        /// The new name.
        pub name: P9String,
        /// `S_IFDIR | perm`.
        pub mode: u32,
        /// Group of the directory.
        pub gid: u32,
    }
}

wire_struct! {
    /// `Rmkdirattr stat[145]`.
    pub struct Rmkdirattr {
        /// The new directory's attributes.
        pub attr: Attr,
    }
}

wire_struct! {
    /// `Tsymlinkattr env dfid[4] name[s] symtgt[s] gid[4]`.
    pub struct Tsymlinkattr {
        /// The directory.
        pub dfid: u32,
        /// The new name.
        pub name: P9String,
        /// The link target.
        pub symtgt: P9String,
        /// Group of the link.
        pub gid: u32,
    }
}

wire_struct! {
    /// `Rsymlinkattr stat[145]`.
    pub struct Rsymlinkattr {
        /// The link's attributes.
        pub attr: Attr,
    }
}

wire_struct! {
    /// `Tmknodattr env dfid[4] name[s] mode[4] major[4] minor[4] gid[4]`.
    pub struct Tmknodattr {
        /// The directory.
        pub dfid: u32,
        /// The new name.
        pub name: P9String,
        /// `S_IFIFO`, `S_IFSOCK`, `S_IFBLK` or `S_IFCHR`, with permissions.
        pub mode: u32,
        /// Device major number.
        pub major: u32,
        /// Device minor number.
        pub minor: u32,
        /// Group of the node.
        pub gid: u32,
    }
}

wire_struct! {
    /// `Rmknodattr stat[145]`.
    pub struct Rmknodattr {
        /// The node's attributes.
        pub attr: Attr,
    }
}

wire_struct! {
    /// `Tlinkattr env dfid[4] fid[4] name[s]`.
    pub struct Tlinkattr {
        /// The directory.
        pub dfid: u32,
        /// The existing file.
        pub fid: u32,
        /// The new name.
        pub name: P9String,
    }
}

wire_struct! {
    /// `Rlinkattr stat[145]`: the linked object, with its new link count.
    pub struct Rlinkattr {
        /// The linked object's attributes.
        pub attr: Attr,
    }
}
