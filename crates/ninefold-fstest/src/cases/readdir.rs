//! Treaddir: paging, cookies, `.`/`..`, whole entries, DT types, changes
//! during a listing.

use std::collections::{BTreeSet, HashMap};

use ninefold_proto::l::{Dirent, Treaddir};
use ninefold_proto::{DirentType, Errno, OpenFlags, UnlinkatFlags};

use crate::case::cases;
use crate::config::Caps;
use crate::ctx::{open_dir, Ctx};
use crate::expect::{ensure, ensure_eq, expect_err, fail, R};

cases! {
    "readdir/empty_dir", L, Caps::empty(), "an empty directory lists exactly `.` and `..`" => empty_dir;
    "readdir/dots_are_dirs", L, Caps::empty(), "`.` and `..` have type DT_DIR" => dots_are_dirs;
    "readdir/lists_all", L, Caps::empty(), "60 files are each listed exactly once" => lists_all;
    "readdir/paging_counts", L, Caps::empty(), "listing with counts 64..msize-24 gives the same entries, no duplicates, whole entries only" => paging_counts;
    "readdir/cookie_seek", L, Caps::empty(), "Treaddir from every entry's cookie returns exactly the entries after it" => cookie_seek;
    "readdir/rewind", L, Caps::empty(), "offset 0 after a complete listing starts again from the beginning" => rewind;
    "readdir/eof_stays_eof", L, Caps::empty(), "reading again from the last cookie returns an empty Rreaddir" => eof_stays_eof;
    "readdir/cookies_nonzero_unique", L, Caps::empty(), "no entry carries cookie 0 and cookies are distinct" => cookies_nonzero_unique;
    "readdir/dt_types", L, Caps::empty(), "files are DT_REG, directories DT_DIR" => dt_types;
    "readdir/dt_symlink", L, Caps::SYMLINK, "symlinks are DT_LNK" => dt_symlink;
    "readdir/dt_fifo", L, Caps::MKNOD, "FIFOs are DT_FIFO, sockets DT_SOCK" => dt_fifo;
    "readdir/qids_match_walk", L, Caps::empty(), "each entry's qid.path equals the qid.path a walk gives" => qids_match_walk;
    "readdir/added_during", L, Caps::empty(), "entries created mid-listing: no duplicates, every original entry seen" => added_during;
    "readdir/removed_during", L, Caps::empty(), "entries removed mid-listing: no duplicates, every surviving entry seen" => removed_during;
    "readdir/count_too_small", L, Caps::empty(), "a count smaller than one entry: empty Rreaddir or Rlerror EINVAL, never a cut entry" => count_too_small;
    "readdir/on_file", L, Caps::empty(), "Treaddir on an open file: Rlerror ENOTDIR(20)" => on_file;
    "readdir/unopened", L, Caps::empty(), "Treaddir on an unopened directory fid: an error reply (EBADF)" => unopened;
}

fn names(v: &[Dirent]) -> Vec<String> {
    v.iter().map(|e| e.name.to_string_lossy().into_owned()).collect()
}

fn no_dups(v: &[Dirent]) -> R<()> {
    let mut seen = BTreeSet::new();
    for n in names(v) {
        if !seen.insert(n.clone()) {
            return fail(format!("entry {n:?} listed twice"));
        }
    }
    Ok(())
}

async fn populate(cx: &mut Ctx<'_>, n: usize) -> R<()> {
    let d = cx.dir;
    for i in 0..n {
        let (f, _) = cx
            .create(d, &format!("entry-{i:03}-{}", "p".repeat(i % 17)), OpenFlags::RDWR, 0o644)
            .await?;
        cx.clunk(f).await?;
    }
    Ok(())
}

async fn empty_dir(cx: &mut Ctx<'_>) -> R<()> {
    let d = cx.dir;
    let mut n = names(&cx.list(d).await?);
    n.sort();
    ensure_eq("entries", n, vec![".".to_string(), "..".to_string()])
}

async fn dots_are_dirs(cx: &mut Ctx<'_>) -> R<()> {
    let d = cx.dir;
    for e in cx.list(d).await? {
        if &e.name[..] == b"." || &e.name[..] == b".." {
            ensure_eq(&format!("type of {}", e.name), e.ty, DirentType::DIR)?;
        }
    }
    Ok(())
}

