//! The 9P2000 `stat` record, and Tstat/Rstat and Twstat/Rwstat.

use bytes::BufMut;

use crate::error::{DecodeErrorKind, EncodeError};
use crate::flags::DirMode;
use crate::wire::{wire_struct, Fault, Reader, Wire, Writer};
use crate::{Dialect, P9String, Qid, NONUNAME};

/// A 9P2000 directory entry (`stat` record): what Rstat returns, Twstat
/// changes, and a 9P2000/.u directory read returns back to back.
///
/// `size[2] type[2] dev[4] qid[13] mode[4] atime[4] mtime[4] length[8]
/// name[s] uid[s] gid[s] muid[s]`, then in 9P2000.u (and 9P2000.L, whose
/// Twstat the Linux client still encodes this way) `extension[s] n_uid[4]
/// n_gid[4] n_muid[4]`. The leading size is computed, not stored.
///
/// ```
/// use ninefold_proto::base::Stat;
/// let mut st = Stat::dont_touch();
/// st.name = "new-name".into(); // a Twstat that renames and changes nothing else
/// assert!(st.length == u64::MAX && st.uid.is_empty());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "proptest", derive(proptest_derive::Arbitrary))]
pub struct Stat {
    /// Kernel use (`type`).
    pub ty: u16,
    /// Kernel use.
    pub dev: u32,
    /// The file's qid.
    pub qid: Qid,
    /// Type and permission bits.
    pub mode: DirMode,
    /// Last access, seconds since the epoch.
    pub atime: u32,
    /// Last modification, seconds since the epoch.
    pub mtime: u32,
    /// Length in bytes (0 for directories).
    pub length: u64,
    /// Last path element (`/` for the root).
    pub name: P9String,
    /// Owner name.
    pub uid: P9String,
    /// Group name.
    pub gid: P9String,
    /// Name of the last user to modify the file.
    pub muid: P9String,
    /// 9P2000.u: symlink target or device description; empty otherwise.
    pub extension: P9String,
    /// 9P2000.u: numeric owner, or [`NONUNAME`].
    pub n_uid: u32,
    /// 9P2000.u: numeric group, or [`NONUNAME`].
    pub n_gid: u32,
    /// 9P2000.u: numeric last modifier, or [`NONUNAME`].
    pub n_muid: u32,
}

impl Stat {
    /// A record in which every field means "don't touch" (all ones, empty
    /// strings): the base of a Twstat. Sent as is, it asks for a sync.
    pub fn dont_touch() -> Stat {
        Stat {
            ty: u16::MAX,
            dev: u32::MAX,
            qid: Qid {
                ty: crate::QidType::from_bits_retain(u8::MAX),
                version: u32::MAX,
                path: u64::MAX,
            },
            mode: DirMode::from_bits_retain(u32::MAX),
            atime: u32::MAX,
            mtime: u32::MAX,
            length: u64::MAX,
            name: P9String::new(),
            uid: P9String::new(),
            gid: P9String::new(),
            muid: P9String::new(),
            extension: P9String::new(),
            n_uid: NONUNAME,
            n_gid: NONUNAME,
            n_muid: NONUNAME,
        }
    }

    /// The length of the record after its `size[2]` field.
    fn content_len(&self, d: Dialect) -> Result<usize, EncodeError> {
        let strings = self.name.wire_len(d)?
            + self.uid.wire_len(d)?
            + self.gid.wire_len(d)?
            + self.muid.wire_len(d)?;
        let unix = if d.has_unix_fields() { self.extension.wire_len(d)? + 12 } else { 0 };
        let len = 2 + 4 + Qid::WIRE_LEN + 4 + 4 + 4 + 8 + strings + unix;
        // Leave room for the `n[2]` of Rstat/Twstat, which counts 2 more.
        if len + 2 > u16::MAX as usize {
            return Err(EncodeError::StatTooLong { len });
        }
        Ok(len)
    }

    fn get_content(r: &mut Reader<'_>, d: Dialect) -> Result<Stat, Fault> {
        let s =
            |r: &mut Reader<'_>, field| P9String::get(r, d).map_err(|f: Fault| f.in_field(field));
        let n = |r: &mut Reader<'_>, field| r.u32().map_err(|f: Fault| f.in_field(field));
        let ty = r.u16().map_err(|f| f.in_field("type"))?;
        let dev = n(r, "dev")?;
        let qid = Qid::get(r, d).map_err(|f| f.in_field("qid"))?;
        let mode = DirMode::from_bits_retain(n(r, "mode")?);
        let atime = n(r, "atime")?;
        let mtime = n(r, "mtime")?;
        let length = r.u64().map_err(|f| f.in_field("length"))?;
        let name = s(r, "name")?;
        let uid = s(r, "uid")?;
        let gid = s(r, "gid")?;
        let muid = s(r, "muid")?;
        let (extension, n_uid, n_gid, n_muid) = if d.has_unix_fields() {
            (s(r, "extension")?, n(r, "n_uid")?, n(r, "n_gid")?, n(r, "n_muid")?)
        } else {
            (P9String::new(), NONUNAME, NONUNAME, NONUNAME)
        };
        Ok(Stat {
            ty,
            dev,
            qid,
            mode,
            atime,
            mtime,
            length,
            name,
            uid,
            gid,
            muid,
            extension,
            n_uid,
            n_gid,
            n_muid,
        })
    }
}

