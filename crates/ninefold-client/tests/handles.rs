//! `File` and `Dir` handles against a real server, checked on the host disk.

mod support;

use std::collections::BTreeSet;
use std::sync::Arc;

use ninefold_client::{Error, FileType, NodeKind, OpenOptions, SetAttrs};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn read_into_fills_the_callers_buffer_across_chunks() {
    for_each_server!(srv => {
        let data: Vec<u8> = (0..3_500_000u32).map(|i| (i % 251) as u8).collect();
        srv.host_write("big", data.clone()).await;
        let fs = srv.client().await;
        let f = fs.open("/big", OpenOptions::new().read(true)).await.unwrap();
        // Several chunks, from an unaligned offset, into a sub-slice: bytes
        // outside the slice stay as they were.
        let mut buf = vec![0xEEu8; 2_600_010];
        let n = f.read_into(12_345, &mut buf[5..2_600_005]).await.unwrap();
        assert_eq!(n, 2_600_000);
        assert_eq!(&buf[5..2_600_005], &data[12_345..2_612_345]);
        assert!(buf[..5].iter().chain(&buf[2_600_005..]).all(|&b| b == 0xEE));
        // Past the end: the count says where the file ended.
        let mut tail = vec![0u8; 3_000_000];
        let n = f.read_into(1_000_000, &mut tail).await.unwrap();
        assert_eq!(n, 2_500_000);
        assert_eq!(&tail[..n], &data[1_000_000..]);
        assert_eq!(f.read_into(0, &mut []).await.unwrap(), 0);
        assert_eq!(f.read_into(9_000_000, &mut [0u8; 10]).await.unwrap(), 0);
    });
}

