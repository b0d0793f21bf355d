//! A 9P proxy: serves, with `ninefold_server`, a backend 9P server reached
//! through a `ninefold_client::Session`. Every request a client sends to
//! the proxy is forwarded to the backend as the matching 9P2000.L request
//! (see `node.rs`).
//!
//! ```text
//! cargo run -p ninefold-client --example proxy -- LISTEN BACKEND [ANAME]
//! # e.g. proxy 127.0.0.1:5640 tcp://127.0.0.1:5564 /srv/export
//! ```
//!
//! The proxy attaches to the backend once, as root (uid 0), with msize
//! 256 KiB, and serves that tree for every aname until interrupted.

mod node;

use std::time::Duration;

use ninefold_client::Session;
use ninefold_server::Server;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let usage = "usage: proxy LISTEN BACKEND [ANAME]";
    let listen = args.next().ok_or_else(|| anyhow::anyhow!(usage))?;
    let backend = args.next().ok_or_else(|| anyhow::anyhow!(usage))?;
    let aname = args.next().unwrap_or_default();

    let session =
        tokio::time::timeout(Duration::from_secs(10), Session::connect(&backend, 256 * 1024 + 24))
            .await??;
    let root = node::ProxyNode::attach(session, "root", &aname, 0).await?;
    let listener = tokio::net::TcpListener::bind(&listen).await?;
    eprintln!("proxy: serving {backend} (aname {aname:?}) on {}", listener.local_addr()?);
    let server = Server::builder(root).build()?;
    tokio::select! {
        r = server.serve_tcp(listener) => r?,
        _ = tokio::signal::ctrl_c() => server.shutdown().await,
    }
    Ok(())
}
