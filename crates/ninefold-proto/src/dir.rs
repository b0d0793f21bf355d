//! Directory listings on the wire: packing entries into a reply without ever
//! splitting one ([`DirPacker`]), and reading them back ([`DirBlock`],
//! [`read_stats`]).
//!
//! Three record kinds travel in directory reads: 9P2000.L
//! [`Dirent`](crate::l::Dirent) (Rreaddir), 9P2000.L.Z
//! [`DirentAttr`](crate::z::DirentAttr) (Rreaddirattr) and, for 9P2000 and
//! 9P2000.u, whole [`Stat`](crate::base::Stat) records in the data of an
//! Rread on a directory.
//!
//! ```
//! use ninefold_proto::dir::DirPacker;
//! use ninefold_proto::l::Dirent;
//! use ninefold_proto::{sizes, Dialect, DirentType, Qid};
//!
//! // A server answering Treaddir with count = 4096 at msize 8192.
//! let count = sizes::clamp_read_count(4096, 8192);
//! let mut packer = DirPacker::<Dirent>::new(count as usize, Dialect::L);
//! for (i, name) in ["a", "b", "c"].into_iter().enumerate() {
//!     let entry = Dirent { qid: Qid::default(), offset: i as u64 + 1, ty: DirentType::REG, name: name.into() };
//!     if !packer.push(&entry)? {
//!         break; // full: the next Treaddir resumes from the last cookie
//!     }
//! }
//! let block = packer.finish_block();
//! let names: Vec<_> = block.iter().map(|e| e.name).collect();
//! assert_eq!(names, ["a", "b", "c"]);
//! # Ok::<(), ninefold_proto::EncodeError>(())
//! ```

use std::fmt;
use std::marker::PhantomData;

use bytes::{BufMut, Bytes, BytesMut};

use crate::error::{DecodeError, EncodeError};
use crate::wire::{Fault, Reader, Wire, Writer};
use crate::Dialect;

mod sealed {
    pub trait Sealed {}
}

/// A record that directory reads pack back to back:
/// [`Dirent`](crate::l::Dirent), [`DirentAttr`](crate::z::DirentAttr) or
/// [`Stat`](crate::base::Stat). Sealed.
#[allow(private_bounds)]
pub trait Record: sealed::Sealed + Wire {
    /// Encoded length in `dialect`, or why it cannot be encoded (a name over
    /// 65535 bytes).
    fn record_len(&self, dialect: Dialect) -> Result<usize, EncodeError> {
        self.wire_len(dialect)
    }
}

/// A record whose layout is the same in every dialect, so that a validated
/// block of them can be iterated without one.
pub trait FixedRecord: Record {}

impl sealed::Sealed for crate::l::Dirent {}
impl Record for crate::l::Dirent {}
impl FixedRecord for crate::l::Dirent {}
impl sealed::Sealed for crate::z::DirentAttr {}
impl Record for crate::z::DirentAttr {}
impl FixedRecord for crate::z::DirentAttr {}
impl sealed::Sealed for crate::base::Stat {}
impl Record for crate::base::Stat {}

/// Packs records into a buffer of at most `limit` bytes, refusing (never
/// splitting) the one that does not fit.
#[derive(Debug)]
pub struct DirPacker<E> {
    buf: BytesMut,
    limit: usize,
    dialect: Dialect,
    entries: usize,
    _kind: PhantomData<fn(&E)>,
}

impl<E: Record> DirPacker<E> {
    /// A packer for a reply of at most `limit` bytes of entries (the
    /// request's `count`, already clamped to the msize bound).
    pub fn new(limit: usize, dialect: Dialect) -> DirPacker<E> {
        // Room for a typical reply up front, never more than the limit, so
        // a small listing does not pay for a large msize.
        const INITIAL: usize = 8192;
        let buf = BytesMut::with_capacity(limit.min(INITIAL));
        DirPacker { buf, limit, dialect, entries: 0, _kind: PhantomData }
    }

    /// Appends `entry` if it fits whole: `Ok(true)` when added, `Ok(false)`
    /// when it does not fit (nothing written: stop and reply). Errors only
    /// for an entry that can never be encoded.
    pub fn push(&mut self, entry: &E) -> Result<bool, EncodeError> {
        let len = entry.record_len(self.dialect)?;
        if len > self.remaining() {
            return Ok(false);
        }
        self.buf.reserve(len);
        let mut w = Writer::new(&mut self.buf, false);
        entry.put(&mut w, self.dialect);
        w.finish();
        self.entries += 1;
        Ok(true)
    }

    /// Bytes still free.
    pub fn remaining(&self) -> usize {
        self.limit.saturating_sub(self.buf.len())
    }

    /// Bytes used.
    pub fn len(&self) -> usize {
        self.buf.len()
    }

    /// Whether nothing has been packed.
    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    /// Entries packed.
    pub fn entries(&self) -> usize {
        self.entries
    }

    /// The packed bytes (for example as the data of a 9P2000 Rread).
    pub fn finish(self) -> Bytes {
        self.buf.freeze()
    }
}

impl<E: FixedRecord> DirPacker<E> {
    /// The packed entries as a block for Rreaddir/Rreaddirattr.
    pub fn finish_block(self) -> DirBlock<E> {
        DirBlock { data: self.buf.freeze(), _kind: PhantomData }
    }
}

