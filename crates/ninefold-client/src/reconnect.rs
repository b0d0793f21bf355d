//! Reconnect-and-replay for the path-level [`Client`](crate::Client).
//!
//! A [`Session`] is one connection and never reconnects. The client keeps
//! the current one in a [`Conn`] (session, attached root, generation) and
//! runs a supervisor task that waits for the connection to die, then dials
//! again forever with exponential backoff ([`BACKOFF_MIN`] doubling to
//! [`BACKOFF_MAX`]), redoes Tversion + Tattach with the original options
//! and publishes the new connection under the next generation.
//!
//! Every public call is a logical operation run by `Client::run` (see
//! `crate::op`): one that fails because the connection is gone waits for
//! the next generation and starts over, so while the server is unreachable
//! calls block rather than fail, and an operation in flight at the drop is
//! sent again (a non-idempotent one can apply twice). Handles keep their
//! canonical path and open flags and re-walk and reopen lazily on their
//! first use after a reconnect.

use std::sync::{Arc, Weak};
use std::time::Duration;

use tokio::sync::oneshot;

use crate::client::ClientInner;
use ninefold_proto::Qid;

use crate::error::{Error, Result};
use crate::options::ConnectOptions;
use crate::session::{Fid, Session};
use crate::target::Target;

/// First delay between reconnect attempts.
pub const BACKOFF_MIN: Duration = Duration::from_millis(50);
/// Longest delay between reconnect attempts.
pub const BACKOFF_MAX: Duration = Duration::from_secs(5);
/// Bound on one reconnect attempt when `connect_timeout_ms` is unset.
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(30);

/// One connection of a client: the session, its attached root, and the
/// generation (0 for the first connection, +1 per reconnect).
#[derive(Debug)]
pub(crate) struct Conn {
    pub(crate) session: Session,
    pub(crate) root: Arc<Fid>,
    /// The attach root's qid (its `path` is the `root_inode` of Trebind).
    pub(crate) root_qid: Qid,
    pub(crate) gen: u64,
}

/// Dials, negotiates and attaches once.
pub(crate) async fn connect_once(
    target: &Target,
    opts: &ConnectOptions,
) -> Result<(Session, Fid, Qid)> {
    let session = target.connect(opts).await?;
    let (uname, aname) = (opts.uname.as_bytes(), opts.aname.as_bytes());
    let attached = match &opts.auth {
        Some(key) => session.auth_attach(key, uname, aname, opts.uid).await,
        None => session.attach(uname, aname, opts.uid).await.map_err(|e| match e {
            Error::PermissionDenied => Error::AuthFailed(format!(
                "{target} refused an unauthenticated attach to {:?} (authenticate with a key: \
                 ?auth=NAME&key-file=PATH, or have the server trust this network)",
                opts.aname
            )),
            e => e,
        }),
    };
    let (root, qid) = attached.map_err(|e| match e {
        Error::AuthFailed(_) => e,
        e => Error::ConnectFailed(format!("attach to {:?}: {e}", opts.aname)),
    })?;
    Ok((session, root, qid))
}

/// The supervisor: waits for the connection to die, reconnects with
/// backoff, publishes. Ends when `shutdown` fires or its sender (held by the
/// client) is dropped. `_token` lives exactly as long as the task.
pub(crate) async fn supervise(
    client: Weak<ClientInner>,
    target: Target,
    opts: ConnectOptions,
    mut shutdown: oneshot::Receiver<()>,
    _token: Arc<()>,
) {
    loop {
        let Some(session) = client.upgrade().map(|c| c.conn_now().session.clone()) else {
            return;
        };
        tokio::select! {
            _ = &mut shutdown => return,
            () = session.closed() => {}
        }
        drop(session);
        let mut delay = BACKOFF_MIN;
        let mut attempts = 0u64;
        loop {
            attempts += 1;
            let limit = opts.connect_timeout_ms.map_or(ATTEMPT_TIMEOUT, Duration::from_millis);
            let attempt = tokio::time::timeout(limit, connect_once(&target, &opts));
            let res = tokio::select! {
                _ = &mut shutdown => return,
                r = attempt => r.unwrap_or_else(|_| Err(Error::ConnectFailed("timed out".into()))),
            };
            match res {
                Ok((session, root, qid)) => {
                    let Some(c) = client.upgrade() else { return };
                    let gen = c.publish(session, root, qid);
                    tracing::info!(%target, gen, attempts, "9P connection re-established");
                    break;
                }
                Err(e) => {
                    tracing::debug!(%target, attempts, error = %e, "reconnect failed; retrying")
                }
            }
            tokio::select! {
                _ = &mut shutdown => return,
                () = tokio::time::sleep(delay) => {}
            }
            delay = (delay * 2).min(BACKOFF_MAX);
        }
    }
}
