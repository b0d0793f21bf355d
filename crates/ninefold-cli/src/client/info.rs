//! Commands that only look: `ls`, `stat`, `df`, `tree`, `du`.

use std::collections::HashSet;
use std::io::Write;
use std::path::{Path, PathBuf};

use ninefold_client::{Client, FileType, Location, Metadata};
use serde_json::Value;

use super::args::{DfArgs, DuArgs, LsArgs, StatArgs, TreeArgs};
use super::format::{self, human, meta_json, mode_string};
use super::walk::{self, Entry, Event, WalkOpts};
use super::{Ctx, Failure};

/// Standard output, with a closed pipe ending the command quietly.
pub(crate) struct Out {
    w: std::io::BufWriter<std::io::StdoutLock<'static>>,
}

impl Out {
    pub(crate) fn new() -> Out {
        Out { w: std::io::BufWriter::new(std::io::stdout().lock()) }
    }

    pub(crate) fn line(&mut self, s: impl std::fmt::Display) -> Result<(), Failure> {
        writeln!(self.w, "{s}").map_err(out_err)
    }

    pub(crate) fn bytes(&mut self, b: &[u8]) -> Result<(), Failure> {
        self.w.write_all(b).map_err(out_err)
    }

    pub(crate) fn flush(&mut self) -> Result<(), Failure> {
        self.w.flush().map_err(out_err)
    }
}

/// A write error on standard output: a closed pipe ends the command with
/// the status a SIGPIPE death would give, and no message.
pub(crate) fn out_err(e: std::io::Error) -> Failure {
    if e.kind() == std::io::ErrorKind::BrokenPipe {
        Failure::Quiet(141)
    } else {
        Failure::local("standard output", &e)
    }
}

/// Resolves an operand to its client, path and location.
pub(crate) async fn open(ctx: &mut Ctx, s: &str) -> Result<(Client, PathBuf, Location), Failure> {
    let loc = ctx.location(s)?;
    let client = ctx.client(&loc).await?;
    Ok((client, PathBuf::from(&loc.path), loc))
}

/// The parent of a remote path (the root is its own parent).
fn parent(p: &Path) -> PathBuf {
    p.parent().map_or_else(|| PathBuf::from("/"), Path::to_path_buf)
}

/// `ls`.
pub(crate) async fn ls(ctx: &mut Ctx, a: LsArgs) -> Result<(), Failure> {
    let mut out = Out::new();
    let mut json: Vec<Value> = Vec::new();
    let need_meta = a.long || a.json;
    let mut files: Vec<(Client, PathBuf, Entry)> = Vec::new();
    let mut dirs: Vec<(Client, PathBuf)> = Vec::new();
    for s in &a.paths {
        let r = async {
            let (client, path, _) = open(ctx, s).await?;
            let show = path.display().to_string();
            let m = if need_meta || a.directory {
                client.stat(&path).await
            } else {
                client.metadata(&path).await
            }
            .map_err(|e| Failure::at(&show, &e))?;
            Ok::<_, Failure>((client, path, m))
        }
        .await;
        let Some((client, path, m)) = ctx.check(r)? else { continue };
        if m.is_dir() && !a.directory {
            dirs.push((client, path));
        } else {
            let name = path.display().to_string();
            let entry = Entry {
                name: name.clone(),
                name_bytes: name.into_bytes().into(),
                ty: m.file_type,
                meta: Some(m),
            };
            files.push((client, PathBuf::new(), entry));
        }
    }
    if !files.is_empty() {
        let lines = render(&a, &files, &mut json).await;
        for l in lines {
            out.line(l)?;
        }
    }
    let headers = a.recursive || dirs.len() + usize::from(!files.is_empty()) > 1;
    let mut first = files.is_empty();
    for (client, root) in dirs {
        // -R: a stack of directories still to list (no recursion).
        let mut stack = vec![root];
        while let Some(dir) = stack.pop() {
            let r = walk::list(&client, &dir, need_meta)
                .await
                .map_err(|e| Failure::at(dir.display(), &e));
            let Some(mut entries) = ctx.check(r)? else { continue };
            entries.retain(|e| a.all || e.name_bytes.first() != Some(&b'.'));
            if a.all {
                for (name, p) in [(".", dir.clone()), ("..", parent(&dir))] {
                    let m = if need_meta { client.stat(&p).await.ok() } else { None };
                    let e = Entry {
                        name: name.into(),
                        name_bytes: name.as_bytes().to_vec().into(),
                        ty: FileType::Dir,
                        meta: m,
                    };
                    entries.insert(usize::from(name == ".."), e);
                }
            }
            if a.recursive {
                for e in entries.iter().rev() {
                    if e.ty == FileType::Dir && e.name != "." && e.name != ".." {
                        stack.push(walk::child(&dir, &e.name_bytes));
                    }
                }
            }
            let rows: Vec<_> =
                entries.into_iter().map(|e| (client.clone(), dir.clone(), e)).collect();
            let lines = render(&a, &rows, &mut json).await;
            if a.json {
                continue;
            }
            if headers {
                if !first {
                    out.line("")?;
                }
                out.line(format_args!("{}:", dir.display()))?;
            }
            first = false;
            if a.long {
                let total: u64 = rows.iter().filter_map(|r| r.2.meta).map(|m| m.blocks * 512).sum();
                out.line(format_args!(
                    "total {}",
                    if a.human { human(total) } else { total.div_ceil(1024).to_string() }
                ))?;
            }
            for l in lines {
                out.line(l)?;
            }
        }
    }
    if a.json {
        out.line(Value::Array(json))?;
    }
    out.flush()
}

