//! Commands that change the namespace or metadata: `mkdir`, `rm`, `mv`,
//! `ln`, `chmod`, `chown`, `touch`, `truncate`.

use std::path::{Path, PathBuf};

use ninefold_client::{Client, Errno, Error, FileType, OpenOptions, SetAttrs, SetTime, Timestamp};

use super::args::{
    ChmodArgs, ChownArgs, LnArgs, MkdirArgs, MvArgs, RmArgs, TouchArgs, TruncateArgs,
};
use super::info::open;
use super::walk::{self, Event, WalkOpts};
use super::{Ctx, Failure};

/// A remote path from the bytes the client returns.
fn bytes_path(b: &[u8]) -> PathBuf {
    use std::os::unix::ffi::OsStrExt;
    let p = Path::new(std::ffi::OsStr::from_bytes(b));
    Path::new("/").join(p)
}

/// `mkdir`.
pub(crate) async fn mkdir(ctx: &mut Ctx, a: MkdirArgs) -> Result<(), Failure> {
    let mode = match &a.mode {
        Some(m) => parse_mode(m, 0o777, true)?,
        None => 0o755,
    };
    for s in &a.paths {
        let r = async {
            let (client, path, _) = open(ctx, s).await?;
            let r = if a.parents {
                client.create_dir_all(&path, mode).await
            } else {
                client.create_dir(&path, mode).await.map(|_| ())
            };
            r.map_err(|e| Failure::at(path.display(), &e))
        }
        .await;
        ctx.check(r)?;
    }
    Ok(())
}

/// `rm`.
pub(crate) async fn rm(ctx: &mut Ctx, a: RmArgs) -> Result<(), Failure> {
    for s in &a.paths {
        let r = async {
            let (client, path, _) = open(ctx, s).await?;
            let show = path.display().to_string();
            if path.parent().is_none() {
                return Err(Failure::At { what: show, msg: "refusing to remove the root".into() });
            }
            let m = match client.stat(&path).await {
                Ok(m) => m,
                Err(Error::NotFound) if a.force => return Ok(()),
                Err(e) => return Err(Failure::at(&show, &e)),
            };
            let r = if m.is_dir() {
                if a.recursive {
                    client.remove_dir_all(&path).await
                } else if a.dir {
                    client.remove_dir(&path).await
                } else {
                    Err(Error::IsADirectory)
                }
            } else {
                client.remove_file(&path).await
            };
            match r {
                Err(Error::NotFound) if a.force => Ok(()),
                r => r.map_err(|e| Failure::at(&show, &e)),
            }
        }
        .await;
        ctx.check(r)?;
    }
    Ok(())
}

/// The last component of a remote path.
fn base(p: &Path) -> Option<&std::ffi::OsStr> {
    p.file_name()
}

/// `mv`.
pub(crate) async fn mv(ctx: &mut Ctx, a: MvArgs) -> Result<(), Failure> {
    let (dest_s, srcs) =
        a.operands.split_last().ok_or_else(|| Failure::usage("missing operands"))?;
    let dest = ctx.location(dest_s)?;
    let client = ctx.client(&dest).await?;
    let dpath = PathBuf::from(&dest.path);
    let into_dir = matches!(client.metadata(&dpath).await, Ok(m) if m.is_dir());
    if srcs.len() > 1 && !into_dir {
        return Err(Failure::errno(dpath.display(), Errno::ENOTDIR));
    }
    for s in srcs {
        let r = async {
            let loc = ctx.location(s)?;
            let spath = PathBuf::from(&loc.path);
            if loc.target != dest.target {
                return Err(Failure::At {
                    what: s.clone(),
                    msg: "cannot move between servers (use cp, then rm)".into(),
                });
            }
            let to = match (into_dir, base(&spath)) {
                (true, Some(b)) => dpath.join(b),
                (true, None) => return Err(Failure::errno(spath.display(), Errno::EBUSY)),
                (false, _) => dpath.clone(),
            };
            client.rename(&spath, &to).await.map_err(|e| Failure::at(spath.display(), &e))
        }
        .await;
        ctx.check(r)?;
    }
    Ok(())
}

