//! The ninefold Tauth scheme, sans-IO: a named shared secret proven by
//! HMAC-SHA256 challenge-response over a 9P auth fid, with a server proof
//! for mutual authentication. No secret crosses the wire; every exchange
//! is bound to a fresh server nonce (single use) and to the attach it
//! authorises (uname, n_uname, aname).
//!
//! The byte layout is specified in `docs/AUTH.md`; this crate is the one
//! implementation the ninefold server and client share.
//!
//! ```
//! use ninefold_auth::{Binding, Challenge, Proof, Response, Secret};
//!
//! let secret = Secret::new(b"correct horse battery staple".to_vec())?;
//! let binding = Binding { uname: b"alice", n_uname: 1000, aname: b"home" };
//!
//! // Server: Rauth, then a Tread of the afid returns the challenge.
//! let challenge = Challenge::new()?;
//! let wire = challenge.encode();
//!
//! // Client: reads it, answers with a Twrite.
//! let got = Challenge::decode(&wire)?;
//! let response = Response::new(&secret, "backup", &got, &binding)?;
//! let written = response.encode();
//!
//! // Server: checks it, then a second Tread returns its own proof.
//! let r = Response::decode(&written)?;
//! assert_eq!(r.key_name, "backup");
//! assert!(r.verify(&secret, &challenge, &binding));
//! let proof = Proof::new(&secret, &challenge, &r, &binding);
//!
//! // Client: checks the server knew the key too.
//! assert!(Proof::decode(&proof.encode())?.verify(&secret, &got, &response, &binding));
//! # Ok::<(), ninefold_auth::AuthError>(())
//! ```

#![forbid(unsafe_code)]

use std::fmt;
use std::path::Path;

use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

/// The first 8 bytes of every message of the scheme (version 1).
pub const MAGIC: &[u8; 8] = b"nf-auth1";
/// Length of a nonce (server or client).
pub const NONCE_LEN: usize = 32;
/// Length of an HMAC-SHA256 tag.
pub const MAC_LEN: usize = 32;
/// Length of the challenge (server → client).
pub const CHALLENGE_LEN: usize = MAGIC.len() + NONCE_LEN;
/// Length of the server's proof (server → client, after success).
pub const PROOF_LEN: usize = MAGIC.len() + MAC_LEN;
/// The shortest secret accepted (128 bits).
pub const MIN_SECRET_LEN: usize = 16;
/// The longest key name (bytes of UTF-8).
pub const MAX_KEY_NAME: usize = 255;
/// The largest response (magic, nonce, name length, longest name, tag).
pub const MAX_RESPONSE_LEN: usize = MAGIC.len() + NONCE_LEN + 2 + MAX_KEY_NAME + MAC_LEN;

/// Domain-separation label of the client's tag.
const CLIENT_LABEL: &[u8] = b"ninefold-auth-v1 client";
/// Domain-separation label of the server's tag.
const SERVER_LABEL: &[u8] = b"ninefold-auth-v1 server";

/// What went wrong, on either side.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AuthError {
    /// A message of the scheme is malformed (wrong length or magic).
    #[error("malformed auth message: {0}")]
    Malformed(&'static str),
    /// A secret is too short or unreadable.
    #[error("bad key: {0}")]
    BadKey(String),
    /// A key name is empty, too long or not UTF-8.
    #[error("bad key name: {0}")]
    BadKeyName(String),
    /// The operating system gave no randomness.
    #[error("no randomness available: {0}")]
    Random(String),
}

/// A shared secret. Its `Debug` output never shows the bytes.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(Vec<u8>);

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Secret({} bytes)", self.0.len())
    }
}

impl Secret {
    /// A secret of these bytes (at least [`MIN_SECRET_LEN`]).
    pub fn new(bytes: Vec<u8>) -> Result<Secret, AuthError> {
        if bytes.len() < MIN_SECRET_LEN {
            return Err(AuthError::BadKey(format!(
                "a secret must be at least {MIN_SECRET_LEN} bytes (got {})",
                bytes.len()
            )));
        }
        Ok(Secret(bytes))
    }

    /// The secret in a key file: its contents without leading and
    /// trailing ASCII whitespace (so `head -c 32 /dev/urandom | base64 >
    /// FILE` makes a good one; the text itself is the secret, it is not
    /// decoded).
    pub fn from_file(path: &Path) -> Result<Secret, AuthError> {
        let bytes = std::fs::read(path).map_err(|e| {
            AuthError::BadKey(format!("cannot read key file {}: {e}", path.display()))
        })?;
        Secret::new(trim(&bytes).to_vec())
            .map_err(|e| AuthError::BadKey(format!("key file {}: {e}", path.display())))
    }

