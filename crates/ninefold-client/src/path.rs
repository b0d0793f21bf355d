//! Paths as bytes: splitting, validation, chunked walks and client-side
//! symlink resolution.

use std::path::Path;

use bytes::Bytes;
use ninefold_proto::{l, Dialect, P9String, Qid, MAXWELEM};

use crate::error::{Error, Result};
use crate::session::{Fid, Session};

/// The most symlinks one resolution follows.
pub const MAX_SYMLINK_HOPS: usize = 40;

/// The longest name accepted.
pub const MAX_NAME_LEN: usize = 255;

/// The raw bytes of a path.
pub(crate) fn path_bytes(path: &Path) -> Vec<u8> {
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        path.as_os_str().as_bytes().to_vec()
    }
    #[cfg(not(unix))]
    {
        path.to_string_lossy().into_owned().into_bytes()
    }
}

/// Checks one name: non-empty, no `/` or NUL, at most 255 bytes, not `.`
/// or `..`.
pub(crate) fn check_name(name: &[u8]) -> Result<()> {
    if name.is_empty() {
        return Err(Error::invalid("empty name"));
    }
    if name.len() > MAX_NAME_LEN {
        return Err(Error::NameTooLong);
    }
    if name == b"." || name == b".." {
        return Err(Error::invalid("`.` and `..` are not names"));
    }
    if name.iter().any(|&b| b == b'/' || b == 0) {
        return Err(Error::invalid("a name cannot contain `/` or NUL"));
    }
    Ok(())
}

/// The components of a path below the attach root. A leading `/` is
/// optional, empty and `.` components are dropped, `..` is refused.
pub(crate) fn components(path: &Path) -> Result<Vec<P9String>> {
    let raw = path_bytes(path);
    if raw.contains(&0) {
        return Err(Error::invalid("path contains NUL"));
    }
    let mut out = Vec::new();
    for part in raw.split(|&b| b == b'/') {
        match part {
            b"" | b"." => {}
            b".." => return Err(Error::invalid("`..` is not allowed in paths")),
            name => {
                check_name(name)?;
                out.push(P9String::from(name));
            }
        }
    }
    Ok(out)
}

/// The parent components and the final name; the root has no final name.
pub(crate) fn split_last(path: &Path) -> Result<(Vec<P9String>, P9String)> {
    let mut comps = components(path)?;
    match comps.pop() {
        Some(last) => Ok((comps, last)),
        None => Err(Error::invalid("the root has no parent")),
    }
}

/// `/a/b/c` from components.
pub(crate) fn join(names: &[P9String]) -> Bytes {
    let mut out = Vec::with_capacity(names.iter().map(|n| n.len() + 1).sum::<usize>().max(1));
    for n in names {
        out.push(b'/');
        out.extend_from_slice(n);
    }
    if out.is_empty() {
        out.push(b'/');
    }
    Bytes::from(out)
}

/// What a chunked walk reached.
#[derive(Debug)]
pub(crate) struct Walked {
    /// The fid of the last name, when every name was walked.
    pub(crate) fid: Option<Fid>,
    /// The qids of the names walked.
    pub(crate) qids: Vec<Qid>,
    /// Why a later chunk failed on its first name, if it did.
    pub(crate) err: Option<Error>,
}

/// Walks `names` from `start` in chunks of 16. An error on the very first
/// name is returned as `Err`; later failures come back in [`Walked`].
pub(crate) async fn walk_chunks(
    session: &Session,
    start: &Fid,
    names: &[P9String],
) -> Result<Walked> {
    if names.is_empty() {
        let (fid, _) = session.walk_partial(start, Vec::new()).await?;
        return Ok(Walked { fid, qids: Vec::new(), err: None });
    }
    let mut qids = Vec::with_capacity(names.len());
    let mut cur: Option<Fid> = None;
    for chunk in names.chunks(MAXWELEM) {
        let from = cur.as_ref().unwrap_or(start);
        let res = session.walk_partial(from, chunk.to_vec()).await;
        match res {
            Ok((fid, q)) => {
                let full = fid.is_some();
                qids.extend(q);
                if !full {
                    return Ok(Walked { fid: None, qids, err: None });
                }
                cur = fid;
            }
            Err(e) if !qids.is_empty() => return Ok(Walked { fid: None, qids, err: Some(e) }),
            Err(e) => return Err(e),
        }
    }
    Ok(Walked { fid: cur, qids, err: None })
}

/// The error for a walk that stopped early.
fn walk_error(w: &Walked, wanted: usize) -> Error {
    if let Some(e) = &w.err {
        return e.clone();
    }
    match w.qids.last() {
        Some(q) if !q.is_dir() && w.qids.len() < wanted => Error::NotADirectory,
        _ => Error::NotFound,
    }
}

/// A resolved path: its fid, the qid of its last component (None for the
/// root) and its canonical components.
#[derive(Debug)]
pub(crate) struct Resolved {
    pub(crate) fid: Fid,
    pub(crate) qid: Option<Qid>,
    pub(crate) names: Vec<P9String>,
    /// The final object's attributes, when the walk returned them
    /// (Twalkgetattr on `9P2000.L.Z`).
    pub(crate) attr: Option<l::Attr>,
}

