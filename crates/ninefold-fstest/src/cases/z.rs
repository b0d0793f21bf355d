//! 9P2000.L.Z (ZeroFS's dialect): negotiation, the mutation envelope and
//! the server's exactly-once ledger as a client sees them, and every
//! private message. These run in the .Z mode (`--dialect 9P2000.L.Z`),
//! with the reference's test vectors.

use bytes::{Bytes, BytesMut};
use ninefold_proto::base::{Tclunk, Tread};
use ninefold_proto::l::{SetAttr, Tgetattr, Tmkdir};
use ninefold_proto::z::{
    Envelope, Tfallocate, Tfsyncdur, Tgetlineage, Tlcreateattr, Tlinkattr, Tlopenat, Tlopenatread,
    Tmkdirattr, Tmknodattr, Treaddirattr, Trebind, Tsetattrattr, Tsymlinkattr, Twalkgetattr,
    EOPIDSTALE,
};
use ninefold_proto::{
    Dialect, EnvelopeFlags, Errno, FallocateMode, Frame, FsyncdurFlags, GetattrMask, Message,
    OpenFlags, P9String, RebindFlags, SetattrMask, NOTAG, S_IFDIR, S_IFIFO, S_IFMT, S_IFREG,
};

use crate::case::cases;
use crate::config::Caps;
use crate::conn::RawConn;
use crate::ctx::Ctx;
use crate::expect::{ensure, ensure_eq, expect_err, expect_msg, Stop, R};
use crate::session::Session;

cases! {
    "z/version_capture", Z, Caps::empty(), "the captured Tversion \"9P2000.L.Z\" is echoed exactly; Tgetlineage (tag 0) gives a 23-byte Rgetlineage" => version_capture;
    "z/version_other_token", Z, Caps::empty(), "Tversion \"9P2000.L.Z2\" is never answered \"9P2000.L.Z\"" => version_other_token;
    "z/lineage_probe", Z, Caps::empty(), "Tgetlineage later on answers the same token, writer_epoch 0" => lineage_probe;
    "z/private_in_plain_dotl", Z, Caps::empty(), "in a 9P2000.L session a private type (252) gets Rlerror 95 and the connection stays usable" => private_in_plain;
    "z/write_envelope", Z, Caps::empty(), "a .Z Twrite with its envelope (48 bytes of fixed overhead) writes its payload" => write_envelope;
    "z/retry_unknown", Z, Caps::empty(), "a RETRY with an unknown op id gets Rlerror 116 and changes nothing" => retry_unknown;
    "z/flags_reserved", Z, Caps::empty(), "envelope flag 0x02 gets Rlerror 116" => flags_reserved;
    "z/zero_op_retry", Z, Caps::empty(), "an all-zero op id with RETRY gets Rlerror 116" => zero_op_retry;
    "z/replay_mkdirattr", Z, Caps::empty(), "a replayed Tmkdirattr (RETRY, new connection) answers the original qid.path and attributes and makes no second directory" => replay_mkdirattr;
    "z/replay_error", Z, Caps::empty(), "the retry of a failed mutation replays its error (EEXIST)" => replay_error;
    "z/walkgetattr", Z, Caps::empty(), "Twalkgetattr answers one qid per name and the final object's stat; a failing name is an error and newfid stays unbound" => walkgetattr;
    "z/walkgetattr_clone", Z, Caps::empty(), "Twalkgetattr with no names clones the fid and answers its stat" => walkgetattr_clone;
    "z/lopenat", Z, Caps::empty(), "Tlopenat opens newfid and leaves fid unopened; in place only once (then EBUSY)" => lopenat;
    "z/lopenatread", Z, Caps::empty(), "Tlopenatread returns the start of the file with eof when it is all there, no eof when short of the end" => lopenatread;
    "z/lcreateattr", Z, Caps::empty(), "Tlcreateattr answers iounit then stat, leaves dfid a directory, and is exclusive without EXCL (EEXIST, newfid unbound)" => lcreateattr;
    "z/mkdirattr", Z, Caps::empty(), "Tmkdirattr answers the new directory's stat" => mkdirattr;
    "z/symlinkattr", Z, Caps::SYMLINK, "Tsymlinkattr answers the link's stat (size = target length)" => symlinkattr;
    "z/mknodattr", Z, Caps::MKNOD, "Tmknodattr answers the FIFO's stat" => mknodattr;
    "z/linkattr", Z, Caps::HARDLINK, "Tlinkattr answers the linked object's stat with nlink 2" => linkattr;
    "z/setattrattr", Z, Caps::empty(), "Tsetattrattr answers the stat after the change; bad bit combinations get EINVAL" => setattrattr;
    "z/readdirattr", Z, Caps::empty(), "Treaddirattr lists every entry with its stat, resumable by cookie" => readdirattr;
    "z/fsyncdur", Z, Caps::empty(), "Tfsyncdur answers Rfsync (51) for both scopes; unknown bits EINVAL; a wrong lineage token ESTALE" => fsyncdur;
    "z/fallocate", Z, Caps::empty(), "Tfallocate needs a writable fid (EBADF), refuses KEEP_SIZE alone (95), extends with mode 0" => fallocate;
    "z/rebind", Z, Caps::empty(), "Trebind on a new connection binds a fid to a file by qid.path; OPENED then in-place Tlopenat reads it" => rebind;
    "z/rebind_bad_credential", Z, Caps::empty(), "Trebind with a binary credential whose length does not match its count gets EINVAL" => rebind_bad_credential;
}