/// One write of more than 4,096 chunks (msize 4 KiB): on `9P2000.L.Z`
/// every Twrite needs its own op id. Ids used to repeat from chunk 4,096
/// on, so the server answered those chunks with an earlier chunk's outcome
/// and wrote nothing. Also the whole-file read of the same span.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_of_many_chunks_lands_whole() {
    for_each_server!(srv => {
        let fs = srv.client_with(srv.options().msize(4096)).await.unwrap();
        let chunk = fs.capabilities().max_write_chunk as usize;
        let len = chunk * 4_100 + 77;
        let data: Vec<u8> = (0..len as u32).map(|i| (i % 251) as u8 ^ (i >> 16) as u8).collect();
        fs.write("/many-chunks", &data).await.unwrap();
        let back = fs.read("/many-chunks").await.unwrap();
        assert_eq!(back.len(), len, "{:?}", fs.capabilities().dialect);
        assert!(back[..] == data[..], "bytes differ ({:?})", fs.capabilities().dialect);
        if srv.on_disk() {
            assert!(srv.host_read("many-chunks").await == data);
        }
        // From a borrowed span at an offset, and from `Bytes`.
        let f = fs.open("/many-chunks", OpenOptions::new().read(true).write(true)).await.unwrap();
        f.write_at(5, &data[..len - 5]).await.unwrap();
        f.write_at_bytes(0, bytes::Bytes::copy_from_slice(&data[len - 5..])).await.unwrap();
        let mut buf = vec![0u8; len];
        assert_eq!(f.read_into(0, &mut buf).await.unwrap(), len);
        assert!(buf[..5] == data[len - 5..] && buf[5..] == data[..len - 5]);
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn file_positioned_io_from_many_tasks() {
    for_each_server!(srv => {
        let fs = srv.client().await;
        let f = Arc::new(fs.open("/f", OpenOptions::new().read(true).write(true).create(true)).await.unwrap());
        let mut tasks = Vec::new();
        for t in 0..16u8 {
            let f = f.clone();
            tasks.push(tokio::spawn(async move {
                let block = vec![t; 100_000];
                f.write_at(u64::from(t) * 100_000, &block).await.unwrap();
                let back = f.read_at(u64::from(t) * 100_000, 100_000).await.unwrap();
                assert_eq!(back, block);
            }));
        }
        for t in tasks { t.await.unwrap(); }
        let host = srv.host_read("f").await;
        assert_eq!(host.len(), 1_600_000);
        for (i, chunk) in host.chunks(100_000).enumerate() {
            assert!(chunk.iter().all(|&b| b == i as u8));
        }
        assert_eq!(f.read_at(1_599_999, 10).await.unwrap().len(), 1, "short read at EOF");

        f.set_len(10).await.unwrap();
        assert_eq!(srv.host_meta("f").await.size, 10);
        assert_eq!(f.metadata().await.unwrap().size, 10);
        let m = f.set_attr(SetAttrs { mode: Some(0o604), ..SetAttrs::default() }).await.unwrap();
        assert_eq!(m.permissions(), 0o604);
        assert_eq!(srv.host_meta("f").await.mode & 0o777, 0o604);
        f.sync_all().await.unwrap();
        f.sync_data().await.unwrap();

        let s = fs.session().stats();
        f.close().await.unwrap();
        f.close().await.unwrap();
        assert_eq!(f.read_at(0, 1).await.unwrap_err(), Error::Closed);
        assert_eq!(f.write_at(0, b"x").await.unwrap_err(), Error::Closed);
        assert_eq!(f.metadata().await.unwrap_err(), Error::Closed);
        // the fid is clunked in the background after close
        for _ in 0..100 {
            if fs.session().stats().fids_live < s.fids_live { break; }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        assert_eq!(fs.session().stats().fids_live, s.fids_live - 1);
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dir_listing_cursor() {
    for_each_server!(srv => {
        let fs = srv.client().await;
        srv.host_mkdir_p("big").await;
        // enough long names to need several Treaddir round trips at msize 64 KiB
        let expected: BTreeSet<String> = (0..1500).map(|i| format!("entry-{i:05}-{}", "x".repeat(60))).collect();
        for n in &expected { srv.host_write(format!("big/{n}"), b"").await; }
        srv.host_mkdir_p("big/sub").await;

        let dir = fs.open_dir("/big").await.unwrap();
        let mut seen = BTreeSet::new();
        let mut batches = 0;
        loop {
            let b = dir.next_batch(None).await.unwrap();
            if b.is_empty() { break; }
            batches += 1;
            for e in b {
                assert_ne!(e.name, ".");
                assert_ne!(e.name, "..");
                let want = if e.name == "sub" { FileType::Dir } else { FileType::File };
                assert_eq!(e.file_type, want);
                assert_eq!(e.ino, srv.host_meta(format!("big/{}", e.name)).await.ino);
                // Readdirplus on our server (.Z), none on diod (plain .L).
                match e.metadata {
                    Some(m) => {
                        assert!(srv.kind.is_ninefold());
                        assert_eq!(m.ino, e.ino);
                        assert_eq!(m.file_type, want);
                    }
                    None => assert!(!srv.kind.is_ninefold()),
                }
                assert!(seen.insert(e.name));
            }
        }
        assert!(batches > 1, "listing needed {batches} batch(es)");
        assert!(dir.next_batch(None).await.unwrap().is_empty(), "end stays the end");
        let mut all = expected.clone();
        all.insert("sub".into());
        assert_eq!(seen, all);

        dir.rewind().await.unwrap();
        let first = dir.next_batch(Some(7)).await.unwrap();
        assert_eq!(first.len(), 7);
        let second = dir.next_batch(Some(3)).await.unwrap();
        assert_eq!(second.len(), 3);
        assert!(first.iter().chain(&second).all(|e| all.contains(&e.name)));
        let total: usize = 10 + {
            let mut n = 0;
            loop { let b = dir.next_batch(Some(100)).await.unwrap(); if b.is_empty() { break n; } n += b.len(); }
        };
        assert_eq!(total, all.len());

        let m = dir.metadata().await.unwrap();
        assert!(m.is_dir());
        let m = dir.set_attr(SetAttrs { mode: Some(0o711), ..SetAttrs::default() }).await.unwrap();
        assert_eq!(m.permissions(), 0o711);
        dir.close().await.unwrap();
        dir.close().await.unwrap();
        assert_eq!(dir.next_batch(None).await.unwrap_err(), Error::Closed);
        assert_eq!(dir.metadata_at("sub").await.unwrap_err(), Error::Closed);
        assert_eq!(fs.open_dir("/big/sub/../x").await.unwrap_err().errno(), ninefold_client::Errno::EINVAL);
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dir_at_operations() {
    for_each_server!(srv => {
        let fs = srv.client().await;
        srv.host_mkdir_p("a").await;
        srv.host_mkdir_p("b").await;
        let a = fs.open_dir("/a").await.unwrap();
        let b = fs.open_dir("b").await.unwrap();

        let f = a.open_at("file", OpenOptions::new().write(true).create(true).mode(0o640)).await.unwrap();
        f.write_at(0, b"at-data").await.unwrap();
        drop(f);
        assert_eq!(srv.host_read("a/file").await, b"at-data");
        assert_eq!(srv.host_meta("a/file").await.mode & 0o777, 0o640);
        let f = a.open_at("file", OpenOptions::new().read(true)).await.unwrap();
        assert_eq!(&f.read_at(3, 100).await.unwrap()[..], b"data");
        assert_eq!(a.open_at("file", OpenOptions::new().write(true).create_new(true)).await.unwrap_err(), Error::AlreadyExists);
        let t = a.open_at("file", OpenOptions::new().write(true).truncate(true)).await.unwrap();
        drop(t);
        assert_eq!(srv.host_meta("a/file").await.size, 0);

        let m = a.create_dir_at("sub", 0o700).await.unwrap();
        assert!(m.is_dir());
        assert_eq!(srv.host_meta("a/sub").await.mode & 0o777, 0o700);
        let sub = a.open_dir_at("sub").await.unwrap();
        sub.create_dir_at("deeper", 0o755).await.unwrap();
        assert!(srv.host_is_dir("a/sub/deeper").await);
        assert_eq!(a.open_dir_at("file").await.unwrap_err(), Error::NotADirectory);

        let m = a.metadata_at("file").await.unwrap();
        assert_eq!(m.ino, srv.host_meta("a/file").await.ino);
        let m = a.set_attr_at("file", SetAttrs { size: Some(3), mode: Some(0o600), ..SetAttrs::default() }).await.unwrap();
        assert_eq!((m.size, m.permissions()), (3, 0o600));
        assert_eq!(srv.host_meta("a/file").await.size, 3);

        let m = a.symlink_at("lnk", b"file\xff").await.unwrap();
        assert!(m.is_symlink());
        assert_eq!(&a.read_link_at("lnk").await.unwrap()[..], b"file\xff");
        assert!(a.metadata_at("lnk").await.unwrap().is_symlink(), "metadata_at does not follow");
        assert_eq!(a.open_at("lnk", OpenOptions::new().read(true)).await.unwrap_err(), Error::TooManySymlinks);

        let m = b.link_at(&a, "file", "hard").await.unwrap();
        assert_eq!(m.nlink, 2);
        assert_eq!(srv.host_meta("b/hard").await.ino, srv.host_meta("a/file").await.ino);

        let m = a.mknod_at("fifo", NodeKind::Fifo, 0o600).await.unwrap();
        assert_eq!(m.file_type, FileType::Fifo);

        a.rename_at("file", &b, "moved").await.unwrap();
        assert!(!srv.host_exists("a/file").await);
        assert!(srv.host_exists("b/moved").await);
        b.rename_at("moved", &b, "moved2").await.unwrap();
        assert!(srv.host_exists("b/moved2").await);

        a.remove_file_at("fifo").await.unwrap();
        a.remove_file_at("lnk").await.unwrap();
        assert_eq!(a.remove_file_at("sub").await.unwrap_err(), Error::IsADirectory);
        assert_eq!(a.remove_dir_at("sub").await.unwrap_err(), Error::DirectoryNotEmpty);
        sub.remove_dir_at("deeper").await.unwrap();
        a.remove_dir_at("sub").await.unwrap();
        assert_eq!(srv.host_list("a").await.len(), 0);
        assert!(matches!(a.metadata_at("x/y").await.unwrap_err(), Error::InvalidArgument(_)));
        assert!(matches!(a.metadata_at("..").await.unwrap_err(), Error::InvalidArgument(_)));
    });
}

#[cfg(feature = "tokio-io")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn file_cursor_tokio_io() {
    use tokio::io::{AsyncReadExt, AsyncSeekExt, AsyncWriteExt};
    for_each_server!(srv => {
        let fs = srv.client().await;
        let f = fs.create("/cur").await.unwrap();
        let mut c = f.cursor();
        c.write_all(b"hello ").await.unwrap();
        c.write_all(b"cursor").await.unwrap();
        assert_eq!(srv.host_read("cur").await, b"hello cursor");
        c.seek(std::io::SeekFrom::Start(6)).await.unwrap();
        let mut s = String::new();
        c.read_to_string(&mut s).await.unwrap();
        assert_eq!(s, "cursor");
        assert_eq!(c.seek(std::io::SeekFrom::End(-6)).await.unwrap(), 6);
        assert_eq!(c.seek(std::io::SeekFrom::Current(1)).await.unwrap(), 7);
        let mut src: &[u8] = &vec![9u8; 500_000];
        c.seek(std::io::SeekFrom::Start(0)).await.unwrap();
        tokio::io::copy(&mut src, &mut c).await.unwrap();
        assert_eq!(srv.host_read("cur").await, vec![9u8; 500_000]);
    });
}

#[cfg(feature = "stream")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dir_entries_stream() {
    use futures_util::TryStreamExt;
    for_each_server!(srv => {
        let fs = srv.client().await;
        for i in 0..300 { srv.host_write(format!("s{i}"), b"").await; }
        let dir = fs.open_dir("/").await.unwrap();
        let names: BTreeSet<String> = dir.entries().map_ok(|e| e.name).try_collect().await.unwrap();
        assert_eq!(names, (0..300).map(|i| format!("s{i}")).collect());
    });
}

#[cfg(feature = "serde")]
#[test]
fn records_serialize() {
    fn is_serde<T: serde::Serialize + for<'de> serde::Deserialize<'de>>() {}
    is_serde::<ninefold_client::Metadata>();
    is_serde::<ninefold_client::DirEntry>();
    is_serde::<ninefold_client::StatFs>();
    is_serde::<ninefold_client::Capabilities>();
    is_serde::<ninefold_client::OpenOptions>();
    is_serde::<ninefold_client::ConnectOptions>();
    is_serde::<ninefold_client::SetAttrs>();
    is_serde::<ninefold_client::NodeKind>();
    is_serde::<ninefold_client::Timestamp>();
}
