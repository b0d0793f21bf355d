//! `ninefold`: the command-line face of the Ninefold 9P stack.
//!
//! Today it has one command, `ninefold serve`, which exports a host
//! directory or an in-memory tree over 9P (see docs/SERVE.md).

#![forbid(unsafe_code)]
#![warn(clippy::unwrap_used)]

mod cli;
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
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("ninefold: error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
