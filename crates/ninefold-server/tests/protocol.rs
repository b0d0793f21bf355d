//! The protocol engine over a real loopback socket: negotiation, walks,
//! I/O, fid lifecycle, xattrs, malformed input.

mod support;

use bytes::Bytes;
use ninefold_proto::{
    base, l, Dialect, Errno, GetattrMask, Message, OpenFlags, XattrFlags, NOFID, NOTAG,
};
use support::{errno, Raw};

#[tokio::test]
async fn version_negotiates_msize_and_dialect() {
    let s = support::start_with(|b| b.max_msize(128 * 1024)).await;
    let mut c = Raw::connect(s.addr).await;
    let r = c.rpc_tag(NOTAG, base::Tversion { msize: 1 << 20, version: "9P2000.L".into() }).await;
    let Message::Rversion(v) = r else { panic!("{r:?}") };
    assert_eq!(v.msize, 128 * 1024, "capped at the server maximum");
    assert_eq!(v.version, "9P2000.L");

    let r =
        c.rpc_tag(NOTAG, base::Tversion { msize: 8192, version: "9P2000.L.Google.1".into() }).await;
    let Message::Rversion(v) = r else { panic!("{r:?}") };
    assert_eq!((v.msize, v.version.as_bytes()), (8192, &b"9P2000.L"[..]));

    let r = c.rpc_tag(NOTAG, base::Tversion { msize: 8192, version: "9P1".into() }).await;
    let Message::Rversion(v) = r else { panic!("{r:?}") };
    assert_eq!(v.version, "unknown");

    c.dialect = Dialect::Base;
    let r = c.rpc_tag(NOTAG, base::Tversion { msize: 1000, version: "9P2000.L".into() }).await;
    assert!(matches!(r, Message::Rerror(_)), "msize below 4096 refused: {r:?}");
}

#[tokio::test]
async fn requests_before_version_are_refused() {
    let s = support::start().await;
    let mut c = Raw::connect(s.addr).await;
    c.dialect = Dialect::Base;
    let r = c.rpc(base::Tclunk { fid: 0 }).await;
    assert!(matches!(r, Message::Rerror(_)), "{r:?}");
}

#[tokio::test]
async fn tversion_resets_every_fid() {
    let s = support::start().await;
    let mut c = Raw::attached(s.addr, Dialect::L).await;
    assert!(matches!(c.walk(0, 1, &["hello"]).await, Message::Rwalk(_)));
    let r = c.rpc_tag(NOTAG, base::Tversion { msize: 65536, version: "9P2000.L".into() }).await;
    assert!(matches!(r, Message::Rversion(_)));
    assert_eq!(
        errno(&c.rpc(l::Tgetattr { fid: 1, request_mask: GetattrMask::BASIC }).await),
        Errno::EBADF
    );
    assert_eq!(
        errno(&c.rpc(l::Tgetattr { fid: 0, request_mask: GetattrMask::BASIC }).await),
        Errno::EBADF
    );
}

#[tokio::test]
async fn walk_read_write_and_clunk() {
    let s = support::start().await;
    let mut c = Raw::attached(s.addr, Dialect::L).await;
    let r = c.walk(0, 1, &["hello"]).await;
    let Message::Rwalk(w) = r else { panic!("{r:?}") };
    assert_eq!(w.wqids.len(), 1);
    let r = c.lopen(1, OpenFlags::RDWR).await;
    let Message::Rlopen(o) = r else { panic!("{r:?}") };
    assert_eq!(o.iounit, 0, "iounit 0 lets the kernel use msize - 24");
    let r = c.rpc(base::Tread { fid: 1, offset: 6, count: 100 }).await;
    let Message::Rread(d) = r else { panic!("{r:?}") };
    assert_eq!(&d.data[..], b"world");
    let r = c.rpc(base::Twrite { fid: 1, offset: 11, data: Bytes::from_static(b"!") }).await;
    assert!(matches!(r, Message::Rwrite(base::Rwrite { count: 1 })), "{r:?}");
    let r = c.rpc(l::Tgetattr { fid: 1, request_mask: GetattrMask::ALL }).await;
    let Message::Rgetattr(a) = r else { panic!("{r:?}") };
    assert_eq!(a.attr.size, 12);
    assert!(a.valid.contains(GetattrMask::BASIC));
    assert!(matches!(c.rpc(base::Tclunk { fid: 1 }).await, Message::Rclunk(_)));
    assert_eq!(errno(&c.rpc(base::Tclunk { fid: 1 }).await), Errno::EBADF, "double clunk");
}

