//! POSIX and flock locks (Tlock / Tgetlock) and extended attributes
//! (Txattrwalk / Txattrcreate).
//!
//! Locks: the kernel hands every lock to us (`FUSE_POSIX_LOCKS` and
//! `FUSE_FLOCK_LOCKS`), so conflicts are settled by the server, across
//! mounts and clients. The server's lock owner is an open fid, so each
//! (node, kernel lock owner) gets its own opened fid: a process's POSIX
//! locks through any descriptor are one owner, an `flock` belongs to its
//! open file (the kernel's owner for flock is the file). A blocking
//! request is sent with BLOCK; our server waits for the lock itself,
//! servers that answer BLOCKED at once (diod) are asked again after an
//! exponentially growing pause (10 ms to 1 s), never in a tight loop.

use std::sync::Arc;
use std::time::Duration;

use ninefold_client::proto::l;
use ninefold_client::proto::{LockFlags, LockStatus, LockType, Message, XattrFlags};
use ninefold_client::{Bytes, Errno, Error, Fid, Result};

use crate::core::{lock, Core, Who};
use crate::remote::{retry, Conn};

/// The xattr the kernel checks before each write.
const CAPS_XATTR: &[u8] = b"security.capability";
/// Nodes remembered without capabilities at most.
const NO_CAPS_MAX: usize = 64 * 1024;

const F_RDLCK: i32 = 0;
const F_WRLCK: i32 = 1;
const F_UNLCK: i32 = 2;
const OFFSET_MAX: u64 = i64::MAX as u64;

/// A FUSE inclusive range as a 9P start + length (0 = to EOF).
fn range(start: u64, end: u64) -> (u64, u64) {
    if end >= OFFSET_MAX {
        (start, 0)
    } else {
        (start, end.saturating_sub(start) + 1)
    }
}

fn lock_type(typ: i32) -> Result<LockType> {
    match typ {
        F_RDLCK => Ok(LockType::RDLCK),
        F_WRLCK => Ok(LockType::WRLCK),
        F_UNLCK => Ok(LockType::UNLCK),
        _ => Err(Error::Io(Errno::EINVAL)),
    }
}

/// A reply to a conflict probe: (start, end, type, pid).
pub(crate) type Conflict = (u64, u64, i32, u32);

impl Core {
    /// The lock fid of (`h`'s node, `owner`) on `c`, opened like `h`.
    async fn lock_fid(&self, c: &Conn, fh: u64, owner: u64) -> Result<Arc<Fid>> {
        let h = self.handle(fh)?;
        if let Some(f) = lock(&self.locks).get(&(h.ino, owner)) {
            if c.session.owns(f) {
                return Ok(f.clone());
            }
        }
        let fid = self.clone_fid(c, h.ino, h.uid).await?;
        c.session.lopen(&fid, h.flags).await?;
        let fid = Arc::new(fid);
        lock(&self.locks).insert((h.ino, owner), fid.clone());
        Ok(fid)
    }