/// Lines of a listing (or JSON objects appended to `json`); rows are
/// (client, directory, entry), the directory empty for file operands.
async fn render(
    a: &LsArgs,
    rows: &[(Client, PathBuf, Entry)],
    json: &mut Vec<Value>,
) -> Vec<String> {
    let mut links = Vec::with_capacity(rows.len());
    for (client, dir, e) in rows {
        let link = if e.ty == FileType::Symlink && (a.long || a.json) {
            let p = if dir.as_os_str().is_empty() {
                PathBuf::from(&e.name)
            } else {
                walk::child(dir, &e.name_bytes)
            };
            client.read_link(&p).await.ok().map(|b| String::from_utf8_lossy(&b).into_owned())
        } else {
            None
        };
        links.push(link);
    }
    if a.json {
        for ((_, dir, e), link) in rows.iter().zip(&links) {
            let path = if dir.as_os_str().is_empty() {
                e.name.clone()
            } else {
                walk::child(dir, &e.name_bytes).display().to_string()
            };
            if let Some(m) = &e.meta {
                json.push(meta_json(&path, Some(&e.name), m, link.as_deref()));
            }
        }
        return Vec::new();
    }
    if !a.long {
        return rows.iter().map(|r| r.2.name.clone()).collect();
    }
    let size = |m: &Metadata| if a.human { human(m.size) } else { m.size.to_string() };
    let w_link =
        rows.iter().filter_map(|r| r.2.meta).map(|m| m.nlink.to_string().len()).max().unwrap_or(1);
    let w_uid =
        rows.iter().filter_map(|r| r.2.meta).map(|m| m.uid.to_string().len()).max().unwrap_or(1);
    let w_gid =
        rows.iter().filter_map(|r| r.2.meta).map(|m| m.gid.to_string().len()).max().unwrap_or(1);
    let w_size = rows.iter().filter_map(|r| r.2.meta).map(|m| size(&m).len()).max().unwrap_or(1);
    rows.iter()
        .zip(&links)
        .map(|((_, _, e), link)| match &e.meta {
            Some(m) => {
                let mut s = format!(
                    "{} {:>w_link$} {:>w_uid$} {:>w_gid$} {:>w_size$} {} {}",
                    mode_string(m.file_type, m.mode),
                    m.nlink,
                    m.uid,
                    m.gid,
                    size(m),
                    format::short_time(m.mtime),
                    e.name
                );
                if let Some(l) = link {
                    s.push_str(" -> ");
                    s.push_str(l);
                }
                s
            }
            None => format!("?????????? ? ? ? ? ? {}", e.name),
        })
        .collect()
}

