//! Synthetic nodes.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use ninefold_fs::memfs::MemFs;
use ninefold_fs::synthetic::{
    Device, GeneratedFile, NullFile, StaticFile, Symlink, Wrapped, ZeroFile, ZERO_CHUNK,
};
use ninefold_proto::{
    Errno, GetattrMask, OpenFlags, Qid, QidType, S_IFBLK, S_IFCHR, S_IFLNK, S_IFREG,
};
use ninefold_server::{Identity, Node, QidGen, Request, StatFs};

fn su() -> Request {
    Request::new(Identity::root())
}

async fn read_via(node: &Arc<dyn Node>, size: u32) -> Vec<u8> {
    let opened = node.open(&su(), OpenFlags::RDONLY).await.unwrap();
    let mut out = Vec::new();
    loop {
        let chunk = match &opened.handle {
            Some(h) => h.read(&su(), &**node, out.len() as u64, size).await.unwrap(),
            None => node.read(&su(), out.len() as u64, size).await.unwrap(),
        };
        if chunk.is_empty() {
            return out;
        }
        out.extend_from_slice(&chunk);
    }
}

#[tokio::test]
async fn static_file_serves_zero_copy_slices_and_refuses_writes() {
    let qids = QidGen::new();
    let content = Bytes::from_static(b"0123456789");
    let f = StaticFile::new(&qids, content.clone()).mode(0o440).owner(5, 6);
    let node: Arc<dyn Node> = Arc::new(f);
    let part = node.read(&su(), 3, 4).await.unwrap();
    assert_eq!(part, "3456");
    assert_eq!(part.as_ptr(), content[3..].as_ptr());
    assert!(node.read(&su(), 10, 4).await.unwrap().is_empty());
    assert!(node.read(&su(), u64::MAX, 4).await.unwrap().is_empty());
    assert_eq!(read_via(&node, 3).await, b"0123456789");
    let a = node.getattr(&su(), GetattrMask::ALL).await.unwrap();
    assert_eq!((a.mode, a.size, a.uid, a.gid, a.nlink), (S_IFREG | 0o440, 10, 5, 6, 1));
    assert_eq!(node.open(&su(), OpenFlags::RDWR).await.unwrap_err(), Errno::EACCES);
    assert_eq!(node.xattr_get(&su(), b"security.capability").await.unwrap_err(), Errno::ENODATA);
    assert_eq!(node.write(&su(), 0, Bytes::new()).await.unwrap_err(), Errno::ENOSYS);
}

#[tokio::test]
async fn symlink_and_devices() {
    let qids = QidGen::new();
    let l: Arc<dyn Node> = Arc::new(Symlink::new(&qids, "/x/y"));
    assert_eq!(l.readlink(&su()).await.unwrap(), "/x/y");
    let a = l.getattr(&su(), GetattrMask::ALL).await.unwrap();
    assert_eq!((a.mode, a.size), (S_IFLNK | 0o777, 4));
    assert!(a.qid.is_symlink());
    let c: Arc<dyn Node> = Arc::new(Device::char(&qids, 1, 3).mode(0o666));
    let a = c.getattr(&su(), GetattrMask::ALL).await.unwrap();
    assert_eq!((a.mode, a.rdev), (S_IFCHR | 0o666, 0x103));
    let b = Device::block(&qids, 8, 257);
    assert_eq!(b.rdev(), (257 & 0xff) | (8 << 8) | ((257 & !0xff) << 12));
    let a = b.getattr(&su(), GetattrMask::ALL).await.unwrap();
    assert_eq!(a.mode & 0o170000, S_IFBLK);
    // Unique qids from one generator.
    assert_ne!(l.qid().path, c.qid().path);
}

#[tokio::test]
async fn generated_whole_content_is_one_snapshot_per_open() {
    let qids = QidGen::new();
    let counter = Arc::new(AtomicU64::new(0));
    let gen = {
        let counter = counter.clone();
        GeneratedFile::new(&qids, move || {
            let n = counter.fetch_add(1, Ordering::SeqCst);
            Bytes::from(format!("generation {n} {}", "x".repeat(100)))
        })
    };
    let node: Arc<dyn Node> = Arc::new(gen);
    let first = read_via(&node, 7).await;
    assert!(first.starts_with(b"generation 0 "));
    assert_eq!(first.len(), 113);
    let second = read_via(&node, 7).await;
    assert!(second.starts_with(b"generation 1 "));
    let a = node.getattr(&su(), GetattrMask::ALL).await.unwrap();
    assert_eq!(a.size, 113);
    assert_eq!(node.open(&su(), OpenFlags::WRONLY).await.unwrap_err(), Errno::EACCES);
}

