//! TLS listeners (feature `tls`): rustls with the ring provider, a
//! certificate and key reloadable while connections stay up, a handshake
//! deadline, and client certificates as the connection's
//! [`Principal`].
//!
//! # Serving over TLS
//!
//! ```no_run
//! use std::sync::Arc;
//! use ninefold_server::tls::{TlsAcceptor, TlsFiles};
//! use ninefold_server::{Node, Server};
//! # use async_trait::async_trait;
//! # use ninefold_proto::Qid;
//! # #[derive(Debug)] struct Root;
//! # #[async_trait] impl Node for Root { fn qid(&self) -> Qid { Qid::default() } }
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let root: Arc<dyn Node> = Arc::new(Root);
//! let server = Server::new(root);
//! // Client certificates signed by ca.pem are asked for (and required):
//! // each connection's principal is the certificate's name.
//! let files = TlsFiles::new("server.pem", "server.key")
//!     .client_ca("ca.pem")
//!     .require_client_cert(true);
//! let tls = Arc::new(TlsAcceptor::from_files(files)?);
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:5564").await?;
//! # let on_sighup = async {};
//! // Later, on SIGHUP say: a bad file keeps the material in use.
//! let reloader = tls.clone();
//! tokio::spawn(async move {
//!     on_sighup.await;
//!     if let Err(e) = reloader.reload() {
//!         eprintln!("keeping the old certificate: {e}");
//!     }
//! });
//! server.serve_tls(listener, tls).await?;
//! # Ok(()) }
//! ```
//!
//! A request sees the client certificate's identity through
//! [`Request::peer`](crate::Request::peer):
//! `req.peer().principal().map(|p| p.name())`, with
//! [`AuthMethod::TlsCertificate`].
//!
//! # The principal's name
//!
//! The first `dNSName` or `uniformResourceIdentifier` subjectAltName of
//! the client's (verified) certificate, in the order the certificate lists
//! them; without either, the subject's common name (the last CN when there
//! are several). A certificate naming nothing (or a name with control
//! characters) gives the connection no principal; with
//! [`require_client_cert`](TlsFiles::require_client_cert) it is refused.
//!
//! # Failures
//!
//! Each failed handshake is counted by reason
//! ([`TlsAcceptor::handshake_failures`]; with the `otel` feature also the
//! counter `ninefold.server.tls.handshake_failures`, by `reason`):
//!
//! | reason | what happened |
//! |---|---|
//! | `timeout` | the handshake did not finish within the deadline (default 10 s) |
//! | `no_client_certificate` | a client certificate is required and none was sent |
//! | `bad_client_certificate` | the client's certificate did not verify (unknown CA, expired, ...) |
//! | `no_identity` | a required client certificate names nobody (no SAN, no CN) |
//! | `alert` | the client aborted (it did not trust our certificate, say) |
//! | `protocol` | not TLS, or no common version or cipher suite |
//! | `io` | the connection closed or failed during the handshake |

mod names;

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::WebPkiClientVerifier;
use rustls::{RootCertStore, ServerConfig};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tracing::{debug, info, warn, Instrument};

use crate::{AuthMethod, Peer, Principal, Server};

pub use tokio_rustls::server::TlsStream;

/// The default bound on a TLS handshake.
pub const DEFAULT_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Where a [`TlsAcceptor`] reads its material (PEM files), re-read by
/// [`TlsAcceptor::reload`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct TlsFiles {
    /// The server's certificate chain (leaf first).
    pub cert: PathBuf,
    /// The server's private key (PKCS#8, PKCS#1 or SEC1).
    pub key: PathBuf,
    /// CA certificates that sign client certificates; with it, clients
    /// are asked for a certificate.
    pub client_ca: Option<PathBuf>,
    /// Refuse clients without a valid certificate (needs `client_ca`).
    pub require_client_cert: bool,
}

impl TlsFiles {
    /// A certificate chain and its key; no client certificates.
    pub fn new(cert: impl Into<PathBuf>, key: impl Into<PathBuf>) -> TlsFiles {
        TlsFiles { cert: cert.into(), key: key.into(), client_ca: None, require_client_cert: false }
    }

    /// Asks clients for a certificate signed by a CA of this file.
    #[must_use]
    pub fn client_ca(mut self, path: impl Into<PathBuf>) -> TlsFiles {
        self.client_ca = Some(path.into());
        self
    }

    /// Whether a client without a valid certificate is refused.
    #[must_use]
    pub fn require_client_cert(mut self, yes: bool) -> TlsFiles {
        self.require_client_cert = yes;
        self
    }

