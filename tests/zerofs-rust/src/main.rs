//! The official `zerofs-client` crate (crates.io) against `ninefold serve`.
//!
//! Starts the server itself (memfs or a passthrough directory) on a free
//! loopback port, drives every operation of the client's Client, File and
//! Dir surface, checks the results and the error variants, then SIGKILLs the
//! server, restarts it on the same port and export and checks that the same
//! client carries on. Prints one line per check and a final `N passed, N failed`.
//!
//! Usage: zerofs-rust-peer --bin PATH/TO/ninefold (--memory | --dir DIR)

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::process::{Child, Command};
use zerofs_client::{
    Client, ConnectOptions, FileType, NodeKind, OpenOptions, SetAttrs, SetTime, Timestamp,
    ZeroFsError,
};

type R = Result<(), String>;

macro_rules! ensure {
    ($cond:expr, $($fmt:tt)+) => {
        if !$cond {
            return Err(format!("{}:{}: {}", file!(), line!(), format!($($fmt)+)));
        }
    };
}

/// Unwraps a client result into the check's error string.
macro_rules! ok {
    ($e:expr) => {
        match $e {
            Ok(v) => v,
            Err(err) => return Err(format!("{}:{}: {}: {err:?}", file!(), line!(), stringify!($e))),
        }
    };
}

/// Expects a given error variant.
macro_rules! fails {
    ($e:expr, $pat:pat) => {
        match $e {
            Err($pat) => {}
            Err(other) => {
                return Err(format!(
                    "{}:{}: {}: wrong error {other:?}, wanted {}",
                    file!(),
                    line!(),
                    stringify!($e),
                    stringify!($pat)
                ))
            }
            Ok(_) => {
                return Err(format!(
                    "{}:{}: {}: succeeded, wanted {}",
                    file!(),
                    line!(),
                    stringify!($e),
                    stringify!($pat)
                ))
            }
        }
    };
}

struct Server {
    bin: PathBuf,
    export: Option<PathBuf>,
    port: u16,
    child: Option<Child>,
}

impl Server {
    async fn start(bin: PathBuf, export: Option<PathBuf>) -> Result<Self, String> {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map_err(|e| format!("free port: {e}"))?
            .port();
        let mut s = Server { bin, export, port, child: None };
        s.spawn().await?;
        Ok(s)
    }

    async fn spawn(&mut self) -> R {
        let mut cmd = Command::new(&self.bin);
        cmd.arg("serve")
            .arg("--listen")
            .arg(format!("tcp://127.0.0.1:{}", self.port))
            .arg("--log")
            .arg("warn")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .kill_on_drop(true);
        match &self.export {
            Some(dir) => cmd.arg(dir),
            None => cmd.arg("--memory"),
        };
        let child = cmd.spawn().map_err(|e| format!("spawn {:?}: {e}", self.bin))?;
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if tokio::net::TcpStream::connect(("127.0.0.1", self.port)).await.is_ok() {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        Err(format!("server did not listen on port {}", self.port))
    }

    async fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.start_kill(); // SIGKILL
            let _ = c.wait().await;
        }
    }

    fn target(&self) -> String {
        format!("tcp://127.0.0.1:{}", self.port)
    }
}

struct Ctx {
    fs: Arc<Client>,
    /// Host path of the export when it is a directory (to check bytes on disk).
    host: Option<PathBuf>,
    /// Per-check prefix so each check works in its own directory.
    base: String,
}

impl Ctx {
    fn p(&self, rel: &str) -> String {
        format!("{}/{rel}", self.base)
    }
}

async fn t_connect_capabilities(c: &Ctx) -> R {
    let caps = c.fs.capabilities();
    ensure!(caps.msize >= 4096, "msize {}", caps.msize);
    ensure!(
        caps.max_read_chunk == caps.msize - 11,
        "max_read_chunk {} for msize {}",
        caps.max_read_chunk,
        caps.msize
    );
    ensure!(
        caps.max_write_chunk == caps.msize - 48,
        "max_write_chunk {} for msize {}",
        caps.max_write_chunk,
        caps.msize
    );
    Ok(())
}