    /// The secret in environment variable `var` (trimmed like a file).
    pub fn from_env(var: &str) -> Result<Secret, AuthError> {
        let v = std::env::var_os(var)
            .ok_or_else(|| AuthError::BadKey(format!("environment variable {var} is not set")))?;
        let bytes = v.into_encoded_bytes();
        Secret::new(trim(&bytes).to_vec())
            .map_err(|e| AuthError::BadKey(format!("environment variable {var}: {e}")))
    }

    fn mac(&self) -> Hmac<Sha256> {
        // HMAC takes keys of any length.
        match Hmac::<Sha256>::new_from_slice(&self.0) {
            Ok(m) => m,
            Err(_) => unreachable!("HMAC accepts every key length"),
        }
    }
}

fn trim(b: &[u8]) -> &[u8] {
    let start = b.iter().position(|c| !c.is_ascii_whitespace()).unwrap_or(b.len());
    let end = b.iter().rposition(|c| !c.is_ascii_whitespace()).map_or(start, |e| e + 1);
    &b[start..end]
}

/// Checks a key name: 1 to [`MAX_KEY_NAME`] bytes, no control characters.
pub fn check_key_name(name: &str) -> Result<(), AuthError> {
    if name.is_empty() || name.len() > MAX_KEY_NAME {
        return Err(AuthError::BadKeyName(format!(
            "{name:?}: a key name has 1 to {MAX_KEY_NAME} bytes"
        )));
    }
    if name.chars().any(char::is_control) {
        return Err(AuthError::BadKeyName(format!("{name:?} contains control characters")));
    }
    Ok(())
}

/// The attach an exchange authorises: Tauth's fields, which the Tattach
/// using the auth fid must repeat exactly.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Binding<'a> {
    /// Tauth/Tattach `uname`.
    pub uname: &'a [u8],
    /// Tauth/Tattach `n_uname` (0xFFFFFFFF when absent, as in 9P2000).
    pub n_uname: u32,
    /// Tauth/Tattach `aname`.
    pub aname: &'a [u8],
}

/// A fresh random nonce.
pub fn random_nonce() -> Result<[u8; NONCE_LEN], AuthError> {
    let mut n = [0u8; NONCE_LEN];
    getrandom::fill(&mut n).map_err(|e| AuthError::Random(e.to_string()))?;
    Ok(n)
}

/// The server's challenge: `MAGIC server_nonce[32]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Challenge {
    /// The server nonce.
    pub nonce: [u8; NONCE_LEN],
}

impl Challenge {
    /// A challenge with a fresh random nonce.
    pub fn new() -> Result<Challenge, AuthError> {
        Ok(Challenge { nonce: random_nonce()? })
    }

    /// Its 40 bytes on the wire.
    pub fn encode(&self) -> [u8; CHALLENGE_LEN] {
        let mut b = [0u8; CHALLENGE_LEN];
        b[..8].copy_from_slice(MAGIC);
        b[8..].copy_from_slice(&self.nonce);
        b
    }

    /// Parses the bytes a Tread of the auth fid returned.
    pub fn decode(b: &[u8]) -> Result<Challenge, AuthError> {
        if b.len() != CHALLENGE_LEN {
            return Err(AuthError::Malformed("a challenge is 40 bytes"));
        }
        if &b[..8] != MAGIC {
            return Err(AuthError::Malformed("the challenge does not start with nf-auth1"));
        }
        let mut nonce = [0u8; NONCE_LEN];
        nonce.copy_from_slice(&b[8..]);
        Ok(Challenge { nonce })
    }
}

/// The client's response:
/// `MAGIC client_nonce[32] name_len[2] key_name[name_len] tag[32]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// The client nonce.
    pub client_nonce: [u8; NONCE_LEN],
    /// The name of the key the client proves it holds.
    pub key_name: String,
    /// HMAC-SHA256 of the client transcript under the key.
    pub tag: [u8; MAC_LEN],
}

impl Response {
    /// The response to `challenge` with `secret` (named `key_name`), for
    /// the attach `binding`; draws a fresh client nonce.
    pub fn new(
        secret: &Secret,
        key_name: &str,
        challenge: &Challenge,
        binding: &Binding<'_>,
    ) -> Result<Response, AuthError> {
        check_key_name(key_name)?;
        let client_nonce = random_nonce()?;
        let tag = transcript_tag(
            secret,
            CLIENT_LABEL,
            &challenge.nonce,
            &client_nonce,
            key_name.as_bytes(),
            binding,
        );
        Ok(Response { client_nonce, key_name: key_name.to_owned(), tag })
    }

