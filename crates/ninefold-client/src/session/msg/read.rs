//! Tread.

use bytes::Bytes;
use ninefold_proto::base;

use crate::error::{Error, Result};
use crate::session::{Fid, Session};

impl Session {
    /// Tread: up to `count` bytes at `offset` (clamped to what one reply can
    /// carry). The result is a slice of the received frame, not a copy; an
    /// empty result is end of file. An Rread carrying more than `count`
    /// bytes breaks the protocol and is a [`Protocol`](Error::Protocol)
    /// error (its bytes are never passed up).
    pub async fn read(&self, fid: &Fid, offset: u64, count: u32) -> Result<Bytes> {
        let count = count.min(self.max_read_chunk());
        let r = rpc!(self, base::Tread { fid: fid.num(), offset, count }, Rread);
        if r.data.len() > count as usize {
            return Err(Error::protocol(format!(
                "Rread of {} bytes for a Tread of {count}",
                r.data.len()
            )));
        }
        Ok(r.data)
    }
}
