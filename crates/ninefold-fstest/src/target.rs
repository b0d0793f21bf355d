//! Targets: where the suite gets a fresh connected byte stream from.
//!
//! A [`Target`] is anything that can hand out a new connection to a 9P
//! server, as many times as asked (lock cases open several connections at
//! once). The binary uses [`TcpTarget`] and [`UnixTarget`]; an in-process
//! test wraps a closure in [`FnTarget`], typically a `tokio::io::duplex`
//! whose other end is handed to the server.

use std::fmt;
use std::future::Future;
use std::io;
use std::path::PathBuf;

use async_trait::async_trait;
use tokio::io::{AsyncRead, AsyncWrite};

/// A connected, bidirectional byte stream (TCP, unix socket, in-memory pipe).
pub trait Stream: AsyncRead + AsyncWrite + Unpin + Send {}

impl<T: AsyncRead + AsyncWrite + Unpin + Send> Stream for T {}

/// A source of fresh connections to the server under test.
///
/// `connect` is called once per connection the suite needs: at least once
/// per case, more for multi-connection cases, and once more for cleanup.
#[async_trait]
pub trait Target: Send + Sync {
    /// Opens a new connection. Nothing has been sent on it yet.
    async fn connect(&self) -> io::Result<Box<dyn Stream>>;

    /// A short human-readable description for reports.
    fn describe(&self) -> String {
        "target".to_owned()
    }
}

#[async_trait]
impl<T: Target + ?Sized> Target for &T {
    async fn connect(&self) -> io::Result<Box<dyn Stream>> {
        (**self).connect().await
    }
    fn describe(&self) -> String {
        (**self).describe()
    }
}

#[async_trait]
impl<T: Target + ?Sized> Target for Box<T> {
    async fn connect(&self) -> io::Result<Box<dyn Stream>> {
        (**self).connect().await
    }
    fn describe(&self) -> String {
        (**self).describe()
    }
}

#[async_trait]
impl<T: Target + ?Sized> Target for std::sync::Arc<T> {
    async fn connect(&self) -> io::Result<Box<dyn Stream>> {
        (**self).connect().await
    }
    fn describe(&self) -> String {
        (**self).describe()
    }
}

/// A server listening on TCP, `host:port`.
#[derive(Debug, Clone)]
pub struct TcpTarget {
    addr: String,
}

impl TcpTarget {
    /// A target for `addr` (`"127.0.0.1:564"`).
    pub fn new(addr: impl Into<String>) -> TcpTarget {
        TcpTarget { addr: addr.into() }
    }
}

#[async_trait]
impl Target for TcpTarget {
    async fn connect(&self) -> io::Result<Box<dyn Stream>> {
        let s = tokio::net::TcpStream::connect(&self.addr).await?;
        s.set_nodelay(true)?;
        Ok(Box::new(s))
    }
    fn describe(&self) -> String {
        format!("tcp://{}", self.addr)
    }
}

/// A server listening on a unix-domain socket.
#[derive(Debug, Clone)]
pub struct UnixTarget {
    path: PathBuf,
}

impl UnixTarget {
    /// A target for the socket at `path`.
    pub fn new(path: impl Into<PathBuf>) -> UnixTarget {
        UnixTarget { path: path.into() }
    }
}

#[async_trait]
impl Target for UnixTarget {
    async fn connect(&self) -> io::Result<Box<dyn Stream>> {
        #[cfg(unix)]
        {
            let s = tokio::net::UnixStream::connect(&self.path).await?;
            Ok(Box::new(s))
        }
        #[cfg(not(unix))]
        {
            Err(io::Error::new(io::ErrorKind::Unsupported, "unix sockets need a unix host"))
        }
    }
    fn describe(&self) -> String {
        format!("unix:{}", self.path.display())
    }
}

/// A target made of a closure returning a future of a stream: the shape of
/// an in-process server (`tokio::io::duplex` plus `serve_connection`).
///
/// ```
/// use ninefold_fstest::{FnTarget, Stream};
///
/// let target = FnTarget::new(|| async {
///     let (client, _server_end) = tokio::io::duplex(1 << 20);
///     // a real harness spawns the server on `_server_end` here
///     Ok(Box::new(client) as Box<dyn Stream>)
/// });
/// # let _ = target;
/// ```
pub struct FnTarget<F> {
    f: F,
    name: String,
}

impl<F> fmt::Debug for FnTarget<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FnTarget").field("name", &self.name).finish()
    }
}

impl<F, Fut> FnTarget<F>
where
    F: Fn() -> Fut + Send + Sync,
    Fut: Future<Output = io::Result<Box<dyn Stream>>> + Send,
{
    /// Wraps `f`; every `connect` calls it once.
    pub fn new(f: F) -> FnTarget<F> {
        FnTarget { f, name: "in-process".to_owned() }
    }

    /// Sets the name shown in reports.
    pub fn named(mut self, name: impl Into<String>) -> FnTarget<F> {
        self.name = name.into();
        self
    }
}

#[async_trait]
impl<F, Fut> Target for FnTarget<F>
where
    F: Fn() -> Fut + Send + Sync,
    Fut: Future<Output = io::Result<Box<dyn Stream>>> + Send,
{
    async fn connect(&self) -> io::Result<Box<dyn Stream>> {
        (self.f)().await
    }
    fn describe(&self) -> String {
        self.name.clone()
    }
}

/// Error from [`parse_target`].
#[derive(Debug, thiserror::Error)]
#[error("unrecognised target {0:?}: expected tcp://HOST:PORT or unix:/PATH")]
pub struct TargetParseError(String);

/// Parses `tcp://HOST:PORT`, `HOST:PORT`, `unix:/path` or `unix:///path`.
pub fn parse_target(s: &str) -> Result<Box<dyn Target>, TargetParseError> {
    if let Some(rest) = s.strip_prefix("tcp://") {
        if rest.contains(':') {
            return Ok(Box::new(TcpTarget::new(rest)));
        }
    } else if let Some(rest) = s.strip_prefix("unix:") {
        let path = rest.strip_prefix("//").unwrap_or(rest);
        if !path.is_empty() {
            return Ok(Box::new(UnixTarget::new(path)));
        }
    } else if s.contains(':') && !s.contains('/') {
        return Ok(Box::new(TcpTarget::new(s)));
    }
    Err(TargetParseError(s.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_forms() {
        assert_eq!(parse_target("tcp://127.0.0.1:564").unwrap().describe(), "tcp://127.0.0.1:564");
        assert_eq!(parse_target("127.0.0.1:1").unwrap().describe(), "tcp://127.0.0.1:1");
        assert_eq!(parse_target("unix:/tmp/s").unwrap().describe(), "unix:/tmp/s");
        assert_eq!(parse_target("unix:///tmp/s").unwrap().describe(), "unix:/tmp/s");
        assert!(parse_target("http://x").is_err());
        assert!(parse_target("unix:").is_err());
    }
}