#[tokio::test]
async fn generated_ranged_content_per_read() {
    let qids = QidGen::new();
    let node: Arc<dyn Node> = Arc::new(GeneratedFile::ranged(&qids, 1000, |offset, count| {
        Bytes::from(
            (offset..offset + u64::from(count)).map(|i| (i % 251) as u8).collect::<Vec<u8>>(),
        )
    }));
    let all = read_via(&node, 300).await;
    assert_eq!(all.len(), 1000);
    assert!(all.iter().enumerate().all(|(i, &b)| b == (i % 251) as u8));
    assert_eq!(node.getattr(&su(), GetattrMask::ALL).await.unwrap().size, 1000);
}

#[tokio::test]
async fn zero_and_null() {
    let qid = Qid { ty: QidType::FILE, version: 0, path: 3 };
    let z = ZeroFile::new(qid);
    let a = z.read(&su(), 1 << 40, 65536).await.unwrap();
    assert_eq!(a.len(), 65536);
    assert!(a.iter().all(|&b| b == 0));
    // Two reads share the one static buffer: no allocation.
    let b = z.read(&su(), 0, 100).await.unwrap();
    assert_eq!(a.as_ptr(), b.as_ptr());
    assert_eq!(z.read(&su(), 0, u32::MAX).await.unwrap().len(), ZERO_CHUNK);
    assert_eq!(z.write(&su(), 0, Bytes::from_static(b"gone")).await.unwrap(), 4);
    let sized = ZeroFile::new(qid).size(10);
    assert_eq!(sized.read(&su(), 6, 100).await.unwrap().len(), 4);
    assert!(sized.read(&su(), 10, 100).await.unwrap().is_empty());
    assert_eq!(sized.getattr(&su(), GetattrMask::ALL).await.unwrap().size, 10);
    let n = NullFile::new(qid);
    assert!(n.read(&su(), 0, 100).await.unwrap().is_empty());
    assert_eq!(n.write(&su(), 0, Bytes::from(vec![1u8; 5000])).await.unwrap(), 5000);
    assert_eq!(n.getattr(&su(), GetattrMask::ALL).await.unwrap().size, 0);
}

#[tokio::test]
async fn slow_wrapper_delays_and_honours_flush() {
    let qids = QidGen::new();
    let slow = Wrapped::slow_file(&qids, "payload", Duration::from_millis(100));
    let start = Instant::now();
    assert_eq!(slow.read(&su(), 0, 100).await.unwrap(), "payload");
    assert!(start.elapsed() >= Duration::from_millis(100));
    // Flushed: EINTR at once.
    let token = tokio_util::sync::CancellationToken::new();
    let req = su().with_cancellation(token.clone());
    let slow = Arc::new(Wrapped::slow_file(&qids, "payload", Duration::from_secs(30)));
    let t = {
        let slow = slow.clone();
        tokio::spawn(async move { slow.read(&req, 0, 100).await })
    };
    tokio::time::sleep(Duration::from_millis(20)).await;
    let start = Instant::now();
    token.cancel();
    assert_eq!(t.await.unwrap().unwrap_err(), Errno::EINTR);
    assert!(start.elapsed() < Duration::from_secs(1));
}

#[tokio::test]
async fn wrapped_memfs_file_keeps_its_handle_working() {
    let fs = MemFs::new();
    let c = fs.root().create(&su(), b"f", OpenFlags::RDWR, 0o644, 0).await.unwrap();
    let wrapped: Arc<dyn Node> = Arc::new(Wrapped::slow(c.node.clone(), Duration::from_millis(1)));
    let opened = wrapped.open(&su(), OpenFlags::RDWR | OpenFlags::APPEND).await.unwrap();
    let h = opened.handle.unwrap();
    // The memfs handle downcasts the node it is given: the wrapper must
    // pass the inner node.
    h.write(&su(), &*wrapped, 0, Bytes::from_static(b"ab")).await.unwrap();
    h.write(&su(), &*wrapped, 0, Bytes::from_static(b"cd")).await.unwrap();
    assert_eq!(c.node.read(&su(), 0, 10).await.unwrap(), "abcd");
    assert_eq!(wrapped.qid(), c.node.qid());
}

#[tokio::test]
async fn statfs_wrapper_answers_fixed_numbers() {
    let fs = MemFs::new();
    let fixed = StatFs {
        ty: 0x6969,
        bsize: 512,
        blocks: 10,
        bfree: 5,
        bavail: 5,
        files: 3,
        ffree: 1,
        fsid: 77,
        namelen: 100,
    };
    let w: Arc<dyn Node> = Arc::new(Wrapped::statfs(fs.root(), fixed.clone()));
    assert_eq!(w.statfs(&su()).await.unwrap(), fixed);
    // Everything else reaches the inner node.
    w.mkdir(&su(), b"d", 0o755, 0).await.unwrap();
    assert!(fs.root().lookup(&su(), b"d").await.is_ok());
    let plain: Arc<dyn Node> = Arc::new(Wrapped::new(fs.root()));
    assert_ne!(plain.statfs(&su()).await.unwrap().fsid, 77);
}
