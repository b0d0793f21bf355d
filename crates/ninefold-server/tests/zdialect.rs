//! 9P2000.L.Z: negotiation, Tgetlineage, and the private messages, each
//! composed from the `Node` methods (served from memfs here).

mod zsupport;

use bytes::Bytes;
use ninefold_proto::l::SetAttr;
use ninefold_proto::{
    base, l, z, Dialect, Errno, FallocateMode, FsyncdurFlags, Message, OpenFlags, SetattrMask,
    S_IFDIR, S_IFIFO, S_IFREG,
};
use zsupport::{errno, op, serve_memfs, Z};

fn names(w: &[&str]) -> Vec<ninefold_proto::P9String> {
    w.iter().map(|n| (*n).into()).collect()
}

#[tokio::test]
async fn negotiation_echoes_exactly_and_lineage_answers() {
    let s = serve_memfs(|b| b).await;
    let (mut c, r) = Z::negotiate(s.addr, "9P2000.L.Z").await;
    let Message::Rversion(v) = r else { panic!("{r:?}") };
    assert_eq!(v.version, "9P2000.L.Z");
    // Right after Rversion, tag 0, then again later (liveness probe).
    let r = c.rpc_tag(0, z::Tgetlineage).await;
    let Message::Rgetlineage(l1) = r else { panic!("{r:?}") };
    assert_ne!(l1.token, 0);
    assert_eq!(l1.writer_epoch, 0);
    let Message::Rgetlineage(l2) = c.rpc(z::Tgetlineage).await else { panic!() };
    assert_eq!(l1, l2);
    // Another .Z* token is never taken for .Z; plain clients are unchanged.
    let (_, r) = Z::negotiate(s.addr, "9P2000.L.Z2").await;
    let Message::Rversion(v) = r else { panic!("{r:?}") };
    assert_eq!(v.version, "9P2000.L");
    // A server restricted to plain .L answers .L.
    let plain = serve_memfs(|b| b.dialects(&[Dialect::L])).await;
    let (_, r) = Z::negotiate(plain.addr, "9P2000.L.Z").await;
    let Message::Rversion(v) = r else { panic!("{r:?}") };
    assert_eq!(v.version, "9P2000.L");
}

#[tokio::test]
async fn private_types_in_plain_dotl_are_eopnotsupp_and_keep_the_connection() {
    let s = serve_memfs(|b| b).await;
    let mut c = Z::attached(s.addr, Dialect::L).await;
    for ty in [228u8, 230, 233, 236, 250, 252, 254, 255] {
        // size 7 + 4 bytes of anything: the type alone decides.
        c.send_raw(&[11, 0, 0, 0, ty, 5, 0, 1, 2, 3, 4]).await;
        let f = c.recv().await;
        assert_eq!(f.tag, 5);
        assert_eq!(errno(&f.message), Errno::EOPNOTSUPP, "type {ty}");
    }
    let r = c.rpc(base::Twalk { fid: 0, newfid: 1, wnames: names(&["hello"]) }).await;
    assert!(matches!(r, Message::Rwalk(_)), "{r:?}");
}

#[tokio::test]
async fn walkgetattr_is_all_or_nothing() {
    let s = serve_memfs(|b| b).await;
    let mut c = Z::attached(s.addr, Dialect::Z).await;
    let r = c.rpc(z::Twalkgetattr { fid: 0, newfid: 1, wnames: names(&["hello"]) }).await;
    let Message::Rwalkgetattr(w) = r else { panic!("{r:?}") };
    assert_eq!(w.wqids.len(), 1);
    assert_eq!(w.attr.qid, w.wqids[0]);
    assert_eq!(w.attr.size, 11);
    assert_eq!(w.attr.mode & 0o170000, S_IFREG);
    assert_eq!(w.attr.nlink, 1);
    assert!(w.attr.blksize > 0 && w.attr.blocks > 0 && w.attr.mtime_sec > 0);
    // A failing later name: an error, and newfid 2 stays unbound.
    let r = c.rpc(z::Twalkgetattr { fid: 0, newfid: 2, wnames: names(&["hello", "x"]) }).await;
    assert_eq!(errno(&r), Errno::ENOTDIR);
    let r = c.rpc(z::Twalkgetattr { fid: 0, newfid: 2, wnames: names(&["nope"]) }).await;
    assert_eq!(errno(&r), Errno::ENOENT);
    let r = c.rpc(l::Tgetattr { fid: 2, request_mask: ninefold_proto::GetattrMask::BASIC }).await;
    assert_eq!(errno(&r), Errno::EBADF, "newfid bound on failure");
    // No names: clone + stat of the root.
    let r = c.rpc(z::Twalkgetattr { fid: 0, newfid: 2, wnames: vec![] }).await;
    let Message::Rwalkgetattr(w) = r else { panic!("{r:?}") };
    assert!(w.wqids.is_empty());
    assert_eq!(w.attr.mode & 0o170000, S_IFDIR);
}

