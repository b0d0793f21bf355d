//! Access control at Tattach: who may attach which export, read-only or
//! read-write, and as which uid ([`AccessPolicy`]).
//!
//! The inputs are the connection's [`Peer`] (its address, and the
//! [`Principal`] a TLS client certificate proved), the principal a Tauth
//! exchange proved on the auth fid, and Tattach's aname, uname and
//! n_uname. The output is the [`Identity`] every fid of the attach
//! carries, or a refusal (EACCES, logged with the peer and counted).
//!
//! 1. An authenticated principal is matched against the [`Grant`]s (first
//!    match by principal name, method and export). A matching grant
//!    decides: the uid asserted in Tattach is accepted if the grant allows
//!    it, else squashed to the grant's uid or refused, by the grant.
//! 2. Otherwise the peer falls back to the trusted model (the asserted
//!    uid is believed, read-write) only if its address is on a trusted
//!    network ([`Network`]); by default only loopback and unix sockets are.
//! 3. Anything else is refused.

mod network;

use std::sync::Arc;

use bytes::Bytes;
use ninefold_proto::NONUNAME;

pub use network::{Network, NetworkParseError};

use crate::{AuthMethod, Identity, Peer, Principal};

/// What a principal may assert as its uid in Tattach.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Uids {
    /// Only these (plus the grant's own [`Grant::uid`]).
    Only(Vec<u32>),
    /// Any uid: the trusted model for this principal.
    Any,
}

/// What happens when a principal asserts a uid its grant does not allow.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
enum Mismatch {
    /// Refuse the attach (EACCES).
    #[default]
    Refuse,
    /// Attach as the grant's [`uid`](Grant::uid) instead.
    Squash,
}

/// One rule: a principal may attach some exports.
///
/// ```
/// use ninefold_server::{AuthMethod, Grant};
///
/// // Key "backup" may read "home" as uid 1000, whatever uid it asserts.
/// let g = Grant::new("backup")
///     .method(AuthMethod::Tauth)
///     .exports(["home"])
///     .read_only(true)
///     .uid(1000)
///     .squash();
/// assert!(g.is_read_only());
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Grant {
    principal: String,
    method: Option<AuthMethod>,
    exports: Option<Vec<Bytes>>,
    read_only: bool,
    uid: Option<u32>,
    gid: Option<u32>,
    uids: Uids,
    mismatch: Mismatch,
}

impl Grant {
    /// A grant for the principal called `principal` (`*`: any
    /// authenticated principal), by any method, on every export,
    /// read-write, allowing no uid until [`uid`](Grant::uid) or
    /// [`any_uid`](Grant::any_uid) says which.
    pub fn new(principal: impl Into<String>) -> Grant {
        Grant {
            principal: principal.into(),
            method: None,
            exports: None,
            read_only: false,
            uid: None,
            gid: None,
            uids: Uids::Only(Vec::new()),
            mismatch: Mismatch::Refuse,
        }
    }

    /// Only for principals proven by `method`.
    #[must_use]
    pub fn method(mut self, method: AuthMethod) -> Grant {
        self.method = Some(method);
        self
    }

    /// Only for these anames (the empty aname is the default export).
    #[must_use]
    pub fn exports<I, A>(mut self, anames: I) -> Grant
    where
        I: IntoIterator<Item = A>,
        A: Into<Bytes>,
    {
        self.exports = Some(anames.into_iter().map(Into::into).collect());
        self
    }

    /// Refuse changes (EROFS) through attaches made under this grant.
    #[must_use]
    pub fn read_only(mut self, read_only: bool) -> Grant {
        self.read_only = read_only;
        self
    }

    /// The uid the principal acts as (and may assert).
    #[must_use]
    pub fn uid(mut self, uid: u32) -> Grant {
        self.uid = Some(uid);
        self
    }

