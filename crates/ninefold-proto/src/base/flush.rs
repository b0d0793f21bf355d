//! Tflush/Rflush: abort a request.

use crate::wire::wire_struct;

wire_struct! {
    /// `Tflush oldtag[2]`: the client abandons request `oldtag`. The server
    /// answers Rflush (never an error), and only after the original reply, if
    /// any, has been written.
    pub struct Tflush {
        /// The tag of the request to abort.
        pub oldtag: u16,
    }
}

wire_struct! {
    /// `Rflush`: `oldtag` may be reused.
    pub struct Rflush;
}
