//! 9P2000.L.Z Trebind against memfs: fids restored by qid.path on a new
//! connection, with the reference's checks.

mod zsupport;

use bytes::Bytes;
use ninefold_proto::z::{Credentials, Trebind};
use ninefold_proto::{base, l, z, Dialect, Errno, Message, OpenFlags, RebindFlags, UnlinkatFlags};
use zsupport::{errno, serve_memfs, Z};

fn rebind(fid: u32, inode_id: u64, root_inode: u64, flags: RebindFlags) -> Trebind {
    Trebind { fid, inode_id, root_inode, flags, uname: "root".into(), n_uname: 0 }
}

#[tokio::test]
async fn fids_come_back_by_inode_after_a_reconnect() {
    let s = serve_memfs(|b| b).await;
    let mut c1 = Z::attached(s.addr, Dialect::Z).await;
    let Message::Rwalkgetattr(root) =
        c1.rpc(z::Twalkgetattr { fid: 0, newfid: 1, wnames: vec![] }).await
    else {
        panic!()
    };
    let Message::Rmkdirattr(d) =
        c1.rpc(z::Tmkdirattr { dfid: 0, name: "d".into(), mode: 0o755, gid: 0 }).await
    else {
        panic!()
    };
    let r = c1.rpc(base::Twalk { fid: 0, newfid: 2, wnames: vec!["hello".into()] }).await;
    let Message::Rwalk(w) = r else { panic!("{r:?}") };
    let hello = w.wqids[0];
    // The file is renamed away by another client, then the connection dies.
    c1.rpc(l::Trenameat {
        olddirfid: 0,
        oldname: "hello".into(),
        newdirfid: 0,
        newname: "moved".into(),
    })
    .await;
    drop(c1);

    let mut c = Z::attached(s.addr, Dialect::Z).await;
    let (r0, r1, r2) = (root.attr.qid.path, d.attr.qid.path, hello.path);
    let replay = RebindFlags::REPLAY;
    let r = c.rpc(rebind(10, r0, r0, replay)).await;
    assert!(matches!(&r, Message::Rrebind(x) if x.qid.path == r0), "{r:?}");
    let r = c.rpc(rebind(11, r1, r0, replay)).await;
    assert!(matches!(&r, Message::Rrebind(x) if x.qid.is_dir()), "{r:?}");
    // Opened fid: rebind, then reopen in place.
    let r = c.rpc(rebind(12, r2, r0, replay | RebindFlags::OPENED)).await;
    assert!(matches!(&r, Message::Rrebind(x) if x.qid.path == r2), "{r:?}");
    let r = c.rpc(z::Tlopenat { fid: 12, newfid: 12, flags: OpenFlags::RDONLY }).await;
    assert!(matches!(r, Message::Rlopenat(_)), "{r:?}");
    let Message::Rread(data) = c.rpc(base::Tread { fid: 12, offset: 0, count: 64 }).await else {
        panic!()
    };
    assert_eq!(&data.data[..], b"hello world", "the renamed file, not a path");
    // A rebound directory walks on.
    let r = c.rpc(z::Tmkdirattr { dfid: 11, name: "sub".into(), mode: 0o755, gid: 0 }).await;
    assert!(matches!(r, Message::Rmkdirattr(_)), "{r:?}");

    // The reference's refusals.
    assert_eq!(errno(&c.rpc(rebind(13, r2, r0, RebindFlags::OPENED)).await), Errno::EINVAL);
    let bad = RebindFlags::from_bits_retain(0x04);
    assert_eq!(errno(&c.rpc(rebind(13, r2, r0, bad)).await), Errno::EINVAL);
    assert_eq!(errno(&c.rpc(rebind(10, r2, r0, replay)).await), Errno::EINVAL, "fid in use");
    let mut torn = rebind(13, r2, r0, replay);
    torn.uname = vec![0xff, 0x01, 5, 0, 0, 0, 2, 1, 0, 0, 0].into();
    assert_eq!(errno(&c.rpc(torn).await), Errno::EINVAL, "binary credential length");
    assert_eq!(errno(&c.rpc(rebind(13, 999_999, r0, replay)).await), Errno::ESTALE);
    assert_eq!(errno(&c.rpc(rebind(13, r2, 999_999, replay)).await), Errno::ESTALE);
    // The binary credential form binds too.
    let (uname, n_uname) =
        Credentials::Groups { uid: 0, gid: 0, groups: vec![10], incomplete: false }
            .to_wire()
            .unwrap();
    let r = c.rpc(Trebind { uname, n_uname, ..rebind(13, r1, r0, replay) }).await;
    assert!(matches!(r, Message::Rrebind(_)), "{r:?}");
    // Unlinked: not restored.
    c.rpc(l::Tunlinkat { dirfid: 0, name: "moved".into(), flags: UnlinkatFlags::empty() }).await;
    assert_eq!(errno(&c.rpc(rebind(14, r2, r0, replay)).await), Errno::ESTALE);
    let _ = Bytes::new();
}
