//! Every `Client` operation against a real server, checked on the host disk.

mod support;

use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use ninefold_client::{Error, FileType, NodeKind, OpenOptions, SetAttrs, SetTime, Timestamp};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn whole_file_io() {
    for_each_server!(srv => {
        let fs = srv.client().await;
        fs.write("/a.txt", b"hello world").await.unwrap();
        assert_eq!(srv.host_read("a.txt").await, b"hello world");
        assert_eq!(&fs.read("a.txt").await.unwrap()[..], b"hello world");
        // write truncates
        fs.write("/a.txt", b"bye").await.unwrap();
        assert_eq!(srv.host_read("a.txt").await, b"bye");
        // read_range, short at EOF
        assert_eq!(&fs.read_range("/a.txt", 1, 10).await.unwrap()[..], b"ye");
        assert_eq!(&fs.read_range("/a.txt", 1, 1).await.unwrap()[..], b"y");
        assert!(fs.read_range("/a.txt", 100, 10).await.unwrap().is_empty());
        // append returns where it landed
        assert_eq!(fs.append("/a.txt", b"!!").await.unwrap(), 3);
        assert_eq!(fs.append("/new.txt", b"x").await.unwrap(), 0);
        assert_eq!(srv.host_read("a.txt").await, b"bye!!");
        assert_eq!(srv.host_read("new.txt").await, b"x");
        // large: many msize chunks, pipelined
        let big: Vec<u8> = (0..3_000_000u32).map(|i| (i * 7 % 251) as u8).collect();
        fs.write("/big.bin", &big).await.unwrap();
        assert_eq!(srv.host_read("big.bin").await, big);
        assert_eq!(&fs.read("/big.bin").await.unwrap()[..], &big[..]);
        assert_eq!(&fs.read_range("/big.bin", 12345, 1_000_000).await.unwrap()[..], &big[12345..1_012_345]);
        // a file grown on the host is read whole
        srv.host_write("empty", b"").await;
        assert!(fs.read("/empty").await.unwrap().is_empty());
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stat_metadata_exists_canonicalize() {
    for_each_server!(srv => {
        let fs = srv.client().await;
        srv.host_mkdir_p("d/e").await;
        srv.host_write("d/e/f", b"12345").await;
        srv.host_symlink("e/f", "d/lf").await;
        srv.host_symlink("/d/e", "abs").await;
        srv.host_symlink("loop2", "loop1").await;
        srv.host_symlink("loop1", "loop2").await;

        let host = srv.host_meta("d/e/f").await;
        let m = fs.stat("/d/e/f").await.unwrap();
        assert_eq!((m.size, m.ino, m.mode, m.nlink), (5, host.ino, host.mode, host.nlink));
        assert_eq!((m.uid, m.gid), (host.uid, host.gid));
        assert_eq!(m.mtime.secs, host.mtime);
        assert!(m.is_file() && m.file_type == FileType::File);

        let l = fs.stat("/d/lf").await.unwrap();
        assert_eq!(l.file_type, FileType::Symlink);
        assert_eq!(l.size, 3);
        let followed = fs.metadata("/d/lf").await.unwrap();
        assert_eq!(followed.ino, host.ino);
        assert_eq!(fs.metadata("/abs/f").await.unwrap().ino, host.ino);
        assert_eq!(&fs.canonicalize("/abs/f").await.unwrap()[..], b"/d/e/f");
        assert_eq!(&fs.canonicalize("d/lf").await.unwrap()[..], b"/d/e/f");
        assert_eq!(&fs.canonicalize("/").await.unwrap()[..], b"/");
        assert_eq!(fs.metadata("/loop1").await.unwrap_err(), Error::TooManySymlinks);
        assert!(fs.stat("/loop1").await.unwrap().is_symlink());
        assert!(fs.stat("/").await.unwrap().is_dir());

        assert!(fs.exists("/d/e/f").await.unwrap());
        assert!(fs.exists("/loop1").await.unwrap());
        assert!(!fs.exists("/nope").await.unwrap());
        assert!(!fs.exists("/d/e/f/under-a-file").await.unwrap());
        assert_eq!(fs.stat("/nope").await.unwrap_err(), Error::NotFound);

        // deep paths: more than 16 components walk in chunks
        let deep: Vec<String> = (0..37).map(|i| format!("n{i}")).collect();
        let rel = deep.join("/");
        srv.host_mkdir_p(&rel).await;
        srv.host_write(format!("{rel}/leaf"), b"deep").await;
        assert_eq!(&fs.read(format!("/{rel}/leaf")).await.unwrap()[..], b"deep");
        assert_eq!(&fs.canonicalize(format!("{rel}/leaf")).await.unwrap()[..], format!("/{rel}/leaf").as_bytes());
        assert_eq!(fs.stat(format!("/{rel}/missing")).await.unwrap_err(), Error::NotFound);
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn set_attr_family() {
    for_each_server!(srv => {
        let fs = srv.client().await;
        srv.host_write("f", b"0123456789").await;
        let m = fs.chmod("/f", 0o600).await.unwrap();
        assert_eq!(m.permissions(), 0o600);
        assert_eq!(srv.host_meta("f").await.mode & 0o7777, 0o600);

        let m = fs.chown("/f", Some(1234), None).await.unwrap();
        assert_eq!(m.uid, 1234);
        let h = srv.host_meta("f").await;
        assert_eq!((h.uid, h.gid), (1234, 0));
        fs.chown("/f", None, Some(4321)).await.unwrap();
        let h = srv.host_meta("f").await;
        assert_eq!((h.uid, h.gid), (1234, 4321));

        assert_eq!(fs.truncate("/f", 4).await.unwrap().size, 4);
        assert_eq!(srv.host_read("f").await, b"0123");
        assert_eq!(fs.truncate("/f", 8).await.unwrap().size, 8);
        assert_eq!(srv.host_read("f").await, b"0123\0\0\0\0");

        let t = UNIX_EPOCH + Duration::new(1_000_000_000, 123_000_000);
        let m = fs.set_times("/f", Some(SetTime::from(t)), Some(Timestamp { secs: 2_000_000_000, nanos: 5 }.into())).await.unwrap();
        assert_eq!(m.atime, Timestamp { secs: 1_000_000_000, nanos: 123_000_000 });
        assert_eq!(m.mtime, Timestamp { secs: 2_000_000_000, nanos: 5 });
        let h = srv.host_meta("f").await;
        assert_eq!((h.atime, h.mtime, h.mtime_nsec), (1_000_000_000, 2_000_000_000, 5));
        let before = SystemTime::now() - Duration::from_secs(5);
        let m = fs.set_times("/f", None, Some(SetTime::Now)).await.unwrap();
        assert!(SystemTime::from(m.mtime) >= before);
        assert_eq!(m.atime.secs, 1_000_000_000, "atime untouched");

        let all = SetAttrs { mode: Some(0o640), size: Some(1), ..SetAttrs::default() };
        let m = fs.set_attr("/f", all).await.unwrap();
        assert_eq!((m.permissions(), m.size), (0o640, 1));
        // empty SetAttrs is a no-op that still reports metadata
        assert_eq!(fs.set_attr("/f", SetAttrs::new()).await.unwrap().size, 1);
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn namespace_operations() {
    for_each_server!(srv => {
        let fs = srv.client().await;
        let m = fs.create_dir("/d", 0o750).await.unwrap();
        assert!(m.is_dir());
        let h = srv.host_meta("d").await;
        assert!(h.is_dir());
        assert_eq!(h.mode & 0o777, 0o750);
        assert_eq!(fs.create_dir("/d", 0o755).await.unwrap_err(), Error::AlreadyExists);
        assert_eq!(fs.create_dir("/x/y", 0o755).await.unwrap_err(), Error::NotFound);

        fs.create_dir_all("/p/q/r", 0o755).await.unwrap();
        assert!(srv.host_is_dir("p/q/r").await);
        fs.create_dir_all("/p/q/r", 0o755).await.unwrap();
        srv.host_write("p/file", b"").await;
        assert_eq!(fs.create_dir_all("/p/file", 0o755).await.unwrap_err(), Error::NotADirectory);

        fs.write("/d/f", b"data").await.unwrap();
        fs.rename("/d/f", "/p/q/g").await.unwrap();
        assert!(!srv.host_exists("d/f").await);
        assert_eq!(srv.host_read("p/q/g").await, b"data");
        // rename replaces
        fs.write("/d/h", b"other").await.unwrap();
        fs.rename("/d/h", "/p/q/g").await.unwrap();
        assert_eq!(srv.host_read("p/q/g").await, b"other");

        let m = fs.hard_link("/p/q/g", "/d/hard").await.unwrap();
        assert_eq!(m.nlink, 2);
        assert_eq!(srv.host_meta("d/hard").await.ino, srv.host_meta("p/q/g").await.ino);

        let m = fs.symlink("../p/q/g", "/d/sym").await.unwrap();
        assert!(m.is_symlink());
        assert_eq!(srv.host_read_link("d/sym").await, b"../p/q/g");
        assert_eq!(&fs.read_link("/d/sym").await.unwrap()[..], b"../p/q/g");
        assert_eq!(&fs.read("/d/sym").await.unwrap()[..], b"other");

        let m = fs.mknod("/d/fifo", NodeKind::Fifo, 0o644).await.unwrap();
        assert_eq!(m.file_type, FileType::Fifo);
        assert!(srv.host_meta("d/fifo").await.is_fifo());
        let m = fs.mknod("/d/sock", NodeKind::Socket, 0o644).await.unwrap();
        assert_eq!(m.file_type, FileType::Socket);
        let m = fs.mknod("/d/null2", NodeKind::CharDevice { major: 1, minor: 3 }, 0o666).await.unwrap();
        assert_eq!(m.file_type, FileType::CharDevice);
        let h = srv.host_meta("d/null2").await;
        assert!(h.is_char_device());
        assert_eq!(h.rdev, m.rdev);
        let m = fs.mknod("/d/blk", NodeKind::BlockDevice { major: 7, minor: 0 }, 0o600).await.unwrap();
        assert_eq!(m.file_type, FileType::BlockDevice);

        fs.remove_file("/d/fifo").await.unwrap();
        fs.remove_file("/d/sym").await.unwrap();
        assert!(!srv.host_exists("d/fifo").await);
        assert!(srv.host_exists("p/q/g").await, "removing a symlink leaves its target");
        assert_eq!(fs.remove_dir("/p").await.unwrap_err(), Error::DirectoryNotEmpty);
        fs.remove_dir("/p/q/r").await.unwrap();
        assert!(!srv.host_exists("p/q/r").await);

        let names: Vec<String> = {
            let mut v: Vec<_> = fs.read_dir("/d").await.unwrap().into_iter().map(|e| e.name).collect();
            v.sort();
            v
        };
        assert_eq!(names, ["blk", "hard", "null2", "sock"]);

        fs.remove_dir_all("/p").await.unwrap();
        assert!(!srv.host_exists("p").await);
        fs.remove_dir_all("/d").await.unwrap();
        assert!(!srv.host_exists("d").await);
        assert!(matches!(fs.remove_dir_all("/").await.unwrap_err(), Error::InvalidArgument(_)));
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn non_utf8_names() {
    for_each_server!(srv => {
        let fs = srv.client().await;
        let raw = std::ffi::OsStr::from_bytes(b"caf\xe9-\xff");
        let path = Path::new("/").join(raw);
        fs.write(&path, b"latin1").await.unwrap();
        assert_eq!(srv.host_read(raw).await, b"latin1");
        let list = fs.read_dir("/").await.unwrap();
        let e = list.iter().find(|e| !e.name_is_utf8).expect("non-UTF-8 entry");
        assert_eq!(&e.name_bytes[..], b"caf\xe9-\xff");
        assert_eq!(e.name, "caf\u{fffd}-\u{fffd}");
        assert_eq!(e.file_type, FileType::File);
        let dir = fs.open_dir("/").await.unwrap();
        assert_eq!(dir.metadata_at(&e.name_bytes).await.unwrap().size, 6);
        fs.rename(&path, "/ascii").await.unwrap();
        assert_eq!(srv.host_read("ascii").await, b"latin1");
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn open_create_statfs_sync_close() {
    for_each_server!(srv => {
        let fs = srv.client().await;
        let f = fs.create("/c").await.unwrap();
        f.write_at(0, b"abc").await.unwrap();
        assert_eq!(srv.host_meta("c").await.mode & 0o777, 0o644);
        assert_eq!(&f.read_at(0, 10).await.unwrap()[..], b"abc");
        drop(f);
        // create truncates
        let f = fs.create("/c").await.unwrap();
        assert_eq!(f.metadata().await.unwrap().size, 0);
        drop(f);
        let err = fs.open("/c", OpenOptions::new().write(true).create_new(true)).await.unwrap_err();
        assert_eq!(err, Error::AlreadyExists);
        let f = fs.open("/n", OpenOptions::new().write(true).create_new(true).mode(0o600)).await.unwrap();
        drop(f);
        assert_eq!(srv.host_meta("n").await.mode & 0o777, 0o600);
        assert_eq!(fs.open("/missing", OpenOptions::new().read(true)).await.unwrap_err(), Error::NotFound);
        assert!(matches!(fs.open("/c", OpenOptions::new()).await.unwrap_err(), Error::InvalidArgument(_)));
        srv.host_mkdir_p("dd").await;
        assert_eq!(fs.open("/dd", OpenOptions::new().write(true)).await.unwrap_err(), Error::IsADirectory);

        let st = fs.statfs().await.unwrap();
        let (bsize, blocks) = srv.host_statfs().await;
        assert_eq!(st.block_size as u64, bsize);
        assert_eq!(st.blocks, blocks);
        assert!(st.max_name_len >= 255);
        fs.sync().await.unwrap();

        let caps = fs.capabilities();
        assert_eq!(caps.msize, 64 * 1024);
        if srv.kind.is_ninefold() {
            // Our server speaks 9P2000.L.Z: the dialect's formulas.
            assert_eq!(caps.dialect, ninefold_client::Dialect::Z);
            assert!(caps.extensions_v1 && caps.extensions_v2);
            assert_eq!(caps.max_read_chunk, 64 * 1024 - 11);
            assert_eq!(caps.max_write_chunk, 64 * 1024 - 48);
        } else {
            assert_eq!(caps.dialect, ninefold_client::Dialect::L);
            assert!(!caps.extensions_v1 && !caps.extensions_v2);
            assert_eq!(caps.max_read_chunk, 64 * 1024 - 24);
        }

        let other = fs.clone();
        fs.close().await.unwrap();
        fs.close().await.unwrap();
        assert_eq!(other.stat("/c").await.unwrap_err(), Error::Closed);
        assert_eq!(fs.read("/c").await.unwrap_err(), Error::Closed);
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connect_options_identity() {
    for_each_server!(srv => {
        // gid is the group of everything created
        let fs = srv.client_with(srv.options().gid(4321)).await.unwrap();
        fs.write("/g", b"").await.unwrap();
        fs.create_dir("/gd", 0o755).await.unwrap();
        fs.symlink("g", "/gl").await.unwrap();
        assert_eq!(srv.host_meta("g").await.gid, 4321);
        assert_eq!(srv.host_meta("gd").await.gid, 4321);
        assert_eq!(srv.host_meta("gl").await.gid, 4321);
        // uid is who the server acts as
        srv.host_mkdir_p("open").await;
        srv.host_chmod("open", 0o777).await;
        let nobody = srv.client_with(srv.options().uid(65534).gid(65534).uname("nobody")).await.unwrap();
        nobody.write("/open/mine", b"n").await.unwrap();
        let h = srv.host_meta("open/mine").await;
        assert_eq!((h.uid, h.gid), (65534, 65534));
    });
}
