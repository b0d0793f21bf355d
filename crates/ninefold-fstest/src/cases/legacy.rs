//! The core set for 9P2000 and 9P2000.u: Topen/Tcreate, Tread on
//! directories (stat records), Tstat/Twstat, Tremove, Rerror (with errno
//! in .u). Each case runs once per dialect (`u/...` and `base/...`).

use bytes::Bytes;
use ninefold_proto::base::{Rerror, Stat, Tcreate, Topen, Tread, Tremove, Tstat, Twrite, Twstat};
use ninefold_proto::{dir, DirMode, Errno, Message, OpenMode, P9String, QidType};

use crate::case::cases;
use crate::config::Caps;
use crate::ctx::Ctx;
use crate::expect::{describe, ensure, ensure_eq, expect_msg, fail, Stop, R};
use crate::session::{twalk, Session};

/// Creates the scratch directory with Tcreate(DMDIR) and returns an
/// unopened fid on it.
pub(crate) async fn make_scratch(s: &mut Session, name: &str) -> R<u32> {
    let root = s.root;
    let f = s.clone_fid(root).await?;
    tcreate(s, f, name, DirMode::DIR.bits() | 0o755, OpenMode::READ, "").await?;
    s.clunk(f).await?;
    s.walk(root, &[name]).await
}

/// Tcreate, expecting Rcreate.
async fn tcreate(
    s: &mut Session,
    fid: u32,
    name: &str,
    perm: u32,
    mode: OpenMode,
    ext: &str,
) -> R<()> {
    let reply = s
        .rpc(Tcreate {
            fid,
            name: name.into(),
            perm: DirMode::from_bits_retain(perm),
            mode,
            extension: ext.into(),
        })
        .await?;
    expect_msg!(reply, Rcreate).map_err(|st| st.context(&format!("Tcreate {name:?}")))?;
    Ok(())
}

async fn topen(s: &mut Session, fid: u32, mode: OpenMode) -> R<()> {
    let reply = s.rpc(Topen { fid, mode }).await?;
    expect_msg!(reply, Ropen).map_err(|st| st.context(&format!("Topen {mode:?}")))?;
    Ok(())
}

async fn tstat(s: &mut Session, fid: u32) -> R<Stat> {
    let reply = s.rpc(Tstat { fid }).await?;
    Ok(expect_msg!(reply, Rstat).map_err(|st| st.context("Tstat"))?.stat)
}

/// Reads every stat record of the directory `dir` (clone, Topen, Tread).
async fn read_dir(s: &mut Session, dir: u32, count: u32) -> R<Vec<Stat>> {
    let f = s.clone_fid(dir).await?;
    topen(s, f, OpenMode::READ).await?;
    let d = s.c.dialect();
    let mut out = Vec::new();
    let mut offset = 0u64;
    loop {
        let reply = s.rpc(Tread { fid: f, offset, count }).await?;
        let r = expect_msg!(reply, Rread).map_err(|st| st.context("Tread on a directory"))?;
        if r.data.is_empty() {
            break;
        }
        offset += r.data.len() as u64;
        for st in dir::read_stats(&r.data, d) {
            out.push(st.map_err(|e| {
                Stop::Fail(format!("directory data is not whole stat records: {e}"))
            })?);
        }
        if out.len() > 100_000 {
            return fail("directory read never ends");
        }
    }
    s.clunk(f).await?;
    Ok(out)
}

/// Removes the scratch directory `name` and everything in it.
pub(crate) async fn remove_tree(s: &mut Session, name: &str) -> R<()> {
    let root = s.root;
    let d = s.walk(root, &[name]).await?;
    rm_inside(s, d).await?;
    let reply = s.rpc(Tremove { fid: d }).await?;
    expect_msg!(reply, Rremove).map_err(|st| st.context("Tremove scratch"))?;
    Ok(())
}

fn rm_inside<'a>(
    s: &'a mut Session,
    dir: u32,
) -> std::pin::Pin<Box<dyn std::future::Future<Output = R<()>> + Send + 'a>> {
    Box::pin(async move {
        for st in read_dir(s, dir, 8192).await? {
            let name = st.name.to_string_lossy().into_owned();
            if name == "." || name == ".." {
                continue;
            }
            let f = s.walk(dir, &[&name]).await?;
            if st.qid.ty.contains(QidType::DIR) {
                rm_inside(s, f).await?;
            }
            let reply = s.rpc(Tremove { fid: f }).await?;
            expect_msg!(reply, Rremove).map_err(|e| e.context(&format!("Tremove {name:?}")))?;
        }
        Ok(())
    })
}

