//! Tgetlineage/Rgetlineage.

use crate::wire::wire_struct;

wire_struct! {
    /// `Tgetlineage` (type 233, empty): sent right after Rversion and as a
    /// liveness probe. The official client refuses a server that fails it.
    pub struct Tgetlineage;
}

wire_struct! {
    /// `Rgetlineage token[8] writer_epoch[8]` (type 234).
    pub struct Rgetlineage {
        /// Names the durability lineage; changes whenever durable history
        /// may have been lost (a memory-backed server: random per start).
        pub token: u64,
        /// High-availability writer epoch; 0 when standalone.
        pub writer_epoch: u64,
    }
}
