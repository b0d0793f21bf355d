//! Tlopen and Tlcreate: flags, access modes, permissions.

use ninefold_proto::base::{Tread, Twrite};
use ninefold_proto::l::{Tlcreate, Tlopen};
use ninefold_proto::{Errno, OpenFlags, QidType, S_IFMT, S_IFREG};

use crate::case::cases;
use crate::config::Caps;
use crate::ctx::Ctx;
use crate::expect::{ensure_eq, expect_err, expect_msg, R};

cases! {
    "open/rdonly", L, Caps::empty(), "Tlopen RDONLY on a file gives Rlopen with the file's qid; Tread works" => rdonly;
    "open/rdonly_no_write", L, Caps::empty(), "Twrite on a RDONLY fid: Rlerror EBADF(9)" => rdonly_no_write;
    "open/wronly_no_read", L, Caps::empty(), "Tread on a WRONLY fid: Rlerror EBADF(9)" => wronly_no_read;
    "open/rdwr", L, Caps::empty(), "Tlopen RDWR allows both Tread and Twrite" => rdwr;
    "open/dir_rdonly", L, Caps::empty(), "Tlopen RDONLY on a directory succeeds with a QTDIR qid" => dir_rdonly;
    "open/dir_wronly", L, Caps::empty(), "Tlopen WRONLY on a directory: Rlerror EISDIR(21)" => dir_wronly;
    "open/dir_rdwr", L, Caps::empty(), "Tlopen RDWR on a directory: Rlerror EISDIR(21)" => dir_rdwr;
    "open/directory_flag_file", L, Caps::empty(), "Tlopen O_DIRECTORY on a file: Rlerror ENOTDIR(20)" => directory_flag_file;
    "open/directory_flag_dir", L, Caps::empty(), "Tlopen O_DIRECTORY on a directory succeeds" => directory_flag_dir;
    "open/trunc", L, Caps::empty(), "Tlopen WRONLY|O_TRUNC empties the file" => trunc;
    "open/append", L, Caps::empty(), "writes through an O_APPEND fid land at end of file whatever the offset" => append;
    "open/create_flags_ignored", L, Caps::empty(), "Tlopen with O_CREAT|O_EXCL on an existing file succeeds (flags ignored)" => create_flags_ignored;
    "open/lcreate_basic", L, Caps::empty(), "Tlcreate makes a regular file, opens the fid, qid type file, mode as sent" => lcreate_basic;
    "open/lcreate_excl_exists", L, Caps::empty(), "Tlcreate O_EXCL of an existing name: Rlerror EEXIST(17)" => lcreate_excl_exists;
    "open/lcreate_exists", L, Caps::empty(), "Tlcreate O_CREAT without O_EXCL of an existing name opens it like open(2): Rlcreate, content kept" => lcreate_exists;
    "open/lcreate_in_file", L, Caps::empty(), "Tlcreate on a fid that is a file: Rlerror ENOTDIR(20)" => lcreate_in_file;
    "open/lcreate_mode", L, Caps::empty(), "Tlcreate mode 0600 gives getattr mode S_IFREG|0600" => lcreate_mode;
    "open/lcreate_name_max", L, Caps::empty(), "a 255-byte name can be created" => lcreate_name_max;
    "open/lcreate_name_too_long", L, Caps::empty(), "a 256-byte name: Rlerror ENAMETOOLONG(36)" => lcreate_name_too_long;
    "open/lcreate_slash", L, Caps::empty(), "Tlcreate of a name containing '/': an error reply (EINVAL)" => lcreate_slash;
    "open/lcreate_then_io", L, Caps::empty(), "the fid opened by Tlcreate RDWR reads back what it wrote" => lcreate_then_io;
    "open/lcreate_rdonly_no_write", L, Caps::empty(), "a Tlcreate RDONLY fid refuses Twrite: Rlerror EBADF(9)" => lcreate_rdonly_no_write;
    "open/perm_read_denied", L, Caps::PERMISSIONS, "another uid opening a 0600 file RDONLY: Rlerror EACCES(13)" => perm_read_denied;
    "open/perm_write_denied", L, Caps::PERMISSIONS, "another uid opening a 0644 file WRONLY: Rlerror EACCES(13); RDONLY works" => perm_write_denied;
    "open/perm_create_denied", L, Caps::PERMISSIONS, "another uid creating in a 0755 directory it does not own: Rlerror EACCES(13)" => perm_create_denied;
}

