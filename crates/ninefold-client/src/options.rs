//! Option records: [`OpenOptions`], [`ConnectOptions`], [`SetAttrs`],
//! [`SetTime`], [`NodeKind`], and the [`Timestamp`] they use.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use ninefold_proto::{l, SetattrMask};

use crate::error::{Error, Result};

/// How [`Client::open`](crate::Client::open) opens a file.
///
/// Defaults: read, write, create, create_new and truncate all `false`,
/// mode `0o644`.
///
/// ```
/// use ninefold_client::OpenOptions;
/// let o = OpenOptions::new().write(true).create(true).mode(0o600);
/// assert!(o.write && o.create && !o.read);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[non_exhaustive]
pub struct OpenOptions {
    /// Open for reading.
    pub read: bool,
    /// Open for writing.
    pub write: bool,
    /// Create the file if it is missing.
    pub create: bool,
    /// Atomic exclusive create: fail unless this call creates the file.
    pub create_new: bool,
    /// Truncate to zero length.
    pub truncate: bool,
    /// Permission bits of a created file.
    pub mode: u32,
}

impl Default for OpenOptions {
    fn default() -> Self {
        OpenOptions {
            read: false,
            write: false,
            create: false,
            create_new: false,
            truncate: false,
            mode: 0o644,
        }
    }
}

impl OpenOptions {
    /// All defaults.
    pub fn new() -> OpenOptions {
        OpenOptions::default()
    }
    /// Sets `read`.
    pub fn read(mut self, v: bool) -> Self {
        self.read = v;
        self
    }
    /// Sets `write`.
    pub fn write(mut self, v: bool) -> Self {
        self.write = v;
        self
    }
    /// Sets `create`.
    pub fn create(mut self, v: bool) -> Self {
        self.create = v;
        self
    }
    /// Sets `create_new`.
    pub fn create_new(mut self, v: bool) -> Self {
        self.create_new = v;
        self
    }
    /// Sets `truncate`.
    pub fn truncate(mut self, v: bool) -> Self {
        self.truncate = v;
        self
    }
    /// Sets `mode`.
    pub fn mode(mut self, v: u32) -> Self {
        self.mode = v;
        self
    }
}

/// Identity and tuning for [`Client::connect_with`](crate::Client::connect_with).
///
/// Defaults: uid/gid the process's effective ids, uname `$USER` (or the uid
/// as text), aname `""` (the server's default export), msize 1 MiB,
/// connect timeout 30 s (`None` waits indefinitely), dialects
/// [`DEFAULT_DIALECTS`](crate::DEFAULT_DIALECTS) (`9P2000.L.Z`, then
/// `9P2000.L`, `9P2000.u`, `9P2000`), TLS options unset (they apply to
/// `tls://` targets only, over the target's own `?ca=...` parameters).
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[non_exhaustive]
pub struct ConnectOptions {
    /// Numeric user id sent at attach (`n_uname`).
    pub uid: u32,
    /// Group of everything this client creates.
    pub gid: u32,
    /// User name sent at attach (informational for most servers).
    pub uname: String,
    /// Export to attach to.
    pub aname: String,
    /// Requested msize (the server may lower it).
    pub msize: u32,
    /// Bound on dial + negotiation + attach, in milliseconds.
    pub connect_timeout_ms: Option<u64>,
    /// Bound on requests in flight on the connection.
    pub max_in_flight: usize,
    /// The dialects offered, best first: each is asked for in turn until
    /// the server accepts one (see `docs/CLIENT.md`). Restrict it to pin a
    /// dialect, e.g. `vec![Dialect::L]` for plain 9P2000.L only.
    #[cfg_attr(feature = "serde", serde(with = "crate::types::dialect_serde::list"))]
    pub dialects: Vec<ninefold_proto::Dialect>,
    /// CA, client certificate and server name for `tls://` targets; a
    /// field set here wins over the target's query parameter.
    #[cfg_attr(feature = "serde", serde(default))]
    pub tls: crate::TlsOptions,
    /// Authenticate with this key (the ninefold Tauth scheme, docs/AUTH.md)
    /// at connect and at every reconnect. `None` (the default) attaches
    /// without authentication. Never serialized.
    #[cfg_attr(feature = "serde", serde(skip))]
    pub auth: Option<crate::AuthKey>,
}

impl Default for ConnectOptions {
    fn default() -> Self {
        #[cfg(unix)]
        let (uid, gid) = (rustix::process::geteuid().as_raw(), rustix::process::getegid().as_raw());
        #[cfg(not(unix))]
        let (uid, gid) = (0, 0);
        let uname = std::env::var("USER").unwrap_or_else(|_| uid.to_string());
        ConnectOptions {
            uid,
            gid,
            uname,
            aname: String::new(),
            msize: 1 << 20,
            connect_timeout_ms: Some(30_000),
            max_in_flight: crate::session::DEFAULT_MAX_IN_FLIGHT,
            dialects: crate::session::DEFAULT_DIALECTS.to_vec(),
            tls: crate::TlsOptions::default(),
            auth: None,
        }
    }
}

