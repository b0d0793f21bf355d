//! Treaddir.

use ninefold_proto::dir::DirBlock;
use ninefold_proto::l;

use crate::error::{Error, Result};
use crate::session::{Fid, Session};

impl Session {
    /// Treaddir: whole entries of the open directory `fid` from cookie
    /// `offset` (0 = start), at most `count` bytes of them. An empty block
    /// is the end. A block longer than `count` breaks the protocol and is
    /// a [`Protocol`](Error::Protocol) error.
    pub async fn readdir(&self, fid: &Fid, offset: u64, count: u32) -> Result<DirBlock<l::Dirent>> {
        let count = count.min(self.max_read_chunk());
        let r = rpc!(self, l::Treaddir { fid: fid.num(), offset, count }, Rreaddir);
        if r.data.len() > count as usize {
            return Err(Error::protocol(format!(
                "Rreaddir of {} bytes for a Treaddir of {count}",
                r.data.len()
            )));
        }
        Ok(r.data)
    }
}
