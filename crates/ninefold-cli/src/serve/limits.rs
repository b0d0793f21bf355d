//! The `[limits]` table of the configuration file and its flags: the
//! server's abuse limits (per peer, per connection, memory, deadlines) and
//! the passthrough descriptor budget. Every key is documented in
//! docs/CONFIGURATION.md; a flag overrides the file.

use anyhow::{bail, Context, Result};
use clap::Args;
use ninefold_server::{AbuseLimits, Rate};
use serde::Deserialize;

use super::config::parse_duration;

/// `[limits]` as written; every key optional.
#[derive(Debug, Default, Deserialize, PartialEq, Clone)]
#[serde(deny_unknown_fields)]
pub(crate) struct FileLimits {
    /// Connections at once from one IP address (unix sockets: one peer);
    /// 0 = unlimited.
    pub(crate) connections_per_peer: Option<usize>,
    /// Requests per second per connection; 0 = unlimited.
    pub(crate) request_rate: Option<f64>,
    /// Burst of the per-connection rate.
    pub(crate) request_burst: Option<u32>,
    /// Requests per second per peer, all its connections; 0 = unlimited.
    pub(crate) peer_request_rate: Option<f64>,
    /// Burst of the per-peer rate.
    pub(crate) peer_request_burst: Option<u32>,
    /// `"30s"`, `"off"`.
    pub(crate) frame_timeout: Option<String>,
    /// `"30s"`, `"off"`.
    pub(crate) handshake_timeout: Option<String>,
    /// `"64MiB"`, bytes, `"off"`.
    pub(crate) connection_memory: Option<Size>,
    /// `"2GiB"`, bytes, `"off"`.
    pub(crate) server_memory: Option<Size>,
    /// `"60s"`, `"off"`.
    pub(crate) stall_timeout: Option<String>,
    /// Host descriptors per connection on directory exports; 0 =
    /// unlimited.
    pub(crate) descriptors_per_connection: Option<usize>,
}

/// A size: a number of bytes, or text such as `64MiB` or `off`.
#[derive(Debug, Deserialize, PartialEq, Clone)]
#[serde(untagged)]
pub(crate) enum Size {
    /// Bytes.
    Bytes(u64),
    /// `64MiB`, `1G`, `off`.
    Text(String),
}

/// The `serve` flags of the limits.
#[derive(Debug, Default, Args, Clone)]
pub(crate) struct LimitArgs {
    /// Connections at once from one IP address (all unix-socket clients
    /// are one peer); 0 = unlimited. [default: 1024]
    #[arg(long, value_name = "N")]
    pub(crate) connections_per_peer: Option<usize>,

    /// Requests per second per connection (a client over it is read more
    /// slowly, not refused); 0 = unlimited. [default: unlimited]
    #[arg(long, value_name = "N")]
    pub(crate) request_rate: Option<f64>,

    /// Requests per second per peer, all its connections together; 0 =
    /// unlimited. [default: unlimited]
    #[arg(long, value_name = "N")]
    pub(crate) peer_request_rate: Option<f64>,

    /// Close a connection whose frame does not arrive in full this long
    /// after its first byte (slow-loris); `off` to disable. [default: 30s]
    #[arg(long, value_name = "DURATION")]
    pub(crate) frame_timeout: Option<String>,

    /// Close a connection that sends no whole Tversion this long after
    /// connecting; `off` to disable. [default: 30s]
    #[arg(long, value_name = "DURATION")]
    pub(crate) handshake_timeout: Option<String>,

    /// Memory for request frames and queued replies per connection, e.g.
    /// 64MiB; `off` to disable. [default: 64MiB]
    #[arg(long, value_name = "SIZE")]
    pub(crate) connection_memory: Option<String>,

    /// The same for all connections together; `off` to disable.
    /// [default: 2GiB]
    #[arg(long, value_name = "SIZE")]
    pub(crate) server_memory: Option<String>,

