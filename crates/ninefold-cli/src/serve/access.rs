//! `[access]` in the config file and the `--auth-key`/`--trust` flags:
//! Tauth keys, grants per principal and export, and the trusted networks,
//! turned into the server's [`Keyring`] and [`AccessPolicy`]. The keys are
//! documented in docs/CONFIGURATION.md and docs/SECURITY.md.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use bytes::Bytes;
use ninefold_server::{AccessPolicy, AuthMethod, Grant, Keyring, Network, Secret};
use serde::Deserialize;

/// `[access]` as written.
#[derive(Debug, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub(crate) struct FileAccess {
    /// Networks whose unauthenticated peers are trusted (the asserted
    /// uid is believed). Default `["loopback"]`; `[]` trusts none.
    pub(crate) trusted: Option<Vec<String>>,
    /// Tauth keys: `NAME = "FILE"`.
    pub(crate) keys: Option<BTreeMap<String, PathBuf>>,
    /// `[[access.grant]]` rules, tried in order.
    pub(crate) grant: Option<Vec<FileGrant>>,
}

/// One `[[access.grant]]`.
#[derive(Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub(crate) struct FileGrant {
    /// A key name or a TLS certificate's name; `*` for any.
    pub(crate) principal: String,
    /// `tauth`, `tls` or `any` (default).
    pub(crate) method: Option<String>,
    /// Anames (`""` is the default export); all when absent.
    pub(crate) exports: Option<Vec<String>>,
    /// Refuse changes.
    #[serde(default)]
    pub(crate) read_only: bool,
    /// The uid the principal acts as.
    pub(crate) uid: Option<u32>,
    /// The group of what it creates.
    pub(crate) gid: Option<u32>,
    /// Further uids it may assert, or `"any"`.
    pub(crate) uids: Option<Uids>,
    /// `refuse` (default) or `squash` a uid not allowed.
    pub(crate) on_uid_mismatch: Option<String>,
}

/// `uids = [1, 2]` or `uids = "any"`.
#[derive(Debug, Deserialize, PartialEq)]
#[serde(untagged)]
pub(crate) enum Uids {
    /// A list.
    List(Vec<u32>),
    /// `"any"`.
    Word(String),
}

/// Access settings, merged and checked (keys not yet read).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct AccessSettings {
    /// Trusted networks.
    pub(crate) trusted: Vec<Network>,
    /// Key name → key file.
    pub(crate) keys: BTreeMap<String, PathBuf>,
    /// The grants, in order.
    pub(crate) grants: Vec<GrantSpec>,
}

/// A checked grant; its `""` export still to be expanded to the default
/// export's aliases.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct GrantSpec {
    pub(crate) principal: String,
    pub(crate) method: Option<AuthMethod>,
    pub(crate) exports: Option<Vec<String>>,
    pub(crate) read_only: bool,
    pub(crate) uid: Option<u32>,
    pub(crate) gid: Option<u32>,
    pub(crate) any_uid: bool,
    pub(crate) uids: Vec<u32>,
    pub(crate) squash: bool,
}

impl AccessSettings {
    /// `--trust` (replacing the file's list) and `--auth-key` (adding
    /// keys) over `[access]`.
    pub(crate) fn merge(
        trust_flags: &[String],
        key_flags: &[String],
        file: Option<FileAccess>,
    ) -> Result<AccessSettings> {
        let file = file.unwrap_or_default();
        let trusted_text = if !trust_flags.is_empty() {
            trust_flags.to_vec()
        } else {
            file.trusted.unwrap_or_else(|| vec!["loopback".into()])
        };
        let mut trusted = Vec::new();
        for t in &trusted_text {
            if t == "none" {
                if trusted_text.len() > 1 {
                    bail!("trusted network `none` cannot be combined with others");
                }
                continue;
            }
            trusted.push(t.parse::<Network>().with_context(|| "in `trusted`/--trust")?);
        }
        let mut keys = file.keys.unwrap_or_default();
        for name in keys.keys() {
            check_key_name(name)?;
        }
        let mut grants = Vec::new();
        for (i, g) in file.grant.unwrap_or_default().into_iter().enumerate() {
            grants.push(grant(g).with_context(|| format!("[[access.grant]] number {}", i + 1))?);
        }
        // A key given by flag alone may attach every export as any uid
        // (the trusted model, for holders of the key); one the file names
        // in a grant gets only what its grants say.
        for spec in key_flags {
            let (name, path) = spec
                .split_once('=')
                .filter(|(n, p)| !n.is_empty() && !p.is_empty())
                .with_context(|| format!("invalid --auth-key {spec:?}: expected NAME=FILE"))?;
            check_key_name(name)?;
            keys.insert(name.to_owned(), PathBuf::from(path));
            if !grants.iter().any(|g| g.principal == name) {
                grants.push(GrantSpec {
                    principal: name.to_owned(),
                    method: Some(AuthMethod::Tauth),
                    exports: None,
                    read_only: false,
                    uid: None,
                    gid: None,
                    any_uid: true,
                    uids: Vec::new(),
                    squash: false,
                });
            }
        }
        Ok(AccessSettings { trusted, keys, grants })
    }

