//! The proxy example end to end: client → Ninefold server serving
//! `ProxyNode` → backend (diod, or Ninefold's server over memfs), with
//! every effect checked on the backend's side.

mod support;

#[path = "../examples/proxy/node.rs"]
mod proxy_node;

use std::collections::BTreeSet;

use ninefold_client::{ConnectOptions, Error, OpenOptions, Session};
use support::{serve_in_process, ServerKind, TestServer};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_through_proxy_to_backend() {
    for kind in support::server_kinds() {
        if kind == ServerKind::Passthrough {
            continue; // the same server as memfs; diod and memfs cover the proxy
        }
        let Some(backend) = TestServer::start(kind) else { continue };
        let srv = &backend;
        let session = Session::connect(&srv.target, 64 * 1024).await.unwrap();
        let root =
            proxy_node::ProxyNode::attach(session.clone(), "root", &srv.aname, 0).await.unwrap();
        let proxy = serve_in_process(root);
        let fs = ninefold_client::Client::connect_with(
            &proxy.target,
            ConnectOptions::new().aname("").msize(128 * 1024).uid(0).gid(0).uname("root"),
        )
        .await
        .unwrap();

        // mkdir + create/write through the proxy land on the backend
        fs.create_dir_all("/p/q", 0o755).await.unwrap();
        assert!(srv.host_is_dir("p/q").await);
        let data: Vec<u8> = (0..700_000u32).map(|i| (i % 253) as u8).collect();
        fs.write("/p/q/file", &data).await.unwrap();
        assert_eq!(srv.host_read("p/q/file").await, data);
        // backend content read back through the proxy (lookup, open, read)
        srv.host_write("p/from-backend", b"written behind the proxy").await;
        assert_eq!(&fs.read("/p/from-backend").await.unwrap()[..], b"written behind the proxy");
        assert_eq!(&fs.read("/p/q/file").await.unwrap()[..], &data[..]);
        // getattr is the backend's
        let m = fs.metadata("/p/q/file").await.unwrap();
        let h = srv.host_meta("p/q/file").await;
        assert_eq!((m.ino, m.size, m.mode), (h.ino, h.size, h.mode));
        // positioned I/O on one open handle
        let f = fs.open("/p/q/file", OpenOptions::new().read(true).write(true)).await.unwrap();
        f.write_at(10, b"PROXY").await.unwrap();
        assert_eq!(
            &f.read_at(8, 9).await.unwrap()[..],
            &[data[8], data[9], b'P', b'R', b'O', b'X', b'Y', data[15], data[16]]
        );
        f.set_len(20).await.unwrap();
        drop(f);
        assert_eq!(srv.host_meta("p/q/file").await.size, 20);
        // readdir over several round trips
        for i in 0..300 {
            srv.host_write(format!("p/n{i:03}-{}", "y".repeat(40)), b"").await;
        }
        let names: BTreeSet<String> =
            fs.read_dir("/p").await.unwrap().into_iter().map(|e| e.name).collect();
        assert_eq!(names.len(), 302, "300 files + q + from-backend");
        assert!(
            names.contains("q")
                && names.contains("from-backend")
                && names.contains(&format!("n299-{}", "y".repeat(40)))
        );
        // rename and unlink
        fs.rename("/p/q/file", "/p/renamed").await.unwrap();
        assert!(!srv.host_exists("p/q/file").await);
        assert_eq!(srv.host_read("p/renamed").await.len(), 20);
        fs.remove_file("/p/renamed").await.unwrap();
        assert!(!srv.host_exists("p/renamed").await);
        assert_eq!(fs.remove_dir("/p").await.unwrap_err(), Error::DirectoryNotEmpty);
        fs.remove_dir("/p/q").await.unwrap();
        assert!(!srv.host_exists("p/q").await);
        // errors come back with the backend's errno
        assert_eq!(fs.stat("/p/missing").await.unwrap_err(), Error::NotFound);
        assert_eq!(fs.create_dir("/p", 0o755).await.unwrap_err(), Error::AlreadyExists);
        // symlink + readlink pass through too
        fs.symlink("from-backend", "/p/link").await.unwrap();
        assert_eq!(srv.host_read_link("p/link").await, b"from-backend");
        assert_eq!(&fs.read("/p/link").await.unwrap()[..], b"written behind the proxy");
        fs.remove_dir_all("/p").await.unwrap();
        assert!(!srv.host_exists("p").await);

        // every backend fid the proxy took is given back once the client is gone
        fs.close().await.unwrap();
        drop(fs);
        let mut live = usize::MAX;
        for _ in 0..400 {
            live = session.stats().fids_live;
            if live == 1 {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        assert_eq!(
            live,
            1,
            "only the proxy root remains; backend fids still held by the proxy: {:?}",
            session.stats()
        );
        drop(proxy);
    }
}