#[tokio::test]
async fn walks_are_partial_clamped_and_checked() {
    let s = support::start().await;
    let mut c = Raw::attached(s.addr, Dialect::L).await;
    // First element fails: an error, newfid not bound.
    assert_eq!(errno(&c.walk(0, 1, &["nope"]).await), Errno::ENOENT);
    // A later element fails: the qids that succeeded, newfid not bound.
    let r = c.walk(0, 1, &["sub", "nope"]).await;
    let Message::Rwalk(w) = r else { panic!("{r:?}") };
    assert_eq!(w.wqids.len(), 1);
    assert_eq!(errno(&c.rpc(base::Tclunk { fid: 1 }).await), Errno::EBADF);
    // A file in the middle.
    let r = c.walk(0, 1, &["hello", "x"]).await;
    let Message::Rwalk(w) = r else { panic!("{r:?}") };
    assert_eq!(w.wqids.len(), 1);
    // `..` at the root stays at the root; `..` from sub is the root.
    let r = c.walk(0, 1, &["..", "sub", "..", "hello"]).await;
    let Message::Rwalk(w) = r else { panic!("{r:?}") };
    assert_eq!(w.wqids.len(), 4);
    // Names that could escape or confuse are refused.
    for bad in [".", "a/b", ""] {
        assert_eq!(errno(&c.walk(0, 2, &[bad]).await), Errno::EINVAL, "{bad:?}");
    }
    // Sixteen names are allowed (the codec refuses seventeen).
    let many: Vec<&str> = std::iter::repeat_n("..", 16).collect();
    let r = c.walk(0, 3, &many).await;
    let Message::Rwalk(w) = r else { panic!("{r:?}") };
    assert_eq!(w.wqids.len(), 16);
    // newfid in use.
    assert_eq!(errno(&c.walk(0, 3, &[]).await), Errno::EINVAL);
    // Clone onto itself replaces.
    assert!(matches!(c.walk(3, 3, &["sub"]).await, Message::Rwalk(_)));
}

#[tokio::test]
async fn walk_from_an_open_fid_and_open_rules() {
    let s = support::start().await;
    let mut c = Raw::attached(s.addr, Dialect::L).await;
    c.walk(0, 1, &[]).await;
    assert!(matches!(
        c.lopen(1, OpenFlags::RDONLY | OpenFlags::DIRECTORY).await,
        Message::Rlopen(_)
    ));
    assert_eq!(errno(&c.lopen(1, OpenFlags::RDONLY).await), Errno::EBUSY, "already open");
    assert!(matches!(c.walk(1, 2, &["hello"]).await, Message::Rwalk(_)), "walk from an open fid");
    assert_eq!(errno(&c.lopen(2, OpenFlags::RDONLY | OpenFlags::DIRECTORY).await), Errno::ENOTDIR);
    c.walk(0, 3, &["sub"]).await;
    assert_eq!(errno(&c.lopen(3, OpenFlags::WRONLY).await), Errno::EISDIR);
    // I/O needs an open fid, in the right mode.
    c.walk(0, 4, &["hello"]).await;
    assert_eq!(errno(&c.rpc(base::Tread { fid: 4, offset: 0, count: 1 }).await), Errno::EBADF);
    c.lopen(4, OpenFlags::RDONLY).await;
    let r = c.rpc(base::Twrite { fid: 4, offset: 0, data: Bytes::from_static(b"x") }).await;
    assert_eq!(errno(&r), Errno::EBADF);
}

