//! Tlink.

use ninefold_proto::l;

use crate::error::Result;
use crate::session::{Fid, Session};

impl Session {
    /// Tlink: hard link `name` in `dfid` to the file `fid` names.
    pub async fn link(&self, dfid: &Fid, fid: &Fid, name: impl AsRef<[u8]>) -> Result<()> {
        let msg =
            l::Tlink { dfid: dfid.num(), fid: fid.num(), name: name.as_ref().to_vec().into() };
        rpc!(self, msg, Rlink);
        Ok(())
    }
}
