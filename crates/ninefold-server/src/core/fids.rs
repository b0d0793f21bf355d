//! The fid table of one connection: bound fids, numbers reserved by
//! requests that will bind them on success, and busy marks (a clunk runs
//! after every earlier request on its fid).

use std::collections::HashMap;
use std::sync::Arc;

use ninefold_proto::Errno;
use tokio::sync::OwnedRwLockReadGuard;

use crate::fid::Fid;

/// A request's mark on a fid it uses: shared, so a later Tclunk (which
/// takes the fid exclusively) waits for it.
pub(crate) type BusyMark = OwnedRwLockReadGuard<()>;

/// A request's busy marks: at most two (its fid and its second fid),
/// kept without an allocation.
#[derive(Debug, Default)]
pub(crate) struct Marks([Option<BusyMark>; 2]);

impl Marks {
    /// Adds a mark (a request has at most two).
    pub(crate) fn push(&mut self, mark: BusyMark) {
        match self.0.iter_mut().find(|m| m.is_none()) {
            Some(slot) => *slot = Some(mark),
            None => debug_assert!(false, "more than two busy marks"),
        }
    }

    /// How many marks are held.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.0.iter().flatten().count()
    }

    /// Drops every mark.
    pub(crate) fn clear(&mut self) {
        self.0 = [None, None];
    }
}

#[derive(Debug)]
enum Slot {
    Bound(Arc<Fid>),
    /// Taken by a request that will bind it on success (Twalk newfid,
    /// Tattach fid, Txattrwalk newfid).
    Reserved,
}

/// The fids of one connection.
#[derive(Debug)]
pub(crate) struct FidTable {
    slots: HashMap<u32, Slot>,
    max: usize,
}

impl FidTable {
    pub(crate) fn new(max: usize) -> FidTable {
        FidTable { slots: HashMap::new(), max }
    }

    /// The fid bound to `fid`.
    pub(crate) fn get(&self, fid: u32) -> Result<Arc<Fid>, Errno> {
        match self.slots.get(&fid) {
            Some(Slot::Bound(f)) => Ok(f.clone()),
            _ => Err(Errno::EBADF),
        }
    }

    /// The fid bound to `fid`, marked busy for the caller.
    pub(crate) fn use_busy(&self, fid: u32) -> Result<(Arc<Fid>, BusyMark), Errno> {
        let f = self.get(fid)?;
        // Only a clunk or remove holds the fid exclusively, and those
        // unbind it on arrival: failing here means it is on its way out.
        let mark = f.busy.clone().try_read_owned().map_err(|_| Errno::EBADF)?;
        Ok((f, mark))
    }

    /// Number of fids bound or reserved.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.slots.len()
    }

    /// Reserves `fid` for a request that will bind it: EINVAL when in use,
    /// EMFILE at the fid limit.
    pub(crate) fn reserve(&mut self, fid: u32) -> Result<(), Errno> {
        if fid == ninefold_proto::NOFID || self.slots.contains_key(&fid) {
            return Err(Errno::EINVAL);
        }
        if self.slots.len() >= self.max {
            return Err(Errno::EMFILE);
        }
        self.slots.insert(fid, Slot::Reserved);
        Ok(())
    }

    /// Binds a reserved (or existing) fid number to `f`, returning what
    /// it replaced.
    pub(crate) fn bind(&mut self, fid: u32, f: Arc<Fid>) -> Option<Arc<Fid>> {
        match self.slots.insert(fid, Slot::Bound(f)) {
            Some(Slot::Bound(old)) => Some(old),
            _ => None,
        }
    }

    /// Drops a reservation that was not bound.
    pub(crate) fn unreserve(&mut self, fid: u32) {
        if let Some(Slot::Reserved) = self.slots.get(&fid) {
            self.slots.remove(&fid);
        }
    }

    /// Unbinds `fid` (Tclunk, Tremove).
    pub(crate) fn remove(&mut self, fid: u32) -> Result<Arc<Fid>, Errno> {
        match self.slots.get(&fid) {
            Some(Slot::Bound(_)) => match self.slots.remove(&fid) {
                Some(Slot::Bound(f)) => Ok(f),
                _ => Err(Errno::EBADF),
            },
            _ => Err(Errno::EBADF),
        }
    }

    /// Unbinds every fid (Tversion, disconnect).
    pub(crate) fn take_all(&mut self) -> Vec<(u32, Arc<Fid>)> {
        self.slots
            .drain()
            .filter_map(|(n, slot)| match slot {
                Slot::Bound(f) => Some((n, f)),
                Slot::Reserved => None,
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fid::Location;
    use crate::fs::Identity;
    use async_trait::async_trait;
    use bytes::Bytes;
    use ninefold_proto::Qid;

    #[derive(Debug)]
    struct N;
    #[async_trait]
    impl crate::Node for N {
        fn qid(&self) -> Qid {
            Qid::default()
        }
    }

    fn fid() -> Arc<Fid> {
        Fid::new(Location::root(Arc::new(N)), Arc::new(Identity::root()), Bytes::new())
    }

    #[test]
    fn fids_are_reserved_bound_and_limited() {
        let mut s = FidTable::new(2);
        s.reserve(1).unwrap();
        assert_eq!(s.reserve(1), Err(Errno::EINVAL));
        assert_eq!(s.get(1).unwrap_err(), Errno::EBADF);
        s.bind(1, fid());
        assert!(s.get(1).is_ok());
        s.reserve(2).unwrap();
        assert_eq!(s.reserve(3), Err(Errno::EMFILE));
        s.unreserve(2);
        s.reserve(3).unwrap();
        assert!(s.remove(1).is_ok());
        assert_eq!(s.remove(1).unwrap_err(), Errno::EBADF);
        assert_eq!(s.len(), 1);
    }

    #[test]
    fn a_fid_held_exclusively_is_not_lent() {
        let mut s = FidTable::new(2);
        let f = fid();
        s.bind(1, f.clone());
        let (_, mark) = s.use_busy(1).unwrap();
        assert!(f.busy.clone().try_write_owned().is_err(), "a clunk waits for the mark");
        drop(mark);
        let _exclusive = f.busy.clone().try_write_owned().unwrap();
        assert_eq!(s.use_busy(1).unwrap_err(), Errno::EBADF);
    }
}