#[tokio::test]
async fn create_mkdir_readdir_rename_unlink() {
    let s = support::start().await;
    let mut c = Raw::attached(s.addr, Dialect::L).await;
    c.walk(0, 1, &[]).await;
    let r = c
        .rpc(l::Tlcreate {
            fid: 1,
            name: "new".into(),
            flags: OpenFlags::RDWR,
            mode: 0o644,
            gid: 0,
        })
        .await;
    assert!(matches!(r, Message::Rlcreate(_)), "{r:?}");
    // The fid is now the open new file.
    let r = c.rpc(base::Twrite { fid: 1, offset: 0, data: Bytes::from_static(b"data") }).await;
    assert!(matches!(r, Message::Rwrite(_)), "{r:?}");
    // An existing name: EEXIST with EXCL, opened without it (open(2) with
    // O_CREAT), the fid becoming that file.
    c.walk(0, 5, &[]).await;
    let excl = OpenFlags::RDWR | OpenFlags::CREATE | OpenFlags::EXCL;
    let r =
        c.rpc(l::Tlcreate { fid: 5, name: "hello".into(), flags: excl, mode: 0o644, gid: 0 }).await;
    assert_eq!(errno(&r), Errno::EEXIST);
    let r = c
        .rpc(l::Tlcreate {
            fid: 5,
            name: "hello".into(),
            flags: OpenFlags::RDWR,
            mode: 0o644,
            gid: 0,
        })
        .await;
    assert!(matches!(r, Message::Rlcreate(_)), "{r:?}");
    let r = c.rpc(base::Tread { fid: 5, offset: 0, count: 5 }).await;
    let Message::Rread(d) = r else { panic!("{r:?}") };
    assert_eq!(&d.data[..], b"hello");
    let r = c.rpc(l::Tmkdir { dfid: 0, name: "d".into(), mode: 0o755, gid: 0 }).await;
    assert!(matches!(r, Message::Rmkdir(_)), "{r:?}");
    let r = c
        .rpc(l::Trenameat {
            olddirfid: 0,
            oldname: "new".into(),
            newdirfid: 0,
            newname: "renamed".into(),
        })
        .await;
    assert!(matches!(r, Message::Rrenameat(_)), "{r:?}");
    // readdir sees . .. and the names, in whole entries, across pages.
    c.walk(0, 2, &[]).await;
    c.lopen(2, OpenFlags::RDONLY).await;
    let mut names = Vec::new();
    let mut offset = 0;
    loop {
        let r = c.rpc(l::Treaddir { fid: 2, offset, count: 40 }).await;
        let Message::Rreaddir(d) = r else { panic!("{r:?}") };
        if d.data.is_empty() {
            break;
        }
        for e in d.data.iter() {
            offset = e.offset;
            names.push(e.name.to_string_lossy().into_owned());
        }
    }
    names.sort();
    assert_eq!(names, [".", "..", "d", "hello", "renamed", "slow", "sub"]);
    let r =
        c.rpc(l::Tunlinkat { dirfid: 0, name: "renamed".into(), flags: Default::default() }).await;
    assert!(matches!(r, Message::Runlinkat(_)));
    assert_eq!(errno(&c.walk(0, 3, &["renamed"]).await), Errno::ENOENT);
    // The open fid still works after the unlink.
    let r = c.rpc(base::Tread { fid: 1, offset: 0, count: 10 }).await;
    let Message::Rread(d) = r else { panic!("{r:?}") };
    assert_eq!(&d.data[..], b"data");
    // Not implemented by the test tree: ENOSYS, the default.
    let r = c.rpc(l::Tsymlink { fid: 0, name: "ln".into(), symtgt: "hello".into(), gid: 0 }).await;
    assert_eq!(errno(&r), Errno::ENOSYS);
    let r = c.rpc(l::Tstatfs { fid: 0 }).await;
    assert_eq!(errno(&r), Errno::ENOSYS);
}