    /// The group the principal's identity carries
    /// ([`Identity::gid`]).
    #[must_use]
    pub fn gid(mut self, gid: u32) -> Grant {
        self.gid = Some(gid);
        self
    }

    /// Further uids the principal may assert.
    #[must_use]
    pub fn allow_uids(mut self, uids: impl IntoIterator<Item = u32>) -> Grant {
        let mut list = match std::mem::replace(&mut self.uids, Uids::Any) {
            Uids::Only(l) => l,
            Uids::Any => return self,
        };
        list.extend(uids);
        self.uids = Uids::Only(list);
        self
    }

    /// The principal may assert any uid (its Tattach is trusted).
    #[must_use]
    pub fn any_uid(mut self) -> Grant {
        self.uids = Uids::Any;
        self
    }

    /// A uid the grant does not allow is replaced by [`uid`](Grant::uid)
    /// instead of refused.
    #[must_use]
    pub fn squash(mut self) -> Grant {
        self.mismatch = Mismatch::Squash;
        self
    }

    /// Whether attaches under this grant refuse changes.
    pub fn is_read_only(&self) -> bool {
        self.read_only
    }

    fn matches(&self, p: &Principal, aname: &[u8]) -> bool {
        (self.principal == "*" || self.principal == p.name())
            && self.method.is_none_or(|m| m == p.method())
            && self.exports.as_ref().is_none_or(|e| e.iter().any(|a| a == aname))
    }

    /// The uid to attach as, or why not.
    fn uid_for(&self, asserted: Option<u32>) -> Result<Option<u32>, &'static str> {
        let allowed = |u: u32| match &self.uids {
            Uids::Any => true,
            Uids::Only(list) => self.uid == Some(u) || list.contains(&u),
        };
        match asserted {
            Some(u) if allowed(u) => Ok(Some(u)),
            None if matches!(self.uids, Uids::Any) && self.uid.is_none() => Ok(None),
            None if self.uid.is_some() => Ok(self.uid),
            _ if self.mismatch == Mismatch::Squash && self.uid.is_some() => Ok(self.uid),
            _ => Err("the uid asserted in Tattach is not allowed for this principal"),
        }
    }
}

/// Who may attach what: [`Grant`]s for authenticated principals, and the
/// networks whose unauthenticated peers are trusted.
///
/// [`AccessPolicy::new`] trusts only loopback and unix-socket peers; a
/// server built without a policy trusts everyone (the classic 9P model,
/// for embedders that control their transport).
///
/// ```
/// use ninefold_server::{AccessPolicy, Grant, Network};
///
/// let policy = AccessPolicy::new()
///     .trust("10.0.0.0/8".parse::<Network>()?)
///     .grant(Grant::new("alice").exports(["home"]).uid(1000));
/// assert_eq!(policy.trusted().len(), 2);
/// # Ok::<(), ninefold_server::NetworkParseError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AccessPolicy {
    trusted: Vec<Network>,
    grants: Vec<Grant>,
}

impl Default for AccessPolicy {
    fn default() -> AccessPolicy {
        AccessPolicy::new()
    }
}

/// An access decision: the identity to attach with.
pub(crate) type Decision = Result<Identity, &'static str>;

impl AccessPolicy {
    /// Trusts loopback and unix-socket peers only; no grants.
    pub fn new() -> AccessPolicy {
        AccessPolicy { trusted: vec![Network::Local], grants: Vec::new() }
    }

    /// Trusts no network: every attach needs an authenticated principal.
    #[must_use]
    pub fn trust_none(mut self) -> AccessPolicy {
        self.trusted.clear();
        self
    }

    /// Also trusts unauthenticated peers on `network`.
    #[must_use]
    pub fn trust(mut self, network: Network) -> AccessPolicy {
        if !self.trusted.contains(&network) {
            self.trusted.push(network);
        }
        self
    }