async fn t_write_read(c: &Ctx) -> R {
    let p = c.p("a.txt");
    ok!(c.fs.write(&p, b"hello zerofs").await);
    let data = ok!(c.fs.read(&p).await);
    ensure!(&data[..] == b"hello zerofs", "read back {:?}", data);
    // write truncates
    ok!(c.fs.write(&p, b"hi").await);
    ensure!(&ok!(c.fs.read(&p).await)[..] == b"hi", "truncate on write");
    // large, multi-chunk
    let big: Vec<u8> = (0..3_000_000u32).map(|i| (i * 7 % 251) as u8).collect();
    ok!(c.fs.write(c.p("big.bin"), &big).await);
    let back = ok!(c.fs.read(c.p("big.bin")).await);
    let diff = back.iter().zip(big.iter()).position(|(a, b)| a != b);
    ensure!(
        back.len() == big.len() && diff.is_none(),
        "big file differs: read {} bytes of {}, first difference at {diff:?}",
        back.len(),
        big.len()
    );
    if let Some(h) = &c.host {
        let on_disk = std::fs::read(h.join(c.p("big.bin").trim_start_matches('/')))
            .map_err(|e| e.to_string())?;
        ensure!(on_disk == big, "bytes on disk differ");
    }
    fails!(c.fs.read(c.p("missing")).await, ZeroFsError::NotFound { .. });
    fails!(
        c.fs.read(&c.base).await,
        ZeroFsError::IsADirectory { .. } | ZeroFsError::Io { errno: 21, .. }
    );
    Ok(())
}

async fn t_read_range(c: &Ctx) -> R {
    let p = c.p("r.bin");
    ok!(c.fs.write(&p, b"0123456789").await);
    ensure!(&ok!(c.fs.read_range(&p, 3, 4).await)[..] == b"3456", "middle");
    ensure!(&ok!(c.fs.read_range(&p, 8, 100).await)[..] == b"89", "short at eof");
    ensure!(ok!(c.fs.read_range(&p, 50, 10).await).is_empty(), "past eof");
    fails!(c.fs.read_range(c.p("nope"), 0, 1).await, ZeroFsError::NotFound { .. });
    Ok(())
}

async fn t_append(c: &Ctx) -> R {
    let p = c.p("log");
    let o1 = ok!(c.fs.append(&p, b"one\n").await);
    let o2 = ok!(c.fs.append(&p, b"two\n").await);
    ensure!(o1 == 0 && o2 == 4, "offsets {o1} {o2}");
    ensure!(&ok!(c.fs.read(&p).await)[..] == b"one\ntwo\n", "contents");
    Ok(())
}

async fn t_stat_metadata_exists(c: &Ctx) -> R {
    let p = c.p("f");
    ok!(c.fs.write(&p, b"12345").await);
    let m = ok!(c.fs.stat(&p).await);
    ensure!(m.file_type == FileType::File && m.size == 5, "stat {m:?}");
    ensure!(m.is_file() && !m.is_dir(), "predicates");
    ensure!(m.nlink == 1, "nlink {}", m.nlink);
    ok!(c.fs.symlink("f", c.p("ln")).await);
    let ls = ok!(c.fs.stat(c.p("ln")).await);
    ensure!(ls.file_type == FileType::Symlink && ls.size == 1, "stat does not follow {ls:?}");
    let lm = ok!(c.fs.metadata(c.p("ln")).await);
    ensure!(
        lm.file_type == FileType::File && lm.ino == m.ino && lm.size == 5,
        "metadata follows {lm:?}"
    );
    let d = ok!(c.fs.stat(&c.base).await);
    ensure!(d.is_dir(), "dir stat");
    ensure!(ok!(c.fs.exists(&p).await), "exists");
    ensure!(ok!(c.fs.exists(c.p("ln")).await), "exists symlink");
    ensure!(!ok!(c.fs.exists(c.p("nope")).await), "exists missing");
    fails!(c.fs.stat(c.p("nope")).await, ZeroFsError::NotFound { .. });
    fails!(c.fs.stat(c.p("f/x")).await, ZeroFsError::NotADirectory { .. });
    let long = "x".repeat(300);
    fails!(c.fs.stat(c.p(&long)).await, ZeroFsError::NameTooLong { .. });
    fails!(c.fs.stat(c.p("../etc")).await, ZeroFsError::InvalidArgument { .. });
    // a symlink loop
    ok!(c.fs.symlink("loop2", c.p("loop1")).await);
    ok!(c.fs.symlink("loop1", c.p("loop2")).await);
    fails!(c.fs.metadata(c.p("loop1")).await, ZeroFsError::TooManySymlinks { .. });
    Ok(())
}