    /// Host descriptors one connection may hold on directory exports
    /// (past it: EMFILE); 0 = unlimited. [default: half the descriptor
    /// limit]
    #[arg(long, value_name = "N")]
    pub(crate) descriptors_per_connection: Option<usize>,
}

/// The limits in force, merged and checked.
#[derive(Debug, Clone, PartialEq, Default)]
pub(crate) struct LimitSettings {
    /// The server's abuse limits.
    pub(crate) abuse: AbuseLimits,
    /// Descriptors per connection on directory exports: `None` the
    /// passthrough default, `Some(0)` unlimited.
    pub(crate) descriptors_per_connection: Option<usize>,
}

fn duration(
    flag: Option<&str>,
    file: Option<&str>,
    key: &str,
    default: Option<std::time::Duration>,
) -> Result<Option<std::time::Duration>> {
    match flag.or(file) {
        Some(text) => parse_duration(text).with_context(|| format!("invalid {key} {text:?}")),
        None => Ok(default),
    }
}

fn rate(per_second: Option<f64>, burst: Option<u32>, key: &str) -> Result<Option<Rate>> {
    match per_second {
        None => Ok(None),
        Some(0.0) => Ok(None),
        Some(r) if !(r.is_finite() && r > 0.0) => {
            bail!("invalid {key} {r}: expected requests per second, 0 for unlimited")
        }
        Some(r) => {
            let mut rate = Rate::per_second(r);
            if let Some(b) = burst {
                if b == 0 {
                    bail!("invalid {key} burst 0: at least 1");
                }
                rate.burst = b;
            }
            Ok(Some(rate))
        }
    }
}

/// `65536`, `64KiB`, `64MiB`, `2GiB`, `1G`, `off`; `None` for off.
pub(crate) fn parse_size(text: &str) -> Result<Option<usize>> {
    let t = text.trim();
    if matches!(t, "off" | "none" | "0") {
        return Ok(None);
    }
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let n: u64 = num.parse().with_context(|| "expected a number of bytes, e.g. 65536 or 64MiB")?;
    let mult: u64 = match unit.trim() {
        "" | "B" => 1,
        "K" | "KiB" | "k" => 1 << 10,
        "M" | "MiB" => 1 << 20,
        "G" | "GiB" => 1 << 30,
        other => bail!("unknown size unit {other:?}: use KiB, MiB or GiB"),
    };
    let bytes = n.checked_mul(mult).context("size too large")?;
    Ok(Some(usize::try_from(bytes).context("size too large")?))
}

fn size(
    flag: Option<&str>,
    file: Option<&Size>,
    key: &str,
    default: Option<usize>,
) -> Result<Option<usize>> {
    let text = match (flag, file) {
        (Some(f), _) => f.to_owned(),
        (None, Some(Size::Bytes(0))) => return Ok(None),
        (None, Some(Size::Bytes(n))) => {
            return Ok(Some(usize::try_from(*n).with_context(|| format!("{key} too large"))?))
        }
        (None, Some(Size::Text(t))) => t.clone(),
        (None, None) => return Ok(default),
    };
    parse_size(&text).with_context(|| format!("invalid {key} {text:?}"))
}