#[tokio::test]
async fn xattrs_are_two_phase() {
    let s = support::start().await;
    let mut c = Raw::attached(s.addr, Dialect::L).await;
    c.walk(0, 1, &["hello"]).await;
    let r = c
        .rpc(l::Txattrcreate {
            fid: 1,
            name: "user.k".into(),
            attr_size: 5,
            flags: XattrFlags::empty(),
        })
        .await;
    assert!(matches!(r, Message::Rxattrcreate(_)), "{r:?}");
    c.rpc(base::Twrite { fid: 1, offset: 0, data: Bytes::from_static(b"va") }).await;
    c.rpc(base::Twrite { fid: 1, offset: 2, data: Bytes::from_static(b"lue") }).await;
    assert!(matches!(c.rpc(base::Tclunk { fid: 1 }).await, Message::Rclunk(_)));
    let r = c.rpc(l::Txattrwalk { fid: 0, newfid: 2, name: "user.k".into() }).await;
    assert_eq!(errno(&r), Errno::ENOSYS, "the directory has no xattrs");
    c.walk(0, 3, &["hello"]).await;
    let r = c.rpc(l::Txattrwalk { fid: 3, newfid: 4, name: "user.k".into() }).await;
    let Message::Rxattrwalk(x) = r else { panic!("{r:?}") };
    assert_eq!(x.size, 5);
    let r = c.rpc(base::Tread { fid: 4, offset: 0, count: 100 }).await;
    let Message::Rread(d) = r else { panic!("{r:?}") };
    assert_eq!(&d.data[..], b"value");
    let r = c.rpc(l::Txattrwalk { fid: 3, newfid: 5, name: "".into() }).await;
    let Message::Rxattrwalk(x) = r else { panic!("{r:?}") };
    assert_eq!(x.size, 7, "list: user.k\\0");
    // A short value fails at clunk, in the Rclunk slot.
    c.walk(0, 6, &["hello"]).await;
    c.rpc(l::Txattrcreate {
        fid: 6,
        name: "user.j".into(),
        attr_size: 4,
        flags: XattrFlags::empty(),
    })
    .await;
    c.rpc(base::Twrite { fid: 6, offset: 0, data: Bytes::from_static(b"ab") }).await;
    assert_eq!(errno(&c.rpc(base::Tclunk { fid: 6 }).await), Errno::EINVAL);
    // Oversized values are refused before anything is allocated.
    c.walk(0, 7, &["hello"]).await;
    let r = c
        .rpc(l::Txattrcreate {
            fid: 7,
            name: "user.big".into(),
            attr_size: 1 << 40,
            flags: XattrFlags::empty(),
        })
        .await;
    assert_eq!(errno(&r), Errno::E2BIG);
}

#[tokio::test]
async fn every_tag_is_answered_exactly_once_under_pipelining() {
    let s = support::start().await;
    let mut c = Raw::attached(s.addr, Dialect::L).await;
    c.walk(0, 1, &["hello"]).await;
    c.lopen(1, OpenFlags::RDONLY).await;
    let n = 500u16;
    for tag in 0..n {
        let m: Message = match tag % 3 {
            0 => base::Tread { fid: 1, offset: 0, count: 5 }.into(),
            1 => l::Tgetattr { fid: 1, request_mask: GetattrMask::BASIC }.into(),
            _ => l::Tgetattr { fid: 99, request_mask: GetattrMask::BASIC }.into(),
        };
        c.send(tag, m).await;
    }
    let mut seen = vec![0u8; n as usize];
    for _ in 0..n {
        let f = c.recv().await;
        seen[f.tag as usize] += 1;
        match f.tag % 3 {
            0 => assert!(matches!(f.message, Message::Rread(_))),
            1 => assert!(matches!(f.message, Message::Rgetattr(_))),
            _ => assert_eq!(errno(&f.message), Errno::EBADF),
        }
    }
    assert!(seen.iter().all(|&k| k == 1), "each tag answered once");
}