/// `stat`.
pub(crate) async fn stat(ctx: &mut Ctx, a: StatArgs) -> Result<(), Failure> {
    let mut out = Out::new();
    for s in &a.paths {
        let r = async {
            let (client, path, _) = open(ctx, s).await?;
            let show = path.display().to_string();
            let m = if a.follow { client.metadata(&path).await } else { client.stat(&path).await }
                .map_err(|e| Failure::at(&show, &e))?;
            let link = if m.is_symlink() {
                client.read_link(&path).await.ok().map(|b| String::from_utf8_lossy(&b).into_owned())
            } else {
                None
            };
            Ok::<_, Failure>((show, m, link))
        }
        .await;
        let Some((show, m, link)) = ctx.check(r)? else { continue };
        if a.json {
            out.line(meta_json(&show, None, &m, link.as_deref()))?;
            continue;
        }
        match &link {
            Some(l) => out.line(format_args!("  File: {show} -> {l}"))?,
            None => out.line(format_args!("  File: {show}"))?,
        }
        out.line(format_args!(
            "  Size: {:<15} Blocks: {:<10} IO Block: {:<6} {}",
            m.size,
            m.blocks,
            m.block_size,
            format::type_name(m.file_type)
        ))?;
        out.line(format_args!("Inode: {:<15} Links: {}", m.ino, m.nlink))?;
        out.line(format_args!(
            "Access: ({:04o}/{})  Uid: ({:>5})   Gid: ({:>5})",
            m.permissions(),
            mode_string(m.file_type, m.mode),
            m.uid,
            m.gid
        ))?;
        out.line(format_args!("Access: {}", format::long_time(m.atime)))?;
        out.line(format_args!("Modify: {}", format::long_time(m.mtime)))?;
        out.line(format_args!("Change: {}", format::long_time(m.ctime)))?;
    }
    out.flush()
}

/// `df`.
pub(crate) async fn df(ctx: &mut Ctx, a: DfArgs) -> Result<(), Failure> {
    let mut out = Out::new();
    let mut rows = Vec::new();
    for s in &a.paths {
        let r = async {
            let loc = ctx.location(s)?;
            let client = ctx.client(&loc).await?;
            let server = loc.target.to_string();
            let st = client.statfs().await.map_err(|e| Failure::at(&server, &e))?;
            Ok::<_, Failure>((server, st))
        }
        .await;
        if let Some(row) = ctx.check(r)? {
            rows.push(row);
        }
    }
    if a.json {
        for (server, st) in &rows {
            out.line(format::statfs_json(server, st))?;
        }
        return out.flush();
    }
    let mut table = vec![if a.inodes {
        ["Filesystem", "Inodes", "IUsed", "IFree", "IUse%"].map(String::from)
    } else if a.human {
        ["Filesystem", "Size", "Used", "Avail", "Use%"].map(String::from)
    } else {
        ["Filesystem", "1K-blocks", "Used", "Available", "Use%"].map(String::from)
    }];
    for (server, st) in &rows {
        let bs = u64::from(st.block_size);
        let (total, free, avail) = if a.inodes {
            (st.files, st.files_free, st.files_free)
        } else {
            (st.blocks * bs, st.blocks_free * bs, st.blocks_available * bs)
        };
        let used = total.saturating_sub(free);
        let pct = if used + avail == 0 {
            "-".to_string()
        } else {
            format!("{}%", (used * 100).div_ceil(used + avail))
        };
        let show = |n: u64| {
            if a.inodes {
                n.to_string()
            } else if a.human {
                human(n)
            } else {
                n.div_ceil(1024).to_string()
            }
        };
        table.push([server.clone(), show(total), show(used), show(avail), pct]);
    }
    let widths: Vec<usize> =
        (0..5).map(|i| table.iter().map(|r| r[i].len()).max().unwrap_or(0)).collect();
    for r in &table {
        out.line(format_args!(
            "{:<w0$} {:>w1$} {:>w2$} {:>w3$} {:>w4$}",
            r[0],
            r[1],
            r[2],
            r[3],
            r[4],
            w0 = widths[0],
            w1 = widths[1],
            w2 = widths[2],
            w3 = widths[3],
            w4 = widths[4]
        ))?;
    }
    out.flush()
}