/// `ln`.
pub(crate) async fn ln(ctx: &mut Ctx, a: LnArgs) -> Result<(), Failure> {
    let link = ctx.location(&a.link)?;
    let client = ctx.client(&link).await?;
    let mut lpath = PathBuf::from(&link.path);
    if matches!(client.metadata(&lpath).await, Ok(m) if m.is_dir()) {
        let name = if a.symbolic {
            Path::new(&a.target).file_name().map(ToOwned::to_owned)
        } else {
            Path::new(&ctx.location(&a.target)?.path).file_name().map(ToOwned::to_owned)
        };
        if let Some(n) = name {
            lpath.push(n);
        }
    }
    let show = lpath.display().to_string();
    if a.force {
        match client.stat(&lpath).await {
            Ok(m) if m.is_dir() => return Err(Failure::errno(&show, Errno::EISDIR)),
            Ok(_) => client.remove_file(&lpath).await.map_err(|e| Failure::at(&show, &e))?,
            Err(_) => {}
        }
    }
    let r = if a.symbolic {
        client.symlink(&a.target, &lpath).await
    } else {
        let t = ctx.location(&a.target)?;
        if t.target != link.target {
            return Err(Failure::errno(&a.target, Errno::EXDEV));
        }
        client.hard_link(&t.path, &lpath).await
    };
    r.map(|_| ()).map_err(|e| Failure::at(&show, &e))
}

/// Applies `change` to each operand (following a final symlink), or with
/// `recursive` to each object of its tree (symlinks inside are skipped).
async fn each_target(
    ctx: &mut Ctx,
    paths: &[String],
    recursive: bool,
    change: &(dyn Fn(u32) -> Result<SetAttrs, Failure> + Sync),
) -> Result<(), Failure> {
    for s in paths {
        let r = async {
            let (client, path, _) = open(ctx, s).await?;
            let show = path.display().to_string();
            let canon = client.canonicalize(&path).await.map_err(|e| Failure::at(&show, &e))?;
            let canon = bytes_path(&canon);
            let m = client.stat(&canon).await.map_err(|e| Failure::at(&show, &e))?;
            Ok::<_, Failure>((client, canon, m))
        }
        .await;
        let Some((client, root, m)) = ctx.check(r)? else { continue };
        let mut targets = vec![(root.clone(), m.mode)];
        if recursive && m.is_dir() {
            let (events, errors) = walk::walk(
                &client,
                &root,
                m,
                WalkOpts { meta: true, skip_hidden: false, max_depth: None },
            )
            .await;
            targets.clear();
            for ev in events {
                if let Event::Enter(item) = ev {
                    if let (Some(m), false) = (item.meta, item.ty == FileType::Symlink) {
                        targets.push((item.path, m.mode));
                    }
                }
            }
            for f in errors {
                ctx.report(f)?;
            }
        }
        for (p, mode) in targets {
            let r = async {
                let attrs = change(mode)?;
                set_attr(&client, &p, attrs).await
            }
            .await;
            ctx.check(r)?;
        }
    }
    Ok(())
}

async fn set_attr(client: &Client, p: &Path, attrs: SetAttrs) -> Result<(), Failure> {
    client.set_attr(p, attrs).await.map(|_| ()).map_err(|e| Failure::at(p.display(), &e))
}

/// `chmod`.
pub(crate) async fn chmod(ctx: &mut Ctx, a: ChmodArgs) -> Result<(), Failure> {
    // Checked once up front: a bad mode is a usage error.
    parse_mode(&a.mode, 0, false)?;
    let spec = a.mode.clone();
    let change = move |mode: u32| {
        let is_dir = mode & 0o170000 == 0o040000;
        Ok(SetAttrs {
            mode: Some(parse_mode(&spec, mode & 0o7777, is_dir)?),
            ..SetAttrs::default()
        })
    };
    each_target(ctx, &a.paths, a.recursive, &change).await
}