async fn t_canonicalize(c: &Ctx) -> R {
    ok!(c.fs.create_dir_all(c.p("x/y"), 0o755).await);
    ok!(c.fs.write(c.p("x/y/z"), b"z").await);
    ok!(c.fs.symlink("x/y", c.p("yl")).await);
    let canon = ok!(c.fs.canonicalize(c.p("yl")).await);
    let want = c.p("x/y");
    ensure!(
        canon.to_string_lossy().trim_start_matches('/') == want.trim_start_matches('/'),
        "canonicalize {canon:?} want {want}"
    );
    Ok(())
}

async fn t_setattr_family(c: &Ctx) -> R {
    let p = c.p("attr");
    ok!(c.fs.write(&p, b"abcdef").await);
    let m = ok!(c.fs.chmod(&p, 0o600).await);
    ensure!(m.permissions() == 0o600, "chmod -> {:o}", m.mode);
    let m = ok!(c.fs.chown(&p, Some(1234), Some(2345)).await);
    ensure!(m.uid == 1234 && m.gid == 2345, "chown -> {}:{}", m.uid, m.gid);
    let m = ok!(c.fs.chown(&p, None, Some(3456)).await);
    ensure!(m.uid == 1234 && m.gid == 3456, "chown gid only -> {}:{}", m.uid, m.gid);
    let m = ok!(c.fs.truncate(&p, 3).await);
    ensure!(m.size == 3, "truncate -> {}", m.size);
    ensure!(&ok!(c.fs.read(&p).await)[..] == b"abc", "truncated data");
    let m = ok!(c.fs.truncate(&p, 10).await);
    ensure!(m.size == 10, "extend");
    let t = Timestamp { secs: 1_000_000_000, nanos: 500 };
    let m =
        ok!(c.fs.set_times(&p, Some(SetTime::At { time: t }), Some(SetTime::At { time: t })).await);
    ensure!(m.mtime.secs == 1_000_000_000 && m.atime.secs == 1_000_000_000, "set_times {m:?}");
    let m = ok!(c.fs.set_times(&p, None, Some(SetTime::Now)).await);
    ensure!(m.mtime.secs > 1_600_000_000 && m.atime.secs == 1_000_000_000, "mtime now {m:?}");
    let m = ok!(c
        .fs
        .set_attr(&p, SetAttrs { mode: Some(0o640), size: Some(1), ..Default::default() })
        .await);
    ensure!(m.permissions() == 0o640 && m.size == 1, "set_attr {m:?}");
    let st = ok!(c.fs.stat(&p).await);
    ensure!(st.permissions() == 0o640 && st.size == 1, "stat after set_attr");
    fails!(c.fs.chmod(c.p("missing"), 0o600).await, ZeroFsError::NotFound { .. });
    Ok(())
}

async fn t_statfs_sync(c: &Ctx) -> R {
    let s = ok!(c.fs.statfs().await);
    ensure!(s.block_size > 0 && s.max_name_len >= 255, "statfs {s:?}");
    ensure!(s.blocks_free <= s.blocks, "statfs free > total {s:?}");
    ok!(c.fs.write(c.p("s"), b"durable").await);
    ok!(c.fs.sync().await);
    Ok(())
}

