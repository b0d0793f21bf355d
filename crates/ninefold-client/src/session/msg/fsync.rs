//! Tfsync.

use ninefold_proto::l;

use crate::error::Result;
use crate::session::{Fid, Session};

impl Session {
    /// Tfsync: flush the open file to stable storage (`datasync`:
    /// `fdatasync(2)` semantics).
    pub async fn fsync(&self, fid: &Fid, datasync: bool) -> Result<()> {
        rpc!(self, l::Tfsync { fid: fid.num(), datasync: u32::from(datasync) }, Rfsync);
        Ok(())
    }
}
