//! Builds a memfs tree with synthetic nodes and walks it through the
//! filesystem API, as the server would (no server needed).
//!
//! ```text
//! cargo run -p ninefold-fs --example memfs_tree
//! ```

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use ninefold_fs::memfs::MemFs;
use ninefold_fs::synthetic::{Device, GeneratedFile, NullFile, Symlink, Wrapped, ZeroFile};
use ninefold_proto::{GetattrMask, OpenFlags, QidType, S_IFCHR};
use ninefold_server::{DirSink, Identity, Node, Request};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let reads = Arc::new(AtomicU64::new(0));
    let counter = reads.clone();
    let fs = MemFs::builder()
        .dir_with("etc", |etc| {
            etc.file("motd", "Welcome to Ninefold.\n").static_file("version", "1\n")
        })
        .dir_mode("tmp", 0o1777)
        .owner(1000, 1000)
        .dir("home/alice")
        .file("home/alice/notes.txt", "buy milk\n")
        .owner(0, 0)
        .special("dev/tty0", S_IFCHR | 0o620, 4, 0)
        .node_with("dev/zero", |q| Arc::new(ZeroFile::new(q.next(QidType::FILE))))
        .node_with("dev/null", |q| Arc::new(NullFile::new(q.next(QidType::FILE))))
        .node_with("dev/mem", |q| Arc::new(Device::char(q, 1, 1)))
        .node_with("proc/reads", move |q| {
            Arc::new(GeneratedFile::new(q, move || {
                Bytes::from(format!("{}\n", counter.load(Ordering::Relaxed)))
            }))
        })
        .node_with("slow/data", |q| {
            Arc::new(Wrapped::slow_file(q, "eventually\n", Duration::from_millis(50)))
        })
        .node_with("motd", |q| Arc::new(Symlink::new(q, "etc/motd")))
        .build()?;

    let req = Request::new(Identity::root());
    print_tree(&req, fs.root(), "/", 0, &reads).await?;
    let st = fs.root().statfs(&req).await?;
    println!(
        "\n{} objects, {} bytes; statfs: {} of {} blocks free",
        fs.inodes_used(),
        fs.bytes_used(),
        st.bfree,
        st.blocks
    );
    Ok(())
}

/// Lists `dir` recursively with each entry's mode and size, reading small
/// regular files.
async fn print_tree(
    req: &Request,
    dir: Arc<dyn Node>,
    name: &str,
    depth: usize,
    reads: &AtomicU64,
) -> Result<(), Box<dyn std::error::Error>> {
    println!("{:indent$}{name}", "", indent = depth * 2);
    let memdir = dir.downcast_ref::<ninefold_fs::memfs::MemNode>();
    let mut names = Vec::new();
    if let Some(m) = memdir {
        m.list_from(2, |_, _, _, n| {
            names.push(n.to_vec());
            true
        })?;
    }
    // The same listing through a DirSink, as Treaddir does.
    let mut sink = DirSink::new(8192);
    dir.readdir(req, 0, &mut sink).await?;
    assert_eq!(sink.entries(), names.len() + 2);
    for n in names {
        let child = dir.lookup(req, &n).await?;
        let attr = child.getattr(req, GetattrMask::ALL).await?;
        let label = String::from_utf8_lossy(&n).into_owned();
        if child.qid().is_dir() {
            Box::pin(print_tree(req, child, &format!("{label}/"), depth + 1, reads)).await?;
            continue;
        }
        let mut line = format!("{label}  mode {:o} size {}", attr.mode, attr.size);
        if child.qid().is_symlink() {
            line += &format!(" -> {}", String::from_utf8_lossy(&child.readlink(req).await?));
        } else if attr.mode & 0o170000 == 0o100000 && label != "zero" {
            let opened = child.open(req, OpenFlags::RDONLY).await?;
            let data = match &opened.handle {
                Some(h) => h.read(req, &*child, 0, 64).await?,
                None => child.read(req, 0, 64).await?,
            };
            reads.fetch_add(1, Ordering::Relaxed);
            line += &format!(" {:?}", String::from_utf8_lossy(&data));
        }
        println!("{:indent$}{line}", "", indent = (depth + 1) * 2);
    }
    Ok(())
}