/// Expects an Rerror; in .u its errno must be `want` (in 9P2000 only the
/// string travels, and it must be non-empty).
fn expect_rerror(cx: &Ctx<'_>, m: &Message, want: Errno) -> R<()> {
    match m {
        Message::Rerror(Rerror { ename, errno }) => {
            ensure(!ename.is_empty(), || "Rerror with an empty ename".into())?;
            if cx.dialect() == ninefold_proto::Dialect::U && *errno != want {
                return fail(format!(
                    "expected Rerror errno {}, got {}",
                    crate::expect::errno_str(want),
                    describe(m)
                ));
            }
            Ok(())
        }
        other => fail(format!(
            "expected Rerror {}, got {}",
            crate::expect::errno_str(want),
            describe(other)
        )),
    }
}

cases! {
    "u/create_write_read", U, Caps::empty(), "Tcreate ORDWR, Twrite, Tread give the bytes back; Rcreate qid is a file" => create_write_read;
    "base/create_write_read", Base, Caps::empty(), "Tcreate ORDWR, Twrite, Tread give the bytes back; Rcreate qid is a file" => create_write_read;
    "u/open_modes", U, Caps::empty(), "Topen OREAD forbids Twrite, OWRITE forbids Tread (Rerror)" => open_modes;
    "base/open_modes", Base, Caps::empty(), "Topen OREAD forbids Twrite, OWRITE forbids Tread (Rerror)" => open_modes;
    "u/open_trunc", U, Caps::empty(), "Topen OWRITE|OTRUNC empties the file" => open_trunc;
    "base/open_trunc", Base, Caps::empty(), "Topen OWRITE|OTRUNC empties the file" => open_trunc;
    "u/mkdir_and_list", U, Caps::empty(), "Tcreate DMDIR makes a directory; Tread on it returns whole stat records naming every entry" => mkdir_and_list;
    "base/mkdir_and_list", Base, Caps::empty(), "Tcreate DMDIR makes a directory; Tread on it returns whole stat records naming every entry" => mkdir_and_list;
    "u/dir_read_small_counts", U, Caps::empty(), "directory Tread with small counts still returns whole records and the same listing" => dir_read_small_counts;
    "base/dir_read_small_counts", Base, Caps::empty(), "directory Tread with small counts still returns whole records and the same listing" => dir_read_small_counts;
    "u/stat_file", U, Caps::empty(), "Tstat gives name, length, mode perm and a file qid" => stat_file;
    "base/stat_file", Base, Caps::empty(), "Tstat gives name, length, mode perm and a file qid" => stat_file;
    "u/wstat_rename", U, Caps::empty(), "Twstat with a new name (rest don't-touch) renames within the directory" => wstat_rename;
    "base/wstat_rename", Base, Caps::empty(), "Twstat with a new name (rest don't-touch) renames within the directory" => wstat_rename;
    "u/wstat_chmod", U, Caps::empty(), "Twstat mode changes the permission bits" => wstat_chmod;
    "base/wstat_chmod", Base, Caps::empty(), "Twstat mode changes the permission bits" => wstat_chmod;
    "u/wstat_truncate", U, Caps::empty(), "Twstat length truncates" => wstat_truncate;
    "base/wstat_truncate", Base, Caps::empty(), "Twstat length truncates" => wstat_truncate;
    "u/wstat_sync", U, Caps::empty(), "Twstat with every field don't-touch succeeds (sync)" => wstat_sync;
    "base/wstat_sync", Base, Caps::empty(), "Twstat with every field don't-touch succeeds (sync)" => wstat_sync;
    "u/remove_file", U, Caps::empty(), "Tremove deletes the file and clunks the fid" => remove_file;
    "base/remove_file", Base, Caps::empty(), "Tremove deletes the file and clunks the fid" => remove_file;
    "u/remove_nonempty", U, Caps::empty(), "Tremove of a non-empty directory: Rerror ENOTEMPTY(39)" => remove_nonempty;
    "base/remove_nonempty", Base, Caps::empty(), "Tremove of a non-empty directory: Rerror ENOTEMPTY(39)" => remove_nonempty;
    "u/walk_missing", U, Caps::empty(), "walking a missing name: Rerror ENOENT(2) with a non-empty ename" => walk_missing;
    "base/walk_missing", Base, Caps::empty(), "walking a missing name: Rerror ENOENT(2) with a non-empty ename" => walk_missing;
    "u/create_exists", U, Caps::empty(), "Tcreate of an existing name: Rerror EEXIST(17)" => create_exists;
    "base/create_exists", Base, Caps::empty(), "Tcreate of an existing name: Rerror EEXIST(17)" => create_exists;
    "u/open_dir_write", U, Caps::empty(), "Topen OWRITE on a directory: Rerror EISDIR(21)" => open_dir_write;
    "base/open_dir_write", Base, Caps::empty(), "Topen OWRITE on a directory: Rerror EISDIR(21)" => open_dir_write;
    "u/lopen_refused", U, Caps::empty(), "a 9P2000.L Tlopen on a .u connection: Rerror ENOSYS(38) or the connection closed" => lopen_refused;
    "base/lopen_refused", Base, Caps::empty(), "a 9P2000.L Tlopen on a 9P2000 connection: Rerror or the connection closed" => lopen_refused;
    "u/symlink_extension", U, Caps::SYMLINK, "Tcreate DMSYMLINK with the target as extension; Tstat shows DMSYMLINK and the target" => symlink_extension;
    "u/stat_numeric_ids", U, Caps::empty(), "the .u stat carries n_uid/n_gid of the attached user" => stat_numeric_ids;
}