    /// Its bytes on the wire (one Twrite at offset 0).
    pub fn encode(&self) -> Vec<u8> {
        let name = self.key_name.as_bytes();
        let mut b = Vec::with_capacity(MAGIC.len() + NONCE_LEN + 2 + name.len() + MAC_LEN);
        b.extend_from_slice(MAGIC);
        b.extend_from_slice(&self.client_nonce);
        b.extend_from_slice(&(name.len() as u16).to_le_bytes());
        b.extend_from_slice(name);
        b.extend_from_slice(&self.tag);
        b
    }

    /// Parses what the client wrote.
    pub fn decode(b: &[u8]) -> Result<Response, AuthError> {
        let fixed = MAGIC.len() + NONCE_LEN + 2;
        if b.len() < fixed + 1 + MAC_LEN || b.len() > MAX_RESPONSE_LEN {
            return Err(AuthError::Malformed("a response is 75 to 329 bytes"));
        }
        if &b[..8] != MAGIC {
            return Err(AuthError::Malformed("the response does not start with nf-auth1"));
        }
        let mut client_nonce = [0u8; NONCE_LEN];
        client_nonce.copy_from_slice(&b[8..8 + NONCE_LEN]);
        let n = usize::from(u16::from_le_bytes([b[fixed - 2], b[fixed - 1]]));
        if b.len() != fixed + n + MAC_LEN {
            return Err(AuthError::Malformed("the key name length does not match the response"));
        }
        let key_name = std::str::from_utf8(&b[fixed..fixed + n])
            .map_err(|_| AuthError::Malformed("the key name is not UTF-8"))?
            .to_owned();
        check_key_name(&key_name)?;
        let mut tag = [0u8; MAC_LEN];
        tag.copy_from_slice(&b[fixed + n..]);
        Ok(Response { client_nonce, key_name, tag })
    }

    /// Whether the tag proves `secret` for this challenge and binding
    /// (compared in constant time).
    pub fn verify(&self, secret: &Secret, challenge: &Challenge, binding: &Binding<'_>) -> bool {
        let want = transcript_tag(
            secret,
            CLIENT_LABEL,
            &challenge.nonce,
            &self.client_nonce,
            self.key_name.as_bytes(),
            binding,
        );
        bool::from(want.ct_eq(&self.tag))
    }
}

/// The server's proof that it holds the key too: `MAGIC tag[32]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Proof {
    /// HMAC-SHA256 of the server transcript under the key.
    pub tag: [u8; MAC_LEN],
}

impl Proof {
    /// The server's proof for an accepted response.
    pub fn new(
        secret: &Secret,
        challenge: &Challenge,
        response: &Response,
        binding: &Binding<'_>,
    ) -> Proof {
        let tag = transcript_tag(
            secret,
            SERVER_LABEL,
            &challenge.nonce,
            &response.client_nonce,
            response.key_name.as_bytes(),
            binding,
        );
        Proof { tag }
    }

    /// Its 40 bytes on the wire.
    pub fn encode(&self) -> [u8; PROOF_LEN] {
        let mut b = [0u8; PROOF_LEN];
        b[..8].copy_from_slice(MAGIC);
        b[8..].copy_from_slice(&self.tag);
        b
    }

    /// Parses the bytes of the second Tread.
    pub fn decode(b: &[u8]) -> Result<Proof, AuthError> {
        if b.len() != PROOF_LEN {
            return Err(AuthError::Malformed("a server proof is 40 bytes"));
        }
        if &b[..8] != MAGIC {
            return Err(AuthError::Malformed("the server proof does not start with nf-auth1"));
        }
        let mut tag = [0u8; MAC_LEN];
        tag.copy_from_slice(&b[8..]);
        Ok(Proof { tag })
    }

    /// Whether the server proved `secret` for this exchange (constant
    /// time).
    pub fn verify(
        &self,
        secret: &Secret,
        challenge: &Challenge,
        response: &Response,
        binding: &Binding<'_>,
    ) -> bool {
        let want = Proof::new(secret, challenge, response, binding);
        bool::from(want.tag.ct_eq(&self.tag))
    }
}

/// A 9P string into the MAC: 2-byte little-endian length, then the
/// bytes. 9P strings are at most 65535 bytes; a longer one cannot have
/// come off the wire, and is cut at the same length on both sides.
fn string(m: &mut Hmac<Sha256>, s: &[u8]) {
    let s = &s[..s.len().min(usize::from(u16::MAX))];
    m.update(&(s.len() as u16).to_le_bytes());
    m.update(s);
}

