//! Listening addresses: `tcp://HOST:PORT`, `tls://HOST:PORT` and
//! `unix:/PATH`, binding them
//! (with stale unix sockets removed first and on exit), and the
//! "how to connect" lines printed at start.

use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};
use std::str::FromStr;

use anyhow::{bail, Context, Result};
use tokio::net::{TcpListener, UnixListener};

/// The kernel's fd/tcp/unix transports cap msize at 1 MiB
/// (`MAX_SOCK_BUF`); a larger `msize=` is only lowered with a notice.
const KERNEL_SOCKET_MSIZE: u32 = 1024 * 1024;

/// A listening address as written by the user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ListenAddr {
    /// `tcp://HOST:PORT` (or a bare `HOST:PORT`).
    Tcp {
        /// A name or an address, IPv6 without brackets.
        host: String,
        /// The port; 0 picks a free one.
        port: u16,
    },
    /// `tls://HOST:PORT`: TCP with TLS (the `[tls]` settings).
    Tls {
        /// A name or an address, IPv6 without brackets.
        host: String,
        /// The port; 0 picks a free one.
        port: u16,
    },
    /// `unix:/PATH`.
    Unix(PathBuf),
}

impl FromStr for ListenAddr {
    type Err = anyhow::Error;

    fn from_str(s: &str) -> Result<ListenAddr> {
        let syntax = || {
            format!("invalid listen address {s:?}: expected tcp://HOST:PORT (e.g. tcp://127.0.0.1:5564), tls://HOST:PORT or unix:/PATH")
        };
        if let Some(path) = s.strip_prefix("unix:") {
            let path = path.strip_prefix("//").unwrap_or(path);
            if path.is_empty() {
                bail!("{}", syntax());
            }
            return Ok(ListenAddr::Unix(PathBuf::from(path)));
        }
        let (tls, rest) = match s.split_once("://") {
            Some(("tcp", rest)) => (false, rest),
            Some(("tls", rest)) => (true, rest),
            Some(_) => bail!("{}", syntax()),
            None => (false, s),
        };
        let rest = rest.strip_suffix('/').unwrap_or(rest);
        let (host, port) = rest.rsplit_once(':').with_context(syntax)?;
        let port: u16 = port.parse().with_context(syntax)?;
        let host = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')).unwrap_or(host);
        if host.is_empty() || host.contains('/') {
            bail!("{}", syntax());
        }
        let host = host.to_owned();
        Ok(if tls { ListenAddr::Tls { host, port } } else { ListenAddr::Tcp { host, port } })
    }
}

impl fmt::Display for ListenAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ListenAddr::Tcp { host, port } if host.contains(':') => {
                write!(f, "tcp://[{host}]:{port}")
            }
            ListenAddr::Tcp { host, port } => write!(f, "tcp://{host}:{port}"),
            ListenAddr::Tls { host, port } if host.contains(':') => {
                write!(f, "tls://[{host}]:{port}")
            }
            ListenAddr::Tls { host, port } => write!(f, "tls://{host}:{port}"),
            ListenAddr::Unix(p) => write!(f, "unix:{}", p.display()),
        }
    }
}

/// A bound listener.
#[derive(Debug)]
pub(crate) enum Bound {
    /// A TCP listener and its actual address.
    Tcp(TcpListener, SocketAddr),
    /// A TCP listener whose connections speak TLS, and its address.
    Tls(TcpListener, SocketAddr),
    /// A unix-socket listener, its path and the socket file's identity.
    Unix(UnixListener, SocketFile),
}

/// A socket file we created, removed when dropped if it is still ours.
#[derive(Debug)]
pub(crate) struct SocketFile {
    path: PathBuf,
    dev: u64,
    ino: u64,
}

impl SocketFile {
    /// The socket's path.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for SocketFile {
    fn drop(&mut self) {
        // Only remove the file if nobody replaced it meanwhile.
        if let Ok(m) = std::fs::symlink_metadata(&self.path) {
            if m.dev() == self.dev && m.ino() == self.ino {
                if let Err(e) = std::fs::remove_file(&self.path) {
                    tracing::warn!(path = %self.path.display(), error = %e, "cannot remove socket file");
                }
            }
        }
    }
}