async fn new_file(cx: &mut Ctx<'_>, name: &str, data: &[u8]) -> R<()> {
    let d = cx.dir;
    let f = cx.clone_fid(d).await?;
    tcreate(cx, f, name, 0o644, OpenMode::RDWR, "").await?;
    if !data.is_empty() {
        let reply =
            cx.rpc(Twrite { fid: f, offset: 0, data: Bytes::copy_from_slice(data) }).await?;
        let w = expect_msg!(reply, Rwrite)?;
        ensure_eq("Rwrite count", w.count as usize, data.len())?;
    }
    cx.clunk(f).await
}

async fn create_write_read(cx: &mut Ctx<'_>) -> R<()> {
    let d = cx.dir;
    let f = cx.clone_fid(d).await?;
    let reply = cx
        .rpc(Tcreate {
            fid: f,
            name: "f".into(),
            perm: DirMode::from_bits_retain(0o644),
            mode: OpenMode::RDWR,
            extension: P9String::new(),
        })
        .await?;
    let c = expect_msg!(reply, Rcreate)?;
    ensure_eq("qid type", c.qid.ty, QidType::FILE)?;
    let w = expect_msg!(
        cx.rpc(Twrite { fid: f, offset: 0, data: Bytes::from_static(b"hello 9p") }).await?,
        Rwrite
    )?;
    ensure_eq("Rwrite count", w.count, 8)?;
    let r = expect_msg!(cx.rpc(Tread { fid: f, offset: 0, count: 100 }).await?, Rread)?;
    ensure_eq("data", &r.data[..], &b"hello 9p"[..])
}

async fn open_modes(cx: &mut Ctx<'_>) -> R<()> {
    let d = cx.dir;
    new_file(cx, "f", b"abc").await?;
    let f = cx.walk(d, &["f"]).await?;
    topen(cx, f, OpenMode::READ).await?;
    let r = cx.rpc(Twrite { fid: f, offset: 0, data: Bytes::from_static(b"x") }).await?;
    ensure(crate::expect::is_error(&r), || {
        format!("Twrite on OREAD fid: expected Rerror, got {}", describe(&r))
    })?;
    let g = cx.walk(d, &["f"]).await?;
    topen(cx, g, OpenMode::WRITE).await?;
    let r = cx.rpc(Tread { fid: g, offset: 0, count: 10 }).await?;
    ensure(crate::expect::is_error(&r), || {
        format!("Tread on OWRITE fid: expected Rerror, got {}", describe(&r))
    })
}

async fn open_trunc(cx: &mut Ctx<'_>) -> R<()> {
    let d = cx.dir;
    new_file(cx, "f", b"abcdef").await?;
    let f = cx.walk(d, &["f"]).await?;
    topen(cx, f, OpenMode::WRITE | OpenMode::TRUNC).await?;
    let g = cx.walk(d, &["f"]).await?;
    ensure_eq("length", tstat(cx, g).await?.length, 0)
}

