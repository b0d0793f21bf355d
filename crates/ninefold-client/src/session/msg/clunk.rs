//! Tclunk and Tremove.

use ninefold_proto::{base, Message};

use crate::error::Result;
use crate::session::{expect_empty, Fid, Session, Settle, Shared};

impl Session {
    /// Tclunk, waiting for Rclunk; the number is recycled afterwards.
    /// (Dropping a [`Fid`] clunks it in the background instead.)
    pub async fn clunk(&self, fid: Fid) -> Result<()> {
        if !fid.is_bound() {
            return Ok(());
        }
        let msg = Message::Tclunk(base::Tclunk { fid: fid.num() });
        let frame = Shared::rpc(&self.shared, msg, Some(Settle::Clunked { fid })).await?;
        expect_empty(frame, "Rclunk")
    }

    /// Tremove: remove the file `fid` names; the fid is clunked whatever
    /// the outcome.
    pub async fn remove(&self, fid: Fid) -> Result<()> {
        let msg = Message::Tremove(base::Tremove { fid: fid.num() });
        let frame = Shared::rpc(&self.shared, msg, Some(Settle::Clunked { fid })).await?;
        expect_empty(frame, "Rremove")
    }
}