async fn t_dirs(c: &Ctx) -> R {
    let m = ok!(c.fs.create_dir(c.p("d1"), 0o750).await);
    ensure!(m.is_dir() && m.permissions() == 0o750, "create_dir {m:?}");
    fails!(c.fs.create_dir(c.p("d1"), 0o755).await, ZeroFsError::AlreadyExists { .. });
    fails!(c.fs.create_dir(c.p("no/such"), 0o755).await, ZeroFsError::NotFound { .. });
    ok!(c.fs.create_dir_all(c.p("a/b/c/d"), 0o755).await);
    ok!(c.fs.create_dir_all(c.p("a/b/c/d"), 0o755).await); // idempotent
    ensure!(ok!(c.fs.stat(c.p("a/b/c/d")).await).is_dir(), "create_dir_all");
    ok!(c.fs.write(c.p("a/b/file"), b"x").await);
    fails!(c.fs.remove_dir(c.p("a/b")).await, ZeroFsError::DirectoryNotEmpty { .. });
    fails!(c.fs.remove_dir(c.p("a/b/file")).await, ZeroFsError::NotADirectory { .. });
    fails!(
        c.fs.remove_file(c.p("a/b/c")).await,
        ZeroFsError::IsADirectory { .. } | ZeroFsError::NotPermitted { .. }
    );
    ok!(c.fs.remove_dir(c.p("a/b/c/d")).await);
    ensure!(!ok!(c.fs.exists(c.p("a/b/c/d")).await), "remove_dir");
    ok!(c.fs.remove_file(c.p("a/b/file")).await);
    ensure!(!ok!(c.fs.exists(c.p("a/b/file")).await), "remove_file");
    fails!(c.fs.remove_file(c.p("a/b/file")).await, ZeroFsError::NotFound { .. });
    ok!(c.fs.write(c.p("a/b/c/deep"), b"y").await);
    ok!(c.fs.remove_dir_all(c.p("a")).await);
    ensure!(!ok!(c.fs.exists(c.p("a")).await), "remove_dir_all");
    fails!(
        c.fs.remove_dir_all("/").await,
        ZeroFsError::InvalidArgument { .. }
            | ZeroFsError::NotPermitted { .. }
            | ZeroFsError::Io { .. }
    );
    Ok(())
}

async fn t_rename_links(c: &Ctx) -> R {
    ok!(c.fs.write(c.p("src"), b"S").await);
    ok!(c.fs.write(c.p("dst"), b"D").await);
    ok!(c.fs.rename(c.p("src"), c.p("dst")).await);
    ensure!(&ok!(c.fs.read(c.p("dst")).await)[..] == b"S", "rename replaces");
    ensure!(!ok!(c.fs.exists(c.p("src")).await), "source gone");
    fails!(c.fs.rename(c.p("src"), c.p("x")).await, ZeroFsError::NotFound { .. });
    let m = ok!(c.fs.hard_link(c.p("dst"), c.p("hl")).await);
    ensure!(m.nlink == 2 && m.is_file(), "hard_link {m:?}");
    ensure!(
        ok!(c.fs.stat(c.p("hl")).await).ino == ok!(c.fs.stat(c.p("dst")).await).ino,
        "same inode"
    );
    fails!(c.fs.hard_link(c.p("dst"), c.p("hl")).await, ZeroFsError::AlreadyExists { .. });
    let m = ok!(c.fs.symlink("some/where", c.p("sl")).await);
    ensure!(m.is_symlink() && m.size == 10, "symlink {m:?}");
    let t = ok!(c.fs.read_link(c.p("sl")).await);
    ensure!(t.as_os_str() == "some/where", "read_link {t:?}");
    fails!(c.fs.read_link(c.p("dst")).await, ZeroFsError::InvalidArgument { .. });
    fails!(c.fs.symlink("x", c.p("sl")).await, ZeroFsError::AlreadyExists { .. });
    Ok(())
}

async fn t_mknod(c: &Ctx) -> R {
    let m = ok!(c.fs.mknod(c.p("fifo"), NodeKind::Fifo, 0o644).await);
    ensure!(m.file_type == FileType::Fifo, "fifo {m:?}");
    let m = ok!(c.fs.mknod(c.p("sock"), NodeKind::Socket, 0o644).await);
    ensure!(m.file_type == FileType::Socket, "socket {m:?}");
    let m = ok!(c.fs.mknod(c.p("chr"), NodeKind::CharDevice { major: 1, minor: 3 }, 0o600).await);
    ensure!(m.file_type == FileType::CharDevice, "chardev {m:?}");
    // Linux new_encode_dev(1, 3) = 0x103
    ensure!(m.rdev == 0x103, "rdev {:#x}", m.rdev);
    let m = ok!(c.fs.mknod(c.p("blk"), NodeKind::BlockDevice { major: 7, minor: 0 }, 0o600).await);
    ensure!(m.file_type == FileType::BlockDevice, "blockdev {m:?}");
    fails!(c.fs.mknod(c.p("fifo"), NodeKind::Fifo, 0o644).await, ZeroFsError::AlreadyExists { .. });
    Ok(())
}

