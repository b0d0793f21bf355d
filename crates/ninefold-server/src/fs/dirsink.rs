//! [`DirSink`]: where a readdir method puts its entries.

use ninefold_proto::dir::DirPacker;
use ninefold_proto::l::Dirent;
use ninefold_proto::{Dialect, DirentType, P9String, Qid};

/// Collects directory entries for one Rreaddir, never more than fit.
///
/// A readdir method pushes entries starting after the cookie it was given
/// and stops at the first `false` (the entry did not fit and was not
/// added; it must come first in the next call).
///
/// Each entry's `cookie` is the offset of the position **after** it: the
/// client passes it back to resume. Cookies are opaque to the client, but
/// must never be 0 (0 means "from the start") and must advance, or the
/// client loops.
///
/// ```
/// use ninefold_server::DirSink;
/// use ninefold_proto::{DirentType, Qid, QidType};
///
/// let mut sink = DirSink::new(64);
/// let qid = Qid { ty: QidType::FILE, version: 0, path: 1 };
/// assert!(sink.push(qid, 1, DirentType::REG, b"a"));
/// // 24 bytes + the name per entry: a 64-byte reply holds two short names.
/// assert!(sink.push(qid, 2, DirentType::REG, b"b"));
/// assert!(!sink.push(qid, 3, DirentType::REG, b"c"));
/// assert_eq!(sink.entries(), 2);
/// ```
#[derive(Debug)]
pub struct DirSink {
    packer: DirPacker<Dirent>,
}

impl DirSink {
    /// A sink holding at most `limit` bytes of encoded entries.
    pub fn new(limit: usize) -> DirSink {
        DirSink { packer: DirPacker::new(limit, Dialect::L) }
    }

    /// Adds an entry if it fits whole; `false` means it did not fit (or
    /// its name is longer than 65535 bytes) and nothing was added.
    pub fn push(&mut self, qid: Qid, cookie: u64, ty: DirentType, name: &[u8]) -> bool {
        let entry = Dirent { qid, offset: cookie, ty, name: P9String::from(name) };
        self.push_entry(&entry)
    }

    /// [`push`](Self::push) for an entry already built.
    pub fn push_entry(&mut self, entry: &Dirent) -> bool {
        self.packer.push(entry).unwrap_or(false)
    }

    /// Bytes still free.
    pub fn remaining(&self) -> usize {
        self.packer.remaining()
    }

    /// Entries added so far.
    pub fn entries(&self) -> usize {
        self.packer.entries()
    }

    /// Whether nothing was added (an empty reply means end of directory).
    pub fn is_empty(&self) -> bool {
        self.packer.is_empty()
    }

    /// The entries as a block (what the reply carries); iterate it to read
    /// back what was pushed, for example in a filesystem's own tests.
    ///
    /// ```
    /// use ninefold_server::DirSink;
    /// use ninefold_proto::{DirentType, Qid};
    ///
    /// let mut sink = DirSink::new(4096);
    /// sink.push(Qid::default(), 1, DirentType::REG, b"a");
    /// let names: Vec<_> = sink.finish_block().iter().map(|e| e.name).collect();
    /// assert_eq!(names, ["a"]);
    /// ```
    pub fn finish_block(self) -> ninefold_proto::dir::DirBlock<Dirent> {
        self.packer.finish_block()
    }
}