/// A validated run of whole directory entries: the `data` of Rreaddir
/// (`DirBlock<Dirent>`) or Rreaddirattr (`DirBlock<DirentAttr>`). It only
/// exists checked, so iterating it cannot fail; the bytes are a slice of the
/// received frame.
pub struct DirBlock<E> {
    data: Bytes,
    _kind: PhantomData<fn() -> E>,
}

impl<E: FixedRecord> DirBlock<E> {
    /// An empty block: the end-of-directory reply.
    pub fn empty() -> DirBlock<E> {
        DirBlock { data: Bytes::new(), _kind: PhantomData }
    }

    /// Checks that `data` is a sequence of whole entries.
    pub fn parse(data: Bytes) -> Result<DirBlock<E>, DecodeError> {
        validate::<E>(&data).map_err(|f| DecodeError::from_fault(f, None))?;
        Ok(DirBlock { data, _kind: PhantomData })
    }

    /// The packed bytes.
    pub fn as_bytes(&self) -> &Bytes {
        &self.data
    }

    /// The packed bytes, by value.
    pub fn into_bytes(self) -> Bytes {
        self.data
    }

    /// Length in bytes (the reply's `count`).
    pub fn len(&self) -> usize {
        self.data.len()
    }

    /// Whether the block holds no entry (end of directory).
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// The entries, in order.
    pub fn iter(&self) -> DirIter<'_, E> {
        DirIter { data: &self.data, pos: 0, _kind: PhantomData }
    }
}

fn validate<E: FixedRecord>(data: &Bytes) -> Result<(), Fault> {
    let mut r = Reader::new(data, 0);
    while r.remaining() > 0 {
        E::get(&mut r, Dialect::L)?;
    }
    Ok(())
}

impl<E> Clone for DirBlock<E> {
    fn clone(&self) -> Self {
        DirBlock { data: self.data.clone(), _kind: PhantomData }
    }
}

impl<E> PartialEq for DirBlock<E> {
    fn eq(&self, other: &Self) -> bool {
        self.data == other.data
    }
}

impl<E> Eq for DirBlock<E> {}

impl<E: FixedRecord + fmt::Debug> fmt::Debug for DirBlock<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl<E: FixedRecord> Default for DirBlock<E> {
    fn default() -> Self {
        DirBlock::empty()
    }
}

impl<'a, E: FixedRecord> IntoIterator for &'a DirBlock<E> {
    type Item = E;
    type IntoIter = DirIter<'a, E>;
    fn into_iter(self) -> DirIter<'a, E> {
        self.iter()
    }
}

/// `count[4] data[count]`, checked entry by entry on decode.
impl<E: FixedRecord> Wire for DirBlock<E> {
    fn wire_len(&self, d: Dialect) -> Result<usize, EncodeError> {
        self.data.wire_len(d)
    }
    fn put<B: BufMut>(&self, w: &mut Writer<'_, B>, d: Dialect) {
        self.data.put(w, d)
    }
    fn get(r: &mut Reader<'_>, d: Dialect) -> Result<Self, Fault> {
        let data = Bytes::get(r, d)?;
        validate::<E>(&data)?;
        Ok(DirBlock { data, _kind: PhantomData })
    }
}

/// Iterator over a [`DirBlock`].
#[derive(Debug)]
pub struct DirIter<'a, E> {
    data: &'a Bytes,
    pos: usize,
    _kind: PhantomData<fn() -> E>,
}

impl<E: FixedRecord> Iterator for DirIter<'_, E> {
    type Item = E;

    fn next(&mut self) -> Option<E> {
        let mut r = Reader::new(self.data, self.pos);
        // The block was validated, so a failure here cannot happen; stop
        // rather than panic if it somehow did.
        let entry = E::get(&mut r, Dialect::L).ok()?;
        self.pos = self.data.len() - r.remaining();
        Some(entry)
    }
}

/// Reads the stat records of a 9P2000/9P2000.u directory read (the `data`
/// of an Rread on a directory fid), in `dialect`'s layout. Stops at the
/// first malformed record, yielding its error.
///
/// ```
/// use ninefold_proto::base::Stat;
/// use ninefold_proto::dir::{read_stats, DirPacker};
/// use ninefold_proto::Dialect;
///
/// let mut packer = DirPacker::<Stat>::new(8192, Dialect::U);
/// let mut st = Stat::dont_touch();
/// st.name = "notes".into();
/// assert!(packer.push(&st)?);
/// let data = packer.finish();
/// let names: Vec<_> = read_stats(&data, Dialect::U).map(|s| s.unwrap().name).collect();
/// assert_eq!(names, ["notes"]);
/// # Ok::<(), ninefold_proto::EncodeError>(())
/// ```
pub fn read_stats(
    data: &Bytes,
    dialect: Dialect,
) -> impl Iterator<Item = Result<crate::base::Stat, DecodeError>> + '_ {
    let mut pos = 0;
    let mut failed = false;
    std::iter::from_fn(move || {
        if failed || pos >= data.len() {
            return None;
        }
        let mut r = Reader::new(data, pos);
        match crate::base::Stat::get(&mut r, dialect) {
            Ok(stat) => {
                pos = data.len() - r.remaining();
                Some(Ok(stat))
            }
            Err(f) => {
                failed = true;
                Some(Err(DecodeError::from_fault(f, Some("stat"))))
            }
        }
    })
}
