//! 9P2000 and 9P2000.u mapped onto the same filesystem methods.

mod support;

use bytes::Bytes;
use ninefold_proto::base::Stat;
use ninefold_proto::dir::read_stats;
use ninefold_proto::{base, Dialect, DirMode, Errno, Message, OpenMode};
use support::{errno, Raw};

async fn dir_names(c: &mut Raw, fid: u32) -> Vec<String> {
    let mut names = Vec::new();
    let mut offset = 0u64;
    loop {
        let r = c.rpc(base::Tread { fid, offset, count: 120 }).await;
        let Message::Rread(d) = r else { panic!("{r:?}") };
        if d.data.is_empty() {
            return names;
        }
        offset += d.data.len() as u64;
        for st in read_stats(&d.data, c.dialect) {
            let st = st.unwrap();
            names.push(st.name.to_string_lossy().into_owned());
        }
    }
}

async fn session(dialect: Dialect) {
    let s = support::start().await;
    let mut c = Raw::attached(s.addr, dialect).await;
    // Tstat of a file.
    c.walk(0, 1, &["hello"]).await;
    let r = c.rpc(base::Tstat { fid: 1 }).await;
    let Message::Rstat(st) = r else { panic!("{r:?}") };
    assert_eq!(st.stat.name, "hello");
    assert_eq!(st.stat.length, 11);
    assert!(!st.stat.mode.contains(DirMode::DIR));
    if dialect == Dialect::U {
        // The Linux .u client reads the link count from here.
        assert_eq!(st.stat.extension, "HARDLINKCOUNT 1");
        assert_eq!(st.stat.n_uid, 0);
    } else {
        assert!(st.stat.extension.is_empty());
    }
    // Topen + Tread + Twrite.
    let r = c.rpc(base::Topen { fid: 1, mode: OpenMode::RDWR }).await;
    assert!(matches!(r, Message::Ropen(_)), "{r:?}");
    c.rpc(base::Twrite { fid: 1, offset: 0, data: Bytes::from_static(b"HELLO") }).await;
    let r = c.rpc(base::Tread { fid: 1, offset: 0, count: 64 }).await;
    let Message::Rread(d) = r else { panic!("{r:?}") };
    assert_eq!(&d.data[..], b"HELLO world");
    // Tcreate of a file and a directory.
    c.walk(0, 2, &[]).await;
    let r = c
        .rpc(base::Tcreate {
            fid: 2,
            name: "made".into(),
            perm: DirMode::from_bits_retain(0o640),
            mode: OpenMode::RDWR,
            extension: "".into(),
        })
        .await;
    assert!(matches!(r, Message::Rcreate(_)), "{r:?}");
    c.rpc(base::Twrite { fid: 2, offset: 0, data: Bytes::from_static(b"abc") }).await;
    c.walk(0, 3, &[]).await;
    let r = c
        .rpc(base::Tcreate {
            fid: 3,
            name: "newdir".into(),
            perm: DirMode::DIR | DirMode::from_bits_retain(0o755),
            mode: OpenMode::READ,
            extension: "".into(),
        })
        .await;
    assert!(matches!(r, Message::Rcreate(_)), "{r:?}");
    // A directory read returns whole stat records.
    c.walk(0, 4, &[]).await;
    c.rpc(base::Topen { fid: 4, mode: OpenMode::READ }).await;
    let mut names = dir_names(&mut c, 4).await;
    names.sort();
    assert_eq!(names, ["hello", "made", "newdir", "slow", "sub"]);
    // Twstat: rename in place, truncate; all "don't touch" = sync.
    c.walk(0, 5, &["made"]).await;
    let mut st = Stat::dont_touch();
    st.name = "renamed".into();
    assert!(matches!(c.rpc(base::Twstat { fid: 5, stat: st }).await, Message::Rwstat(_)));
    let mut st = Stat::dont_touch();
    st.length = 1;
    assert!(matches!(c.rpc(base::Twstat { fid: 5, stat: st }).await, Message::Rwstat(_)));
    let r = c.rpc(base::Tstat { fid: 5 }).await;
    let Message::Rstat(st) = r else { panic!("{r:?}") };
    assert_eq!((st.stat.name.as_bytes(), st.stat.length), (&b"renamed"[..], 1));
    assert!(matches!(
        c.rpc(base::Twstat { fid: 5, stat: Stat::dont_touch() }).await,
        Message::Rwstat(_)
    ));
    // Tremove clunks the fid even when it fails.
    assert!(matches!(c.rpc(base::Tremove { fid: 5 }).await, Message::Rremove(_)));
    assert_eq!(errno(&c.walk(0, 6, &["renamed"]).await), Errno::ENOENT);
    assert_eq!(errno(&c.rpc(base::Tclunk { fid: 5 }).await), Errno::EBADF);
    // Errors are Rerror, with a message (and in .u an errno).
    let r = c.walk(0, 6, &["missing"]).await;
    let Message::Rerror(e) = r else { panic!("{r:?}") };
    assert_eq!(e.ename, "No such file or directory");
    if dialect == Dialect::U {
        assert_eq!(e.errno, Errno::ENOENT);
    }
}

#[tokio::test]
async fn plain_9p2000_works_for_real() {
    session(Dialect::Base).await;
}

#[tokio::test]
async fn dot_u_works_for_real() {
    session(Dialect::U).await;
}

#[tokio::test]
async fn dotl_messages_are_unknown_in_dot_u() {
    let s = support::start().await;
    let mut c = Raw::attached(s.addr, Dialect::U).await;
    // Tlopen (12) is not in the 9P2000.u table.
    c.send_raw(&[11, 0, 0, 0, 12, 3, 0, 0, 0, 0, 0]).await;
    c.send_raw(&[0, 0, 0, 0][..0]).await;
    let f = c.recv().await;
    assert_eq!((f.tag, errno(&f.message)), (3, Errno::ENOSYS));
}
