//! Tlopen and Tlcreate.

use ninefold_proto::{l, OpenFlags, Qid};

use crate::error::Result;
use crate::session::{Fid, Session};

impl Session {
    /// Tlopen: open the file `fid` names. Returns its qid and iounit.
    pub async fn lopen(&self, fid: &Fid, flags: OpenFlags) -> Result<(Qid, u32)> {
        let r = rpc!(self, l::Tlopen { fid: fid.num(), flags }, Rlopen);
        Ok((r.qid, r.iounit))
    }

    /// Tlcreate: create regular file `name` in the directory `fid` names and
    /// open it; `fid` becomes the open new file.
    pub async fn lcreate(
        &self,
        fid: &Fid,
        name: impl AsRef<[u8]>,
        flags: OpenFlags,
        mode: u32,
        gid: u32,
    ) -> Result<(Qid, u32)> {
        let msg =
            l::Tlcreate { fid: fid.num(), name: name.as_ref().to_vec().into(), flags, mode, gid };
        let r = rpc!(self, msg, Rlcreate);
        Ok((r.qid, r.iounit))
    }
}