    /// Reads the files and builds a rustls configuration.
    pub fn load(&self) -> Result<Arc<ServerConfig>, TlsError> {
        let provider = Arc::new(ring_provider());
        let certs = read_certs(&self.cert)?;
        let key = PrivateKeyDer::from_pem_file(&self.key)
            .map_err(|e| TlsError::pem(&self.key, "private key", e))?;
        let builder = ServerConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .map_err(TlsError::Rustls)?;
        let builder = match &self.client_ca {
            Some(ca) => {
                let mut roots = RootCertStore::empty();
                for c in read_certs(ca)? {
                    roots.add(c).map_err(|e| TlsError::Invalid {
                        path: ca.clone(),
                        reason: format!("not a usable CA certificate: {e}"),
                    })?;
                }
                let mut v = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider);
                if !self.require_client_cert {
                    v = v.allow_unauthenticated();
                }
                let verifier = v
                    .build()
                    .map_err(|e| TlsError::Invalid { path: ca.clone(), reason: e.to_string() })?;
                builder.with_client_cert_verifier(verifier)
            }
            None if self.require_client_cert => return Err(TlsError::RequireWithoutCa),
            None => builder.with_no_client_auth(),
        };
        let config = builder.with_single_cert(certs, key).map_err(|e| TlsError::Invalid {
            path: self.key.clone(),
            reason: format!("does not go with {}: {e}", self.cert.display()),
        })?;
        Ok(Arc::new(config))
    }
}

/// rustls' ring provider. Deprecated upstream since 0.23.48 only because
/// ring has no post-quantum key exchange; aws-lc-rs would need cmake and a
/// long build, and the classical suites stay secure.
#[allow(deprecated)]
fn ring_provider() -> rustls::crypto::CryptoProvider {
    rustls::crypto::ring::default_provider()
}

/// Every certificate of a PEM file (at least one).
fn read_certs(path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let certs = CertificateDer::pem_file_iter(path)
        .map_err(|e| TlsError::pem(path, "certificate", e))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| TlsError::pem(path, "certificate", e))?;
    if certs.is_empty() {
        return Err(TlsError::Invalid {
            path: path.to_owned(),
            reason: "no CERTIFICATE in the file".into(),
        });
    }
    Ok(certs)
}

/// Why TLS material could not be loaded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TlsError {
    /// A file is missing, unreadable or holds no usable PEM section.
    #[error("{}: {reason}", path.display())]
    Invalid {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// `require_client_cert` without a `client_ca` to check them by.
    #[error("requiring client certificates needs a client CA (--tls-client-ca)")]
    RequireWithoutCa,
    /// The acceptor was built from a fixed configuration: there are no
    /// files to reload.
    #[error("this TLS acceptor has no files to reload")]
    NoFiles,
    /// rustls refused the configuration.
    #[error("TLS configuration: {0}")]
    Rustls(rustls::Error),
}

impl TlsError {
    fn pem(path: &Path, what: &str, e: rustls::pki_types::pem::Error) -> TlsError {
        use rustls::pki_types::pem::Error as P;
        let reason = match e {
            P::Io(e) => e.to_string(),
            P::NoItemsFound => format!("no {what} in the file (expected PEM)"),
            other => format!("bad PEM: {other}"),
        };
        TlsError::Invalid { path: path.to_owned(), reason }
    }
}

/// Why a handshake failed (the reasons of the table in the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum HandshakeFailure {
    /// The deadline passed.
    Timeout,
    /// A client certificate is required and none was sent.
    NoClientCertificate,
    /// The client's certificate did not verify.
    BadClientCertificate,
    /// A required client certificate names nobody.
    NoIdentity,
    /// The client sent an alert (it refused our certificate, say).
    Alert,
    /// Not TLS, or nothing in common.
    Protocol,
    /// The connection closed or failed.
    Io,
}

impl HandshakeFailure {
    /// Every reason, in the order of [`TlsAcceptor::handshake_failures_by_reason`].
    pub const ALL: [HandshakeFailure; 7] = [
        HandshakeFailure::Timeout,
        HandshakeFailure::NoClientCertificate,
        HandshakeFailure::BadClientCertificate,
        HandshakeFailure::NoIdentity,
        HandshakeFailure::Alert,
        HandshakeFailure::Protocol,
        HandshakeFailure::Io,
    ];