async fn file(cx: &mut Ctx<'_>, data: &[u8]) -> R<u32> {
    let d = cx.dir;
    cx.mkfile(d, "f", data).await?;
    cx.walk(d, &["f"]).await
}

async fn lopen_err(cx: &mut Ctx<'_>, fid: u32, flags: OpenFlags, want: Errno) -> R<()> {
    let r = cx.rpc(Tlopen { fid, flags }).await?;
    expect_err(&r, &[want]).map(|_| ())
}

async fn rdonly(cx: &mut Ctx<'_>) -> R<()> {
    let f = file(cx, b"abc").await?;
    let q = cx.getattr(f).await?.qid;
    let r = cx.lopen(f, OpenFlags::RDONLY).await?;
    ensure_eq("qid.path", r.qid.path, q.path)?;
    ensure_eq("data", &cx.read(f, 0, 10).await?[..], &b"abc"[..])
}

async fn rdonly_no_write(cx: &mut Ctx<'_>) -> R<()> {
    let f = file(cx, b"abc").await?;
    cx.lopen(f, OpenFlags::RDONLY).await?;
    let r = cx.rpc(Twrite { fid: f, offset: 0, data: bytes::Bytes::from_static(b"x") }).await?;
    expect_err(&r, &[Errno::EBADF])?;
    ensure_eq("data", &cx.read(f, 0, 10).await?[..], &b"abc"[..])
}

async fn wronly_no_read(cx: &mut Ctx<'_>) -> R<()> {
    let f = file(cx, b"abc").await?;
    cx.lopen(f, OpenFlags::WRONLY).await?;
    let r = cx.rpc(Tread { fid: f, offset: 0, count: 10 }).await?;
    expect_err(&r, &[Errno::EBADF]).map(|_| ())
}

async fn rdwr(cx: &mut Ctx<'_>) -> R<()> {
    let f = file(cx, b"abc").await?;
    cx.lopen(f, OpenFlags::RDWR).await?;
    cx.write(f, 1, b"XY").await?;
    ensure_eq("data", &cx.read(f, 0, 10).await?[..], &b"aXY"[..])
}

async fn dir_rdonly(cx: &mut Ctx<'_>) -> R<()> {
    let d = cx.dir;
    let f = cx.clone_fid(d).await?;
    let r = cx.lopen(f, OpenFlags::RDONLY).await?;
    ensure_eq("qid type", r.qid.ty, QidType::DIR)
}

async fn dir_wronly(cx: &mut Ctx<'_>) -> R<()> {
    let d = cx.dir;
    let f = cx.clone_fid(d).await?;
    lopen_err(cx, f, OpenFlags::WRONLY, Errno::EISDIR).await
}

async fn dir_rdwr(cx: &mut Ctx<'_>) -> R<()> {
    let d = cx.dir;
    let f = cx.clone_fid(d).await?;
    lopen_err(cx, f, OpenFlags::RDWR, Errno::EISDIR).await
}

async fn directory_flag_file(cx: &mut Ctx<'_>) -> R<()> {
    let f = file(cx, b"").await?;
    lopen_err(cx, f, OpenFlags::DIRECTORY, Errno::ENOTDIR).await
}

async fn directory_flag_dir(cx: &mut Ctx<'_>) -> R<()> {
    let d = cx.dir;
    let f = cx.clone_fid(d).await?;
    cx.lopen(f, OpenFlags::DIRECTORY).await?;
    Ok(())
}

async fn trunc(cx: &mut Ctx<'_>) -> R<()> {
    let f = file(cx, b"abcdef").await?;
    cx.lopen(f, OpenFlags::WRONLY | OpenFlags::TRUNC).await?;
    ensure_eq("size", cx.getattr(f).await?.size, 0)
}