    /// Adds a grant (grants are tried in the order added).
    #[must_use]
    pub fn grant(mut self, grant: Grant) -> AccessPolicy {
        self.grants.push(grant);
        self
    }

    /// The trusted networks.
    pub fn trusted(&self) -> &[Network] {
        &self.trusted
    }

    /// The grants.
    pub fn grants(&self) -> &[Grant] {
        &self.grants
    }

    /// Whether an unauthenticated peer at this address is trusted.
    pub fn trusts(&self, peer: &Peer) -> bool {
        self.trusted.iter().any(|n| n.contains(peer.remote()))
    }

    /// The identity for an attach, or why it is refused.
    pub(crate) fn decide(
        &self,
        peer: &Peer,
        principal: Option<&Arc<Principal>>,
        uname: &Bytes,
        n_uname: u32,
        aname: &[u8],
    ) -> Decision {
        let asserted = (n_uname != NONUNAME).then_some(n_uname);
        if let Some(p) = principal {
            if let Some(g) = self.grants.iter().find(|g| g.matches(p, aname)) {
                let uid = g.uid_for(asserted)?;
                return Ok(Identity {
                    uname: uname.clone(),
                    uid,
                    gid: g.gid,
                    principal: Some(p.clone()),
                    read_only: g.read_only,
                });
            }
        }
        if self.trusts(peer) {
            let mut id = Identity::from_attach(uname.clone(), n_uname);
            id.principal = principal.cloned();
            return Ok(id);
        }
        Err(match principal {
            Some(_) => "the export is not granted to this principal",
            None => "unauthenticated peer on an untrusted network",
        })
    }
}

#[cfg(test)]
mod tests;

/// Refusals counted by stage: `auth` (a failed Tauth exchange), `attach`
/// (an attach or Trebind the policy refused), `read_only` (EROFS under a
/// read-only grant). Exported as `ninefold.server.access.denied` with the
/// `otel` feature, and readable through
/// [`Server::access_denials`](crate::Server::access_denials).
#[derive(Debug, Default)]
pub(crate) struct Denials {
    counts: [std::sync::atomic::AtomicU64; 3],
    #[cfg(feature = "otel")]
    counter: Option<opentelemetry::metrics::Counter<u64>>,
}

/// A stage at which access is refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Stage {
    Auth = 0,
    Attach = 1,
    ReadOnly = 2,
}

impl Stage {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Stage::Auth => "auth",
            Stage::Attach => "attach",
            Stage::ReadOnly => "read_only",
        }
    }
}

impl Denials {
    #[cfg(feature = "otel")]
    pub(crate) fn with_meter(meter: &opentelemetry::metrics::Meter) -> Denials {
        let counter = meter
            .u64_counter("ninefold.server.access.denied")
            .with_description(
                "Refusals: failed auth exchanges, refused attaches, EROFS under read-only grants",
            )
            .build();
        Denials { counter: Some(counter), ..Denials::default() }
    }

    pub(crate) fn count(&self, stage: Stage) {
        self.counts[stage as usize].fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        #[cfg(feature = "otel")]
        if let Some(c) = &self.counter {
            c.add(1, &[opentelemetry::KeyValue::new("stage", stage.name())]);
        }
    }

    pub(crate) fn snapshot(&self) -> AccessDenials {
        let get = |s: Stage| self.counts[s as usize].load(std::sync::atomic::Ordering::Relaxed);
        AccessDenials {
            auth: get(Stage::Auth),
            attach: get(Stage::Attach),
            read_only: get(Stage::ReadOnly),
        }
    }
}

/// Refusals since the server started, by stage.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct AccessDenials {
    /// Failed Tauth exchanges (wrong key, unknown key name, replay,
    /// expired challenge, malformed response).
    pub auth: u64,
    /// Attaches (and 9P2000.L.Z Trebinds) the access policy refused.
    pub attach: u64,
    /// Mutations refused with EROFS under a read-only grant.
    pub read_only: u64,
}
