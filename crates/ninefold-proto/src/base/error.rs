//! Rerror: the error reply of 9P2000 and 9P2000.u.

use bytes::BufMut;

use crate::error::EncodeError;
use crate::wire::{Fault, Reader, Wire, Writer};
use crate::{Dialect, Errno, P9String};

/// `Rerror ename[s] (errno[4])`: the error reply of 9P2000 (a string) and
/// 9P2000.u (a string and a Linux errno). 9P2000.L uses
/// [`Rlerror`](crate::l::Rlerror) instead.
///
/// ```
/// use ninefold_proto::{base::Rerror, Errno};
/// let e = Rerror::from_errno(Errno::ENOENT);
/// assert_eq!(e.ename, "No such file or directory");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "proptest", derive(proptest_derive::Arbitrary))]
pub struct Rerror {
    /// The error text.
    pub ename: P9String,
    /// 9P2000.u: the errno (0 = none; the client maps the text). Not on the
    /// wire in 9P2000 (decodes as 0).
    pub errno: Errno,
}

impl Rerror {
    /// The conventional reply for `errno`: its message text and number.
    pub fn from_errno(errno: Errno) -> Rerror {
        Rerror { ename: P9String::from_static(errno.message()), errno }
    }

    /// The errno this reply stands for: the number when present, else the
    /// one the text names (as the Linux client maps it), else EIO.
    pub fn to_errno(&self) -> Errno {
        if self.errno.get() != 0 {
            return self.errno;
        }
        Errno::from_message(&self.ename).unwrap_or(Errno::EIO)
    }
}

impl Wire for Rerror {
    fn wire_len(&self, d: Dialect) -> Result<usize, EncodeError> {
        let n = if d.has_unix_fields() { 4 } else { 0 };
        Ok(self.ename.wire_len(d)? + n)
    }
    fn put<B: BufMut>(&self, w: &mut Writer<'_, B>, d: Dialect) {
        self.ename.put(w, d);
        if d.has_unix_fields() {
            w.u32(self.errno.get());
        }
    }
    fn get(r: &mut Reader<'_>, d: Dialect) -> Result<Self, Fault> {
        let ename = P9String::get(r, d).map_err(|f| f.in_field("ename"))?;
        let errno = if d.has_unix_fields() {
            Errno::new(r.u32().map_err(|f| f.in_field("errno"))?)
        } else {
            Errno::new(0)
        };
        Ok(Rerror { ename, errno })
    }
}
