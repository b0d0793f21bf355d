//! The client commands end to end: the built `ninefold` binary against
//! `ninefold serve` (memfs, passthrough) and diod, checking output, exit
//! codes and messages, bad input included.

mod client_support;

use std::time::Duration;

use client_support::{all_servers, free_port, run, serve_on, Kind, Server};
use serde_json::Value;

/// The namespace and metadata commands, on every server.
#[test]
fn commands_on_every_server() {
    for s in all_servers() {
        eprintln!("== {:?}", s.kind);
        namespace_commands(&s);
    }
}

fn namespace_commands(s: &Server) {
    let l = |p: &str| s.loc(p);
    s.run(&["mkdir", "-p", &l("/t/a/b")]).ok();
    // mkdir -p again is fine; plain mkdir of an existing one is not.
    s.run(&["mkdir", "-p", &l("/t/a/b")]).ok();
    s.run(&["mkdir", &l("/t/a")]).fails(1, &["ninefold: mkdir: /t/a: File exists"]);
    s.run(&["mkdir", "-m", "700", &l("/t/private")]).ok();

    s.run(&["touch", &l("/t/a/f.txt")]).ok();
    s.run(&["truncate", "-s", "10K", &l("/t/a/f.txt")]).ok();
    let st: Value =
        serde_json::from_str(s.run(&["stat", "--json", &l("/t/a/f.txt")]).ok()).unwrap();
    assert_eq!(st["size"], 10240);
    assert_eq!(st["type"], "file");
    assert_eq!(st["path"], "/t/a/f.txt");
    let st: Value =
        serde_json::from_str(s.run(&["stat", "--json", &l("/t/private")]).ok()).unwrap();
    assert_eq!(st["permissions"], "0700");
    assert_eq!(st["type"], "dir");

    // touch -d sets an explicit time.
    s.run(&["touch", "-d", "@1000000000", &l("/t/a/f.txt")]).ok();
    let st: Value =
        serde_json::from_str(s.run(&["stat", "--json", &l("/t/a/f.txt")]).ok()).unwrap();
    assert_eq!(st["mtime"], "2001-09-09T01:46:40.000000000Z");

    s.run(&["chmod", "u=rw,go=r", &l("/t/a/f.txt")]).ok();
    s.run(&["chmod", "g+w", &l("/t/a/f.txt")]).ok();
    let out = s.run(&["ls", "-l", &l("/t/a")]).ok().to_string();
    assert!(out.contains("-rw-rw-r-- 1 "), "{out}");
    assert!(out.contains(" 10240 2001-09-09 01:46 f.txt"), "{out}");
    assert!(out.lines().any(|x| x.starts_with("drwx") && x.ends_with(" b")), "{out}");
    s.run(&["chmod", "999", &l("/t/a/f.txt")]).fails(2, &["invalid mode"]);

    // chown as root (the tests run as root, as CI does).
    if rustix::process::geteuid().is_root() {
        s.run(&["chown", "1234:4321", &l("/t/a/f.txt")]).ok();
        let st: Value =
            serde_json::from_str(s.run(&["stat", "--json", &l("/t/a/f.txt")]).ok()).unwrap();
        assert_eq!((st["uid"].as_u64(), st["gid"].as_u64()), (Some(1234), Some(4321)));
        s.run(&["chown", "0:0", &l("/t/a/f.txt")]).ok();
    }
    s.run(&["chown", "bob", &l("/t/a/f.txt")]).fails(2, &["invalid owner"]);

    // Links.
    s.run(&["ln", "-s", "a/f.txt", &l("/t/sym")]).ok();
    s.run(&["ln", &l("/t/a/f.txt"), &l("/t/hard")]).ok();
    let out = s.run(&["ls", "-l", &l("/t")]).ok().to_string();
    assert!(out.contains("sym -> a/f.txt"), "{out}");
    assert!(out.lines().any(|x| x.starts_with("-rw-rw-r-- 2 ") && x.ends_with(" hard")), "{out}");
    // stat follows with -L.
    let st: Value = serde_json::from_str(s.run(&["stat", "--json", &l("/t/sym")]).ok()).unwrap();
    assert_eq!(st["type"], "symlink");
    assert_eq!(st["symlink_target"], "a/f.txt");
    let st: Value =
        serde_json::from_str(s.run(&["stat", "-L", "--json", &l("/t/sym")]).ok()).unwrap();
    assert_eq!(st["size"], 10240);
    s.run(&["ln", "-s", "x", &l("/t/sym")]).fails(1, &["/t/sym: File exists"]);
    s.run(&["ln", "-sf", "a/b", &l("/t/sym")]).ok();

    // ls --json: one array with full metadata.
    let arr: Value = serde_json::from_str(s.run(&["ls", "-l", "--json", &l("/t")]).ok()).unwrap();
    let names: Vec<&str> =
        arr.as_array().unwrap().iter().map(|e| e["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["a", "hard", "private", "sym"]);
    assert_eq!(arr[3]["symlink_target"], "a/b");
    assert_eq!(arr[0]["path"], "/t/a");

    // mv: rename, and into a directory.
    s.run(&["mv", &l("/t/hard"), &l("/t/moved")]).ok();
    s.run(&["mv", &l("/t/moved"), &l("/t/a")]).ok();
    let out = s.run(&["ls", &l("/t/a")]).ok().to_string();
    assert_eq!(out, "b\nf.txt\nmoved\n");
    s.run(&["mv", &l("/t/nope"), &l("/t/x")])
        .fails(1, &["ninefold: mv: /t/nope: No such file or directory"]);

    // ls -R and -a, tree and du.
    s.run(&["touch", &l("/t/a/b/.hidden")]).ok();
    let out = s.run(&["ls", "-R", &l("/t/a")]).ok().to_string();
    assert_eq!(out, "/t/a:\nb\nf.txt\nmoved\n\n/t/a/b:\n");
    let out = s.run(&["ls", "-a", &l("/t/a/b")]).ok().to_string();
    assert_eq!(out, ".\n..\n.hidden\n");
    let out = s.run(&["tree", &l("/t")]).ok().to_string();
    assert_eq!(
        out,
        "/t\n├── a\n│   ├── b\n│   ├── f.txt\n│   └── moved\n├── private\n└── sym -> a/b\n\n3 directories, 3 files\n"
    );
    let out = s.run(&["du", "-s", "-b", &l("/t/a")]).ok().to_string();
    let total: u64 = out.split('\t').next().unwrap().parse().unwrap();
    // f.txt and moved are one inode (hard link), counted once.
    assert!((10240..10240 + 3 * 8192).contains(&total), "{out}");
    assert!(out.ends_with("\t/t/a\n"), "{out}");

    // df --json.
    let df: Value = serde_json::from_str(s.run(&["df", "--json", &l("/")]).ok()).unwrap();
    assert!(df["block_size"].as_u64().unwrap() > 0);
    assert!(df["size_bytes"].as_u64().unwrap() >= df["available_bytes"].as_u64().unwrap());
    assert_eq!(df["server"], s.target);
    let out = s.run(&["df", "-h", &l("/")]).ok().to_string();
    assert!(out.starts_with("Filesystem"), "{out}");

    // cat, several operands, one missing: the others still print, exit 1.
    s.run(&["truncate", "-s", "0", &l("/t/a/f.txt")]).ok();
    let r = s.run(&["cat", &l("/t/a/f.txt"), &l("/t/nope"), &l("/t/a/b/.hidden")]);
    r.fails(1, &["ninefold: cat: /t/nope: No such file or directory"]);
    assert_eq!(r.stdout, "");

    // rm: a directory needs -r; -f ignores missing operands.
    s.run(&["rm", &l("/t/a")]).fails(1, &["ninefold: rm: /t/a: Is a directory"]);
    s.run(&["rm", &l("/t/nope")]).fails(1, &["ninefold: rm: /t/nope: No such file or directory"]);
    s.run(&["rm", "-f", &l("/t/nope")]).ok();
    s.run(&["rm", "-d", &l("/t/a")]).fails(1, &["/t/a: Directory not empty"]);
    s.run(&["rm", "-r", &l("/t")]).ok();
    s.run(&["ls", &l("/t")]).fails(1, &["ninefold: ls: /t: No such file or directory"]);
    s.run(&["rm", "-r", &l("/")]).fails(1, &["refusing to remove the root"]);
}

/// Bad input: each case's message and exit status, on every server.
#[test]
fn bad_input() {
    for s in all_servers() {
        eprintln!("== {:?}", s.kind);
        let l = |p: &str| s.loc(p);
        s.run(&["mkdir", "-p", &l("/bad/dir")]).ok();
        s.run(&["truncate", "-s", "3", &l("/bad/file")]).ok();
        // Missing path.
        s.run(&["cat", &l("/nope")]).fails(1, &["ninefold: cat: /nope: No such file or directory"]);
        s.run(&["stat", &l("/bad/nope")])
            .fails(1, &["ninefold: stat: /bad/nope: No such file or directory"]);
        // A directory where a file is expected.
        s.run(&["cat", &l("/bad/dir")]).fails(1, &["ninefold: cat: /bad/dir: Is a directory"]);
        s.run(&["truncate", "-s", "0", &l("/bad/dir")]).fails(1, &["/bad/dir: Is a directory"]);
        // A file where a directory is expected.
        s.run(&["ls", &l("/bad/file/x")]).fails(1, &["ninefold: ls: /bad/file/x: Not a directory"]);
        s.run(&["mkdir", &l("/bad/file/sub")]).fails(1, &["/bad/file/sub: Not a directory"]);
        s.run(&["mkdir", "-p", &l("/bad/file/sub")]).fails(1, &["/bad/file/sub: Not a directory"]);
        // A bad aname.
        run(&["ls", &l("/"), "--aname=/no/such/export"])
            .fails(1, &["attach to \"/no/such/export\""]);
        s.run(&["rm", "-r", &l("/bad")]).ok();
    }
}

/// Permission checks are the server's, per attach uid: as root we act as
/// an unprivileged uid with `--uid`.
#[test]
fn permission_denied_as_another_uid() {
    if !rustix::process::geteuid().is_root() {
        eprintln!("SKIPPED: permission_denied_as_another_uid needs root (CI runs as root)");
        return;
    }
    for kind in [Kind::Passthrough, Kind::Diod] {
        let Some(s) = Server::start(kind) else { continue };
        eprintln!("== {kind:?}");
        std::fs::write(s.host("secret"), b"top").unwrap();
        std::fs::set_permissions(
            s.host("secret"),
            std::os::unix::fs::PermissionsExt::from_mode(0o600),
        )
        .unwrap();
        std::fs::create_dir(s.host("locked")).unwrap();
        std::fs::set_permissions(
            s.host("locked"),
            std::os::unix::fs::PermissionsExt::from_mode(0o700),
        )
        .unwrap();
        let who = ["--uid", "65534", "--gid", "65534"];
        let with = |args: &[&str]| {
            let mut v: Vec<&str> = args.to_vec();
            v.extend(who);
            s.run(&v)
        };
        with(&["cat", &s.loc("/secret")]).fails(1, &["ninefold: cat: /secret: Permission denied"]);
        with(&["ls", &s.loc("/locked")]).fails(1, &["/locked: Permission denied"]);
        with(&["mkdir", &s.loc("/locked/x")]).fails(1, &["/locked/x: Permission denied"]);
        with(&["rm", &s.loc("/secret")]).fails(1, &["/secret: Permission denied"]);
        with(&["chown", "65534", &s.loc("/secret")])
            .fails(1, &["/secret: Operation not permitted"]);
        let put_src = tempfile::NamedTempFile::new().unwrap();
        with(&["put", put_src.path().to_str().unwrap(), &s.loc("/locked/y")])
            .fails(1, &["/locked/y: Permission denied"]);
        // As root, the same work.
        assert_eq!(s.run(&["cat", &s.loc("/secret")]).ok(), "top");
    }
}

/// Connection failures: quick, clear and non-zero.
#[test]
fn connection_failures() {
    let port = free_port();
    let r = run(&["ls", &format!("tcp://127.0.0.1:{port}/")]);
    r.fails(1, &[&format!("ninefold: ls: tcp://127.0.0.1:{port}: Connection refused")]);
    assert!(r.elapsed < Duration::from_secs(3), "took {:?}", r.elapsed);

    let r = run(&["cat", "tcp://no-such-host.invalid:5564/x"]);
    r.fails(1, &["ninefold: cat: tcp://no-such-host.invalid:5564: cannot resolve host"]);

    let sock = tempfile::tempdir().unwrap();
    let path = sock.path().join("none.sock");
    let r = run(&["ls", &format!("unix:{}:/", path.display())]);
    r.fails(1, &[&format!("unix:{}: No such file or directory", path.display())]);

    // A listener that never answers: the connect timeout ends it.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = silent.local_addr().unwrap();
    let r = run(&["ls", "--connect-timeout", "300ms", &format!("tcp://{addr}/")]);
    r.fails(1, &["no answer within 300ms"]);
    assert!(r.elapsed < Duration::from_secs(3), "took {:?}", r.elapsed);
    drop(silent);

    // Several operands on one dead server: one message per operand, one
    // connection attempt.
    let r =
        run(&["stat", &format!("tcp://127.0.0.1:{port}/a"), &format!("tcp://127.0.0.1:{port}/b")]);
    assert_eq!(r.code, 1);
    assert_eq!(r.stderr.matches("Connection refused").count(), 2, "{}", r.stderr);
}

/// `--wait` waits for a server that is not up yet.
#[test]
fn wait_for_server() {
    let port = free_port();
    let target = format!("tcp://127.0.0.1:{port}");
    let t2 = target.clone();
    let waiter =
        std::thread::spawn(move || run(&["ls", "--wait", "--timeout", "30s", &format!("{t2}/")]));
    std::thread::sleep(Duration::from_millis(800));
    let _s = serve_on(&["--memory"], &target, None);
    let r = waiter.join().unwrap();
    assert!(r.ok().contains("README"), "{}", r.stdout);
    assert!(r.stderr.contains("waiting for"), "{}", r.stderr);

    // --timeout bounds a --wait on a server that never comes.
    let port = free_port();
    let r = run(&["ls", "--wait", "--timeout", "700ms", &format!("tcp://127.0.0.1:{port}/")]);
    r.fails(1, &["timed out after 700ms"]);
}

/// Usage errors exit 2.
#[test]
fn usage_errors() {
    run(&["ls"]).fails(2, &["required"]);
    run(&["ls", "host:notaport/x"]).fails(2, &["ninefold: ls: host:notaport/x: not a location"]);
    run(&["ls", "::1/x"]).fails(2, &["needs brackets"]);
    run(&["cat", "--connect-timeout", "soon", "h:1/x"]).fails(2, &["invalid duration"]);
    run(&["truncate", "-s", "lots", "h:1/x"]).fails(2, &["invalid size"]);
    run(&["cp", "a", "b"]).fails(2, &["no operand names a server"]);
    run(&["put", "a"]).fails(2, &["missing destination"]);
    run(&["frobnicate"]).fails(2, &["unrecognized subcommand"]);
}

/// The unix-socket form of a location, and a closed pipe on `cat`.
#[test]
fn unix_socket_and_closed_pipe() {
    let dir = tempfile::tempdir().unwrap();
    let sock = dir.path().join("9p.sock");
    let s = serve_on(&["--memory"], &format!("unix:{}", sock.display()), None);
    assert!(s.target.starts_with("unix:"), "{}", s.target);
    let big = client_support::data(7, 3 << 20);
    let src = dir.path().join("big");
    std::fs::write(&src, &big).unwrap();
    s.run(&["put", src.to_str().unwrap(), &s.loc("/big")]).ok();
    // Bare socket path form too.
    let r = run(&["cat", &format!("{}:/big", sock.display())]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout_bytes == big, "cat returned different bytes");
    // `cat | head -c 10`: no error message when the reader goes away.
    let out = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!("{} cat {} | head -c 10 >/dev/null", client_support::BIN, s.loc("/big")))
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(String::from_utf8_lossy(&out.stderr), "");
}
