//! The settings of `ninefold serve`: the TOML file, the flags, and the
//! merged [`Settings`] (a flag overrides the file, the file overrides
//! the defaults). Every key is documented in docs/CONFIGURATION.md.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{bail, Context, Result};
use ninefold_fs::passthrough::IdMap;
use serde::Deserialize;

use super::listen::ListenAddr;
use crate::cli::ServeArgs;

/// The default listening address.
pub(crate) const DEFAULT_LISTEN: &str = "tcp://127.0.0.1:5564";

/// The word that means "an in-memory tree" where a directory is expected.
pub(crate) const MEMORY: &str = "memory";

/// The configuration file, as written. Every key is optional.
#[derive(Debug, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub(crate) struct FileConfig {
    /// Listening addresses.
    pub(crate) listen: Option<Vec<String>>,
    /// The default export: a directory or `memory`.
    pub(crate) root: Option<String>,
    /// Named exports.
    pub(crate) exports: Option<BTreeMap<String, FileExport>>,
    /// Refuse changes on every export.
    pub(crate) read_only: Option<bool>,
    /// `UID[:GID]` (a string) or a bare uid (an integer).
    pub(crate) squash_uid: Option<IdOrPair>,
    /// `["CLIENT:HOST", ...]`.
    pub(crate) uid_map: Option<Vec<String>>,
    /// `["CLIENT:HOST", ...]`.
    pub(crate) gid_map: Option<Vec<String>>,
    /// Largest msize.
    pub(crate) max_msize: Option<u32>,
    /// Requests at once per connection.
    pub(crate) max_inflight: Option<usize>,
    /// Connections at once.
    pub(crate) max_connections: Option<usize>,
    /// Fids per connection.
    pub(crate) max_fids: Option<usize>,
    /// `"30s"`, `"5m"`, `"off"`.
    pub(crate) idle_timeout: Option<String>,
    /// Time requests get to finish at shutdown.
    pub(crate) shutdown_deadline: Option<String>,
    /// `HOST:PORT` of the metrics endpoint.
    pub(crate) metrics: Option<String>,
    /// Log filter.
    pub(crate) log: Option<String>,
    /// Dialects offered (version strings).
    pub(crate) dialects: Option<Vec<String>>,
    /// Where the `.Z` ledger journal and lineage token live.
    pub(crate) state_dir: Option<PathBuf>,
    /// `"measured"`, `"always"`, `"never"`.
    pub(crate) splice_reads: Option<String>,
    /// `[tls]`: certificate, key and client CA of tls:// listeners.
    pub(crate) tls: Option<super::tls::FileTls>,
    /// Authentication and access control (`[access]`).
    pub(crate) access: Option<super::access::FileAccess>,
    /// `[limits]`: abuse limits (see `serve/limits.rs`).
    pub(crate) limits: Option<super::limits::FileLimits>,
}

/// A squash owner: `65534` or `"65534:65534"`.
#[derive(Debug, Deserialize, PartialEq)]
#[serde(untagged)]
pub(crate) enum IdOrPair {
    /// A bare uid.
    Id(u32),
    /// `UID[:GID]`.
    Text(String),
}

/// A named export in the file: `name = "/dir"` or
/// `name = { path = "/dir", read_only = true }`.
#[derive(Debug, Deserialize, PartialEq)]
#[serde(untagged)]
pub(crate) enum FileExport {
    /// A directory or `memory`.
    Path(String),
    /// With options.
    Table {
        /// A directory or `memory`.
        path: String,
        /// Refuse changes on this export.
        #[serde(default)]
        read_only: bool,
    },
}

impl FileConfig {
    /// Parses TOML text.
    pub(crate) fn parse(text: &str) -> Result<FileConfig> {
        Ok(toml::from_str(text)?)
    }

    /// Reads and parses a file.
    pub(crate) fn load(path: &Path) -> Result<FileConfig> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read config file {}", path.display()))?;
        FileConfig::parse(&text).with_context(|| format!("invalid config file {}", path.display()))
    }
}

/// What a tree is made of.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Source {
    /// The embedded welcome tree (the default export with no directory).
    Welcome,
    /// An empty in-memory tree.
    Memory,
    /// A host directory.
    Dir(PathBuf),
}

