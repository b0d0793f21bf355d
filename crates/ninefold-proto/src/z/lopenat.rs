//! Tlopenat/Rlopenat and Tlopenatread/Rlopenatread.

use bytes::Bytes;

use crate::wire::wire_struct;
use crate::{OpenFlags, Qid};

wire_struct! {
    /// `Tlopenat fid[4] newfid[4] flags[4]`: clone `fid` to `newfid` and open
    /// it, in one round trip. `fid` stays unchanged and unopened; `newfid ==
    /// fid` is allowed only to open an unopened fid in place (replay).
    pub struct Tlopenat {
        /// The fid to clone.
        pub fid: u32,
        /// The new open fid.
        pub newfid: u32,
        /// `P9_DOTL_*` flags, as Tlopen.
        pub flags: OpenFlags,
    }
}

wire_struct! {
    /// `Rlopenat qid[13] iounit[4]` (the Rlopen layout).
    pub struct Rlopenat {
        /// The file's qid.
        pub qid: Qid,
        /// Preferred I/O size; 0.
        pub iounit: u32,
    }
}

wire_struct! {
    /// `Tlopenatread fid[4] newfid[4] flags[4] count[4]`: Tlopenat plus a
    /// read of up to `count` bytes from offset 0 (clamped to msize − 29).
    pub struct Tlopenatread {
        /// The fid to clone.
        pub fid: u32,
        /// The new open fid.
        pub newfid: u32,
        /// `P9_DOTL_*` flags.
        pub flags: OpenFlags,
        /// Bytes to read from the start.
        pub count: u32,
    }
}

wire_struct! {
    /// `Rlopenatread qid[13] iounit[4] eof[1] count[4] data[count]`. The open
    /// is authoritative, the read best-effort (no data, `eof` false, on a
    /// read error); `eof` means `data` is the whole file.
    pub struct Rlopenatread {
        /// The file's qid.
        pub qid: Qid,
        /// Preferred I/O size; 0.
        pub iounit: u32,
        /// The read reached the end of the file.
        pub eof: bool,
        /// The bytes read (a slice of the frame when decoded).
        #[cfg_attr(feature = "proptest", proptest(strategy = "crate::arbitrary::payload()"))]
        pub data: Bytes,
    }
}