    /// The metric label.
    pub fn as_str(self) -> &'static str {
        match self {
            HandshakeFailure::Timeout => "timeout",
            HandshakeFailure::NoClientCertificate => "no_client_certificate",
            HandshakeFailure::BadClientCertificate => "bad_client_certificate",
            HandshakeFailure::NoIdentity => "no_identity",
            HandshakeFailure::Alert => "alert",
            HandshakeFailure::Protocol => "protocol",
            HandshakeFailure::Io => "io",
        }
    }

    fn of(e: &io::Error) -> HandshakeFailure {
        match e.get_ref().and_then(|i| i.downcast_ref::<rustls::Error>()) {
            Some(rustls::Error::NoCertificatesPresented) => HandshakeFailure::NoClientCertificate,
            Some(rustls::Error::InvalidCertificate(_)) => HandshakeFailure::BadClientCertificate,
            Some(rustls::Error::AlertReceived(_)) => HandshakeFailure::Alert,
            Some(_) => HandshakeFailure::Protocol,
            None => HandshakeFailure::Io,
        }
    }
}

impl fmt::Display for HandshakeFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Accepts TLS connections: the current rustls configuration (swapped
/// whole by [`reload`](TlsAcceptor::reload); handshakes in progress keep
/// the one they started with), the handshake deadline and the failure
/// counters.
pub struct TlsAcceptor {
    files: Option<TlsFiles>,
    config: RwLock<Arc<ServerConfig>>,
    handshake_timeout: Duration,
    failures: [AtomicU64; HandshakeFailure::ALL.len()],
    #[cfg(feature = "otel")]
    counter: Option<opentelemetry::metrics::Counter<u64>>,
}

impl fmt::Debug for TlsAcceptor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TlsAcceptor")
            .field("files", &self.files)
            .field("handshake_timeout", &self.handshake_timeout)
            .field("handshake_failures", &self.handshake_failures())
            .finish_non_exhaustive()
    }
}

impl TlsAcceptor {
    /// An acceptor of the material in `files`, reloadable.
    pub fn from_files(files: TlsFiles) -> Result<TlsAcceptor, TlsError> {
        let config = files.load()?;
        Ok(TlsAcceptor::build(Some(files), config))
    }

    /// An acceptor of a configuration built by the caller (replace it
    /// with [`set_config`](TlsAcceptor::set_config)). A client
    /// certificate its verifier accepted still becomes the principal.
    pub fn new(config: Arc<ServerConfig>) -> TlsAcceptor {
        TlsAcceptor::build(None, config)
    }

    fn build(files: Option<TlsFiles>, config: Arc<ServerConfig>) -> TlsAcceptor {
        TlsAcceptor {
            files,
            config: RwLock::new(config),
            handshake_timeout: DEFAULT_HANDSHAKE_TIMEOUT,
            failures: Default::default(),
            #[cfg(feature = "otel")]
            counter: None,
        }
    }

    /// Bounds each handshake (default [`DEFAULT_HANDSHAKE_TIMEOUT`]).
    #[must_use]
    pub fn handshake_timeout(mut self, d: Duration) -> TlsAcceptor {
        self.handshake_timeout = d;
        self
    }

    /// Also counts failed handshakes in the OpenTelemetry counter
    /// `ninefold.server.tls.handshake_failures` (attribute `reason`).
    #[cfg(feature = "otel")]
    #[cfg_attr(docsrs, doc(cfg(feature = "otel")))]
    #[must_use]
    pub fn meter(mut self, meter: &opentelemetry::metrics::Meter) -> TlsAcceptor {
        self.counter = Some(
            meter
                .u64_counter("ninefold.server.tls.handshake_failures")
                .with_description("TLS handshakes that failed, by reason")
                .build(),
        );
        self
    }

    /// The files this acceptor reads, if it was built from files.
    pub fn files(&self) -> Option<&TlsFiles> {
        self.files.as_ref()
    }

    /// Re-reads the files. On success new handshakes use the new
    /// material; connections already up are untouched. On failure the
    /// material in use stays.
    pub fn reload(&self) -> Result<(), TlsError> {
        let files = self.files.as_ref().ok_or(TlsError::NoFiles)?;
        self.set_config(files.load()?);
        Ok(())
    }

    /// Replaces the configuration used by new handshakes.
    pub fn set_config(&self, config: Arc<ServerConfig>) {
        match self.config.write() {
            Ok(mut g) => *g = config,
            Err(poisoned) => *poisoned.into_inner() = config,
        }
    }