#[tokio::test]
async fn lcreateattr_is_exclusive_and_leaves_dfid() {
    let s = serve_memfs(|b| b).await;
    let mut c = Z::attached(s.addr, Dialect::Z).await;
    let create = |name: &str, newfid| z::Tlcreateattr {
        dfid: 0,
        newfid,
        name: name.into(),
        flags: OpenFlags::RDWR | OpenFlags::CREATE,
        mode: S_IFREG | 0o640,
        gid: 0,
    };
    let r = c.rpc(create("new", 1)).await;
    let Message::Rlcreateattr(cr) = r else { panic!("{r:?}") };
    assert_eq!(cr.iounit, 0);
    assert_eq!(cr.attr.mode, S_IFREG | 0o640);
    assert_eq!(cr.attr.size, 0);
    // newfid is open for writing; dfid is still the directory.
    let r = c.rpc(base::Twrite { fid: 1, offset: 0, data: Bytes::from_static(b"abc") }).await;
    assert!(matches!(r, Message::Rwrite(base::Rwrite { count: 3 })), "{r:?}");
    let r = c.rpc(create("new", 2)).await;
    assert_eq!(errno(&r), Errno::EEXIST, "exclusive without EXCL");
    let r = c.rpc(l::Tgetattr { fid: 2, request_mask: ninefold_proto::GetattrMask::BASIC }).await;
    assert_eq!(errno(&r), Errno::EBADF, "newfid bound on failure");
    let r = c.rpc(create("other", 0)).await;
    assert_eq!(errno(&r), Errno::EINVAL, "newfid == dfid");
    let r = c.rpc(z::Twalkgetattr { fid: 0, newfid: 3, wnames: names(&["new"]) }).await;
    let Message::Rwalkgetattr(w) = r else { panic!("{r:?}") };
    assert_eq!(w.attr.size, 3);
    assert_eq!(w.attr.qid.path, cr.attr.qid.path);
}

#[tokio::test]
async fn lopenat_clones_or_opens_in_place() {
    let s = serve_memfs(|b| b).await;
    let mut c = Z::attached(s.addr, Dialect::Z).await;
    c.rpc(base::Twalk { fid: 0, newfid: 1, wnames: names(&["hello"]) }).await;
    let r = c.rpc(z::Tlopenat { fid: 1, newfid: 2, flags: OpenFlags::RDONLY }).await;
    let Message::Rlopenat(o) = r else { panic!("{r:?}") };
    assert!(!o.qid.is_dir());
    let r = c.rpc(base::Tread { fid: 2, offset: 0, count: 100 }).await;
    let Message::Rread(d) = r else { panic!("{r:?}") };
    assert_eq!(&d.data[..], b"hello world");
    // fid 1 is unchanged and unopened.
    let r = c.rpc(base::Tread { fid: 1, offset: 0, count: 100 }).await;
    assert_eq!(errno(&r), Errno::EBADF);
    // In place: allowed once, on an unopened fid.
    let r = c.rpc(z::Tlopenat { fid: 1, newfid: 1, flags: OpenFlags::RDONLY }).await;
    assert!(matches!(r, Message::Rlopenat(_)), "{r:?}");
    let r = c.rpc(z::Tlopenat { fid: 1, newfid: 1, flags: OpenFlags::RDONLY }).await;
    assert_eq!(errno(&r), Errno::EBUSY);
    // newfid in use.
    let r = c.rpc(z::Tlopenat { fid: 0, newfid: 2, flags: OpenFlags::RDONLY }).await;
    assert!(matches!(r, Message::Rlerror(_)), "{r:?}");
}