async fn append(cx: &mut Ctx<'_>) -> R<()> {
    let f = file(cx, b"abc").await?;
    cx.lopen(f, OpenFlags::WRONLY | OpenFlags::APPEND).await?;
    cx.write(f, 0, b"XY").await?;
    cx.write(f, 1, b"Z").await?;
    let d = cx.dir;
    ensure_eq("content", cx.read_file(d, "f").await?, b"abcXYZ".to_vec())
}

async fn create_flags_ignored(cx: &mut Ctx<'_>) -> R<()> {
    let f = file(cx, b"abc").await?;
    cx.lopen(f, OpenFlags::RDONLY | OpenFlags::CREATE | OpenFlags::EXCL).await?;
    ensure_eq("data", &cx.read(f, 0, 10).await?[..], &b"abc"[..])
}

async fn lcreate_basic(cx: &mut Ctx<'_>) -> R<()> {
    let d = cx.dir;
    let (f, q) = cx.create(d, "new", OpenFlags::RDWR, 0o644).await?;
    ensure_eq("qid type", q.ty, QidType::FILE)?;
    let a = cx.getattr(f).await?;
    ensure_eq("qid.path", a.qid.path, q.path)?;
    ensure_eq("mode", a.mode, S_IFREG | 0o644)?;
    ensure_eq("size", a.size, 0)
}

async fn lcreate_raw(
    cx: &mut Ctx<'_>,
    dir: u32,
    name: &str,
    flags: OpenFlags,
) -> R<ninefold_proto::Message> {
    let f = cx.clone_fid(dir).await?;
    let gid = cx.gid;
    cx.rpc(Tlcreate { fid: f, name: name.into(), flags, mode: 0o644, gid }).await
}

async fn lcreate_excl_exists(cx: &mut Ctx<'_>) -> R<()> {
    let d = cx.dir;
    cx.mkfile(d, "f", b"keep").await?;
    let r = lcreate_raw(cx, d, "f", OpenFlags::RDWR | OpenFlags::CREATE | OpenFlags::EXCL).await?;
    expect_err(&r, &[Errno::EEXIST])?;
    ensure_eq("content untouched", cx.read_file(d, "f").await?, b"keep".to_vec())
}

async fn lcreate_exists(cx: &mut Ctx<'_>) -> R<()> {
    let d = cx.dir;
    cx.mkfile(d, "f", b"keep").await?;
    let q = cx.stat_at(d, "f").await?.qid;
    let r = lcreate_raw(cx, d, "f", OpenFlags::RDWR | OpenFlags::CREATE).await?;
    let c = expect_msg!(r, Rlcreate)?;
    ensure_eq("qid.path of the existing file", c.qid.path, q.path)?;
    ensure_eq("content untouched", cx.read_file(d, "f").await?, b"keep".to_vec())
}

async fn lcreate_in_file(cx: &mut Ctx<'_>) -> R<()> {
    let f = file(cx, b"").await?;
    let gid = cx.gid;
    let r = cx
        .rpc(Tlcreate { fid: f, name: "x".into(), flags: OpenFlags::RDWR, mode: 0o644, gid })
        .await?;
    expect_err(&r, &[Errno::ENOTDIR]).map(|_| ())
}

async fn lcreate_mode(cx: &mut Ctx<'_>) -> R<()> {
    let d = cx.dir;
    let (f, _) = cx.create(d, "m", OpenFlags::RDWR, 0o600).await?;
    let a = cx.getattr(f).await?;
    ensure_eq("mode", a.mode, S_IFREG | 0o600)?;
    ensure_eq("type", a.mode & S_IFMT, S_IFREG)
}

async fn lcreate_name_max(cx: &mut Ctx<'_>) -> R<()> {
    let d = cx.dir;
    let name = "x".repeat(255);
    cx.create(d, &name, OpenFlags::RDWR, 0o644).await?;
    ensure_eq("exists", cx.exists(d, &name).await?, true)
}

