//! Authentication on auth fids: the ninefold Tauth scheme (a named shared
//! secret, HMAC-SHA256 challenge-response, mutual; byte layout in
//! `docs/AUTH.md`, shared with the client through [`ninefold_auth`]).
//!
//! A server given a [`Keyring`] answers Tauth with an auth fid (qid type
//! QTAUTH) whose state machine is [`AuthFid`]:
//!
//! ```text
//!  Tauth ─► Challenged ── Tread ─► challenge (40 bytes)
//!               │
//!               └─ Twrite response ─┬─ good ─► Authenticated ── Tread ─► server proof
//!                  (nonce consumed) └─ bad ──► Failed (EACCES forever)
//!  Tattach afid (same uname, n_uname, aname) ─► the key's Principal
//! ```
//!
//! Without a keyring Tauth keeps its old answer: ENOENT in 9P2000.L (what
//! diod's tools and the Linux client read as "not required").

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use ninefold_auth::{Binding, Challenge, Proof, Response, CHALLENGE_LEN, PROOF_LEN};
use ninefold_proto::Errno;

pub use ninefold_auth::{AuthError, Secret};

use crate::fid::lock;
use crate::{AuthMethod, Principal};

/// How long a challenge may go unanswered (from Tauth to the Twrite of
/// the response).
pub const CHALLENGE_VALIDITY: Duration = Duration::from_secs(30);

/// The named shared secrets the Tauth scheme accepts. A key's name is the
/// name of the [`Principal`] it proves (method [`AuthMethod::Tauth`]).
///
/// ```
/// use ninefold_server::{Keyring, Secret};
///
/// let keys = Keyring::new().with_key("backup", Secret::new(vec![7; 32])?)?;
/// assert_eq!(keys.len(), 1);
/// assert!(format!("{keys:?}").contains("backup") && !format!("{keys:?}").contains("7, 7"));
/// # Ok::<(), ninefold_server::AuthError>(())
/// ```
#[derive(Clone, Debug, Default)]
pub struct Keyring {
    keys: HashMap<String, Secret>,
}

impl Keyring {
    /// No keys (Tauth is then not offered).
    pub fn new() -> Keyring {
        Keyring::default()
    }

    /// Adds (or replaces) key `name`; refuses an invalid name.
    pub fn insert(&mut self, name: impl Into<String>, secret: Secret) -> Result<(), AuthError> {
        let name = name.into();
        ninefold_auth::check_key_name(&name)?;
        self.keys.insert(name, secret);
        Ok(())
    }

    /// [`insert`](Keyring::insert), builder style.
    pub fn with_key(
        mut self,
        name: impl Into<String>,
        secret: Secret,
    ) -> Result<Keyring, AuthError> {
        self.insert(name, secret)?;
        Ok(self)
    }

    /// The number of keys.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether there are no keys.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    fn get(&self, name: &str) -> Option<&Secret> {
        self.keys.get(name)
    }
}

/// Why an exchange failed (for logs and the denial metric).
pub(crate) type Refusal = &'static str;

#[derive(Debug)]
enum State {
    Challenged { challenge: Challenge, issued: Instant },
    Authenticated { principal: Arc<Principal>, proof: [u8; PROOF_LEN] },
    Failed(Refusal),
}

/// The state of one auth fid (see the module docs).
#[derive(Debug)]
pub(crate) struct AuthFid {
    uname: Bytes,
    n_uname: u32,
    aname: Bytes,
    state: Mutex<State>,
}

impl AuthFid {
    /// A new auth fid for Tauth's fields, with a fresh challenge.
    pub(crate) fn new(uname: Bytes, n_uname: u32, aname: Bytes) -> Result<AuthFid, Errno> {
        let challenge = Challenge::new().map_err(|e| {
            tracing::error!(error = %e, "no randomness for an auth challenge");
            Errno::EIO
        })?;
        let state = State::Challenged { challenge, issued: Instant::now() };
        Ok(AuthFid { uname, n_uname, aname, state: Mutex::new(state) })
    }

