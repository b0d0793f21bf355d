//! TLS for `tls://` targets: [`TlsOptions`] (CA, client certificate, server
//! name), their query-string form, [`TlsError`], and (feature `tls`) the
//! dial itself: rustls with the ring provider, the system's roots unless a
//! CA is given.

use std::fmt;
use std::path::PathBuf;

use crate::error::{Error, Result};

/// How a `tls://` target is verified and what it is shown.
///
/// Defaults: the system's root certificates, SNI and name check from the
/// target's host, no client certificate. Set in
/// [`ConnectOptions::tls`](crate::ConnectOptions::tls), or as query
/// parameters of the target (`tls://host:5564?ca=/etc/ca.pem&cert=c.pem&key=k.pem&servername=fs`);
/// an option set in `ConnectOptions` wins over the target's parameter.
///
/// ```
/// use ninefold_client::{Target, TlsOptions};
///
/// let t = Target::parse("tls://fs.local:5564?ca=/etc/ca.pem&servername=fs")?;
/// let Target::Tls(tls) = &t else { unreachable!() };
/// assert_eq!(tls.addr, "fs.local:5564");
/// assert_eq!(tls.options, TlsOptions::new().ca("/etc/ca.pem").server_name("fs"));
/// assert_eq!(t.to_string(), "tls://fs.local:5564?ca=/etc/ca.pem&servername=fs");
/// # Ok::<(), ninefold_client::Error>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(default))]
#[non_exhaustive]
pub struct TlsOptions {
    /// CA certificates (PEM) trusted instead of the system's roots
    /// (`ca=`).
    pub ca: Option<PathBuf>,
    /// Client certificate chain (PEM) for servers that ask for one
    /// (`cert=`).
    pub cert: Option<PathBuf>,
    /// The client certificate's private key (PEM; `key=`). Without it the
    /// key is read from the `cert` file.
    pub key: Option<PathBuf>,
    /// The name sent as SNI and checked against the server's certificate,
    /// instead of the target's host (`servername=`).
    pub server_name: Option<String>,
}

impl TlsOptions {
    /// All defaults.
    pub fn new() -> TlsOptions {
        TlsOptions::default()
    }
    /// Sets `ca`.
    pub fn ca(mut self, path: impl Into<PathBuf>) -> Self {
        self.ca = Some(path.into());
        self
    }
    /// Sets `cert`.
    pub fn cert(mut self, path: impl Into<PathBuf>) -> Self {
        self.cert = Some(path.into());
        self
    }
    /// Sets `key`.
    pub fn key(mut self, path: impl Into<PathBuf>) -> Self {
        self.key = Some(path.into());
        self
    }
    /// Sets `server_name`.
    pub fn server_name(mut self, name: impl Into<String>) -> Self {
        self.server_name = Some(name.into());
        self
    }

    /// Whether nothing is set.
    pub fn is_default(&self) -> bool {
        *self == TlsOptions::default()
    }

    /// These options, with unset ones taken from `base`.
    #[cfg_attr(not(feature = "tls"), allow(dead_code))]
    pub(crate) fn over(&self, base: &TlsOptions) -> TlsOptions {
        TlsOptions {
            ca: self.ca.clone().or_else(|| base.ca.clone()),
            cert: self.cert.clone().or_else(|| base.cert.clone()),
            key: self.key.clone().or_else(|| base.key.clone()),
            server_name: self.server_name.clone().or_else(|| base.server_name.clone()),
        }
    }

