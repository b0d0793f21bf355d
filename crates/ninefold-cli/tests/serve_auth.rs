//! `ninefold serve` with authentication and access control, driven by the
//! `ninefold` client commands: `--auth-key`/`--trust none` (a key is
//! required, the wrong one or none is refused), an `[access]` config with
//! a read-only grant (reads work, writes are EROFS), and the banner's
//! statement of the loopback-only default.

mod client_support;

use std::io::{Read, Write};

use client_support::{free_port, run, serve};

const SECRET: &str = "serve-auth-test-secret-0123456789";

fn key_file(dir: &std::path::Path, name: &str, secret: &str) -> String {
    let p = dir.join(name);
    std::fs::write(&p, format!("{secret}\n")).unwrap();
    std::fs::set_permissions(&p, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
    p.to_str().unwrap().to_owned()
}

#[test]
fn a_key_is_required_and_checked() {
    let dir = tempfile::tempdir().unwrap();
    let good = key_file(dir.path(), "good", SECRET);
    let bad = key_file(dir.path(), "bad", "some-other-secret-entirely");
    let spec = format!("backup={good}");
    let metrics = format!("127.0.0.1:{}", free_port());
    let s =
        serve(&["--memory", "--auth-key", &spec, "--trust", "none", "--metrics", &metrics], None);
    let readme = s.loc("/README");
    run(&["cat", &readme]).fails(1, &["authentication failed", "--auth-key"]);
    let out = run(&["cat", "--auth-key", &spec, &readme]);
    assert!(out.ok().contains("ninefold"), "{}", out.stdout);
    run(&["cat", "--auth-key", &format!("backup={bad}"), &readme])
        .fails(1, &["authentication failed", "refused"]);
    run(&["cat", "--auth-key", &format!("nobody={good}"), &readme]).fails(1, &["refused"]);
    // The same from the environment.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_ninefold"))
        .args(["ls", &s.target])
        .env("NINEFOLD_AUTH_KEY", &spec)
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("README"), "{out:?}");
    run(&["cat", "--auth-key", "nonsense", &readme]).fails(2, &["NAME=FILE"]);
    // Refusals are counted, by stage.
    let mut h = std::net::TcpStream::connect(&metrics).unwrap();
    write!(h, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    let mut text = String::new();
    h.read_to_string(&mut text).unwrap();
    assert!(text.contains("ninefold_server_access_denied_total{stage=\"attach\"} 1"), "{text}");
    assert!(text.contains("ninefold_server_access_denied_total{stage=\"auth\"} 2"), "{text}");
}

#[test]
fn a_read_only_grant_reads_but_refuses_writes() {
    let dir = tempfile::tempdir().unwrap();
    let good = key_file(dir.path(), "good", SECRET);
    let config = dir.path().join("ninefold.toml");
    std::fs::write(
        &config,
        format!(
            r#"
[access]
trusted = []
keys = {{ reader = "{good}" }}

[[access.grant]]
principal = "reader"
method = "tauth"
exports = [""]
read_only = true
uid = 0
"#
        ),
    )
    .unwrap();
    let s = serve(&["--memory", "--config", config.to_str().unwrap()], None);
    let spec = format!("reader={good}");
    assert!(run(&["cat", "--auth-key", &spec, &s.loc("/hello.txt")]).ok().contains("Hello"));
    let src = dir.path().join("src.txt");
    std::fs::write(&src, "x").unwrap();
    run(&["put", "--auth-key", &spec, src.to_str().unwrap(), &s.loc("/tmp/new.txt")])
        .fails(1, &["Read-only file system"]);
}

#[test]
fn the_banner_states_the_default_and_a_grant_for_a_missing_export_is_an_error() {
    let s = serve(&["--memory"], None);
    assert!(run(&["ls", &s.target]).ok().contains("README"), "loopback is trusted by default");
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("c.toml");
    std::fs::write(&config, "[[access.grant]]\nprincipal = \"x\"\nuid = 1\nexports = [\"nope\"]\n")
        .unwrap();
    let out = run(&[
        "serve",
        "--memory",
        "--listen",
        "tcp://127.0.0.1:0",
        "--config",
        config.to_str().unwrap(),
    ]);
    assert_ne!(out.code, 0);
    assert!(out.stderr.contains("not served"), "{}", out.stderr);
}
