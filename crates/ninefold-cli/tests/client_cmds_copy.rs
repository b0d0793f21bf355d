//! `get`, `put` and `cp` end to end: trees round-tripped byte for byte,
//! copies between two servers, and their bad-input cases.

mod client_support;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use client_support::{all_servers, data, snapshot, Kind, Server};

/// A local tree with nested directories, a multi-MiB file, an empty one,
/// odd permissions and a symlink.
fn make_tree(root: &Path) {
    std::fs::create_dir_all(root.join("src/deep/deeper")).unwrap();
    std::fs::create_dir_all(root.join("empty_dir")).unwrap();
    std::fs::write(root.join("big.bin"), data(1, (5 << 20) + 12345)).unwrap();
    std::fs::write(root.join("empty"), b"").unwrap();
    for i in 0..40 {
        std::fs::write(root.join(format!("src/f{i:02}.txt")), data(100 + i, (i as usize) * 97))
            .unwrap();
    }
    std::fs::write(root.join("src/deep/deeper/leaf"), b"leaf\n").unwrap();
    std::fs::write(root.join("src/exec.sh"), b"#!/bin/sh\n").unwrap();
    std::fs::set_permissions(root.join("src/exec.sh"), PermissionsExt::from_mode(0o755)).unwrap();
    std::fs::set_permissions(root.join("src/deep"), PermissionsExt::from_mode(0o750)).unwrap();
    std::os::unix::fs::symlink("src/deep/deeper/leaf", root.join("link")).unwrap();
}

#[test]
fn put_and_get_trees_round_trip() {
    for s in all_servers() {
        eprintln!("== {:?}", s.kind);
        let work = tempfile::tempdir().unwrap();
        let tree = work.path().join("tree");
        make_tree(&tree);

        let r = s.run(&["put", "-r", "-p", tree.to_str().unwrap(), &s.loc("/")]);
        r.ok();
        // No progress bar when stderr is not a terminal.
        assert_eq!(r.stderr, "", "put printed on a pipe");
        if s.kind != Kind::Memfs {
            assert_eq!(snapshot(&s.host("tree")), snapshot(&tree), "server copy differs");
        }

        let back = work.path().join("back");
        std::fs::create_dir(&back).unwrap();
        let r = s.run(&["get", "-r", &s.loc("/tree"), back.to_str().unwrap()]);
        r.ok();
        assert_eq!(r.stderr, "");
        assert_eq!(snapshot(&back.join("tree")), snapshot(&tree), "round trip differs");

        // get of one file to a new name, and into a directory; -p keeps mtime.
        let one = work.path().join("one.bin");
        s.run(&["get", "-p", &s.loc("/tree/big.bin"), one.to_str().unwrap()]).ok();
        assert_eq!(std::fs::read(&one).unwrap(), std::fs::read(tree.join("big.bin")).unwrap());
        let m_src = std::fs::metadata(tree.join("big.bin")).unwrap().modified().unwrap();
        let m_dst = std::fs::metadata(&one).unwrap().modified().unwrap();
        assert_eq!(m_src, m_dst, "put -p and get -p kept the mtime");

        // Overwrite a shorter file with put: truncated, not merged.
        std::fs::write(work.path().join("short"), b"xy").unwrap();
        s.run(&["put", work.path().join("short").to_str().unwrap(), &s.loc("/tree/big.bin")]).ok();
        assert_eq!(s.run(&["cat", &s.loc("/tree/big.bin")]).ok(), "xy");

        // Several sources into a directory.
        let a = work.path().join("a.txt");
        let b = work.path().join("b.txt");
        std::fs::write(&a, b"A").unwrap();
        std::fs::write(&b, b"B").unwrap();
        s.run(&["put", a.to_str().unwrap(), b.to_str().unwrap(), &s.loc("/tree/empty_dir")]).ok();
        assert_eq!(s.run(&["ls", &s.loc("/tree/empty_dir")]).ok(), "a.txt\nb.txt\n");
        s.run(&["put", a.to_str().unwrap(), b.to_str().unwrap(), &s.loc("/tree/empty")])
            .fails(1, &["/tree/empty: Not a directory"]);

        copy_errors(&s, work.path());
        s.run(&["rm", "-r", &s.loc("/tree")]).ok();
    }
}