impl Source {
    /// `memory` or a path; `default_memory` is what `memory` means here.
    fn parse(text: &str, memory: Source) -> Result<Source> {
        if text == MEMORY {
            Ok(memory)
        } else if text.is_empty() {
            bail!("an export path cannot be empty")
        } else {
            Ok(Source::Dir(PathBuf::from(text)))
        }
    }
}

/// One export and its options.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ExportSpec {
    /// The tree.
    pub(crate) source: Source,
    /// Refuse changes.
    pub(crate) read_only: bool,
}

/// Everything `serve` needs, merged and checked.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Settings {
    /// Where to listen (at least one).
    pub(crate) listen: Vec<ListenAddr>,
    /// The export for the empty aname; `None` when only named exports
    /// were asked for.
    pub(crate) root: Option<ExportSpec>,
    /// Named exports, by aname.
    pub(crate) exports: BTreeMap<String, ExportSpec>,
    /// Client-to-host id mapping of directory exports.
    pub(crate) id_map: IdMap,
    /// Largest msize.
    pub(crate) max_msize: u32,
    /// Requests at once per connection.
    pub(crate) max_inflight: usize,
    /// Connections at once.
    pub(crate) max_connections: Option<usize>,
    /// Fids per connection.
    pub(crate) max_fids: usize,
    /// Idle connection timeout.
    pub(crate) idle_timeout: Option<Duration>,
    /// Time requests get to finish at shutdown.
    pub(crate) shutdown_deadline: Duration,
    /// Metrics endpoint address.
    pub(crate) metrics: Option<String>,
    /// Log filter from the flag or the file.
    pub(crate) log: Option<String>,
    /// Dialects offered.
    pub(crate) dialects: Vec<ninefold_proto::Dialect>,
    /// Where the `.Z` ledger journal and lineage token live.
    pub(crate) state_dir: Option<PathBuf>,
    /// Large reads spliced or copied.
    pub(crate) splice_reads: ninefold_server::SpliceReads,
    /// TLS material of tls:// listeners (`None` without one).
    pub(crate) tls: Option<super::tls::TlsSettings>,
    /// Tauth keys, grants and trusted networks.
    pub(crate) access: super::access::AccessSettings,
    /// Abuse limits and the descriptor budget.
    pub(crate) limits: super::limits::LimitSettings,
}

impl Settings {
    /// Merges the flags over the file (if any) over the defaults.
    pub(crate) fn from_args(args: &ServeArgs) -> Result<Settings> {
        let file = match &args.config {
            Some(path) => FileConfig::load(path)?,
            None => FileConfig::default(),
        };
        Settings::merge(args, file)
    }