    fn binding(&self) -> Binding<'_> {
        Binding { uname: &self.uname, n_uname: self.n_uname, aname: &self.aname }
    }

    /// Tread: the challenge before the response, the server's proof
    /// after a good one; EACCES once the exchange failed.
    pub(crate) fn read(&self, offset: u64, count: u32) -> Result<Bytes, Errno> {
        let whole: Vec<u8> = match &*lock(&self.state) {
            State::Challenged { challenge, .. } => challenge.encode().to_vec(),
            State::Authenticated { proof, .. } => proof.to_vec(),
            State::Failed(_) => return Err(Errno::EACCES),
        };
        debug_assert!(whole.len() == CHALLENGE_LEN || whole.len() == PROOF_LEN);
        let start = usize::try_from(offset).unwrap_or(usize::MAX).min(whole.len());
        let end = start.saturating_add(count as usize).min(whole.len());
        Ok(Bytes::copy_from_slice(&whole[start..end]))
    }

    /// Twrite of the response (one write at offset 0). The challenge is
    /// consumed whatever the outcome: a second response, a replayed one or
    /// one after [`CHALLENGE_VALIDITY`] is refused.
    pub(crate) fn write(&self, keys: &Keyring, offset: u64, data: &[u8]) -> Result<u32, Refusal> {
        let mut state = lock(&self.state);
        let (challenge, issued) = match &*state {
            State::Challenged { challenge, issued } => (*challenge, *issued),
            State::Authenticated { .. } => {
                *state = State::Failed("a second response on an authenticated auth fid");
                return Err("a second response on an authenticated auth fid");
            }
            State::Failed(_) => return Err("a response after the exchange failed"),
        };
        let outcome = self.check(keys, &challenge, issued, offset, data);
        *state = match &outcome {
            Ok((principal, proof)) => {
                State::Authenticated { principal: principal.clone(), proof: *proof }
            }
            Err(why) => State::Failed(why),
        };
        outcome.map(|_| data.len() as u32)
    }

    fn check(
        &self,
        keys: &Keyring,
        challenge: &Challenge,
        issued: Instant,
        offset: u64,
        data: &[u8],
    ) -> Result<(Arc<Principal>, [u8; PROOF_LEN]), Refusal> {
        if issued.elapsed() > CHALLENGE_VALIDITY {
            return Err("the challenge expired");
        }
        if offset != 0 {
            return Err("the response was not written at offset 0");
        }
        let response = Response::decode(data).map_err(|_| "malformed response")?;
        let secret = keys.get(&response.key_name).ok_or("unknown key name")?;
        let binding = self.binding();
        if !response.verify(secret, challenge, &binding) {
            return Err("wrong key or response");
        }
        let proof = Proof::new(secret, challenge, &response, &binding).encode();
        let principal = Arc::new(Principal::new(response.key_name, AuthMethod::Tauth));
        Ok((principal, proof))
    }

    /// The principal this auth fid proved, for a Tattach that repeats
    /// Tauth's uname, n_uname and aname.
    pub(crate) fn principal_for(
        &self,
        uname: &[u8],
        n_uname: u32,
        aname: &[u8],
    ) -> Result<Arc<Principal>, Refusal> {
        match &*lock(&self.state) {
            State::Authenticated { principal, .. } => {
                if self.uname != uname || self.n_uname != n_uname || self.aname != aname {
                    Err("Tattach's uname, n_uname or aname differ from Tauth's")
                } else {
                    Ok(principal.clone())
                }
            }
            State::Challenged { .. } => Err("the auth fid was never answered"),
            State::Failed(why) => Err(why),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys() -> (Keyring, Secret) {
        let s = Secret::new(b"a-test-secret-of-some-length".to_vec()).unwrap();
        (Keyring::new().with_key("k", s.clone()).unwrap(), s)
    }

    fn respond(af: &AuthFid, secret: &Secret, name: &str) -> Vec<u8> {
        let c = Challenge::decode(&af.read(0, 4096).unwrap()).unwrap();
        let b = Binding { uname: b"u", n_uname: 5, aname: b"a" };
        Response::new(secret, name, &c, &b).unwrap().encode()
    }

    fn fresh() -> AuthFid {
        AuthFid::new(Bytes::from_static(b"u"), 5, Bytes::from_static(b"a")).unwrap()
    }

    #[test]
    fn a_good_response_proves_the_key_once() {
        let (k, s) = keys();
        let af = fresh();
        let r = respond(&af, &s, "k");
        assert_eq!(af.write(&k, 0, &r), Ok(r.len() as u32));
        assert_eq!(af.read(0, 4096).unwrap().len(), PROOF_LEN);
        assert_eq!(af.principal_for(b"u", 5, b"a").unwrap().name(), "k");
        assert!(af.principal_for(b"u", 0, b"a").is_err(), "another uid");
        assert!(af.principal_for(b"u", 5, b"b").is_err(), "another export");
        // The same response again (a replay on the same fid) is refused and
        // ends the fid.
        assert!(af.write(&k, 0, &r).is_err());
        assert!(af.principal_for(b"u", 5, b"a").is_err());
        // A replay on a fresh auth fid (another challenge) is refused.
        let other = fresh();
        assert_eq!(other.write(&k, 0, &r), Err("wrong key or response"));
    }

    #[test]
    fn wrong_and_unknown_keys_fail() {
        let (k, _) = keys();
        let af = fresh();
        let wrong = Secret::new(b"another-secret-entirely".to_vec()).unwrap();
        let r = respond(&af, &wrong, "k");
        assert_eq!(af.write(&k, 0, &r), Err("wrong key or response"));
        assert_eq!(af.read(0, 40), Err(Errno::EACCES));
        let af = fresh();
        let r = respond(&af, &wrong, "nobody");
        assert_eq!(af.write(&k, 0, &r), Err("unknown key name"));
        let af = fresh();
        assert_eq!(af.write(&k, 0, b"garbage"), Err("malformed response"));
        assert!(af.principal_for(b"u", 5, b"a").is_err());
    }

    #[test]
    fn an_expired_challenge_is_refused() {
        let (k, s) = keys();
        let af = fresh();
        let r = respond(&af, &s, "k");
        if let State::Challenged { issued, .. } = &mut *lock(&af.state) {
            match issued.checked_sub(CHALLENGE_VALIDITY + Duration::from_secs(1)) {
                Some(past) => *issued = past,
                None => return, // a clock this young cannot go back 31 s
            }
        }
        assert_eq!(af.write(&k, 0, &r), Err("the challenge expired"));
    }

    #[test]
    fn reads_at_offsets_and_unanswered_fids() {
        let af = fresh();
        let whole = af.read(0, 4096).unwrap();
        assert_eq!(af.read(8, 4).unwrap(), whole.slice(8..12));
        assert!(af.read(100, 10).unwrap().is_empty());
        assert_eq!(af.principal_for(b"u", 5, b"a"), Err("the auth fid was never answered"));
    }
}
