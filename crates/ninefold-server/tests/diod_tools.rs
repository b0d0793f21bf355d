//! diod's own client tools (`diodls`, `diodcat`, built on libnpclient)
//! against the server. libnpclient sends Tauth first and reads only
//! ENOENT (or success) as "authentication not required".
//!
//! The tools come from Debian's `diod` package (`apt-get install -y
//! diod`). Without them this test fails, unless `NINEFOLD_SKIP_DIOD=1`
//! says to skip it (and it says so).

mod support;

use std::path::PathBuf;
use std::process::Command;

fn tool(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/sbin".into(), "/usr/bin".into(), "/sbin".into()])
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
}

fn run(tool: &PathBuf, args: &[&str]) -> String {
    let out = Command::new(tool).args(args).output().expect("run diod tool");
    assert!(
        out.status.success(),
        "{} {args:?} failed ({}): {}",
        tool.display(),
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn diodls_and_diodcat_read_the_tree() {
    let (Some(diodls), Some(diodcat)) = (tool("diodls"), tool("diodcat")) else {
        if std::env::var("NINEFOLD_SKIP_DIOD").is_ok_and(|v| v == "1") {
            println!("SKIPPED: diodls/diodcat not installed (NINEFOLD_SKIP_DIOD=1)");
            return;
        }
        panic!(
            "diodls and diodcat are needed (apt-get install -y diod); \
             set NINEFOLD_SKIP_DIOD=1 to skip this test"
        );
    };
    let s = support::start().await;
    let server = format!("127.0.0.1:{}", s.addr.port());
    let listing = tokio::task::spawn_blocking({
        let server = server.clone();
        move || run(&diodls, &["-s", &server, "-a", "/", "-t", "20", "/"])
    })
    .await
    .unwrap();
    let mut names: Vec<&str> = listing.split_whitespace().collect();
    names.sort();
    assert!(names.contains(&"hello") && names.contains(&"sub"), "diodls listed {listing:?}");
    let text = tokio::task::spawn_blocking(move || {
        run(&diodcat, &["-s", &server, "-a", "/", "-t", "20", "hello"])
    })
    .await
    .unwrap();
    assert_eq!(text, "hello world");
}
