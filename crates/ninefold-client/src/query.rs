//! The query strings of targets (`?ca=...&auth=...`): `%XX` escapes, read
//! by the TLS parameters and the Tauth key parameters alike.

use crate::{Error, Result};

/// `%XX` escapes decoded.
pub(crate) fn percent_decode(s: &str) -> Result<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = b
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .ok_or_else(|| Error::invalid(format!("bad %-escape in {s:?}")))?;
            out.push(hex);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| Error::invalid(format!("{s:?} is not UTF-8")))
}

/// Escapes what would end a value: `%`, `&`, `#`, `?`, whitespace.
pub(crate) fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '%' | '&' | '#' | '?' | '=' | '+' => out.push_str(&format!("%{:02X}", c as u32)),
            c if c.is_whitespace() && c.is_ascii() => out.push_str(&format!("%{:02X}", c as u32)),
            c => out.push(c),
        }
    }
    out
}