fn names(w: &[&str]) -> Vec<P9String> {
    w.iter().map(|n| (*n).into()).collect()
}

fn env(id: u8, retry: bool) -> Envelope {
    let mut op = [id; 16];
    // Unique per run: the ledger is server-wide.
    let nonce = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    op[..8].copy_from_slice(&(nonce as u64).to_le_bytes());
    let flags = if retry { EnvelopeFlags::RETRY } else { EnvelopeFlags::empty() };
    Envelope { op_id: op, flags, origin_writer_epoch: 0 }
}

/// Sends `msg` with `envelope` and returns the reply.
async fn rpc_env(c: &mut RawConn, envelope: Envelope, msg: impl Into<Message>) -> R<Message> {
    let tag = c.alloc_tag();
    let mut out = BytesMut::new();
    Frame::new(tag, msg)
        .with_envelope(envelope)
        .encode(c.dialect(), &mut out)
        .map_err(|e| Stop::Fail(format!("encode: {e}")))?;
    c.send_raw(&out).await?;
    Ok(c.recv_tag(tag).await?)
}

fn stale(m: &Message) -> R<()> {
    expect_err(m, &[EOPIDSTALE]).map(|_| ())
}

async fn version_capture(cx: &mut Ctx<'_>) -> R<()> {
    let mut c = cx.raw().await?;
    // Captured from zerofs-client 0.4.0.
    c.send_raw(&[
        0x17, 0, 0, 0, 0x64, 0xff, 0xff, 0, 0, 0x10, 0, 0x0a, 0, b'9', b'P', b'2', b'0', b'0',
        b'0', b'.', b'L', b'.', b'Z',
    ])
    .await?;
    let f = c.recv_any().await?;
    ensure_eq("Rversion tag", f.tag, NOTAG)?;
    let v = expect_msg!(f.message, Rversion)?;
    ensure_eq("version", v.version.as_bytes(), b"9P2000.L.Z".as_slice())?;
    ensure(v.msize >= 4096 && v.msize <= 1 << 20, || format!("msize {}", v.msize))?;
    c.send_raw(&[7, 0, 0, 0, 0xe9, 0, 0]).await?;
    let raw = c.recv_raw_frame().await?;
    ensure_eq("Rgetlineage size", raw.len(), 23)?;
    ensure_eq("Rgetlineage type", raw[4], 234)?;
    ensure_eq("Rgetlineage tag", &raw[5..7], [0u8, 0].as_slice())
}

