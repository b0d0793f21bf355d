//! Prints a file from a 9P2000.L server.
//!
//! `cargo run -p ninefold-client --example client_cat -- TARGET ANAME PATH`

use std::io::Write;

use ninefold_client::{Client, ConnectOptions};

#[tokio::main(flavor = "current_thread")]
async fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let (Some(target), Some(aname), Some(path)) = (args.next(), args.next(), args.next()) else {
        anyhow::bail!("usage: client_cat TARGET ANAME PATH");
    };
    let fs = Client::connect_with(&target, ConnectOptions::new().aname(aname)).await?;
    let data = fs.read(&path).await?;
    std::io::stdout().write_all(&data)?;
    Ok(())
}