impl ConnectOptions {
    /// All defaults.
    pub fn new() -> ConnectOptions {
        ConnectOptions::default()
    }
    /// Sets `uid`.
    pub fn uid(mut self, v: u32) -> Self {
        self.uid = v;
        self
    }
    /// Sets `gid`.
    pub fn gid(mut self, v: u32) -> Self {
        self.gid = v;
        self
    }
    /// Sets `uname`.
    pub fn uname(mut self, v: impl Into<String>) -> Self {
        self.uname = v.into();
        self
    }
    /// Sets `aname`.
    pub fn aname(mut self, v: impl Into<String>) -> Self {
        self.aname = v.into();
        self
    }
    /// Sets `msize`.
    pub fn msize(mut self, v: u32) -> Self {
        self.msize = v;
        self
    }
    /// Sets `connect_timeout_ms`.
    pub fn connect_timeout_ms(mut self, v: Option<u64>) -> Self {
        self.connect_timeout_ms = v;
        self
    }
    /// Sets `max_in_flight`.
    pub fn max_in_flight(mut self, v: usize) -> Self {
        self.max_in_flight = v;
        self
    }
    /// Sets `auth`: authenticate with `key`.
    pub fn auth(mut self, key: crate::AuthKey) -> Self {
        self.auth = Some(key);
        self
    }
    /// Sets `dialects`, the dialects offered in order.
    pub fn dialects(mut self, v: impl Into<Vec<ninefold_proto::Dialect>>) -> Self {
        self.dialects = v.into();
        self
    }
    /// Sets `tls`, the options of `tls://` targets.
    pub fn tls(mut self, v: crate::TlsOptions) -> Self {
        self.tls = v;
        self
    }
}

/// A point in time: seconds and nanoseconds since the Unix epoch.
///
/// ```
/// use std::time::{Duration, UNIX_EPOCH};
/// use ninefold_client::Timestamp;
/// let t = Timestamp::from(UNIX_EPOCH + Duration::new(5, 7));
/// assert_eq!((t.secs, t.nanos), (5, 7));
/// assert_eq!(std::time::SystemTime::from(t), UNIX_EPOCH + Duration::new(5, 7));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Timestamp {
    /// Seconds since the epoch (negative before it).
    pub secs: i64,
    /// Nanoseconds, below 10⁹.
    pub nanos: u32,
}

impl Timestamp {
    /// A timestamp from wire seconds and nanoseconds.
    pub fn from_wire(secs: u64, nanos: u64) -> Timestamp {
        Timestamp { secs: secs as i64, nanos: (nanos % 1_000_000_000) as u32 }
    }
}

impl From<SystemTime> for Timestamp {
    fn from(t: SystemTime) -> Timestamp {
        match t.duration_since(UNIX_EPOCH) {
            Ok(d) => Timestamp { secs: d.as_secs() as i64, nanos: d.subsec_nanos() },
            Err(e) => {
                let d = e.duration();
                let (mut secs, mut nanos) = (-(d.as_secs() as i64), d.subsec_nanos());
                if nanos > 0 {
                    secs -= 1;
                    nanos = 1_000_000_000 - nanos;
                }
                Timestamp { secs, nanos }
            }
        }
    }
}

impl From<Timestamp> for SystemTime {
    fn from(t: Timestamp) -> SystemTime {
        if t.secs >= 0 {
            UNIX_EPOCH + Duration::new(t.secs as u64, t.nanos)
        } else {
            UNIX_EPOCH - Duration::from_secs(t.secs.unsigned_abs())
                + Duration::from_nanos(u64::from(t.nanos))
        }
    }
}

/// A time to set: the server's clock or an explicit timestamp.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum SetTime {
    /// The server's current time.
    Now,
    /// An explicit time.
    At(Timestamp),
}

impl From<SystemTime> for SetTime {
    fn from(t: SystemTime) -> SetTime {
        SetTime::At(t.into())
    }
}

impl From<Timestamp> for SetTime {
    fn from(t: Timestamp) -> SetTime {
        SetTime::At(t)
    }
}

