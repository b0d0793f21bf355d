//! Twrite/Rwrite: write to an open fid.

use bytes::Bytes;

use crate::wire::wire_struct;

wire_struct! {
    /// `Twrite fid[4] offset[8] count[4] data[count]` (after the envelope in
    /// 9P2000.L.Z). `count` must equal the bytes present. Decoded `data` is a
    /// slice of the received frame.
    pub struct Twrite {
        /// An open fid.
        pub fid: u32,
        /// Byte offset (ignored for append-mode files).
        pub offset: u64,
        /// The bytes to write.
        #[cfg_attr(feature = "proptest", proptest(strategy = "crate::arbitrary::payload()"))]
        pub data: Bytes,
    }
}

wire_struct! {
    /// `Rwrite count[4]`: bytes written (never more than sent).
    pub struct Rwrite {
        /// Bytes written.
        pub count: u32,
    }
}
