//! Trenameat and Trename.

use ninefold_proto::l;

use crate::error::Result;
use crate::session::{Fid, Session};

impl Session {
    /// Trenameat: move `oldname` in `olddir` to `newname` in `newdir`,
    /// replacing an existing target.
    pub async fn renameat(
        &self,
        olddir: &Fid,
        oldname: impl AsRef<[u8]>,
        newdir: &Fid,
        newname: impl AsRef<[u8]>,
    ) -> Result<()> {
        let msg = l::Trenameat {
            olddirfid: olddir.num(),
            oldname: oldname.as_ref().to_vec().into(),
            newdirfid: newdir.num(),
            newname: newname.as_ref().to_vec().into(),
        };
        rpc!(self, msg, Rrenameat);
        Ok(())
    }

    /// Trename: move the file `fid` names into `dfid` as `name`.
    pub async fn rename(&self, fid: &Fid, dfid: &Fid, name: impl AsRef<[u8]>) -> Result<()> {
        let msg =
            l::Trename { fid: fid.num(), dfid: dfid.num(), name: name.as_ref().to_vec().into() };
        rpc!(self, msg, Rrename);
        Ok(())
    }
}