/// `tree`.
pub(crate) async fn tree(ctx: &mut Ctx, a: TreeArgs) -> Result<(), Failure> {
    let mut out = Out::new();
    let (mut ndirs, mut nfiles) = (0u64, 0u64);
    for s in &a.paths {
        let r = async {
            let (client, path, _) = open(ctx, s).await?;
            let m = client.metadata(&path).await.map_err(|e| Failure::at(path.display(), &e))?;
            Ok::<_, Failure>((client, path, m))
        }
        .await;
        let Some((client, path, m)) = ctx.check(r)? else { continue };
        let opts = WalkOpts { meta: false, skip_hidden: !a.all, max_depth: a.level };
        let (events, errors) = walk::walk(&client, &path, m, opts).await;
        let mut lasts: Vec<bool> = Vec::new();
        for ev in events {
            let Event::Enter(item) = ev else { continue };
            if item.depth == 0 {
                out.line(path.display())?;
                continue;
            }
            lasts.truncate(item.depth - 1);
            let mut line = String::new();
            for &l in &lasts {
                line.push_str(if l { "    " } else { "│   " });
            }
            line.push_str(if item.last { "└── " } else { "├── " });
            line.push_str(
                &item.rel.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default(),
            );
            if item.ty == FileType::Symlink {
                if let Ok(t) = client.read_link(&item.path).await {
                    line.push_str(" -> ");
                    line.push_str(&String::from_utf8_lossy(&t));
                }
            }
            lasts.push(item.last);
            if item.ty == FileType::Dir {
                ndirs += 1;
            } else {
                nfiles += 1;
            }
            out.line(line)?;
        }
        for f in errors {
            ctx.report(f)?;
        }
    }
    let plural = |n: u64, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
    out.line("")?;
    out.line(format_args!(
        "{}, {}",
        plural(ndirs, "directory", "directories"),
        plural(nfiles, "file", "files")
    ))?;
    out.flush()
}

/// `du`.
pub(crate) async fn du(ctx: &mut Ctx, a: DuArgs) -> Result<(), Failure> {
    let mut out = Out::new();
    let show = |n: u64| {
        if a.human {
            human(n)
        } else if a.bytes {
            n.to_string()
        } else {
            n.div_ceil(1024).to_string()
        }
    };
    for s in &a.paths {
        let r = async {
            let (client, path, _) = open(ctx, s).await?;
            let m = client.stat(&path).await.map_err(|e| Failure::at(path.display(), &e))?;
            Ok::<_, Failure>((client, path, m))
        }
        .await;
        let Some((client, path, m)) = ctx.check(r)? else { continue };
        let opts = WalkOpts { meta: true, skip_hidden: false, max_depth: None };
        let (events, errors) = walk::walk(&client, &path, m, opts).await;
        let size = |m: &Metadata| if a.bytes { m.size } else { m.blocks * 512 };
        let mut seen = HashSet::new();
        // One running total per open directory (an explicit stack).
        let mut totals: Vec<u64> = Vec::new();
        for ev in events {
            match ev {
                Event::Enter(item) => {
                    let Some(m) = item.meta else { continue };
                    let counted = m.nlink <= 1 || m.is_dir() || seen.insert(m.ino);
                    let own = if counted { size(&m) } else { 0 };
                    if item.ty == FileType::Dir {
                        totals.push(own);
                    } else {
                        if let Some(t) = totals.last_mut() {
                            *t += own;
                        }
                        if item.depth == 0 || (a.all && !a.summarize) {
                            out.line(format_args!("{}\t{}", show(own), item.path.display()))?;
                        }
                    }
                }
                Event::Exit(p) => {
                    let t = totals.pop().unwrap_or(0);
                    if let Some(up) = totals.last_mut() {
                        *up += t;
                    }
                    if !a.summarize || totals.is_empty() {
                        out.line(format_args!("{}\t{}", show(t), p.display()))?;
                    }
                }
            }
        }
        for f in errors {
            ctx.report(f)?;
        }
    }
    out.flush()
}
