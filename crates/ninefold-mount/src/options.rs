//! Mount options: the `-o a,b=c` list shared by `ninefold mount`,
//! `mount.ninefold` and `/etc/fstab`.

use std::time::Duration;

use ninefold_client::AuthKey;

use crate::MountError;

/// How much the kernel may cache.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CacheMode {
    /// No kernel caching: attribute and entry timeouts are zero and file
    /// I/O bypasses the page cache (`direct_io`). Every read and `stat`
    /// reaches the server.
    Strict,
    /// Short attribute/entry timeouts (1 s); the page cache of a file is
    /// kept across opens while its mtime, size and ctime are unchanged on
    /// the server and dropped when they change, so another client's write
    /// shows on the next open (and on the next attribute refresh).
    Default,
    /// Long timeouts (60 s), page cache always kept and symlinks cached:
    /// for exports that only this mount changes.
    Loose,
}

impl CacheMode {
    /// Attribute and entry time to live.
    pub fn ttl(self) -> Duration {
        match self {
            CacheMode::Strict => Duration::ZERO,
            CacheMode::Default => Duration::from_secs(1),
            CacheMode::Loose => Duration::from_secs(60),
        }
    }
}

/// Everything a mount is configured with.
#[derive(Debug, Clone)]
pub struct MountOptions {
    /// Export to attach (`aname=`); empty for the server's default.
    pub aname: String,
    /// Largest message size to negotiate (`msize=`).
    pub msize: u32,
    /// Caching mode (`cache=strict|default|loose`).
    pub cache: CacheMode,
    /// Attribute/entry timeout override (`attr_timeout=SECS`).
    pub attr_timeout: Option<Duration>,
    /// Let other users in (`allow_other`).
    pub allow_other: bool,
    /// Let the kernel check permissions from the mode bits
    /// (`default_permissions`); off by default so the server decides.
    pub default_permissions: bool,
    /// Unmount when the daemon dies (`auto_unmount`, needs fusermount3).
    pub auto_unmount: bool,
    /// Read-only mount (`ro`).
    pub read_only: bool,
    /// Reach the server as each calling uid (`access=user`, the default
    /// with `allow_other`) or always as the mount's identity
    /// (`access=single`).
    pub per_user: bool,
    /// The identity of the mount itself (`uid=`, default: the mounting
    /// user).
    pub uid: u32,
    /// Its group for new files when not per-user (`gid=`).
    pub gid: u32,
    /// Attach user name override (`uname=`); by default each uid's name
    /// from /etc/passwd, or the number.
    pub uname: Option<String>,
    /// Name in /proc/mounts' source column (`fsname=`).
    pub fsname: Option<String>,
    /// Stay in the foreground (`foreground`, or `-f`).
    pub foreground: bool,
    /// Log filter for the daemon (`log=LEVEL`).
    pub log: Option<String>,
    /// File the background daemon logs to (`logfile=PATH`).
    pub logfile: Option<String>,
    /// FUSE reader threads (`threads=N`).
    pub threads: usize,
    /// Bytes of writes that may be answered before the server has them
    /// (`write_behind=MIB`, 0 = every write waits for its reply). Errors
    /// of such writes come back from the next write, `close` or `fsync`.
    pub write_behind: u64,
    /// Kernel read-ahead in KiB (`readahead=KIB`), set on the mount's
    /// backing device when running as root; 0 leaves the kernel's 128.
    pub readahead_kib: u32,
    /// Tauth key name (`auth=NAME`, docs/AUTH.md); its secret comes from
    /// `key_file` or `key_env`. Every attach (one per local uid with
    /// `access=user`) then authenticates with it.
    pub auth: Option<String>,
    /// File holding the Tauth secret (`key-file=PATH`).
    pub key_file: Option<String>,
    /// Environment variable holding the Tauth secret (`key-env=VAR`).
    pub key_env: Option<String>,
}