    /// Parses `ca=..&cert=..&key=..&servername=..` (values
    /// percent-decoded).
    pub(crate) fn parse_query(query: &str) -> Result<TlsOptions> {
        let mut o = TlsOptions::default();
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (k, v) = pair.split_once('=').ok_or_else(|| {
                Error::invalid(format!("TLS parameter {pair:?} has no value (expected NAME=VALUE)"))
            })?;
            let v = crate::query::percent_decode(v)?;
            if v.is_empty() {
                return Err(Error::invalid(format!("TLS parameter {k:?} is empty")));
            }
            let slot = match k {
                "ca" => &mut o.ca,
                "cert" => &mut o.cert,
                "key" => &mut o.key,
                "servername" => {
                    o.server_name = Some(v);
                    continue;
                }
                other => {
                    return Err(Error::invalid(format!(
                        "unknown TLS parameter {other:?} (expected ca, cert, key or servername)"
                    )))
                }
            };
            *slot = Some(PathBuf::from(v));
        }
        Ok(o)
    }

    /// The query string (`ca=...&...`), empty for defaults.
    pub(crate) fn query(&self) -> String {
        let mut parts = Vec::new();
        let path = |p: &PathBuf| crate::query::percent_encode(&p.to_string_lossy());
        if let Some(p) = &self.ca {
            parts.push(format!("ca={}", path(p)));
        }
        if let Some(p) = &self.cert {
            parts.push(format!("cert={}", path(p)));
        }
        if let Some(p) = &self.key {
            parts.push(format!("key={}", path(p)));
        }
        if let Some(n) = &self.server_name {
            parts.push(format!("servername={}", crate::query::percent_encode(n)));
        }
        parts.join("&")
    }
}

/// A `tls://` target: where to dial, and how to verify it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct TlsTarget {
    /// `host:port` (IPv6 in brackets).
    pub addr: String,
    /// The target's own TLS parameters (its query string).
    pub options: TlsOptions,
}

impl TlsTarget {
    /// A target at `addr` (`host:port`) with default options.
    pub fn new(addr: impl Into<String>) -> TlsTarget {
        TlsTarget { addr: addr.into(), options: TlsOptions::default() }
    }

    /// Sets the target's options.
    pub fn with_options(mut self, options: TlsOptions) -> TlsTarget {
        self.options = options;
        self
    }

    /// The host part of `addr`, brackets removed.
    pub fn host(&self) -> &str {
        let host = match self.addr.rsplit_once(':') {
            Some((h, p)) if !p.contains(']') => h,
            _ => &self.addr,
        };
        host.strip_prefix('[').and_then(|h| h.strip_suffix(']')).unwrap_or(host)
    }
}

impl fmt::Display for TlsTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "tls://{}", self.addr)?;
        let q = self.options.query();
        if !q.is_empty() {
            write!(f, "?{q}")?;
        }
        Ok(())
    }
}

/// What went wrong in a TLS connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TlsErrorKind {
    /// The server's certificate does not chain to a trusted CA.
    UnknownIssuer,
    /// The server's certificate has expired.
    Expired,
    /// The server's certificate is not valid yet.
    NotYetValid,
    /// The server's certificate does not name the host (or `servername`).
    NameMismatch,
    /// The server's certificate is unusable otherwise (bad signature,
    /// encoding, usage, revoked).
    BadCertificate,
    /// The server requires a client certificate and none was given.
    ClientCertificateRequired,
    /// The server refused the client certificate.
    ClientCertificateRejected,
    /// The handshake failed otherwise: no TLS on the other side, no
    /// common version or cipher suite, an alert.
    Handshake,
    /// The local material is unusable: a CA, certificate or key file
    /// unreadable or not PEM, no system roots.
    Config,
}

/// A TLS failure: its kind and a readable message.
///
/// ```
/// use ninefold_client::{Error, TlsError, TlsErrorKind};
///
/// let e = Error::Tls(TlsError::new(TlsErrorKind::Expired, "certificate expired"));
/// assert_eq!(e.tls_error().map(TlsError::kind), Some(TlsErrorKind::Expired));
/// assert!(e.to_string().contains("certificate expired"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsError {
    kind: TlsErrorKind,
    message: String,
}

impl TlsError {
    /// A failure of `kind`, described by `message`.
    pub fn new(kind: TlsErrorKind, message: impl Into<String>) -> TlsError {
        TlsError { kind, message: message.into() }
    }

    /// What went wrong.
    pub fn kind(&self) -> TlsErrorKind {
        self.kind
    }