async fn version_other_token(cx: &mut Ctx<'_>) -> R<()> {
    let mut c = cx.raw().await?;
    let v = expect_msg!(c.version(8192, "9P2000.L.Z2").await?, Rversion)?;
    ensure(v.version.as_bytes() != b"9P2000.L.Z", || "answered 9P2000.L.Z to .Z2".into())
}

async fn lineage_probe(cx: &mut Ctx<'_>) -> R<()> {
    let a = expect_msg!(cx.rpc(Tgetlineage).await?, Rgetlineage)?;
    let b = expect_msg!(cx.rpc(Tgetlineage).await?, Rgetlineage)?;
    ensure_eq("token", a.token, b.token)?;
    ensure_eq("writer_epoch", a.writer_epoch, 0)
}

async fn private_in_plain(cx: &mut Ctx<'_>) -> R<()> {
    let mut s = cx.session_in(Dialect::L).await?;
    // Twalkgetattr fid 1 newfid 2, no names, as raw bytes (not in .L).
    let frame = crate::conn::raw_frame(252, 9, &[1, 0, 0, 0, 2, 0, 0, 0, 0, 0]);
    s.c.send_raw(&frame).await?;
    let r = s.c.recv_tag(9).await?;
    expect_err(&r, &[Errno::EOPNOTSUPP])?;
    let root = s.root;
    s.getattr(root).await.map(|_| ())
}

async fn write_envelope(cx: &mut Ctx<'_>) -> R<()> {
    let dir = cx.dir;
    cx.mkfile(dir, "w", b"").await?;
    let fid = cx.open_at(dir, "w", OpenFlags::RDWR).await?;
    let tag = cx.c.alloc_tag();
    let mut raw = Vec::new();
    raw.extend_from_slice(&(48u32 + 3).to_le_bytes());
    raw.push(118);
    raw.extend_from_slice(&tag.to_le_bytes());
    raw.extend_from_slice(&env(1, false).op_id);
    raw.push(0);
    raw.extend_from_slice(&0u64.to_le_bytes());
    raw.extend_from_slice(&fid.to_le_bytes());
    raw.extend_from_slice(&0u64.to_le_bytes());
    raw.extend_from_slice(&3u32.to_le_bytes());
    raw.extend_from_slice(b"abc");
    cx.c.send_raw(&raw).await?;
    let r = expect_msg!(cx.c.recv_tag(tag).await?, Rwrite)?;
    ensure_eq("count", r.count, 3)?;
    ensure_eq("data", cx.read_file(dir, "w").await?, b"abc".to_vec())
}

async fn retry_unknown(cx: &mut Ctx<'_>) -> R<()> {
    let dir = cx.dir;
    let m = Tmkdir { dfid: dir, name: "never".into(), mode: 0o755, gid: cx.gid };
    stale(&rpc_env(&mut cx.c, env(2, true), m).await?)?;
    ensure(!cx.exists(dir, "never").await?, || "the unknown retry ran".into())
}

async fn flags_reserved(cx: &mut Ctx<'_>) -> R<()> {
    let dir = cx.dir;
    let m = Tmkdir { dfid: dir, name: "never".into(), mode: 0o755, gid: cx.gid };
    let e = Envelope { flags: EnvelopeFlags::from_bits_retain(0x02), ..env(3, false) };
    stale(&rpc_env(&mut cx.c, e, m).await?)?;
    ensure(!cx.exists(dir, "never").await?, || "ran with reserved flags".into())
}

async fn zero_op_retry(cx: &mut Ctx<'_>) -> R<()> {
    let dir = cx.dir;
    let m = Tmkdir { dfid: dir, name: "never".into(), mode: 0o755, gid: cx.gid };
    let e = Envelope { op_id: [0; 16], flags: EnvelopeFlags::RETRY, origin_writer_epoch: 0 };
    stale(&rpc_env(&mut cx.c, e, m).await?)
}

