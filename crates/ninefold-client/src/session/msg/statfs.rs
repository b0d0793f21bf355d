//! Tstatfs.

use ninefold_proto::l;

use crate::error::Result;
use crate::session::{Fid, Session};

impl Session {
    /// Tstatfs: statistics of the filesystem `fid` is on.
    pub async fn statfs(&self, fid: &Fid) -> Result<l::Rstatfs> {
        Ok(rpc!(self, l::Tstatfs { fid: fid.num() }, Rstatfs))
    }
}