async fn t_read_dir(c: &Ctx) -> R {
    ok!(c.fs.create_dir(c.p("ls"), 0o755).await);
    for i in 0..300 {
        ok!(c.fs.write(c.p(&format!("ls/f{i:03}")), &vec![b'x'; i]).await);
    }
    ok!(c.fs.create_dir(c.p("ls/sub"), 0o755).await);
    let entries = ok!(c.fs.read_dir(c.p("ls")).await);
    ensure!(entries.len() == 301, "read_dir count {}", entries.len());
    ensure!(!entries.iter().any(|e| e.name == "." || e.name == ".."), "dot entries");
    for e in &entries {
        if e.name == "sub" {
            ensure!(e.file_type == FileType::Dir && e.metadata.is_dir(), "sub entry {e:?}");
        } else {
            let i: usize = e.name[1..].parse().map_err(|_| format!("name {}", e.name))?;
            ensure!(e.file_type == FileType::File, "type {e:?}");
            ensure!(
                e.metadata.size == i as u64,
                "readdirplus size {} for {}",
                e.metadata.size,
                e.name
            );
            ensure!(
                e.metadata.ino == e.ino && e.name_is_utf8 && e.name_bytes == e.name.as_bytes(),
                "entry {e:?}"
            );
        }
    }
    fails!(c.fs.read_dir(c.p("ls/f001")).await, ZeroFsError::NotADirectory { .. });
    fails!(c.fs.read_dir(c.p("nope")).await, ZeroFsError::NotFound { .. });
    Ok(())
}

async fn t_file_ops(c: &Ctx) -> R {
    let p = c.p("file");
    let f = ok!(c.fs.create(&p).await);
    ok!(f.write_at(0, b"hello").await);
    ok!(f.write_at(10, b"world").await);
    let all = ok!(f.read_at(0, 100).await);
    ensure!(&all[..] == b"hello\0\0\0\0\0world", "read_at {all:?}");
    ensure!(&ok!(f.read_at(10, 3).await)[..] == b"wor", "read_at range");
    ensure!(ok!(f.read_at(100, 3).await).is_empty(), "read_at eof");
    let m = ok!(f.metadata().await);
    ensure!(m.size == 15 && m.is_file(), "fstat {m:?}");
    ok!(f.set_len(4).await);
    ensure!(ok!(f.metadata().await).size == 4, "set_len");
    let m = ok!(f.set_attr(SetAttrs { mode: Some(0o604), ..Default::default() }).await);
    ensure!(m.permissions() == 0o604, "file set_attr {m:?}");
    ok!(f.sync_all().await);
    ok!(f.write_at(4, b"!").await);
    ok!(f.sync_data().await);
    // large positioned write, chunked
    let big = vec![0x5a_u8; 2_500_000];
    ok!(f.write_at(0, &big).await);
    let back = ok!(f.read_at(0, 2_600_000).await);
    ensure!(
        back.len() == 2_500_000 && back.iter().all(|b| *b == 0x5a),
        "big write_at: read back {} bytes (max_read_chunk {})",
        back.len(),
        c.fs.capabilities().max_read_chunk
    );
    f.close().await;
    f.close().await; // idempotent
    fails!(f.read_at(0, 1).await, ZeroFsError::Closed);
    // create truncates
    let f = ok!(c.fs.create(&p).await);
    ensure!(ok!(f.metadata().await).size == 0, "create truncates");
    f.close().await;
    // open options
    fails!(c.fs.open(c.p("absent"), OpenOptions::read_only()).await, ZeroFsError::NotFound { .. });
    let f = ok!(c.fs.open(c.p("new"), OpenOptions::write_only().create(true).mode(0o600)).await);
    ok!(f.write_at(0, b"new").await);
    f.close().await;
    ensure!(ok!(c.fs.stat(c.p("new")).await).permissions() == 0o600, "create mode");
    fails!(
        c.fs.open(c.p("new"), OpenOptions::write_only().create_new(true)).await,
        ZeroFsError::AlreadyExists { .. }
    );
    let f = ok!(c.fs.open(c.p("new"), OpenOptions::read_write().truncate(true)).await);
    ensure!(ok!(f.metadata().await).size == 0, "truncate option");
    f.close().await;
    fails!(
        c.fs.open(c.p("new"), OpenOptions::default()).await,
        ZeroFsError::InvalidArgument { .. }
    );
    fails!(c.fs.open(&c.base, OpenOptions::write_only()).await, ZeroFsError::IsADirectory { .. });
    let ro = ok!(c.fs.open(c.p("new"), OpenOptions::read_only()).await);
    let r = ro.write_at(0, b"x").await;
    ensure!(r.is_err(), "write on a read-only handle succeeded");
    ro.close().await;
    Ok(())
}

