//! Dialect negotiation and fallback: the client offers `9P2000.L.Z`,
//! `9P2000.L`, `9P2000.u`, `9P2000` in turn; against our own server
//! restricted to each dialect the path API works with what that dialect
//! can express, and the rest is a typed `Unsupported` error. Plain .L is
//! also checked against diod.

mod support;

use ninefold_client::{Client, ConnectOptions, Dialect, Error, NodeKind, OpenOptions, SetAttrs};
use ninefold_fs::memfs::MemFs;
use ninefold_server::Exports;
use support::{serve_dialects, ServerKind, TestServer, MEMFS_ANAME};

fn memfs(dialects: &[Dialect]) -> (MemFs, support::Served) {
    let fs = MemFs::new();
    let served = serve_dialects(Exports::new().export(MEMFS_ANAME, fs.root()), dialects);
    (fs, served)
}

async fn connect(target: &str, offer: Option<&[Dialect]>) -> ninefold_client::Result<Client> {
    let mut o = ConnectOptions::new().aname(MEMFS_ANAME).uid(0).gid(0).uname("root");
    if let Some(d) = offer {
        o = o.dialects(d.to_vec());
    }
    Client::connect_with(target, o).await
}

/// The path API on whatever was negotiated.
async fn exercise(c: &Client, d: Dialect) {
    let plan9 = !d.is_dotl();
    c.create_dir_all("/d/e", 0o755).await.unwrap();
    c.write("/d/f.txt", b"hello dialect").await.unwrap();
    assert_eq!(&c.read("/d/f.txt").await.unwrap()[..], b"hello dialect");
    assert_eq!(&c.read_range("/d/f.txt", 6, 7).await.unwrap()[..], b"dialect");
    let m = c.metadata("/d/f.txt").await.unwrap();
    assert!(m.is_file() && m.size == 13, "{m:?}");
    assert!(c.metadata("/d/e").await.unwrap().is_dir());
    assert!(c.exists("/d/f.txt").await.unwrap());
    assert!(!c.exists("/d/nope").await.unwrap());
    assert!(matches!(c.metadata("/d/nope").await, Err(Error::NotFound)));

    let m = c.set_attr("/d/f.txt", SetAttrs { mode: Some(0o600), ..Default::default() }).await;
    assert_eq!(m.unwrap().mode & 0o7777, 0o600);
    let m = c.truncate("/d/f.txt", 5).await.unwrap();
    assert_eq!(m.size, 5);
    assert_eq!(&c.read("/d/f.txt").await.unwrap()[..], b"hello");

    let mut names: Vec<_> = c.read_dir("/d").await.unwrap();
    names.sort_by(|a, b| a.name.cmp(&b.name));
    assert_eq!(names.iter().map(|e| e.name.as_str()).collect::<Vec<_>>(), ["e", "f.txt"]);
    // Readdirplus on .Z, stat records on 9P2000/.u; plain .L has none.
    let filled = names.iter().all(|e| e.metadata.is_some());
    assert_eq!(filled, d != Dialect::L, "metadata in read_dir on {}", d.version());
    if filled {
        assert_eq!(names[1].metadata.unwrap().size, 5);
    }

    let f = c.open("/d/g.bin", OpenOptions::new().read(true).write(true).create_new(true)).await;
    let f = f.unwrap();
    f.write_at(0, &[7u8; 10_000]).await.unwrap();
    assert_eq!(f.read_at(9_990, 100).await.unwrap().len(), 10);
    assert_eq!(f.metadata().await.unwrap().size, 10_000);
    f.sync_all().await.unwrap();
    c.sync().await.unwrap();
    let again = c.open("/d/g.bin", OpenOptions::new().write(true).create_new(true)).await;
    assert!(matches!(again, Err(Error::AlreadyExists)), "{again:?}");
    f.close().await.unwrap();

    c.rename("/d/g.bin", "/d/h.bin").await.unwrap();
    assert!(c.exists("/d/h.bin").await.unwrap() && !c.exists("/d/g.bin").await.unwrap());
    let across = c.rename("/d/h.bin", "/d/e/h.bin").await;
    if plan9 {
        assert!(matches!(across, Err(Error::Unsupported(_))), "{across:?}");
        c.remove_file("/d/h.bin").await.unwrap();
    } else {
        across.unwrap();
        c.remove_file("/d/e/h.bin").await.unwrap();
    }

    let dir = c.open_dir("/d").await.unwrap();
    assert!(dir.create_dir_at("sub", 0o700).await.unwrap().is_dir());
    assert!(dir.metadata_at("sub").await.unwrap().is_dir());
    dir.remove_dir_at("sub").await.unwrap();

    let link = c.symlink("f.txt", "/d/ln").await;
    let dev = c.mknod("/d/fifo", NodeKind::Fifo, 0o644).await;
    if d == Dialect::Base {
        assert!(matches!(link, Err(Error::Unsupported(_))), "{link:?}");
        assert!(matches!(dev, Err(Error::Unsupported(_))), "{dev:?}");
        let e = c.hard_link("/d/f.txt", "/d/hl").await.unwrap_err();
        assert!(e.is_unsupported(), "{e:?}");
        assert_eq!(e.errno(), ninefold_client::Errno::EOPNOTSUPP);
    } else {
        assert!(link.unwrap().is_symlink());
        assert_eq!(&c.read_link("/d/ln").await.unwrap()[..], b"f.txt");
        assert_eq!(c.metadata("/d/ln").await.unwrap().size, 5, "metadata follows the link");
        assert!(dev.unwrap().file_type == ninefold_client::FileType::Fifo);
        c.remove_file("/d/ln").await.unwrap();
        c.remove_file("/d/fifo").await.unwrap();
    }
    let statfs = c.statfs().await;
    assert_eq!(statfs.is_ok(), !plan9, "{statfs:?}");

    c.remove_dir_all("/d").await.unwrap();
    assert!(!c.exists("/d").await.unwrap());
}

