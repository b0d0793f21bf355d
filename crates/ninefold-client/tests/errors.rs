//! Every `Error` variant, produced for real (server errors from diod,
//! client-side checks, connection failures), with its errno.

mod support;

use ninefold_client::{Client, ConnectOptions, Errno, Error, NodeKind, OpenOptions, Session};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_errors_map_one_to_one() {
    for_each_server!(srv => {
        let fs = srv.client().await;
        srv.host_mkdir_p("full/sub").await;
        srv.host_write("file", b"x").await;
        srv.host_write("secret", b"x").await;
        srv.host_chmod("secret", 0o600).await;
        srv.host_symlink("l2", "l1").await;
        srv.host_symlink("l1", "l2").await;

        let e = fs.stat("/missing").await.unwrap_err();
        assert_eq!((e.clone(), e.errno()), (Error::NotFound, Errno::ENOENT));
        assert!(e.is_not_found());

        let e = fs.create_dir("/full", 0o755).await.unwrap_err();
        assert_eq!((e.clone(), e.errno()), (Error::AlreadyExists, Errno::EEXIST));
        assert!(e.is_already_exists());

        let e = fs.stat("/file/below").await.unwrap_err();
        assert_eq!((e.clone(), e.errno()), (Error::NotADirectory, Errno::ENOTDIR));
        assert!(e.is_not_a_directory());
        // server-side ENOTDIR too
        let e = fs.remove_dir("/file").await.unwrap_err();
        assert_eq!(e, Error::NotADirectory);

        let e = fs.remove_file("/full").await.unwrap_err();
        assert_eq!((e.clone(), e.errno()), (Error::IsADirectory, Errno::EISDIR));
        assert!(e.is_a_directory());
        // server-side EISDIR: truncating a directory
        assert_eq!(fs.truncate("/full", 0).await.unwrap_err(), Error::IsADirectory);

        let e = fs.remove_dir("/full").await.unwrap_err();
        assert_eq!((e.clone(), e.errno()), (Error::DirectoryNotEmpty, Errno::ENOTEMPTY));

        let e = fs.metadata("/l1").await.unwrap_err();
        assert_eq!((e.clone(), e.errno()), (Error::TooManySymlinks, Errno::ELOOP));

        // server-side EINVAL: readlink of a regular file
        let e = fs.read_link("/file").await.unwrap_err();
        assert!(matches!(e, Error::InvalidArgument(_)), "{e:?}");
        assert_eq!(e.errno(), Errno::EINVAL);

        // any other errno is kept verbatim: opening a socket node is ENXIO
        fs.mknod("/sock", NodeKind::Socket, 0o666).await.unwrap();
        let e = fs.open("/sock", OpenOptions::new().read(true)).await.unwrap_err();
        assert_eq!(e, Error::Io(Errno::ENXIO));
        assert_eq!(e.errno(), Errno::ENXIO);

        // as an unprivileged user: EACCES and EPERM
        let nobody = srv.client_with(srv.options().uid(65534).gid(65534).uname("nobody")).await.unwrap();
        let e = nobody.read("/secret").await.unwrap_err();
        assert_eq!((e.clone(), e.errno()), (Error::PermissionDenied, Errno::EACCES));
        assert!(e.is_permission());
        let e = nobody.chmod("/file", 0o777).await.unwrap_err();
        assert_eq!((e.clone(), e.errno()), (Error::NotPermitted, Errno::EPERM));
        assert!(e.is_permission());
        assert_eq!(srv.host_meta("file").await.mode & 0o777, 0o644);
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_side_errors() {
    for_each_server!(srv => {
        let fs = srv.client().await;
        let long = "n".repeat(256);
        let e = fs.write(format!("/{long}"), b"").await.unwrap_err();
        assert_eq!((e.clone(), e.errno()), (Error::NameTooLong, Errno::ENAMETOOLONG));
        assert_eq!(fs.create_dir(&long, 0o755).await.unwrap_err(), Error::NameTooLong);

        let e = fs.stat("/a/../b").await.unwrap_err();
        assert!(matches!(e, Error::InvalidArgument(_)));
        assert_eq!(e.errno(), Errno::EINVAL);
        assert!(matches!(fs.open("/x", OpenOptions::new()).await.unwrap_err(), Error::InvalidArgument(_)));

        let f = fs.create("/f").await.unwrap();
        f.close().await.unwrap();
        let e = f.sync_all().await.unwrap_err();
        assert_eq!((e.clone(), e.errno()), (Error::Closed, Errno::EBADF));
        assert!(e.is_closed());
        fs.close().await.unwrap();
        assert_eq!(fs.statfs().await.unwrap_err(), Error::Closed);
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connect_failures() {
    // nothing listening
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let e = Client::connect(&format!("127.0.0.1:{port}")).await.unwrap_err();
    assert!(e.is_connect_failed(), "{e:?}");
    assert_eq!(e.errno(), Errno::EIO);
    let e = Client::connect("unix:/nonexistent/9p.sock").await.unwrap_err();
    assert!(e.is_connect_failed());
    assert!(matches!(
        Client::connect("host:notaport").await.unwrap_err(),
        Error::InvalidArgument(_)
    ));

    // a listener that never answers: connect_timeout_ms bounds the wait
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = silent.local_addr().unwrap();
    let hold = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((s, _)) = silent.accept().await {
            held.push(s);
        }
    });
    let t = std::time::Instant::now();
    let e = Client::connect_with(
        &addr.to_string(),
        ConnectOptions::new().connect_timeout_ms(Some(200)),
    )
    .await
    .unwrap_err();
    assert!(e.is_connect_failed(), "{e:?}");
    assert!(t.elapsed() < std::time::Duration::from_secs(5));
    hold.abort();

    for_each_server!(srv => {
        // bad aname: the attach fails
        let e = srv.client_with(srv.options().aname("/definitely/not/exported")).await.unwrap_err();
        assert!(e.is_connect_failed(), "{e:?}");
        // msize below the 9P minimum is raised to 4096, and honoured
        let c = srv.client_with(srv.options().msize(4096)).await.unwrap();
        assert_eq!(c.capabilities().msize, 4096);
        c.write("/m", vec![1u8; 100_000]).await.unwrap();
        assert_eq!(srv.host_read("m").await, vec![1u8; 100_000]);
    });
}

/// A peer that negotiates correctly and then misbehaves: answered with a
/// wrong reply type, then a garbage frame, the client reports Protocol.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn protocol_errors() {
    use ninefold_client::proto::{base, Dialect, Frame, Message};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let peer = tokio::spawn(async move {
        let (mut s, _) = listener.accept().await.unwrap();
        let mut buf = vec![0u8; 4096];
        // Tversion -> Rversion
        let n = s.read(&mut buf).await.unwrap();
        let tv = Frame::decode(bytes::Bytes::copy_from_slice(&buf[..n]), Dialect::L).unwrap();
        let Message::Tversion(v) = tv.message else { panic!() };
        let mut out = bytes::BytesMut::new();
        Frame::new(tv.tag, base::Rversion { msize: v.msize.min(8192), version: "9P2000.L".into() })
            .encode(Dialect::L, &mut out)
            .unwrap();
        s.write_all(&out).await.unwrap();
        // Tattach -> Rread (wrong type)
        let n = s.read(&mut buf).await.unwrap();
        let ta = Frame::decode(bytes::Bytes::copy_from_slice(&buf[..n]), Dialect::L).unwrap();
        out.clear();
        Frame::new(ta.tag, base::Rread { data: bytes::Bytes::new() })
            .encode(Dialect::L, &mut out)
            .unwrap();
        s.write_all(&out).await.unwrap();
        // next request -> an oversized frame header: the stream is lost
        let _ = s.read(&mut buf).await.unwrap();
        s.write_all(&[0xff, 0xff, 0xff, 0x7f, 0, 0, 0]).await.unwrap();
        let _ = s.read(&mut buf).await;
    });
    let session = Session::connect(&addr.to_string(), 8192).await.unwrap();
    let e = session.attach("u", "", 0).await.unwrap_err();
    assert!(matches!(e, Error::Protocol(_)), "{e:?}");
    assert_eq!(e.errno(), Errno::EIO);
    let e = session.attach("u", "", 0).await.unwrap_err();
    assert!(e.is_protocol(), "{e:?}");
    // the connection is now dead: later calls fail fast, nothing leaks
    assert!(session.attach("u", "", 0).await.unwrap_err().is_protocol());
    assert!(session.stats().dead);
    // the fid of the first (mis-answered) attach is released by the reaper
    for _ in 0..200 {
        if session.stats().fids_live == 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    let st = session.stats();
    assert_eq!((st.tags_in_use, st.fids_live), (0, 0), "{st:?}");
    peer.abort();
}
