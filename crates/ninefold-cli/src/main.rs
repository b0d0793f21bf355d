//! `ninefold`: the command-line face of the Ninefold 9P stack.
//!
//! Today it has one command, `ninefold serve`, which exports a host
//! directory or an in-memory tree over 9P (see docs/SERVE.md).

#![forbid(unsafe_code)]
#![warn(clippy::unwrap_used)]

mod cli;
mod serve;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    let result = match cli.command {
        cli::Command::Serve(args) => serve::run(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("ninefold: error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