async fn lists_all(cx: &mut Ctx<'_>) -> R<()> {
    populate(cx, 60).await?;
    let d = cx.dir;
    let l = cx.list(d).await?;
    no_dups(&l)?;
    ensure_eq(
        "entries besides . and ..",
        l.iter().filter(|e| !e.name.starts_with(b".")).count(),
        60,
    )
}

async fn paging_counts(cx: &mut Ctx<'_>) -> R<()> {
    populate(cx, 40).await?;
    let d = cx.dir;
    let mut full = names(&cx.list(d).await?);
    full.sort();
    let m = cx.msize();
    for count in [64u32, 100, 128, 200, 256, 333, 512, 1000, 4096, m - 24] {
        let f = open_dir(cx, d).await?;
        let l = cx.readdir_all(f, count).await.map_err(|s| s.context(&format!("count {count}")))?;
        cx.clunk(f).await?;
        no_dups(&l).map_err(|s| s.context(&format!("count {count}")))?;
        let mut n = names(&l);
        n.sort();
        ensure_eq(&format!("listing at count {count}"), &n, &full)?;
    }
    Ok(())
}

async fn cookie_seek(cx: &mut Ctx<'_>) -> R<()> {
    populate(cx, 25).await?;
    let d = cx.dir;
    let f = open_dir(cx, d).await?;
    let m = cx.msize() - 24;
    let full = cx.readdir_all(f, m).await?;
    for (i, e) in full.iter().enumerate() {
        let rest = cx.readdir_all_from(f, e.offset, m).await?;
        ensure_eq(
            &format!("entries after cookie of {}", e.name),
            names(&rest),
            names(&full[i + 1..]),
        )?;
    }
    Ok(())
}

async fn rewind(cx: &mut Ctx<'_>) -> R<()> {
    populate(cx, 10).await?;
    let d = cx.dir;
    let f = open_dir(cx, d).await?;
    let a = cx.readdir_all(f, 8192).await?;
    let b = cx.readdir_all(f, 8192).await?;
    ensure_eq("second listing", names(&b), names(&a))
}

async fn eof_stays_eof(cx: &mut Ctx<'_>) -> R<()> {
    populate(cx, 5).await?;
    let d = cx.dir;
    let f = open_dir(cx, d).await?;
    let a = cx.readdir_all(f, 8192).await?;
    let last = a.last().map_or(0, |e| e.offset);
    let again = cx.readdir(f, last, 8192).await?;
    ensure_eq("entries after the last cookie", again.len(), 0)
}

async fn cookies_nonzero_unique(cx: &mut Ctx<'_>) -> R<()> {
    populate(cx, 20).await?;
    let d = cx.dir;
    let l = cx.list(d).await?;
    let mut seen = BTreeSet::new();
    for e in &l {
        ensure(e.offset != 0, || format!("entry {} has cookie 0", e.name))?;
        ensure(seen.insert(e.offset), || format!("cookie {} repeated at {}", e.offset, e.name))?;
    }
    Ok(())
}

async fn dt_types(cx: &mut Ctx<'_>) -> R<()> {
    let d = cx.dir;
    cx.mkfile(d, "file", b"").await?;
    cx.mkdir(d, "dir", 0o755).await?;
    let l = cx.list(d).await?;
    let t: HashMap<_, _> =
        l.iter().map(|e| (e.name.to_string_lossy().into_owned(), e.ty)).collect();
    ensure_eq("type of file", t.get("file").copied(), Some(DirentType::REG))?;
    ensure_eq("type of dir", t.get("dir").copied(), Some(DirentType::DIR))
}

async fn dt_symlink(cx: &mut Ctx<'_>) -> R<()> {
    let d = cx.dir;
    let gid = cx.gid;
    let r = cx
        .rpc(ninefold_proto::l::Tsymlink {
            fid: d,
            name: "ln".into(),
            symtgt: "target".into(),
            gid,
        })
        .await?;
    crate::expect::expect_msg!(r, Rsymlink)?;
    let l = cx.list(d).await?;
    let e = l
        .iter()
        .find(|e| &e.name[..] == b"ln")
        .ok_or_else(|| crate::expect::Stop::Fail("ln not listed".into()))?;
    ensure_eq("type", e.ty, DirentType::LNK)
}