impl ListenAddr {
    /// Binds the address; errors say which address and why.
    pub(crate) async fn bind(&self) -> Result<Bound> {
        match self {
            ListenAddr::Tcp { host, port } | ListenAddr::Tls { host, port } => {
                let listener = TcpListener::bind((host.as_str(), *port))
                    .await
                    .map_err(|e| bind_error(self, e))?;
                let local =
                    listener.local_addr().with_context(|| format!("cannot listen on {self}"))?;
                Ok(match self {
                    ListenAddr::Tls { .. } => Bound::Tls(listener, local),
                    _ => Bound::Tcp(listener, local),
                })
            }
            ListenAddr::Unix(path) => {
                remove_stale_socket(path).with_context(|| format!("cannot listen on {self}"))?;
                let listener = UnixListener::bind(path).map_err(|e| bind_error(self, e))?;
                let m = std::fs::symlink_metadata(path)
                    .with_context(|| format!("cannot listen on {self}"))?;
                let file = SocketFile { path: path.clone(), dev: m.dev(), ino: m.ino() };
                Ok(Bound::Unix(listener, file))
            }
        }
    }
}

fn bind_error(addr: &ListenAddr, e: io::Error) -> anyhow::Error {
    let hint = match e.kind() {
        io::ErrorKind::AddrInUse => {
            " (is another server running there? pick another with --listen)"
        }
        io::ErrorKind::PermissionDenied => " (ports below 1024 need root or CAP_NET_BIND_SERVICE)",
        io::ErrorKind::AddrNotAvailable => " (that address is not on this machine)",
        _ => "",
    };
    anyhow::anyhow!("cannot listen on {addr}: {e}{hint}")
}

/// Removes a socket file left by a server that is gone; refuses when a
/// server still answers there, or the path is not a socket.
fn remove_stale_socket(path: &Path) -> Result<()> {
    let meta = match std::fs::symlink_metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e.into()),
    };
    if !meta.file_type().is_socket() {
        bail!("{} exists and is not a socket; not removing it", path.display());
    }
    match std::os::unix::net::UnixStream::connect(path) {
        Ok(_) => bail!("address already in use: a server is answering on {}", path.display()),
        Err(_) => {
            tracing::info!(path = %path.display(), "removing stale socket file");
            std::fs::remove_file(path)
                .with_context(|| format!("cannot remove stale socket {}", path.display()))
        }
    }
}

impl Bound {
    /// `tcp://ADDR:PORT` or `unix:/PATH`, with the actual port.
    pub(crate) fn url(&self) -> String {
        match self {
            Bound::Tcp(_, a) => format!("tcp://{a}"),
            Bound::Tls(_, a) => format!("tls://{a}"),
            Bound::Unix(_, f) => format!("unix:{}", f.path().display()),
        }
    }

    /// Whether peers on other hosts can connect (a TCP address that is not
    /// loopback).
    pub(crate) fn reaches_other_hosts(&self) -> bool {
        matches!(self, Bound::Tcp(_, a) if !a.ip().is_loopback())
    }

