//! Tfallocate (`9P2000.L.Z` only).

use ninefold_proto::{z, FallocateMode};

use crate::error::{Error, Result};
use crate::session::{Fid, Session};

impl Session {
    /// Tfallocate: allocate (`mode` empty; may extend the file), punch a
    /// hole in (`PUNCH_HOLE | KEEP_SIZE`) or zero (`ZERO_RANGE`, with or
    /// without `KEEP_SIZE`) `len` bytes at `offset` of `fid`, which must
    /// be open for writing (else the server answers EBADF).
    ///
    /// Only a `9P2000.L.Z` session can send it: elsewhere, and for any
    /// other `mode` (the dialect defines those four), it fails with
    /// [`Unsupported`](Error::Unsupported) (EOPNOTSUPP) before anything
    /// is sent, as `fallocate(2)` does on a file system without it.
    pub async fn fallocate(
        &self,
        fid: &Fid,
        offset: u64,
        len: u64,
        mode: FallocateMode,
    ) -> Result<()> {
        if !mode.is_supported() {
            return Err(Error::Unsupported(format!(
                "fallocate mode {:#x} (9P2000.L.Z allows 0, 0x3, 0x10 and 0x11)",
                mode.bits()
            )));
        }
        let msg = z::Tfallocate { fid: fid.num(), offset, length: len, mode };
        rpc!(self, msg, Rfallocate);
        Ok(())
    }
}
