//! Tsymlink.

use ninefold_proto::{l, Qid};

use crate::error::Result;
use crate::session::{Fid, Session};

impl Session {
    /// Tsymlink: symbolic link `name` in `dfid` pointing at `target`
    /// (stored verbatim).
    pub async fn symlink(
        &self,
        dfid: &Fid,
        name: impl AsRef<[u8]>,
        target: impl AsRef<[u8]>,
        gid: u32,
    ) -> Result<Qid> {
        let msg = l::Tsymlink {
            fid: dfid.num(),
            name: name.as_ref().to_vec().into(),
            symtgt: target.as_ref().to_vec().into(),
            gid,
        };
        Ok(rpc!(self, msg, Rsymlink).qid)
    }
}
