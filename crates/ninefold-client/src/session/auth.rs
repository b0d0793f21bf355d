//! The client half of the ninefold Tauth scheme (docs/AUTH.md): prove a
//! named shared secret on an auth fid, check the server's proof, attach
//! with the auth fid. [`AuthKey`] is the key; the target query
//! `?auth=NAME&key-file=PATH` (or `&key-env=VAR`) names one for callers
//! that only pass a target string (the CLI, the bindings).

use std::fmt;
use std::path::Path;

use bytes::Bytes;
use ninefold_auth::{Binding, Challenge, Proof, Response, Secret, CHALLENGE_LEN, PROOF_LEN};
use ninefold_proto::{base, Errno, Message, Qid, QidType};

use crate::error::{Error, Result};
use crate::session::{unexpected, Fid, Session};

/// A named shared secret for the ninefold Tauth scheme. Its `Debug`
/// output shows the name only.
///
/// ```
/// use ninefold_client::{AuthKey, ConnectOptions};
///
/// let key = AuthKey::new("backup", b"0123456789abcdef-not-a-real-secret".to_vec())?;
/// let opts = ConnectOptions::new().auth(key);
/// assert_eq!(opts.auth.as_ref().map(|k| k.name()), Some("backup"));
/// assert!(!format!("{opts:?}").contains("0123456789abcdef"));
/// # Ok::<(), ninefold_client::Error>(())
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct AuthKey {
    name: String,
    secret: Secret,
}

impl fmt::Debug for AuthKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthKey").field("name", &self.name).finish_non_exhaustive()
    }
}

fn key_error(e: ninefold_auth::AuthError) -> Error {
    Error::invalid(e.to_string())
}

impl AuthKey {
    /// Key `name` with these secret bytes (at least 16).
    pub fn new(name: impl Into<String>, secret: Vec<u8>) -> Result<AuthKey> {
        let name = name.into();
        ninefold_auth::check_key_name(&name).map_err(key_error)?;
        Ok(AuthKey { name, secret: Secret::new(secret).map_err(key_error)? })
    }

    /// Key `name` whose secret is the content of `path` (surrounding
    /// whitespace trimmed), as `ninefold serve --auth-key NAME=FILE` reads
    /// it.
    pub fn from_file(name: impl Into<String>, path: impl AsRef<Path>) -> Result<AuthKey> {
        let name = name.into();
        ninefold_auth::check_key_name(&name).map_err(key_error)?;
        Ok(AuthKey { name, secret: Secret::from_file(path.as_ref()).map_err(key_error)? })
    }

    /// Key `name` whose secret is in environment variable `var`.
    pub fn from_env(name: impl Into<String>, var: &str) -> Result<AuthKey> {
        let name = name.into();
        ninefold_auth::check_key_name(&name).map_err(key_error)?;
        Ok(AuthKey { name, secret: Secret::from_env(var).map_err(key_error)? })
    }

    /// The key's name (the principal the server knows it by).
    pub fn name(&self) -> &str {
        &self.name
    }
}

impl Session {
    /// Authenticates with `key` (Tauth, the challenge, the response, the
    /// server's proof), then attaches with the auth fid as
    /// `uname`/`n_uname` to `aname`.
    ///
    /// Errors: [`Error::AuthFailed`] when the server offers no
    /// authentication, refuses the key (wrong secret, unknown name), fails
    /// to prove it holds the key too, or refuses the attach.
    pub async fn auth_attach(
        &self,
        key: &AuthKey,
        uname: impl AsRef<[u8]>,
        aname: impl AsRef<[u8]>,
        n_uname: u32,
    ) -> Result<(Fid, Qid)> {
        let (uname, aname) = (uname.as_ref(), aname.as_ref());
        let failed = |why: String| Error::AuthFailed(format!("key {:?}: {why}", key.name));
        let afid = self.alloc_fid()?;
        let tauth = base::Tauth {
            afid: afid.num(),
            uname: uname.to_vec().into(),
            aname: aname.to_vec().into(),
            n_uname,
        };
        let afid = match self.call_binding(Message::Tauth(tauth), afid, 0).await {
            Ok((frame, afid)) => match frame.message {
                Message::Rauth(r) if r.aqid.ty.contains(QidType::AUTH) => afid,
                Message::Rauth(_) => return Err(failed("Rauth without an auth qid".into())),
                other => return Err(unexpected(&other, "Rauth")),
            },
            Err(e) if matches!(e.errno(), Errno::ENOENT | Errno::EOPNOTSUPP | Errno::ENOSYS) => {
                return Err(failed(
                    "the server does not offer authentication (Tauth: not required)".into(),
                ));
            }
            Err(e) => return Err(e),
        };
        let wire = self.read(&afid, 0, CHALLENGE_LEN as u32 * 2).await?;
        let challenge =
            Challenge::decode(&wire).map_err(|e| failed(format!("not a ninefold server: {e}")))?;
        let binding = Binding { uname, n_uname, aname };
        let response =
            Response::new(&key.secret, &key.name, &challenge, &binding).map_err(key_error)?;
        match self.write(&afid, 0, Bytes::from(response.encode())).await {
            Ok(_) => {}
            Err(e) if e.errno() == Errno::EACCES => {
                return Err(failed(
                    "refused by the server (wrong secret or unknown key name)".into(),
                ))
            }
            Err(e) => return Err(e),
        }
        let wire = self.read(&afid, 0, PROOF_LEN as u32 * 2).await?;
        let proof = Proof::decode(&wire).map_err(|e| failed(e.to_string()))?;
        if !proof.verify(&key.secret, &challenge, &response, &binding) {
            return Err(failed("the server did not prove it holds the key".into()));
        }
        let fid = self.alloc_fid()?;
        let msg = base::Tattach {
            fid: fid.num(),
            afid: afid.num(),
            uname: uname.to_vec().into(),
            aname: aname.to_vec().into(),
            n_uname,
        };
        let r = self.call_binding(Message::Tattach(msg), fid, 0).await;
        drop(afid); // clunked by the reaper
        match r {
            Ok((frame, fid)) => match frame.message {
                Message::Rattach(r) => Ok((fid, r.qid)),
                other => Err(unexpected(&other, "Rattach")),
            },
            Err(e) if e.errno() == Errno::EACCES => Err(failed(format!(
                "authenticated, but the server refused the attach to {:?} as uid {n_uname} (not granted, or that uid is not allowed)",
                String::from_utf8_lossy(aname)
            ))),
            Err(e) => Err(e),
        }
    }
}