impl LimitSettings {
    /// Merges the flags over `[limits]` over the defaults.
    pub(crate) fn merge(args: &LimitArgs, file: Option<FileLimits>) -> Result<LimitSettings> {
        let file = file.unwrap_or_default();
        let d = AbuseLimits::default();
        let mut abuse = AbuseLimits::default();
        abuse.max_connections_per_peer =
            match args.connections_per_peer.or(file.connections_per_peer) {
                Some(0) => None,
                Some(n) => Some(n),
                None => d.max_connections_per_peer,
            };
        abuse.connection_rate =
            rate(args.request_rate.or(file.request_rate), file.request_burst, "request rate")?;
        abuse.peer_rate = rate(
            args.peer_request_rate.or(file.peer_request_rate),
            file.peer_request_burst,
            "peer request rate",
        )?;
        abuse.frame_timeout = duration(
            args.frame_timeout.as_deref(),
            file.frame_timeout.as_deref(),
            "frame timeout",
            d.frame_timeout,
        )?;
        abuse.handshake_timeout = duration(
            args.handshake_timeout.as_deref(),
            file.handshake_timeout.as_deref(),
            "handshake timeout",
            d.handshake_timeout,
        )?;
        abuse.stall_timeout =
            duration(None, file.stall_timeout.as_deref(), "stall timeout", d.stall_timeout)?;
        abuse.connection_memory = size(
            args.connection_memory.as_deref(),
            file.connection_memory.as_ref(),
            "connection memory",
            d.connection_memory,
        )?;
        abuse.server_memory = size(
            args.server_memory.as_deref(),
            file.server_memory.as_ref(),
            "server memory",
            d.server_memory,
        )?;
        Ok(LimitSettings {
            abuse,
            descriptors_per_connection: args
                .descriptors_per_connection
                .or(file.descriptors_per_connection),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn defaults_are_the_servers() {
        let s = LimitSettings::merge(&LimitArgs::default(), None).unwrap();
        assert_eq!(s.abuse, AbuseLimits::default());
        assert_eq!(s.descriptors_per_connection, None);
    }

    #[test]
    fn file_then_flags() {
        let file: FileLimits = toml::from_str(
            r#"
            connections_per_peer = 8
            request_rate = 1000
            request_burst = 50
            peer_request_rate = 5000
            frame_timeout = "5s"
            handshake_timeout = "off"
            connection_memory = "8MiB"
            server_memory = 1073741824
            stall_timeout = "20s"
            descriptors_per_connection = 4096
            "#,
        )
        .unwrap();
        let s = LimitSettings::merge(&LimitArgs::default(), Some(file.clone())).unwrap();
        assert_eq!(s.abuse.max_connections_per_peer, Some(8));
        assert_eq!(s.abuse.connection_rate, Some(Rate { per_second: 1000.0, burst: 50 }));
        assert_eq!(s.abuse.peer_rate, Some(Rate { per_second: 5000.0, burst: 5000 }));
        assert_eq!(s.abuse.frame_timeout, Some(Duration::from_secs(5)));
        assert_eq!(s.abuse.handshake_timeout, None);
        assert_eq!(s.abuse.connection_memory, Some(8 << 20));
        assert_eq!(s.abuse.server_memory, Some(1 << 30));
        assert_eq!(s.abuse.stall_timeout, Some(Duration::from_secs(20)));
        assert_eq!(s.descriptors_per_connection, Some(4096));

        let args = LimitArgs {
            connections_per_peer: Some(0),
            request_rate: Some(0.0),
            frame_timeout: Some("250ms".into()),
            connection_memory: Some("off".into()),
            descriptors_per_connection: Some(0),
            ..LimitArgs::default()
        };
        let s = LimitSettings::merge(&args, Some(file)).unwrap();
        assert_eq!(s.abuse.max_connections_per_peer, None);
        assert_eq!(s.abuse.connection_rate, None);
        assert_eq!(s.abuse.frame_timeout, Some(Duration::from_millis(250)));
        assert_eq!(s.abuse.connection_memory, None);
        assert_eq!(s.descriptors_per_connection, Some(0));
    }

    #[test]
    fn bad_values_are_named() {
        let args =
            LimitArgs { connection_memory: Some("12 parsecs".into()), ..LimitArgs::default() };
        let e = LimitSettings::merge(&args, None).unwrap_err();
        assert!(format!("{e:#}").contains("connection memory"), "{e:#}");
        let args = LimitArgs { request_rate: Some(-3.0), ..LimitArgs::default() };
        assert!(LimitSettings::merge(&args, None).is_err());
        assert!(toml::from_str::<FileLimits>("nonsense = 1").is_err());
    }
}