async fn mkdir_and_list(cx: &mut Ctx<'_>) -> R<()> {
    let d = cx.dir;
    let f = cx.clone_fid(d).await?;
    tcreate(cx, f, "sub", DirMode::DIR.bits() | 0o755, OpenMode::READ, "").await?;
    let s = cx.walk(d, &["sub"]).await?;
    ensure(tstat(cx, s).await?.qid.ty.contains(QidType::DIR), || "sub is not a directory".into())?;
    for i in 0..5 {
        new_file(cx, &format!("f{i}"), b"").await?;
    }
    let mut names: Vec<String> = read_dir(cx, d, 8192)
        .await?
        .into_iter()
        .map(|s| s.name.to_string_lossy().into_owned())
        .filter(|n| n != "." && n != "..")
        .collect();
    names.sort();
    ensure_eq(
        "names",
        names,
        vec!["f0".to_string(), "f1".into(), "f2".into(), "f3".into(), "f4".into(), "sub".into()],
    )
}

async fn dir_read_small_counts(cx: &mut Ctx<'_>) -> R<()> {
    let d = cx.dir;
    for i in 0..12 {
        new_file(cx, &format!("file-with-a-longish-name-{i}"), b"").await?;
    }
    let full: Vec<_> = read_dir(cx, d, 8192).await?.into_iter().map(|s| s.name).collect();
    for count in [150u32, 300, 1000] {
        let part: Vec<_> = read_dir(cx, d, count).await?.into_iter().map(|s| s.name).collect();
        ensure_eq(&format!("listing at count {count}"), &part, &full)?;
    }
    Ok(())
}

async fn stat_file(cx: &mut Ctx<'_>) -> R<()> {
    let d = cx.dir;
    new_file(cx, "f", b"12345").await?;
    let f = cx.walk(d, &["f"]).await?;
    let st = tstat(cx, f).await?;
    ensure_eq("name", st.name.to_string_lossy().as_ref(), "f")?;
    ensure_eq("length", st.length, 5)?;
    ensure_eq("perm", st.mode.perm(), 0o644)?;
    ensure_eq("qid type", st.qid.ty, QidType::FILE)
}

async fn wstat(cx: &mut Ctx<'_>, fid: u32, st: Stat) -> R<()> {
    let reply = cx.rpc(Twstat { fid, stat: st }).await?;
    expect_msg!(reply, Rwstat)?;
    Ok(())
}

async fn wstat_rename(cx: &mut Ctx<'_>) -> R<()> {
    let d = cx.dir;
    new_file(cx, "old", b"x").await?;
    let f = cx.walk(d, &["old"]).await?;
    let mut st = Stat::dont_touch();
    st.name = "new".into();
    wstat(cx, f, st).await?;
    let nf = cx.fid();
    let r = cx.rpc(twalk(d, nf, &["old"])).await?;
    expect_rerror(cx, &r, Errno::ENOENT).map_err(|s| s.context("old name"))?;
    cx.walk(d, &["new"]).await?;
    Ok(())
}

async fn wstat_chmod(cx: &mut Ctx<'_>) -> R<()> {
    let d = cx.dir;
    new_file(cx, "f", b"x").await?;
    let f = cx.walk(d, &["f"]).await?;
    let mut st = Stat::dont_touch();
    st.mode = DirMode::from_bits_retain(0o600);
    wstat(cx, f, st).await?;
    ensure_eq("perm", tstat(cx, f).await?.mode.perm(), 0o600)
}

async fn wstat_truncate(cx: &mut Ctx<'_>) -> R<()> {
    let d = cx.dir;
    new_file(cx, "f", b"0123456789").await?;
    let f = cx.walk(d, &["f"]).await?;
    let mut st = Stat::dont_touch();
    st.length = 3;
    wstat(cx, f, st).await?;
    ensure_eq("length", tstat(cx, f).await?.length, 3)
}

async fn wstat_sync(cx: &mut Ctx<'_>) -> R<()> {
    let d = cx.dir;
    new_file(cx, "f", b"x").await?;
    let f = cx.walk(d, &["f"]).await?;
    wstat(cx, f, Stat::dont_touch()).await?;
    ensure_eq("length unchanged", tstat(cx, f).await?.length, 1)
}

