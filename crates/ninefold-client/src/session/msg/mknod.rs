//! Tmknod.

use ninefold_proto::{l, Qid};

use crate::error::Result;
use crate::session::{Fid, Session};

impl Session {
    /// Tmknod: a device, FIFO or socket `name` in `dfid`; the type comes
    /// from `mode`'s `S_IF*` bits.
    pub async fn mknod(
        &self,
        dfid: &Fid,
        name: impl AsRef<[u8]>,
        mode: u32,
        major: u32,
        minor: u32,
        gid: u32,
    ) -> Result<Qid> {
        let msg = l::Tmknod {
            dfid: dfid.num(),
            name: name.as_ref().to_vec().into(),
            mode,
            major,
            minor,
            gid,
        };
        Ok(rpc!(self, msg, Rmknod).qid)
    }
}