async fn dt_fifo(cx: &mut Ctx<'_>) -> R<()> {
    let d = cx.dir;
    let gid = cx.gid;
    for (name, mode) in [("fifo", ninefold_proto::S_IFIFO), ("sock", ninefold_proto::S_IFSOCK)] {
        let r = cx
            .rpc(ninefold_proto::l::Tmknod {
                dfid: d,
                name: name.into(),
                mode: mode | 0o644,
                major: 0,
                minor: 0,
                gid,
            })
            .await?;
        crate::expect::expect_msg!(r, Rmknod)?;
    }
    let l = cx.list(d).await?;
    let t: HashMap<_, _> =
        l.iter().map(|e| (e.name.to_string_lossy().into_owned(), e.ty)).collect();
    ensure_eq("type of fifo", t.get("fifo").copied(), Some(DirentType::FIFO))?;
    ensure_eq("type of sock", t.get("sock").copied(), Some(DirentType::SOCK))
}

async fn qids_match_walk(cx: &mut Ctx<'_>) -> R<()> {
    let d = cx.dir;
    cx.mkfile(d, "a", b"").await?;
    cx.mkdir(d, "b", 0o755).await?;
    for e in cx.list(d).await? {
        let n = e.name.to_string_lossy().into_owned();
        if n == "." || n == ".." {
            continue;
        }
        let (_, q) = cx.walk_qids(d, &[&n]).await?;
        ensure_eq(&format!("qid.path of {n}"), e.qid.path, q[0].path)?;
    }
    Ok(())
}

async fn added_during(cx: &mut Ctx<'_>) -> R<()> {
    populate(cx, 30).await?;
    let d = cx.dir;
    let before: BTreeSet<String> = names(&cx.list(d).await?).into_iter().collect();
    let f = open_dir(cx, d).await?;
    let first = cx.readdir(f, 0, 300).await?;
    ensure(!first.is_empty(), || "first page empty".into())?;
    for i in 0..10 {
        cx.mkfile(d, &format!("added-{i}"), b"").await?;
    }
    let last = first.last().map_or(0, |e| e.offset);
    let mut all = first.clone();
    all.extend(cx.readdir_all_from(f, last, 300).await?);
    no_dups(&all)?;
    let seen: BTreeSet<String> = names(&all).into_iter().collect();
    let missing: Vec<_> = before.difference(&seen).collect();
    ensure(missing.is_empty(), || format!("original entries not listed: {missing:?}"))
}

async fn removed_during(cx: &mut Ctx<'_>) -> R<()> {
    populate(cx, 30).await?;
    let d = cx.dir;
    let f = open_dir(cx, d).await?;
    let first = cx.readdir(f, 0, 300).await?;
    let first_names: BTreeSet<String> = names(&first).into_iter().collect();
    let all_names = names(&cx.list(d).await?);
    let mut removed = BTreeSet::new();
    for n in
        all_names.iter().filter(|n| !first_names.contains(*n) && n.starts_with("entry")).step_by(2)
    {
        cx.unlink(d, n, UnlinkatFlags::empty()).await?;
        removed.insert(n.clone());
    }
    let last = first.last().map_or(0, |e| e.offset);
    let mut all = first.clone();
    all.extend(cx.readdir_all_from(f, last, 300).await?);
    no_dups(&all)?;
    let seen: BTreeSet<String> = names(&all).into_iter().collect();
    let missing: Vec<_> =
        all_names.iter().filter(|n| !removed.contains(*n) && !seen.contains(*n)).collect();
    ensure(missing.is_empty(), || format!("surviving entries not listed: {missing:?}"))
}

async fn count_too_small(cx: &mut Ctx<'_>) -> R<()> {
    populate(cx, 3).await?;
    let d = cx.dir;
    let f = open_dir(cx, d).await?;
    match cx.rpc(Treaddir { fid: f, offset: 0, count: 10 }).await? {
        ninefold_proto::Message::Rreaddir(r) => ensure_eq("bytes", r.data.len(), 0),
        other => expect_err(&other, &[Errno::EINVAL]).map(|_| ()),
    }
}

async fn on_file(cx: &mut Ctx<'_>) -> R<()> {
    let d = cx.dir;
    cx.mkfile(d, "f", b"abc").await?;
    let f = cx.open_at(d, "f", OpenFlags::RDONLY).await?;
    let r = cx.rpc(Treaddir { fid: f, offset: 0, count: 1000 }).await?;
    expect_err(&r, &[Errno::ENOTDIR]).map(|_| ())
}

async fn unopened(cx: &mut Ctx<'_>) -> R<()> {
    let d = cx.dir;
    let f = cx.clone_fid(d).await?;
    let r = cx.rpc(Treaddir { fid: f, offset: 0, count: 1000 }).await?;
    expect_err(&r, &[Errno::EBADF]).map(|_| ())
}