    /// The Linux kernel mount command for this listener.
    pub(crate) fn mount_line(&self, msize: u32, aname: Option<&str>) -> String {
        let msize = msize.min(KERNEL_SOCKET_MSIZE);
        let aname = aname.map(|a| format!(",aname={a}")).unwrap_or_default();
        match self {
            Bound::Tcp(_, a) => {
                let ip = if a.ip().is_unspecified() {
                    if a.is_ipv4() {
                        "127.0.0.1".to_owned()
                    } else {
                        "::1".to_owned()
                    }
                } else {
                    a.ip().to_string()
                };
                format!(
                    "mount -t 9p -o trans=tcp,port={},version=9p2000.L,msize={msize}{aname} {ip} /mnt",
                    a.port()
                )
            }
            Bound::Tls(_, a) => format!(
                "# tls://{a}: the kernel client needs a TLS tunnel (stunnel; see docs/TLS.md)"
            ),
            Bound::Unix(_, f) => format!(
                "mount -t 9p -o trans=unix,version=9p2000.L,msize={msize}{aname} {} /mnt",
                f.path().display()
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tcp(host: &str, port: u16) -> ListenAddr {
        ListenAddr::Tcp { host: host.into(), port }
    }

    #[test]
    fn parses_addresses() {
        assert_eq!("tcp://127.0.0.1:5564".parse::<ListenAddr>().unwrap(), tcp("127.0.0.1", 5564));
        assert_eq!("tcp://localhost:1/".parse::<ListenAddr>().unwrap(), tcp("localhost", 1));
        assert_eq!("0.0.0.0:564".parse::<ListenAddr>().unwrap(), tcp("0.0.0.0", 564));
        assert_eq!("tcp://[::1]:5564".parse::<ListenAddr>().unwrap(), tcp("::1", 5564));
        assert_eq!(
            "tls://[::1]:5564".parse::<ListenAddr>().unwrap(),
            ListenAddr::Tls { host: "::1".into(), port: 5564 }
        );
        assert_eq!(
            "tls://0.0.0.0:0".parse::<ListenAddr>().unwrap(),
            ListenAddr::Tls { host: "0.0.0.0".into(), port: 0 }
        );
        assert_eq!(
            "unix:/run/9p.sock".parse::<ListenAddr>().unwrap(),
            ListenAddr::Unix("/run/9p.sock".into())
        );
        assert_eq!(
            "unix:///run/9p.sock".parse::<ListenAddr>().unwrap(),
            ListenAddr::Unix("/run/9p.sock".into())
        );
        assert_eq!(
            "unix:rel.sock".parse::<ListenAddr>().unwrap(),
            ListenAddr::Unix("rel.sock".into())
        );
        for bad in [
            "",
            "tcp://",
            "tcp://host",
            "tcp://host:port",
            "tcp://:1",
            "tcp://h:70000",
            "tls://h",
            "tls://",
            "udp://h:1",
            "unix:",
            "http://x:1",
        ] {
            let e = bad.parse::<ListenAddr>().unwrap_err().to_string();
            assert!(e.contains("expected tcp://HOST:PORT"), "{bad}: {e}");
        }
    }

    #[test]
    fn displays_round_trip() {
        for s in [
            "tcp://127.0.0.1:5564",
            "tcp://[::1]:5564",
            "tls://[::1]:5564",
            "tls://h:1",
            "unix:/tmp/a.sock",
        ] {
            assert_eq!(s.parse::<ListenAddr>().unwrap().to_string(), s);
        }
    }

    #[tokio::test]
    async fn stale_unix_socket_is_replaced_and_removed_on_drop() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.sock");
        // A socket file whose server is gone.
        drop(std::os::unix::net::UnixListener::bind(&path).unwrap());
        assert!(path.exists());
        let addr = ListenAddr::Unix(path.clone());
        let bound = addr.bind().await.unwrap();
        assert!(bound
            .mount_line(1 << 30, None)
            .contains("trans=unix,version=9p2000.L,msize=1048576"));
        // A live one is refused.
        let e = addr.bind().await.unwrap_err();
        assert!(format!("{e:#}").contains("already in use"), "{e:#}");
        drop(bound);
        assert!(!path.exists());
        // A regular file is never removed.
        std::fs::write(&path, "x").unwrap();
        let e = addr.bind().await.unwrap_err();
        assert!(format!("{e:#}").contains("not a socket"), "{e:#}");
        assert!(path.exists());
    }

    #[tokio::test]
    async fn tcp_in_use_is_explained() {
        let first = tcp("127.0.0.1", 0).bind().await.unwrap();
        let Bound::Tcp(_, local) = &first else { panic!("not tcp") };
        let e = tcp("127.0.0.1", local.port()).bind().await.unwrap_err();
        assert!(e.to_string().contains("in use"), "{e}");
        assert!(first.mount_line(8192, Some("scratch")).ends_with(&format!(
            "trans=tcp,port={},version=9p2000.L,msize=8192,aname=scratch 127.0.0.1 /mnt",
            local.port()
        )));
    }
}