impl Default for MountOptions {
    fn default() -> Self {
        let uid = rustix::process::geteuid().as_raw();
        let gid = rustix::process::getegid().as_raw();
        MountOptions {
            aname: String::new(),
            msize: 1024 * 1024 + 24,
            cache: CacheMode::Default,
            attr_timeout: None,
            allow_other: false,
            default_permissions: false,
            auto_unmount: false,
            read_only: false,
            per_user: true,
            uid,
            gid,
            uname: None,
            fsname: None,
            foreground: false,
            log: None,
            logfile: None,
            threads: 2,
            write_behind: 32 << 20,
            readahead_kib: 4096,
            auth: None,
            key_file: None,
            key_env: None,
        }
    }
}

/// Generic mount(8) options that mean nothing to a FUSE daemon (or are
/// handled by mount(8) itself) and are accepted silently.
const IGNORED: &[&str] = &[
    "rw",
    "defaults",
    "auto",
    "noauto",
    "user",
    "nouser",
    "users",
    "owner",
    "group",
    "_netdev",
    "nofail",
    "suid",
    "nosuid",
    "dev",
    "nodev",
    "exec",
    "noexec",
    "atime",
    "noatime",
    "relatime",
    "norelatime",
    "strictatime",
    "diratime",
    "nodiratime",
    "async",
    "loop",
];

impl MountOptions {
    /// Applies a comma-separated `-o` list on top of `self`.
    pub fn apply(&mut self, list: &str) -> Result<(), MountError> {
        let mut access: Option<bool> = None;
        for opt in list.split(',').map(str::trim).filter(|o| !o.is_empty()) {
            let (key, value) = match opt.split_once('=') {
                Some((k, v)) => (k, Some(v)),
                None => (opt, None),
            };
            let need = |v: Option<&str>| {
                v.map(str::to_owned)
                    .ok_or_else(|| MountError::Option(format!("option {key} needs a value")))
            };
            let num = |v: Option<&str>| -> Result<u64, MountError> {
                let s = need(v)?;
                s.parse::<u64>()
                    .map_err(|_| MountError::Option(format!("option {key}: not a number: {s}")))
            };
            match key {
                "aname" => self.aname = need(value)?,
                "msize" => {
                    let n = num(value)?;
                    if !(4096..=16 * 1024 * 1024).contains(&n) {
                        return Err(MountError::Option(format!(
                            "msize {n} out of range 4096..16777216"
                        )));
                    }
                    self.msize = n as u32;
                }
                "cache" => {
                    self.cache = match need(value)?.as_str() {
                        "strict" | "none" => CacheMode::Strict,
                        "default" => CacheMode::Default,
                        "loose" => CacheMode::Loose,
                        other => {
                            return Err(MountError::Option(format!(
                                "cache={other}: expected strict, default or loose"
                            )))
                        }
                    }
                }
                "attr_timeout" | "entry_timeout" => {
                    let s = need(value)?;
                    let secs: f64 = s.parse().map_err(|_| {
                        MountError::Option(format!("{key}: not a number of seconds: {s}"))
                    })?;
                    if !(0.0..=86400.0).contains(&secs) {
                        return Err(MountError::Option(format!("{key}={s} out of range")));
                    }
                    self.attr_timeout = Some(Duration::from_secs_f64(secs));
                }
                "allow_other" => self.allow_other = true,
                "default_permissions" => self.default_permissions = true,
                "auto_unmount" => self.auto_unmount = true,
                "ro" => self.read_only = true,
                "access" => {
                    access = Some(match need(value)?.as_str() {
                        "user" => true,
                        "single" => false,
                        other => {
                            return Err(MountError::Option(format!(
                                "access={other}: expected user or single"
                            )))
                        }
                    })
                }
                "uid" => self.uid = num(value)? as u32,
                "gid" => self.gid = num(value)? as u32,
                "uname" => self.uname = Some(need(value)?),
                "fsname" => self.fsname = Some(need(value)?),
                "foreground" => self.foreground = true,
                "log" => self.log = Some(need(value)?),
                "logfile" => self.logfile = Some(need(value)?),
                "threads" => self.threads = (num(value)? as usize).clamp(1, 16),
                "write_behind" => {
                    let mib = num(value)?;
                    if mib > 4096 {
                        return Err(MountError::Option(format!(
                            "write_behind={mib}: at most 4096 MiB"
                        )));
                    }
                    self.write_behind = mib << 20;
                }
                "readahead" => {
                    let kib = num(value)?;
                    if kib > 1 << 20 {
                        return Err(MountError::Option(format!(
                            "readahead={kib}: at most 1048576 KiB"
                        )));
                    }
                    self.readahead_kib = kib as u32;
                }
                "auth" => self.auth = Some(need(value)?),
                "key-file" | "key_file" => self.key_file = Some(need(value)?),
                "key-env" | "key_env" => self.key_env = Some(need(value)?),
                "secret" | "password" | "token" => {
                    return Err(MountError::Option(format!(
                        "a secret never goes in the options: use auth=NAME with key-file=PATH or key-env=VAR instead of {key}="
                    )))
                }
                k if IGNORED.contains(&k) || k.starts_with("x-") || k.starts_with("comment=") => {}
                other => return Err(MountError::Option(format!("unknown mount option: {other}"))),
            }
        }
        // Per-user identities only matter when other users can come in.
        self.per_user = access.unwrap_or(self.allow_other);
        Ok(())
    }