/// `chown`.
pub(crate) async fn chown(ctx: &mut Ctx, a: ChownArgs) -> Result<(), Failure> {
    let bad = || Failure::usage(format!("invalid owner {:?} (numeric UID[:GID] or :GID)", a.owner));
    let num = |s: &str| {
        if s.is_empty() {
            Ok(None)
        } else {
            s.parse::<u32>().map(Some).map_err(|_| bad())
        }
    };
    let (uid, gid) = match a.owner.split_once(':') {
        Some((u, g)) => (num(u)?, num(g)?),
        None => (num(&a.owner)?, None),
    };
    if uid.is_none() && gid.is_none() {
        return Err(bad());
    }
    let change = move |_| Ok(SetAttrs { uid, gid, ..SetAttrs::default() });
    each_target(ctx, &a.paths, a.recursive, &change).await
}

/// Creates `path` as an empty file unless it exists; returns the path to
/// change (symlinks resolved).
async fn existing_or_new(
    client: &Client,
    path: &Path,
    create: bool,
) -> Result<Option<PathBuf>, Error> {
    match client.canonicalize(path).await {
        Ok(c) => Ok(Some(bytes_path(&c))),
        Err(Error::NotFound) if create => {
            let f = client.open(path, OpenOptions::new().write(true).create(true)).await?;
            f.close().await?;
            Ok(Some(path.to_path_buf()))
        }
        Err(Error::NotFound) => Ok(None),
        Err(e) => Err(e),
    }
}

/// `touch`.
pub(crate) async fn touch(ctx: &mut Ctx, a: TouchArgs) -> Result<(), Failure> {
    let when = match &a.date {
        None => SetTime::Now,
        Some(d) => {
            let secs: i64 = d.trim_start_matches('@').parse().map_err(|_| {
                Failure::usage(format!("invalid date {d:?} (use @SECONDS since the epoch)"))
            })?;
            SetTime::At(Timestamp { secs, nanos: 0 })
        }
    };
    let (atime, mtime) = match (a.atime_only, a.mtime_only) {
        (true, false) => (Some(when), None),
        (false, true) => (None, Some(when)),
        _ => (Some(when), Some(when)),
    };
    for s in &a.paths {
        let r = async {
            let (client, path, _) = open(ctx, s).await?;
            let show = path.display().to_string();
            let Some(p) = existing_or_new(&client, &path, !a.no_create)
                .await
                .map_err(|e| Failure::at(&show, &e))?
            else {
                return Ok(());
            };
            set_attr(&client, &p, SetAttrs { atime, mtime, ..SetAttrs::default() }).await
        }
        .await;
        ctx.check(r)?;
    }
    Ok(())
}

/// `truncate`.
pub(crate) async fn truncate(ctx: &mut Ctx, a: TruncateArgs) -> Result<(), Failure> {
    let size = parse_size(&a.size)?;
    for s in &a.paths {
        let r = async {
            let (client, path, _) = open(ctx, s).await?;
            let show = path.display().to_string();
            let Some(p) = existing_or_new(&client, &path, !a.no_create)
                .await
                .map_err(|e| Failure::at(&show, &e))?
            else {
                return Ok(());
            };
            let m = client.stat(&p).await.map_err(|e| Failure::at(&show, &e))?;
            if m.is_dir() {
                return Err(Failure::errno(&show, Errno::EISDIR));
            }
            set_attr(&client, &p, SetAttrs { size: Some(size), ..SetAttrs::default() }).await
        }
        .await;
        ctx.check(r)?;
    }
    Ok(())
}