    /// Merges `args` over `file` over the defaults.
    pub(crate) fn merge(args: &ServeArgs, file: FileConfig) -> Result<Settings> {
        let server = ninefold_server::ServerConfig::default();

        let listen_text = if !args.listen.is_empty() {
            args.listen.clone()
        } else {
            file.listen.clone().unwrap_or_else(|| vec![DEFAULT_LISTEN.to_owned()])
        };
        if listen_text.is_empty() {
            bail!("`listen` is empty: give at least one address");
        }
        let listen = listen_text.iter().map(|s| s.parse()).collect::<Result<Vec<ListenAddr>>>()?;
        let tls = super::tls::TlsSettings::merge(&args.tls, file.tls, &listen)?;

        let read_only = args.read_only || file.read_only.unwrap_or(false);

        let mut exports = BTreeMap::new();
        for (name, e) in file.exports.unwrap_or_default() {
            let (path, ro) = match e {
                FileExport::Path(p) => (p, false),
                FileExport::Table { path, read_only } => (path, read_only),
            };
            check_aname(&name)?;
            let source =
                Source::parse(&path, Source::Memory).with_context(|| format!("export {name:?}"))?;
            exports.insert(name, ExportSpec { source, read_only: ro || read_only });
        }
        for spec in &args.aname {
            let (name, path) = parse_aname(spec)?;
            let source = Source::parse(&path, Source::Memory)?;
            exports.insert(name, ExportSpec { source, read_only });
        }

        let root_source = if let Some(dir) = &args.dir {
            Some(Source::Dir(dir.clone()))
        } else if args.memory {
            Some(Source::Welcome)
        } else if let Some(root) = &file.root {
            Some(Source::parse(root, Source::Welcome).context("`root`")?)
        } else if exports.is_empty() {
            Some(Source::Welcome)
        } else {
            None
        };
        let root = root_source.map(|source| ExportSpec { source, read_only });

        let id_map = if args.squash_uid.is_some()
            || !args.uid_map.is_empty()
            || !args.gid_map.is_empty()
        {
            // Any id flag replaces the file's id settings as a whole.
            id_map(
                args.squash_uid.as_deref().map(parse_squash).transpose()?,
                &args.uid_map,
                &args.gid_map,
            )?
        } else {
            let squash = match &file.squash_uid {
                Some(IdOrPair::Id(uid)) => Some((*uid, *uid)),
                Some(IdOrPair::Text(s)) => Some(parse_squash(s).context("`squash_uid`")?),
                None => None,
            };
            id_map(squash, &file.uid_map.unwrap_or_default(), &file.gid_map.unwrap_or_default())?
        };

        let idle_timeout = match args.idle_timeout.as_deref().or(file.idle_timeout.as_deref()) {
            Some(text) => {
                parse_duration(text).with_context(|| format!("invalid idle timeout {text:?}"))?
            }
            None => None,
        };
        let shutdown_deadline = match file.shutdown_deadline.as_deref() {
            Some(text) => parse_duration(text)
                .with_context(|| format!("invalid shutdown deadline {text:?}"))?
                .unwrap_or(Duration::ZERO),
            None => server.shutdown_deadline,
        };

        Ok(Settings {
            listen,
            root,
            exports,
            id_map,
            max_msize: args.max_msize.or(file.max_msize).unwrap_or(server.max_msize),
            max_inflight: args.max_inflight.or(file.max_inflight).unwrap_or(server.max_inflight),
            max_connections: args.max_connections.or(file.max_connections),
            max_fids: args.max_fids.or(file.max_fids).unwrap_or(server.max_fids),
            idle_timeout,
            shutdown_deadline,
            metrics: args.metrics.clone().or(file.metrics),
            log: args.log.clone().or(file.log),
            dialects: dialects(&args.dialect, file.dialects.as_deref(), &server.dialects)?,
            state_dir: args.state_dir.clone().or(file.state_dir),
            splice_reads: match args.splice_reads.as_deref().or(file.splice_reads.as_deref()) {
                Some(text) => text
                    .parse()
                    .map_err(|e: String| anyhow::anyhow!("invalid splice_reads: {e}"))?,
                None => server.splice_reads,
            },
            tls,
            access: super::access::AccessSettings::merge(&args.trust, &args.auth_key, file.access)?,
            limits: super::limits::LimitSettings::merge(&args.limits, file.limits)
                .context("[limits]")?,
        })
    }
}

/// The dialects to offer: the flags, else the file, else the defaults.
fn dialects(
    flags: &[String],
    file: Option<&[String]>,
    default: &[ninefold_proto::Dialect],
) -> Result<Vec<ninefold_proto::Dialect>> {
    let names = if flags.is_empty() { file.unwrap_or_default() } else { flags };
    if names.is_empty() {
        if file.is_some() {
            bail!("`dialects` is empty: offer at least one");
        }
        return Ok(default.to_vec());
    }
    let mut out = Vec::new();
    for name in names {
        let Some(d) = ninefold_proto::Dialect::from_version(name.as_bytes()) else {
            bail!("unknown dialect {name:?}: expected 9P2000.L.Z, 9P2000.L, 9P2000.u or 9P2000");
        };
        if !out.contains(&d) {
            out.push(d);
        }
    }
    Ok(out)
}

/// The id map from a squash owner or uid/gid pairs (not both).
fn id_map(squash: Option<(u32, u32)>, uid_map: &[String], gid_map: &[String]) -> Result<IdMap> {
    match squash {
        Some(_) if !uid_map.is_empty() || !gid_map.is_empty() => {
            bail!("`squash_uid` and `uid_map`/`gid_map` cannot be used together")
        }
        Some((uid, gid)) => Ok(IdMap::Squash { uid, gid }),
        None if uid_map.is_empty() && gid_map.is_empty() => Ok(IdMap::Identity),
        None => {
            let uids = uid_map.iter().map(|s| parse_pair(s, "uid")).collect::<Result<Vec<_>>>()?;
            let gids = gid_map.iter().map(|s| parse_pair(s, "gid")).collect::<Result<Vec<_>>>()?;
            Ok(IdMap::map(uids, gids))
        }
    }
}