    /// The message.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for TlsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for TlsError {}

#[cfg(feature = "tls")]
pub(crate) use dial::{connect, Watched};

#[cfg(feature = "tls")]
mod dial {
    use std::io;
    use std::pin::Pin;
    use std::sync::{Arc, Mutex, OnceLock};
    use std::task::{Context, Poll};

    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
    use rustls::{AlertDescription, CertificateError, ClientConfig, RootCertStore};
    use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
    use tokio::net::TcpStream;
    use tokio_rustls::client::TlsStream;

    use super::{TlsError, TlsErrorKind, TlsOptions, TlsTarget};

    fn config_err(msg: String) -> TlsError {
        TlsError::new(TlsErrorKind::Config, msg)
    }

    /// rustls' ring provider (deprecated upstream only for lacking
    /// post-quantum key exchange; aws-lc-rs needs cmake to build).
    #[allow(deprecated)]
    fn ring_provider() -> rustls::crypto::CryptoProvider {
        rustls::crypto::ring::default_provider()
    }

    /// The system's roots, loaded once per process.
    fn system_roots() -> Result<Arc<RootCertStore>, TlsError> {
        static ROOTS: OnceLock<Arc<RootCertStore>> = OnceLock::new();
        if let Some(r) = ROOTS.get() {
            return Ok(r.clone());
        }
        let found = rustls_native_certs::load_native_certs();
        let mut roots = RootCertStore::empty();
        let (_added, _ignored) = roots.add_parsable_certificates(found.certs);
        if roots.is_empty() {
            let why = found.errors.first().map(|e| format!(" ({e})")).unwrap_or_default();
            return Err(config_err(format!(
                "no trusted root certificates on this system{why}: give a CA (ca=FILE, --tls-ca)"
            )));
        }
        Ok(ROOTS.get_or_init(|| Arc::new(roots)).clone())
    }

    fn read_pem<T: PemObject>(path: &std::path::Path, what: &str) -> Result<Vec<T>, TlsError> {
        let bad = |e: rustls::pki_types::pem::Error| {
            use rustls::pki_types::pem::Error as P;
            config_err(match e {
                P::Io(e) => format!("cannot read {what} {}: {e}", path.display()),
                other => format!("{what} {}: bad PEM: {other}", path.display()),
            })
        };
        let items = T::pem_file_iter(path).map_err(bad)?.collect::<Result<Vec<_>, _>>();
        let items = items.map_err(bad)?;
        if items.is_empty() {
            return Err(config_err(format!("{what} {}: nothing found in it", path.display())));
        }
        Ok(items)
    }

    /// The rustls configuration for `o`.
    fn client_config(o: &TlsOptions) -> Result<Arc<ClientConfig>, TlsError> {
        let roots = match &o.ca {
            Some(ca) => {
                let mut roots = RootCertStore::empty();
                for c in read_pem::<CertificateDer<'static>>(ca, "CA file")? {
                    roots.add(c).map_err(|e| {
                        config_err(format!("CA file {}: unusable certificate: {e}", ca.display()))
                    })?;
                }
                Arc::new(roots)
            }
            None => system_roots()?,
        };
        let builder = ClientConfig::builder_with_provider(Arc::new(ring_provider()))
            .with_safe_default_protocol_versions()
            .map_err(|e| config_err(e.to_string()))?
            .with_root_certificates(roots);
        let config = match (&o.cert, &o.key) {
            (Some(cert), key) => {
                let chain = read_pem::<CertificateDer<'static>>(cert, "certificate file")?;
                let key_path = key.as_ref().unwrap_or(cert);
                let key = PrivateKeyDer::from_pem_file(key_path).map_err(|e| {
                    config_err(format!("key file {}: no private key: {e}", key_path.display()))
                })?;
                builder.with_client_auth_cert(chain, key).map_err(|e| {
                    config_err(format!(
                        "client key {} does not go with {}: {e}",
                        key_path.display(),
                        cert.display()
                    ))
                })?
            }
            (None, Some(_)) => {
                return Err(config_err("a client key was given without a certificate".into()))
            }
            (None, None) => builder.with_no_client_auth(),
        };
        Ok(Arc::new(config))
    }