impl Wire for Stat {
    fn wire_len(&self, d: Dialect) -> Result<usize, EncodeError> {
        Ok(2 + self.content_len(d)?)
    }
    fn put<B: BufMut>(&self, w: &mut Writer<'_, B>, d: Dialect) {
        // `wire_len` has checked that the length fits.
        w.u16(self.content_len(d).unwrap_or(0) as u16);
        w.u16(self.ty);
        w.u32(self.dev);
        self.qid.put(w, d);
        self.mode.put(w, d);
        w.u32(self.atime);
        w.u32(self.mtime);
        w.u64(self.length);
        self.name.put(w, d);
        self.uid.put(w, d);
        self.gid.put(w, d);
        self.muid.put(w, d);
        if d.has_unix_fields() {
            self.extension.put(w, d);
            w.u32(self.n_uid);
            w.u32(self.n_gid);
            w.u32(self.n_muid);
        }
    }
    fn get(r: &mut Reader<'_>, d: Dialect) -> Result<Self, Fault> {
        let size = r.u16().map_err(|f| f.in_field("size"))?;
        let mut body = r.sub(size as usize).map_err(|f| f.in_field("size"))?;
        let stat = Stat::get_content(&mut body, d)?;
        body.finish().map_err(|f| f.in_field("size"))?;
        Ok(stat)
    }
}

/// The `n[2] stat[n]` wrapping of Rstat and Twstat: `n` counts the record
/// including its own size field.
fn wrapped_len(stat: &Stat, d: Dialect) -> Result<usize, EncodeError> {
    Ok(2 + stat.wire_len(d)?)
}

fn put_wrapped<B: BufMut>(stat: &Stat, w: &mut Writer<'_, B>, d: Dialect) {
    // `wrapped_len` has checked that the record fits (so `n` fits too).
    w.u16(stat.content_len(d).map_or(0, |n| n + 2) as u16);
    stat.put(w, d);
}

fn get_wrapped(r: &mut Reader<'_>, d: Dialect) -> Result<Stat, Fault> {
    let n = r.u16().map_err(|f| f.in_field("n"))?;
    let mut body = r.sub(n as usize).map_err(|f| f.in_field("n"))?;
    let stat = Stat::get(&mut body, d).map_err(|f| f.in_field("stat"))?;
    if body.remaining() != 0 {
        let bad = DecodeErrorKind::Invalid("stat length n disagrees with the record's size");
        return Err(Fault::from(bad).in_field("n"));
    }
    Ok(stat)
}

wire_struct! {
    /// `Tstat fid[4]`.
    pub struct Tstat {
        /// The fid to describe.
        pub fid: u32,
    }
}

/// `Rstat n[2] stat[n]`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "proptest", derive(proptest_derive::Arbitrary))]
pub struct Rstat {
    /// The file's description.
    pub stat: Stat,
}

/// `Twstat fid[4] n[2] stat[n]`: change the fields that are not "don't
/// touch" ([`Stat::dont_touch`]); rename within the directory through
/// `name`. The Linux client uses it in 9P2000.L only as its last-resort
/// rename.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "proptest", derive(proptest_derive::Arbitrary))]
pub struct Twstat {
    /// The fid to change.
    pub fid: u32,
    /// The new values.
    pub stat: Stat,
}

impl Wire for Rstat {
    fn wire_len(&self, d: Dialect) -> Result<usize, EncodeError> {
        wrapped_len(&self.stat, d)
    }
    fn put<B: BufMut>(&self, w: &mut Writer<'_, B>, d: Dialect) {
        put_wrapped(&self.stat, w, d);
    }
    fn get(r: &mut Reader<'_>, d: Dialect) -> Result<Self, Fault> {
        Ok(Rstat { stat: get_wrapped(r, d)? })
    }
}

impl Wire for Twstat {
    fn wire_len(&self, d: Dialect) -> Result<usize, EncodeError> {
        Ok(4 + wrapped_len(&self.stat, d)?)
    }
    fn put<B: BufMut>(&self, w: &mut Writer<'_, B>, d: Dialect) {
        w.u32(self.fid);
        put_wrapped(&self.stat, w, d);
    }
    fn get(r: &mut Reader<'_>, d: Dialect) -> Result<Self, Fault> {
        let fid = r.u32().map_err(|f| f.in_field("fid"))?;
        Ok(Twstat { fid, stat: get_wrapped(r, d)? })
    }
}

wire_struct! {
    /// `Rwstat`.
    pub struct Rwstat;
}