/// An aname must be something a mount option can carry.
fn check_aname(name: &str) -> Result<()> {
    if name.is_empty() {
        bail!("an export name cannot be empty (the default export is `root`/DIR)");
    }
    if name.contains(',') || name.chars().any(char::is_whitespace) {
        bail!("export name {name:?} cannot contain commas or spaces");
    }
    Ok(())
}

/// `NAME=DIR` or `NAME=memory`.
pub(crate) fn parse_aname(spec: &str) -> Result<(String, String)> {
    let Some((name, path)) = spec.split_once('=') else {
        bail!("invalid --aname {spec:?}: expected NAME=DIR or NAME=memory");
    };
    check_aname(name).with_context(|| format!("invalid --aname {spec:?}"))?;
    if path.is_empty() {
        bail!("invalid --aname {spec:?}: the directory is missing");
    }
    Ok((name.to_owned(), path.to_owned()))
}

/// `UID` or `UID:GID` (GID defaults to UID).
pub(crate) fn parse_squash(text: &str) -> Result<(u32, u32)> {
    let parse = |s: &str| {
        s.trim()
            .parse::<u32>()
            .with_context(|| format!("invalid squash owner {text:?}: expected UID[:GID]"))
    };
    match text.split_once(':') {
        Some((u, g)) => Ok((parse(u)?, parse(g)?)),
        None => {
            let uid = parse(text)?;
            Ok((uid, uid))
        }
    }
}

/// `CLIENT:HOST`.
fn parse_pair(text: &str, what: &str) -> Result<(u32, u32)> {
    let err = || format!("invalid {what} map {text:?}: expected CLIENT:HOST, e.g. 1000:2000");
    let (c, h) = text.split_once(':').with_context(err)?;
    Ok((c.trim().parse().with_context(err)?, h.trim().parse().with_context(err)?))
}

