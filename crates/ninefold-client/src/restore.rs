//! Lazy restore of one handle after a reconnect.
//!
//! Nothing is replayed when the connection comes back: the supervisor
//! redoes Tversion (+ Tgetlineage) + Tattach and publishes the connection,
//! so the first call after a cut costs one handshake however many handles
//! the client holds (ZeroFS's mount once livelocked replaying ~144,000
//! fids under a fixed deadline, ZeroFS issue #572). Each [`File`] or
//! [`Dir`] is restored by its own first use, with at most
//! [`RESTORE_CONCURRENCY`] restores in flight per client:
//!
//! 1. on `9P2000.L.Z`, Trebind of the recorded qid.path (REPLAY, plus
//!    OPENED for an open file, which is then reopened in place);
//! 2. when Trebind is refused (ESTALE: the server no longer knows the
//!    object, e.g. after a restart; or the server lacks it) and on every
//!    other dialect, a walk of the recorded path from the new root, accepted
//!    only if it reaches the same qid.path, then a reopen with the
//!    recorded flags;
//! 3. anything else is [`Error::Stale`]: the handle never silently points
//!    at another file.
//!
//! [`File`]: crate::File
//! [`Dir`]: crate::Dir

use ninefold_proto::{Dialect, Errno, OpenFlags, P9String, RebindFlags};

use crate::client::Client;
use crate::error::{Error, Result};
use crate::session::Fid;

/// Most handle restores one client runs at once after a reconnect.
pub const RESTORE_CONCURRENCY: usize = 64;

/// Restores a handle on the current connection: the object whose qid.path
/// is `ino` at canonical path `path`, reopened with `open` when it was
/// open. Returns the new fid and its iounit.
pub(crate) async fn restore(
    client: &Client,
    path: &[P9String],
    ino: u64,
    open: Option<OpenFlags>,
) -> Result<(Fid, u32)> {
    let _permit =
        client.inner.restores.acquire().await.map_err(|_| Error::protocol("client closed"))?;
    let conn = client.inner.conn_now();
    let s = &conn.session;
    if s.is_dead() {
        return Err(Error::disconnected());
    }
    let shown = crate::path::join(path);
    let shown = String::from_utf8_lossy(&shown);
    if s.dialect() == Dialect::Z {
        let opts = &client.inner.opts;
        let mut flags = RebindFlags::REPLAY;
        if open.is_some() {
            flags |= RebindFlags::OPENED;
        }
        match s.rebind(ino, conn.root_qid.path, flags, opts.uname.as_bytes(), opts.uid).await {
            Ok((fid, _qid)) => {
                let iounit = match open {
                    Some(f) => s.lopen(&fid, f).await.map_err(|e| stale_on_open(e, &shown))?.1,
                    None => 0,
                };
                return Ok((fid, iounit));
            }
            Err(Error::Stale(_)) | Err(Error::NotFound) | Err(Error::Unsupported(_)) => {}
            Err(Error::Io(e)) if e == Errno::ENOSYS || e == Errno::EOPNOTSUPP => {}
            Err(e) if e.is_disconnected() => return Err(e),
            Err(e) => return Err(e),
        }
    }
    let r = match crate::path::resolve(s, &conn.root, path.to_vec(), false).await {
        Ok(r) => r,
        Err(e) if e.is_disconnected() => return Err(e),
        Err(Error::NotFound) | Err(Error::NotADirectory) => {
            return Err(Error::Stale(format!(
                "{shown} no longer exists: the handle cannot be restored after the reconnect"
            )))
        }
        Err(e) => return Err(e),
    };
    let reached = r.qid.map_or(conn.root_qid.path, |q| q.path);
    if reached != ino {
        return Err(Error::Stale(format!(
            "{shown} now names another object (qid.path {reached:#x}, the handle had {ino:#x}): \
             the handle cannot be restored after the reconnect"
        )));
    }
    let iounit = match open {
        Some(f) if !s.dialect().is_dotl() => crate::op::plan9_open(s, &r.fid, f).await?.1,
        Some(f) => s.lopen(&r.fid, f).await?.1,
        None => 0,
    };
    Ok((r.fid, iounit))
}

/// A reopen after Trebind that fails with ESTALE (the object was unlinked)
/// or EACCES is a stale handle.
fn stale_on_open(e: Error, shown: &str) -> Error {
    match e {
        Error::Stale(_) | Error::PermissionDenied => Error::Stale(format!(
            "{shown} can no longer be reopened after the reconnect (unlinked or access lost)"
        )),
        other => other,
    }
}