fn copy_errors(s: &Server, work: &Path) {
    let out = work.join("errs");
    std::fs::create_dir(&out).unwrap();
    let outs = out.to_str().unwrap();
    // A directory without -r.
    s.run(&["get", &s.loc("/tree/src"), outs])
        .fails(1, &["ninefold: get: /tree/src: Is a directory"]);
    s.run(&["put", work.join("tree").to_str().unwrap(), &s.loc("/x")])
        .fails(1, &["Is a directory"]);
    // A missing source.
    s.run(&["get", &s.loc("/tree/nope"), outs])
        .fails(1, &["ninefold: get: /tree/nope: No such file or directory"]);
    s.run(&["put", work.join("nope").to_str().unwrap(), &s.loc("/x")])
        .fails(1, &["No such file or directory"]);
    // A directory where a file is expected: a file onto a directory's name.
    std::fs::create_dir(out.join("big.bin")).unwrap();
    std::fs::create_dir(out.join("big.bin/x")).unwrap();
    s.run(&["get", &s.loc("/tree/src/f01.txt"), out.join("big.bin/x").to_str().unwrap()]).ok();
    s.run(&["mkdir", &s.loc("/tree/src/f02.txt.d")]).ok();
    s.run(&["mkdir", &s.loc("/tree/src/f02.txt.d/f03.txt")]).ok();
    s.run(&["put", work.join("tree/src/f03.txt").to_str().unwrap(), &s.loc("/tree/src/f02.txt.d")])
        .fails(1, &["/tree/src/f02.txt.d/f03.txt: Is a directory"]);
    // A file where a directory is expected: a tree onto a file.
    std::fs::write(out.join("src"), b"file").unwrap();
    s.run(&["get", "-r", &s.loc("/tree/src"), outs]).fails(1, &["cannot overwrite non-directory"]);
    s.run(&["put", "-r", work.join("tree/src").to_str().unwrap(), &s.loc("/tree/empty")])
        .fails(1, &["cannot overwrite non-directory"]);
}

/// `cp` from one server to another, and local ↔ server.
#[test]
fn cp_between_servers() {
    let work = tempfile::tempdir().unwrap();
    let tree = work.path().join("tree");
    make_tree(&tree);
    let ts = tree.to_str().unwrap();
    let mem = Server::start(Kind::Memfs).unwrap();
    let pt = Server::start(Kind::Passthrough).unwrap();
    // Local → memfs, memfs → passthrough, passthrough → local.
    client_support::run(&["cp", "-r", ts, &mem.loc("/")]).ok();
    client_support::run(&["cp", "-r", &mem.loc("/tree"), &pt.loc("/")]).ok();
    assert_eq!(snapshot(&pt.host("tree")), snapshot(&tree), "server to server copy differs");
    let back = work.path().join("back");
    client_support::run(&["cp", "-r", &pt.loc("/tree"), back.to_str().unwrap()]).ok();
    assert_eq!(snapshot(&back), snapshot(&tree), "server to local copy differs");
    // One file between servers, to a new name.
    client_support::run(&["cp", &mem.loc("/tree/big.bin"), &pt.loc("/copy.bin")]).ok();
    assert_eq!(
        std::fs::read(pt.host("copy.bin")).unwrap(),
        std::fs::read(tree.join("big.bin")).unwrap()
    );

    // Ours → diod. The connect options (aname included) apply to both
    // servers, so ours serves an extra export under diod's aname.
    let Some(diod) = Server::start(Kind::Diod) else { return };
    let aname = diod.aname.clone().unwrap();
    let ours = client_support::serve(&["--memory", "--aname", &format!("{aname}=memory")], None);
    let an = format!("--aname={aname}");
    client_support::run(&["cp", "-r", ts, &ours.loc("/"), &an]).ok();
    client_support::run(&["cp", "-r", &ours.loc("/tree"), &diod.loc("/"), &an]).ok();
    assert_eq!(snapshot(&diod.host("tree")), snapshot(&tree), "ours to diod copy differs");
    // diod → ours, to a new name, and back to local.
    client_support::run(&["cp", "-r", &diod.loc("/tree"), &ours.loc("/again"), &an]).ok();
    let back2 = work.path().join("back2");
    client_support::run(&["cp", "-r", &ours.loc("/again"), back2.to_str().unwrap(), &an]).ok();
    assert_eq!(snapshot(&back2), snapshot(&tree), "diod to ours copy differs");
}
