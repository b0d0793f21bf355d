//! `ninefold`: the command-line face of the Ninefold 9P stack.
//!
//! `ninefold serve` exports a host directory or an in-memory tree over 9P
//! (docs/SERVE.md); the client commands (`ls`, `cat`, `get`, `put`, `cp`,
//! ...) work on any 9P2000.L server (docs/CLI.md).

#![forbid(unsafe_code)]
#![warn(clippy::unwrap_used)]

mod alloc;
mod cli;
mod client;
mod mount;
mod serve;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    if mount::invoked_as_helper() {
        return ninefold_mount::helper_main();
    }
    let cli = cli::Cli::parse();
    let result = match cli.command {
        cli::Command::Serve(args) => serve::run(args),
        cli::Command::Mount(args) => mount::run(args),
        // Client commands print their own coreutils-style messages.
        cli::Command::Client(cmd) => return client::run(cmd),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("ninefold: error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
