//! Serves a host directory over 9P2000.L (and .u, 9P2000) on TCP.
//!
//! ```text
//! cargo run -p ninefold-fs --example passthrough_serve -- /srv/share 127.0.0.1:5640 [--ro] [--no-creds]
//! mount -t 9p -o trans=tcp,port=5640,version=9p2000.L 127.0.0.1 /mnt
//! ```
//!
//! The empty aname (the kernel's default) and the export path
//! (`-o aname=/srv/share`) both attach to the export root. Run as root,
//! requests run with their user's credentials unless `--no-creds`.

#[cfg(all(feature = "passthrough", target_os = "linux"))]
#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    use ninefold_fs::passthrough::Passthrough;
    use ninefold_server::Server;

    let mut args = std::env::args().skip(1);
    let (Some(path), Some(addr)) = (args.next(), args.next()) else {
        eprintln!("usage: passthrough_serve <dir> <addr:port> [--ro] [--no-creds]");
        std::process::exit(2);
    };
    let rest: Vec<String> = args.collect();
    let read_only = rest.iter().any(|a| a == "--ro");
    let mut builder = Passthrough::builder(&path).read_only(read_only);
    if rest.iter().any(|a| a == "--no-creds") {
        builder = builder.credentials(false);
    }
    let export = builder.build()?;
    println!(
        "exporting {} on {addr} ({}, lookups via {})",
        export.path().display(),
        if read_only { "read-only" } else { "read-write" },
        if export.uses_openat2() { "openat2" } else { "openat" }
    );
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    Server::new(export.attacher()).serve_tcp(listener).await?;
    Ok(())
}

#[cfg(not(all(feature = "passthrough", target_os = "linux")))]
fn main() {
    eprintln!("passthrough_serve needs Linux and the `passthrough` feature");
}