async fn lcreate_name_too_long(cx: &mut Ctx<'_>) -> R<()> {
    let d = cx.dir;
    let name = "x".repeat(256);
    let r = lcreate_raw(cx, d, &name, OpenFlags::RDWR).await?;
    expect_err(&r, &[Errno::ENAMETOOLONG]).map(|_| ())
}

async fn lcreate_slash(cx: &mut Ctx<'_>) -> R<()> {
    let d = cx.dir;
    cx.mkdir(d, "sub", 0o755).await?;
    let r = lcreate_raw(cx, d, "sub/evil", OpenFlags::RDWR).await?;
    expect_err(&r, &[Errno::EINVAL, Errno::ENOENT, Errno::EPERM, Errno::EACCES])?;
    let s = cx.walk(d, &["sub"]).await?;
    ensure_eq("sub/evil created", cx.exists(s, "evil").await?, false)
}

async fn lcreate_then_io(cx: &mut Ctx<'_>) -> R<()> {
    let d = cx.dir;
    let (f, _) = cx.create(d, "f", OpenFlags::RDWR, 0o644).await?;
    cx.write(f, 0, b"round trip").await?;
    ensure_eq("data", &cx.read(f, 0, 100).await?[..], &b"round trip"[..])
}

async fn lcreate_rdonly_no_write(cx: &mut Ctx<'_>) -> R<()> {
    let d = cx.dir;
    let (f, _) = cx.create(d, "f", OpenFlags::RDONLY, 0o644).await?;
    let r = cx.rpc(Twrite { fid: f, offset: 0, data: bytes::Bytes::from_static(b"x") }).await?;
    expect_err(&r, &[Errno::EBADF]).map(|_| ())
}

async fn other_open(cx: &mut Ctx<'_>, mode: u32, flags: OpenFlags) -> R<ninefold_proto::Message> {
    let d = cx.dir;
    let (f, _) = cx.create(d, "f", OpenFlags::RDWR, mode).await?;
    cx.write(f, 0, b"secret").await?;
    cx.clunk(f).await?;
    let uid = cx.cfg.other_uid;
    let mut o = cx.session_as(uid).await?;
    let od = cx.scratch_in(&mut o).await?;
    let of = o.walk(od, &["f"]).await?;
    o.rpc(Tlopen { fid: of, flags }).await
}

async fn perm_read_denied(cx: &mut Ctx<'_>) -> R<()> {
    let r = other_open(cx, 0o600, OpenFlags::RDONLY).await?;
    expect_err(&r, &[Errno::EACCES]).map(|_| ())
}

async fn perm_write_denied(cx: &mut Ctx<'_>) -> R<()> {
    let r = other_open(cx, 0o644, OpenFlags::WRONLY).await?;
    expect_err(&r, &[Errno::EACCES])?;
    let uid = cx.cfg.other_uid;
    let mut o = cx.session_as(uid).await?;
    let od = cx.scratch_in(&mut o).await?;
    let of = o.walk(od, &["f"]).await?;
    o.lopen(of, OpenFlags::RDONLY).await?;
    ensure_eq("data", &o.read(of, 0, 10).await?[..], &b"secret"[..])
}

async fn perm_create_denied(cx: &mut Ctx<'_>) -> R<()> {
    let uid = cx.cfg.other_uid;
    let mut o = cx.session_as(uid).await?;
    let od = cx.scratch_in(&mut o).await?;
    let f = o.clone_fid(od).await?;
    let r = o
        .rpc(Tlcreate {
            fid: f,
            name: "intruder".into(),
            flags: OpenFlags::RDWR,
            mode: 0o644,
            gid: uid,
        })
        .await?;
    expect_err(&r, &[Errno::EACCES]).map(|_| ())?;
    let r2 = expect_msg!(
        o.rpc(ninefold_proto::l::Tgetattr {
            fid: od,
            request_mask: ninefold_proto::GetattrMask::BASIC
        })
        .await?,
        Rgetattr
    )?;
    let _ = r2;
    Ok(())
}