    /// Clunks the lock fid of (`ino`, `owner`), releasing its locks on the
    /// server before returning.
    pub(crate) async fn drop_lock_fid(&self, ino: u64, owner: u64) {
        let fid = lock(&self.locks).remove(&(ino, owner));
        if let Some(fid) = fid {
            if let Ok(fid) = Arc::try_unwrap(fid) {
                let s = fid.session();
                let _ = s.clunk(fid).await;
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn setlk(
        &self,
        fh: u64,
        owner: u64,
        start: u64,
        end: u64,
        typ: i32,
        pid: u32,
        sleep: bool,
    ) -> Result<()> {
        let ty = lock_type(typ)?;
        let (start, length) = range(start, end);
        // Writes made under a lock reach the server before it is let go
        // (and before another lock is taken), as NFS does.
        if let Ok(h) = self.handle(fh) {
            self.behind.settle(h.ino, None).await;
        }
        let mut pause = Duration::from_millis(10);
        loop {
            let status = retry!(self.remote, |c| async {
                let fid = self.lock_fid(&c, fh, owner).await?;
                let flags = if sleep && ty != LockType::UNLCK {
                    LockFlags::BLOCK
                } else {
                    LockFlags::empty()
                };
                let msg = l::Tlock {
                    fid: fid.num(),
                    ty,
                    flags,
                    start,
                    length,
                    proc_id: pid,
                    client_id: self.client_id.clone().into_bytes().into(),
                };
                match c.session.call(msg).await? {
                    Message::Rlock(r) => Ok(r.status),
                    other => Err(Error::Protocol(format!("expected Rlock, got {}", other.name()))),
                }
            })?;
            match status {
                LockStatus::SUCCESS => return Ok(()),
                LockStatus::BLOCKED if sleep => {
                    tokio::time::sleep(pause).await;
                    pause = (pause * 2).min(Duration::from_secs(1));
                }
                LockStatus::BLOCKED => return Err(Error::Io(Errno::EAGAIN)),
                _ => return Err(Error::Io(Errno::ENOLCK)),
            }
        }
    }

    pub(crate) async fn getlk(
        &self,
        fh: u64,
        owner: u64,
        start: u64,
        end: u64,
        typ: i32,
        pid: u32,
    ) -> Result<Conflict> {
        // Ask with the caller's type (diod refuses UNLCK probes).
        let ty = lock_type(typ)?;
        let (s, length) = range(start, end);
        let r = retry!(self.remote, |c| async {
            let fid = self.lock_fid(&c, fh, owner).await?;
            let msg = l::Tgetlock {
                fid: fid.num(),
                ty,
                start: s,
                length,
                proc_id: pid,
                client_id: self.client_id.clone().into_bytes().into(),
            };
            match c.session.call(msg).await? {
                Message::Rgetlock(r) => Ok(r),
                other => Err(Error::Protocol(format!("expected Rgetlock, got {}", other.name()))),
            }
        })?;
        if r.ty == LockType::UNLCK {
            return Ok((start, end, F_UNLCK, 0));
        }
        let t = if r.ty == LockType::RDLCK { F_RDLCK } else { F_WRLCK };
        let e = if r.length == 0 { OFFSET_MAX } else { r.start + r.length - 1 };
        Ok((r.start, e, t, r.proc_id))
    }

    /// Reads an xattr (empty `name`: the list) through a Txattrwalk fid.
    /// `size` 0 asks for the length only.
    /// Whether node `id` is known, recently, to have no
    /// `security.capability`. The kernel asks for that attribute before
    /// every `write(2)` (to drop file capabilities); without this the
    /// answer would cost a 9P round trip per write. Remembered for the
    /// attribute timeout (never in `strict` mode) and forgotten when this
    /// mount changes any xattr of the node.
    pub(crate) fn known_no_caps(&self, id: u64) -> bool {
        let ttl = self.ttl();
        !ttl.is_zero() && lock(&self.no_caps).get(&id).is_some_and(|t| t.elapsed() < ttl)
    }

    pub(crate) async fn getxattr(
        &self,
        who: Who,
        id: u64,
        name: &[u8],
        size: u32,
    ) -> Result<XattrReply> {
        let caps = name == CAPS_XATTR;
        if caps && self.known_no_caps(id) {
            return Err(Error::Io(Errno::ENODATA));
        }
        let r = self.getxattr_wire(who, id, name, size).await;
        if caps && !self.ttl().is_zero() {
            let mut m = lock(&self.no_caps);
            match &r {
                Err(e) if e.errno() == Errno::ENODATA => {
                    if m.len() >= NO_CAPS_MAX {
                        m.clear();
                    }
                    m.insert(id, std::time::Instant::now());
                }
                _ => {
                    m.remove(&id);
                }
            }
        }
        r
    }

    async fn getxattr_wire(&self, who: Who, id: u64, name: &[u8], size: u32) -> Result<XattrReply> {
        retry!(self.remote, |c| async {
            let fid = self.fid_of(&c, id, who.uid).await?;
            let newfid = c.session.alloc_fid()?;
            let msg =
                l::Txattrwalk { fid: fid.num(), newfid: newfid.num(), name: name.to_vec().into() };
            let len = match c.session.call(msg).await? {
                Message::Rxattrwalk(r) => r.size,
                other => {
                    return Err(Error::Protocol(format!(
                        "expected Rxattrwalk, got {}",
                        other.name()
                    )))
                }
            };
            // `call` does not mark the fid bound: clunk it ourselves.
            let result = self.read_xattr(&c, &newfid, len, size).await;
            let _ =
                c.session.call(ninefold_client::proto::base::Tclunk { fid: newfid.num() }).await;
            drop(newfid);
            result
        })
    }

    async fn read_xattr(&self, c: &Conn, fid: &Fid, len: u64, size: u32) -> Result<XattrReply> {
        if size == 0 {
            return Ok(XattrReply::Size(u32::try_from(len).map_err(|_| Error::Io(Errno::E2BIG))?));
        }
        if len > u64::from(size) {
            return Err(Error::Io(Errno::ERANGE));
        }
        let mut out = Vec::with_capacity(len as usize);
        while (out.len() as u64) < len {
            let want = (len - out.len() as u64).min(u64::from(u32::MAX)) as u32;
            let b = c.session.read(fid, out.len() as u64, want).await?;
            if b.is_empty() {
                break;
            }
            out.extend_from_slice(&b);
        }
        Ok(XattrReply::Data(Bytes::from(out)))
    }

    /// Sets (or, with `value` None, removes) an xattr: Txattrcreate on a
    /// clone, the value written to it, committed by Tclunk.
    pub(crate) async fn setxattr(
        &self,
        who: Who,
        id: u64,
        name: &[u8],
        value: Option<Bytes>,
        flags: i32,
    ) -> Result<()> {
        let xflags = XattrFlags::from_bits_truncate((flags & 3) as u32);
        lock(&self.no_caps).remove(&id);
        retry!(self.remote, |c| async {
            let fid = self.clone_fid(&c, id, who.uid).await?;
            let len = value.as_ref().map_or(0, |v| v.len() as u64);
            let msg = l::Txattrcreate {
                fid: fid.num(),
                name: name.to_vec().into(),
                attr_size: len,
                flags: xflags,
            };
            match c.session.call(msg).await? {
                Message::Rxattrcreate(_) => {}
                other => {
                    return Err(Error::Protocol(format!(
                        "expected Rxattrcreate, got {}",
                        other.name()
                    )))
                }
            }
            if let Some(v) = &value {
                let chunk = c.session.max_write_chunk() as usize;
                let mut done = 0;
                while done < v.len() {
                    let end = (done + chunk).min(v.len());
                    let n = c.session.write(&fid, done as u64, v.slice(done..end)).await?;
                    if n == 0 {
                        return Err(Error::Io(Errno::EIO));
                    }
                    done += n as usize;
                }
            }
            c.session.clunk(fid).await
        })
    }
}

/// What `getxattr`/`listxattr` answer.
#[derive(Debug)]
pub(crate) enum XattrReply {
    /// The length (the caller asked with size 0).
    Size(u32),
    /// The value.
    Data(Bytes),
}
