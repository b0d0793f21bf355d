//! Connection targets: `unix:/path`, `tcp://host:port`,
//! `tls://host:port[?params]`, `host:port`, `host` (port 5564) and bare
//! paths (`/path`, `./path`).

use std::fmt;

use crate::error::{Error, Result};
use crate::session::{Refused, Session};
use crate::tls::{TlsOptions, TlsTarget};

/// The port used when a TCP target names none.
pub const DEFAULT_PORT: u16 = 5564;

/// A parsed connection target.
///
/// | Form | Transport |
/// |---|---|
/// | `unix:/path/to.sock` (also `unix:///path`) | unix socket |
/// | `tcp://host:port` | TCP |
/// | `tls://host[:port][?ca=F&cert=F&key=F&servername=N]` | TLS over TCP (port 5564 by default; parameters in [`TlsOptions`]) |
/// | `host:port`, `[v6]:port`, `host` | TCP (port 5564 by default) |
/// | `/path` or `./path` | unix socket |
///
/// ```
/// use ninefold_client::Target;
///
/// assert_eq!(Target::parse("tcp://127.0.0.1:564")?, Target::Tcp("127.0.0.1:564".into()));
/// assert_eq!(Target::parse("fs.local")?, Target::Tcp("fs.local:5564".into()));
/// assert_eq!(Target::parse("unix:/run/9p.sock")?, Target::Unix("/run/9p.sock".into()));
/// assert_eq!(Target::parse("./9p.sock")?, Target::Unix("./9p.sock".into()));
/// assert!(Target::parse("").is_err());
/// # Ok::<(), ninefold_client::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Target {
    /// TCP to `host:port`.
    Tcp(String),
    /// A unix socket at this path.
    Unix(std::path::PathBuf),
    /// TLS over TCP.
    Tls(TlsTarget),
}

impl Target {
    /// Parses a target string.
    pub fn parse(s: &str) -> Result<Target> {
        let s = s.trim();
        if s.is_empty() {
            return Err(Error::invalid("empty connection target"));
        }
        if let Some(rest) = s.strip_prefix("unix:") {
            let path = rest.strip_prefix("//").unwrap_or(rest);
            if path.is_empty() {
                return Err(Error::invalid("unix: target without a path"));
            }
            return Ok(Target::Unix(path.into()));
        }
        if s.starts_with('/') || s.starts_with('.') {
            return Ok(Target::Unix(s.into()));
        }
        if let Some(rest) = s.strip_prefix("tls://") {
            let (hostport, query) = rest.split_once('?').unwrap_or((rest, ""));
            return Target::tls(hostport, query);
        }
        if s.contains('?') && (s.starts_with("tcp://") || !s.contains('/')) {
            return Err(Error::invalid(format!(
                "{s:?}: parameters (?...) belong to tls:// targets only"
            )));
        }
        let hostport = s.strip_prefix("tcp://").unwrap_or(s);
        let hostport = hostport.trim_end_matches('/');
        if hostport.is_empty() {
            return Err(Error::invalid("tcp target without a host"));
        }
        let has_port = if let Some(rest) = hostport.strip_prefix('[') {
            // [v6]:port or [v6]
            match rest.split_once(']') {
                Some((_, tail)) => tail.starts_with(':'),
                None => return Err(Error::invalid(format!("bad IPv6 target {s:?}"))),
            }
        } else {
            match hostport.matches(':').count() {
                0 => false,
                1 => true,
                _ => return Ok(Target::Tcp(format!("[{hostport}]:{DEFAULT_PORT}"))),
            }
        };
        if has_port {
            let (_, port) = hostport.rsplit_once(':').unwrap_or((hostport, ""));
            port.parse::<u16>().map_err(|_| Error::invalid(format!("bad port in {s:?}")))?;
            Ok(Target::Tcp(hostport.to_string()))
        } else {
            Ok(Target::Tcp(format!("{hostport}:{DEFAULT_PORT}")))
        }
    }

    /// A `tls://` target of `hostport` (port 5564 by default) with the
    /// parameters of `query`.
    pub(crate) fn tls(hostport: &str, query: &str) -> Result<Target> {
        let hostport = hostport.trim_end_matches('/');
        if hostport.is_empty() {
            return Err(Error::invalid("tls target without a host"));
        }
        let Target::Tcp(addr) = Target::parse(&format!("tcp://{hostport}"))? else {
            return Err(Error::invalid(format!("bad tls target {hostport:?}")));
        };
        Ok(Target::Tls(TlsTarget::new(addr).with_options(TlsOptions::parse_query(query)?)))
    }

    /// Dials (a TLS handshake too, for `tls://`), and negotiates one of
    /// `opts.dialects` with `opts.msize`, no attach. `opts.tls` applies to
    /// `tls://` targets, over the target's own parameters.
    pub async fn connect(&self, opts: &crate::ConnectOptions) -> Result<Session> {
        self.connect_offer(opts.msize, opts.max_in_flight, &opts.dialects, &opts.tls).await
    }

    /// Dials and negotiates.
    pub(crate) async fn connect_session(
        &self,
        msize: u32,
        max_in_flight: usize,
    ) -> Result<Session> {
        let offer = [ninefold_proto::Dialect::L];
        self.connect_offer(msize, max_in_flight, &offer, &TlsOptions::default()).await
    }

