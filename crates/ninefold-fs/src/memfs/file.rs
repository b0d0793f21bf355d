//! Regular-file content: read, write (O(size), no quadratic copies) and
//! truncate, with size limits and space accounting.

use bytes::Bytes;
use ninefold_proto::{Errno, FallocateMode};
use ninefold_server::{Request, Result};

use super::node::{Body, MemNode, State};
use super::perm;

impl MemNode {
    /// Up to `count` bytes at `offset`.
    pub(crate) fn read_at(&self, offset: u64, count: u32) -> Result<Bytes> {
        let st = self.read_state();
        match &st.body {
            Body::File(data) => {
                let len = data.len() as u64;
                if offset >= len {
                    return Ok(Bytes::new());
                }
                let start = offset as usize;
                let end = (offset.saturating_add(u64::from(count))).min(len) as usize;
                Ok(data.read(start, end))
            }
            Body::Dir(_) => Err(Errno::EISDIR),
            _ => Err(Errno::EINVAL),
        }
    }

    /// Writes `data` at `offset`, or at the end of the file for `None`
    /// (O_APPEND). A write crossing the size limit is cut short; one
    /// starting at or past it fails with EFBIG.
    /// A payload the server received into a frame buffer of its own may
    /// become the file's chunk without a copy (see
    /// [`Content::write_shared`](super::content::Content::write_shared)).
    pub(crate) fn write_at(&self, req: &Request, offset: Option<u64>, data: &Bytes) -> Result<u32> {
        let max = self.shared.limits.max_file_size;
        let mut st = self.write_state();
        let State { meta, body } = &mut *st;
        let Body::File(buf) = body else {
            return Err(if matches!(body, Body::Dir(_)) { Errno::EISDIR } else { Errno::EINVAL });
        };
        let len = buf.len() as u64;
        let offset = offset.unwrap_or(len);
        if data.is_empty() {
            return Ok(0);
        }
        if offset >= max {
            return Err(Errno::EFBIG);
        }
        let n = (data.len() as u64).min(max - offset).min(u64::from(u32::MAX));
        let end = offset + n;
        if end > len {
            self.shared.charge_bytes(end - len)?;
        }
        let data = data.slice(..n as usize);
        let (offset, end) = (offset as usize, end as usize);
        debug_assert_eq!(end - offset, data.len());
        buf.write_shared(offset, &data);
        meta.touch_modified();
        // A write by anyone but the superuser drops set-user-ID, and
        // set-group-ID when group execution is on.
        if perm::caller(req).is_some() {
            let mut kill = perm::S_ISUID;
            if meta.mode & 0o010 != 0 {
                kill |= perm::S_ISGID;
            }
            meta.mode &= !kill;
        }
        self.bump_version();
        Ok(n as u32)
    }

    /// Sets the size of a regular file (state already locked).
    pub(crate) fn truncate_locked(&self, st: &mut State, size: u64) -> Result<()> {
        let State { meta, body } = st;
        let buf = match body {
            Body::File(buf) => buf,
            Body::Dir(_) => return Err(Errno::EISDIR),
            _ => return Err(Errno::EINVAL),
        };
        if size > self.shared.limits.max_file_size {
            return Err(Errno::EFBIG);
        }
        let len = buf.len() as u64;
        if size > len {
            self.shared.charge_bytes(size - len)?;
            buf.resize(size as usize);
        } else if size < len {
            buf.resize(size as usize);
            self.shared.release_bytes(len - size);
        }
        meta.touch_modified();
        self.bump_version();
        Ok(())
    }

    /// `fallocate(2)` on a regular file: mode 0 extends the size to cover
    /// the range; PUNCH_HOLE | KEEP_SIZE and ZERO_RANGE zero the range
    /// (ZERO_RANGE without KEEP_SIZE may extend the file). Memory holds no
    /// holes, so allocation is only the size change.
    pub(crate) fn fallocate_at(&self, offset: u64, length: u64, mode: FallocateMode) -> Result<()> {
        let end = offset.checked_add(length).ok_or(Errno::EFBIG)?;
        let mut st = self.write_state();
        let len = match &st.body {
            Body::File(buf) => buf.len() as u64,
            Body::Dir(_) => return Err(Errno::EISDIR),
            _ => return Err(Errno::ENODEV),
        };
        let keep = mode.contains(FallocateMode::KEEP_SIZE);
        let zero = mode.intersects(FallocateMode::PUNCH_HOLE | FallocateMode::ZERO_RANGE);
        if !keep && end > len {
            self.truncate_locked(&mut st, end)?;
        }
        if zero {
            if let Body::File(buf) = &mut st.body {
                let stop = (end.min(buf.len() as u64)) as usize;
                let start = (offset as usize).min(stop);
                buf.zero(start, stop);
            }
            st.meta.touch_modified();
            self.bump_version();
        }
        Ok(())
    }
}