async fn replay_mkdirattr(cx: &mut Ctx<'_>) -> R<()> {
    let dir = cx.dir;
    let op = env(4, false);
    let m = Tmkdirattr { dfid: dir, name: "once".into(), mode: S_IFDIR | 0o750, gid: cx.gid };
    let first = expect_msg!(rpc_env(&mut cx.c, op, m.clone()).await?, Rmkdirattr)?;
    // A new connection, as after a reconnect.
    let mut s2 = cx.session().await?;
    let d2 = cx.scratch_in(&mut s2).await?;
    let retry = Envelope { flags: EnvelopeFlags::RETRY, ..op };
    let again =
        expect_msg!(rpc_env(&mut s2.c, retry, Tmkdirattr { dfid: d2, ..m }).await?, Rmkdirattr)?;
    ensure_eq("replayed qid.path", again.attr.qid.path, first.attr.qid.path)?;
    ensure_eq("replayed attributes", again.attr, first.attr)?;
    let names = s2.names(d2).await?;
    ensure_eq("entries named once", names.iter().filter(|n| *n == "once").count(), 1)
}

async fn replay_error(cx: &mut Ctx<'_>) -> R<()> {
    let dir = cx.dir;
    cx.mkdir(dir, "taken", 0o755).await?;
    let op = env(5, false);
    let m = Tmkdirattr { dfid: dir, name: "taken".into(), mode: S_IFDIR | 0o755, gid: cx.gid };
    expect_err(&rpc_env(&mut cx.c, op, m.clone()).await?, &[Errno::EEXIST])?;
    let retry = Envelope { flags: EnvelopeFlags::RETRY, ..op };
    expect_err(&rpc_env(&mut cx.c, retry, m).await?, &[Errno::EEXIST]).map(|_| ())
}

async fn walkgetattr(cx: &mut Ctx<'_>) -> R<()> {
    let dir = cx.dir;
    cx.mkdir(dir, "a", 0o755).await?;
    let a = cx.walk(dir, &["a"]).await?;
    cx.mkfile(a, "f", b"12345").await?;
    let newfid = cx.fid();
    let r = expect_msg!(
        cx.rpc(Twalkgetattr { fid: dir, newfid, wnames: names(&["a", "f"]) }).await?,
        Rwalkgetattr
    )?;
    ensure_eq("qids", r.wqids.len(), 2)?;
    ensure_eq("stat qid", r.attr.qid, r.wqids[1])?;
    ensure_eq("size", r.attr.size, 5)?;
    ensure_eq("type", r.attr.mode & S_IFMT, S_IFREG)?;
    ensure(r.attr.nlink >= 1 && r.attr.blksize > 0, || format!("stat {:?}", r.attr))?;
    let bad = cx.fid();
    let r =
        cx.rpc(Twalkgetattr { fid: dir, newfid: bad, wnames: names(&["a", "missing"]) }).await?;
    expect_err(&r, &[Errno::ENOENT])?;
    let r = cx.rpc(Tgetattr { fid: bad, request_mask: GetattrMask::BASIC }).await?;
    expect_err(&r, &[Errno::EBADF, Errno::ENOENT, Errno::EINVAL]).map(|_| ())
}

async fn walkgetattr_clone(cx: &mut Ctx<'_>) -> R<()> {
    let dir = cx.dir;
    let newfid = cx.fid();
    let r = expect_msg!(
        cx.rpc(Twalkgetattr { fid: dir, newfid, wnames: vec![] }).await?,
        Rwalkgetattr
    )?;
    ensure(r.wqids.is_empty(), || "qids for no names".into())?;
    ensure_eq("type", r.attr.mode & S_IFMT, S_IFDIR)?;
    cx.getattr(newfid).await.map(|_| ())
}