    /// Dials and negotiates one of `offer` (in order). A server that
    /// closes the connection on a dialect it does not speak is dialled
    /// again for the rest of the offer.
    pub(crate) async fn connect_offer(
        &self,
        msize: u32,
        max_in_flight: usize,
        offer: &[ninefold_proto::Dialect],
        tls: &TlsOptions,
    ) -> Result<Session> {
        crate::session::check_offer(offer)?;
        let mut start = 0;
        loop {
            match self.dial_negotiate(msize, max_in_flight, offer, start, tls).await {
                Ok(s) => return Ok(s),
                Err(Refused::Closed { next, why }) if next < offer.len() => {
                    tracing::debug!(target = %self, %why, "dialling again for the next dialect");
                    start = next;
                }
                Err(r) => return Err(crate::session::refused_error(r)),
            }
        }
    }

    async fn dial_negotiate(
        &self,
        msize: u32,
        max_in_flight: usize,
        offer: &[ninefold_proto::Dialect],
        start: usize,
        tls: &TlsOptions,
    ) -> std::result::Result<Session, Refused> {
        let cf = |e: std::io::Error| Refused::Failed(Error::ConnectFailed(format!("{self}: {e}")));
        match self {
            Target::Tcp(addr) => {
                let stream = tokio::net::TcpStream::connect(addr.as_str()).await.map_err(cf)?;
                let _ = stream.set_nodelay(true);
                let (r, w) = stream.into_split();
                Session::handshake_from(r, w, msize, max_in_flight, offer, start).await
            }
            #[cfg(unix)]
            Target::Unix(path) => {
                let stream = tokio::net::UnixStream::connect(path).await.map_err(cf)?;
                let (r, w) = stream.into_split();
                Session::handshake_from(r, w, msize, max_in_flight, offer, start).await
            }
            #[cfg(not(unix))]
            Target::Unix(_) => {
                Err(Refused::Failed(Error::ConnectFailed("unix sockets need a unix host".into())))
            }
            #[cfg(feature = "tls")]
            Target::Tls(t) => {
                let stream = crate::tls::connect(t, tls).await.map_err(Refused::Failed)?;
                let name = tls
                    .server_name
                    .clone()
                    .or_else(|| t.options.server_name.clone())
                    .unwrap_or_else(|| t.host().to_owned());
                let watched = crate::tls::Watched::new(stream, name);
                let seen = watched.seen();
                let (r, w) = tokio::io::split(watched);
                let r = Session::handshake_from(r, w, msize, max_in_flight, offer, start).await;
                // A refusal that came as a TLS alert after the handshake
                // (TLS 1.3 client certificates) is a TLS error, and no
                // reason to dial again for another dialect.
                let tls_error = seen.lock().ok().and_then(|mut s| s.take());
                match (r, tls_error) {
                    (Err(_), Some(e)) => Err(Refused::Failed(Error::Tls(e))),
                    (r, _) => r,
                }
            }
            #[cfg(not(feature = "tls"))]
            Target::Tls(_) => Err({
                let _ = tls;
                Refused::Failed(Error::Tls(crate::TlsError::new(
                    crate::TlsErrorKind::Config,
                    "this build of ninefold-client has no TLS support (feature `tls`)",
                )))
            }),
        }
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Target::Tcp(a) => write!(f, "tcp://{a}"),
            Target::Unix(p) => write!(f, "unix:{}", p.display()),
            Target::Tls(t) => t.fmt(f),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms() {
        assert_eq!(Target::parse("unix:///a/b").unwrap(), Target::Unix("/a/b".into()));
        assert_eq!(Target::parse("host:1").unwrap(), Target::Tcp("host:1".into()));
        assert_eq!(Target::parse("[::1]:7").unwrap(), Target::Tcp("[::1]:7".into()));
        assert_eq!(Target::parse("[::1]").unwrap(), Target::Tcp("[::1]:5564".into()));
        assert_eq!(Target::parse("::1").unwrap(), Target::Tcp("[::1]:5564".into()));
        assert_eq!(Target::parse("tcp://h:2/").unwrap(), Target::Tcp("h:2".into()));
        assert!(Target::parse("h:notaport").is_err());
        assert!(Target::parse("unix:").is_err());
        assert!(Target::parse("tcp://").is_err());
        let tls = |a: &str| Target::Tls(TlsTarget::new(a));
        assert_eq!(Target::parse("tls://h").unwrap(), tls("h:5564"));
        assert_eq!(Target::parse("tls://[::1]:7/").unwrap(), tls("[::1]:7"));
        assert_eq!(
            Target::parse("tls://h:1?ca=/c.pem").unwrap(),
            Target::Tls(TlsTarget::new("h:1").with_options(TlsOptions::new().ca("/c.pem")))
        );
        assert!(Target::parse("tls://").is_err());
        assert!(Target::parse("tls://h:x").is_err());
        assert!(Target::parse("tls://h?bogus=1").is_err());
        assert!(Target::parse("tcp://h:1?ca=x").is_err());
        assert!(Target::parse("h:1?ca=x").is_err());
        for s in ["tls://h:1", "tls://h:1?ca=/a%26b&servername=n"] {
            assert_eq!(Target::parse(s).unwrap().to_string(), s);
        }
    }
}