#[tokio::test]
async fn malformed_frames_get_errors_or_a_closed_connection() {
    let s = support::start().await;
    // A well-framed unknown type: an error, and the connection goes on.
    let mut c = Raw::attached(s.addr, Dialect::L).await;
    c.send_raw(&[7, 0, 0, 0, 200, 5, 0]).await;
    let f = c.recv().await;
    assert_eq!((f.tag, errno(&f.message)), (5, Errno::ENOSYS));
    // A truncated body for a known type: EINVAL.
    c.send_raw(&[9, 0, 0, 0, 24, 6, 0, 1, 0]).await;
    let f = c.recv().await;
    assert_eq!((f.tag, errno(&f.message)), (6, Errno::EINVAL));
    // An R-message sent by a client.
    c.send(8, l::Rlerror { ecode: Errno::EIO }).await;
    assert_eq!(errno(&c.recv().await.message), Errno::EINVAL);
    assert!(matches!(c.walk(0, 1, &["hello"]).await, Message::Rwalk(_)), "still serving");

    // A frame larger than msize closes that connection...
    let mut bad = Raw::attached(s.addr, Dialect::L).await;
    bad.send_raw(&(1u32 << 30).to_le_bytes()).await;
    assert!(bad.try_recv().await.is_none());
    // ...as does a size smaller than a header.
    let mut bad = Raw::attached(s.addr, Dialect::L).await;
    bad.send_raw(&[3, 0, 0, 0]).await;
    assert!(bad.try_recv().await.is_none());
    // Other connections are unaffected.
    assert!(matches!(c.walk(0, 2, &["sub"]).await, Message::Rwalk(_)));
}

#[tokio::test]
async fn tag_reuse_while_in_flight_closes_the_connection() {
    let s = support::start().await;
    let mut c = Raw::attached(s.addr, Dialect::L).await;
    c.walk(0, 1, &["slow"]).await;
    c.lopen(1, OpenFlags::RDONLY).await;
    c.send(9, base::Tread { fid: 1, offset: 0, count: 4 }).await;
    c.send(9, l::Tgetattr { fid: 0, request_mask: GetattrMask::BASIC }).await;
    // The connection is closed; the slow read's reply may or may not make it.
    while let Some(f) = c.try_recv().await {
        assert_eq!(f.tag, 9);
    }
}

#[tokio::test]
async fn attach_checks_afid_and_auth_is_not_required() {
    let s = support::start().await;
    let mut c = Raw::connect(s.addr).await;
    c.rpc_tag(NOTAG, base::Tversion { msize: 65536, version: "9P2000.L".into() }).await;
    let r = c.rpc(base::Tauth { afid: 5, uname: "u".into(), aname: "".into(), n_uname: 1 }).await;
    // ENOENT: what diod's libnpclient reads as "authentication not
    // required" (it refuses a server answering anything else).
    assert_eq!(errno(&r), Errno::ENOENT);
    let r = c
        .rpc(base::Tattach { fid: 0, afid: 5, uname: "u".into(), aname: "".into(), n_uname: 1 })
        .await;
    assert_eq!(errno(&r), Errno::EBADF);
    let r = c
        .rpc(base::Tattach { fid: 0, afid: NOFID, uname: "u".into(), aname: "".into(), n_uname: 1 })
        .await;
    assert!(matches!(r, Message::Rattach(_)));
    let r = c
        .rpc(base::Tattach { fid: 0, afid: NOFID, uname: "u".into(), aname: "".into(), n_uname: 1 })
        .await;
    assert_eq!(errno(&r), Errno::EINVAL, "fid in use");
}