async fn lopenat(cx: &mut Ctx<'_>) -> R<()> {
    let dir = cx.dir;
    cx.mkfile(dir, "f", b"data").await?;
    let f = cx.walk(dir, &["f"]).await?;
    let newfid = cx.fid();
    expect_msg!(cx.rpc(Tlopenat { fid: f, newfid, flags: OpenFlags::RDONLY }).await?, Rlopenat)?;
    ensure_eq("read", cx.read(newfid, 0, 10).await?, Bytes::from_static(b"data"))?;
    expect_err(&cx.rpc(Tread { fid: f, offset: 0, count: 4 }).await?, &[Errno::EBADF])?;
    expect_msg!(cx.rpc(Tlopenat { fid: f, newfid: f, flags: OpenFlags::RDONLY }).await?, Rlopenat)?;
    expect_err(
        &cx.rpc(Tlopenat { fid: f, newfid: f, flags: OpenFlags::RDONLY }).await?,
        &[Errno::EBUSY],
    )
    .map(|_| ())
}

async fn lopenatread(cx: &mut Ctx<'_>) -> R<()> {
    let dir = cx.dir;
    cx.mkfile(dir, "f", b"hello world").await?;
    let f = cx.walk(dir, &["f"]).await?;
    let n1 = cx.fid();
    let r = expect_msg!(
        cx.rpc(Tlopenatread { fid: f, newfid: n1, flags: OpenFlags::RDONLY, count: 4096 }).await?,
        Rlopenatread
    )?;
    ensure_eq("data", r.data, Bytes::from_static(b"hello world"))?;
    ensure(r.eof, || "eof not set for the whole file".into())?;
    let n2 = cx.fid();
    let r = expect_msg!(
        cx.rpc(Tlopenatread { fid: f, newfid: n2, flags: OpenFlags::RDONLY, count: 5 }).await?,
        Rlopenatread
    )?;
    ensure_eq("data", r.data, Bytes::from_static(b"hello"))?;
    ensure(!r.eof, || "eof set short of the end".into())?;
    ensure_eq("open fid reads on", cx.read(n2, 5, 100).await?, Bytes::from_static(b" world"))
}

async fn lcreateattr(cx: &mut Ctx<'_>) -> R<()> {
    let dir = cx.dir;
    let newfid = cx.fid();
    let m = Tlcreateattr {
        dfid: dir,
        newfid,
        name: "c".into(),
        flags: OpenFlags::RDWR | OpenFlags::CREATE,
        mode: S_IFREG | 0o640,
        gid: cx.gid,
    };
    let r = expect_msg!(rpc_env(&mut cx.c, env(6, false), m.clone()).await?, Rlcreateattr)?;
    ensure_eq("mode", r.attr.mode, S_IFREG | 0o640)?;
    ensure_eq("size", r.attr.size, 0)?;
    cx.write_all(newfid, 0, b"xy").await?;
    let d = cx.getattr(dir).await?;
    ensure_eq("dfid still the directory", d.mode & S_IFMT, S_IFDIR)?;
    let other = cx.fid();
    let again = Tlcreateattr { newfid: other, ..m };
    expect_err(&rpc_env(&mut cx.c, env(7, false), again).await?, &[Errno::EEXIST])?;
    let r = cx.rpc(Tgetattr { fid: other, request_mask: GetattrMask::BASIC }).await?;
    expect_err(&r, &[]).map(|_| ())
}

async fn mkdirattr(cx: &mut Ctx<'_>) -> R<()> {
    let m = Tmkdirattr { dfid: cx.dir, name: "d".into(), mode: S_IFDIR | 0o711, gid: cx.gid };
    let r = expect_msg!(rpc_env(&mut cx.c, env(8, false), m).await?, Rmkdirattr)?;
    ensure_eq("mode", r.attr.mode, S_IFDIR | 0o711)?;
    ensure(r.attr.qid.is_dir(), || "qid not a directory".into())
}