async fn t_dir_ops(c: &Ctx) -> R {
    ok!(c.fs.create_dir(c.p("D"), 0o755).await);
    ok!(c.fs.create_dir(c.p("E"), 0o755).await);
    let d = ok!(c.fs.open_dir(c.p("D")).await);
    let e = ok!(c.fs.open_dir(c.p("E")).await);
    ensure!(ok!(d.metadata().await).is_dir(), "dir metadata");
    let m = ok!(d.set_attr(SetAttrs { mode: Some(0o711), ..Default::default() }).await);
    ensure!(m.permissions() == 0o711, "dir set_attr");
    // non-UTF-8 name
    let odd: &[u8] = b"odd\xffname";
    let f = ok!(d.open_at(odd, OpenOptions::write_only().create(true)).await);
    ok!(f.write_at(0, b"odd").await);
    f.close().await;
    let m = ok!(d.metadata_at(odd).await);
    ensure!(m.size == 3 && m.is_file(), "metadata_at {m:?}");
    let m = ok!(d.set_attr_at(odd, SetAttrs { size: Some(1), ..Default::default() }).await);
    ensure!(m.size == 1, "set_attr_at");
    let m = ok!(d.create_dir_at(b"sub", 0o700).await);
    ensure!(m.is_dir() && m.permissions() == 0o700, "create_dir_at");
    let sub = ok!(d.open_dir_at(b"sub").await);
    ensure!(ok!(sub.metadata().await).ino == m.ino, "open_dir_at");
    sub.close().await;
    let m = ok!(d.symlink_at(b"sym", b"\x01raw target").await);
    ensure!(m.is_symlink(), "symlink_at");
    ensure!(ok!(d.read_link_at(b"sym").await) == b"\x01raw target", "read_link_at");
    let m = ok!(e.link_at(&d, odd, b"linked").await);
    ensure!(m.nlink == 2, "link_at nlink {}", m.nlink);
    let m = ok!(d.mknod_at(b"pipe", NodeKind::Fifo, 0o600).await);
    ensure!(m.file_type == FileType::Fifo, "mknod_at");
    // listing with a small max, non-UTF-8 name, rewind
    let mut names = Vec::new();
    loop {
        let batch = ok!(d.next_batch(Some(2)).await);
        if batch.is_empty() {
            break;
        }
        ensure!(batch.len() <= 2, "batch max");
        for e in batch {
            if e.name_bytes == odd {
                ensure!(!e.name_is_utf8 && e.name.contains('\u{fffd}'), "lossy name {e:?}");
            }
            names.push(e.name_bytes);
        }
    }
    names.sort();
    let mut want: Vec<Vec<u8>> =
        vec![odd.to_vec(), b"sub".to_vec(), b"sym".to_vec(), b"pipe".to_vec()];
    want.sort();
    ensure!(names == want, "listing {names:?}");
    ok!(d.rewind().await);
    ensure!(!ok!(d.next_batch(None).await).is_empty(), "after rewind");
    ok!(d.rename_at(odd, &e, b"moved").await);
    fails!(d.metadata_at(odd).await, ZeroFsError::NotFound { .. });
    ensure!(ok!(e.metadata_at(b"moved").await).size == 1, "rename_at across dirs");
    ok!(d.rename_at(b"pipe", &d, b"pipe2").await);
    ok!(d.remove_file_at(b"pipe2").await);
    ok!(d.remove_file_at(b"sym").await);
    fails!(d.remove_file_at(b"sym").await, ZeroFsError::NotFound { .. });
    fails!(d.remove_dir_at(b"absent").await, ZeroFsError::NotFound { .. });
    ok!(d.remove_dir_at(b"sub").await);
    fails!(d.create_dir_at(b"a/b", 0o755).await, ZeroFsError::InvalidArgument { .. });
    ensure!(
        ok!(d.next_batch(None).await).is_empty() || {
            ok!(d.rewind().await);
            ok!(d.next_batch(None).await).is_empty()
        },
        "D is empty"
    );
    d.close().await;
    d.close().await;
    fails!(d.metadata().await, ZeroFsError::Closed);
    e.close().await;
    Ok(())
}