    /// Dials `target` and runs the TLS handshake; options set in
    /// `overrides` (from `ConnectOptions`) win over the target's own.
    pub(crate) async fn connect(
        target: &TlsTarget,
        overrides: &TlsOptions,
    ) -> Result<TlsStream<TcpStream>, crate::Error> {
        let o = overrides.over(&target.options);
        let config = client_config(&o).map_err(crate::Error::Tls)?;
        let name = o.server_name.clone().unwrap_or_else(|| target.host().to_owned());
        let server_name = ServerName::try_from(name.clone()).map_err(|_| {
            crate::Error::Tls(config_err(format!("{name:?} is not a valid server name")))
        })?;
        let tcp = TcpStream::connect(target.addr.as_str())
            .await
            .map_err(|e| crate::Error::ConnectFailed(format!("{target}: {e}")))?;
        let _ = tcp.set_nodelay(true);
        tokio_rustls::TlsConnector::from(config)
            .connect(server_name, tcp)
            .await
            .map_err(|e| crate::Error::Tls(classify(&e, &name)))
    }

    /// The typed error of an I/O error out of a TLS stream.
    pub(crate) fn classify(e: &io::Error, name: &str) -> TlsError {
        let Some(err) = e.get_ref().and_then(|i| i.downcast_ref::<rustls::Error>()) else {
            return TlsError::new(
                TlsErrorKind::Handshake,
                match e.kind() {
                    io::ErrorKind::UnexpectedEof | io::ErrorKind::ConnectionReset => {
                        "the server closed the connection during the TLS handshake (is it a tls:// listener?)"
                            .to_owned()
                    }
                    _ => format!("TLS handshake: {e}"),
                },
            );
        };
        use TlsErrorKind as K;
        let (kind, msg) = match err {
            rustls::Error::InvalidCertificate(ce) => match ce {
                CertificateError::UnknownIssuer => (
                    K::UnknownIssuer,
                    "the server's certificate is not signed by a trusted CA (unknown issuer)"
                        .to_owned(),
                ),
                CertificateError::Expired | CertificateError::ExpiredContext { .. } => {
                    (K::Expired, format!("the server's certificate has expired ({ce})"))
                }
                CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => {
                    (K::NotYetValid, format!("the server's certificate is not valid yet ({ce})"))
                }
                CertificateError::NotValidForName
                | CertificateError::NotValidForNameContext { .. } => (
                    K::NameMismatch,
                    format!("the server's certificate is not valid for the name {name:?} ({ce})"),
                ),
                other => {
                    (K::BadCertificate, format!("the server's certificate is unusable: {other}"))
                }
            },
            rustls::Error::AlertReceived(AlertDescription::CertificateRequired) => (
                K::ClientCertificateRequired,
                "the server requires a client certificate (cert=FILE&key=FILE, --tls-cert/--tls-key)"
                    .to_owned(),
            ),
            rustls::Error::AlertReceived(
                a @ (AlertDescription::BadCertificate
                | AlertDescription::UnsupportedCertificate
                | AlertDescription::CertificateRevoked
                | AlertDescription::CertificateExpired
                | AlertDescription::CertificateUnknown
                | AlertDescription::UnknownCA
                | AlertDescription::AccessDenied),
            ) => (
                K::ClientCertificateRejected,
                format!("the server refused the client certificate (alert: {a:?})"),
            ),
            rustls::Error::AlertReceived(a) => {
                (K::Handshake, format!("the server aborted the TLS handshake (alert: {a:?})"))
            }
            rustls::Error::InvalidMessage(_) | rustls::Error::InappropriateMessage { .. } => (
                K::Handshake,
                format!("the server does not speak TLS here (is it a tcp:// listener?): {err}"),
            ),
            other => (K::Handshake, format!("TLS handshake failed: {other}")),
        };
        TlsError::new(kind, msg)
    }