/// Metadata changes; every `None` field is left alone, and an all-`None`
/// value is a no-op.
///
/// ```
/// use ninefold_client::{SetAttrs, SetTime};
/// let a = SetAttrs { mode: Some(0o600), mtime: Some(SetTime::Now), ..SetAttrs::default() };
/// assert!(!a.is_empty());
/// assert!(SetAttrs::default().is_empty());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct SetAttrs {
    /// Permission bits (masked to 0o7777).
    pub mode: Option<u32>,
    /// Owner.
    pub uid: Option<u32>,
    /// Group.
    pub gid: Option<u32>,
    /// Size (truncate or extend).
    pub size: Option<u64>,
    /// Access time.
    pub atime: Option<SetTime>,
    /// Modification time.
    pub mtime: Option<SetTime>,
}

impl SetAttrs {
    /// No change at all.
    pub fn new() -> SetAttrs {
        SetAttrs::default()
    }

    /// Whether nothing would change.
    pub fn is_empty(&self) -> bool {
        *self == SetAttrs::default()
    }

    /// The Tsetattr body for these changes.
    pub(crate) fn to_wire(self) -> Result<l::SetAttr> {
        let mut a = l::SetAttr::default();
        if let Some(m) = self.mode {
            a.valid |= SetattrMask::MODE;
            a.mode = m & 0o7777;
        }
        if let Some(u) = self.uid {
            a.valid |= SetattrMask::UID;
            a.uid = u;
        }
        if let Some(g) = self.gid {
            a.valid |= SetattrMask::GID;
            a.gid = g;
        }
        if let Some(s) = self.size {
            a.valid |= SetattrMask::SIZE;
            a.size = s;
        }
        let time = |t: Timestamp| -> Result<(u64, u64)> {
            if t.secs < 0 {
                return Err(Error::invalid("times before the epoch cannot be sent"));
            }
            if t.nanos >= 1_000_000_000 {
                return Err(Error::invalid("nanoseconds must be below 10^9"));
            }
            Ok((t.secs as u64, u64::from(t.nanos)))
        };
        match self.atime {
            None => {}
            Some(SetTime::Now) => a.valid |= SetattrMask::ATIME,
            Some(SetTime::At(t)) => {
                a.valid |= SetattrMask::ATIME | SetattrMask::ATIME_SET;
                (a.atime_sec, a.atime_nsec) = time(t)?;
            }
        }
        match self.mtime {
            None => {}
            Some(SetTime::Now) => a.valid |= SetattrMask::MTIME,
            Some(SetTime::At(t)) => {
                a.valid |= SetattrMask::MTIME | SetattrMask::MTIME_SET;
                (a.mtime_sec, a.mtime_nsec) = time(t)?;
            }
        }
        Ok(a)
    }
}

/// The kind of special node [`Client::mknod`](crate::Client::mknod) makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum NodeKind {
    /// A named pipe.
    Fifo,
    /// A unix socket node.
    Socket,
    /// A block device.
    BlockDevice {
        /// Major number.
        major: u32,
        /// Minor number.
        minor: u32,
    },
    /// A character device.
    CharDevice {
        /// Major number.
        major: u32,
        /// Minor number.
        minor: u32,
    },
}

impl NodeKind {
    /// `(S_IF* bits, major, minor)`.
    pub(crate) fn wire(self) -> (u32, u32, u32) {
        use ninefold_proto::{S_IFBLK, S_IFCHR, S_IFIFO, S_IFSOCK};
        match self {
            NodeKind::Fifo => (S_IFIFO, 0, 0),
            NodeKind::Socket => (S_IFSOCK, 0, 0),
            NodeKind::BlockDevice { major, minor } => (S_IFBLK, major, minor),
            NodeKind::CharDevice { major, minor } => (S_IFCHR, major, minor),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn setattrs_wire() {
        let a = SetAttrs {
            mode: Some(0o104755),
            atime: Some(SetTime::Now),
            mtime: Some(SetTime::At(Timestamp { secs: 10, nanos: 5 })),
            ..SetAttrs::default()
        }
        .to_wire()
        .unwrap();
        assert_eq!(a.mode, 0o4755);
        assert_eq!(
            a.valid,
            SetattrMask::MODE | SetattrMask::ATIME | SetattrMask::MTIME | SetattrMask::MTIME_SET
        );
        assert_eq!((a.mtime_sec, a.mtime_nsec), (10, 5));
        let bad = SetAttrs {
            mtime: Some(SetTime::At(Timestamp { secs: -1, nanos: 0 })),
            ..SetAttrs::default()
        };
        assert!(matches!(bad.to_wire(), Err(Error::InvalidArgument(_))));
    }

    #[test]
    fn negative_timestamps() {
        let t = Timestamp::from(UNIX_EPOCH - Duration::from_millis(1500));
        assert_eq!((t.secs, t.nanos), (-2, 500_000_000));
        assert_eq!(SystemTime::from(t), UNIX_EPOCH - Duration::from_millis(1500));
    }
}
