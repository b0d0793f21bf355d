//! Twalk.

use ninefold_proto::{base, Message, P9String, Qid, MAXWELEM};

use crate::error::{Error, Result};
use crate::session::{unexpected, Fid, Session};

impl Session {
    /// Twalk from `fid` along at most 16 `names` into a new fid. Zero names
    /// clones `fid`. A walk that stops early is an error: `NotADirectory`
    /// when it stopped at a non-directory, else `NotFound`.
    pub async fn walk<N: AsRef<[u8]>>(&self, fid: &Fid, names: &[N]) -> Result<(Fid, Vec<Qid>)> {
        let wnames: Vec<P9String> = names.iter().map(|n| n.as_ref().to_vec().into()).collect();
        let n = wnames.len();
        match self.walk_partial(fid, wnames).await? {
            (Some(fid), qids) => Ok((fid, qids)),
            (None, qids) => match qids.last() {
                Some(q) if !q.is_dir() => Err(Error::NotADirectory),
                _ if qids.len() < n => Err(Error::NotFound),
                _ => Err(Error::protocol("walk returned no fid")),
            },
        }
    }

    /// Twalk keeping the partial result: the new fid when every name was
    /// walked, and the qids of the names that were. A failing first name is
    /// an error reply, returned as `Err`.
    pub async fn walk_partial(
        &self,
        fid: &Fid,
        wnames: Vec<P9String>,
    ) -> Result<(Option<Fid>, Vec<Qid>)> {
        if wnames.len() > MAXWELEM {
            return Err(Error::invalid(format!("{} names in one walk (max 16)", wnames.len())));
        }
        let n = wnames.len();
        let newfid = self.alloc_fid()?;
        let msg = base::Twalk { fid: fid.num(), newfid: newfid.num(), wnames };
        let (frame, newfid) = self.call_binding(Message::Twalk(msg), newfid, n).await?;
        match frame.message {
            Message::Rwalk(r) if r.wqids.len() == n => Ok((Some(newfid), r.wqids)),
            Message::Rwalk(r) if r.wqids.len() < n => Ok((None, r.wqids)),
            Message::Rwalk(_) => Err(Error::protocol("Rwalk with more qids than names")),
            other => Err(unexpected(&other, "Rwalk")),
        }
    }
}