async fn symlinkattr(cx: &mut Ctx<'_>) -> R<()> {
    let m = Tsymlinkattr { dfid: cx.dir, name: "l".into(), symtgt: "target".into(), gid: cx.gid };
    let r = expect_msg!(rpc_env(&mut cx.c, env(9, false), m).await?, Rsymlinkattr)?;
    ensure_eq("size", r.attr.size, 6)?;
    ensure(r.attr.qid.ty.contains(ninefold_proto::QidType::SYMLINK), || "qid not a symlink".into())
}

async fn mknodattr(cx: &mut Ctx<'_>) -> R<()> {
    let m = Tmknodattr {
        dfid: cx.dir,
        name: "p".into(),
        mode: S_IFIFO | 0o600,
        major: 0,
        minor: 0,
        gid: cx.gid,
    };
    let r = expect_msg!(rpc_env(&mut cx.c, env(10, false), m).await?, Rmknodattr)?;
    ensure_eq("mode", r.attr.mode, S_IFIFO | 0o600)
}

async fn linkattr(cx: &mut Ctx<'_>) -> R<()> {
    let dir = cx.dir;
    cx.mkfile(dir, "f", b"x").await?;
    let f = cx.walk(dir, &["f"]).await?;
    let m = Tlinkattr { dfid: dir, fid: f, name: "g".into() };
    let r = expect_msg!(rpc_env(&mut cx.c, env(11, false), m).await?, Rlinkattr)?;
    ensure_eq("nlink", r.attr.nlink, 2)
}

async fn setattrattr(cx: &mut Ctx<'_>) -> R<()> {
    let dir = cx.dir;
    cx.mkfile(dir, "f", b"123456").await?;
    let f = cx.walk(dir, &["f"]).await?;
    let set = |valid, size| Tsetattrattr {
        fid: f,
        attr: SetAttr { valid, size, mode: 0o600, ..SetAttr::default() },
    };
    let r = expect_msg!(
        rpc_env(&mut cx.c, env(12, false), set(SetattrMask::SIZE | SetattrMask::MODE, 2)).await?,
        Rsetattrattr
    )?;
    ensure_eq("size", r.attr.size, 2)?;
    ensure_eq("mode", r.attr.mode, S_IFREG | 0o600)?;
    for (i, bad) in
        [SetattrMask::ATIME_SET, SetattrMask::MTIME_SET, SetattrMask::from_bits_retain(0x400)]
            .into_iter()
            .enumerate()
    {
        let r = rpc_env(&mut cx.c, env(13 + i as u8, false), set(bad, 0)).await?;
        expect_err(&r, &[Errno::EINVAL]).map_err(|s| s.context(&format!("{bad:?}")))?;
    }
    Ok(())
}

async fn readdirattr(cx: &mut Ctx<'_>) -> R<()> {
    let dir = cx.dir;
    for i in 0..20 {
        cx.mkfile(dir, &format!("f{i:02}"), &vec![b'x'; i]).await?;
    }
    let open = cx.fid();
    let flags = OpenFlags::RDONLY | OpenFlags::DIRECTORY;
    expect_msg!(cx.rpc(Tlopenat { fid: dir, newfid: open, flags }).await?, Rlopenat)?;
    let mut seen = Vec::new();
    let mut offset = 0;
    for _ in 0..100 {
        let r = expect_msg!(
            cx.rpc(Treaddirattr { fid: open, offset, count: 600 }).await?,
            Rreaddirattr
        )?;
        if r.data.is_empty() {
            break;
        }
        for e in r.data.iter() {
            ensure_eq("entry qid and stat qid", e.qid, e.attr.qid)?;
            offset = e.offset;
            seen.push((e.name.to_string_lossy().into_owned(), e.attr.size));
        }
    }
    for i in 0..20 {
        let name = format!("f{i:02}");
        let hits: Vec<_> = seen.iter().filter(|(n, _)| *n == name).collect();
        ensure_eq(&format!("{name} listed once"), hits.len(), 1)?;
        ensure_eq(&format!("{name} size"), hits[0].1, i as u64)?;
    }
    Ok(())
}

