//! [`Location`]: a connection [`Target`] plus a path on that server, the
//! one syntax the `ninefold` command's operands use.

use std::fmt;

use crate::error::{Error, Result};
use crate::target::{Target, DEFAULT_PORT};

/// A server and a path below its attach root.
///
/// Every [`Target`] form is a location (its path is the root, `/`); a path
/// is appended to it as follows:
///
/// | Form | Server | Path |
/// |---|---|---|
/// | `tcp://HOST[:PORT][/PATH]` | TCP | after the first `/` of the authority |
/// | `tls://HOST[:PORT][/PATH][?PARAMS]` | TLS ([`TlsOptions`](crate::TlsOptions) parameters) | same, up to the first `?` |
/// | `HOST[:PORT][/PATH]`, `[V6][:PORT][/PATH]` | TCP (port 5564 by default) | same |
/// | `unix:SOCKET[:PATH]` (also `unix://SOCKET[:PATH]`) | unix socket | after the first `:` of the socket path |
/// | `/SOCKET[:PATH]`, `./SOCKET[:PATH]` | unix socket | same |
///
/// The path is always absolute from the attach root: `fs.local:564/a/b`,
/// `fs.local:564//a/b` and `unix:/run/9p.sock:a/b` all name `/a/b`. A TCP
/// target ends at the first `/` after the host, so a host or port never
/// contains one; a socket path ends at the first `:`, so a path on the
/// server may contain `:` freely but a socket path with a `:` can only be
/// reached through [`Target`] (or a symlink to the socket). An IPv6 address
/// followed by a path needs brackets (`[::1]:5564/a`). In a `tls://`
/// location the first `?` starts the TLS parameters, so a path with a `?`
/// is named with [`with_path`](Location::with_path) instead.
///
/// For every string without a path part, and every socket path without a
/// `:`, `Location::parse(s)?.target == Target::parse(s)?`.
///
/// ```
/// use ninefold_client::{Location, Target};
///
/// let l = Location::parse("tcp://127.0.0.1:5564/etc/motd")?;
/// assert_eq!(l.target, Target::Tcp("127.0.0.1:5564".into()));
/// assert_eq!(l.path, "/etc/motd");
///
/// let l = Location::parse("unix:/run/9p.sock:/srv/a.txt")?;
/// assert_eq!(l.target, Target::Unix("/run/9p.sock".into()));
/// assert_eq!(l.path, "/srv/a.txt");
///
/// let l = Location::parse("fs.local/data")?;
/// assert_eq!(l.target, Target::Tcp("fs.local:5564".into()));
/// assert_eq!(l.path, "/data");
///
/// assert_eq!(Location::parse("[::1]:7/x")?.target, Target::Tcp("[::1]:7".into()));
/// assert_eq!(Location::parse("unix:/run/9p.sock")?.path, "/");
/// assert_eq!(Location::parse("unix:/run/9p.sock")?.to_string(), "unix:/run/9p.sock:/");
/// assert!(Location::parse("host:notaport/x").is_err());
/// # Ok::<(), ninefold_client::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Location {
    /// The server.
    pub target: Target,
    /// The path below the attach root, starting with `/` (exactly `/` for
    /// the root). Kept as written otherwise: a trailing `/` survives.
    pub path: String,
}

impl Location {
    /// Parses a location string (see the table above).
    pub fn parse(s: &str) -> Result<Location> {
        let s = s.trim();
        if s.is_empty() {
            return Err(Error::invalid("empty location"));
        }
        if let Some(rest) = s.strip_prefix("unix:") {
            let rest = rest.strip_prefix("//").unwrap_or(rest);
            return Location::unix(rest, s);
        }
        if s.starts_with('/') || s.starts_with('.') {
            return Location::unix(s, s);
        }
        let (tls_query, hostpath) = match s.strip_prefix("tls://") {
            Some(r) => {
                let (hostpath, query) = r.split_once('?').unwrap_or((r, ""));
                (Some(query), hostpath)
            }
            None => (None, s),
        };
        let (explicit, hostpath) = match hostpath.strip_prefix("tcp://") {
            Some(r) if tls_query.is_none() => (true, r),
            _ => (tls_query.is_some(), hostpath),
        };
        // The authority ends at the first `/` (after a bracketed IPv6
        // address, if any).
        let search_from = if hostpath.starts_with('[') {
            hostpath.find(']').ok_or_else(|| Error::invalid(format!("bad IPv6 target {s:?}")))?
        } else {
            0
        };
        let (authority, path) = match hostpath[search_from..].find('/') {
            Some(i) => hostpath.split_at(search_from + i),
            None => (hostpath, ""),
        };
        if authority.is_empty() {
            return Err(Error::invalid(format!("no host in {s:?}")));
        }
        if !path.is_empty() && !authority.starts_with('[') && authority.matches(':').count() > 1 {
            return Err(Error::invalid(format!(
                "an IPv6 address followed by a path needs brackets, as in [::1]:{DEFAULT_PORT}/path: {s:?}"
            )));
        }
        let target = if let Some(query) = tls_query {
            Target::tls(authority, query)?
        } else if explicit {
            Target::parse(&format!("tcp://{authority}"))?
        } else {
            Target::parse(authority)?
        };
        Ok(Location { target, path: normalise(path) })
    }

