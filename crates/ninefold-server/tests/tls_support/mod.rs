//! Test certificates made with rcgen: a CA and leaves signed by it, valid,
//! expired or not yet valid, written as PEM files into a directory.
//! Shared by the TLS tests of the server and the CLI (`#[path]`).

#![allow(dead_code, unreachable_pub)]

use std::path::{Path, PathBuf};

use rcgen::string::Ia5String;
use rcgen::{
    date_time_ymd, BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair,
    SanType,
};

/// When a leaf is valid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Validity {
    /// From a year ago to a year ahead.
    Now,
    /// Ended in 2001.
    Expired,
    /// Starts in 2200.
    Future,
}

/// What a leaf names.
#[derive(Debug, Clone, Default)]
pub struct Names<'a> {
    /// dNSName or iPAddress SANs (an address if it parses as one).
    pub hosts: Vec<&'a str>,
    /// uniformResourceIdentifier SANs.
    pub uris: Vec<&'a str>,
    /// Subject common name.
    pub cn: Option<&'a str>,
}

/// A CA whose files live in `dir`.
pub struct Ca {
    dir: PathBuf,
    name: String,
    issuer: CertifiedIssuer<'static, KeyPair>,
}

impl Ca {
    /// A new CA called `name`; its certificate is `DIR/NAME-ca.pem`.
    pub fn new(dir: &Path, name: &str) -> Ca {
        let mut p = CertificateParams::new(Vec::<String>::new()).unwrap();
        p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        p.distinguished_name.push(DnType::CommonName, format!("{name} test CA"));
        let issuer = CertifiedIssuer::self_signed(p, KeyPair::generate().unwrap()).unwrap();
        std::fs::write(dir.join(format!("{name}-ca.pem")), issuer.pem()).unwrap();
        Ca { dir: dir.to_owned(), name: name.to_owned(), issuer }
    }

    /// The CA certificate's file.
    pub fn cert_path(&self) -> PathBuf {
        self.dir.join(format!("{}-ca.pem", self.name))
    }

    /// A leaf called `stem` (files `DIR/STEM.pem`, `DIR/STEM.key`).
    pub fn leaf(&self, stem: &str, names: Names<'_>, validity: Validity) -> (PathBuf, PathBuf) {
        let mut p =
            CertificateParams::new(names.hosts.iter().map(|h| (*h).to_owned()).collect::<Vec<_>>())
                .unwrap();
        for u in &names.uris {
            p.subject_alt_names.push(SanType::URI(Ia5String::try_from(*u).unwrap()));
        }
        p.distinguished_name = rcgen::DistinguishedName::new();
        if let Some(cn) = names.cn {
            p.distinguished_name.push(DnType::CommonName, cn);
        }
        let (from, to) = match validity {
            Validity::Now => {
                let now = time_now_year();
                (date_time_ymd(now - 1, 1, 1), date_time_ymd(now + 1, 12, 31))
            }
            Validity::Expired => (date_time_ymd(2000, 1, 1), date_time_ymd(2001, 1, 1)),
            Validity::Future => (date_time_ymd(2200, 1, 1), date_time_ymd(2201, 1, 1)),
        };
        p.not_before = from;
        p.not_after = to;
        let key = KeyPair::generate().unwrap();
        let cert = p.signed_by(&key, &self.issuer).unwrap();
        let (c, k) = (self.dir.join(format!("{stem}.pem")), self.dir.join(format!("{stem}.key")));
        std::fs::write(&c, cert.pem()).unwrap();
        std::fs::write(&k, key.serialize_pem()).unwrap();
        (c, k)
    }

    /// A server leaf for `localhost` and 127.0.0.1.
    pub fn server(&self, stem: &str, validity: Validity) -> (PathBuf, PathBuf) {
        let names = Names { hosts: vec!["localhost", "127.0.0.1"], ..Names::default() };
        self.leaf(stem, names, validity)
    }
}

/// This year, from the system clock (no date crate needed).
fn time_now_year() -> i32 {
    let secs =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    1970 + (secs / 31_556_952) as i32
}