#[tokio::test]
async fn lopenatread_reads_the_start_and_says_eof() {
    let s = serve_memfs(|b| b).await;
    let mut c = Z::attached(s.addr, Dialect::Z).await;
    c.rpc(base::Twalk { fid: 0, newfid: 1, wnames: names(&["hello"]) }).await;
    let r =
        c.rpc(z::Tlopenatread { fid: 1, newfid: 2, flags: OpenFlags::RDONLY, count: 100 }).await;
    let Message::Rlopenatread(o) = r else { panic!("{r:?}") };
    assert!(o.eof);
    assert_eq!(&o.data[..], b"hello world");
    // Short of the end: no eof.
    let r = c.rpc(z::Tlopenatread { fid: 1, newfid: 3, flags: OpenFlags::RDONLY, count: 5 }).await;
    let Message::Rlopenatread(o) = r else { panic!("{r:?}") };
    assert!(!o.eof);
    assert_eq!(&o.data[..], b"hello");
    // Exactly the size: eof.
    let r = c.rpc(z::Tlopenatread { fid: 1, newfid: 4, flags: OpenFlags::RDONLY, count: 11 }).await;
    let Message::Rlopenatread(o) = r else { panic!("{r:?}") };
    assert!(o.eof);
    // Write-only open: authoritative open, no data.
    let wr = OpenFlags::RDONLY.with_access_mode(ninefold_proto::AccessMode::WriteOnly);
    let r = c.rpc(z::Tlopenatread { fid: 1, newfid: 5, flags: wr, count: 100 }).await;
    let Message::Rlopenatread(o) = r else { panic!("{r:?}") };
    assert!(!o.eof && o.data.is_empty());
    // A count beyond msize is clamped to msize - 29 (a `.Z` reply may fill
    // msize: ZeroFS's client reads `msize - 11` and takes less for EOF).
    for off in [0u64, 35_000] {
        let data = Bytes::from(vec![7u8; 35_000]);
        let r = c.rpc(base::Twrite { fid: 5, offset: off, data }).await;
        assert!(matches!(r, Message::Rwrite(_)), "{r:?}");
    }
    let r = c
        .rpc(z::Tlopenatread { fid: 1, newfid: 6, flags: OpenFlags::RDONLY, count: u32::MAX })
        .await;
    let Message::Rlopenatread(o) = r else { panic!("{r:?}") };
    assert!(!o.eof);
    assert_eq!(o.data.len(), 65536 - 29);
    // A plain Tread on `.Z` returns the full `msize - 11` the client asked.
    let r = c.rpc(base::Tread { fid: 6, offset: 0, count: 65536 - 11 }).await;
    let Message::Rread(o) = r else { panic!("{r:?}") };
    assert_eq!(o.data.len(), 65536 - 11);
}

#[tokio::test]
async fn attr_creates_answer_with_stat() {
    let s = serve_memfs(|b| b).await;
    let mut c = Z::attached(s.addr, Dialect::Z).await;
    let r = c.rpc(z::Tmkdirattr { dfid: 0, name: "d".into(), mode: S_IFDIR | 0o750, gid: 0 }).await;
    let Message::Rmkdirattr(m) = r else { panic!("{r:?}") };
    assert_eq!(m.attr.mode, S_IFDIR | 0o750);
    assert!(m.attr.qid.is_dir());
    let r =
        c.rpc(z::Tsymlinkattr { dfid: 0, name: "l".into(), symtgt: "hello".into(), gid: 0 }).await;
    let Message::Rsymlinkattr(m) = r else { panic!("{r:?}") };
    assert_eq!(m.attr.size, 5);
    let r = c
        .rpc(z::Tmknodattr {
            dfid: 0,
            name: "p".into(),
            mode: S_IFIFO | 0o600,
            major: 0,
            minor: 0,
            gid: 0,
        })
        .await;
    let Message::Rmknodattr(m) = r else { panic!("{r:?}") };
    assert_eq!(m.attr.mode, S_IFIFO | 0o600);
    c.rpc(base::Twalk { fid: 0, newfid: 1, wnames: names(&["hello"]) }).await;
    let r = c.rpc(z::Tlinkattr { dfid: 0, fid: 1, name: "h2".into() }).await;
    let Message::Rlinkattr(m) = r else { panic!("{r:?}") };
    assert_eq!(m.attr.nlink, 2);
    let r = c.rpc(z::Tmkdirattr { dfid: 0, name: "d".into(), mode: S_IFDIR | 0o750, gid: 0 }).await;
    assert_eq!(errno(&r), Errno::EEXIST);
}