async fn t_reconnect(c: &Ctx, server: &mut Server) -> R {
    let p = c.p("persist");
    ok!(c.fs.write(&p, b"before restart").await);
    let f = ok!(c.fs.open(&p, OpenOptions::read_write()).await);
    ok!(f.sync_all().await);
    // names at the root: a memfs restart loses `base`, the root stays
    let (during, after) = (format!("{}-during", c.base), format!("{}-after", c.base));
    server.kill().await;
    // a call started while the server is down waits and completes once it is back
    let fs2 = Arc::clone(&c.fs);
    let q = during.clone();
    let pending = tokio::spawn(async move { fs2.write(&q, b"sent while down").await });
    tokio::time::sleep(Duration::from_millis(300)).await;
    ensure!(!pending.is_finished(), "call finished while the server was down");
    server.spawn().await?;
    let r = tokio::time::timeout(Duration::from_secs(30), pending)
        .await
        .map_err(|_| "call pending across the restart did not finish in 30 s".to_string())?
        .map_err(|e| e.to_string())?;
    ok!(r);
    ensure!(&ok!(c.fs.read(&during).await)[..] == b"sent while down", "write across restart");
    ok!(c.fs.write(&after, b"after restart").await);
    ensure!(&ok!(c.fs.read(&after).await)[..] == b"after restart", "after restart");
    let names: Vec<String> = ok!(c.fs.read_dir("/").await).into_iter().map(|e| e.name).collect();
    ensure!(
        names.iter().any(|n| *n == during[1..]) && names.iter().any(|n| *n == after[1..]),
        "listing after restart {names:?}"
    );
    if c.host.is_some() {
        // passthrough: the data survived
        ensure!(&ok!(c.fs.read(&p).await)[..] == b"before restart", "data survived");
        // The open handle is restored (Trebind finds the inode again) or, if
        // the restarted server cannot find objects by inode number, fails
        // cleanly as Stale; never reads another file.
        match f.read_at(0, 6).await {
            Ok(b) => {
                ensure!(&b[..] == b"before", "restored handle reads {b:?}");
                ok!(f.write_at(0, b"BEFORE").await);
                ensure!(
                    &ok!(c.fs.read(&p).await)[..] == b"BEFORE restart",
                    "write through restored handle"
                );
                println!("note [passthrough] an open handle was restored after the restart");
            }
            Err(ZeroFsError::Stale { .. }) => {
                println!(
                    "note [passthrough] an open handle is Stale after the restart (not restored)"
                );
            }
            Err(e) => return Err(format!("old handle after restart: {e:?}")),
        }
    } else {
        // memfs: the old tree is gone; the handle must fail cleanly, never
        // point at another file.
        ensure!(!ok!(c.fs.exists(&p).await), "memfs file survived a restart?");
        fails!(f.read_at(0, 6).await, ZeroFsError::Stale { .. } | ZeroFsError::NotFound { .. });
    }
    f.close().await;
    Ok(())
}

