//! Tversion/Rversion: negotiate msize and dialect.

use crate::wire::wire_struct;
use crate::P9String;

wire_struct! {
    /// `Tversion msize[4] version[s]`, sent with tag [`NOTAG`](crate::NOTAG)
    /// as the first message of a connection. It resets the connection: every
    /// fid is clunked and every outstanding request abandoned.
    pub struct Tversion {
        /// The largest frame the client will send or accept.
        pub msize: u32,
        /// The dialect asked for, such as `9P2000.L`.
        pub version: P9String,
    }
}

wire_struct! {
    /// `Rversion msize[4] version[s]`: the msize in force (never above the
    /// request) and the dialect chosen, or `unknown`.
    pub struct Rversion {
        /// The negotiated msize.
        pub msize: u32,
        /// The dialect chosen, or `unknown`.
        pub version: P9String,
    }
}
