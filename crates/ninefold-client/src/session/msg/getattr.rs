//! Tgetattr.

use ninefold_proto::{l, GetattrMask};

use crate::error::Result;
use crate::session::{Fid, Session};

impl Session {
    /// Tgetattr: the attributes in `mask` (the reply says which are valid).
    pub async fn getattr(&self, fid: &Fid, mask: GetattrMask) -> Result<l::Rgetattr> {
        Ok(rpc!(self, l::Tgetattr { fid: fid.num(), request_mask: mask }, Rgetattr))
    }
}
