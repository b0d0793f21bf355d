//! What the suite is told about the target: credentials, dialects,
//! capabilities, the slow file for flush cases, and which cases to run.

use std::time::Duration;

use ninefold_proto::Dialect;

bitflags::bitflags! {
    /// Features a target may lack. Cases that need a missing capability are
    /// reported as skipped, never failed.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub struct Caps: u32 {
        /// Extended attributes (Txattrwalk/Txattrcreate).
        const XATTR = 1 << 0;
        /// POSIX byte-range locks (Tlock/Tgetlock).
        const LOCKS = 1 << 1;
        /// Tmknod of FIFOs and sockets.
        const MKNOD = 1 << 2;
        /// Tsymlink/Treadlink.
        const SYMLINK = 1 << 3;
        /// Tlink.
        const HARDLINK = 1 << 4;
        /// The 9P2000.u dialect.
        const DOTU = 1 << 5;
        /// Plain 9P2000.
        const BASE9P2000 = 1 << 6;
        /// A slow file is available for flush cases (see [`SlowFile`]).
        const FLUSH_SLOW = 1 << 7;
        /// The server enforces permission checks for the attached uid.
        const PERMISSIONS = 1 << 8;
        /// The server may chown to any id and create device nodes (root).
        const PRIVILEGED = 1 << 9;
        /// Holes in sparse files take no space (`blocks` stays small); a
        /// filesystem storing files densely (e.g. an in-memory one) lacks it.
        const SPARSE = 1 << 10;
        /// FIFOs are real pipes: opening one waits for (or finds) the
        /// other end and reads wait for data (a passthrough export).
        const FIFO_IO = 1 << 11;
        /// The server speaks ZeroFS's `9P2000.L.Z` (envelope, ledger and
        /// private messages 228–255).
        const DOTZ = 1 << 12;
    }
}

impl Caps {
    /// Name of each capability as used on the command line.
    pub const NAMES: [(&'static str, Caps); 13] = [
        ("xattr", Caps::XATTR),
        ("locks", Caps::LOCKS),
        ("mknod", Caps::MKNOD),
        ("symlink", Caps::SYMLINK),
        ("hardlink", Caps::HARDLINK),
        ("dotu", Caps::DOTU),
        ("base9p2000", Caps::BASE9P2000),
        ("flush_slow", Caps::FLUSH_SLOW),
        ("permissions", Caps::PERMISSIONS),
        ("privileged", Caps::PRIVILEGED),
        ("sparse", Caps::SPARSE),
        ("fifo_io", Caps::FIFO_IO),
        ("dotz", Caps::DOTZ),
    ];

    /// Parses a comma-separated list of capability names (`"xattr,locks"`).
    pub fn parse_list(s: &str) -> Result<Caps, String> {
        let mut caps = Caps::empty();
        for word in s.split(',').map(str::trim).filter(|w| !w.is_empty()) {
            match Caps::NAMES.iter().find(|(n, _)| *n == word) {
                Some((_, c)) => caps |= *c,
                None => {
                    let known: Vec<_> = Caps::NAMES.iter().map(|(n, _)| *n).collect();
                    return Err(format!(
                        "unknown capability {word:?} (known: {})",
                        known.join(", ")
                    ));
                }
            }
        }
        Ok(caps)
    }

    /// The names of the capabilities set in `self`.
    pub fn names(self) -> Vec<&'static str> {
        Caps::NAMES.iter().filter(|(_, c)| self.contains(*c)).map(|(n, _)| *n).collect()
    }
}

/// A file that makes reads slow, for flush cases.
///
/// Convention: reading it blocks for about a second (at least 50 ms) or
/// until the read is flushed, then returns data. `aname` selects another
/// export that holds it (diod's synthetic `ctl` export has `zero100`, a
/// 100 ms-delayed zero source); `None` means the attach root used by every
/// other case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlowFile {
    /// Export holding the slow file, `None` for the main aname.
    pub aname: Option<String>,
    /// Slash-separated path of the slow file below that export's root.
    pub path: String,
}

/// Everything a run needs besides the target.
#[derive(Debug, Clone)]
pub struct Config {
    /// Attach name (the export). Default empty.
    pub aname: String,
    /// User name sent in Tattach. Default `"root"`.
    pub uname: String,
    /// Numeric uid sent in Tattach (`n_uname`). Default 0.
    pub uid: u32,
    /// gid sent when creating objects (Tlcreate, Tmkdir, ...). Default 0.
    pub gid: u32,
    /// A second, unprivileged uid for permission cases. Default 65534.
    pub other_uid: u32,
    /// msize requested in Tversion. Default 131096 (128 KiB + 24, the
    /// current Linux default).
    pub msize: u32,
    /// Only run cases of this dialect. `None` runs every dialect the
    /// capabilities allow.
    pub dialect: Option<Dialect>,
    /// Only run cases whose name contains one of these substrings (empty:
    /// all).
    pub filter: Vec<String>,
    /// Never run cases whose name contains one of these substrings (not
    /// even reported), e.g. cases known to crash a server.
    pub exclude: Vec<String>,
    /// What the target supports. Default: everything.
    pub caps: Caps,
    /// The slow file for flush cases, if the target has one.
    pub slow: Option<SlowFile>,
    /// Time allowed for one reply before a case fails. Default 5 s.
    pub reply_timeout: Duration,
    /// Time allowed for a whole case. Default 30 s.
    pub case_timeout: Duration,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            aname: String::new(),
            uname: "root".to_owned(),
            uid: 0,
            gid: 0,
            other_uid: 65534,
            msize: 131_096,
            dialect: None,
            filter: Vec::new(),
            exclude: Vec::new(),
            caps: Caps::all(),
            slow: None,
            reply_timeout: Duration::from_secs(5),
            case_timeout: Duration::from_secs(30),
        }
    }
}

impl Config {
    /// Does the case named `name` pass the filter?
    pub fn selects(&self, name: &str) -> bool {
        (self.filter.is_empty() || self.filter.iter().any(|f| name.contains(f.as_str())))
            && !self.exclude.iter().any(|f| name.contains(f.as_str()))
    }

    /// The capabilities actually usable: FLUSH_SLOW needs a slow file too.
    pub fn effective_caps(&self) -> Caps {
        let mut caps = self.caps;
        if self.slow.is_none() {
            caps.remove(Caps::FLUSH_SLOW);
        }
        caps
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caps_parse_and_name() {
        let c = Caps::parse_list("xattr, locks,").unwrap();
        assert_eq!(c, Caps::XATTR | Caps::LOCKS);
        assert_eq!(c.names(), ["xattr", "locks"]);
        assert!(Caps::parse_list("bogus").unwrap_err().contains("bogus"));
        assert_eq!(Caps::NAMES.iter().fold(Caps::empty(), |a, (_, c)| a | *c), Caps::all());
    }

    #[test]
    fn flush_slow_needs_a_file() {
        let mut cfg = Config::default();
        assert!(!cfg.effective_caps().contains(Caps::FLUSH_SLOW));
        cfg.slow = Some(SlowFile { aname: None, path: "slow".into() });
        assert!(cfg.effective_caps().contains(Caps::FLUSH_SLOW));
    }
}
