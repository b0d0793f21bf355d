//! The connection to the server: one [`Session`], one attach per uid,
//! and reconnection.
//!
//! Every operation runs inside [`retry!`]: it takes the current
//! [`Conn`], and when the connection is lost it waits for the next one
//! (dialled again by whichever caller noticed first, with backoff) and
//! starts over. Fids are never replayed eagerly: an inode's fid that
//! belongs to a dead session is simply walked again from the new root the
//! first time that inode is used (lazy replay), so the first request after
//! a restart costs one walk whatever the number of cached inodes.

use std::collections::HashMap;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use ninefold_client::{AuthKey, Dialect, Error, Fid, Result, Session};
use tokio::sync::watch;

/// Runs `$body` (an expression producing a future of `Result`) with `$c`
/// bound to the current connection, starting over on a new connection
/// when the old one is lost.
macro_rules! retry {
    ($remote:expr, |$c:ident| $body:expr) => {{
        loop {
            let $c = $remote.conn();
            let gen = $c.gen;
            let r: ninefold_client::Result<_> = $body.await;
            match r {
                Err(e) if e.is_disconnected() => $remote.recover(gen).await,
                r => break r,
            }
        }
    }};
}
pub(crate) use retry;

/// One live connection.
#[derive(Debug)]
pub(crate) struct Conn {
    pub(crate) session: Session,
    pub(crate) gen: u64,
    roots: tokio::sync::Mutex<HashMap<u32, Arc<Fid>>>,
    /// The server answered Tunlinkat / Trenameat with EOPNOTSUPP/ENOSYS
    /// (older diod): the fallbacks are used at once from then on.
    pub(crate) no_unlinkat: AtomicBool,
    pub(crate) no_renameat: AtomicBool,
}

impl Conn {
    fn new(session: Session, gen: u64) -> Conn {
        Conn {
            session,
            gen,
            roots: tokio::sync::Mutex::new(HashMap::new()),
            no_unlinkat: AtomicBool::new(false),
            no_renameat: AtomicBool::new(false),
        }
    }
}

/// The server end of a mount.
#[derive(Debug)]
pub(crate) struct Remote {
    target: String,
    msize: u32,
    aname: String,
    uname: Option<String>,
    cur: RwLock<Arc<Conn>>,
    redial: tokio::sync::Mutex<()>,
    gen_tx: watch::Sender<u64>,
    names: Mutex<HashMap<u32, String>>,
    /// Tauth key every attach authenticates with (docs/AUTH.md).
    key: Option<AuthKey>,
}

/// Dialects asked for, best first: `9P2000.L.Z` where the server speaks
/// it (one-round-trip listing, lookup, create and setattr), else
/// 9P2000.L. Raw session calls carry the all-zero `.Z` envelope, so
/// mutations are not deduplicated: the same at-least-once behaviour on
/// both dialects (see "Server restarts" in docs/MOUNT.md).
const OFFER: &[Dialect] = &[Dialect::Z, Dialect::L];

/// Backoff bounds while the server is away.
const BACKOFF_MIN: Duration = Duration::from_millis(50);
const BACKOFF_MAX: Duration = Duration::from_secs(2);

impl Remote {
    /// Dials once and attaches as `uid` (failing fast: the mount command
    /// reports a bad target, export or key at once). With `key`, that
    /// attach and every later one (each uid's, each reconnect's) runs the
    /// Tauth exchange first.
    pub(crate) async fn connect(
        target: &str,
        msize: u32,
        aname: &str,
        uname: Option<String>,
        uid: u32,
        key: Option<AuthKey>,
    ) -> Result<Remote> {
        let session = Session::connect_offer(target, msize, OFFER).await?;
        let remote = Remote {
            target: target.to_owned(),
            msize,
            aname: aname.to_owned(),
            uname,
            cur: RwLock::new(Arc::new(Conn::new(session, 0))),
            redial: tokio::sync::Mutex::new(()),
            gen_tx: watch::Sender::new(0),
            names: Mutex::new(HashMap::new()),
            key,
        };
        let c = remote.conn();
        match remote.root(&c, uid).await {
            Ok(_) => Ok(remote),
            Err(Error::PermissionDenied) if remote.key.is_none() => {
                Err(Error::AuthFailed(format!(
                    "the server refused an unauthenticated attach to {aname:?} as uid {uid} \
                     (authenticate with a key: TARGET?auth=NAME&key-file=PATH or \
                     -o auth=NAME,key-file=PATH; or have the server trust this network)"
                )))
            }
            Err(e) => Err(e),
        }
    }

    /// The current connection.
    pub(crate) fn conn(&self) -> Arc<Conn> {
        match self.cur.read() {
            Ok(c) => c.clone(),
            Err(p) => p.into_inner().clone(),
        }
    }

    /// The attach name used for `uid`.
    fn uname_of(&self, uid: u32) -> String {
        if let Some(u) = &self.uname {
            return u.clone();
        }
        let mut names = match self.names.lock() {
            Ok(n) => n,
            Err(p) => p.into_inner(),
        };
        names
            .entry(uid)
            .or_insert_with(|| passwd_name(uid).unwrap_or_else(|| uid.to_string()))
            .clone()
    }

    /// The attach root of `uid` on `c`, attaching on first use.
    pub(crate) async fn root(&self, c: &Conn, uid: u32) -> Result<Arc<Fid>> {
        let mut roots = c.roots.lock().await;
        if let Some(f) = roots.get(&uid) {
            return Ok(f.clone());
        }
        let uname = self.uname_of(uid);
        let (fid, _) = match &self.key {
            Some(key) => c.session.auth_attach(key, uname, &self.aname, uid).await?,
            None => c.session.attach(uname, &self.aname, uid).await?,
        };
        let fid = Arc::new(fid);
        roots.insert(uid, fid.clone());
        Ok(fid)
    }

    /// Called after `gen` was found dead: returns once a newer connection
    /// is published (dialling it if nobody else is).
    pub(crate) async fn recover(&self, gen: u64) {
        let _guard = self.redial.lock().await;
        if self.conn().gen > gen {
            return;
        }
        let mut delay = BACKOFF_MIN;
        loop {
            match Session::connect_offer(&self.target, self.msize, OFFER).await {
                Ok(session) => {
                    let next = Arc::new(Conn::new(session, gen + 1));
                    match self.cur.write() {
                        Ok(mut g) => *g = next,
                        Err(p) => *p.into_inner() = next,
                    }
                    self.gen_tx.send_replace(gen + 1);
                    tracing::info!(target = %self.target, generation = gen + 1, "reconnected");
                    return;
                }
                Err(e) => {
                    tracing::debug!(target = %self.target, error = %e, "reconnect failed");
                    tokio::time::sleep(delay).await;
                    delay = (delay * 2).min(BACKOFF_MAX);
                }
            }
        }
    }
}

/// The login name of `uid` from /etc/passwd, if any.
fn passwd_name(uid: u32) -> Option<String> {
    let text = std::fs::read_to_string("/etc/passwd").ok()?;
    text.lines().find_map(|l| {
        let mut f = l.split(':');
        let name = f.next()?;
        let _pw = f.next()?;
        let u: u32 = f.next()?.parse().ok()?;
        (u == uid).then(|| name.to_owned())
    })
}

/// Whether `e` says the server did not implement the call.
pub(crate) fn is_unsupported(e: &Error) -> bool {
    matches!(e, Error::Io(x) if *x == ninefold_client::Errno::EOPNOTSUPP || *x == ninefold_client::Errno::ENOSYS)
}