/// `500ms`, `30s`, `5m`, `2h`, a bare number of seconds, or
/// `off`/`none`/`0` (no timeout).
pub(crate) fn parse_duration(text: &str) -> Result<Option<Duration>> {
    let t = text.trim();
    if matches!(t, "off" | "none" | "never" | "0") {
        return Ok(None);
    }
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let n: u64 = num.parse().with_context(|| "expected a number followed by ms, s, m or h")?;
    let d = match unit.trim() {
        "ms" => Duration::from_millis(n),
        "" | "s" => Duration::from_secs(n),
        "m" | "min" => Duration::from_secs(n.saturating_mul(60)),
        "h" => Duration::from_secs(n.saturating_mul(3600)),
        other => bail!("unknown unit {other:?}: use ms, s, m or h"),
    };
    Ok(if d.is_zero() { None } else { Some(d) })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn merge(args: ServeArgs, toml: &str) -> Result<Settings> {
        Settings::merge(&args, FileConfig::parse(toml)?)
    }

    #[test]
    fn defaults_serve_the_welcome_tree_on_5564() {
        let s = merge(ServeArgs::default(), "").unwrap();
        assert_eq!(s.listen, vec![DEFAULT_LISTEN.parse::<ListenAddr>().unwrap()]);
        assert_eq!(s.root, Some(ExportSpec { source: Source::Welcome, read_only: false }));
        assert!(s.exports.is_empty());
        assert_eq!(s.max_msize, 1024 * 1024 + 24);
        assert_eq!(s.max_inflight, 64);
        assert_eq!(s.max_fids, 65536);
        assert_eq!(s.max_connections, None);
        assert_eq!(s.idle_timeout, None);
        assert_eq!(s.shutdown_deadline, Duration::from_secs(10));
        assert_eq!(s.id_map, IdMap::Identity);
    }

    #[test]
    fn full_file_is_parsed() {
        let s = merge(
            ServeArgs::default(),
            r#"
            listen = ["tcp://0.0.0.0:564", "unix:/run/ninefold.sock"]
            root = "/srv/share"
            read_only = false
            squash_uid = "1000:100"
            max_msize = 262168
            max_inflight = 8
            max_connections = 10
            max_fids = 1000
            idle_timeout = "5m"
            shutdown_deadline = "3s"
            metrics = "127.0.0.1:9564"
            log = "debug"

            [exports]
            scratch = "memory"
            home = { path = "/home", read_only = true }
            "#,
        )
        .unwrap();
        assert_eq!(s.listen.len(), 2);
        assert_eq!(s.listen[1], ListenAddr::Unix(PathBuf::from("/run/ninefold.sock")));
        assert_eq!(
            s.root,
            Some(ExportSpec { source: Source::Dir("/srv/share".into()), read_only: false })
        );
        assert_eq!(s.exports["scratch"], ExportSpec { source: Source::Memory, read_only: false });
        assert_eq!(
            s.exports["home"],
            ExportSpec { source: Source::Dir("/home".into()), read_only: true }
        );
        assert_eq!(s.id_map, IdMap::Squash { uid: 1000, gid: 100 });
        assert_eq!(s.max_msize, 262168);
        assert_eq!(s.max_inflight, 8);
        assert_eq!(s.max_connections, Some(10));
        assert_eq!(s.max_fids, 1000);
        assert_eq!(s.idle_timeout, Some(Duration::from_secs(300)));
        assert_eq!(s.shutdown_deadline, Duration::from_secs(3));
        assert_eq!(s.metrics.as_deref(), Some("127.0.0.1:9564"));
        assert_eq!(s.log.as_deref(), Some("debug"));
    }

    #[test]
    fn flags_override_the_file() {
        let args = ServeArgs {
            dir: Some("/data".into()),
            listen: vec!["unix:/tmp/x.sock".into()],
            max_inflight: Some(2),
            idle_timeout: Some("off".into()),
            read_only: true,
            uid_map: vec!["1000:2000".into()],
            aname: vec!["scratch=/tmp".into()],
            log: Some("warn".into()),
            ..ServeArgs::default()
        };
        let s = merge(
            args,
            r#"
            listen = ["tcp://127.0.0.1:1"]
            root = "memory"
            max_inflight = 9
            max_fids = 7
            idle_timeout = "30s"
            uid_map = ["1:1"]
            log = "trace"
            [exports]
            scratch = "memory"
            other = "memory"
            "#,
        )
        .unwrap();
        assert_eq!(s.listen, vec![ListenAddr::Unix("/tmp/x.sock".into())]);
        assert_eq!(
            s.root,
            Some(ExportSpec { source: Source::Dir("/data".into()), read_only: true })
        );
        assert_eq!(
            s.exports["scratch"],
            ExportSpec { source: Source::Dir("/tmp".into()), read_only: true }
        );
        // --read-only covers exports from the file too.
        assert!(s.exports["other"].read_only);
        assert_eq!(s.max_inflight, 2);
        assert_eq!(s.max_fids, 7);
        assert_eq!(s.idle_timeout, None);
        assert_eq!(s.id_map, IdMap::map([(1000, 2000)], []));
        assert_eq!(s.log.as_deref(), Some("warn"));
    }

    #[test]
    fn splice_reads_from_the_flag_the_file_or_the_default() {
        use ninefold_server::SpliceReads;
        assert_eq!(merge(ServeArgs::default(), "").unwrap().splice_reads, SpliceReads::Measured);
        let s = merge(ServeArgs::default(), "splice_reads = \"never\"").unwrap();
        assert_eq!(s.splice_reads, SpliceReads::Never);
        let args = ServeArgs { splice_reads: Some("always".into()), ..ServeArgs::default() };
        assert_eq!(
            merge(args, "splice_reads = \"never\"").unwrap().splice_reads,
            SpliceReads::Always
        );
        let err = merge(ServeArgs::default(), "splice_reads = \"often\"").unwrap_err();
        assert!(format!("{err:#}").contains("measured, always, never"), "{err:#}");
    }

    #[test]
    fn dialects_and_state_dir() {
        use ninefold_proto::Dialect;
        let s = merge(ServeArgs::default(), "").unwrap();
        assert_eq!(s.dialects, [Dialect::Z, Dialect::L, Dialect::U, Dialect::Base]);
        assert_eq!(s.state_dir, None);
        let s =
            merge(ServeArgs::default(), "dialects = [\"9P2000.L\"]\nstate_dir = \"/var/lib/nf\"")
                .unwrap();
        assert_eq!(s.dialects, [Dialect::L]);
        assert_eq!(s.state_dir, Some("/var/lib/nf".into()));
        let args = ServeArgs {
            dialect: vec!["9P2000.L.Z".into(), "9P2000.L".into()],
            ..ServeArgs::default()
        };
        let s = merge(args, "dialects = [\"9P2000\"]").unwrap();
        assert_eq!(s.dialects, [Dialect::Z, Dialect::L], "the flag wins");
        let bad = ServeArgs { dialect: vec!["9P2000.L.Z2".into()], ..ServeArgs::default() };
        assert!(merge(bad, "").unwrap_err().to_string().contains("unknown dialect"));
        assert!(merge(ServeArgs::default(), "dialects = []").is_err());
    }

    #[test]
    fn named_exports_alone_leave_no_default() {
        let args = ServeArgs { aname: vec!["a=memory".into()], ..ServeArgs::default() };
        let s = merge(args, "").unwrap();
        assert_eq!(s.root, None);
        let args =
            ServeArgs { aname: vec!["a=memory".into()], memory: true, ..ServeArgs::default() };
        assert_eq!(merge(args, "").unwrap().root.unwrap().source, Source::Welcome);
    }

    #[test]
    fn bad_input_is_reported() {
        let e = |r: Result<Settings>| format!("{:#}", r.unwrap_err());
        assert!(e(merge(ServeArgs::default(), "listen = 5")).contains("invalid type"));
        assert!(e(merge(ServeArgs::default(), "lissten = []")).contains("unknown field"));
        assert!(e(merge(ServeArgs::default(), "listen = []")).contains("at least one"));
        assert!(e(merge(ServeArgs::default(), r#"idle_timeout = "3 parsecs""#))
            .contains("unknown unit"));
        assert!(e(merge(ServeArgs::default(), r#"squash_uid = "a:b""#)).contains("UID[:GID]"));
        assert!(e(merge(ServeArgs::default(), "squash_uid = 5\nuid_map = [\"1:2\"]"))
            .contains("together"));
        let args = ServeArgs { aname: vec!["noequals".into()], ..ServeArgs::default() };
        assert!(e(merge(args, "")).contains("NAME=DIR"));
        let args = ServeArgs { aname: vec!["a,b=memory".into()], ..ServeArgs::default() };
        assert!(e(merge(args, "")).contains("commas"));
        let args = ServeArgs { uid_map: vec!["1000".into()], ..ServeArgs::default() };
        assert!(e(merge(args, "")).contains("CLIENT:HOST"));
        let args = ServeArgs { listen: vec!["http://x".into()], ..ServeArgs::default() };
        assert!(e(merge(args, "")).contains("tcp://HOST:PORT"));
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("30s").unwrap(), Some(Duration::from_secs(30)));
        assert_eq!(parse_duration("250ms").unwrap(), Some(Duration::from_millis(250)));
        assert_eq!(parse_duration("2m").unwrap(), Some(Duration::from_secs(120)));
        assert_eq!(parse_duration("1h").unwrap(), Some(Duration::from_secs(3600)));
        assert_eq!(parse_duration("45").unwrap(), Some(Duration::from_secs(45)));
        assert_eq!(parse_duration("off").unwrap(), None);
        assert_eq!(parse_duration("0s").unwrap(), None);
        assert!(parse_duration("s").is_err());
        assert!(parse_duration("-1s").is_err());
        assert!(parse_duration("99999999999999999999s").is_err());
    }

    #[test]
    fn squash_and_anames() {
        assert_eq!(parse_squash("65534").unwrap(), (65534, 65534));
        assert_eq!(parse_squash("1000:100").unwrap(), (1000, 100));
        assert!(parse_squash("1000:").is_err());
        assert_eq!(parse_aname("scratch=memory").unwrap(), ("scratch".into(), "memory".into()));
        assert_eq!(parse_aname("a=/x=y").unwrap(), ("a".into(), "/x=y".into()));
        assert!(parse_aname("=/tmp").is_err());
        assert!(parse_aname("a=").is_err());
    }
}
