//! The 25-byte mutation envelope.

use crate::wire::wire_struct;
use crate::EnvelopeFlags;

wire_struct! {
    /// `op_id[16] flags[1] origin_writer_epoch[8]`, right after the header
    /// of every covered mutation in a 9P2000.L.Z connection (carried by
    /// [`Frame::envelope`](crate::Frame::envelope)). It lets a server answer
    /// a re-sent mutation from its ledger instead of executing it twice.
    ///
    /// ```
    /// use bytes::BytesMut;
    /// use ninefold_proto::z::Envelope;
    /// use ninefold_proto::{base, Dialect, EnvelopeFlags, Frame};
    ///
    /// let env = Envelope { op_id: [7; 16], flags: EnvelopeFlags::RETRY, origin_writer_epoch: 0 };
    /// let write = base::Twrite { fid: 1, offset: 0, data: "hi".into() };
    /// let frame = Frame::new(4, write).with_envelope(env);
    /// let mut buf = BytesMut::new();
    /// frame.encode(Dialect::Z, &mut buf)?;
    /// assert_eq!(buf.len(), 48 + 2); // fixed overhead of a .Z Twrite
    /// # Ok::<(), ninefold_proto::EncodeError>(())
    /// ```
    #[derive(Copy, Hash, Default)]
    pub struct Envelope {
        /// Client-chosen operation id (a random UUID); all zero = no
        /// deduplication.
        pub op_id: [u8; 16],
        /// RETRY on re-sends; other bits are reserved (servers answer 116).
        pub flags: EnvelopeFlags,
        /// Writer epoch of the connection the operation was first sent on;
        /// 0 when standalone.
        pub origin_writer_epoch: u64,
    }
}

impl Envelope {
    /// Encoded length: 25 bytes.
    pub const WIRE_LEN: usize = 25;

    /// The all-zero envelope: no deduplication.
    pub const NONE: Envelope =
        Envelope { op_id: [0; 16], flags: EnvelopeFlags::empty(), origin_writer_epoch: 0 };

    /// Whether the op_id asks for deduplication (is not all zero).
    pub fn is_deduplicated(&self) -> bool {
        self.op_id != [0; 16]
    }

    /// Whether this is a re-send.
    pub fn is_retry(&self) -> bool {
        self.flags.contains(EnvelopeFlags::RETRY)
    }
}
