//! Tsetattr.

use ninefold_proto::l;

use crate::error::Result;
use crate::session::{Fid, Session};

impl Session {
    /// Tsetattr: chmod, chown, truncate, utimes through `fid`.
    pub async fn setattr(&self, fid: &Fid, attr: l::SetAttr) -> Result<()> {
        rpc!(self, l::Tsetattr { fid: fid.num(), attr }, Rsetattr);
        Ok(())
    }
}
