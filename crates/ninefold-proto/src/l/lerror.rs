//! Rlerror: the error reply of 9P2000.L.

use crate::wire::wire_struct;
use crate::Errno;

wire_struct! {
    /// `Rlerror ecode[4]`: a Linux errno (the kernel accepts 1..=4095). The
    /// only error reply of a 9P2000.L connection.
    ///
    /// ```
    /// use ninefold_proto::{l::Rlerror, Errno};
    /// let e = Rlerror { ecode: Errno::ENOENT };
    /// assert_eq!(e.ecode.get(), 2);
    /// ```
    pub struct Rlerror {
        /// The errno.
        pub ecode: Errno,
    }
}
