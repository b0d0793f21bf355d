//! Tauth/Rauth and Tattach/Rattach. In 9P2000.u and 9P2000.L the requests
//! end in `n_uname[4]`, the numeric user id.

use bytes::BufMut;

use crate::error::EncodeError;
use crate::wire::{wire_struct, Fault, Reader, Wire, Writer};
use crate::{Dialect, P9String, Qid, NONUNAME};

/// `Tauth afid[4] uname[s] aname[s] (n_uname[4])`: establish `afid` as an
/// authentication channel. The Linux client never sends it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "proptest", derive(proptest_derive::Arbitrary))]
pub struct Tauth {
    /// The new authentication fid.
    pub afid: u32,
    /// The user name.
    pub uname: P9String,
    /// The export.
    pub aname: P9String,
    /// 9P2000.u/.L: the numeric user id, or [`NONUNAME`]. Not on the wire in
    /// 9P2000 (decodes as `NONUNAME`).
    pub n_uname: u32,
}

/// `Tattach fid[4] afid[4] uname[s] aname[s] (n_uname[4])`: make `fid` the
/// root of export `aname` for user `uname`/`n_uname`. The Linux client
/// sends `afid = NOFID`; with `access=user` it attaches once per local uid
/// with an empty `uname`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "proptest", derive(proptest_derive::Arbitrary))]
pub struct Tattach {
    /// The fid to become the root.
    pub fid: u32,
    /// The authentication fid, or [`NOFID`](crate::NOFID).
    pub afid: u32,
    /// The user name (may be empty when `n_uname` says who).
    pub uname: P9String,
    /// The export to attach to; empty for the default.
    pub aname: P9String,
    /// 9P2000.u/.L: the numeric user id, or [`NONUNAME`] to go by `uname`.
    /// Not on the wire in 9P2000 (decodes as `NONUNAME`).
    pub n_uname: u32,
}

/// The shared tail `uname[s] aname[s] (n_uname[4])`.
struct Who<'a> {
    uname: &'a P9String,
    aname: &'a P9String,
    n_uname: u32,
}

impl Who<'_> {
    fn wire_len(&self, d: Dialect) -> Result<usize, EncodeError> {
        let n = if d.has_unix_fields() { 4 } else { 0 };
        Ok(self.uname.wire_len(d)? + self.aname.wire_len(d)? + n)
    }

    fn put<B: BufMut>(&self, w: &mut Writer<'_, B>, d: Dialect) {
        self.uname.put(w, d);
        self.aname.put(w, d);
        if d.has_unix_fields() {
            w.u32(self.n_uname);
        }
    }

    fn get(r: &mut Reader<'_>, d: Dialect) -> Result<(P9String, P9String, u32), Fault> {
        let uname = P9String::get(r, d).map_err(|f| f.in_field("uname"))?;
        let aname = P9String::get(r, d).map_err(|f| f.in_field("aname"))?;
        let n_uname = if d.has_unix_fields() {
            r.u32().map_err(|f| f.in_field("n_uname"))?
        } else {
            NONUNAME
        };
        Ok((uname, aname, n_uname))
    }
}

impl Wire for Tauth {
    fn wire_len(&self, d: Dialect) -> Result<usize, EncodeError> {
        Ok(4 + self.who().wire_len(d)?)
    }
    fn put<B: BufMut>(&self, w: &mut Writer<'_, B>, d: Dialect) {
        w.u32(self.afid);
        self.who().put(w, d);
    }
    fn get(r: &mut Reader<'_>, d: Dialect) -> Result<Self, Fault> {
        let afid = r.u32().map_err(|f| f.in_field("afid"))?;
        let (uname, aname, n_uname) = Who::get(r, d)?;
        Ok(Tauth { afid, uname, aname, n_uname })
    }
}

impl Tauth {
    fn who(&self) -> Who<'_> {
        Who { uname: &self.uname, aname: &self.aname, n_uname: self.n_uname }
    }
}

impl Wire for Tattach {
    fn wire_len(&self, d: Dialect) -> Result<usize, EncodeError> {
        Ok(8 + self.who().wire_len(d)?)
    }
    fn put<B: BufMut>(&self, w: &mut Writer<'_, B>, d: Dialect) {
        w.u32(self.fid);
        w.u32(self.afid);
        self.who().put(w, d);
    }
    fn get(r: &mut Reader<'_>, d: Dialect) -> Result<Self, Fault> {
        let fid = r.u32().map_err(|f| f.in_field("fid"))?;
        let afid = r.u32().map_err(|f| f.in_field("afid"))?;
        let (uname, aname, n_uname) = Who::get(r, d)?;
        Ok(Tattach { fid, afid, uname, aname, n_uname })
    }
}

impl Tattach {
    fn who(&self) -> Who<'_> {
        Who { uname: &self.uname, aname: &self.aname, n_uname: self.n_uname }
    }
}

wire_struct! {
    /// `Rauth aqid[13]`.
    pub struct Rauth {
        /// The qid of the authentication file.
        pub aqid: Qid,
    }
}

wire_struct! {
    /// `Rattach qid[13]`: the root's qid.
    pub struct Rattach {
        /// The qid of the export root.
        pub qid: Qid,
    }
}