#[tokio::test]
async fn setattrattr_validates_and_answers_post_op_stat() {
    let s = serve_memfs(|b| b).await;
    let mut c = Z::attached(s.addr, Dialect::Z).await;
    c.rpc(base::Twalk { fid: 0, newfid: 1, wnames: names(&["hello"]) }).await;
    let set = |valid, size| z::Tsetattrattr {
        fid: 1,
        attr: SetAttr { valid, size, mode: 0o600, ..SetAttr::default() },
    };
    let r = c.rpc(set(SetattrMask::SIZE | SetattrMask::MODE, 4)).await;
    let Message::Rsetattrattr(a) = r else { panic!("{r:?}") };
    assert_eq!((a.attr.size, a.attr.mode), (4, S_IFREG | 0o600));
    for bad in [
        SetattrMask::ATIME_SET,
        SetattrMask::MTIME_SET,
        SetattrMask::from_bits_retain(0x400),
        SetattrMask::ATIME_ACCESS,
    ] {
        assert_eq!(errno(&c.rpc(set(bad, 0)).await), Errno::EINVAL, "{bad:?}");
    }
    // ATIME_ACCESS needs a fid opened for reading.
    let access = SetattrMask::ATIME_ACCESS | SetattrMask::ATIME;
    assert_eq!(errno(&c.rpc(set(access, 0)).await), Errno::EBADF);
    c.rpc(l::Tlopen { fid: 1, flags: OpenFlags::RDONLY }).await;
    assert!(matches!(c.rpc(set(access, 0)).await, Message::Rsetattrattr(_)));
}

#[tokio::test]
async fn readdirattr_lists_with_stats_and_resumes_by_cookie() {
    let s = serve_memfs(|b| b).await;
    let mut c = Z::attached(s.addr, Dialect::Z).await;
    for i in 0..40 {
        let m = z::Tmkdirattr {
            dfid: 0,
            name: format!("dir{i:02}").as_str().into(),
            mode: 0o755,
            gid: 0,
        };
        assert!(matches!(c.rpc(m).await, Message::Rmkdirattr(_)));
    }
    c.rpc(z::Tlopenat { fid: 0, newfid: 1, flags: OpenFlags::RDONLY | OpenFlags::DIRECTORY }).await;
    let mut seen = Vec::new();
    let mut offset = 0;
    loop {
        let r = c.rpc(z::Treaddirattr { fid: 1, offset, count: 1000 }).await;
        let Message::Rreaddirattr(d) = r else { panic!("{r:?}") };
        if d.data.is_empty() {
            break;
        }
        for e in d.data.iter() {
            assert_eq!(e.attr.qid, e.qid);
            offset = e.offset;
            seen.push((e.name.to_string_lossy().into_owned(), e.attr.mode));
        }
    }
    assert_eq!(seen.len(), 40 + 3, "{seen:?}"); // . .. hello dir00..dir39
    assert!(seen.iter().any(|(n, m)| n == "hello" && *m & 0o170000 == S_IFREG));
    assert!(seen
        .iter()
        .filter(|(n, _)| n.starts_with("dir"))
        .all(|(_, m)| *m & 0o170000 == S_IFDIR));
    // Not opened: EBADF.
    let r = c.rpc(z::Treaddirattr { fid: 0, offset: 0, count: 1000 }).await;
    assert_eq!(errno(&r), Errno::EBADF);
}