/// HMAC-SHA256(secret, label ‖ server_nonce ‖ client_nonce ‖ s(key_name)
/// ‖ s(uname) ‖ n_uname[4] ‖ s(aname)), where s(x) is a 2-byte
/// little-endian length then the bytes, as 9P strings are written.
fn transcript_tag(
    secret: &Secret,
    label: &[u8],
    server_nonce: &[u8; NONCE_LEN],
    client_nonce: &[u8; NONCE_LEN],
    key_name: &[u8],
    b: &Binding<'_>,
) -> [u8; MAC_LEN] {
    let mut m = secret.mac();
    m.update(label);
    m.update(server_nonce);
    m.update(client_nonce);
    string(&mut m, key_name);
    string(&mut m, b.uname);
    m.update(&b.n_uname.to_le_bytes());
    string(&mut m, b.aname);
    m.finalize().into_bytes().into()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secret() -> Secret {
        Secret::new(b"0123456789abcdef-secret".to_vec()).unwrap()
    }
    const B: Binding<'static> = Binding { uname: b"alice", n_uname: 1000, aname: b"home" };

    #[test]
    fn fixed_vector() {
        // A vector other implementations can check against (docs/AUTH.md).
        let s = Secret::new(b"ninefold-test-secret-0123456789".to_vec()).unwrap();
        let c = Challenge { nonce: [0x11; 32] };
        let r = Response {
            client_nonce: [0x22; 32],
            key_name: "backup".into(),
            tag: transcript_tag(&s, CLIENT_LABEL, &[0x11; 32], &[0x22; 32], b"backup", &B),
        };
        assert!(r.verify(&s, &c, &B));
        let hex = |b: &[u8]| b.iter().map(|x| format!("{x:02x}")).collect::<String>();
        // Checked against Python's hmac module (docs/AUTH.md shows how).
        assert_eq!(hex(&r.tag), "46e92ff530021501827a3123b550f158e44f98b29252d736f165dc8aa6ff187c");
        assert_eq!(
            hex(&Proof::new(&s, &c, &r, &B).tag),
            "6bfb95cbd5d2ecc679a640dadc5565f2939c9ecde1826dd54e13e0b628564ba5"
        );
    }

    #[test]
    fn round_trip_and_refusals() {
        let s = secret();
        let c = Challenge::new().unwrap();
        assert_eq!(Challenge::decode(&c.encode()).unwrap(), c);
        let r = Response::new(&s, "k", &c, &B).unwrap();
        let back = Response::decode(&r.encode()).unwrap();
        assert_eq!(back, r);
        assert!(back.verify(&s, &c, &B));
        // Another challenge (a replay on a new auth fid) fails.
        assert!(!back.verify(&s, &Challenge::new().unwrap(), &B));
        // Another key fails.
        assert!(!back.verify(&Secret::new(vec![7; 16]).unwrap(), &c, &B));
        // Another attach fails.
        for other in [
            Binding { uname: b"root", ..B },
            Binding { n_uname: 0, ..B },
            Binding { aname: b"", ..B },
        ] {
            assert!(!back.verify(&s, &c, &other));
        }
        let p = Proof::new(&s, &c, &r, &B);
        assert!(Proof::decode(&p.encode()).unwrap().verify(&s, &c, &r, &B));
        assert!(!p.verify(&Secret::new(vec![7; 16]).unwrap(), &c, &r, &B));
        // The server's tag is not the client's.
        assert_ne!(p.tag, r.tag);
    }

    #[test]
    fn malformed_input_is_refused() {
        assert!(Challenge::decode(b"short").is_err());
        assert!(Challenge::decode(&[0u8; 40]).is_err());
        assert!(Response::decode(&[0u8; 10]).is_err());
        let mut r =
            Response::new(&secret(), "name", &Challenge::new().unwrap(), &B).unwrap().encode();
        r[40] = 200; // name length past the end
        assert!(Response::decode(&r).is_err());
        assert!(Response::decode(&vec![0u8; 4096]).is_err());
        assert!(Secret::new(vec![1; 15]).is_err());
        assert!(check_key_name("").is_err());
        assert!(check_key_name("a\nb").is_err());
        assert!(check_key_name(&"x".repeat(256)).is_err());
        assert_eq!(trim(b"  abc \n"), b"abc");
        assert_eq!(trim(b" \n"), b"");
        assert!(format!("{:?}", secret()).contains("23 bytes"));
    }
}