async fn t_close(c: &Ctx, target: &str) -> R {
    let fs = ok!(Client::connect(target).await);
    ok!(fs.write(c.p("closing"), b"x").await);
    fs.close().await;
    fs.close().await;
    fails!(fs.read(c.p("closing")).await, ZeroFsError::Closed);
    Ok(())
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let mut bin = None;
    let mut export = None;
    let mut memory = false;
    let mut i = 1;
    while i < args.len() {
        match args[i].as_str() {
            "--bin" => {
                bin = args.get(i + 1).map(PathBuf::from);
                i += 1;
            }
            "--dir" => {
                export = args.get(i + 1).map(PathBuf::from);
                i += 1;
            }
            "--memory" => memory = true,
            other => {
                eprintln!("unknown argument {other}");
                std::process::exit(2);
            }
        }
        i += 1;
    }
    let Some(bin) = bin else {
        eprintln!("usage: zerofs-rust-peer --bin NINEFOLD (--memory | --dir DIR)");
        std::process::exit(2);
    };
    if memory == export.is_some() {
        eprintln!("give exactly one of --memory and --dir");
        std::process::exit(2);
    }
    let label = if memory { "memfs" } else { "passthrough" };
    let mut server = match Server::start(bin, export.clone()).await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(1);
        }
    };
    let target = server.target();
    let opts = ConnectOptions {
        uid: Some(0),
        gid: Some(0),
        uname: Some("root".into()),
        connect_timeout_ms: Some(10_000),
        ..Default::default()
    };
    let fs = match Client::connect_with(&target, opts).await {
        Ok(fs) => fs,
        Err(e) => {
            println!("FAIL [{label}] connect_with {target}: {e:?}");
            println!("0 passed, 1 failed");
            server.kill().await;
            std::process::exit(1);
        }
    };
    let (mut passed, mut failed) = (0u32, 0u32);
    let mut report = |name: &str, r: R| match r {
        Ok(()) => {
            passed += 1;
            println!("ok   [{label}] {name}");
        }
        Err(e) => {
            failed += 1;
            println!("FAIL [{label}] {name}: {e}");
        }
    };
    macro_rules! run {
        ($name:literal, $f:ident) => {{
            let base = format!("/rs-{}", $name);
            let c = Ctx { fs: Arc::clone(&fs), host: export.clone(), base: base.clone() };
            let r = match c.fs.create_dir(&base, 0o755).await {
                Ok(_) => tokio::time::timeout(Duration::from_secs(60), $f(&c))
                    .await
                    .unwrap_or_else(|_| Err("timed out after 60 s".into())),
                Err(e) => Err(format!("create_dir {base}: {e:?}")),
            };
            report($name, r);
        }};
    }
    run!("capabilities", t_connect_capabilities);
    run!("write_read", t_write_read);
    run!("read_range", t_read_range);
    run!("append", t_append);
    run!("stat_metadata_exists", t_stat_metadata_exists);
    run!("canonicalize", t_canonicalize);
    run!("set_attr_chmod_chown_truncate_set_times", t_setattr_family);
    run!("statfs_sync", t_statfs_sync);
    run!("dirs", t_dirs);
    run!("rename_hard_link_symlink_read_link", t_rename_links);
    run!("mknod", t_mknod);
    run!("read_dir", t_read_dir);
    run!("file_ops", t_file_ops);
    run!("dir_ops", t_dir_ops);
    {
        let c = Ctx { fs: Arc::clone(&fs), host: export.clone(), base: "/rs-reconnect".into() };
        let r = match c.fs.create_dir(&c.base, 0o755).await {
            Ok(_) => t_reconnect(&c, &mut server).await,
            Err(e) => Err(format!("create_dir: {e:?}")),
        };
        report("reconnect_after_sigkill_restart", r);
    }
    {
        let c = Ctx { fs: Arc::clone(&fs), host: export.clone(), base: "".into() };
        report("close", t_close(&c, &target).await);
    }
    fs.close().await;
    server.kill().await;
    println!("{passed} passed, {failed} failed");
    std::process::exit(if failed == 0 { 0 } else { 1 });
}
