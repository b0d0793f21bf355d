//! `Session::fallocate` (Tfallocate, `9P2000.L.Z`) against our server over
//! memfs and over passthrough: allocation that extends the file, zeroing
//! and hole punching that keep its size, and the EOPNOTSUPP/EBADF answers
//! for what the dialect or the fid does not allow.

mod support;

use ninefold_client::proto::FallocateMode;
use ninefold_client::{Bytes, Dialect, Errno, Error, GetattrMask, OpenFlags, Session};
use support::{ServerKind, TestServer};

const KEEP: FallocateMode = FallocateMode::KEEP_SIZE;
const PUNCH: FallocateMode = FallocateMode::PUNCH_HOLE;
const ZERO: FallocateMode = FallocateMode::ZERO_RANGE;

async fn attach(srv: &TestServer, offer: &[Dialect]) -> (Session, ninefold_client::Fid) {
    let s = Session::connect_offer(&srv.target, 64 * 1024, offer).await.unwrap();
    let (root, _) = s.attach("root", srv.aname.as_bytes(), 0).await.unwrap();
    (s, root)
}

async fn size(s: &Session, f: &ninefold_client::Fid) -> u64 {
    s.getattr(f, GetattrMask::BASIC).await.unwrap().attr.size
}

fn unsupported(e: &Error) -> bool {
    e.errno() == Errno::EOPNOTSUPP
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fallocate_on_z() {
    for kind in [ServerKind::Memfs, ServerKind::Passthrough] {
        let srv = TestServer::start(kind).unwrap();
        let (s, root) = attach(&srv, &[Dialect::Z]).await;
        assert_eq!(s.dialect(), Dialect::Z);
        let (f, _) = s.walk::<&str>(&root, &[]).await.unwrap();
        s.lcreate(&f, "f", OpenFlags::RDWR, 0o644, 0).await.unwrap();
        s.write(&f, 0, Bytes::from_static(b"0123456789")).await.unwrap();

        // Mode 0 allocates and extends; the new bytes read as zeros.
        s.fallocate(&f, 0, 100, FallocateMode::empty()).await.unwrap();
        assert_eq!(size(&s, &f).await, 100, "{}", kind.name());
        let data = s.read(&f, 0, 200).await.unwrap();
        assert_eq!(&data[..10], b"0123456789");
        assert!(data[10..].iter().all(|&b| b == 0) && data.len() == 100);

        // ZERO_RANGE | KEEP_SIZE zeroes inside, never extends.
        s.fallocate(&f, 2, 3, ZERO | KEEP).await.unwrap();
        assert_eq!(&s.read(&f, 0, 10).await.unwrap()[..], b"01\0\0\x0056789");
        s.fallocate(&f, 90, 50, ZERO | KEEP).await.unwrap();
        assert_eq!(size(&s, &f).await, 100);

        // PUNCH_HOLE | KEEP_SIZE: zeros, same size.
        s.fallocate(&f, 6, 2, PUNCH | KEEP).await.unwrap();
        assert_eq!(&s.read(&f, 0, 10).await.unwrap()[..], b"01\0\0\x005\0\089");
        assert_eq!(size(&s, &f).await, 100);

        // ZERO_RANGE alone may extend.
        s.fallocate(&f, 100, 28, ZERO).await.unwrap();
        assert_eq!(size(&s, &f).await, 128);

        // Modes outside the dialect's four: refused before sending.
        for bad in [KEEP, PUNCH, FallocateMode::from_bits_retain(0x20)] {
            let e = s.fallocate(&f, 0, 1, bad).await.unwrap_err();
            assert!(matches!(e, Error::Unsupported(_)), "{bad:?}: {e:?}");
        }

        // A fid not open for writing: EBADF from the server.
        let (ro, _) = s.walk(&root, &["f"]).await.unwrap();
        s.lopen(&ro, OpenFlags::RDONLY).await.unwrap();
        let e = s.fallocate(&ro, 0, 1, FallocateMode::empty()).await.unwrap_err();
        assert_eq!(e.errno(), Errno::EBADF, "{e:?}");
        // Zero length: EINVAL, as fallocate(2).
        let e = s.fallocate(&f, 0, 0, FallocateMode::empty()).await.unwrap_err();
        assert_eq!(e.errno(), Errno::EINVAL, "{e:?}");
        assert_eq!(size(&s, &f).await, 128);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fallocate_needs_z() {
    let srv = TestServer::start(ServerKind::Memfs).unwrap();
    let (s, root) = attach(&srv, &[Dialect::L]).await;
    assert_eq!(s.dialect(), Dialect::L);
    let (f, _) = s.walk::<&str>(&root, &[]).await.unwrap();
    s.lcreate(&f, "f", OpenFlags::RDWR, 0o644, 0).await.unwrap();
    let e = s.fallocate(&f, 0, 10, FallocateMode::empty()).await.unwrap_err();
    assert!(unsupported(&e), "{e:?}");
    assert_eq!(size(&s, &f).await, 0, "nothing was sent");
}