#[tokio::test]
async fn fsyncdur_checks_bits_scope_and_token() {
    let s = serve_memfs(|b| b).await;
    let mut c = Z::attached(s.addr, Dialect::Z).await;
    let Message::Rgetlineage(l) = c.rpc(z::Tgetlineage).await else { panic!() };
    let sync = |datasync, token| z::Tfsyncdur { fid: 0, datasync, token };
    assert!(matches!(c.rpc(sync(FsyncdurFlags::empty(), 0)).await, Message::Rfsync(_)));
    assert!(matches!(c.rpc(sync(FsyncdurFlags::INODE, l.token)).await, Message::Rfsync(_)));
    let both = FsyncdurFlags::INODE | FsyncdurFlags::DATASYNC;
    assert!(matches!(c.rpc(sync(both, l.token)).await, Message::Rfsync(_)));
    let bad = FsyncdurFlags::from_bits_retain(0x4);
    assert_eq!(errno(&c.rpc(sync(bad, 0)).await), Errno::EINVAL);
    assert_eq!(errno(&c.rpc(sync(FsyncdurFlags::empty(), l.token ^ 1)).await), Errno::ESTALE);
    // A fixed token (a persistent export's) is what Tgetlineage reports.
    let fixed = serve_memfs(|b| b.lineage_token(0x5eed)).await;
    let mut c = Z::attached(fixed.addr, Dialect::Z).await;
    let Message::Rgetlineage(l) = c.rpc(z::Tgetlineage).await else { panic!() };
    assert_eq!(l.token, 0x5eed);
}

#[tokio::test]
async fn fallocate_needs_a_writable_fid_and_a_known_mode() {
    let s = serve_memfs(|b| b).await;
    let mut c = Z::attached(s.addr, Dialect::Z).await;
    c.rpc(base::Twalk { fid: 0, newfid: 1, wnames: names(&["hello"]) }).await;
    let fa = |fid, offset, length, mode| z::Tfallocate {
        fid,
        offset,
        length,
        mode: FallocateMode::from_bits_retain(mode),
    };
    assert_eq!(errno(&c.rpc(fa(1, 0, 10, 0)).await), Errno::EBADF);
    c.rpc(l::Tlopen { fid: 1, flags: OpenFlags::RDWR }).await;
    assert_eq!(errno(&c.rpc(fa(1, 0, 10, 0x01)).await), Errno::EOPNOTSUPP, "KEEP_SIZE alone");
    assert!(matches!(c.rpc(fa(1, 0, 100, 0)).await, Message::Rfallocate(_)));
    let get = l::Tgetattr { fid: 1, request_mask: ninefold_proto::GetattrMask::BASIC };
    let Message::Rgetattr(a) = c.rpc(get.clone()).await else { panic!() };
    assert_eq!(a.attr.size, 100);
    assert!(matches!(c.rpc(fa(1, 0, 5, 0x03)).await, Message::Rfallocate(_)));
    let r = c.rpc(base::Tread { fid: 1, offset: 0, count: 11 }).await;
    let Message::Rread(d) = r else { panic!("{r:?}") };
    assert_eq!(&d.data[..], b"\0\0\0\0\0 world");
    assert!(matches!(c.rpc(fa(1, 100, 50, 0x11)).await, Message::Rfallocate(_)));
    let Message::Rgetattr(a) = c.rpc(get).await else { panic!() };
    assert_eq!(a.attr.size, 100, "KEEP_SIZE");
}

#[tokio::test]
async fn covered_mutations_carry_the_envelope() {
    let s = serve_memfs(|b| b).await;
    let mut c = Z::attached(s.addr, Dialect::Z).await;
    c.rpc(base::Twalk { fid: 0, newfid: 1, wnames: names(&["hello"]) }).await;
    c.rpc(l::Tlopen { fid: 1, flags: OpenFlags::RDWR }).await;
    // A raw .Z Twrite: 48 bytes of fixed overhead, envelope first.
    let mut raw = Vec::new();
    raw.extend_from_slice(&(48u32 + 2).to_le_bytes());
    raw.push(118);
    raw.extend_from_slice(&9u16.to_le_bytes());
    raw.extend_from_slice(&[0xab; 16]);
    raw.push(0);
    raw.extend_from_slice(&0u64.to_le_bytes());
    raw.extend_from_slice(&1u32.to_le_bytes());
    raw.extend_from_slice(&0u64.to_le_bytes());
    raw.extend_from_slice(&2u32.to_le_bytes());
    raw.extend_from_slice(b"HE");
    c.send_raw(&raw).await;
    let f = c.recv().await;
    assert_eq!(f.tag, 9);
    assert!(matches!(f.message, Message::Rwrite(base::Rwrite { count: 2 })), "{:?}", f.message);
    let r = c.rpc_env(op(3), l::Tmkdir { dfid: 0, name: "m".into(), mode: 0o755, gid: 0 }).await;
    assert!(matches!(r, Message::Rmkdir(_)), "{r:?}");
}
