//! The `9P2000.L.Z` private messages (valid only on a session that
//! negotiated `9P2000.L.Z`; elsewhere they fail with
//! [`Unsupported`](crate::Error::Unsupported) before anything is sent).

use bytes::Bytes;
use ninefold_proto::dir::DirBlock;
use ninefold_proto::{
    l, z, FsyncdurFlags, Message, OpenFlags, P9String, Qid, RebindFlags, MAXWELEM,
};

use crate::error::{Error, Result};
use crate::session::{unexpected, Fid, Lineage, Session};

/// What Tlopenatread returned.
#[derive(Debug)]
pub struct OpenedRead {
    /// The new open fid.
    pub fid: Fid,
    /// Its qid.
    pub qid: Qid,
    /// Its iounit (0: none).
    pub iounit: u32,
    /// The read reached the end of the file: `data` is all of it.
    pub eof: bool,
    /// Bytes from offset 0 (empty when the read was not possible).
    pub data: Bytes,
}

impl Session {
    /// Twalkgetattr: an all-or-nothing walk of at most 16 names into a new
    /// fid, with the final object's attributes (0 names: clone + stat).
    pub async fn walkgetattr<N: AsRef<[u8]>>(
        &self,
        fid: &Fid,
        names: &[N],
    ) -> Result<(Fid, Vec<Qid>, l::Attr)> {
        if names.len() > MAXWELEM {
            return Err(Error::invalid(format!("{} names in one walk (max 16)", names.len())));
        }
        let wnames: Vec<P9String> = names.iter().map(|n| n.as_ref().to_vec().into()).collect();
        let newfid = self.alloc_fid()?;
        let msg = z::Twalkgetattr { fid: fid.num(), newfid: newfid.num(), wnames };
        let (frame, newfid) = self.call_binding(Message::Twalkgetattr(msg), newfid, 0).await?;
        match frame.message {
            Message::Rwalkgetattr(r) if r.wqids.len() == names.len() => {
                Ok((newfid, r.wqids, r.attr))
            }
            Message::Rwalkgetattr(_) => Err(Error::protocol("Rwalkgetattr with a partial walk")),
            other => Err(unexpected(&other, "Rwalkgetattr")),
        }
    }

    /// Tlopenat: clone `fid` and open the clone with `flags` in one round
    /// trip; `fid` stays unopened.
    pub async fn lopenat(&self, fid: &Fid, flags: OpenFlags) -> Result<(Fid, Qid, u32)> {
        let newfid = self.alloc_fid()?;
        let msg = z::Tlopenat { fid: fid.num(), newfid: newfid.num(), flags };
        let (frame, newfid) = self.call_binding(Message::Tlopenat(msg), newfid, 0).await?;
        match frame.message {
            Message::Rlopenat(r) => Ok((newfid, r.qid, r.iounit)),
            other => Err(unexpected(&other, "Rlopenat")),
        }
    }

    /// Tlopenatread: Tlopenat plus a read of up to `count` bytes from
    /// offset 0 (clamped to `msize - 29`).
    pub async fn lopenatread(&self, fid: &Fid, flags: OpenFlags, count: u32) -> Result<OpenedRead> {
        let count = count.min(ninefold_proto::sizes::max_lopenatread_payload(self.msize()));
        let newfid = self.alloc_fid()?;
        let msg = z::Tlopenatread { fid: fid.num(), newfid: newfid.num(), flags, count };
        let (frame, newfid) = self.call_binding(Message::Tlopenatread(msg), newfid, 0).await?;
        match frame.message {
            Message::Rlopenatread(r) if r.data.len() <= count as usize => Ok(OpenedRead {
                fid: newfid,
                qid: r.qid,
                iounit: r.iounit,
                eof: r.eof,
                data: r.data,
            }),
            Message::Rlopenatread(r) => Err(Error::protocol(format!(
                "Rlopenatread of {} bytes for a count of {count}",
                r.data.len()
            ))),
            other => Err(unexpected(&other, "Rlopenatread")),
        }
    }

    /// Tlcreateattr: exclusive create of regular file `name` in `dfid`,
    /// opened on a new fid; returns it, its iounit and its attributes.
    pub async fn lcreateattr(
        &self,
        dfid: &Fid,
        name: impl AsRef<[u8]>,
        flags: OpenFlags,
        mode: u32,
        gid: u32,
    ) -> Result<(Fid, u32, l::Attr)> {
        let newfid = self.alloc_fid()?;
        let msg = z::Tlcreateattr {
            dfid: dfid.num(),
            newfid: newfid.num(),
            name: name.as_ref().to_vec().into(),
            flags,
            mode,
            gid,
        };
        let (frame, newfid) = self.call_binding(Message::Tlcreateattr(msg), newfid, 0).await?;
        match frame.message {
            Message::Rlcreateattr(r) => Ok((newfid, r.iounit, r.attr)),
            other => Err(unexpected(&other, "Rlcreateattr")),
        }
    }

