//! Tmkdir.

use ninefold_proto::{l, Qid};

use crate::error::Result;
use crate::session::{Fid, Session};

impl Session {
    /// Tmkdir: directory `name` in `dfid` with `mode` and group `gid`.
    pub async fn mkdir(
        &self,
        dfid: &Fid,
        name: impl AsRef<[u8]>,
        mode: u32,
        gid: u32,
    ) -> Result<Qid> {
        let msg = l::Tmkdir { dfid: dfid.num(), name: name.as_ref().to_vec().into(), mode, gid };
        Ok(rpc!(self, msg, Rmkdir).qid)
    }
}
