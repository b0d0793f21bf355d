//! Size rules: header overheads, msize bounds and the iounit rule.
//!
//! The payload of a read reply is limited by what fits in one frame of
//! msize bytes: `msize - 11` for Rread/Rreaddir (`size[4] type[1] tag[2]
//! count[4]`). A server clamps every Tread/Treaddir `count` to that before
//! allocating anything.
//!
//! ```
//! use ninefold_proto::{sizes, Dialect};
//!
//! assert_eq!(sizes::max_read_payload(131096), 131085);
//! assert_eq!(sizes::max_write_payload(1 << 20, Dialect::Z), 1048528);
//! assert_eq!(sizes::clamp_read_count(u32::MAX, 8192), 8181);
//! // iounit 0 lets the Linux client use msize - 24 per request.
//! assert_eq!(sizes::client_io_size(0, 8192), 8168);
//! ```

use crate::Dialect;

/// The smallest msize the Linux client (and ZeroFS) accept.
pub const MIN_MSIZE: u32 = 4096;

/// `P9_IOHDRSZ`: the Linux client asks for `msize - 24` bytes per Tread,
/// Twrite and Treaddir.
pub const IOHDRSZ: u32 = 24;

/// `size[4] type[1] tag[2] count[4]`: the overhead of Rread, Rreaddir and
/// Rreaddirattr.
pub const READ_REPLY_OVERHEAD: u32 = 11;

/// `size[4] type[1] tag[2] fid[4] offset[8] count[4]`: the overhead of a
/// Twrite without envelope.
pub const WRITE_OVERHEAD: u32 = 23;

/// The overhead of a 9P2000.L.Z Twrite: 23 plus the 25-byte envelope.
pub const WRITE_OVERHEAD_Z: u32 = 48;

/// `size[4] type[1] tag[2] qid[13] iounit[4] eof[1] count[4]`: the overhead
/// of Rlopenatread.
pub const LOPENATREAD_OVERHEAD: u32 = 29;

/// The largest `data` an Rread, Rreaddir or Rreaddirattr can carry in a
/// frame of `msize` bytes.
pub const fn max_read_payload(msize: u32) -> u32 {
    msize.saturating_sub(READ_REPLY_OVERHEAD)
}

/// The largest `data` a Twrite can carry in a frame of `msize` bytes.
pub const fn max_write_payload(msize: u32, dialect: Dialect) -> u32 {
    let overhead = if matches!(dialect, Dialect::Z) { WRITE_OVERHEAD_Z } else { WRITE_OVERHEAD };
    msize.saturating_sub(overhead)
}

/// The largest `data` an Rlopenatread can carry in a frame of `msize` bytes.
pub const fn max_lopenatread_payload(msize: u32) -> u32 {
    msize.saturating_sub(LOPENATREAD_OVERHEAD)
}

/// A Tread/Treaddir/Treaddirattr `count` clamped to what one reply can
/// carry: do this before allocating a buffer for the reply.
pub const fn clamp_read_count(count: u32, msize: u32) -> u32 {
    let max = max_read_payload(msize);
    if count < max {
        count
    } else {
        max
    }
}

/// The bytes per request the Linux client uses for an open file with
/// `iounit`: the iounit when `0 < iounit <= msize - 24`, else
/// `msize - 24`. Servers should answer `iounit = 0`.
pub const fn client_io_size(iounit: u32, msize: u32) -> u32 {
    let max = msize.saturating_sub(IOHDRSZ);
    if iounit > 0 && iounit <= max {
        iounit
    } else {
        max
    }
}

/// The msize a server answers Tversion with: the client's request capped
/// at the server's maximum, or `None` when that is below [`MIN_MSIZE`].
pub const fn negotiate_msize(requested: u32, server_max: u32) -> Option<u32> {
    let m = if requested < server_max { requested } else { server_max };
    if m < MIN_MSIZE {
        None
    } else {
        Some(m)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_match_the_zerofs_table() {
        assert_eq!(max_read_payload(1 << 20), 1048565);
        assert_eq!(max_read_payload(256 << 10), 262133);
        assert_eq!(max_read_payload(4096), 4085);
        assert_eq!(max_write_payload(1 << 20, Dialect::Z), 1048528);
        assert_eq!(max_write_payload(256 << 10, Dialect::Z), 262096);
        assert_eq!(max_write_payload(4096, Dialect::Z), 4048);
        assert_eq!(max_write_payload(1 << 20, Dialect::L), 1048553);
        assert_eq!(max_lopenatread_payload(1 << 20), 1048547);
    }

    #[test]
    fn iounit_rule() {
        assert_eq!(client_io_size(4096, 8192), 4096);
        assert_eq!(client_io_size(8169, 8192), 8168);
        assert_eq!(client_io_size(0, 8192), 8168);
    }

    #[test]
    fn msize_negotiation() {
        assert_eq!(negotiate_msize(1 << 20, 256 << 10), Some(256 << 10));
        assert_eq!(negotiate_msize(8192, 1 << 20), Some(8192));
        assert_eq!(negotiate_msize(2048, 1 << 20), None);
        assert_eq!(clamp_read_count(10, 8192), 10);
    }
}
