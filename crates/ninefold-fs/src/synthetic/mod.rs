//! Synthetic nodes: objects whose content is computed, fixed or
//! deliberately odd, to place in a [`memfs`](crate::memfs) tree or serve
//! on their own.
//!
//! - [`StaticFile`]: fixed bytes, read-only, zero-copy reads;
//! - [`Symlink`] and [`Device`] (character/block, with major/minor);
//! - [`GeneratedFile`]: content computed by a closure, either whole
//!   (captured at open, so one open reads one consistent snapshot) or
//!   per read;
//! - [`ZeroFile`] (reads return zeros from a static buffer, writes are
//!   discarded) and [`NullFile`] (reads hit end of file, writes are
//!   discarded), for benchmarks;
//! - [`Wrapped`]: any node made slow (each read and write waits, ending
//!   early with EINTR when the request is flushed) or given fixed statfs
//!   numbers.
//!
//! Every node takes its qid from a [`QidGen`](ninefold_server::QidGen)
//! (`new`) or an explicit [`Qid`] (`with_qid`).

mod device;
mod generated;
mod static_file;
mod symlink;
mod wrapped;
mod zero;

use std::time::{SystemTime, UNIX_EPOCH};

use ninefold_proto::l::Attr;
use ninefold_proto::Qid;

pub use device::Device;
pub use generated::GeneratedFile;
pub use static_file::StaticFile;
pub use symlink::Symlink;
pub use wrapped::Wrapped;
pub use zero::{NullFile, ZeroFile, ZERO_CHUNK};

/// Owner and timestamps shared by the synthetic nodes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Stamp {
    uid: u32,
    gid: u32,
    sec: u64,
    nsec: u64,
}

impl Stamp {
    fn now() -> Stamp {
        let d = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
        Stamp { uid: 0, gid: 0, sec: d.as_secs(), nsec: u64::from(d.subsec_nanos()) }
    }

    /// Attributes with every BASIC field filled.
    fn attr(&self, qid: Qid, mode: u32, size: u64, rdev: u64) -> Attr {
        Attr {
            qid,
            mode,
            uid: self.uid,
            gid: self.gid,
            nlink: 1,
            rdev,
            size,
            blksize: 4096,
            blocks: size.div_ceil(512),
            atime_sec: self.sec,
            atime_nsec: self.nsec,
            mtime_sec: self.sec,
            mtime_nsec: self.nsec,
            ctime_sec: self.sec,
            ctime_nsec: self.nsec,
            btime_sec: self.sec,
            btime_nsec: self.nsec,
            gen: 0,
            data_version: 0,
        }
    }
}

/// The slice of `data` a read at `offset` for `count` bytes returns.
fn slice(data: &bytes::Bytes, offset: u64, count: u32) -> bytes::Bytes {
    let len = data.len() as u64;
    let start = offset.min(len) as usize;
    let end = offset.saturating_add(u64::from(count)).min(len) as usize;
    data.slice(start..end)
}

/// Implements the owner setter for a node with a `stamp` field.
macro_rules! owner_setter {
    ($ty:ty) => {
        impl $ty {
            /// Sets the owner reported by getattr (default 0:0).
            #[must_use]
            pub fn owner(mut self, uid: u32, gid: u32) -> Self {
                self.stamp.uid = uid;
                self.stamp.gid = gid;
                self
            }
        }
    };
}
use owner_setter;