/// `4096`, `10K`, `1M`, `2G`, `1T` (powers of 1024; `KiB`/`KB` spellings too).
pub(crate) fn parse_size(s: &str) -> Result<u64, Failure> {
    let bad = || Failure::usage(format!("invalid size {s:?}"));
    let t = s.trim();
    let i = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (num, unit) = t.split_at(i);
    let n: u64 = num.parse().map_err(|_| bad())?;
    let mult: u64 = match unit.trim_end_matches("iB").trim_end_matches('B') {
        "" => 1,
        "K" | "k" => 1 << 10,
        "M" => 1 << 20,
        "G" => 1 << 30,
        "T" => 1 << 40,
        _ => return Err(bad()),
    };
    n.checked_mul(mult).ok_or_else(bad)
}

/// An octal mode, or symbolic clauses (`u+x,go-w`, `a=rX`, `g=u`) applied
/// to `current` (permission bits). An empty "who" means `a`.
pub(crate) fn parse_mode(spec: &str, current: u32, is_dir: bool) -> Result<u32, Failure> {
    let bad = || Failure::usage(format!("invalid mode: {spec:?}"));
    if !spec.is_empty() && spec.bytes().all(|b| (b'0'..=b'7').contains(&b)) {
        let m = u32::from_str_radix(spec, 8).map_err(|_| bad())?;
        return if m > 0o7777 { Err(bad()) } else { Ok(m) };
    }
    let mut mode = current & 0o7777;
    for clause in spec.split(',') {
        let mut chars = clause.chars().peekable();
        let mut who = 0u32;
        while let Some(&c) = chars.peek() {
            who |= match c {
                'u' => 0o4700,
                'g' => 0o2070,
                'o' => 0o1007,
                'a' => 0o7777,
                _ => break,
            };
            chars.next();
        }
        if who == 0 {
            who = 0o7777;
        }
        let mut any_op = false;
        while let Some(op) = chars.next() {
            if !matches!(op, '+' | '-' | '=') {
                return Err(bad());
            }
            any_op = true;
            let mut bits = 0u32;
            while let Some(&c) = chars.peek() {
                if matches!(c, '+' | '-' | '=') {
                    break;
                }
                chars.next();
                bits |= match c {
                    'r' => 0o444,
                    'w' => 0o222,
                    'x' => 0o111,
                    'X' if is_dir || mode & 0o111 != 0 => 0o111,
                    'X' => 0,
                    's' => 0o6000,
                    't' => 0o1000,
                    'u' => copy_class((mode >> 6) & 7),
                    'g' => copy_class((mode >> 3) & 7),
                    'o' => copy_class(mode & 7),
                    _ => return Err(bad()),
                };
            }
            let bits = bits & who;
            match op {
                '+' => mode |= bits,
                '-' => mode &= !bits,
                _ => mode = (mode & !who) | bits,
            }
        }
        if !any_op {
            return Err(bad());
        }
    }
    Ok(mode)
}

/// rwx bits of one class copied to all three.
fn copy_class(c: u32) -> u32 {
    c << 6 | c << 3 | c
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes() {
        assert_eq!(parse_mode("755", 0, false).unwrap(), 0o755);
        assert_eq!(parse_mode("u+x", 0o644, false).unwrap(), 0o744);
        assert_eq!(parse_mode("go-w,u=rw", 0o777, false).unwrap(), 0o655);
        assert_eq!(parse_mode("a=rX", 0o700, true).unwrap(), 0o555);
        assert_eq!(parse_mode("a=rX", 0o600, false).unwrap(), 0o444);
        assert_eq!(parse_mode("+t", 0o777, true).unwrap(), 0o1777);
        assert_eq!(parse_mode("g=u", 0o700, false).unwrap(), 0o770);
        assert!(parse_mode("u+q", 0, false).is_err());
        assert!(parse_mode("88", 0, false).is_err());
        assert!(parse_mode("u", 0, false).is_err());
    }

    #[test]
    fn sizes() {
        assert_eq!(parse_size("10").unwrap(), 10);
        assert_eq!(parse_size("4K").unwrap(), 4096);
        assert_eq!(parse_size("1MiB").unwrap(), 1 << 20);
        assert!(parse_size("1Q").is_err());
        assert!(parse_size("-1").is_err());
    }
}