    /// `SOCKET[:PATH]`.
    fn unix(rest: &str, whole: &str) -> Result<Location> {
        let (sock, path) = match rest.split_once(':') {
            Some((sock, path)) => (sock, path),
            None => (rest, ""),
        };
        if sock.is_empty() {
            return Err(Error::invalid(format!("no socket path in {whole:?}")));
        }
        Ok(Location { target: Target::Unix(sock.into()), path: normalise(path) })
    }

    /// The same server, another path.
    pub fn with_path(&self, path: impl Into<String>) -> Location {
        Location { target: self.target.clone(), path: normalise(&path.into()) }
    }
}

/// Adds the leading `/` (an empty path is the root).
fn normalise(path: &str) -> String {
    let trimmed = path.trim_start_matches('/');
    let mut out = String::with_capacity(trimmed.len() + 1);
    out.push('/');
    out.push_str(trimmed);
    out
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.target {
            Target::Tcp(a) => write!(f, "tcp://{a}{}", self.path),
            Target::Unix(p) => write!(f, "unix:{}:{}", p.display(), self.path),
            Target::Tls(t) => {
                write!(f, "tls://{}{}", t.addr, self.path)?;
                let q = t.options.query();
                if !q.is_empty() {
                    write!(f, "?{q}")?;
                }
                Ok(())
            }
        }
    }
}

impl std::str::FromStr for Location {
    type Err = Error;
    fn from_str(s: &str) -> Result<Location> {
        Location::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn l(s: &str) -> (Target, String) {
        let l = Location::parse(s).unwrap();
        (l.target, l.path)
    }

    #[test]
    fn forms_with_paths() {
        let tcp = |a: &str| Target::Tcp(a.into());
        let unix = |a: &str| Target::Unix(a.into());
        assert_eq!(l("tcp://h:1/a/b"), (tcp("h:1"), "/a/b".into()));
        assert_eq!(l("tcp://h/a"), (tcp("h:5564"), "/a".into()));
        assert_eq!(l("h:1//a"), (tcp("h:1"), "/a".into()));
        assert_eq!(l("h/a/"), (tcp("h:5564"), "/a/".into()));
        assert_eq!(l("[::1]:9/x:y"), (tcp("[::1]:9"), "/x:y".into()));
        assert_eq!(l("tcp://[::1]/x"), (tcp("[::1]:5564"), "/x".into()));
        assert_eq!(l("unix:/s.sock:/a:b"), (unix("/s.sock"), "/a:b".into()));
        assert_eq!(l("unix:///s.sock:a"), (unix("/s.sock"), "/a".into()));
        assert_eq!(l("./rel.sock:/a"), (unix("./rel.sock"), "/a".into()));
        assert_eq!(l("/s.sock"), (unix("/s.sock"), "/".into()));
        assert!(Location::parse("::1/x").is_err());
        assert!(Location::parse("tcp:///x").is_err());
        assert!(Location::parse("unix::/x").is_err());
        assert!(Location::parse("h:99999/x").is_err());
        assert!(Location::parse("").is_err());
        let tls =
            |a: &str, o: crate::TlsOptions| Target::Tls(crate::TlsTarget::new(a).with_options(o));
        assert_eq!(l("tls://h:1/a/b"), (tls("h:1", Default::default()), "/a/b".into()));
        assert_eq!(
            l("tls://h/a?ca=/x.pem&servername=n"),
            (tls("h:5564", crate::TlsOptions::new().ca("/x.pem").server_name("n")), "/a".into())
        );
        assert_eq!(
            l("tls://[::1]:9?cert=c"),
            (tls("[::1]:9", crate::TlsOptions::new().cert("c")), "/".into())
        );
        assert!(Location::parse("tls://h:1/a?nope=1").is_err());
        assert!(Location::parse("tls:///a").is_err());
    }

    #[test]
    fn same_targets_as_target_parse() {
        for s in [
            "unix:/run/9p.sock",
            "unix:///run/9p.sock",
            "tcp://127.0.0.1:564",
            "tcp://h:2/",
            "fs.local",
            "fs.local:77",
            "[::1]:7",
            "[::1]",
            "::1",
            "/run/x.sock",
            "./x.sock",
            "tls://h:1",
            "tls://h:1?ca=/c.pem",
        ] {
            assert_eq!(Location::parse(s).unwrap().target, Target::parse(s).unwrap(), "{s}");
        }
    }

    #[test]
    fn display_round_trips() {
        for s in ["tcp://h:1/a/b", "unix:/s.sock:/a", "tcp://[::1]:5/", "tls://h:1/a?ca=/c.pem"] {
            let loc = Location::parse(s).unwrap();
            assert_eq!(loc.to_string(), s);
            assert_eq!(Location::parse(&loc.to_string()).unwrap(), loc);
        }
    }
}