    fn current(&self) -> Arc<ServerConfig> {
        match self.config.read() {
            Ok(g) => g.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Failed handshakes so far, all reasons.
    pub fn handshake_failures(&self) -> u64 {
        self.failures.iter().map(|c| c.load(Ordering::Relaxed)).sum()
    }

    /// Failed handshakes so far, by reason.
    pub fn handshake_failures_by_reason(&self) -> Vec<(HandshakeFailure, u64)> {
        HandshakeFailure::ALL
            .iter()
            .zip(&self.failures)
            .map(|(r, c)| (*r, c.load(Ordering::Relaxed)))
            .collect()
    }

    fn count(&self, why: HandshakeFailure) {
        if let Some(i) = HandshakeFailure::ALL.iter().position(|r| *r == why) {
            self.failures[i].fetch_add(1, Ordering::Relaxed);
        }
        #[cfg(feature = "otel")]
        if let Some(c) = &self.counter {
            c.add(1, &[opentelemetry::KeyValue::new("reason", why.as_str())]);
        }
    }

    /// Runs the server side of a handshake over `io` within the deadline.
    /// The [`Peer`] names `remote` and, when the client sent a verified
    /// certificate, its [`Principal`]. Failures are counted and logged.
    pub async fn accept<IO>(
        &self,
        io: IO,
        remote: Option<String>,
    ) -> Result<(TlsStream<IO>, Peer), HandshakeFailure>
    where
        IO: AsyncRead + AsyncWrite + Unpin,
    {
        let config = self.current();
        let need_cert = self.files.as_ref().is_some_and(|f| f.require_client_cert);
        let acceptor = tokio_rustls::TlsAcceptor::from(config);
        let shown = remote.as_deref().unwrap_or("-").to_owned();
        let fail = |why: HandshakeFailure, detail: &dyn fmt::Display| {
            self.count(why);
            match why {
                HandshakeFailure::Timeout | HandshakeFailure::Io => {
                    debug!(remote = %shown, reason = %why, %detail, "TLS handshake failed")
                }
                _ => info!(remote = %shown, reason = %why, %detail, "TLS handshake failed"),
            }
            why
        };
        let stream = match tokio::time::timeout(self.handshake_timeout, acceptor.accept(io)).await {
            Ok(Ok(s)) => s,
            Ok(Err(e)) => return Err(fail(HandshakeFailure::of(&e), &e)),
            Err(_) => {
                let d = format!("no handshake within {:?}", self.handshake_timeout);
                return Err(fail(HandshakeFailure::Timeout, &d));
            }
        };
        let mut peer = Peer::new(remote);
        if let Some(leaf) = stream.get_ref().1.peer_certificates().and_then(|c| c.first()) {
            match names::principal_name(leaf) {
                Some(name) => {
                    peer = peer.with_principal(Principal::new(name, AuthMethod::TlsCertificate));
                }
                None if need_cert => {
                    return Err(fail(
                        HandshakeFailure::NoIdentity,
                        &"the client certificate has no DNS/URI SAN and no CN",
                    ));
                }
                None => warn!(
                    remote = %shown,
                    "client certificate names nobody (no DNS/URI SAN, no CN): no principal"
                ),
            }
        }
        Ok((stream, peer))
    }
}

impl Server {
    /// Accepts TCP connections and serves each over TLS until
    /// [`shutdown`](Server::shutdown). Handshakes run in each
    /// connection's own task (bounded by the acceptor's deadline), so a
    /// client that never finishes one holds up nobody else.
    pub async fn serve_tls(&self, listener: TcpListener, tls: Arc<TlsAcceptor>) -> io::Result<()> {
        let shutdown = self.shutdown_token();
        loop {
            let accepted = tokio::select! {
                _ = shutdown.cancelled() => return Ok(()),
                a = listener.accept() => a,
            };
            match accepted {
                Ok((stream, addr)) => {
                    let _ = stream.set_nodelay(true);
                    self.spawn_tls(stream, Some(addr.to_string()), tls.clone());
                }
                Err(e) => crate::server::accept_error(e).await?,
            }
        }
    }

    /// Runs the TLS handshake over an accepted stream in its own task,
    /// then serves it like [`spawn_peer`](Server::spawn_peer), with the
    /// principal the client certificate proved.
    pub fn spawn_tls<IO>(&self, io: IO, remote: Option<String>, tls: Arc<TlsAcceptor>)
    where
        IO: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        let server = self.clone();
        let span = tracing::info_span!("tls", remote = %remote.as_deref().unwrap_or("-"));
        self.spawn_tracked(
            async move {
                if let Ok((stream, peer)) = tls.accept(io, remote).await {
                    server.spawn_peer(stream, peer);
                }
            }
            .instrument(span),
        );
    }
}
