//! Tunlinkat.

use ninefold_proto::{l, UnlinkatFlags};

use crate::error::Result;
use crate::session::{Fid, Session};

impl Session {
    /// Tunlinkat: remove `name` from `dir` (a directory with
    /// [`UnlinkatFlags::REMOVEDIR`]).
    pub async fn unlinkat(
        &self,
        dir: &Fid,
        name: impl AsRef<[u8]>,
        flags: UnlinkatFlags,
    ) -> Result<()> {
        let msg = l::Tunlinkat { dirfid: dir.num(), name: name.as_ref().to_vec().into(), flags };
        rpc!(self, msg, Runlinkat);
        Ok(())
    }
}