/// Takes `auth=NAME` with `key-file=PATH` (or `key-env=VAR`) out of a
/// target's query string: the target without them, and the key they name.
/// Other parameters stay in the target for its own parser (a `tls://`
/// target's); on other targets they are an error. The secret itself never
/// goes in a target (`secret=`, `password=`, `token=` are refused).
///
/// For callers that dial with [`Session`] themselves (the FUSE mount):
/// `Client::connect_with` does this on its own.
pub fn split_target(s: &str) -> Result<(String, Option<AuthKey>)> {
    let Some((target, query)) = s.split_once('?') else { return Ok((s.to_owned(), None)) };
    let (mut name, mut file, mut env) = (None, None, None);
    let mut rest = Vec::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        match k {
            "auth" => name = Some(crate::query::percent_decode(v)?),
            "key-file" => file = Some(crate::query::percent_decode(v)?),
            "key-env" => env = Some(crate::query::percent_decode(v)?),
            "secret" | "password" | "token" => {
                return Err(Error::invalid(format!(
                    "a secret never goes in a target: use ?auth=NAME&key-file=PATH or &key-env=VAR instead of {k}="
                )))
            }
            _ => rest.push(pair),
        }
    }
    if !rest.is_empty() && !target.starts_with("tls://") {
        return Err(Error::invalid(format!(
            "unknown target parameter {:?} (expected auth, key-file, key-env)",
            rest[0].split_once('=').map_or(rest[0], |(k, _)| k)
        )));
    }
    let key = match (name, file, env) {
        (None, None, None) => None,
        (Some(n), Some(f), None) => Some(AuthKey::from_file(n, f)?),
        (Some(n), None, Some(v)) => Some(AuthKey::from_env(n, &v)?),
        (Some(_), Some(_), Some(_)) => {
            return Err(Error::invalid("give key-file or key-env, not both"))
        }
        (Some(_), None, None) => {
            return Err(Error::invalid("auth=NAME needs key-file=PATH or key-env=VAR"))
        }
        (None, _, _) => return Err(Error::invalid("key-file/key-env need auth=NAME")),
    };
    let target =
        if rest.is_empty() { target.to_owned() } else { format!("{target}?{}", rest.join("&")) };
    Ok((target, key))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn target_queries() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("my key");
        std::fs::write(&f, "0123456789abcdef0123\n").unwrap();
        let q = format!(
            "tcp://h:1?auth=backup&key-file={}",
            f.display().to_string().replace(' ', "%20")
        );
        let (t, k) = split_target(&q).unwrap();
        assert_eq!(t, "tcp://h:1");
        assert_eq!(k.unwrap().name(), "backup");
        assert_eq!(split_target("unix:/a").unwrap().0, "unix:/a");
        let e = |s: &str| split_target(s).unwrap_err().to_string();
        assert!(e("h:1?auth=a&secret=abc").contains("never goes in a target"));
        assert!(e("h:1?auth=a&key=abc").contains("unknown target parameter \"key\""));
        // Other parameters of a tls:// target are left for its parser.
        let path = f.display().to_string().replace(' ', "%20");
        let (t, k) = split_target(&format!("tls://h:1?ca=%2Fx&auth=b&key-file={path}")).unwrap();
        assert_eq!(t, "tls://h:1?ca=%2Fx");
        assert_eq!(k.unwrap().name(), "b");
        assert!(e("h:1?auth=a").contains("needs key-file"));
        assert!(e("h:1?key-file=/x").contains("need auth"));
        assert!(e("h:1?color=red").contains("unknown target parameter"));
        assert!(e("h:1?auth=a&key-env=NINEFOLD_TEST_UNSET_VAR").contains("not set"));
        assert!(e("h:1?auth=a&key-file=%zz").contains("%-escape"));
    }
}
