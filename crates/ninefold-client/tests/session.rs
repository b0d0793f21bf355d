//! The low-level `Session` against a real server: every message-level
//! call, multiplexing, fid recycling and cancel safety.

mod support;

use std::time::Duration;

use ninefold_client::proto::{l, Message};
use ninefold_client::{Bytes, Error, GetattrMask, OpenFlags, Session, UnlinkatFlags};

async fn session(srv: &support::TestServer) -> (Session, ninefold_client::Fid) {
    let s = Session::connect(&srv.target, 64 * 1024).await.unwrap();
    let (root, qid) = s.attach("root", srv.aname.as_bytes(), 0).await.unwrap();
    assert!(qid.is_dir());
    (s, root)
}

/// Waits until background clunks have drained.
async fn settle(s: &Session, fids: usize) {
    for _ in 0..500 {
        let st = s.stats();
        if st.fids_live == fids && st.tags_in_use == 0 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    panic!("did not settle: {:?} (want {fids} fids)", s.stats());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn message_level_calls() {
    for_each_server!(srv => {
        let (s, root) = session(srv).await;
        assert_eq!(s.msize(), 64 * 1024);
        // mkdir + walk + lcreate + write + read + fsync + getattr + setattr
        let q = s.mkdir(&root, "d", 0o755, 0).await.unwrap();
        assert!(q.is_dir());
        let (d, qids) = s.walk(&root, &["d"]).await.unwrap();
        assert_eq!(qids, vec![q]);
        let (f, _) = s.walk::<&str>(&d, &[]).await.unwrap();
        let (fq, _iounit) = s.lcreate(&f, "f", OpenFlags::RDWR, 0o644, 0).await.unwrap();
        assert!(!fq.is_dir());
        assert_eq!(s.write(&f, 0, Bytes::from_static(b"raw bytes")).await.unwrap(), 9);
        assert_eq!(&s.read(&f, 4, 100).await.unwrap()[..], b"bytes");
        s.fsync(&f, true).await.unwrap();
        let attr = s.getattr(&f, GetattrMask::BASIC).await.unwrap();
        assert!(attr.valid.contains(GetattrMask::SIZE));
        assert_eq!(attr.attr.size, 9);
        assert_eq!(attr.attr.qid.path, srv.host_meta("d/f").await.ino);
        s.setattr(&f, l::SetAttr { valid: ninefold_client::proto::SetattrMask::SIZE, size: 3, ..Default::default() }).await.unwrap();
        assert_eq!(srv.host_read("d/f").await, b"raw");
        s.clunk(f).await.unwrap();

        // lopen + readdir
        let (dl, _) = s.walk::<&str>(&d, &[]).await.unwrap();
        s.lopen(&dl, OpenFlags::RDONLY | OpenFlags::DIRECTORY).await.unwrap();
        let block = s.readdir(&dl, 0, 8192).await.unwrap();
        let names: Vec<Vec<u8>> = block.iter().map(|e| e.name.as_bytes().to_vec()).collect();
        assert!(names.contains(&b"f".to_vec()));
        let last = block.iter().last().unwrap().offset;
        assert!(s.readdir(&dl, last, 8192).await.unwrap().is_empty());
        drop(dl);

        // symlink, readlink, link, mknod, statfs
        s.symlink(&d, "sl", "f", 0).await.unwrap();
        let (sl, _) = s.walk(&d, &["sl"]).await.unwrap();
        assert_eq!(&s.readlink(&sl).await.unwrap()[..], b"f");
        let (f, _) = s.walk(&d, &["f"]).await.unwrap();
        s.link(&d, &f, "hl").await.unwrap();
        assert_eq!(srv.host_meta("d/hl").await.nlink, 2);
        s.mknod(&d, "p", ninefold_client::proto::S_IFIFO | 0o600, 0, 0, 0).await.unwrap();
        assert!(srv.host_exists("d/p").await);
        let st = s.statfs(&root).await.unwrap();
        assert!(st.bsize > 0);

        // rename (Trename; diod has no Trenameat), unlinkat/remove
        s.rename(&f, &root, "moved").await.unwrap();
        assert!(srv.host_exists("moved").await);
        match s.renameat(&d, "hl", &root, "hl2").await {
            Ok(()) => assert!(srv.host_exists("hl2").await),
            Err(e) => assert_eq!(e, Error::Io(ninefold_client::Errno::EOPNOTSUPP)),
        }
        match s.unlinkat(&d, "p", UnlinkatFlags::empty()).await {
            Ok(()) => assert!(!srv.host_exists("d/p").await),
            Err(e) => assert_eq!(e, Error::Io(ninefold_client::Errno::EOPNOTSUPP)),
        }
        let (p, _) = s.walk(&root, &["moved"]).await.unwrap();
        s.remove(p).await.unwrap();
        assert!(!srv.host_exists("moved").await);
        drop((f, sl));

        // raw call
        match s.call(l::Tgetattr { fid: root.num(), request_mask: GetattrMask::MODE }).await.unwrap() {
            Message::Rgetattr(r) => assert!(r.attr.mode & 0o040000 != 0),
            other => panic!("{other:?}"),
        }
        // an unknown fid is a server error (diod: EIO), not a protocol failure
        let e = s.call(l::Tgetattr { fid: 999_999, request_mask: GetattrMask::MODE }).await.unwrap_err();
        assert!(!e.is_protocol(), "{e:?}");

        // walk errors: missing, through a file, > 16 names
        assert_eq!(s.walk(&root, &["nope"]).await.unwrap_err(), Error::NotFound);
        assert_eq!(s.walk(&d, &["f", "x"]).await.unwrap_err(), Error::NotFound);
        let many: Vec<&str> = vec!["a"; 17];
        assert!(matches!(s.walk(&root, &many).await.unwrap_err(), Error::InvalidArgument(_)));
        drop(d);
        settle(&s, 1).await;
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_concurrent_requests_share_one_connection() {
    for_each_server!(srv => {
        let (s, root) = session(srv).await;
        srv.host_write("f", vec![7u8; 4096]).await;
        let (f, _) = s.walk(&root, &["f"]).await.unwrap();
        s.lopen(&f, OpenFlags::RDONLY).await.unwrap();
        let f = std::sync::Arc::new(f);
        let mut tasks = Vec::new();
        for i in 0..1000u64 {
            let (s, f) = (s.clone(), f.clone());
            tasks.push(tokio::spawn(async move {
                let b = s.read(&f, i % 4096, 16).await.unwrap();
                assert!(b.iter().all(|&x| x == 7));
                assert_eq!(b.len() as u64, 16.min(4096 - i % 4096));
            }));
        }
        for t in tasks { t.await.unwrap(); }
        // walks from many tasks: fid numbers recycle
        let mut tasks = Vec::new();
        for _ in 0..500 {
            let s = s.clone();
            let root = std::sync::Arc::new(s.walk::<&str>(&root, &[]).await.unwrap().0);
            tasks.push(tokio::spawn(async move {
                let (x, _) = s.walk(&root, &["f"]).await.unwrap();
                s.getattr(&x, GetattrMask::SIZE).await.unwrap();
            }));
        }
        for t in tasks { t.await.unwrap(); }
        drop(f);
        settle(&s, 1).await;
        assert!(s.stats().fid_high_water < 1200, "{:?}", s.stats());
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bounded_in_flight() {
    for_each_server!(srv => {
        let (r, w) = tokio::net::TcpStream::connect(srv.target.trim_start_matches("tcp://")).await.unwrap().into_split();
        let s = Session::handshake_split(r, w, 64 * 1024, 4).await.unwrap();
        let (root, _) = s.attach("root", srv.aname.as_bytes(), 0).await.unwrap();
        let root = std::sync::Arc::new(root);
        let mut tasks = Vec::new();
        let peak = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        for _ in 0..200 {
            let (s, root, peak) = (s.clone(), root.clone(), peak.clone());
            tasks.push(tokio::spawn(async move {
                peak.fetch_max(s.stats().tags_in_use, std::sync::atomic::Ordering::Relaxed);
                s.getattr(&root, GetattrMask::BASIC).await.unwrap();
                peak.fetch_max(s.stats().tags_in_use, std::sync::atomic::Ordering::Relaxed);
            }));
        }
        for t in tasks { t.await.unwrap(); }
        assert!(peak.load(std::sync::atomic::Ordering::Relaxed) <= 4);
    });
}
