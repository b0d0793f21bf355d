//! Where to connect or listen: `tcp://HOST:PORT` or `unix:/path`, and the
//! boxed byte-stream halves both ends work with.

use std::fmt;
use std::io::IoSlice;
use std::path::PathBuf;
use std::str::FromStr;

use bytes::{Buf, Bytes};
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream, UnixListener, UnixStream};

use crate::error::BenchError;

/// The reading half of a connection.
pub type ReadHalf = Box<dyn AsyncRead + Send + Unpin>;
/// The writing half of a connection.
pub type WriteHalf = Box<dyn AsyncWrite + Send + Unpin>;

/// A transport address: `tcp://HOST:PORT` or `unix:/path`.
///
/// ```
/// use ninefold_bench::Target;
/// let t: Target = "tcp://127.0.0.1:5640".parse().unwrap();
/// assert_eq!(t.to_string(), "tcp://127.0.0.1:5640");
/// let u: Target = "unix:/tmp/9p.sock".parse().unwrap();
/// assert_eq!(u, Target::Unix("/tmp/9p.sock".into()));
/// assert!("udp://x:1".parse::<Target>().is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// A TCP address, `HOST:PORT`.
    Tcp(String),
    /// A unix-domain socket path.
    Unix(PathBuf),
}

impl FromStr for Target {
    type Err = BenchError;

    fn from_str(s: &str) -> Result<Target, BenchError> {
        if let Some(addr) = s.strip_prefix("tcp://") {
            if addr.rsplit_once(':').is_some_and(|(h, p)| !h.is_empty() && p.parse::<u16>().is_ok())
            {
                return Ok(Target::Tcp(addr.to_owned()));
            }
        } else if let Some(path) = s.strip_prefix("unix:") {
            let path = path.strip_prefix("//").unwrap_or(path);
            if !path.is_empty() {
                return Ok(Target::Unix(PathBuf::from(path)));
            }
        }
        Err(BenchError::BadTarget(s.to_owned()))
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Target::Tcp(a) => write!(f, "tcp://{a}"),
            Target::Unix(p) => write!(f, "unix:{}", p.display()),
        }
    }
}

impl Target {
    /// Opens a connection and splits it into halves. TCP sockets get
    /// `TCP_NODELAY`, as every 9P client sets it.
    pub async fn connect(&self) -> Result<(ReadHalf, WriteHalf), BenchError> {
        let err = |e| BenchError::Connect(self.to_string(), e);
        match self {
            Target::Tcp(addr) => {
                let s = TcpStream::connect(addr).await.map_err(err)?;
                s.set_nodelay(true).map_err(err)?;
                let (r, w) = s.into_split();
                Ok((Box::new(r), Box::new(w)))
            }
            Target::Unix(path) => {
                let s = UnixStream::connect(path).await.map_err(err)?;
                let (r, w) = s.into_split();
                Ok((Box::new(r), Box::new(w)))
            }
        }
    }

    /// Binds a listener on this address (a stale unix socket file is
    /// replaced).
    pub async fn listen(&self) -> Result<Listener, BenchError> {
        let err = |e| BenchError::Listen(self.to_string(), e);
        match self {
            Target::Tcp(addr) => Ok(Listener::Tcp(TcpListener::bind(addr).await.map_err(err)?)),
            Target::Unix(path) => {
                if path.exists() {
                    std::fs::remove_file(path).map_err(err)?;
                }
                Ok(Listener::Unix(UnixListener::bind(path).map_err(err)?))
            }
        }
    }
}

/// A bound listener of either transport.
#[derive(Debug)]
pub enum Listener {
    /// TCP.
    Tcp(TcpListener),
    /// Unix-domain socket.
    Unix(UnixListener),
}

impl Listener {
    /// The bound address, as a [`Target`] a client can connect to (the real
    /// port when bound to port 0).
    pub fn local_target(&self) -> Result<Target, BenchError> {
        match self {
            Listener::Tcp(l) => {
                let a = l.local_addr().map_err(BenchError::Io)?;
                Ok(Target::Tcp(a.to_string()))
            }
            Listener::Unix(l) => {
                let a = l.local_addr().map_err(BenchError::Io)?;
                let p = a
                    .as_pathname()
                    .ok_or_else(|| BenchError::Io(std::io::Error::other("unnamed unix socket")))?;
                Ok(Target::Unix(p.to_owned()))
            }
        }
    }

    /// Waits for the next connection and splits it.
    pub async fn accept(&self) -> Result<(ReadHalf, WriteHalf), BenchError> {
        match self {
            Listener::Tcp(l) => {
                let (s, _) = l.accept().await.map_err(BenchError::Io)?;
                s.set_nodelay(true).map_err(BenchError::Io)?;
                let (r, w) = s.into_split();
                Ok((Box::new(r), Box::new(w)))
            }
            Listener::Unix(l) => {
                let (s, _) = l.accept().await.map_err(BenchError::Io)?;
                let (r, w) = s.into_split();
                Ok((Box::new(r), Box::new(w)))
            }
        }
    }
}

/// Writes every chunk, in order, with vectored writes (payloads are not
/// copied). `chunks` is empty afterwards.
pub async fn write_chunks(w: &mut WriteHalf, chunks: &mut Vec<Bytes>) -> std::io::Result<()> {
    let mut first = 0;
    while first < chunks.len() {
        let n = {
            let slices: Vec<IoSlice<'_>> =
                chunks[first..].iter().take(64).map(|c| IoSlice::new(c)).collect();
            w.write_vectored(&slices).await?
        };
        if n == 0 {
            return Err(std::io::ErrorKind::WriteZero.into());
        }
        let mut left = n;
        while left > 0 {
            let c = &mut chunks[first];
            if c.len() <= left {
                left -= c.len();
                first += 1;
            } else {
                c.advance(left);
                left = 0;
            }
        }
        while chunks.get(first).is_some_and(Bytes::is_empty) {
            first += 1;
        }
    }
    chunks.clear();
    Ok(())
}
