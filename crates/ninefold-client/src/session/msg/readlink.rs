//! Treadlink.

use bytes::Bytes;
use ninefold_proto::l;

use crate::error::Result;
use crate::session::{Fid, Session};

impl Session {
    /// Treadlink: the raw target of the symbolic link `fid` names.
    pub async fn readlink(&self, fid: &Fid) -> Result<Bytes> {
        Ok(rpc!(self, l::Treadlink { fid: fid.num() }, Rreadlink).target.into_bytes())
    }
}