async fn remove_file(cx: &mut Ctx<'_>) -> R<()> {
    let d = cx.dir;
    new_file(cx, "f", b"x").await?;
    let f = cx.walk(d, &["f"]).await?;
    expect_msg!(cx.rpc(Tremove { fid: f }).await?, Rremove)?;
    let r = cx.rpc(ninefold_proto::base::Tclunk { fid: f }).await?;
    ensure(crate::expect::is_error(&r), || {
        format!("Tclunk after Tremove: expected Rerror, got {}", describe(&r))
    })?;
    let nf = cx.fid();
    let r = cx.rpc(twalk(d, nf, &["f"])).await?;
    expect_rerror(cx, &r, Errno::ENOENT)
}

async fn remove_nonempty(cx: &mut Ctx<'_>) -> R<()> {
    let d = cx.dir;
    let f = cx.clone_fid(d).await?;
    tcreate(cx, f, "sub", DirMode::DIR.bits() | 0o755, OpenMode::READ, "").await?;
    let s = cx.walk(d, &["sub"]).await?;
    let g = cx.clone_fid(s).await?;
    tcreate(cx, g, "x", 0o644, OpenMode::WRITE, "").await?;
    let r = cx.rpc(Tremove { fid: s }).await?;
    expect_rerror(cx, &r, Errno::ENOTEMPTY)
}

async fn walk_missing(cx: &mut Ctx<'_>) -> R<()> {
    let d = cx.dir;
    let nf = cx.fid();
    let r = cx.rpc(twalk(d, nf, &["missing"])).await?;
    expect_rerror(cx, &r, Errno::ENOENT)
}

async fn create_exists(cx: &mut Ctx<'_>) -> R<()> {
    let d = cx.dir;
    new_file(cx, "f", b"x").await?;
    let f = cx.clone_fid(d).await?;
    let r = cx
        .rpc(Tcreate {
            fid: f,
            name: "f".into(),
            perm: DirMode::from_bits_retain(0o644),
            mode: OpenMode::RDWR,
            extension: P9String::new(),
        })
        .await?;
    expect_rerror(cx, &r, Errno::EEXIST)
}

async fn open_dir_write(cx: &mut Ctx<'_>) -> R<()> {
    let d = cx.dir;
    let f = cx.clone_fid(d).await?;
    let r = cx.rpc(Topen { fid: f, mode: OpenMode::WRITE }).await?;
    expect_rerror(cx, &r, Errno::EISDIR)
}

async fn lopen_refused(cx: &mut Ctx<'_>) -> R<()> {
    let d = cx.dir;
    let f = cx.clone_fid(d).await?;
    // Tlopen (type 12) does not exist in this dialect: send it by hand.
    let mut body = f.to_le_bytes().to_vec();
    body.extend_from_slice(&0u32.to_le_bytes());
    cx.c.send_raw(&crate::conn::raw_frame(12, 91, &body)).await?;
    let t = cx.timeout();
    match cx.c.closed_within(t).await {
        Ok(None) => cx.server_alive().await,
        Ok(Some(fr)) if fr.tag == 91 => {
            if cx.dialect() == ninefold_proto::Dialect::U {
                expect_rerror(cx, &fr.message, Errno::ENOSYS)
            } else {
                expect_rerror(cx, &fr.message, Errno::ENOSYS).or_else(|_| {
                    ensure(matches!(fr.message, Message::Rerror(_)), || describe(&fr.message))
                })
            }
        }
        Ok(Some(fr)) => fail(format!("unexpected {} (tag {})", describe(&fr.message), fr.tag)),
        Err(e) => fail(format!("expected Rerror: {e}")),
    }
}

async fn symlink_extension(cx: &mut Ctx<'_>) -> R<()> {
    let d = cx.dir;
    let f = cx.clone_fid(d).await?;
    tcreate(cx, f, "ln", DirMode::SYMLINK.bits() | 0o777, OpenMode::READ, "some/target").await?;
    let l = cx.walk(d, &["ln"]).await?;
    let st = tstat(cx, l).await?;
    ensure(st.mode.contains(DirMode::SYMLINK), || format!("mode {:?} lacks DMSYMLINK", st.mode))?;
    ensure_eq("extension", st.extension.to_string_lossy().as_ref(), "some/target")
}

async fn stat_numeric_ids(cx: &mut Ctx<'_>) -> R<()> {
    let d = cx.dir;
    new_file(cx, "f", b"").await?;
    let f = cx.walk(d, &["f"]).await?;
    let st = tstat(cx, f).await?;
    ensure_eq("n_uid", st.n_uid, cx.cfg.uid)
}
