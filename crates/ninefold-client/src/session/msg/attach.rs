//! Tattach.

use ninefold_proto::{base, Message, Qid, NOFID};

use crate::error::{Error, Result};
use crate::session::{unexpected, Fid, Session};

impl Session {
    /// Tattach: a new fid for the root of export `aname`, as user
    /// `uname`/`n_uname` (no authentication: afid is NOFID).
    pub async fn attach(
        &self,
        uname: impl AsRef<[u8]>,
        aname: impl AsRef<[u8]>,
        n_uname: u32,
    ) -> Result<(Fid, Qid)> {
        let fid = self.alloc_fid()?;
        let msg = base::Tattach {
            fid: fid.num(),
            afid: NOFID,
            uname: uname.as_ref().to_vec().into(),
            aname: aname.as_ref().to_vec().into(),
            n_uname,
        };
        let (frame, fid) = self.call_binding(Message::Tattach(msg), fid, 0).await?;
        match frame.message {
            Message::Rattach(r) => Ok((fid, r.qid)),
            other => Err(unexpected(&other, "Rattach")).map_err(|e: Error| e),
        }
    }
}