    /// The Tauth key the options name (`auth=` with `key-file=` or
    /// `key-env=`), read now; `None` without `auth=`.
    pub fn auth_key(&self) -> Result<Option<AuthKey>, MountError> {
        let key = match (&self.auth, &self.key_file, &self.key_env) {
            (None, None, None) => return Ok(None),
            (Some(n), Some(f), None) => AuthKey::from_file(n.clone(), f),
            (Some(n), None, Some(v)) => AuthKey::from_env(n.clone(), v),
            (Some(_), Some(_), Some(_)) => {
                return Err(MountError::Option("give key-file= or key-env=, not both".into()))
            }
            (Some(n), None, None) => {
                return Err(MountError::Option(format!(
                    "auth={n} needs key-file=PATH or key-env=VAR (the secret never goes in the options)"
                )))
            }
            (None, _, _) => {
                return Err(MountError::Option("key-file=/key-env= need auth=NAME".into()))
            }
        };
        key.map(Some).map_err(|e| MountError::Option(format!("auth key: {e}")))
    }

    /// The attribute/entry time to live in effect.
    pub fn ttl(&self) -> Duration {
        self.attr_timeout.unwrap_or_else(|| self.cache.ttl())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_list() {
        let mut o = MountOptions::default();
        o.apply("aname=/srv,cache=loose,allow_other,msize=65560,rw,noauto,x-systemd.foo").unwrap();
        assert_eq!(o.aname, "/srv");
        assert_eq!(o.cache, CacheMode::Loose);
        assert!(o.allow_other && o.per_user);
        assert_eq!(o.msize, 65560);
        assert_eq!(o.ttl(), Duration::from_secs(60));
    }

    #[test]
    fn rejects_bad_options() {
        let mut o = MountOptions::default();
        assert!(o.apply("cache=sometimes").is_err());
        assert!(o.apply("msize=12").is_err());
        assert!(o.apply("bogus").is_err());
        assert!(o.apply("aname").is_err());
    }

    #[test]
    fn access_single_overrides() {
        let mut o = MountOptions::default();
        o.apply("allow_other,access=single").unwrap();
        assert!(!o.per_user);
    }

    #[test]
    fn auth_key_options() {
        let dir = std::env::temp_dir().join(format!("nf-mount-opt-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let key = dir.join("k");
        std::fs::write(&key, "  0123456789abcdef0123  \n").unwrap();
        let mut o = MountOptions::default();
        assert!(o.auth_key().unwrap().is_none());
        o.apply(&format!("auth=backup,key-file={}", key.display())).unwrap();
        assert_eq!(o.auth_key().unwrap().unwrap().name(), "backup");

        let mut o = MountOptions::default();
        o.apply("auth=backup").unwrap();
        assert!(o.auth_key().unwrap_err().to_string().contains("needs key-file"));
        let mut o = MountOptions::default();
        o.apply(&format!("key_file={}", key.display())).unwrap();
        assert!(o.auth_key().unwrap_err().to_string().contains("need auth="));
        let mut o = MountOptions::default();
        o.apply("auth=backup,key-file=/nonexistent/k").unwrap();
        assert!(o.auth_key().is_err());
        assert!(MountOptions::default().apply("auth=b,secret=x").is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
