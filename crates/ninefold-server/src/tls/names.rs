//! The name a verified client certificate stands for: its first DNS or
//! URI subjectAltName, else its subject's common name.
//!
//! A minimal DER reader, enough for the fields named above. The
//! certificate has already been verified (and so fully parsed) by webpki;
//! still, every read is bounds-checked and a malformed field gives `None`,
//! never a panic. Nesting is walked with loops, never recursion.

/// DER tags used here.
const SEQUENCE: u8 = 0x30;
const SET: u8 = 0x31;
const OID: u8 = 0x06;
const BOOLEAN: u8 = 0x01;
const OCTET_STRING: u8 = 0x04;
/// `[0] EXPLICIT` version, `[3] EXPLICIT` extensions.
const VERSION: u8 = 0xa0;
const EXTENSIONS: u8 = 0xa3;
/// GeneralName `[2] dNSName`, `[6] uniformResourceIdentifier` (implicit).
const SAN_DNS: u8 = 0x82;
const SAN_URI: u8 = 0x86;
/// 2.5.29.17 subjectAltName.
const OID_SAN: &[u8] = &[0x55, 0x1d, 0x11];
/// 2.5.4.3 commonName.
const OID_CN: &[u8] = &[0x55, 0x04, 0x03];

/// One DER value at a time out of a byte slice.
struct Der<'a>(&'a [u8]);

impl<'a> Der<'a> {
    /// The next tag and its contents (definite lengths of up to 4 bytes;
    /// single-byte tags only).
    fn next(&mut self) -> Option<(u8, &'a [u8])> {
        let (&tag, rest) = self.0.split_first()?;
        if tag & 0x1f == 0x1f {
            return None;
        }
        let (&first, mut rest) = rest.split_first()?;
        let len = if first < 0x80 {
            usize::from(first)
        } else {
            let n = usize::from(first & 0x7f);
            if n == 0 || n > 4 || rest.len() < n {
                return None;
            }
            let mut len = 0usize;
            for &b in &rest[..n] {
                len = (len << 8) | usize::from(b);
            }
            rest = &rest[n..];
            len
        };
        if rest.len() < len {
            return None;
        }
        let (content, tail) = rest.split_at(len);
        self.0 = tail;
        Some((tag, content))
    }

    /// The contents of the next value, which must have tag `want`.
    fn expect(&mut self, want: u8) -> Option<&'a [u8]> {
        match self.next()? {
            (tag, content) if tag == want => Some(content),
            _ => None,
        }
    }

    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// The principal name of a DER certificate: the first DNS or URI SAN in
/// the order the certificate lists them, else the (last) subject CN.
/// `None` when it has neither, or the name holds control characters.
pub(crate) fn principal_name(cert_der: &[u8]) -> Option<String> {
    let (subject, extensions) = tbs_fields(cert_der)?;
    let name = extensions.and_then(first_san).or_else(|| common_name(subject))?;
    if name.is_empty() || name.chars().any(char::is_control) {
        return None;
    }
    Some(name)
}

/// The subject Name and the extensions list of a certificate.
fn tbs_fields(cert_der: &[u8]) -> Option<(&[u8], Option<&[u8]>)> {
    let cert = Der(cert_der).expect(SEQUENCE)?;
    let mut tbs = Der(Der(cert).expect(SEQUENCE)?);
    let (mut tag, _) = tbs.next()?;
    if tag == VERSION {
        tag = tbs.next()?.0; // serialNumber
    }
    if tag != 0x02 {
        return None;
    }
    tbs.expect(SEQUENCE)?; // signature algorithm
    tbs.expect(SEQUENCE)?; // issuer
    tbs.expect(SEQUENCE)?; // validity
    let subject = tbs.expect(SEQUENCE)?;
    tbs.expect(SEQUENCE)?; // subjectPublicKeyInfo
    let mut extensions = None;
    while !tbs.is_empty() {
        let (tag, content) = tbs.next()?;
        if tag == EXTENSIONS {
            extensions = Some(Der(content).expect(SEQUENCE)?);
        }
    }
    Some((subject, extensions))
}

/// The first dNSName or URI of the subjectAltName extension.
fn first_san(extensions: &[u8]) -> Option<String> {
    let mut exts = Der(extensions);
    while !exts.is_empty() {
        let mut ext = Der(exts.expect(SEQUENCE)?);
        if ext.expect(OID)? != OID_SAN {
            continue;
        }
        let (mut tag, mut value) = ext.next()?;
        if tag == BOOLEAN {
            (tag, value) = ext.next()?;
        }
        if tag != OCTET_STRING {
            return None;
        }
        let mut names = Der(Der(value).expect(SEQUENCE)?);
        while !names.is_empty() {
            let (tag, content) = names.next()?;
            if tag == SAN_DNS || tag == SAN_URI {
                return std::str::from_utf8(content).ok().map(str::to_owned);
            }
        }
        return None;
    }
    None
}

/// The last commonName attribute of a Name.
fn common_name(subject: &[u8]) -> Option<String> {
    let mut rdns = Der(subject);
    let mut found = None;
    while !rdns.is_empty() {
        let mut set = Der(rdns.expect(SET)?);
        while !set.is_empty() {
            let mut atv = Der(set.expect(SEQUENCE)?);
            if atv.expect(OID)? != OID_CN {
                continue;
            }
            let (tag, value) = atv.next()?;
            found = match tag {
                // UTF8String, PrintableString, IA5String, TeletexString
                // (taken as its common ASCII/UTF-8 use).
                0x0c | 0x13 | 0x16 | 0x14 => std::str::from_utf8(value).ok().map(str::to_owned),
                // BMPString: UTF-16BE.
                0x1e if value.len() % 2 == 0 => {
                    let units: Vec<u16> =
                        value.chunks_exact(2).map(|c| u16::from_be_bytes([c[0], c[1]])).collect();
                    String::from_utf16(&units).ok()
                }
                _ => None,
            }
            .or(found);
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncated_and_garbage_input_gives_none() {
        assert_eq!(principal_name(&[]), None);
        assert_eq!(principal_name(&[0x30]), None);
        assert_eq!(principal_name(&[0x30, 0x84, 0xff, 0xff, 0xff, 0xff]), None);
        assert_eq!(principal_name(&[0x30, 0x02, 0x30, 0x00]), None);
        for n in 0..=255u8 {
            assert_eq!(principal_name(&[0x30, 0x03, 0x30, 0x01, n]), None);
        }
    }

    #[test]
    fn der_lengths() {
        let mut d = Der(&[0x04, 0x81, 0x02, 0xaa, 0xbb, 0x05, 0x00]);
        assert_eq!(d.next(), Some((0x04, &[0xaa, 0xbb][..])));
        assert_eq!(d.next(), Some((0x05, &[][..])));
        assert!(d.is_empty());
        assert_eq!(Der(&[0x04, 0x80]).next(), None, "indefinite length");
        assert_eq!(Der(&[0x1f, 0x01, 0x00]).next(), None, "multi-byte tag");
        assert_eq!(Der(&[0x04, 0x03, 0x00]).next(), None, "short content");
    }
}
