//! Twrite.

use bytes::Bytes;
use ninefold_proto::base;

use crate::error::{Error, Result};
use crate::session::{Fid, Session};

impl Session {
    /// Twrite: `data` at `offset`, in one message (at most
    /// [`max_write_chunk`](Session::max_write_chunk) bytes). The payload
    /// goes to the socket as its own segment of a vectored write. Returns
    /// the count the server wrote; a count above what was sent breaks the
    /// protocol and is a [`Protocol`](Error::Protocol) error.
    pub async fn write(&self, fid: &Fid, offset: u64, data: Bytes) -> Result<u32> {
        if data.len() > self.max_write_chunk() as usize {
            return Err(Error::invalid(format!(
                "{} bytes exceed one Twrite ({} max)",
                data.len(),
                self.max_write_chunk()
            )));
        }
        let sent = data.len();
        let r = rpc!(self, base::Twrite { fid: fid.num(), offset, data }, Rwrite);
        if r.count as usize > sent {
            return Err(Error::protocol(format!("Rwrite of {} for a Twrite of {sent}", r.count)));
        }
        Ok(r.count)
    }
}