async fn run_restricted(server: &[Dialect], want: Dialect) {
    let (_fs, served) = memfs(server);
    let c = connect(&served.target, None).await.unwrap();
    let caps = c.capabilities();
    assert_eq!(caps.dialect, want, "server offering {server:?}");
    assert_eq!(caps.extensions_v1, want == Dialect::Z);
    exercise(&c, want).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn falls_back_to_plain_l() {
    run_restricted(&[Dialect::L], Dialect::L).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn falls_back_to_9p2000_u() {
    run_restricted(&[Dialect::U], Dialect::U).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn falls_back_to_9p2000() {
    run_restricted(&[Dialect::Base], Dialect::Base).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_option_restricts_the_offer() {
    let (_fs, served) = memfs(&[Dialect::L, Dialect::U, Dialect::Base]);
    let c = connect(&served.target, Some(&[Dialect::U])).await.unwrap();
    assert_eq!(c.capabilities().dialect, Dialect::U);
    let c = connect(&served.target, Some(&[Dialect::Base, Dialect::L])).await.unwrap();
    assert_eq!(c.capabilities().dialect, Dialect::Base);
    let (_fs2, only_l) = memfs(&[Dialect::L]);
    let e = connect(&only_l.target, Some(&[Dialect::U, Dialect::Base])).await.unwrap_err();
    assert!(e.is_connect_failed(), "{e:?}");
    let e = connect(&only_l.target, Some(&[])).await.unwrap_err();
    assert!(matches!(e, Error::InvalidArgument(_)), "{e:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn diod_negotiates_plain_l() {
    let Some(srv) = TestServer::start(ServerKind::Diod) else { return };
    let c = srv.client().await;
    let caps = c.capabilities();
    assert_eq!(caps.dialect, Dialect::L);
    assert!(!caps.extensions_v1 && !caps.extensions_v2);
    assert_eq!(caps.max_read_chunk, caps.msize - 24);
    c.write("/x", b"diod").await.unwrap();
    assert_eq!(&c.read("/x").await.unwrap()[..], b"diod");
}

/// A front for `backend` that hangs up on any Tversion asking for
/// `9P2000.L.Z` (as some servers do with a version they do not know) and
/// passes everything else through; returns its target and how many
/// connections it dropped.
async fn hang_up_on_z(backend: String) -> (String, std::sync::Arc<std::sync::atomic::AtomicU32>) {
    use std::sync::atomic::{AtomicU32, Ordering};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let target = format!("tcp://{}", l.local_addr().unwrap());
    let dropped = std::sync::Arc::new(AtomicU32::new(0));
    let d = dropped.clone();
    tokio::spawn(async move {
        loop {
            let Ok((mut c, _)) = l.accept().await else { return };
            let (backend, d) = (backend.clone(), d.clone());
            tokio::spawn(async move {
                let mut size = [0u8; 4];
                if c.read_exact(&mut size).await.is_err() {
                    return;
                }
                let mut rest = vec![0u8; u32::from_le_bytes(size) as usize - 4];
                if c.read_exact(&mut rest).await.is_err() {
                    return;
                }
                if rest.ends_with(b"9P2000.L.Z") {
                    d.fetch_add(1, Ordering::SeqCst);
                    return; // hang up
                }
                let mut s = tokio::net::TcpStream::connect(&backend).await.unwrap();
                s.write_all(&size).await.unwrap();
                s.write_all(&rest).await.unwrap();
                let _ = tokio::io::copy_bidirectional(&mut c, &mut s).await;
            });
        }
    });
    (target, dropped)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_hangs_up_is_dialled_again() {
    let (_fs, served) = memfs(&[Dialect::L, Dialect::U, Dialect::Base]);
    let (front, dropped) = hang_up_on_z(served.target.trim_start_matches("tcp://").into()).await;
    let c = connect(&front, None).await.unwrap();
    assert_eq!(c.capabilities().dialect, Dialect::L);
    assert_eq!(dropped.load(std::sync::atomic::Ordering::SeqCst), 1);
    c.write("/x", b"after a hang-up").await.unwrap();
    assert_eq!(&c.read("/x").await.unwrap()[..], b"after a hang-up");
}
