//! [`Peer`]: who is at the other end of a connection, as the transport
//! established it before the first 9P message, and [`Principal`], an
//! identity some authentication proved (never the uid a client merely
//! asserts in Tattach).

use std::sync::Arc;

/// The far end of one connection: its address for logs and, when the
/// transport authenticated it (a TLS client certificate), its
/// [`Principal`].
///
/// A listener loop builds one per accepted stream; embedders hand their
/// own to [`Server::serve_peer`](crate::Server::serve_peer).
///
/// ```
/// use ninefold_server::{AuthMethod, Peer, Principal};
///
/// let peer = Peer::new(Some("10.0.0.7:51234".into()))
///     .with_principal(Principal::new("backup", AuthMethod::TlsCertificate));
/// assert_eq!(peer.principal().map(|p| p.name()), Some("backup"));
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Peer {
    remote: Option<Arc<str>>,
    principal: Option<Arc<Principal>>,
}

impl Peer {
    /// A peer known only by its address (`None` when the transport has
    /// none).
    pub fn new(remote: Option<String>) -> Peer {
        Peer { remote: remote.map(Arc::from), principal: None }
    }

    /// The same peer, authenticated by its transport as `principal`.
    #[must_use]
    pub fn with_principal(mut self, principal: Principal) -> Peer {
        self.principal = Some(Arc::new(principal));
        self
    }

    /// The peer's address (ip:port, a socket path), when known.
    pub fn remote(&self) -> Option<&str> {
        self.remote.as_deref()
    }

    /// The identity the transport proved, if it proved one.
    pub fn principal(&self) -> Option<&Principal> {
        self.principal.as_deref()
    }
}

/// How a [`Principal`] was proven.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum AuthMethod {
    /// A TLS client certificate that chained to a trusted CA.
    TlsCertificate,
    /// The Tauth exchange on an auth fid.
    Tauth,
}

/// An authenticated identity: a name some mechanism proved, which access
/// rules refer to. Distinct from [`Identity`](crate::Identity), which is
/// what a client asserts in Tattach.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Principal {
    name: String,
    method: AuthMethod,
}

impl Principal {
    /// A principal called `name`, proven by `method`.
    pub fn new(name: impl Into<String>, method: AuthMethod) -> Principal {
        Principal { name: name.into(), method }
    }

    /// The proven name (a certificate's subject or SAN, a token's name).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// How it was proven.
    pub fn method(&self) -> AuthMethod {
        self.method
    }
}