    /// Reads every key file.
    pub(crate) fn keyring(&self) -> Result<Keyring> {
        let mut ring = Keyring::new();
        for (name, path) in &self.keys {
            warn_if_readable_by_others(path);
            let secret = Secret::from_file(path).with_context(|| format!("auth key {name:?}"))?;
            ring.insert(name.clone(), secret)?;
        }
        Ok(ring)
    }

    /// The policy, with each grant's exports checked against `known`
    /// (`""` for the default export) and `""` expanded to `default_aliases`.
    pub(crate) fn policy(
        &self,
        known: &[String],
        default_aliases: &[Bytes],
    ) -> Result<AccessPolicy> {
        let mut p = AccessPolicy::new().trust_none();
        for n in &self.trusted {
            p = p.trust(*n);
        }
        for g in &self.grants {
            let mut grant = Grant::new(g.principal.clone()).read_only(g.read_only);
            if let Some(m) = g.method {
                grant = grant.method(m);
            }
            if let Some(exports) = &g.exports {
                let mut anames: Vec<Bytes> = Vec::new();
                for e in exports {
                    if !known.contains(e) {
                        bail!(
                            "grant for {:?} names export {e:?}, which is not served (exports: {})",
                            g.principal,
                            known.iter().map(|k| format!("{k:?}")).collect::<Vec<_>>().join(", ")
                        );
                    }
                    anames.push(Bytes::copy_from_slice(e.as_bytes()));
                    if e.is_empty() {
                        anames.extend(default_aliases.iter().cloned());
                    }
                }
                grant = grant.exports(anames);
            }
            if let Some(u) = g.uid {
                grant = grant.uid(u);
            }
            if let Some(gid) = g.gid {
                grant = grant.gid(gid);
            }
            grant = grant.allow_uids(g.uids.iter().copied());
            if g.any_uid {
                grant = grant.any_uid();
            }
            if g.squash {
                grant = grant.squash();
            }
            p = p.grant(grant);
        }
        Ok(p)
    }

    /// Whether unauthenticated peers from other hosts are trusted.
    pub(crate) fn trusts_remote_peers(&self) -> bool {
        self.trusted.iter().any(|n| *n != Network::Local)
    }

    /// One line for the start-up banner.
    pub(crate) fn summary(&self) -> String {
        let trusted = if self.trusted.is_empty() {
            "none (every attach must authenticate)".to_owned()
        } else {
            self.trusted.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")
        };
        format!(
            "access: trusted networks: {trusted}; {} Tauth key(s); {} grant(s)",
            self.keys.len(),
            self.grants.len()
        )
    }
}

fn check_key_name(name: &str) -> Result<()> {
    Keyring::new()
        .with_key(name, Secret::new(vec![0; 16])?)
        .map(|_| ())
        .with_context(|| format!("invalid auth key name {name:?}"))
}

fn grant(g: FileGrant) -> Result<GrantSpec> {
    let method = match g.method.as_deref() {
        None | Some("any") => None,
        Some("tauth") => Some(AuthMethod::Tauth),
        Some("tls") => Some(AuthMethod::TlsCertificate),
        Some(other) => bail!("unknown method {other:?}: expected tauth, tls or any"),
    };
    let squash = match g.on_uid_mismatch.as_deref() {
        None | Some("refuse") => false,
        Some("squash") => true,
        Some(other) => bail!("unknown on_uid_mismatch {other:?}: expected refuse or squash"),
    };
    let (any_uid, uids) = match g.uids {
        None => (false, Vec::new()),
        Some(Uids::List(l)) => (false, l),
        Some(Uids::Word(w)) if w == "any" => (true, Vec::new()),
        Some(Uids::Word(w)) => bail!("invalid uids {w:?}: expected a list of uids or \"any\""),
    };
    if g.principal.is_empty() {
        bail!("`principal` is empty (use \"*\" for any authenticated principal)");
    }
    if g.uid.is_none() && !any_uid && uids.is_empty() {
        bail!(
            "the grant for {:?} allows no uid: set `uid` (and optionally `uids`), or `uids = \"any\"`",
            g.principal
        );
    }
    if squash && g.uid.is_none() {
        bail!("on_uid_mismatch = \"squash\" needs a `uid` to squash to");
    }
    Ok(GrantSpec {
        principal: g.principal,
        method,
        exports: g.exports,
        read_only: g.read_only,
        uid: g.uid,
        gid: g.gid,
        any_uid,
        uids,
        squash,
    })
}

