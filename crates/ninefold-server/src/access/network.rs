//! [`Network`]: the peers an [`AccessPolicy`](super::AccessPolicy) trusts
//! without authentication.

use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::str::FromStr;

/// A set of peer addresses.
///
/// | text | peers |
/// |---|---|
/// | `loopback` (or `local`) | 127.0.0.0/8, ::1, and every peer without an IP address (unix sockets, in-process streams) |
/// | `10.0.0.0/8`, `fd00::/8` | that prefix (IPv4-mapped IPv6 peers match IPv4 prefixes) |
/// | `192.168.1.7`, `::1` | that address |
/// | `any` | everyone (the classic trusted network) |
///
/// ```
/// use ninefold_server::Network;
///
/// let lan: Network = "192.168.0.0/16".parse()?;
/// assert!(lan.contains(Some("192.168.4.2:40000")));
/// assert!(!lan.contains(Some("10.0.0.1:40000")));
/// assert!(Network::Local.contains(Some("[::1]:5")));
/// assert!(Network::Local.contains(Some("/run/ninefold.sock")));
/// assert!(!Network::Local.contains(Some("10.0.2.15:1")));
/// # Ok::<(), ninefold_server::NetworkParseError>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Network {
    /// Loopback addresses and peers without an IP address.
    Local,
    /// An address prefix.
    Prefix {
        /// The network address.
        addr: IpAddr,
        /// Its prefix length in bits.
        len: u8,
    },
    /// Every peer.
    Any,
}

/// A [`Network`] that could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid network {0:?}: expected loopback, any, an address or ADDRESS/PREFIX")]
pub struct NetworkParseError(String);

impl FromStr for Network {
    type Err = NetworkParseError;

    fn from_str(s: &str) -> Result<Network, NetworkParseError> {
        let err = || NetworkParseError(s.to_owned());
        let t = s.trim();
        match t {
            "loopback" | "local" => return Ok(Network::Local),
            "any" | "all" => return Ok(Network::Any),
            _ => {}
        }
        let (addr, len) = match t.split_once('/') {
            Some((a, l)) => (a, Some(l.parse::<u8>().map_err(|_| err())?)),
            None => (t, None),
        };
        let addr: IpAddr = addr.parse().map_err(|_| err())?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let len = len.unwrap_or(max);
        if len > max {
            return Err(err());
        }
        Ok(Network::Prefix { addr, len })
    }
}

impl fmt::Display for Network {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Network::Local => f.write_str("loopback"),
            Network::Any => f.write_str("any"),
            Network::Prefix { addr, len } => write!(f, "{addr}/{len}"),
        }
    }
}

/// The IP address of a peer's remote text (`ip:port`, `[v6]:port`, a
/// bare address), or `None` for a unix socket path or no address.
pub(crate) fn peer_ip(remote: Option<&str>) -> Option<IpAddr> {
    let r = remote?;
    let r = r.split_once("://").map_or(r, |(_, rest)| rest);
    if let Ok(sa) = r.parse::<SocketAddr>() {
        return Some(canonical(sa.ip()));
    }
    r.parse::<IpAddr>().ok().map(canonical)
}

/// IPv4-mapped IPv6 addresses as IPv4.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

impl Network {
    /// Whether a peer with this remote address text (as in
    /// [`Peer::remote`](crate::Peer::remote)) is in the network.
    pub fn contains(&self, remote: Option<&str>) -> bool {
        let ip = peer_ip(remote);
        match self {
            Network::Any => true,
            Network::Local => ip.is_none_or(|ip| ip.is_loopback()),
            Network::Prefix { addr, len } => ip.is_some_and(|ip| in_prefix(ip, *addr, *len)),
        }
    }
}

fn in_prefix(ip: IpAddr, net: IpAddr, len: u8) -> bool {
    match (ip, canonical(net)) {
        (IpAddr::V4(a), IpAddr::V4(n)) => {
            let mask = u32::MAX.checked_shl(32 - u32::from(len)).unwrap_or(0);
            u32::from(a) & mask == u32::from(n) & mask
        }
        (IpAddr::V6(a), IpAddr::V6(n)) => {
            let mask = u128::MAX.checked_shl(128 - u32::from(len)).unwrap_or(0);
            u128::from(a) & mask == u128::from(n) & mask
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_matches() {
        let n = |s: &str| s.parse::<Network>().unwrap();
        assert_eq!(n("loopback"), Network::Local);
        assert_eq!(n("any"), Network::Any);
        assert!(n("10.0.0.0/8").contains(Some("10.1.2.3:4")));
        assert!(!n("10.0.0.0/8").contains(Some("11.1.2.3:4")));
        assert!(n("10.0.0.0/8").contains(Some("[::ffff:10.0.0.9]:4")));
        assert!(n("0.0.0.0/0").contains(Some("1.2.3.4:5")));
        assert!(n("fd00::/8").contains(Some("[fd12::1]:9")));
        assert!(!n("fd00::/8").contains(Some("1.2.3.4:5")));
        assert!(n("1.2.3.4").contains(Some("1.2.3.4:80")));
        assert!(!n("1.2.3.4").contains(None), "no address is not in a prefix");
        assert!(Network::Local.contains(None));
        assert!(Network::Local.contains(Some("unix")));
        assert!(Network::Local.contains(Some("127.9.9.9:1")));
        assert!(Network::Local.contains(Some("[::ffff:127.0.0.1]:1")));
        assert!(!Network::Local.contains(Some("192.168.1.1:1")));
        for bad in ["", "10.0.0.0/33", "::/129", "host", "1.2.3.4/x"] {
            assert!(bad.parse::<Network>().is_err(), "{bad}");
        }
        assert_eq!(n("10.0.0.0/8").to_string(), "10.0.0.0/8");
    }
}