async fn fsyncdur(cx: &mut Ctx<'_>) -> R<()> {
    let dir = cx.dir;
    let l = expect_msg!(cx.rpc(Tgetlineage).await?, Rgetlineage)?;
    let sync = |datasync, token| Tfsyncdur { fid: dir, datasync, token };
    expect_msg!(cx.rpc(sync(FsyncdurFlags::INODE, l.token)).await?, Rfsync)?;
    expect_msg!(cx.rpc(sync(FsyncdurFlags::empty(), 0)).await?, Rfsync)?;
    let r = cx.rpc(sync(FsyncdurFlags::from_bits_retain(0x4), 0)).await?;
    expect_err(&r, &[Errno::EINVAL])?;
    let r = cx.rpc(sync(FsyncdurFlags::INODE, l.token ^ 0x5a5a)).await?;
    expect_err(&r, &[Errno::ESTALE]).map(|_| ())
}

async fn fallocate(cx: &mut Ctx<'_>) -> R<()> {
    let dir = cx.dir;
    cx.mkfile(dir, "f", b"").await?;
    let ro = cx.open_at(dir, "f", OpenFlags::RDONLY).await?;
    let fa = |fid, mode| Tfallocate {
        fid,
        offset: 0,
        length: 8192,
        mode: FallocateMode::from_bits_retain(mode),
    };
    expect_err(&rpc_env(&mut cx.c, env(20, false), fa(ro, 0)).await?, &[Errno::EBADF])?;
    let rw = cx.open_at(dir, "f", OpenFlags::RDWR).await?;
    expect_err(&rpc_env(&mut cx.c, env(21, false), fa(rw, 0x01)).await?, &[Errno::EOPNOTSUPP])?;
    expect_msg!(rpc_env(&mut cx.c, env(22, false), fa(rw, 0)).await?, Rfallocate)?;
    ensure_eq("size", cx.getattr(rw).await?.size, 8192)
}

async fn rebind(cx: &mut Ctx<'_>) -> R<()> {
    let dir = cx.dir;
    let qid = cx.mkfile(dir, "f", b"rebound").await?;
    let root_qid = cx.root_qid;
    let mut s2: Session = cx.session().await?;
    let fid = s2.fid();
    let m = Trebind {
        fid,
        inode_id: qid.path,
        root_inode: root_qid.path,
        flags: RebindFlags::REPLAY | RebindFlags::OPENED,
        uname: cx.cfg.uname.as_str().into(),
        n_uname: cx.cfg.uid,
    };
    let r = expect_msg!(s2.rpc(m).await?, Rrebind)?;
    ensure_eq("qid.path", r.qid.path, qid.path)?;
    expect_msg!(s2.rpc(Tlopenat { fid, newfid: fid, flags: OpenFlags::RDONLY }).await?, Rlopenat)?;
    ensure_eq("data", s2.read(fid, 0, 64).await?, Bytes::from_static(b"rebound"))?;
    s2.rpc(Tclunk { fid }).await.map(|_| ())
}

async fn rebind_bad_credential(cx: &mut Ctx<'_>) -> R<()> {
    let root_qid = cx.root_qid;
    let fid = cx.fid();
    let m = Trebind {
        fid,
        inode_id: root_qid.path,
        root_inode: root_qid.path,
        flags: RebindFlags::REPLAY,
        // count 2, one gid present.
        uname: vec![0xff, 0x01, 5, 0, 0, 0, 2, 1, 0, 0, 0].into(),
        n_uname: 0,
    };
    expect_err(&cx.rpc(m).await?, &[Errno::EINVAL]).map(|_| ())
}