    /// Tmkdirattr: mkdir returning the new directory's attributes.
    pub async fn mkdirattr(
        &self,
        dfid: &Fid,
        name: impl AsRef<[u8]>,
        mode: u32,
        gid: u32,
    ) -> Result<l::Attr> {
        let name = name.as_ref().to_vec().into();
        Ok(rpc!(self, z::Tmkdirattr { dfid: dfid.num(), name, mode, gid }, Rmkdirattr).attr)
    }

    /// Tsymlinkattr: symlink returning the link's attributes.
    pub async fn symlinkattr(
        &self,
        dfid: &Fid,
        name: impl AsRef<[u8]>,
        target: impl AsRef<[u8]>,
        gid: u32,
    ) -> Result<l::Attr> {
        let msg = z::Tsymlinkattr {
            dfid: dfid.num(),
            name: name.as_ref().to_vec().into(),
            symtgt: target.as_ref().to_vec().into(),
            gid,
        };
        Ok(rpc!(self, msg, Rsymlinkattr).attr)
    }

    /// Tmknodattr: mknod returning the node's attributes.
    pub async fn mknodattr(
        &self,
        dfid: &Fid,
        name: impl AsRef<[u8]>,
        mode: u32,
        major: u32,
        minor: u32,
        gid: u32,
    ) -> Result<l::Attr> {
        let msg = z::Tmknodattr {
            dfid: dfid.num(),
            name: name.as_ref().to_vec().into(),
            mode,
            major,
            minor,
            gid,
        };
        Ok(rpc!(self, msg, Rmknodattr).attr)
    }

    /// Tlinkattr: hard link `name` in `dfid` to `fid`, returning the linked
    /// object's attributes.
    pub async fn linkattr(&self, dfid: &Fid, fid: &Fid, name: impl AsRef<[u8]>) -> Result<l::Attr> {
        let msg =
            z::Tlinkattr { dfid: dfid.num(), fid: fid.num(), name: name.as_ref().to_vec().into() };
        Ok(rpc!(self, msg, Rlinkattr).attr)
    }

    /// Tsetattrattr: setattr returning the attributes after the change.
    pub async fn setattrattr(&self, fid: &Fid, attr: l::SetAttr) -> Result<l::Attr> {
        Ok(rpc!(self, z::Tsetattrattr { fid: fid.num(), attr }, Rsetattrattr).attr)
    }

    /// Tfsyncdur: a durability barrier for the object `fid` names
    /// ([`FsyncdurFlags::INODE`]) or the whole filesystem (without it),
    /// checked against lineage `token` (0: no check; a mismatch is
    /// [`Stale`](Error::Stale)).
    pub async fn fsyncdur(&self, fid: &Fid, flags: FsyncdurFlags, token: u64) -> Result<()> {
        rpc!(self, z::Tfsyncdur { fid: fid.num(), datasync: flags, token }, Rfsync);
        Ok(())
    }

    /// Tgetlineage: the server's durability lineage (also a liveness
    /// probe).
    pub async fn getlineage(&self) -> Result<Lineage> {
        let r = rpc!(self, z::Tgetlineage, Rgetlineage);
        Ok(Lineage { token: r.token, writer_epoch: r.writer_epoch })
    }

    /// Trebind: a new fid bound to the object whose qid.path is
    /// `inode_id`, below the attach root whose qid.path is `root_inode`,
    /// acting as `uname`/`n_uname` (no walk).
    pub async fn rebind(
        &self,
        inode_id: u64,
        root_inode: u64,
        flags: RebindFlags,
        uname: impl AsRef<[u8]>,
        n_uname: u32,
    ) -> Result<(Fid, Qid)> {
        let fid = self.alloc_fid()?;
        let msg = z::Trebind {
            fid: fid.num(),
            inode_id,
            root_inode,
            flags,
            uname: uname.as_ref().to_vec().into(),
            n_uname,
        };
        let (frame, fid) = self.call_binding(Message::Trebind(msg), fid, 0).await?;
        match frame.message {
            Message::Rrebind(r) => Ok((fid, r.qid)),
            other => Err(unexpected(&other, "Rrebind")),
        }
    }

    /// Treaddirattr: like [`readdir`](Session::readdir), each entry with
    /// its attributes.
    pub async fn readdirattr(
        &self,
        fid: &Fid,
        offset: u64,
        count: u32,
    ) -> Result<DirBlock<z::DirentAttr>> {
        let count = count.min(self.max_read_chunk());
        let r = rpc!(self, z::Treaddirattr { fid: fid.num(), offset, count }, Rreaddirattr);
        if r.data.len() > count as usize {
            return Err(Error::protocol(format!(
                "Rreaddirattr of {} bytes for a Treaddirattr of {count}",
                r.data.len()
            )));
        }
        Ok(r.data)
    }
}
