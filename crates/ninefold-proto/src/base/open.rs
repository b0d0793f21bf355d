//! Topen/Ropen and Tcreate/Rcreate (9P2000 and 9P2000.u).

use bytes::BufMut;

use crate::error::EncodeError;
use crate::flags::{DirMode, OpenMode};
use crate::wire::{wire_struct, Fault, Reader, Wire, Writer};
use crate::{Dialect, P9String, Qid};

wire_struct! {
    /// `Topen fid[4] mode[1]`.
    pub struct Topen {
        /// The fid to open.
        pub fid: u32,
        /// Access mode and options.
        pub mode: OpenMode,
    }
}

wire_struct! {
    /// `Ropen qid[13] iounit[4]`.
    pub struct Ropen {
        /// The opened file's qid.
        pub qid: Qid,
        /// Preferred I/O size; 0 lets the client use msize − 24.
        pub iounit: u32,
    }
}

/// `Tcreate fid[4] name[s] perm[4] mode[1] (extension[s])`: create `name` in
/// the directory `fid` and open it; `fid` becomes the new file. In 9P2000.u
/// special files are described by `extension` (see
/// [`u::Extension`](crate::u::Extension)).
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "proptest", derive(proptest_derive::Arbitrary))]
pub struct Tcreate {
    /// The directory; becomes the new file.
    pub fid: u32,
    /// The new name.
    pub name: P9String,
    /// Type and permission bits.
    pub perm: DirMode,
    /// How to open the new file.
    pub mode: OpenMode,
    /// 9P2000.u: symlink target, `b|c major minor`, or a fid number for a
    /// hard link. Not on the wire in 9P2000 (decodes as empty).
    pub extension: P9String,
}

impl Wire for Tcreate {
    fn wire_len(&self, d: Dialect) -> Result<usize, EncodeError> {
        let ext = if d.has_unix_fields() { self.extension.wire_len(d)? } else { 0 };
        Ok(4 + self.name.wire_len(d)? + 4 + 1 + ext)
    }
    fn put<B: BufMut>(&self, w: &mut Writer<'_, B>, d: Dialect) {
        w.u32(self.fid);
        self.name.put(w, d);
        self.perm.put(w, d);
        self.mode.put(w, d);
        if d.has_unix_fields() {
            self.extension.put(w, d);
        }
    }
    fn get(r: &mut Reader<'_>, d: Dialect) -> Result<Self, Fault> {
        Ok(Tcreate {
            fid: r.u32().map_err(|f| f.in_field("fid"))?,
            name: P9String::get(r, d).map_err(|f| f.in_field("name"))?,
            perm: DirMode::get(r, d).map_err(|f| f.in_field("perm"))?,
            mode: OpenMode::get(r, d).map_err(|f| f.in_field("mode"))?,
            extension: if d.has_unix_fields() {
                P9String::get(r, d).map_err(|f| f.in_field("extension"))?
            } else {
                P9String::new()
            },
        })
    }
}

wire_struct! {
    /// `Rcreate qid[13] iounit[4]`.
    pub struct Rcreate {
        /// The new file's qid.
        pub qid: Qid,
        /// Preferred I/O size; 0 lets the client use msize − 24.
        pub iounit: u32,
    }
}