/// Resolves `names` from `root` like [`resolve`], on `9P2000.L.Z` in one
/// round trip for up to 16 names: Twalk for all but the last chunk of 16,
/// Twalkgetattr for the last, so the result carries the final object's
/// attributes. A walk that meets a symlink (ENOTDIR from the server, or a
/// final symlink to follow) is redone by [`resolve`], which follows it.
pub(crate) async fn resolve_attr(
    session: &Session,
    root: &Fid,
    names: Vec<P9String>,
    follow_final: bool,
) -> Result<Resolved> {
    if session.dialect() != Dialect::Z {
        return resolve(session, root, names, follow_final).await;
    }
    let split = names.len().saturating_sub(1) / MAXWELEM * MAXWELEM;
    let (head, last) = names.split_at(split);
    let start = if head.is_empty() {
        None
    } else {
        match walk_chunks(session, root, head).await {
            Ok(Walked { fid: Some(f), .. }) => Some(f),
            // Stopped early (a symlink, or missing): the general path.
            Ok(_) | Err(_) => return resolve(session, root, names, follow_final).await,
        }
    };
    let from = start.as_ref().unwrap_or(root);
    match session.walkgetattr(from, last).await {
        Ok((fid, qids, attr)) => {
            let qid = qids.last().copied().or((!names.is_empty()).then_some(attr.qid));
            if follow_final && qid.is_some_and(|q| q.is_symlink()) {
                drop(fid);
                return resolve(session, root, names, follow_final).await;
            }
            Ok(Resolved { fid, qid, names, attr: Some(attr) })
        }
        Err(Error::NotADirectory) => resolve(session, root, names, follow_final).await,
        Err(e) => Err(e),
    }
}

/// Resolves `names` from `root`, following every symlink met on the way
/// (and the final one when `follow_final`), at most 40 of them.
pub(crate) async fn resolve(
    session: &Session,
    root: &Fid,
    mut names: Vec<P9String>,
    follow_final: bool,
) -> Result<Resolved> {
    let mut hops = 0;
    loop {
        let w = walk_chunks(session, root, &names).await?;
        let last = names.len().saturating_sub(1);
        let link_at = w
            .qids
            .iter()
            .enumerate()
            .position(|(i, q)| q.is_symlink() && (i < last || (i == last && follow_final)));
        if let Some(i) = link_at {
            hops += 1;
            if hops > MAX_SYMLINK_HOPS {
                return Err(Error::TooManySymlinks);
            }
            drop(w);
            let target = {
                let lw = walk_chunks(session, root, &names[..=i]).await?;
                let fid = lw.fid.ok_or_else(|| walk_error_owned(lw.err, &lw.qids, i + 1))?;
                crate::op::readlink_any(session, &fid).await?
            };
            names = splice(&names[..i], &target, &names[i + 1..])?;
            continue;
        }
        match w.fid {
            Some(fid) => {
                let qid = w.qids.last().copied();
                return Ok(Resolved { fid, qid, names, attr: None });
            }
            None => return Err(walk_error(&w, names.len())),
        }
    }
}

fn walk_error_owned(err: Option<Error>, qids: &[Qid], wanted: usize) -> Error {
    walk_error(&Walked { fid: None, qids: qids.to_vec(), err }, wanted)
}

/// `dir` + the link `target` + `rest`, with `.` dropped and `..` popping
/// (clamped at the root); an absolute target restarts at the root.
fn splice(dir: &[P9String], target: &[u8], rest: &[P9String]) -> Result<Vec<P9String>> {
    if target.is_empty() {
        return Err(Error::NotFound);
    }
    let mut out: Vec<P9String> = if target.starts_with(b"/") { Vec::new() } else { dir.to_vec() };
    for part in target.split(|&b| b == b'/') {
        match part {
            b"" | b"." => {}
            b".." => {
                out.pop();
            }
            name => {
                check_name(name)?;
                out.push(P9String::from(name));
            }
        }
    }
    out.extend_from_slice(rest);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strs(v: &[P9String]) -> Vec<&[u8]> {
        v.iter().map(|s| s.as_bytes()).collect()
    }

    #[test]
    fn components_rules() {
        assert_eq!(strs(&components(Path::new("/a//./b/")).unwrap()), [&b"a"[..], b"b"]);
        assert!(components(Path::new("")).unwrap().is_empty());
        assert!(components(Path::new("a/../b")).is_err());
        let long = "x".repeat(256);
        assert_eq!(components(Path::new(&long)).unwrap_err(), Error::NameTooLong);
        #[cfg(unix)]
        {
            use std::os::unix::ffi::OsStrExt;
            let p = Path::new(std::ffi::OsStr::from_bytes(b"/caf\xe9"));
            assert_eq!(strs(&components(p).unwrap()), [&b"caf\xe9"[..]]);
        }
    }

    #[test]
    fn splice_rules() {
        let dir: Vec<P9String> = vec!["a".into(), "b".into()];
        let rest: Vec<P9String> = vec!["z".into()];
        assert_eq!(strs(&splice(&dir, b"../c", &rest).unwrap()), [&b"a"[..], b"c", b"z"]);
        assert_eq!(strs(&splice(&dir, b"/x/./y", &[]).unwrap()), [&b"x"[..], b"y"]);
        assert_eq!(strs(&splice(&dir, b"../../../..", &[]).unwrap()), Vec::<&[u8]>::new());
        assert_eq!(join(&[]), Bytes::from_static(b"/"));
        assert_eq!(join(&dir), Bytes::from_static(b"/a/b"));
    }
}