/// A key file others can read is worth a warning (not an error: the
/// operator may know better).
fn warn_if_readable_by_others(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    if let Ok(m) = std::fs::metadata(path) {
        if m.permissions().mode() & 0o077 != 0 {
            tracing::warn!(
                path = %path.display(),
                "auth key file is readable by group or others (chmod 600 it)"
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(toml: &str) -> Result<AccessSettings> {
        #[derive(Deserialize)]
        struct W {
            access: Option<FileAccess>,
        }
        let w: W = toml::from_str(toml)?;
        AccessSettings::merge(&[], &[], w.access)
    }

    #[test]
    fn defaults_trust_loopback_only() {
        let s = parse("").unwrap();
        assert_eq!(s.trusted, vec![Network::Local]);
        assert!(s.keys.is_empty() && s.grants.is_empty());
        assert!(!s.trusts_remote_peers());
    }

    #[test]
    fn a_full_section_is_parsed() {
        let s = parse(
            r#"
            [access]
            trusted = ["loopback", "10.0.0.0/8"]
            keys = { backup = "/etc/ninefold/backup.key" }
            [[access.grant]]
            principal = "backup"
            method = "tauth"
            exports = ["home", ""]
            read_only = true
            uid = 1000
            gid = 100
            uids = [1001]
            on_uid_mismatch = "squash"
            [[access.grant]]
            principal = "admin"
            method = "tls"
            uids = "any"
            "#,
        )
        .unwrap();
        assert!(s.trusts_remote_peers());
        assert_eq!(s.keys["backup"], PathBuf::from("/etc/ninefold/backup.key"));
        let g = &s.grants[0];
        assert_eq!(
            (g.method, g.read_only, g.uid, g.gid),
            (Some(AuthMethod::Tauth), true, Some(1000), Some(100))
        );
        assert!(g.squash && !g.any_uid && g.uids == [1001]);
        assert!(s.grants[1].any_uid);
        let p = s.policy(&["home".into(), "".into()], &[Bytes::from_static(b"/srv")]).unwrap();
        assert_eq!(p.grants().len(), 2);
        let e = s.policy(&["home".into()], &[]).unwrap_err().to_string();
        assert!(e.contains("not served"), "{e}");
    }

    #[test]
    fn flags_add_keys_and_replace_networks() {
        let s = AccessSettings::merge(
            &["none".into()],
            &["k=/tmp/k".into()],
            Some(FileAccess { trusted: Some(vec!["any".into()]), ..FileAccess::default() }),
        )
        .unwrap();
        assert!(s.trusted.is_empty());
        assert_eq!(s.grants.len(), 1);
        assert!(s.grants[0].any_uid, "a flag key alone is trusted for its holder");
        assert!(AccessSettings::merge(&[], &["k".into()], None).is_err());
        assert!(AccessSettings::merge(&["none".into(), "any".into()], &[], None).is_err());
        assert!(AccessSettings::merge(&["nonsense".into()], &[], None).is_err());
    }

    #[test]
    fn bad_grants_are_explained() {
        let e = |t: &str| format!("{:#}", parse(t).unwrap_err());
        assert!(e("[[access.grant]]\nprincipal = \"a\"").contains("allows no uid"));
        assert!(e("[[access.grant]]\nprincipal = \"a\"\nuids = \"all\"").contains("\"any\""));
        assert!(e("[[access.grant]]\nprincipal = \"a\"\nuid = 1\nmethod = \"x\"")
            .contains("tauth, tls"));
        assert!(e("[[access.grant]]\nprincipal = \"a\"\nuids = [1]\non_uid_mismatch = \"squash\"")
            .contains("needs a `uid`"));
        assert!(e("[access]\nkeys = { \"\" = \"/k\" }").contains("key name"));
        assert!(e("[access]\nbogus = 1").contains("unknown field"));
    }

    #[test]
    fn key_files_are_read_and_checked() {
        let dir = tempfile::tempdir().unwrap();
        let good = dir.path().join("good");
        std::fs::write(&good, "0123456789abcdef0123\n").unwrap();
        let short = dir.path().join("short");
        std::fs::write(&short, "tiny\n").unwrap();
        let s = |p: &Path| AccessSettings::merge(&[], &[format!("k={}", p.display())], None);
        assert_eq!(s(&good).unwrap().keyring().unwrap().len(), 1);
        let e = format!("{:#}", s(&short).unwrap().keyring().unwrap_err());
        assert!(e.contains("at least 16 bytes"), "{e}");
        let e = format!("{:#}", s(&dir.path().join("missing")).unwrap().keyring().unwrap_err());
        assert!(e.contains("cannot read key file"), "{e}");
    }
}