    /// A stream that remembers the first TLS error seen through it: in
    /// TLS 1.3 a server refuses a client certificate only after the
    /// client's handshake is done, so the refusal arrives with the first
    /// read (the Rversion), where it must still be reported as TLS.
    #[derive(Debug)]
    pub(crate) struct Watched<S> {
        inner: S,
        name: String,
        seen: Arc<Mutex<Option<TlsError>>>,
    }

    impl<S> Watched<S> {
        pub(crate) fn new(inner: S, name: String) -> Watched<S> {
            Watched { inner, name, seen: Arc::default() }
        }

        /// The slot the first TLS error lands in.
        pub(crate) fn seen(&self) -> Arc<Mutex<Option<TlsError>>> {
            self.seen.clone()
        }

        fn note<T>(&self, r: Poll<io::Result<T>>) -> Poll<io::Result<T>> {
            if let Poll::Ready(Err(e)) = &r {
                if e.get_ref().is_some_and(|i| i.is::<rustls::Error>()) {
                    if let Ok(mut slot) = self.seen.lock() {
                        slot.get_or_insert_with(|| classify(e, &self.name));
                    }
                }
            }
            r
        }
    }

    impl<S: AsyncRead + Unpin> AsyncRead for Watched<S> {
        fn poll_read(
            mut self: Pin<&mut Self>,
            cx: &mut Context<'_>,
            buf: &mut ReadBuf<'_>,
        ) -> Poll<io::Result<()>> {
            let r = Pin::new(&mut self.inner).poll_read(cx, buf);
            self.note(r)
        }
    }

    impl<S: AsyncWrite + Unpin> AsyncWrite for Watched<S> {
        fn poll_write(
            mut self: Pin<&mut Self>,
            cx: &mut Context<'_>,
            buf: &[u8],
        ) -> Poll<io::Result<usize>> {
            let r = Pin::new(&mut self.inner).poll_write(cx, buf);
            self.note(r)
        }

        fn poll_write_vectored(
            mut self: Pin<&mut Self>,
            cx: &mut Context<'_>,
            bufs: &[io::IoSlice<'_>],
        ) -> Poll<io::Result<usize>> {
            let r = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
            self.note(r)
        }

        fn is_write_vectored(&self) -> bool {
            self.inner.is_write_vectored()
        }

        fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
            let r = Pin::new(&mut self.inner).poll_flush(cx);
            self.note(r)
        }

        fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
            let r = Pin::new(&mut self.inner).poll_shutdown(cx);
            self.note(r)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_round_trips() {
        let o = TlsOptions::parse_query("ca=/a%20b/c%26d.pem&cert=c.pem&key=k.pem&servername=x.y")
            .unwrap();
        assert_eq!(o.ca, Some(PathBuf::from("/a b/c&d.pem")));
        assert_eq!(o.server_name.as_deref(), Some("x.y"));
        assert_eq!(TlsOptions::parse_query(&o.query()).unwrap(), o);
        assert!(TlsOptions::parse_query("").unwrap().is_default());
    }

    #[test]
    fn bad_queries_are_refused() {
        for (q, want) in [
            ("insecure=1", "unknown TLS parameter"),
            ("ca", "no value"),
            ("ca=", "empty"),
            ("ca=%zz", "%-escape"),
            ("ca=%ff", "UTF-8"),
        ] {
            let e = TlsOptions::parse_query(q).unwrap_err().to_string();
            assert!(e.contains(want), "{q}: {e}");
        }
    }

    #[test]
    fn overrides_win() {
        let target = TlsOptions::new().ca("/t").server_name("t");
        let o = TlsOptions::new().ca("/o").over(&target);
        assert_eq!(o, TlsOptions::new().ca("/o").server_name("t"));
    }

    #[test]
    fn hosts() {
        assert_eq!(TlsTarget::new("fs:1").host(), "fs");
        assert_eq!(TlsTarget::new("[::1]:5").host(), "::1");
        assert_eq!(TlsTarget::new("10.0.0.1:5").host(), "10.0.0.1");
    }
}
