//! Tread/Rread: read from an open fid.

use bytes::Bytes;

use crate::wire::wire_struct;

wire_struct! {
    /// `Tread fid[4] offset[8] count[4]`. A server clamps `count` to
    /// [`max_read_payload`](crate::sizes::max_read_payload) before allocating.
    /// On a 9P2000/.u directory the reply holds whole stat records.
    pub struct Tread {
        /// An open fid.
        pub fid: u32,
        /// Byte offset (for 9P2000 directories: 0 or the previous end).
        pub offset: u64,
        /// Bytes wanted.
        pub count: u32,
    }
}

wire_struct! {
    /// `Rread count[4] data[count]`: never more than asked; empty at end of
    /// file. Decoded `data` is a slice of the received frame.
    pub struct Rread {
        /// The bytes read.
        #[cfg_attr(feature = "proptest", proptest(strategy = "crate::arbitrary::payload()"))]
        pub data: Bytes,
    }
}
